"""Buyer handlers: greeting, menu, language, catalogue, search, product card, cart and promo.

Each handler calls the commerce core and answers with channel-neutral replies; wording comes
from the catalogs (bot/locales/*/buyer.toml). Checkout lives in checkout.py, and everything
after the order (status, cancel, cash, review, return, report) in orders.py.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from bot import i18n, language
from bot.buyer.cart import quantity_menu, show_cart
from bot.buyer.common import (
    BUTTON_MAX,
    LABEL_MAX,
    arg,
    choices,
    cut,
    is_sms,
    main_menu,
    to_menu,
)
from bot.buyer.detour import aside
from bot.buyer.filters import parse
from bot.buyer.rows import row_labels
from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import Choice, Image, InboundKind, InboundMessage, Reply, Text
from bot.numbers import number_of
from bot.support.handlers import ask as support_ask
from bot.support.handlers import looks_like_support_question
from commerce.cart import actions as cart
from commerce.cart.actions import MAX_QUANTITY
from commerce.catalog import favourites
from commerce.catalog.actions import effective_price, effective_prices, get_visible_product
from commerce.catalog.models import Product
from commerce.catalog.questions import ask_question
from commerce.catalog.search import search_products
from commerce.errors import (
    CommerceError,
    InvalidQuantity,
    NotFound,
    OutOfStock,
    ProductUnavailable,
)
from commerce.orders import queries
from commerce.reviews.actions import latest_comments, product_rating
from commerce.text import fold
from commerce.users import actions as users
from commerce.users.models import Channel

PAGE = 8  # products per list: 8 rows + "plus" + "menu" stay within WhatsApp's 10


# --- greeting, menu, language, help ---------------------------------------------------------


def greet(msg: InboundMessage, ctx: Context) -> Result:
    """First contact (or back after a flow change): hello by name, the menu.

    Someone whose first message already asks something ("telefone samsng", "où est ma
    commande 1042") gets the greeting and then the answer, not a menu to start over from.
    A new number's first message chooses the language (`_first_language`).
    """
    offer = _first_language(msg, ctx)
    name = (ctx.user.name or msg.profile_name or "").strip().split(" ")[0]
    hello = ctx.t("buyer.greeting.named", name=name) if name else ctx.t("buyer.greeting.anonymous")
    greeting = f"{hello}\n\n{offer}" if offer else hello
    if not _is_greeting(msg.text) or msg.kind != InboundKind.TEXT:
        from bot.buyer.flow import FLOW

        handler = FLOW.route(BuyerState.MENU, msg, ctx)
        tapped_unknown = msg.kind != InboundKind.TEXT and handler is FLOW.unknown
        if handler is not None and not tapped_unknown and handler not in (greet, hello, show_menu):
            state, replies = handler(msg, ctx)
            # An answer that keeps "the current state" (a support question) keeps the entry's
            # empty one: the menu is where she is, or the next message would greet her again.
            return state or BuyerState.MENU, [Text(greeting), *replies]
    rest = _after_greeting(msg.text)
    if rest:
        state, replies = search(dataclasses.replace(msg, text=rest), ctx)
        return state, [Text(greeting), *replies]
    return BuyerState.MENU, [main_menu(ctx, greeting=greeting)]


def _first_language(msg: InboundMessage, ctx: Context) -> str:
    """On a new number's first message only: written in English ("How long do I have to
    return something?"), the buyer is answered in English from this message on, with a line
    offering French; otherwise the greeting's last line offers English ("Reply EN for
    English."). People already known are greeted without either: their language is theirs,
    and one message never flips it."""
    if not ctx.first_contact:
        return ""
    if msg.kind == InboundKind.TEXT and ctx.lang != "en" and language.detect(msg.text) == "en":
        users.set_language(ctx.session, user_id=ctx.user.id, language="en")
        return ctx.t("buyer.greeting.kept_english")
    return ctx.t("buyer.greeting.lang")


def hello(msg: InboundMessage, ctx: Context) -> Result:
    """ "bonjour" → the menu; "bonjour je cherche un frigo" → the search for "frigo"."""
    rest = _after_greeting(msg.text)
    if rest:
        return search(dataclasses.replace(msg, text=rest), ctx)
    return show_menu(msg, ctx)


FILLER_WORDS = frozenset(
    {"je", "cherche", "voudrais", "veux", "besoin", "un", "une", "des", "d", "i", "want",
     "need", "looking", "for", "a", "am", "m", "s", "il", "vous", "plait", "svp", "please",
     "merci", "thanks", "avez", "do", "you", "have", "est", "ce", "que"}
)  # fmt: skip


def _after_greeting(text: str) -> str:
    words = fold(text).split()
    while words and words[0] in GREETINGS:
        words = words[1:]
    return " ".join(w for w in words if w not in FILLER_WORDS)


def search_words(msg: InboundMessage, ctx: Context) -> Result:
    """ "rechercher chaussures" → the search; "rechercher" alone asks what."""
    rest = " ".join(fold(msg.text).split()[1:])
    if not rest:
        return ask_search(msg, ctx)
    return search(dataclasses.replace(msg, text=rest), ctx)


GREETINGS = frozenset(
    {"bonjour", "bonsoir", "salut", "hello", "hi", "hey", "slt", "bjr", "cc", "coucou", "menu"}
)


def _is_greeting(text: str) -> bool:
    words = fold(text).split()
    return not words or words[0] in GREETINGS


def show_menu(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.MENU, [main_menu(ctx)]


def ask_language(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.LANGUAGE, [
        choices(
            ctx.t("buyer.language.ask"),
            [Choice("lang:fr", "Français"), Choice("lang:en", "English")],
        )
    ]


def switch_language(msg: InboundMessage, ctx: Context) -> Result:
    text = fold(msg.payload.removeprefix("lang:") if msg.payload else msg.text)
    lang = "en" if text.startswith(("en", "an")) else "fr"
    users.set_language(ctx.session, user_id=ctx.user.id, language=lang)
    greeting = ctx.t("buyer.language_set") + "\n" + ctx.t("buyer.menu.title")
    return BuyerState.MENU, [main_menu(ctx, greeting=greeting)]


def show_help(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.MENU, [Text(ctx.t("buyer.help")), main_menu(ctx)]


# --- catalogue and search -------------------------------------------------------------------


def show_categories(msg: InboundMessage, ctx: Context) -> Result:
    cats = queries.categories(ctx.session)
    if not cats:
        return to_menu(ctx, "buyer.catalog.empty")
    name = "name_en" if ctx.lang == "en" else "name_fr"
    rows = [Choice(f"cat:{c.id}", getattr(c, name)) for c in cats[:9]]
    rows.append(Choice("menu:search", ctx.t("buyer.menu.search")))
    return BuyerState.BROWSE, [
        choices(ctx.t("buyer.catalog.pick"), rows, button=ctx.t("buyer.catalog.button"))
    ]


def _product_list(ctx: Context, spec: dict[str, object], offset: int) -> Result:
    """One page of products for a search or category (`spec` is kept for "plus")."""
    page = search_products(
        ctx.session,
        query=str(spec.get("q") or ""),
        category_id=spec.get("cat"),  # type: ignore[arg-type]
        min_price=spec.get("min"),  # type: ignore[arg-type]
        max_price=spec.get("max"),  # type: ignore[arg-type]
        colour=spec.get("col"),  # type: ignore[arg-type]
        limit=PAGE,
        offset=offset,
    )
    if not page.products:
        if offset:
            return to_menu(ctx, "buyer.list.end")
        if spec.get("said"):
            return BuyerState.SEARCH, [
                Text(ctx.t("buyer.search.none", query=spec["said"])),
                main_menu(ctx),
            ]
        return to_menu(ctx, "buyer.catalog.none")
    prices = effective_prices(ctx.session, page.products)  # one query, not one per row
    # Three rows or fewer go as buttons (20 characters), more as a list (24): bot.buyer.rows.
    shown = len(page.products) + int(page.has_more) + 1
    labels = row_labels(
        [p.name for p in page.products],
        tags=[compact_price(prices[p.id], ctx.lang) for p in page.products],
        brands=[p.brand for p in page.products],
        limit=BUTTON_MAX if shown <= 3 else LABEL_MAX,
    )
    rows = [
        Choice(
            f"prod:{p.id}",
            label,
            description=ctx.t("buyer.list.row", price_gnf=prices[p.id], shop=p.shop.name),
        )
        for p, label in zip(page.products, labels, strict=True)
    ]
    # Every row described, so a Twilio list picker goes out with its descriptions.
    if page.has_more:
        ctx.data["more"] = {**spec, "offset": offset + PAGE}
        rows.append(Choice("more", ctx.t("buyer.list.more"), ctx.t("buyer.list.more_row")))
    else:
        ctx.data.pop("more", None)
    rows.append(Choice("menu:main", ctx.t("buyer.list.menu"), ctx.t("buyer.list.menu_row")))
    header = "buyer.list.header_many" if page.total_is_lower_bound else "buyer.list.header"
    text = ctx.t(header, shown=offset + len(page.products), total=page.total)
    return BuyerState.BROWSE, [choices(text, rows, button=ctx.t("buyer.list.button"))]


def compact_price(amount: int, lang: str = i18n.DEFAULT) -> str:
    """250000 → "250k", 1500000 → "1,5M" ("1.5M" in English): a price that fits beside a name
    in 24 characters, written as the reader's language writes numbers."""
    if amount >= 1_000_000:
        # i18n.decimal rounds half up, like every number we show: 1 250 000 → "1,3M".
        text = i18n.decimal(lang, Decimal(amount) / 1_000_000)
        return f"{text.removesuffix(',0').removesuffix('.0')}M"
    if amount >= 10_000:
        return f"{amount // 1000}k"
    return str(amount)


def pick_category(msg: InboundMessage, ctx: Context) -> Result:
    category_id = arg(msg, 1)
    if category_id is None or all(c.id != category_id for c in queries.categories(ctx.session)):
        return stale(msg, ctx)
    return _product_list(ctx, {"cat": category_id}, 0)


def more(msg: InboundMessage, ctx: Context) -> Result:
    spec = ctx.data.get("more")
    if not spec:
        return to_menu(ctx, "buyer.list.end")
    return _product_list(ctx, spec, int(spec.get("offset", 0)))


def ask_search(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.SEARCH, [Text(ctx.t("buyer.search.ask"))]


def search(msg: InboundMessage, ctx: Context) -> Result:
    said = " ".join(msg.text.split())[:200]
    if not fold(said):
        return BuyerState.MENU, [Text(ctx.t("buyer.unknown")), main_menu(ctx)]
    cats = queries.categories(ctx.session)
    names = [(c.id, c.name_fr) for c in cats] + [(c.id, c.name_en) for c in cats]
    f = parse(said, names)
    spec: dict[str, object] = {
        "q": f.words,
        "cat": f.category_id,
        "min": f.min_price,
        "max": f.max_price,
        "col": f.colour,
        "said": said,
    }
    state, replies = _product_list(ctx, spec, 0)
    if state == BuyerState.BROWSE or not (f.category_id or f.colour):
        return state, replies
    # A word taken for a category or a colour may have narrowed too much: try the plain words.
    fallback: dict[str, object] = {
        "q": fold(said),
        "min": f.min_price,
        "max": f.max_price,
        "said": said,
    }
    return _product_list(ctx, fallback, 0)


# --- product card ---------------------------------------------------------------------------


def show_product(msg: InboundMessage, ctx: Context) -> Result:
    product_id = arg(msg, 1)
    try:
        product = get_visible_product(ctx.session, product_id or 0)
    except NotFound:
        return to_menu(ctx, "buyer.product.gone")
    ctx.data["product"] = product.id
    return BuyerState.PRODUCT, product_card(ctx, product)


def _stock_line(ctx: Context, product: Product) -> str:
    if product.stock <= 0:
        return ctx.t("buyer.product.out_of_stock")
    if product.stock <= product.low_stock_threshold:
        return ctx.t("buyer.product.few_left", n=product.stock)
    return ctx.t("buyer.product.in_stock")


REVIEW_QUOTES = 3  # the newest comments under the average (2 by SMS, where room is dear)
REVIEW_QUOTE_CHARS = 80


def review_quotes(ctx: Context, product: Product) -> str:
    """ "\\nAvis récents :\\n★★★★☆ « Bonne qualité… »" — the card's text only, "" with none."""
    limit = 2 if is_sms(ctx) else REVIEW_QUOTES
    found = latest_comments(ctx.session, product.id, limit=limit)
    if not found:
        return ""
    lines = [
        ctx.t(
            "buyer.product.review_quote",
            # ★ is no GSM-7 character: by SMS the stars are written "4/5".
            stars=f"{r.rating}/5" if is_sms(ctx) else "★" * r.rating + "☆" * (5 - r.rating),
            comment=cut(r.comment, REVIEW_QUOTE_CHARS),
        )
        for r in found
    ]
    return "\n" + ctx.t("buyer.product.review_quotes") + "\n" + "\n".join(lines)


def product_card(ctx: Context, product: Product) -> list[Reply]:
    avg, count = product_rating(ctx.session, product.id)
    rating = (
        ctx.t("buyer.product.rating", avg=avg, count=count)  # a float: "4,5" in French
        if count and avg is not None
        else ctx.t("buyer.product.no_rating")
    )
    price = effective_price(product)
    card = ctx.t(
        "buyer.product.card",
        name=product.name,
        price_gnf=price,
        shop=product.shop.name,
        rating=rating,
        stock=_stock_line(ctx, product),
    )
    if price != product.price:
        card += "\n" + ctx.t("buyer.product.was", price_gnf=product.price)
    if product.description and not is_sms(ctx):
        card += "\n" + cut(product.description, 300)
    card += review_quotes(ctx, product)
    replies: list[Reply] = []
    if product.photos and not is_sms(ctx):
        replies.append(Image(media_path=product.photos[0].path, caption=product.name))
    # Three reply buttons: Buy and Add-to-cart one tap away, everything else behind the third.
    if product.stock > 0:
        rows = [
            Choice(f"buy:{product.id}", ctx.t("buyer.product.buy")),
            Choice(f"add:{product.id}", ctx.t("buyer.product.add")),
            Choice(f"opts:{product.id}", ctx.t("buyer.product.more")),
        ]
        # Telegram's inline keyboard has room: the next photo is one tap away there.
        paging = _photo_choice(ctx, product, 1)
        if paging is not None and ctx.inbound.channel == Channel.TELEGRAM:
            rows.insert(2, paging)
    else:
        rows = _other_actions(ctx, product)
    replies.append(choices(card, rows, button=ctx.t("buyer.product.button")))
    return replies


def _photo_choice(ctx: Context, product: Product, index: int) -> Choice | None:
    """ "Photo suivante (2/5)": the photo at `index` (0-based) of a product with several; none
    on SMS, where no photo is shown."""
    total = len(product.photos)
    if total < 2 or is_sms(ctx) or not 0 < index < total:
        return None
    label = ctx.t("buyer.product.next_photo", n=index + 1, total=total)
    return Choice(f"ph:{product.id}:{index}", label)


def _other_actions(ctx: Context, product: Product) -> list[Choice]:
    """The card's extra choices: the next photo, ♥, ask the seller, report, the catalogue."""
    rows = [
        Choice(f"ask:{product.id}", ctx.t("buyer.product.ask")),
        Choice(f"rep:p:{product.id}", ctx.t("buyer.product.report")),
        Choice("menu:catalog", ctx.t("buyer.product.back")),
    ]
    if favourites.is_favourite(ctx.session, user_id=ctx.user.id, product_id=product.id):
        rows.insert(0, Choice(f"fav:del:{product.id}", ctx.t("buyer.product.fav_remove")))
    else:
        rows.insert(0, Choice(f"fav:add:{product.id}", ctx.t("buyer.product.fav_add")))
    paging = _photo_choice(ctx, product, 1)
    if paging is not None:
        rows.insert(0, paging)
    return rows


def show_photo(msg: InboundMessage, ctx: Context) -> Result:
    """ "Photo suivante (2/5)": that photo, then the next one, Buy and the card. The payload
    ("ph:<product>:<index>") is checked again: a product no longer for sale, or an index it
    does not have, gets a polite word and the card, never someone else's photo."""
    product = _product_or_stale(msg, ctx)
    if product is None:
        return to_menu(ctx, "buyer.product.gone")
    ctx.data["product"] = product.id
    index, total = arg(msg, 2), len(product.photos)
    if is_sms(ctx):
        return BuyerState.PRODUCT, [
            Text(ctx.t("buyer.product.photo_sms")),
            *product_card(ctx, product),
        ]
    if index is None or not 0 <= index < total:
        return BuyerState.PRODUCT, [
            Text(ctx.t("buyer.product.photo_gone")),
            *product_card(ctx, product),
        ]
    photo = product.photos[index]
    caption = ctx.t("buyer.product.photo_caption", name=product.name, n=index + 1, total=total)
    rows: list[Choice] = []
    following = _photo_choice(ctx, product, index + 1)
    if following is not None:
        rows.append(following)
    elif total > 1:
        rows.append(Choice(f"ph:{product.id}:0", ctx.t("buyer.product.first_photo")))
    if product.stock > 0:
        rows.append(Choice(f"buy:{product.id}", ctx.t("buyer.product.buy")))
    rows.append(Choice(f"prod:{product.id}", ctx.t("buyer.product.details")))
    return BuyerState.PRODUCT, [
        Image(media_path=photo.path, caption=caption),
        choices(product.name, rows, button=ctx.t("buyer.product.button")),
    ]


def more_actions(msg: InboundMessage, ctx: Context) -> Result:
    """ "Autres choix" on a product card: the next photo, ♥ Favori, ask the seller, report it,
    back to the catalogue."""
    product = _product_or_stale(msg, ctx)
    if product is None:
        return to_menu(ctx, "buyer.product.gone")
    ctx.data["product"] = product.id
    text = ctx.t("buyer.product.more_ask", name=product.name)
    return BuyerState.PRODUCT, [choices(text, _other_actions(ctx, product))]


def _product_or_stale(msg: InboundMessage, ctx: Context) -> Product | None:
    try:
        return get_visible_product(ctx.session, arg(msg, 1) or 0)
    except NotFound:
        return None


def ask_quantity(msg: InboundMessage, ctx: Context) -> Result:
    """ "Ajouter au panier": how many? 1–5 as choices, any other number typed."""
    product = _product_or_stale(msg, ctx)
    if product is None:
        return to_menu(ctx, "buyer.product.gone")
    if product.stock <= 0:
        return BuyerState.PRODUCT, [
            Text(ctx.t("buyer.product.sold_out")),
            *product_card(ctx, product),
        ]
    ctx.data["qty"] = {"product": product.id, "edit": False}
    return BuyerState.QUANTITY, [
        quantity_menu(ctx, ctx.t("buyer.cart.how_many", name=product.name))
    ]


def _quantity_of(msg: InboundMessage) -> int | None:
    """ "3", "3 paires", "deux", "two"; "retirer" is 0; anything else is not a quantity."""
    if msg.kind == InboundKind.BUTTON:
        return arg(msg, 1)
    text = fold(msg.text)
    if text in ("retirer", "supprimer", "remove", "delete", "enlever"):
        return 0
    whole = number_of(text)
    return whole if whole is not None else number_of(text.split()[0] if text else "")


def got_quantity(msg: InboundMessage, ctx: Context) -> Result:
    pending = ctx.data.get("qty") or {}
    product_id = pending.get("product")
    quantity = _quantity_of(msg)
    edit = bool(pending.get("edit"))
    if product_id is None:
        return show_cart(msg, ctx)
    again = quantity_menu(ctx, ctx.t("buyer.cart.how_many_again"), edit=edit)
    if quantity is None:
        # Not a number: a search or a support question, then the same question again.
        return BuyerState.QUANTITY, [*aside(msg, ctx), again]
    bad = [Text(ctx.t("buyer.cart.bad_quantity", said=quantity)), again]
    if quantity > MAX_QUANTITY:
        return BuyerState.QUANTITY, bad
    try:
        if pending.get("edit"):
            cart.set_quantity(
                ctx.session, user_id=ctx.user.id, product_id=product_id, quantity=quantity
            )
        else:
            if quantity == 0:
                ctx.data.pop("qty", None)
                return show_cart(msg, ctx)
            cart.add_to_cart(
                ctx.session, user_id=ctx.user.id, product_id=product_id, quantity=quantity
            )
    except InvalidQuantity:
        return BuyerState.QUANTITY, bad  # the cart line would pass the rule the menu states
    except OutOfStock as exc:
        key = f"error.{exc.code.value}"
        return BuyerState.QUANTITY, [
            Text(ctx.t(key, **{k: v for k, v in exc.params.items() if isinstance(v, int | str)})),
            again,
        ]
    except (NotFound, ProductUnavailable):
        ctx.data.pop("qty", None)
        return to_menu(ctx, "buyer.product.gone")
    ctx.data.pop("qty", None)
    if pending.get("edit"):
        return show_cart(msg, ctx, note=ctx.t("buyer.cart.updated"))
    return _added(ctx)


def _added(ctx: Context) -> Result:
    summary = cart.cart_summary(ctx.session, user_id=ctx.user.id)
    count = sum(line.quantity for line in summary.lines)
    return BuyerState.CART, [
        choices(
            ctx.t("buyer.cart.added", count=count, total_gnf=summary.total),
            [
                Choice("co:start", ctx.t("buyer.cart.checkout")),
                Choice("menu:catalog", ctx.t("buyer.cart.continue")),
                Choice("menu:cart", ctx.t("buyer.cart.view")),
            ],
        )
    ]


def buy_now(msg: InboundMessage, ctx: Context) -> Result:
    """ "Acheter": this product alone, straight to checkout — one of it (or as many as its
    cart line already holds); the rest of the cart stays in the cart."""
    from bot.buyer import checkout

    product = _product_or_stale(msg, ctx)
    if product is None:
        return to_menu(ctx, "buyer.product.gone")
    summary = cart.cart_summary(ctx.session, user_id=ctx.user.id)
    if all(line.product.id != product.id for line in summary.lines):
        try:
            cart.add_to_cart(ctx.session, user_id=ctx.user.id, product_id=product.id, quantity=1)
        except (OutOfStock, ProductUnavailable):
            return BuyerState.PRODUCT, [
                Text(ctx.t("buyer.product.sold_out")),
                *product_card(ctx, product),
            ]
    return checkout.start(msg, ctx, only=[product.id])


# --- a question about a product -------------------------------------------------------------


def ask_about(msg: InboundMessage, ctx: Context) -> Result:
    product = _product_or_stale(msg, ctx)
    if product is None:
        return to_menu(ctx, "buyer.product.gone")
    ctx.data["product"] = product.id
    return BuyerState.QUESTION, [Text(ctx.t("buyer.question.ask", name=product.name))]


def got_question(msg: InboundMessage, ctx: Context) -> Result:
    product_id = ctx.data.get("product")
    if not product_id:
        return show_menu(msg, ctx)
    try:
        ask_question(
            ctx.session,
            buyer_id=ctx.user.id,
            product_id=product_id,
            text=msg.text,
            buyer_channel=ctx.inbound.channel,
            buyer_address=ctx.inbound.address,
        )
    except NotFound:
        return to_menu(ctx, "buyer.product.gone")
    except CommerceError:
        return BuyerState.QUESTION, [Text(ctx.t("buyer.question.again"))]
    return to_menu(ctx, "buyer.question.sent")


# --- what nothing else understood -----------------------------------------------------------


def stale(msg: InboundMessage, ctx: Context) -> Result:
    """An old button (or one from another menu): say so, and show where we are now."""
    return to_menu(ctx, "buyer.stale")


def unknown(msg: InboundMessage, ctx: Context) -> Result:
    """Anything else: a tap is a stale button; a question goes to the support assistant; other
    typed words are a search; the rest the menu."""
    if msg.kind == InboundKind.BUTTON:
        return stale(msg, ctx)
    if msg.kind == InboundKind.TEXT and looks_like_support_question(msg.text):
        return support_ask(msg, ctx)
    if msg.kind == InboundKind.TEXT and fold(msg.text):
        return search(msg, ctx)
    if msg.kind in (InboundKind.MEDIA, InboundKind.LOCATION, InboundKind.CONTACT):
        return to_menu(ctx, "buyer.not_now")
    return BuyerState.MENU, [Text(ctx.t("buyer.unknown")), main_menu(ctx)]
