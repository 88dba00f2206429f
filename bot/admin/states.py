"""The admin conversation's states (bot/admin/flow.py declares what each one accepts)."""

from enum import StrEnum


class AdminState(StrEnum):
    MENU = "menu"  # idle: commands and buttons
    MOD_REASON = "mod_reason"  # a refusal (shop, product, courier) needs a reason
    USER_QUERY = "user_query"  # waiting for a phone number or a name
    COURIER_NAME = "courier_name"  # /livreur: the new courier's name
    COURIER_PHONE = "courier_phone"  # his phone number
    COURIER_PLACE = "courier_place"  # where he works (prefecture, or a quartier)
    COURIER_VEHICLE = "courier_vehicle"  # moto, voiture, vélo, à pied
    DISPUTE_REASON = "dispute_reason"  # settling a cash dispute needs a reason
    CORR_WHO = "corr_who"  # /correction: whose account (phone or name)
    CORR_ACCOUNT = "corr_account"  # which of their accounts
    CORR_AMOUNT = "corr_amount"  # the amount, with its sign
    CORR_REASON = "corr_reason"  # why
    CORR_CONFIRM = "corr_confirm"  # the summary, then "Confirmer"
