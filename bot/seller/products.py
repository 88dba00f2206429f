"""The seller's product list and what each product card offers: edit a field, pause or resume,
restock, delete. Every id comes back from a button and is checked again by the core.
"""

from __future__ import annotations

from typing import Any

from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, Image, InboundMessage, Reply, Text
from bot.seller.common import (
    LIMITS,
    amount,
    categories_menu,
    label,
    lost,
    main_menu,
    need_shop,
    skipped,
)
from bot.seller.states import SellerState as S
from commerce import backoffice
from commerce.catalog import actions as catalog
from commerce.catalog.models import Product
from commerce.errors import InvalidInput

PAGE = 8


EDITABLE = ("name", "description", "brand", "colour", "price", "category", "photos")


def _status(ctx: Context, product: Product) -> str:
    if product.is_paused:
        return ctx.t("seller.status.paused")
    return ctx.t(f"seller.status.{product.status.value}")


def products(msg: InboundMessage, ctx: Context, offset: int = 0) -> Result:
    refused = need_shop(ctx)
    if refused:
        return refused
    page, total = backoffice.seller_products(
        ctx.session, seller_id=ctx.user.id, offset=offset, limit=PAGE
    )
    if not page:
        return S.MENU, [Text(ctx.t("seller.products.none")), main_menu(ctx)]
    choices = [Choice(f"pr:{p.id}", label(f"{p.name} · {_status(ctx, p)}")) for p in page]
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
        replies.append(Image(media_path=product.photos[0].path, caption=label(product.name, 1000)))
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
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg)
    )
    return S.MENU, _product_card(ctx, product)


def edit_pick(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg)
    )
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
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg, 1)
    )
    if field == "category":
        return S.MENU, [categories_menu(ctx, f"pc:{product.id}:")]
    if field == "photos":
        return S.MENU, [_photos_menu(ctx, product)]
    ctx.data["edit"] = {"id": product.id, "field": field}
    return S.EDIT_VALUE, [Text(ctx.t("seller.edit.value", field=ctx.t(f"seller.field.{field}")))]


def edit_value(msg: InboundMessage, ctx: Context) -> Result:
    edit = ctx.data.get("edit")
    if not isinstance(edit, dict):
        return lost(ctx)
    field, value = edit["field"], msg.text.strip()
    change: Any = value
    if field == "price":
        change = amount(value)
        if change is None or not 0 < change <= catalog.MAX_PRICE:
            return S.EDIT_VALUE, [Text(ctx.t("seller.new.price_invalid"))]
    elif len(value) > LIMITS[field] or (field == "name" and not value):
        return S.EDIT_VALUE, [Text(ctx.t("seller.new.too_long", max=LIMITS[field]))]
    elif skipped(value) and field != "name":
        change = ""
    product = catalog.update_product(
        ctx.session, seller_id=ctx.user.id, product_id=edit["id"], **{field: change}
    )
    ctx.data.pop("edit", None)
    return S.MENU, [Text(ctx.t("seller.edit.done", name=product.name)), main_menu(ctx)]


def _photos_menu(ctx: Context, product: Product) -> Choices:
    """Her product's photos: add one (below the limit), remove any one (one always stays)."""
    total = len(product.photos)
    rows = [
        Choice(f"phx:{product.id}:{p.id}", ctx.t("seller.edit.photo_remove", n=n))
        for n, p in enumerate(product.photos, 1)
        if total > 1
    ]
    if total < catalog.MAX_PHOTOS:
        rows.insert(0, Choice(f"pha:{product.id}", ctx.t("seller.edit.photo_add")))
    text = ctx.t(
        "seller.edit.photos", name=product.name, n=total, count=total, max=catalog.MAX_PHOTOS
    )
    return Choices(text=text, choices=tuple(rows))


