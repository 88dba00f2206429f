"""Seller entry and onboarding: /start, the welcome (open a shop, buy, deliver), the contact
check, the shop's name and place; the menu, help, cancel and what to say to unknown input.
"""

from __future__ import annotations

from bot.flow import Context, Result
from bot.messages import AskContact, Choice, Choices, InboundKind, InboundMessage, Text
from bot.seller.common import main_menu, own_shop, reset, skipped, welcome
from bot.seller.states import SellerState as S
from commerce.catalog import actions as catalog
from commerce.catalog.models import ShopStatus
from commerce.errors import InvalidPhone
from commerce.users import actions as users
from commerce.users.actions import validate_place

CONAKRY = ("Kaloum", "Dixinn", "Matam", "Ratoma", "Matoto")


def entry(msg: InboundMessage, ctx: Context) -> Result:
    """`/start` and every first message: sellers get their menu, newcomers three choices.

    A first message that is already a command (/nouveau) or a button (a new-order alert's
    Accept) is routed as from the menu, so it is not lost to the greeting.
    """
    routed = _route_from_menu(msg, ctx)
    if routed is not None:
        return routed
    reset(ctx)
    shop = own_shop(ctx)
    if shop is None:
        return S.WELCOME, [welcome(ctx)]
    return show_menu(msg, ctx)


def _route_from_menu(msg: InboundMessage, ctx: Context) -> Result | None:
    is_start = msg.kind == InboundKind.COMMAND and msg.text.split()[0].split("@")[0] == "/start"
    if is_start or msg.kind not in (InboundKind.COMMAND, InboundKind.BUTTON):
        return None
    from bot.seller.flow import FLOW  # the table imports this module

    handler = FLOW.route(S.MENU, msg, ctx)
    return handler(msg, ctx) if handler is not None and handler is not entry else None


def show_menu(msg: InboundMessage, ctx: Context) -> Result:
    reset(ctx)
    shop = own_shop(ctx)
    if shop is None:
        return S.WELCOME, [welcome(ctx)]
    key = {
        ShopStatus.PENDING: "seller.menu.pending",
        ShopStatus.REFUSED: "seller.menu.refused",
        ShopStatus.SUSPENDED: "seller.menu.suspended",
    }.get(shop.status, "seller.menu.hello")
    text = ctx.t(key, shop=shop.name, reason=shop.refusal_reason)
    return S.MENU, [main_menu(ctx, text)]


def go_buy(msg: InboundMessage, ctx: Context) -> Result:
    return "@buyer", []


def go_courier(msg: InboundMessage, ctx: Context) -> Result:
    return "@courier", []


def open_shop(msg: InboundMessage, ctx: Context) -> Result:
    if own_shop(ctx) is not None:
        return show_menu(msg, ctx)
    reset(ctx)
    if ctx.user.phone:
        return S.SHOP_NAME, [Text(ctx.t("seller.onboard.name"))]
    return S.PHONE, [_ask_contact(ctx)]


def _ask_contact(ctx: Context) -> AskContact:
    return AskContact(
        text=ctx.t("seller.onboard.phone"), button=ctx.t("seller.onboard.phone_button")
    )


def got_contact(msg: InboundMessage, ctx: Context) -> Result:
    """Only the sender's own number: a forwarded contact (another user_id) is refused."""
    if msg.contact_user_id is None or msg.contact_user_id != msg.telegram_user_id:
        return S.PHONE, [Text(ctx.t("seller.onboard.not_yours")), _ask_contact(ctx)]
    try:
        user = users.link_phone(ctx.session, user_id=ctx.user.id, phone=msg.contact_phone)
    except InvalidPhone:
        return S.PHONE, [Text(ctx.t("error.invalid_phone")), _ask_contact(ctx)]
    if user.id != ctx.user.id:  # the number already had an account (bought on WhatsApp)
        ctx.conv.user_id = user.id
        ctx.user = user
        if own_shop(ctx) is not None:
            state, replies = show_menu(msg, ctx)
            return state, [_number_saved(ctx), *replies]
    return S.SHOP_NAME, [_number_saved(ctx), Text(ctx.t("seller.onboard.name"))]


