"""The seller flow, declared as one table (see flow.mmd beside it).

Commands and inline buttons work from any state (fallbacks): a new-order alert can be
answered in the middle of a product creation. States only say which typed answer is awaited.
"""

from __future__ import annotations

from bot.flow import ANY_TEXT, Flow, command, kind, payload
from bot.messages import InboundKind
from bot.seller import cash as ca
from bot.seller import codes as cd
from bot.seller import dispatch as dp
from bot.seller import onboarding as on
from bot.seller import orders as od
from bot.seller import products as pr
from bot.seller import promotions as pm
from bot.seller import returns as rt
from bot.seller import stats as st
from bot.seller import wizard as wz
from bot.seller.states import SellerState as S
from bot.threads import REPLY_ROUTES, REPLY_STATE, STAFF_ROUTES

ADMIN_COMMANDS = command(
    "moderation", "signalements", "reports", "utilisateurs", "users", "export", "chiffres",
    "figures", "codes",
)  # fmt: skip

GLOBAL = (
    (command("start", "menu"), on.entry),
    (command("annuler", "cancel"), on.cancel),
    (command("aide", "help"), on.show_help),
    (command("nouveau", "new"), wz.new_product),
    (command("produits", "products"), pr.products),
    (command("promo"), pm.promo),
    (command("codepromo", "promocode"), cd.new_code),
    (command("mescodes", "mycodes"), cd.list_codes),
    (command("commandes", "orders"), od.orders_list),
    (command("stats"), st.stats),
    (command("caisse", "cash"), ca.cash),
    (ADMIN_COMMANDS, on.admin_only),
    (payload("w:shop"), on.open_shop),
    (payload("w:buy"), on.go_buy),
    (payload("w:courier"), on.go_courier),
    (payload("m:new"), wz.new_product),
    (payload("m:products"), pr.products),
    (payload("m:orders"), od.orders_list),
    (payload("m:promo"), pm.promo),
    (payload("m:stats"), st.stats),
    (payload("nw:ok"), wz.new_confirm),
    (payload("nw:no"), wz.new_cancel),
    (payload("nc:"), wz.new_category),
    (payload("nph:done"), wz.photos_done),
    (payload("pha:"), pr.photo_add_ask),
    (payload("phx:"), pr.photo_remove),
    (payload("pg:"), pr.products_page),
    (payload("pr:"), pr.product_card),
    (payload("pe:"), pr.edit_pick),
    (payload("pf:"), pr.edit_field),
    (payload("pc:"), pr.edit_category),
    (payload("pp:"), pr.toggle_pause),
    (payload("ps:"), pr.restock_ask),
    (payload("pd:"), pr.delete_ask),
    (payload("px:"), pr.delete_confirm),
    (payload("pm:"), pm.promo_pick),
    (payload("cd:off:"), cd.disable_code),
    (payload("o:v:"), od.order_view),
    (payload("o:a:"), od.order_accept),
    (payload("o:r:"), od.order_refuse),
    (payload("d:m:"), dp.deliver_myself),
    (payload("d:k:"), dp.deliver_known),
    (payload("d:p:"), dp.deliver_publish),
    (payload("d:b:"), dp.publish_bonus),
    (payload("bonus:"), dp.raise_bonus),
    (payload("r:a:"), rt.return_approve),
    (payload("r:r:"), rt.return_refuse),
    (payload("rv:"), rt.review_reply_ask),
    (payload("d:c:"), dp.pin_ask),
    (payload("k:ok:"), ca.cash_received),
    (payload("k:no:"), ca.cash_not_received),
    (payload("k:csv:"), ca.cash_statement),
    *STAFF_ROUTES,
)

FLOW = Flow(
    name="seller",
    entry=on.entry,
    states={
        S.WELCOME: (),
        S.PHONE: ((kind(InboundKind.CONTACT), on.got_contact), (ANY_TEXT, on.contact_expected)),
        S.SHOP_NAME: ((ANY_TEXT, on.shop_name),),
        S.SHOP_PREFECTURE: ((payload("pf:"), on.shop_prefecture), (ANY_TEXT, on.shop_prefecture)),
        S.SHOP_QUARTIER: ((ANY_TEXT, on.shop_quartier),),
        S.SHOP_LANDMARK: ((ANY_TEXT, on.shop_landmark),),
        S.MENU: (),
        S.NEW_PHOTO: ((kind(InboundKind.MEDIA), wz.new_photo), (ANY_TEXT, wz.photo_expected)),
        S.NEW_NAME: ((ANY_TEXT, wz.new_name),),
        S.NEW_DESCRIPTION: ((ANY_TEXT, wz.new_description),),
        S.NEW_CATEGORY: ((ANY_TEXT, wz.category_expected),),
        S.NEW_BRAND: ((ANY_TEXT, wz.new_brand),),
        S.NEW_COLOUR: ((ANY_TEXT, wz.new_colour),),
        S.NEW_PRICE: ((ANY_TEXT, wz.new_price),),
        S.NEW_STOCK: ((ANY_TEXT, wz.new_stock),),
        S.NEW_CONFIRM: ((ANY_TEXT, wz.confirm_expected),),
        S.EDIT_VALUE: ((ANY_TEXT, pr.edit_value),),
        S.EDIT_PHOTO: ((kind(InboundKind.MEDIA), pr.photo_added), (ANY_TEXT, pr.photo_expected)),
        S.RESTOCK: ((ANY_TEXT, pr.restock_value),),
        S.PROMO_PERCENT: ((ANY_TEXT, pm.promo_percent),),
        S.PROMO_START: ((ANY_TEXT, pm.promo_start),),
        S.PROMO_END: ((ANY_TEXT, pm.promo_end),),
        S.CODE_NAME: ((ANY_TEXT, cd.code_name),),
        S.CODE_DISCOUNT: ((ANY_TEXT, cd.code_discount),),
        S.CODE_START: ((ANY_TEXT, cd.code_start),),
        S.CODE_END: ((ANY_TEXT, cd.code_end),),
        S.CODE_USES: ((ANY_TEXT, cd.code_uses),),
        S.REFUSE_REASON: ((ANY_TEXT, od.refuse_reason),),
        S.COURIER_PHONE: ((ANY_TEXT, dp.courier_phone),),
        S.BONUS: ((ANY_TEXT, dp.bonus_text),),
        S.RETURN_REASON: ((ANY_TEXT, rt.return_reason),),
        S.REVIEW_REPLY: ((ANY_TEXT, rt.review_reply),),
        S.PIN: ((ANY_TEXT, dp.pin_typed),),
        REPLY_STATE: REPLY_ROUTES,
    },
    fallbacks=GLOBAL,
    unknown=on.unknown,
    final_taps=(
        *("w:", "nw:", "nc:", "pc:", "pp:", "px:", "pf:"),  # onboarding, wizard, product edits
        *("nph:", "phx:"),  # photos: enough of them, one removed
        *("o:a:", "o:r:", "d:", "bonus:", "r:a:", "r:r:"),  # order, delivery, return decisions
        "cd:off:",  # a promo code switched off
    ),
)