def photo_add_ask(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg)
    )
    if len(product.photos) >= catalog.MAX_PHOTOS:
        full = ctx.t("seller.edit.photos_full", name=product.name, max=catalog.MAX_PHOTOS)
        return S.MENU, [Text(full), main_menu(ctx)]
    ctx.data["photo_edit"] = product.id
    return S.EDIT_PHOTO, [Text(ctx.t("seller.edit.photo_send", name=product.name))]


def photo_added(msg: InboundMessage, ctx: Context) -> Result:
    product_id = ctx.data.get("photo_edit")
    file_id = msg.media[0].file_id if msg.media else ""
    if not isinstance(product_id, int):
        return lost(ctx)
    if not file_id or len(file_id) > 200:
        return S.EDIT_PHOTO, [Text(ctx.t("seller.edit.photo_again"))]
    try:
        catalog.add_photo(
            ctx.session, seller_id=ctx.user.id, product_id=product_id, path=f"telegram:{file_id}"
        )
    except InvalidInput:
        ctx.data.pop("photo_edit", None)
        product = backoffice.seller_product(
            ctx.session, seller_id=ctx.user.id, product_id=product_id
        )
        full = ctx.t("seller.edit.photos_full", name=product.name, max=catalog.MAX_PHOTOS)
        return S.MENU, [Text(full), main_menu(ctx)]
    ctx.data.pop("photo_edit", None)
    product = backoffice.seller_product(ctx.session, seller_id=ctx.user.id, product_id=product_id)
    done = ctx.t(
        "seller.edit.photo_added",
        name=product.name,
        n=len(product.photos),
        max=catalog.MAX_PHOTOS,
    )
    return S.MENU, [Text(done), main_menu(ctx)]


def photo_expected(msg: InboundMessage, ctx: Context) -> Result:
    return S.EDIT_PHOTO, [Text(ctx.t("seller.edit.photo_again"))]


def photo_remove(msg: InboundMessage, ctx: Context) -> Result:
    try:
        product = catalog.remove_photo(
            ctx.session,
            seller_id=ctx.user.id,
            product_id=payload_id(msg, 1),
            photo_id=payload_id(msg, 2),
        )
    except InvalidInput:
        return S.MENU, [Text(ctx.t("seller.edit.photo_last")), main_menu(ctx)]
    return S.MENU, [Text(ctx.t("seller.edit.photo_removed", name=product.name)), main_menu(ctx)]


def edit_category(msg: InboundMessage, ctx: Context) -> Result:
    product = catalog.update_product(
        ctx.session,
        seller_id=ctx.user.id,
        product_id=payload_id(msg, 1),
        category_id=payload_id(msg, 2),
    )
    return S.MENU, [Text(ctx.t("seller.edit.done", name=product.name)), main_menu(ctx)]


def toggle_pause(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg)
    )
    product = catalog.set_paused(
        ctx.session, seller_id=ctx.user.id, product_id=product.id, paused=not product.is_paused
    )
    key = "seller.product.paused" if product.is_paused else "seller.product.resumed"
    return S.MENU, [Text(ctx.t(key, name=product.name)), main_menu(ctx)]


def restock_ask(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg)
    )
    ctx.data["restock"] = product.id
    return S.RESTOCK, [Text(ctx.t("seller.restock.ask", name=product.name, stock=product.stock))]


def restock_value(msg: InboundMessage, ctx: Context) -> Result:
    product_id = ctx.data.get("restock")
    if not isinstance(product_id, int):
        return lost(ctx)
    add = amount(msg.text)
    if add is None or not 0 < add <= catalog.MAX_STOCK:
        return S.RESTOCK, [Text(ctx.t("seller.restock.invalid"))]
    product = catalog.restock(ctx.session, seller_id=ctx.user.id, product_id=product_id, add=add)
    ctx.data.pop("restock", None)
    return S.MENU, [
        Text(ctx.t("seller.restock.done", name=product.name, stock=product.stock)),
        main_menu(ctx),
    ]


def delete_ask(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg)
    )
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
    product = catalog.delete_product(ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg))
    return S.MENU, [Text(ctx.t("seller.delete.done", name=product.name)), main_menu(ctx)]
