"""The buyer conversation's states: one per question the bot is waiting an answer to."""

from enum import StrEnum


class BuyerState(StrEnum):
    MENU = "menu"
    SEARCH = "search"  # waiting for words to search
    BROWSE = "browse"  # a category or product list is on screen
    PRODUCT = "product"  # a product card is on screen
    QUANTITY = "quantity"  # how many to add (or to keep, when editing a cart line)
    CART = "cart"  # the cart is on screen
    PROMO = "promo"  # waiting for a promo code
    QUESTION = "question"  # waiting for a question about a product
    LANGUAGE = "language"  # French or English?
    # checkout
    ADDRESS = "co_address"  # saved address / new / pin / pickup
    REGION = "co_region"
    PREFECTURE = "co_prefecture"
    QUARTIER = "co_quartier"
    LANDMARK = "co_landmark"
    PIN = "co_pin"  # waiting for a location pin
    SUMMARY = "co_summary"  # the one summary, waiting for the one confirmation
    PAYMENT = "co_payment"
    PAYER = "co_payer"
    # after the order
    ORDERS = "orders"  # the order list is on screen
    ORDER = "order"  # one order's status is on screen
    CANCEL = "cancel"  # "really cancel?"
    CASH_REFERENCE = "cash_reference"  # paid by mobile money: its transaction id, or Passer
    RATING = "rating"  # the stars of one order, asked in this turn (the order in data)
    REVIEW_COMMENT = "review_comment"  # rated, waiting for an optional comment
    COURIER_RATING = "courier_rating"  # the courier's stars, one tap after the order's
    RETURN_ITEMS = "return_items"
    RETURN_REASON = "return_reason"
    RETURN_PHOTO = "return_photo"
    REPORT = "report"  # waiting for a report reason
