"""The buyer conversation's states."""

from enum import StrEnum


class BuyerState(StrEnum):
    MENU = "menu"
    SEARCH = "search"  # waiting for words to search
    BROWSE = "browse"  # a product list is on screen
    PRODUCT = "product"  # a product card is on screen
