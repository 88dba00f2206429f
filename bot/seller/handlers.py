"""Seller handlers: onboarding, guided product creation, the product list, promotions, orders
and dispatch, returns, review replies and /stats.

Callback data are short ("o:a:1042"): ids only, never trusted. Every action goes through the
commerce core, which checks the seller owns what the id names; a forged or stale button gets
the core's refusal as a polite sentence. Wording comes from bot/locales/*/seller.toml.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import object_session

from bot.flow import Context, Result, payload_id
from bot.messages import (
    AskContact,
    Choice,
    Choices,
    Image,
    InboundKind,
    InboundMessage,
    Reply,
    Text,
)
from bot.seller.charts import CHART_PENDING_KEY, chart_pending, stats_text
from bot.seller.states import SellerState as S
from commerce import backoffice, clock
from commerce.catalog import actions as catalog
from commerce.catalog.models import Product, Shop, ShopStatus
from commerce.delivery import actions as delivery
from commerce.errors import CodeLocked, InvalidInput, InvalidPhone, NotFound, WrongPin
from commerce.messaging import events
from commerce.orders import actions as orders
from commerce.orders.models import DeliveryMode, Order, OrderStatus
from commerce.returns import actions as returns
from commerce.reviews import actions as reviews
from commerce.stats import seller_stats
from commerce.text import fold
from commerce.users import actions as users
from commerce.users.actions import validate_place
from commerce.users.models import Role

PAGE = 8
LABEL_MAX = 40
CONAKRY = ("Kaloum", "Dixinn", "Matam", "Ratoma", "Matoto")
OPEN_STATUSES = [
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.COURIER_ASSIGNED,
    OrderStatus.PICKED_UP,
]
SKIP_WORDS = {"-", "passer", "skip", "aucun", "aucune", "none", "non", "no"}
NOW_WORDS = {"maintenant", "now", "aujourdhui", "today", "immediatement"}
EDITABLE = ("name", "description", "brand", "colour", "price", "category")
LIMITS = {"name": 120, "description": 2000, "brand": 60, "colour": 40}
BONUS_STEPS = (0, 5_000, 10_000)


# --- small helpers ------------------------------------------------------------------------------


def _label(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_id = payload_id  # the id at an index of a button payload


def _amount(text: str) -> int | None:
    """ "250 000", "250000 GNF", "250.000" → 250000; anything else None."""
    cleaned = re.sub(r"(?i)gnf|fg|[\s.,'_]", "", text or "")
    return int(cleaned) if cleaned.isdecimal() and len(cleaned) <= 12 else None


def _skipped(text: str) -> bool:
    return text.strip() in {"-", "—", "."} or fold(text).strip() in SKIP_WORDS


def _shop(ctx: Context) -> Shop | None:
    return backoffice.shop_of(ctx.session, ctx.user.id)


def _status(ctx: Context, product: Product) -> str:
    if product.is_paused:
        return ctx.t("seller.status.paused")
    return ctx.t(f"seller.status.{product.status.value}")


def _reset(ctx: Context, *keep: str) -> None:
    """Forget the previous dialogue's answers (keep the engine's own keys and the marker of a
    chart still being drawn, which is not an answer: /stats must keep seeing it)."""
    for key in list(ctx.data):
        if key not in keep and key not in ("menu", CHART_PENDING_KEY):
            ctx.data.pop(key)


def main_menu(ctx: Context, text: str = "") -> Choices:
    return Choices(
        text=text or ctx.t("seller.menu.title"),
        choices=(
            Choice("m:new", ctx.t("seller.menu.new")),
            Choice("m:products", ctx.t("seller.menu.products")),
            Choice("m:orders", ctx.t("seller.menu.orders")),
            Choice("m:promo", ctx.t("seller.menu.promo")),
            Choice("m:stats", ctx.t("seller.menu.stats")),
        ),
    )


def _need_shop(ctx: Context) -> Result | None:
    """A command that needs a shop, from someone without one: offer to open it."""
    if _shop(ctx) is None or not ctx.user.has_role(Role.SELLER):
        return S.WELCOME, [Text(ctx.t("seller.no_shop")), _welcome(ctx)]
    return None


# --- entry and onboarding --------------------------------------------------------------------


def _welcome(ctx: Context) -> Choices:
    return Choices(
        text=ctx.t("seller.welcome.text"),
        choices=(
            Choice("w:shop", ctx.t("seller.welcome.shop")),
            Choice("w:buy", ctx.t("seller.welcome.buy")),
            Choice("w:courier", ctx.t("seller.welcome.courier")),
        ),
    )


def entry(msg: InboundMessage, ctx: Context) -> Result:
    """`/start` and every first message: sellers get their menu, newcomers three choices.

    A first message that is already a command (/nouveau) or a button (a new-order alert's
    Accept) is routed as from the menu, so it is not lost to the greeting.
    """
    routed = _route_from_menu(msg, ctx)
    if routed is not None:
        return routed
    _reset(ctx)
    shop = _shop(ctx)
    if shop is None:
        return S.WELCOME, [_welcome(ctx)]
    return show_menu(msg, ctx)


def _route_from_menu(msg: InboundMessage, ctx: Context) -> Result | None:
    is_start = msg.kind == InboundKind.COMMAND and msg.text.split()[0].split("@")[0] == "/start"
    if is_start or msg.kind not in (InboundKind.COMMAND, InboundKind.BUTTON):
        return None
    from bot.seller.flow import FLOW  # the table imports this module

    handler = FLOW.route(S.MENU, msg, ctx)
    return handler(msg, ctx) if handler is not None and handler is not entry else None


def show_menu(msg: InboundMessage, ctx: Context) -> Result:
    _reset(ctx)
    shop = _shop(ctx)
    if shop is None:
        return S.WELCOME, [_welcome(ctx)]
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
    if _shop(ctx) is not None:
        return show_menu(msg, ctx)
    _reset(ctx)
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
        if _shop(ctx) is not None:
            return show_menu(msg, ctx)
    return S.SHOP_NAME, [Text(ctx.t("seller.onboard.phone_ok")), Text(ctx.t("seller.onboard.name"))]


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
    quartier = "" if _skipped(msg.text) else msg.text.strip()
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


# --- guided product creation --------------------------------------------------------------


def new_product(msg: InboundMessage, ctx: Context) -> Result:
    refused = _need_shop(ctx)
    if refused:
        return refused
    _reset(ctx)
    ctx.data["new"] = {}
    return S.NEW_PHOTO, [Text(ctx.t("seller.new.photo"))]


def _copied(ctx: Context, key: str) -> dict[str, Any] | None:
    """A fresh copy of a nested answer dict, put back in ctx.data.

    Why a copy: the engine copies `conv.data` one level deep, and a JSON column only saves a
    value that compares different; a nested dict changed in place would be silently lost.
    """
    value = ctx.data.get(key)
    if not isinstance(value, dict):
        return None
    ctx.data[key] = dict(value)
    return ctx.data[key]


def _draft(ctx: Context) -> dict[str, Any] | None:
    return _copied(ctx, "new")


def _lost(ctx: Context) -> Result:
    """An answer arrived for a dialogue that is gone (stale state): start it again."""
    return S.MENU, [Text(ctx.t("seller.new.lost")), main_menu(ctx)]


def new_photo(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    file_id = msg.media[0].file_id if msg.media else ""
    if draft is None:
        return _lost(ctx)
    if not file_id or len(file_id) > 200:
        return S.NEW_PHOTO, [Text(ctx.t("seller.new.photo_again"))]
    draft["photo"] = file_id
    return S.NEW_NAME, [Text(ctx.t("seller.new.name"))]


def photo_expected(msg: InboundMessage, ctx: Context) -> Result:
    return S.NEW_PHOTO, [Text(ctx.t("seller.new.photo_again"))]


def _text_step(msg: InboundMessage, ctx: Context, field: str, here: S) -> Result | None:
    """Store a typed answer in the draft; a refusal to answer again, or None when stored."""
    draft = _draft(ctx)
    if draft is None:
        return _lost(ctx)
    optional = field != "name"
    value = "" if optional and _skipped(msg.text) else msg.text.strip()
    if (not optional and not value) or len(value) > LIMITS[field]:
        return here, [Text(ctx.t("seller.new.too_long", max=LIMITS[field]))]
    draft[field] = value
    return None


def new_name(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "name", S.NEW_NAME)
    return refused or (S.NEW_DESCRIPTION, [Text(ctx.t("seller.new.description"))])


def _categories(ctx: Context, prefix: str) -> Choices:
    name = "name_en" if ctx.lang == "en" else "name_fr"
    cats = backoffice.categories(ctx.session)
    return Choices(
        text=ctx.t("seller.new.category"),
        choices=tuple(Choice(f"{prefix}{c.id}", _label(getattr(c, name))) for c in cats[:30]),
    )


def new_description(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "description", S.NEW_DESCRIPTION)
    return refused or (S.NEW_CATEGORY, [_categories(ctx, "nc:")])


def new_category(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    if draft is None:
        return _lost(ctx)
    category_id = _id(msg)
    if all(c.id != category_id for c in backoffice.categories(ctx.session)):
        return S.NEW_CATEGORY, [_categories(ctx, "nc:")]
    draft["category_id"] = category_id
    return S.NEW_BRAND, [Text(ctx.t("seller.new.brand"))]


def category_expected(msg: InboundMessage, ctx: Context) -> Result:
    return S.NEW_CATEGORY, [_categories(ctx, "nc:")]


def new_brand(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "brand", S.NEW_BRAND)
    return refused or (S.NEW_COLOUR, [Text(ctx.t("seller.new.colour"))])


def new_colour(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "colour", S.NEW_COLOUR)
    return refused or (S.NEW_PRICE, [Text(ctx.t("seller.new.price"))])


def new_price(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    if draft is None:
        return _lost(ctx)
    price = _amount(msg.text)
    if price is None or not 0 < price <= catalog.MAX_PRICE:
        return S.NEW_PRICE, [Text(ctx.t("seller.new.price_invalid"))]
    draft["price"] = price
    return S.NEW_STOCK, [Text(ctx.t("seller.new.stock"))]


def new_stock(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    if draft is None or "price" not in draft:
        return _lost(ctx)
    stock = _amount(msg.text)
    if stock is None or stock > catalog.MAX_STOCK:
        return S.NEW_STOCK, [Text(ctx.t("seller.new.stock_invalid", max=catalog.MAX_STOCK))]
    draft["stock"] = stock
    summary = ctx.t(
        "seller.new.preview",
        name=draft["name"],
        description=draft.get("description") or "—",
        brand=draft.get("brand") or "—",
        colour=draft.get("colour") or "—",
        price_gnf=draft["price"],
        stock=stock,
    )
    return S.NEW_CONFIRM, [
        Image(media_path=f"telegram:{draft['photo']}", caption=_label(draft["name"], 1000)),
        Choices(
            text=summary[:3500],
            choices=(
                Choice("nw:ok", ctx.t("seller.new.confirm")),
                Choice("nw:no", ctx.t("seller.new.cancel")),
            ),
        ),
    ]


def new_confirm(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    needed = ("photo", "name", "category_id", "price", "stock")
    if draft is None or any(k not in draft for k in needed):
        return _lost(ctx)
    product = catalog.create_product(
        ctx.session,
        seller_id=ctx.user.id,
        category_id=draft["category_id"],
        name=draft["name"],
        description=draft.get("description", ""),
        brand=draft.get("brand", ""),
        colour=draft.get("colour", ""),
        price=draft["price"],
        stock=draft["stock"],
        photo_paths=[f"telegram:{draft['photo']}"],
    )
    ctx.data.pop("new", None)
    return S.MENU, [Text(ctx.t("seller.new.sent", name=product.name)), main_menu(ctx)]


def new_cancel(msg: InboundMessage, ctx: Context) -> Result:
    ctx.data.pop("new", None)
    return S.MENU, [Text(ctx.t("seller.cancelled")), main_menu(ctx)]


def confirm_expected(msg: InboundMessage, ctx: Context) -> Result:
    return S.NEW_CONFIRM, [
        Choices(
            text=ctx.t("seller.new.confirm_again"),
            choices=(
                Choice("nw:ok", ctx.t("seller.new.confirm")),
                Choice("nw:no", ctx.t("seller.new.cancel")),
            ),
        )
    ]


# --- the product list and per-product actions -------------------------------------------------


def products(msg: InboundMessage, ctx: Context, offset: int = 0) -> Result:
    refused = _need_shop(ctx)
    if refused:
        return refused
    page, total = backoffice.seller_products(
        ctx.session, seller_id=ctx.user.id, offset=offset, limit=PAGE
    )
    if not page:
        return S.MENU, [Text(ctx.t("seller.products.none")), main_menu(ctx)]
    choices = [Choice(f"pr:{p.id}", _label(f"{p.name} · {_status(ctx, p)}")) for p in page]
    if offset + PAGE < total:
        choices.append(Choice(f"pg:{offset + PAGE}", ctx.t("seller.products.more")))
    header = ctx.t("seller.products.header", first=offset + 1, last=offset + len(page), total=total)
    return S.MENU, [Choices(text=header, choices=tuple(choices))]


def products_page(msg: InboundMessage, ctx: Context) -> Result:
    offset = int(msg.payload.split(":")[1]) if msg.payload.split(":")[1].isdecimal() else 0
    return products(msg, ctx, offset=min(offset, 100_000))


def _product_card(ctx: Context, product: Product) -> list[Reply]:
    text = ctx.t(
        "seller.product.card",
        id=product.id,
        name=product.name,
        price_gnf=catalog.effective_price(product),
        stock=product.stock,
        status=_status(ctx, product),
        reason=product.rejection_reason or "—",
    )
    pause = "seller.product.resume" if product.is_paused else "seller.product.pause"
    replies: list[Reply] = []
    if product.photos:
        replies.append(Image(media_path=product.photos[0].path, caption=_label(product.name, 1000)))
    replies.append(
        Choices(
            text=text[:3500],
            choices=(
                Choice(f"pe:{product.id}", ctx.t("seller.product.edit")),
                Choice(f"pp:{product.id}", ctx.t(pause)),
                Choice(f"ps:{product.id}", ctx.t("seller.product.restock")),
                Choice(f"pm:{product.id}", ctx.t("seller.product.promo")),
                Choice(f"pd:{product.id}", ctx.t("seller.product.delete")),
            ),
        )
    )
    return replies


def product_card(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg))
    return S.MENU, _product_card(ctx, product)


def edit_pick(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg))
    return S.MENU, [
        Choices(
            text=ctx.t("seller.edit.pick", name=product.name),
            choices=tuple(
                Choice(f"pf:{product.id}:{f}", ctx.t(f"seller.field.{f}")) for f in EDITABLE
            ),
        )
    ]


def edit_field(msg: InboundMessage, ctx: Context) -> Result:
    parts = msg.payload.split(":")
    field = parts[2] if len(parts) == 3 else ""
    if field not in EDITABLE:
        raise InvalidInput("bad button", payload=msg.payload[:64])
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg, 1))
    if field == "category":
        return S.MENU, [_categories(ctx, f"pc:{product.id}:")]
    ctx.data["edit"] = {"id": product.id, "field": field}
    return S.EDIT_VALUE, [Text(ctx.t("seller.edit.value", field=ctx.t(f"seller.field.{field}")))]


def edit_value(msg: InboundMessage, ctx: Context) -> Result:
    edit = ctx.data.get("edit")
    if not isinstance(edit, dict):
        return _lost(ctx)
    field, value = edit["field"], msg.text.strip()
    change: Any = value
    if field == "price":
        change = _amount(value)
        if change is None or not 0 < change <= catalog.MAX_PRICE:
            return S.EDIT_VALUE, [Text(ctx.t("seller.new.price_invalid"))]
    elif len(value) > LIMITS[field] or (field == "name" and not value):
        return S.EDIT_VALUE, [Text(ctx.t("seller.new.too_long", max=LIMITS[field]))]
    elif _skipped(value) and field != "name":
        change = ""
    product = catalog.update_product(
        ctx.session, seller_id=ctx.user.id, product_id=edit["id"], **{field: change}
    )
    ctx.data.pop("edit", None)
    return S.MENU, [Text(ctx.t("seller.edit.done", name=product.name)), main_menu(ctx)]


def edit_category(msg: InboundMessage, ctx: Context) -> Result:
    product = catalog.update_product(
        ctx.session, seller_id=ctx.user.id, product_id=_id(msg, 1), category_id=_id(msg, 2)
    )
    return S.MENU, [Text(ctx.t("seller.edit.done", name=product.name)), main_menu(ctx)]


def toggle_pause(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg))
    product = catalog.set_paused(
        ctx.session, seller_id=ctx.user.id, product_id=product.id, paused=not product.is_paused
    )
    key = "seller.product.paused" if product.is_paused else "seller.product.resumed"
    return S.MENU, [Text(ctx.t(key, name=product.name)), main_menu(ctx)]


def restock_ask(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg))
    ctx.data["restock"] = product.id
    return S.RESTOCK, [Text(ctx.t("seller.restock.ask", name=product.name, stock=product.stock))]


def restock_value(msg: InboundMessage, ctx: Context) -> Result:
    product_id = ctx.data.get("restock")
    if not isinstance(product_id, int):
        return _lost(ctx)
    add = _amount(msg.text)
    if add is None or not 0 < add <= catalog.MAX_STOCK:
        return S.RESTOCK, [Text(ctx.t("seller.restock.invalid"))]
    product = catalog.restock(ctx.session, seller_id=ctx.user.id, product_id=product_id, add=add)
    ctx.data.pop("restock", None)
    return S.MENU, [
        Text(ctx.t("seller.restock.done", name=product.name, stock=product.stock)),
        main_menu(ctx),
    ]


def delete_ask(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg))
    return S.MENU, [
        Choices(
            text=ctx.t("seller.delete.ask", name=product.name),
            choices=(
                Choice(f"px:{product.id}", ctx.t("seller.delete.yes")),
                Choice(f"pr:{product.id}", ctx.t("seller.delete.no")),
            ),
        )
    ]


def delete_confirm(msg: InboundMessage, ctx: Context) -> Result:
    product = catalog.delete_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg))
    return S.MENU, [Text(ctx.t("seller.delete.done", name=product.name)), main_menu(ctx)]


# --- promotions -------------------------------------------------------------------------------


def promo(msg: InboundMessage, ctx: Context) -> Result:
    refused = _need_shop(ctx)
    if refused:
        return refused
    page, total = backoffice.seller_products(ctx.session, seller_id=ctx.user.id, limit=10)
    if not page:
        return S.MENU, [Text(ctx.t("seller.products.none")), main_menu(ctx)]
    return S.MENU, [
        Choices(
            text=ctx.t("seller.promo.pick", total=total),
            choices=tuple(Choice(f"pm:{p.id}", _label(p.name)) for p in page),
        )
    ]


def promo_pick(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=_id(msg))
    ctx.data["promo"] = {"id": product.id}
    return S.PROMO_PERCENT, [Text(ctx.t("seller.promo.percent", name=product.name))]


def promo_percent(msg: InboundMessage, ctx: Context) -> Result:
    draft = _copied(ctx, "promo")
    if draft is None:
        return _lost(ctx)
    percent = _amount(msg.text.replace("%", ""))
    if percent is None or not 0 < percent < 100:
        return S.PROMO_PERCENT, [Text(ctx.t("seller.promo.percent_invalid"))]
    draft["percent"] = percent
    return S.PROMO_START, [Text(ctx.t("seller.promo.start"))]


def _date(text: str, now: dt.datetime) -> dt.datetime | None:
    """ "maintenant" → now; "25/12" or "25/12/2025" → that day at 00:00 (Conakry is UTC)."""
    folded = fold(text).replace("'", "").replace(" ", "")
    if folded in NOW_WORDS:
        return now
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?", folded)
    if not match:
        return None
    day, month = int(match[1]), int(match[2])
    year = int(match[3]) if match[3] else now.year
    year = year + 2000 if year < 100 else year
    try:
        return dt.datetime(year, month, day, tzinfo=dt.UTC)
    except ValueError:
        return None


def promo_start(msg: InboundMessage, ctx: Context) -> Result:
    draft = _copied(ctx, "promo")
    if draft is None or "percent" not in draft:
        return _lost(ctx)
    start = _date(msg.text, clock.now())
    if start is None:
        return S.PROMO_START, [Text(ctx.t("seller.promo.date_invalid"))]
    draft["start"] = start.isoformat()
    return S.PROMO_END, [Text(ctx.t("seller.promo.end"))]


def promo_end(msg: InboundMessage, ctx: Context) -> Result:
    draft = _copied(ctx, "promo")
    if draft is None or "start" not in draft:
        return _lost(ctx)
    start = dt.datetime.fromisoformat(draft["start"])
    days = re.fullmatch(r"(\d{1,3})\s*(j|jours?|d|days?)?", fold(msg.text).strip())
    if days and int(days[1]) > 0:
        end: dt.datetime | None = start + dt.timedelta(days=int(days[1]))
    else:
        end = _date(msg.text, clock.now())
        end = end + dt.timedelta(days=1) if end is not None else None  # the whole last day
    if end is None or end <= start:
        return S.PROMO_END, [Text(ctx.t("seller.promo.date_invalid"))]
    promotion = catalog.add_promotion(
        ctx.session,
        seller_id=ctx.user.id,
        product_id=draft["id"],
        percent=draft["percent"],
        starts_at=start,
        ends_at=end,
    )
    ctx.data.pop("promo", None)
    text = ctx.t(
        "seller.promo.done",
        percent=promotion.percent,
        start=f"{start:%d/%m/%Y %H:%M}",
        end=f"{end:%d/%m/%Y %H:%M}",
    )
    return S.MENU, [Text(text), main_menu(ctx)]


# --- orders and dispatch ----------------------------------------------------------------------


def order_text(ctx: Context, order: Order) -> str:
    lines = "\n".join(
        ctx.t("seller.order.line", qty=i.quantity, name=i.name, total_gnf=i.unit_price * i.quantity)
        for i in order.items
    )
    where = (
        ctx.t("seller.order.home", quartier=order.quartier or "—", prefecture=order.prefecture,
              landmark=order.landmark or "—")
        if order.delivery_mode == DeliveryMode.HOME
        else ctx.t("seller.order.pickup")
    )  # fmt: skip
    return ctx.t(
        "seller.order.card",
        number=order.number,
        status=ctx.t(f"status.{order.status.value}"),
        lines=lines,
        total_gnf=order.total,
        where=where,
        payment=ctx.t(f"seller.payment.{order.payment_method.value}"),
    )[:3500]


def order_actions(ctx: Context, order: Order) -> tuple[Choice, ...]:
    if order.status == OrderStatus.PLACED:
        return (
            Choice(f"o:a:{order.id}", ctx.t("seller.order.accept")),
            Choice(f"o:r:{order.id}", ctx.t("seller.order.refuse")),
        )
    if order.status == OrderStatus.ACCEPTED and order.delivery_mode == DeliveryMode.HOME:
        return _delivery_choices(ctx, order.id)
    if _seller_hands_over(order):
        return (_pin_choice(ctx, order.id),)
    return ()


def _seller_hands_over(order: Order) -> bool:
    """The seller meets the buyer: a pickup at the shop, or a delivery they ride themselves."""
    if order.delivery_mode == DeliveryMode.PICKUP:
        return order.status == OrderStatus.ACCEPTED
    session = object_session(order)
    shop = session.get(Shop, order.shop_id) if session is not None else None
    owner = shop.owner_id if shop is not None else None
    return (
        order.courier_id is not None
        and order.courier_id == owner
        and order.status
        in (
            OrderStatus.COURIER_ASSIGNED,
            OrderStatus.PICKED_UP,
        )
    )


def _pin_choice(ctx: Context, order_id: int) -> Choice:
    return Choice(f"d:c:{order_id}", ctx.t("seller.pin.button"))


def _delivery_choices(ctx: Context, order_id: int) -> tuple[Choice, ...]:
    return (
        Choice(f"d:m:{order_id}", ctx.t("seller.delivery.myself")),
        Choice(f"d:k:{order_id}", ctx.t("seller.delivery.known")),
        Choice(f"d:p:{order_id}", ctx.t("seller.delivery.publish")),
    )


def _order_reply(ctx: Context, order: Order, text: str = "") -> Reply:
    body = (text + "\n\n" if text else "") + order_text(ctx, order)
    actions = order_actions(ctx, order)
    return Choices(text=body, choices=actions) if actions else Text(body)


def order_view(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, _id(msg))
    return S.MENU, [_order_reply(ctx, order)]


def order_accept(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.accept_order(ctx.session, seller_id=ctx.user.id, order_id=_id(msg))
    if order.delivery_mode == DeliveryMode.PICKUP:
        return S.MENU, [
            Choices(
                text=ctx.t("seller.order.accepted_pickup", number=order.number),
                choices=(_pin_choice(ctx, order.id),),
            )
        ]
    return S.MENU, [
        Choices(
            text=ctx.t("seller.order.accepted", number=order.number),
            choices=_delivery_choices(ctx, order.id),
        )
    ]


def order_refuse(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, _id(msg))
    if order.status != OrderStatus.PLACED:
        return S.MENU, [Text(ctx.t("error.illegal_transition"))]
    ctx.data["refuse"] = order.id
    return S.REFUSE_REASON, [Text(ctx.t("seller.order.reason", number=order.number))]


def refuse_reason(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("refuse")
    if not isinstance(order_id, int):
        return _lost(ctx)
    order = orders.refuse_order(
        ctx.session, seller_id=ctx.user.id, order_id=order_id, reason=msg.text.strip()[:500]
    )
    ctx.data.pop("refuse", None)
    return S.MENU, [Text(ctx.t("seller.order.refused", number=order.number)), main_menu(ctx)]


def deliver_myself(msg: InboundMessage, ctx: Context) -> Result:
    job = delivery.assign_courier(ctx.session, seller_id=ctx.user.id, order_id=_id(msg))
    return S.MENU, [
        Choices(
            text=ctx.t("seller.delivery.myself_done", number=job.order_id),
            choices=(_pin_choice(ctx, job.order_id),),
        )
    ]


def pin_ask(msg: InboundMessage, ctx: Context) -> Result:
    """d:c:<order>: the seller is with the buyer (at the door or in the shop) and types the PIN."""
    order = orders.seller_order(ctx.session, ctx.user.id, _id(msg))
    if not _seller_hands_over(order):
        return S.MENU, [Text(ctx.t("seller.pin.not_now", number=order.number))]
    ctx.data["pin"] = order.id
    return S.PIN, [Text(ctx.t("seller.pin.ask", number=order.number))]


def pin_typed(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("pin")
    if not isinstance(order_id, int):
        return _lost(ctx)
    pin = "".join(msg.text.split())
    if not pin.isdigit():
        return S.PIN, [Text(ctx.t("seller.pin.digits"))]
    order = orders.seller_order(ctx.session, ctx.user.id, order_id)
    if not _seller_hands_over(order):
        ctx.data.pop("pin", None)
        return S.MENU, [Text(ctx.t("seller.pin.not_now", number=order.number))]
    if order.status == OrderStatus.COURIER_ASSIGNED:
        # Riding it personally: the parcel left the shop with the seller.
        job = delivery.job_for_order_number(ctx.session, user_id=ctx.user.id, order_id=order.id)
        delivery.mark_picked_up(ctx.session, user_id=ctx.user.id, job_id=job.id)
    try:
        proof = delivery.prove_with_pin(
            ctx.session, user_id=ctx.user.id, order_id=order.id, pin=pin
        )
    except WrongPin as exc:
        left = exc.params.get("attempts_left", 0)
        return S.PIN, [Text(ctx.t("seller.pin.wrong", attempts_left=left))]
    except CodeLocked:
        ctx.data.pop("pin", None)
        return S.MENU, [Text(ctx.t("error.code_locked"))]
    ctx.data.pop("pin", None)
    key = "seller.pin.delivered" if proof.delivered else "seller.pin.ok"
    return S.MENU, [Text(ctx.t(key, number=order.number))]


def deliver_known(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, _id(msg))
    if order.status != OrderStatus.ACCEPTED:
        return S.MENU, [Text(ctx.t("error.illegal_transition"))]
    ctx.data["assign"] = order.id
    return S.COURIER_PHONE, [Text(ctx.t("seller.delivery.phone"))]


def courier_phone(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("assign")
    if not isinstance(order_id, int):
        return _lost(ctx)
    try:
        courier = backoffice.user_by_phone(ctx.session, msg.text)
    except InvalidPhone:
        return S.COURIER_PHONE, [Text(ctx.t("error.invalid_phone"))]
    if courier is None or not courier.has_role(Role.COURIER):
        return S.COURIER_PHONE, [Text(ctx.t("seller.delivery.no_courier"))]
    try:
        delivery.assign_courier(
            ctx.session, seller_id=ctx.user.id, order_id=order_id, courier_user_id=courier.id
        )
    except NotFound:
        return S.COURIER_PHONE, [Text(ctx.t("seller.delivery.no_courier"))]
    ctx.data.pop("assign", None)
    return S.MENU, [
        Text(ctx.t("seller.delivery.assigned", number=order_id, name=courier.name or "—"))
    ]


def _bonus_choices(ctx: Context, order_id: int) -> tuple[Choice, ...]:
    return tuple(
        Choice(
            f"d:b:{order_id}:{b}",
            ctx.t("seller.delivery.bonus_none")
            if b == 0
            else ctx.t("seller.delivery.bonus", bonus_gnf=b),
        )
        for b in BONUS_STEPS
    )


def deliver_publish(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, _id(msg))
    if order.status != OrderStatus.ACCEPTED or order.delivery_mode != DeliveryMode.HOME:
        return S.MENU, [Text(ctx.t("error.illegal_transition"))]
    dest = orders.Destination(
        region=order.region, prefecture=order.prefecture, quartier=order.quartier,
        lat=order.lat, lng=order.lng,
    )  # fmt: skip
    shop = ctx.session.get(Shop, order.shop_id)
    assert shop is not None
    km, commission = orders.delivery_quote(shop, dest)
    ctx.data["publish"] = order.id
    return S.BONUS, [
        Choices(
            text=ctx.t("seller.delivery.quote", km=f"{km:.1f}", commission_gnf=commission),
            choices=_bonus_choices(ctx, order.id),
        )
    ]


def _publish(ctx: Context, order_id: int, bonus: int) -> Result:
    job = delivery.publish_job(ctx.session, seller_id=ctx.user.id, order_id=order_id, bonus=bonus)
    ctx.data.pop("publish", None)
    return S.MENU, [
        Text(ctx.t("seller.delivery.published", number=order_id, commission_gnf=job.commission))
    ]


def publish_bonus(msg: InboundMessage, ctx: Context) -> Result:
    parts = msg.payload.split(":")
    if len(parts) != 4 or not parts[3].isdecimal() or len(parts[3]) > 9:
        raise InvalidInput("bad button", payload=msg.payload[:64])
    return _publish(ctx, _id(msg, 2), int(parts[3]))


def raise_bonus(msg: InboundMessage, ctx: Context) -> Result:
    """The "raise the bonus" buttons sent after the last offer wave: bonus:<job>:<total bonus>."""
    parts = msg.payload.split(":")
    if len(parts) != 3 or not all(p.isdecimal() and len(p) <= 9 for p in parts[1:]):
        raise InvalidInput("bad button", payload=msg.payload[:64])
    job = delivery.raise_bonus(
        ctx.session, seller_id=ctx.user.id, job_id=int(parts[1]), bonus=int(parts[2])
    )
    return S.MENU, [
        Text(
            ctx.t(
                "seller.delivery.bonus_raised", number=job.order_id, commission_gnf=job.commission
            )
        )
    ]


def bonus_text(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("publish")
    if not isinstance(order_id, int):
        return _lost(ctx)
    bonus = 0 if _skipped(msg.text) else _amount(msg.text)
    if bonus is None or bonus > delivery.MAX_BONUS:
        return S.BONUS, [
            Choices(
                text=ctx.t("seller.delivery.bonus_invalid"), choices=_bonus_choices(ctx, order_id)
            )
        ]
    return _publish(ctx, order_id, bonus)


def _order_row(ctx: Context, order: Order) -> str:
    status = ctx.t(f"status.{order.status.value}")
    return ctx.t("seller.orders.row", number=order.number, status=status, total_gnf=order.total)


def orders_list(msg: InboundMessage, ctx: Context) -> Result:
    refused = _need_shop(ctx)
    if refused:
        return refused
    open_orders = orders.orders_of_seller(
        ctx.session, seller_id=ctx.user.id, statuses=OPEN_STATUSES
    )
    if not open_orders:
        return S.MENU, [Text(ctx.t("seller.orders.none")), main_menu(ctx)]
    counts = {s: sum(1 for o in open_orders if o.status == s) for s in OPEN_STATUSES}
    summary = "\n".join(
        ctx.t("seller.orders.count", status=ctx.t(f"status.{s.value}"), n=n)
        for s, n in counts.items()
        if n
    )
    rank = {s: i for i, s in enumerate(OPEN_STATUSES)}
    shown = sorted(open_orders, key=lambda o: (rank[o.status], o.id))[:10]
    choices = tuple(Choice(f"o:v:{o.id}", _label(_order_row(ctx, o))) for o in shown)
    text = ctx.t("seller.orders.header", summary=summary, shown=len(shown), total=len(open_orders))
    return S.MENU, [Choices(text=text, choices=choices)]


# --- returns and reviews ----------------------------------------------------------------------


def return_approve(msg: InboundMessage, ctx: Context) -> Result:
    ret = returns.approve_return(ctx.session, seller_id=ctx.user.id, return_id=_id(msg))
    return S.MENU, [Text(ctx.t("seller.return.approved", id=ret.id, number=ret.order_id))]


def return_refuse(msg: InboundMessage, ctx: Context) -> Result:
    ret, _order = backoffice.seller_return(ctx.session, seller_id=ctx.user.id, return_id=_id(msg))
    ctx.data["return"] = ret.id
    return S.RETURN_REASON, [Text(ctx.t("seller.return.reason", id=ret.id))]


def return_reason(msg: InboundMessage, ctx: Context) -> Result:
    return_id = ctx.data.get("return")
    if not isinstance(return_id, int):
        return _lost(ctx)
    ret = returns.refuse_return(
        ctx.session, seller_id=ctx.user.id, return_id=return_id, reason=msg.text.strip()[:500]
    )
    ctx.data.pop("return", None)
    return S.MENU, [Text(ctx.t("seller.return.refused", id=ret.id))]


def review_reply_ask(msg: InboundMessage, ctx: Context) -> Result:
    review, product = backoffice.seller_review(
        ctx.session, seller_id=ctx.user.id, review_id=_id(msg)
    )
    ctx.data["review"] = review.id
    return S.REVIEW_REPLY, [
        Text(
            ctx.t(
                "seller.review.ask",
                product=product.name,
                rating=review.rating,
                comment=review.comment or "—",
            )[:3500]
        )
    ]


def review_reply(msg: InboundMessage, ctx: Context) -> Result:
    review_id = ctx.data.get("review")
    if not isinstance(review_id, int):
        return _lost(ctx)
    reviews.reply_to_review(
        ctx.session, seller_id=ctx.user.id, review_id=review_id, text=msg.text.strip()
    )
    ctx.data.pop("review", None)
    return S.MENU, [Text(ctx.t("seller.review.sent"))]


# --- stats, help, refusals, unknown -----------------------------------------------------------


def stats(msg: InboundMessage, ctx: Context) -> Result:
    """The figures at once; the PNG chart follows from a worker job after this turn commits.

    Why split: the figures are a few indexed queries over one shop's last year (milliseconds),
    while drawing takes seconds of matplotlib, which must not hold a webhook thread and its
    database connection (`workers.seller_charts`). While a chart is pending, /stats says so and
    queues nothing: a seller tapping twice gets one chart, not a pile.
    """
    refused = _need_shop(ctx)
    if refused:
        return refused
    now_ms = int(clock.now().timestamp() * 1000)
    if chart_pending(ctx.data.get(CHART_PENDING_KEY), now_ms):
        return S.MENU, [Text(ctx.t("seller.stats.pending"))]
    figures = seller_stats(ctx.session, seller_id=ctx.user.id)
    ctx.data[CHART_PENDING_KEY] = now_ms
    events.record(ctx.session, "stats_requested", ctx.user.id, ctx.conv.id, now_ms)
    text = stats_text(figures, ctx.lang) + "\n\n" + ctx.t("seller.stats.preparing")
    return S.MENU, [Text(text)]


def show_help(msg: InboundMessage, ctx: Context) -> Result:
    return S.MENU, [Text(ctx.t("seller.help"))]


def cancel(msg: InboundMessage, ctx: Context) -> Result:
    _reset(ctx)
    if _shop(ctx) is None:
        return S.WELCOME, [Text(ctx.t("seller.cancelled")), _welcome(ctx)]
    return S.MENU, [Text(ctx.t("seller.cancelled")), main_menu(ctx)]


def admin_only(msg: InboundMessage, ctx: Context) -> Result:
    """An admin command from someone who is not an admin: a polite no, nothing happens."""
    return ctx.conv.state or S.MENU, [Text(ctx.t("seller.admin_only"))]


def unknown(msg: InboundMessage, ctx: Context) -> Result:
    state = ctx.conv.state or S.MENU
    if state not in (S.MENU, S.WELCOME):  # mid-dialogue: say what is awaited, keep the answers
        return state, [Text(ctx.t("seller.unknown_step"))]
    if _shop(ctx) is None:
        return S.WELCOME, [Text(ctx.t("seller.unknown")), _welcome(ctx)]
    return S.MENU, [Text(ctx.t("seller.unknown")), main_menu(ctx)]