def _number_saved(ctx: Context) -> Text:
    """The number is shared: the "share my number" keyboard is put away with the thanks."""
    return Text(ctx.t("seller.onboard.phone_ok"), remove_keyboard=True)


def contact_expected(msg: InboundMessage, ctx: Context) -> Result:
    return S.PHONE, [_ask_contact(ctx)]


def _ask_prefecture(ctx: Context) -> Choices:
    return Choices(
        text=ctx.t("seller.onboard.prefecture"),
        choices=tuple(Choice(f"pf:{name}", name) for name in CONAKRY),
    )


def shop_name(msg: InboundMessage, ctx: Context) -> Result:
    name = msg.text.strip()
    if not 2 <= len(name) <= 80:
        return S.SHOP_NAME, [Text(ctx.t("seller.onboard.name_invalid"))]
    ctx.data["shop"] = {"name": name}
    return S.SHOP_PREFECTURE, [_ask_prefecture(ctx)]


def shop_prefecture(msg: InboundMessage, ctx: Context) -> Result:
    raw = msg.payload.removeprefix("pf:") if msg.payload.startswith("pf:") else msg.text
    try:
        _region, prefecture, _q = validate_place("", raw.strip()[:60], "")
    except Exception:  # AddressInvalid, or a name the geo data cannot read
        return S.SHOP_PREFECTURE, [
            Text(ctx.t("seller.onboard.prefecture_unknown")),
            _ask_prefecture(ctx),
        ]
    if "shop" not in ctx.data:
        return open_shop(msg, ctx)
    ctx.data["shop"] = {**ctx.data["shop"], "prefecture": prefecture}
    return S.SHOP_QUARTIER, [Text(ctx.t("seller.onboard.quartier", prefecture=prefecture))]


def shop_quartier(msg: InboundMessage, ctx: Context) -> Result:
    quartier = "" if skipped(msg.text) else msg.text.strip()
    if len(quartier) > 80 or "shop" not in ctx.data:
        return S.SHOP_QUARTIER, [Text(ctx.t("seller.onboard.quartier_invalid"))]
    ctx.data["shop"] = {**ctx.data["shop"], "quartier": quartier}
    return S.SHOP_LANDMARK, [Text(ctx.t("seller.onboard.landmark"))]


def shop_landmark(msg: InboundMessage, ctx: Context) -> Result:
    landmark = msg.text.strip()
    if not landmark or len(landmark) > 300:
        return S.SHOP_LANDMARK, [Text(ctx.t("seller.onboard.landmark_invalid"))]
    answers = ctx.data.pop("shop", None)
    if not answers or "prefecture" not in answers:
        return open_shop(msg, ctx)
    shop = catalog.create_shop(
        ctx.session,
        owner_id=ctx.user.id,
        name=answers["name"],
        prefecture=answers["prefecture"],
        quartier=answers.get("quartier", ""),
        landmark=landmark,
    )
    return S.MENU, [Text(ctx.t("seller.onboard.done", shop=shop.name))]


def show_help(msg: InboundMessage, ctx: Context) -> Result:
    return S.MENU, [Text(ctx.t("seller.help"))]


def cancel(msg: InboundMessage, ctx: Context) -> Result:
    reset(ctx)
    if own_shop(ctx) is None:
        return S.WELCOME, [Text(ctx.t("seller.cancelled")), welcome(ctx)]
    return S.MENU, [Text(ctx.t("seller.cancelled")), main_menu(ctx)]


def admin_only(msg: InboundMessage, ctx: Context) -> Result:
    """An admin command from someone who is not an admin: a polite no, nothing happens."""
    return ctx.conv.state or S.MENU, [Text(ctx.t("seller.admin_only"))]


def unknown(msg: InboundMessage, ctx: Context) -> Result:
    state = ctx.conv.state or S.MENU
    if state not in (S.MENU, S.WELCOME):  # mid-dialogue: say what is awaited, keep the answers
        return state, [Text(ctx.t("seller.unknown_step"))]
    if own_shop(ctx) is None:
        return S.WELCOME, [Text(ctx.t("seller.unknown")), welcome(ctx)]
    return S.MENU, [Text(ctx.t("seller.unknown")), main_menu(ctx)]
