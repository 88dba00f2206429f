"""The admin flow, declared as one table (see flow.mmd beside it).

Only Telegram users listed in `[telegram] admin_ids` (granted the admin role) are routed here;
everything else — commands and buttons — works from any state.
"""

from __future__ import annotations

from bot.admin import cash, couriers
from bot.admin import handlers as h
from bot.admin import promo_codes as pc
from bot.admin.states import AdminState as S
from bot.flow import ANY_TEXT, Flow, command, payload
from bot.threads import REPLY_ROUTES, REPLY_STATE, STAFF_ROUTES

GLOBAL = (
    (command("start", "menu", "annuler", "cancel"), h.entry),
    (command("aide", "help"), h.show_help),
    (command("moderation"), h.moderation),
    (command("signalements", "reports"), h.reports),
    (command("utilisateurs", "users"), h.users_ask),
    (command("export"), h.export_menu),
    (command("chiffres", "figures"), h.figures),
    (command("codes"), h.locked_codes),
    (command("codepromo", "promocode"), pc.create),
    (command("codespromo", "promocodes"), pc.list_codes),
    (command("livreur", "courier"), couriers.start),
    (command("correction"), cash.correction),
    (payload("pc:off:"), pc.disable),
    (payload("ac:veh:"), couriers.vehicle),
    (payload("ld:ok:"), cash.dispute_ask),
    (payload("ld:no:"), cash.dispute_ask),
    (payload("lc:u:"), cash.correction_user),
    (payload("lc:a:"), cash.correction_account),
    (payload("lc:ok"), cash.correction_confirm),
    (payload("lc:no"), cash.correction_confirm),
    (payload("a:mod"), h.moderation),
    (payload("a:rep"), h.reports),
    (payload("a:users"), h.users_ask),
    (payload("a:export"), h.export_menu),
    (payload("a:fig"), h.figures),
    (payload("a:codes"), h.locked_codes),
    (payload("dc:u:"), h.code_unlock),
    (payload("pp:l:"), h.pause_lift),
    (payload("ms:a:"), h.approve),
    (payload("mp:a:"), h.approve),
    (payload("mc:a:"), h.approve),
    (payload("ms:r:"), h.refuse_ask),
    (payload("mp:r:"), h.refuse_ask),
    (payload("mc:r:"), h.refuse_ask),
    (payload("mv:"), h.view_item),
    (payload("m:skip:"), h.skip),
    (payload("rp:v:"), h.report_view),
    (payload("rp:ok:"), h.report_close),
    (payload("rp:no:"), h.report_close),
    (payload("u:v:"), h.user_view),
    (payload("u:on:"), h.user_set_active),
    (payload("u:off:"), h.user_set_active),
    (payload("x:"), h.export_kind),
    *STAFF_ROUTES,  # support threads handed to an admin
)

FLOW = Flow(
    name="admin",
    entry=h.entry,
    states={
        S.MENU: (),
        S.MOD_REASON: ((ANY_TEXT, h.refuse_reason),),
        S.USER_QUERY: ((ANY_TEXT, h.users_query),),
        S.COURIER_NAME: ((ANY_TEXT, couriers.name),),
        S.COURIER_PHONE: ((ANY_TEXT, couriers.phone),),
        S.COURIER_PLACE: ((ANY_TEXT, couriers.place),),
        S.COURIER_VEHICLE: ((ANY_TEXT, couriers.vehicle),),
        S.DISPUTE_REASON: ((ANY_TEXT, cash.dispute_reason),),
        S.CORR_WHO: ((ANY_TEXT, cash.correction_who),),
        S.CORR_ACCOUNT: (),
        S.CORR_AMOUNT: ((ANY_TEXT, cash.correction_amount),),
        S.CORR_REASON: ((ANY_TEXT, cash.correction_reason),),
        S.CORR_CONFIRM: (),
        REPLY_STATE: REPLY_ROUTES,
    },
    fallbacks=GLOBAL,
    unknown=h.unknown,
    final_taps=(
        *("ms:", "mp:", "mc:", "m:skip:", "rp:ok:", "rp:no:"),  # moderation, reports
        *("dc:u:", "pp:l:", "u:on:", "u:off:", "x:"),  # codes, pauses, accounts, exports
        "pc:off:",  # a platform promo code switched off
        *("ac:veh:", "lc:ok", "lc:no"),  # a courier added, a correction confirmed
    ),
)
