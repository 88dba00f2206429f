"""The buyer flow, declared as a table (see flow.mmd beside it)."""

from __future__ import annotations

from bot.buyer import handlers as h
from bot.buyer.states import BuyerState as S
from bot.flow import Flow, payload, words

GLOBAL = (
    (words("menu", "accueil", "bonjour", "salut", "bonsoir", "hello", "hi"), h.show_menu),
    (words("english", "anglais", "en"), h.switch_language),
    (words("francais", "french", "fr"), h.switch_language),
    (payload("menu:catalog"), h.show_categories),
    (words("catalogue", "catalog", "categories"), h.show_categories),
    (payload("menu:search"), h.ask_search),
    (payload("menu:cart"), h.show_cart),
    (words("panier", "cart"), h.show_cart),
    (payload("menu:orders"), h.show_orders),
    (words("commandes", "orders"), h.show_orders),
    (payload("menu:help"), h.show_help),
    (payload("cat:"), h.pick_category),
    (payload("prod:"), h.show_product),
    (payload("add:"), h.add_to_cart),
    (payload("more"), h.more),
    (words("plus", "more", "suite"), h.more),
)

FLOW = Flow(
    name="buyer",
    entry=h.greet,
    states={
        S.MENU: (),
        S.SEARCH: (),
        S.BROWSE: (),
        S.PRODUCT: (),
    },
    fallbacks=GLOBAL,
    unknown=h.unknown,
)
