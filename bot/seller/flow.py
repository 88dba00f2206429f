"""The seller flow, declared as one table (see flow.mmd beside it).

Commands and inline buttons work from any state (fallbacks): a new-order alert can be
answered in the middle of a product creation. States only say which typed answer is awaited.
"""

from __future__ import annotations

from bot.flow import ANY_TEXT, Flow, command, kind, payload
from bot.messages import InboundKind
from bot.seller import handlers as h
from bot.seller.states import SellerState as S
from bot.threads import REPLY_ROUTES, REPLY_STATE, STAFF_ROUTES

ADMIN_COMMANDS = command(
    "moderation", "signalements", "reports", "utilisateurs", "users", "export", "chiffres",
    "figures", "codes",
)  # fmt: skip

GLOBAL = (
    (command("start", "menu"), h.entry),
    (command("annuler", "cancel"), h.cancel),
    (command("aide", "help"), h.show_help),
    (command("nouveau", "new"), h.new_product),
    (command("produits", "products"), h.products),
    (command("promo"), h.promo),
    (command("commandes", "orders"), h.orders_list),
    (command("stats"), h.stats),
    (ADMIN_COMMANDS, h.admin_only),
    (payload("w:shop"), h.open_shop),
    (payload("w:buy"), h.go_buy),
    (payload("w:courier"), h.go_courier),
    (payload("m:new"), h.new_product),
    (payload("m:products"), h.products),
    (payload("m:orders"), h.orders_list),
    (payload("m:promo"), h.promo),
    (payload("m:stats"), h.stats),
    (payload("nw:ok"), h.new_confirm),
    (payload("nw:no"), h.new_cancel),
    (payload("nc:"), h.new_category),
    (payload("pg:"), h.products_page),
    (payload("pr:"), h.product_card),
    (payload("pe:"), h.edit_pick),
    (payload("pf:"), h.edit_field),
    (payload("pc:"), h.edit_category),
    (payload("pp:"), h.toggle_pause),
    (payload("ps:"), h.restock_ask),
    (payload("pd:"), h.delete_ask),
    (payload("px:"), h.delete_confirm),
    (payload("pm:"), h.promo_pick),
    (payload("o:v:"), h.order_view),
    (payload("o:a:"), h.order_accept),
    (payload("o:r:"), h.order_refuse),
    (payload("d:m:"), h.deliver_myself),
    (payload("d:k:"), h.deliver_known),
    (payload("d:p:"), h.deliver_publish),
    (payload("d:b:"), h.publish_bonus),
    (payload("bonus:"), h.raise_bonus),
    (payload("r:a:"), h.return_approve),
    (payload("r:r:"), h.return_refuse),
    (payload("rv:"), h.review_reply_ask),
    (payload("d:c:"), h.pin_ask),
    *STAFF_ROUTES,
)

FLOW = Flow(
    name="seller",
    entry=h.entry,
    states={
        S.WELCOME: (),
        S.PHONE: ((kind(InboundKind.CONTACT), h.got_contact), (ANY_TEXT, h.contact_expected)),
        S.SHOP_NAME: ((ANY_TEXT, h.shop_name),),
        S.SHOP_PREFECTURE: ((payload("pf:"), h.shop_prefecture), (ANY_TEXT, h.shop_prefecture)),
        S.SHOP_QUARTIER: ((ANY_TEXT, h.shop_quartier),),
        S.SHOP_LANDMARK: ((ANY_TEXT, h.shop_landmark),),
        S.MENU: (),
        S.NEW_PHOTO: ((kind(InboundKind.MEDIA), h.new_photo), (ANY_TEXT, h.photo_expected)),
        S.NEW_NAME: ((ANY_TEXT, h.new_name),),
        S.NEW_DESCRIPTION: ((ANY_TEXT, h.new_description),),
        S.NEW_CATEGORY: ((ANY_TEXT, h.category_expected),),
        S.NEW_BRAND: ((ANY_TEXT, h.new_brand),),
        S.NEW_COLOUR: ((ANY_TEXT, h.new_colour),),
        S.NEW_PRICE: ((ANY_TEXT, h.new_price),),
        S.NEW_STOCK: ((ANY_TEXT, h.new_stock),),
        S.NEW_CONFIRM: ((ANY_TEXT, h.confirm_expected),),
        S.EDIT_VALUE: ((ANY_TEXT, h.edit_value),),
        S.RESTOCK: ((ANY_TEXT, h.restock_value),),
        S.PROMO_PERCENT: ((ANY_TEXT, h.promo_percent),),
        S.PROMO_START: ((ANY_TEXT, h.promo_start),),
        S.PROMO_END: ((ANY_TEXT, h.promo_end),),
        S.REFUSE_REASON: ((ANY_TEXT, h.refuse_reason),),
        S.COURIER_PHONE: ((ANY_TEXT, h.courier_phone),),
        S.BONUS: ((ANY_TEXT, h.bonus_text),),
        S.RETURN_REASON: ((ANY_TEXT, h.return_reason),),
        S.REVIEW_REPLY: ((ANY_TEXT, h.review_reply),),
        S.PIN: ((ANY_TEXT, h.pin_typed),),
        REPLY_STATE: REPLY_ROUTES,
    },
    fallbacks=GLOBAL,
    unknown=h.unknown,
)
