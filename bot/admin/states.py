"""The admin conversation's states (bot/admin/flow.py declares what each one accepts)."""

from enum import StrEnum


class AdminState(StrEnum):
    MENU = "menu"  # idle: commands and buttons
    MOD_REASON = "mod_reason"  # a refusal (shop, product, courier) needs a reason
    USER_QUERY = "user_query"  # waiting for a phone number or a name
