"""Buyer handlers: greeting, menu, catalogue, search, product card, cart and orders views.

Each handler calls the commerce core and answers with channel-neutral replies; wording comes
from the catalogs (bot/locales).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import Choice, Choices, Image, InboundMessage, Text
from commerce.cart import actions as cart
from commerce.catalog.actions import effective_price, get_visible_product
from commerce.catalog.models import Category, Product
from commerce.catalog.search import search_products
from commerce.errors import NotFound
from commerce.orders.actions import orders_of_buyer
from commerce.reviews.actions import product_rating
from commerce.text import fold
from commerce.users import actions as users

PAGE = 8
LABEL_MAX = 24  # WhatsApp list rows; buttons are cut to 20 by the renderer


def _label(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def main_menu(ctx: Context, *, greeting: str = "") -> Choices:
    text = greeting or ctx.t("buyer.menu.title")
    return Choices(
        text=text,
        choices=(
            Choice("menu:catalog", ctx.t("buyer.menu.catalog")),
            Choice("menu:search", ctx.t("buyer.menu.search")),
            Choice("menu:cart", ctx.t("buyer.menu.cart")),
            Choice("menu:orders", ctx.t("buyer.menu.orders")),
            Choice("menu:help", ctx.t("buyer.menu.help")),
        ),
        button=ctx.t("buyer.menu.button"),
    )


def greet(msg: InboundMessage, ctx: Context) -> Result:
    name = (ctx.user.name or "").split(" ")[0]
    hello = ctx.t("buyer.greeting.named", name=name) if name else ctx.t("buyer.greeting.anonymous")
    return BuyerState.MENU, [main_menu(ctx, greeting=f"{hello}\n{ctx.t('buyer.greeting.lang')}")]


def show_menu(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.MENU, [main_menu(ctx)]


def switch_language(msg: InboundMessage, ctx: Context) -> Result:
    text = fold(msg.payload.removeprefix("lang:") if msg.payload else msg.text)
    lang = "en" if text.startswith("en") else "fr"
    users.set_language(ctx.session, user_id=ctx.user.id, language=lang)
    return BuyerState.MENU, [main_menu(ctx, greeting=ctx.t("buyer.language_set"))]


def show_help(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.MENU, [Text(ctx.t("engine.help")), main_menu(ctx)]


def show_categories(msg: InboundMessage, ctx: Context) -> Result:
    cats = ctx.session.scalars(select(Category).order_by(Category.position, Category.id)).all()
    if not cats:
        return BuyerState.MENU, [Text(ctx.t("buyer.catalog.empty")), main_menu(ctx)]
    name = "name_en" if ctx.lang == "en" else "name_fr"
    return BuyerState.BROWSE, [
        Choices(
            text=ctx.t("buyer.catalog.pick"),
            choices=tuple(Choice(f"cat:{c.id}", _label(getattr(c, name))) for c in cats[:10]),
            button=ctx.t("buyer.catalog.button"),
        )
    ]


def _product_list(ctx: Context, *, query: str = "", category_id: int | None, offset: int) -> Result:
    page = search_products(
        ctx.session, query=query, category_id=category_id, limit=PAGE, offset=offset
    )
    if not page.products:
        key = "buyer.search.none" if query else "buyer.catalog.none"
        return BuyerState.MENU, [Text(ctx.t(key, query=query)), main_menu(ctx)]
    choices = [
        Choice(
            f"prod:{p.id}",
            _label(p.name),
            description=ctx.t("buyer.product.row", price_gnf=effective_price(p)),
        )
        for p in page.products
    ]
    if page.has_more:
        ctx.data["more"] = {"q": query, "cat": category_id, "offset": offset + PAGE}
        choices.append(Choice("more", ctx.t("buyer.list.more")))
    else:
        ctx.data.pop("more", None)
    header = ctx.t("buyer.list.header", shown=offset + len(page.products), total=page.total)
    return BuyerState.BROWSE, [
        Choices(text=header, choices=tuple(choices[:10]), button=ctx.t("buyer.list.button"))
    ]


def pick_category(msg: InboundMessage, ctx: Context) -> Result:
    category_id = int(msg.payload.split(":", 1)[1])
    return _product_list(ctx, category_id=category_id, offset=0)


def more(msg: InboundMessage, ctx: Context) -> Result:
    state = ctx.data.get("more")
    if not state:
        return show_menu(msg, ctx)
    return _product_list(ctx, query=state["q"], category_id=state["cat"], offset=state["offset"])


def ask_search(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.SEARCH, [Text(ctx.t("buyer.search.ask"))]


def search(msg: InboundMessage, ctx: Context) -> Result:
    query = msg.text.strip()[:200]
    if not fold(query):
        return BuyerState.MENU, [Text(ctx.t("engine.unknown")), main_menu(ctx)]
    return _product_list(ctx, query=query, category_id=None, offset=0)


def show_product(msg: InboundMessage, ctx: Context) -> Result:
    product_id = int(msg.payload.split(":", 1)[1])
    try:
        product = get_visible_product(ctx.session, product_id)
    except NotFound:
        return BuyerState.MENU, [Text(ctx.t("error.not_found")), main_menu(ctx)]
    return BuyerState.PRODUCT, product_card(ctx, product)


def product_card(ctx: Context, product: Product) -> list:  # type: ignore[type-arg]
    avg, count = product_rating(ctx.session, product.id)
    rating = (
        ctx.t("buyer.product.rating", avg=f"{avg:.1f}", count=count)
        if count
        else ctx.t("buyer.product.no_rating")
    )
    if product.stock <= 0:
        stock = ctx.t("buyer.product.out_of_stock")
    elif product.stock <= product.low_stock_threshold:
        stock = ctx.t("buyer.product.few_left", n=product.stock)
    else:
        stock = ctx.t("buyer.product.in_stock")
    card = ctx.t(
        "buyer.product.card",
        name=product.name,
        price_gnf=effective_price(product),
        shop=product.shop.name,
        rating=rating,
        stock=stock,
    )
    replies: list = []  # type: ignore[type-arg]
    if product.photos:
        replies.append(Image(media_path=product.photos[0].path, caption=product.name))
    choices = [Choice("menu:catalog", ctx.t("buyer.product.back"))]
    if product.stock > 0:
        choices.insert(0, Choice(f"add:{product.id}", ctx.t("buyer.product.add")))
    replies.append(Choices(text=card, choices=tuple(choices)))
    return replies


def add_to_cart(msg: InboundMessage, ctx: Context) -> Result:
    product_id = int(msg.payload.split(":", 1)[1])
    summary_cart = cart.add_to_cart(ctx.session, user_id=ctx.user.id, product_id=product_id)
    count = sum(i.quantity for i in summary_cart.items)
    return BuyerState.MENU, [
        Text(ctx.t("buyer.cart.added", count=count)),
        main_menu(ctx),
    ]


def show_cart(msg: InboundMessage, ctx: Context) -> Result:
    summary = cart.cart_summary(ctx.session, user_id=ctx.user.id)
    if not summary.lines:
        return BuyerState.MENU, [Text(ctx.t("buyer.cart.empty")), main_menu(ctx)]
    lines = [
        ctx.t("buyer.cart.line", qty=line.quantity, name=line.product.name, total_gnf=line.total)
        for line in summary.lines
    ]
    text = ctx.t(
        "buyer.cart.summary",
        lines="\n".join(lines),
        subtotal_gnf=summary.subtotal,
        discount_gnf=summary.discount,
        total_gnf=summary.total,
        points=ctx.user.loyalty_points,
    )
    return BuyerState.MENU, [Text(text), main_menu(ctx)]


def show_orders(msg: InboundMessage, ctx: Context) -> Result:
    orders = orders_of_buyer(ctx.session, buyer_id=ctx.user.id, limit=5)
    if not orders:
        return BuyerState.MENU, [Text(ctx.t("buyer.orders.none")), main_menu(ctx)]
    lines = [
        ctx.t(
            "buyer.orders.line",
            number=o.number,
            status=ctx.t(f"status.{o.status.value}"),
            total_gnf=o.total,
        )
        for o in orders
    ]
    return BuyerState.MENU, [Text("\n".join(lines)), main_menu(ctx)]


def unknown(msg: InboundMessage, ctx: Context) -> Result:
    """Anything else: a typed sentence is treated as a search; other input gets the menu."""
    if msg.text.strip() and fold(msg.text):
        return search(msg, ctx)
    return BuyerState.MENU, [Text(ctx.t("engine.unknown")), main_menu(ctx)]
