"""The seller conversation's states (bot/seller/flow.py declares what each one accepts)."""

from enum import StrEnum


class SellerState(StrEnum):
    WELCOME = "welcome"  # a newcomer chooses: open a shop, buy, or deliver
    PHONE = "phone"  # waiting for the contact share
    SHOP_NAME = "shop_name"
    SHOP_PREFECTURE = "shop_prefecture"
    SHOP_QUARTIER = "shop_quartier"
    SHOP_LANDMARK = "shop_landmark"
    MENU = "menu"  # idle: commands and buttons
    NEW_PHOTO = "new_photo"
    NEW_NAME = "new_name"
    NEW_DESCRIPTION = "new_description"
    NEW_CATEGORY = "new_category"
    NEW_BRAND = "new_brand"
    NEW_COLOUR = "new_colour"
    NEW_PRICE = "new_price"
    NEW_STOCK = "new_stock"
    NEW_CONFIRM = "new_confirm"  # preview on screen
    EDIT_VALUE = "edit_value"
    EDIT_PHOTO = "edit_photo"  # waiting for a photo to add to a product
    RESTOCK = "restock"
    PROMO_PERCENT = "promo_percent"
    PROMO_START = "promo_start"
    PROMO_END = "promo_end"
    CODE_NAME = "code_name"  # a shop promo code: the code, discount, start, end, max uses
    CODE_DISCOUNT = "code_discount"
    CODE_START = "code_start"
    CODE_END = "code_end"
    CODE_USES = "code_uses"
    REFUSE_REASON = "refuse_reason"  # an order refusal needs a reason
    COURIER_PHONE = "courier_phone"  # assigning a courier the seller knows
    BONUS = "bonus"  # publishing to the courier marketplace
    RETURN_REASON = "return_reason"
    REVIEW_REPLY = "review_reply"
    PIN = "pin"  # delivering personally (or at the shop): waiting for the buyer's PIN
