"""A buyer's favourites: "♥ Favori" on a card, FAVORIS (FAVOURITES) to list them, and removal.

Every id comes back from a button the buyer may have kept for days (or typed by hand): the core
checks again that the product is for sale (to add one) and that the favourite is hers (to remove
one). Tapping a listed favourite opens its card through the usual "prod:" route.
"""

from __future__ import annotations

from bot.buyer.common import BUTTON_MAX, LABEL_MAX, arg, choices, cut, to_menu
from bot.buyer.handlers import compact_price
from bot.buyer.rows import row_labels
from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import Choice, InboundMessage, Text
from commerce.catalog import favourites
from commerce.catalog.actions import get_visible_product
from commerce.catalog.models import Product
from commerce.errors import AlreadyExists, InvalidInput, NotFound

PAGE = 7  # 7 favourites + "Plus" + "Retirer un favori" + "Menu" = WhatsApp's 10 rows


def show_favourites(msg: InboundMessage, ctx: Context, offset: int = 0) -> Result:
    rows_, total = favourites.favourites_of(
        ctx.session, user_id=ctx.user.id, offset=offset, limit=PAGE
    )
    if not rows_:
        return to_menu(ctx, "buyer.fav.none" if not offset else "buyer.list.end")
    shown = len(rows_) + int(offset + PAGE < total) + 2
    labels = row_labels(
        [r.product.name for r in rows_],
        tags=[compact_price(r.price, ctx.lang) for r in rows_],
        brands=[r.product.brand for r in rows_],
        limit=BUTTON_MAX if shown <= 3 else LABEL_MAX,
    )
    options = [
        Choice(
            f"prod:{r.product.id}",
            label,
            description=(
                ctx.t("buyer.fav.row", price_gnf=r.price, shop=r.product.shop.name)
                if r.available
                else ctx.t("buyer.fav.row_gone")
            ),
        )
        for r, label in zip(rows_, labels, strict=True)
    ]
    if offset + PAGE < total:
        options.append(
            Choice(
                f"fav:list:{offset + PAGE}", ctx.t("buyer.fav.more"), ctx.t("buyer.fav.more_row")
            )
        )
    options.append(
        Choice(f"fav:rm:{offset}", ctx.t("buyer.fav.remove"), ctx.t("buyer.fav.remove_row"))
    )
    options.append(Choice("menu:main", ctx.t("buyer.fav.menu"), ctx.t("buyer.fav.menu_row")))
    text = ctx.t("buyer.fav.header", shown=offset + len(rows_), total=total)
    return BuyerState.BROWSE, [choices(text, options, button=ctx.t("buyer.fav.button"))]


def favourites_page(msg: InboundMessage, ctx: Context) -> Result:
    return show_favourites(msg, ctx, offset=min(arg(msg, 2) or 0, 10_000))


def remove_pick(msg: InboundMessage, ctx: Context) -> Result:
    """ "Retirer un favori": the same page of favourites, each a tap that removes it."""
    offset = min(arg(msg, 2) or 0, 10_000)
    rows_, _total = favourites.favourites_of(
        ctx.session, user_id=ctx.user.id, offset=offset, limit=PAGE
    )
    if not rows_:
        return to_menu(ctx, "buyer.fav.none")
    options = [Choice(f"fav:del:{r.product.id}", r.product.name) for r in rows_]
    options.append(Choice("fav:list:0", ctx.t("buyer.fav.button")))
    return BuyerState.BROWSE, [choices(ctx.t("buyer.fav.remove_pick"), options)]


def add_favourite(msg: InboundMessage, ctx: Context) -> Result:
    """ "♥ Favori" on a card: only a product still for sale; twice is said kindly."""
    try:
        product = get_visible_product(ctx.session, arg(msg, 2) or 0)
    except NotFound:
        return to_menu(ctx, "buyer.product.gone")
    try:
        favourites.add_favourite(ctx.session, user_id=ctx.user.id, product_id=product.id)
    except NotFound:
        return to_menu(ctx, "buyer.product.gone")
    except AlreadyExists:
        return to_menu(ctx, "buyer.fav.already", name=product.name)
    except InvalidInput:
        return to_menu(ctx, "buyer.fav.too_many", max=favourites.MAX_FAVOURITES)
    ctx.data["product"] = product.id
    return to_menu(ctx, "buyer.fav.added", name=product.name)


def remove_favourite(msg: InboundMessage, ctx: Context) -> Result:
    """Remove one of hers (from the card or the list), then her list again."""
    product_id = arg(msg, 2) or 0
    try:
        favourites.remove_favourite(ctx.session, user_id=ctx.user.id, product_id=product_id)
    except NotFound:
        return to_menu(ctx, "buyer.fav.not_there")
    product = ctx.session.get(Product, product_id)
    name = product.name if product is not None else ""
    state, replies = show_favourites(msg, ctx)
    if state == BuyerState.MENU:  # none left: the "no favourites" sentence says it all
        return BuyerState.MENU, [Text(ctx.t("buyer.fav.removed", name=cut(name, 60))), *replies[1:]]
    return state, [Text(ctx.t("buyer.fav.removed", name=cut(name, 60))), *replies]
