"""Guided product creation: one to five photos ("Envoyez une autre photo (2/5) ou Terminé"),
name, description, category, brand, colour, price, stock, then a preview to confirm (the product
goes to moderation; the core enforces the five-photo limit).
"""

from __future__ import annotations

from typing import Any

from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, Image, InboundMessage, Text
from bot.seller.common import (
    LIMITS,
    amount,
    categories_menu,
    copied,
    label,
    lost,
    main_menu,
    need_shop,
    reset,
    skipped,
)
from bot.seller.states import SellerState as S
from commerce import backoffice
from commerce.catalog import actions as catalog
from commerce.text import fold


def new_product(msg: InboundMessage, ctx: Context) -> Result:
    refused = need_shop(ctx)
    if refused:
        return refused
    reset(ctx)
    ctx.data["new"] = {}
    return S.NEW_PHOTO, [Text(ctx.t("seller.new.photo"))]


def _draft(ctx: Context) -> dict[str, Any] | None:
    return copied(ctx, "new")


def new_photo(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    file_id = msg.media[0].file_id if msg.media else ""
    if draft is None:
        return lost(ctx)
    if not file_id or len(file_id) > 200:
        return S.NEW_PHOTO, [Text(ctx.t("seller.new.photo_again"))]
    photos = [*_photos(draft), file_id][: catalog.MAX_PHOTOS]
    draft["photos"] = photos
    draft.pop("photo", None)
    if len(photos) >= catalog.MAX_PHOTOS:
        full = ctx.t("seller.new.photos_full", max=catalog.MAX_PHOTOS)
        return S.NEW_NAME, [Text(f"{full}\n{ctx.t('seller.new.name')}")]
    return S.NEW_PHOTO, [_more_photos(ctx, len(photos))]


def _photos(draft: dict[str, Any]) -> list[str]:
    """The draft's Telegram file ids (a draft begun before several photos kept one "photo")."""
    photos = draft.get("photos")
    if isinstance(photos, list):
        return [p for p in photos if isinstance(p, str)]
    return [draft["photo"]] if isinstance(draft.get("photo"), str) else []


def _more_photos(ctx: Context, n: int) -> Choices:
    return Choices(
        text=ctx.t("seller.new.photo_more", n=n, next=n + 1, max=catalog.MAX_PHOTOS),
        choices=(Choice("nph:done", ctx.t("seller.new.photos_done")),),
    )


def photos_done(msg: InboundMessage, ctx: Context) -> Result:
    """ "Terminé" after one photo or more: on to the name."""
    draft = _draft(ctx)
    if draft is None or not _photos(draft):
        return lost(ctx)
    return S.NEW_NAME, [Text(ctx.t("seller.new.name"))]


def photo_expected(msg: InboundMessage, ctx: Context) -> Result:
    """Words where a photo is awaited: "terminé" ends the photos once there is one."""
    draft = _draft(ctx)
    n = len(_photos(draft)) if draft is not None else 0
    if n and fold(msg.text).strip() in DONE_WORDS:
        return photos_done(msg, ctx)
    if n:
        return S.NEW_PHOTO, [Text(ctx.t("seller.new.photo_more_again")), _more_photos(ctx, n)]
    return S.NEW_PHOTO, [Text(ctx.t("seller.new.photo_again"))]


DONE_WORDS = frozenset({"termine", "fini", "fin", "ok", "done", "finished", "c'est tout", "-"})


def _text_step(msg: InboundMessage, ctx: Context, field: str, here: S) -> Result | None:
    """Store a typed answer in the draft; a refusal to answer again, or None when stored."""
    draft = _draft(ctx)
    if draft is None:
        return lost(ctx)
    optional = field != "name"
    value = "" if optional and skipped(msg.text) else msg.text.strip()
    if (not optional and not value) or len(value) > LIMITS[field]:
        return here, [Text(ctx.t("seller.new.too_long", max=LIMITS[field]))]
    draft[field] = value
    return None


def new_name(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "name", S.NEW_NAME)
    return refused or (S.NEW_DESCRIPTION, [Text(ctx.t("seller.new.description"))])


def new_description(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "description", S.NEW_DESCRIPTION)
    return refused or (S.NEW_CATEGORY, [categories_menu(ctx, "nc:")])


def new_category(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    if draft is None:
        return lost(ctx)
    if "name" not in draft:
        # A category button from an earlier product's dialogue, tapped while this one still
        # waits for photos or a name: the step she is at is asked again; nothing is skipped.
        if ctx.conv.state == S.NEW_PHOTO:
            return photo_expected(msg, ctx)
        return S.NEW_NAME, [Text(ctx.t("seller.new.name"))]
    category_id = payload_id(msg)
    if all(c.id != category_id for c in backoffice.categories(ctx.session)):
        return S.NEW_CATEGORY, [categories_menu(ctx, "nc:")]
    draft["category_id"] = category_id
    return S.NEW_BRAND, [Text(ctx.t("seller.new.brand"))]


def category_expected(msg: InboundMessage, ctx: Context) -> Result:
    return S.NEW_CATEGORY, [categories_menu(ctx, "nc:")]


def new_brand(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "brand", S.NEW_BRAND)
    return refused or (S.NEW_COLOUR, [Text(ctx.t("seller.new.colour"))])


def new_colour(msg: InboundMessage, ctx: Context) -> Result:
    refused = _text_step(msg, ctx, "colour", S.NEW_COLOUR)
    return refused or (S.NEW_PRICE, [Text(ctx.t("seller.new.price"))])


def new_price(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    if draft is None:
        return lost(ctx)
    price = amount(msg.text)
    if price is None or not 0 < price <= catalog.MAX_PRICE:
        return S.NEW_PRICE, [Text(ctx.t("seller.new.price_invalid"))]
    draft["price"] = price
    return S.NEW_STOCK, [Text(ctx.t("seller.new.stock"))]


def new_stock(msg: InboundMessage, ctx: Context) -> Result:
    draft = _draft(ctx)
    if draft is None or "price" not in draft or "name" not in draft:
        return lost(ctx)
    stock = amount(msg.text)
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
    photos = _photos(draft)
    if not photos:
        return lost(ctx)
    return S.NEW_CONFIRM, [
        Image(
            media_path=f"telegram:{photos[0]}",
            caption=label(f"{draft['name']} (1/{len(photos)})", 1000),
        ),
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
    needed = ("name", "category_id", "price", "stock")
    if draft is None or any(k not in draft for k in needed) or not _photos(draft):
        return lost(ctx)
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
        photo_paths=[f"telegram:{p}" for p in _photos(draft)],
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
