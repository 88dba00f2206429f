"""The buyer flow, declared as a table (see flow.mmd beside it).

Routes are tried in order: the current state's routes, then the fallbacks; taps on any button
are fallbacks, so an old button still lands somewhere sensible.

The one rule for words typed inside a step (issue 17, "free text never swallowed"):
1. The global commands run first, at every step, as whole messages: STOP / START / AIDE (HELP)
   in the engine, before any flow (bot.keywords; the step still waits after AIDE); then this
   table's KEYWORDS — MENU, PANIER, COMMANDES, FAVORIS, LANGUE, HUMAIN, FIN and their English
   twins (home, cart, orders, favourites/favorites, language, human). "retour" inside the
   checkout is one step back.
2. At a step with choices (language, address, region, commune, quartier, pin, summary,
   "Modifier", payment, who pays, cancel yes/no, which item to return, a quantity, a review's
   stars, the courier's stars) the step's own typed answers count (a number, a label, a place's
   name, "oui", "cinq" stars); other words are a search or a support question, answered
   aside, and the step is asked again with its choices, still waiting (`_choice_step` below,
   bot.buyer.detour's `aside_then`).
3. At a step that takes free text (search words, promo code, question to the seller,
   landmark, her own quartier after "Autre quartier", review comment, return reason and
   photo, report reason) any other words are that step's answer (`_waiting_for_text`).
Screens that ask nothing (menu, lists, product card, cart, orders, one order) take words as a
search (the flow's `unknown`): the results are the next screen. The stars asked in a turn
(her "OUI 1042" closing the order, a tap on "Noter") are the RATING step; the stars asked by a
notification (the courier's PIN closed it) leave her where she was: a number answers them, as
the last menu, until her next turn; other words there are that state's.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.buyer import addresses as ad
from bot.buyer import cart as c
from bot.buyer import checkout as co
from bot.buyer import favourites as fv
from bot.buyer import handlers as h
from bot.buyer import orders as o
from bot.buyer import returns as r
from bot.buyer import threads as th
from bot.buyer.detour import then_again
from bot.buyer.states import BuyerState as S
from bot.flow import ANY_TEXT, Context, Flow, Handler, Intent, Route, command, kind, payload, words
from bot.messages import InboundKind, InboundMessage
from commerce.text import fold


def exactly(*accepted: str) -> Intent:
    """The whole message (case, accents and punctuation aside) is one of `accepted`."""
    folded = {fold(w) for w in accepted}
    return Intent(
        f"exactly:{'|'.join(sorted(folded))}",
        lambda m, _c: m.kind == InboundKind.TEXT and fold(m.text) in folded,
    )


def _greeting(msg: InboundMessage, _ctx: Context) -> bool:
    words_ = fold(msg.text).split()
    return msg.kind == InboundKind.TEXT and bool(words_) and words_[0] in h.GREETINGS


def _in_checkout(msg: InboundMessage, ctx: Context) -> bool:
    return bool(ctx.data.get("co"))


GREETING = Intent("greeting", _greeting)
LOCATION_IN_CHECKOUT = Intent(
    "location_in_checkout", lambda m, c: m.kind == InboundKind.LOCATION and _in_checkout(m, c)
)

FAVOURITE_WORDS = (
    "favoris", "mes favoris", "favori", "favourites", "favorites", "my favourites",
    "my favorites",
)  # fmt: skip

# Whole-message keywords: safe in states that wait for free text.
KEYWORDS: tuple[Route, ...] = (
    (th.WANTS_HUMAN, th.ask_human),
    (th.CLOSES_THREAD, th.close_thread),
    (exactly("menu", "accueil", "home", "retour", "back"), h.show_menu),
    (exactly("panier", "cart", "mon panier", "my cart"), c.show_cart),
    (exactly("commandes", "orders", "mes commandes", "my orders"), o.show_orders),
    (exactly("langue", "language", "lang"), h.ask_language),
    (exactly("en", "english", "anglais"), h.switch_language),
    (exactly("fr", "francais", "french"), h.switch_language),
    (exactly("catalogue", "catalog", "categories"), h.show_categories),
    (exactly(*FAVOURITE_WORDS), fv.show_favourites),
    (command("menu", "aide", "help"), h.show_menu),
    (command("panier", "cart"), c.show_cart),
    (command("commandes", "orders"), o.show_orders),
    (command("favoris", "favourites", "favorites"), fv.show_favourites),
)

TAPS: tuple[Route, ...] = (
    (payload("menu:main"), h.show_menu),
    (payload("menu:catalog"), h.show_categories),
    (payload("menu:search"), h.ask_search),
    (payload("menu:cart"), c.show_cart),
    (payload("menu:orders"), o.show_orders),
    (payload("menu:help"), h.show_help),
    (payload("menu:lang"), h.ask_language),
    (payload("lang:"), h.switch_language),
    (payload("cat:"), h.pick_category),
    (payload("prod:"), h.show_product),
    (payload("more"), h.more),
    (payload("buy:"), h.buy_now),
    (payload("opts:"), h.more_actions),
    (payload("ph:"), h.show_photo),
    (payload("fav:add:"), fv.add_favourite),
    (payload("fav:del:"), fv.remove_favourite),
    (payload("fav:list:"), fv.favourites_page),
    (payload("fav:rm:"), fv.remove_pick),
    (payload("add:"), h.ask_quantity),
    (payload("qty:"), h.got_quantity),
    (payload("ask:"), h.ask_about),
    (payload("line:"), c.edit_line),
    (payload("cart:clear"), c.clear_cart),
    (payload("promo:ask"), c.ask_promo),
    (payload("promo:drop:co"), co.drop_promo_and_summarise),
    (payload("promo:drop"), c.drop_promo),
    # checkout
    (payload("co:start"), co.start),
    (payload("co:ok:"), co.confirm),
    (payload("co:pts:"), co.use_points),
    (payload("co:edit"), co.edit),
    (payload("co:back"), co.back_to_summary),
    (payload("co:payer"), co.ask_payer),
    (payload("co:pay"), co.ask_payment),
    (payload("co:addr"), co.change_address),
    (payload("co:stop"), co.stop),
    (payload("addr:new"), ad.new_address),
    (payload("addr:pin"), ad.ask_pin),
    (payload("addr:pickup"), co.pick_pickup),
    (payload("addr:"), co.pick_address),
    (payload("reg:"), ad.pick_region),
    (payload("pref:"), ad.pick_prefecture),
    (payload("qtr:"), ad.pick_quartier),
    (payload("lm:skip"), ad.got_landmark),
    (payload("pay:"), co.pick_payment),
    (payload("payer:"), co.pick_payer),
    # after the order
    (payload("order:"), o.show_order),
    (payload("qr:"), o.resend_code),
    (payload("cancel:"), o.ask_cancel),
    (payload("cx:"), o.do_cancel),
    (payload("cash:"), o.cash_button),
    (payload("cashref:skip:"), o.skip_reference),
    (payload("rate:"), o.rate),
    (payload("rv:skip"), o.got_comment),
    (payload("crate:"), o.rate_courier_tap),
    (payload("ret:"), r.start_return),
    (payload("ri:"), r.pick_return_item),
    (payload("rr:"), r.got_reason),
    (payload("rp:skip"), r.got_photo),
    (payload("rep:"), r.ask_report),
    (payload("rpr:"), r.got_report),
    (payload("refund:"), r.refund_received),
)

PHRASES: tuple[Route, ...] = (
    (GREETING, h.hello),
    (o.MENTIONS_ORDER, o.order_by_text),
    (o.SAYS_CANCEL, o.ask_cancel),
    (o.SAYS_YES, o.says_yes),
    (o.SAYS_NO, o.says_no),
    (words("commandes", "orders"), o.show_orders),
    (words("panier", "cart"), c.show_cart),
    (words("commander", "checkout"), co.start),
    (words("promo", "code"), c.typed_promo),
    (words("points", "fidelite", "loyalty"), c.show_points),
    (exactly("plus", "more", "suite", "next"), h.more),
    (words("rechercher", "chercher", "search"), h.search_words),
    (LOCATION_IN_CHECKOUT, ad.got_pin),
)


# "retour" inside the checkout is one step back (bot.buyer.addresses.back), not the menu.
BACK = exactly("retour", "back", "precedent", "revenir", "go back", "retour en arriere")


def _checkout_step(routes: Sequence[Route]) -> Sequence[Route]:
    return ((BACK, ad.back), *routes)


def _waiting_for_text(handler: Handler, *extra: Route) -> Sequence[Route]:
    """A state that takes free text: keywords first, then its own routes, then the text."""
    return (*KEYWORDS, *extra, (ANY_TEXT, handler))


def _waiting_for_tap(handler: Handler, *extra: Route) -> Sequence[Route]:
    """A checkout step that wants a tap: keywords and known phrases ("code X", "commande 1042")
    still work; `handler` takes the other typed words ("oui" confirms; the rest is a detour)."""
    return (*KEYWORDS, *extra, *PHRASES, (ANY_TEXT, handler))


def _choice_step(ask: Handler, *extra: Route) -> Sequence[Route]:
    """A step with choices: keywords, then its own typed answers; other words are a search or
    a support question, and `ask` puts the question again with its choices."""
    return (*KEYWORDS, *extra, (ANY_TEXT, then_again(ask)))


FLOW = Flow(
    name="buyer",
    entry=h.greet,
    states={
        S.MENU: (),
        S.BROWSE: (),
        S.PRODUCT: (),
        S.CART: (),
        S.ORDERS: (),
        S.ORDER: (),
        S.LANGUAGE: _choice_step(h.ask_language),
        S.SEARCH: _waiting_for_text(h.search),
        S.QUANTITY: _waiting_for_text(h.got_quantity),
        S.PROMO: _waiting_for_text(c.got_promo),
        S.QUESTION: _waiting_for_text(h.got_question),
        S.ADDRESS: _checkout_step(
            _waiting_for_text(ad.typed_where, (kind(InboundKind.LOCATION), ad.got_pin))
        ),
        S.REGION: _checkout_step(
            _waiting_for_text(ad.typed_place, (kind(InboundKind.LOCATION), ad.got_pin))
        ),
        S.PREFECTURE: _checkout_step(_waiting_for_text(ad.typed_place)),
        S.QUARTIER: _checkout_step(_waiting_for_text(ad.typed_place)),
        S.LANDMARK: _checkout_step(_waiting_for_text(ad.got_landmark)),
        S.PIN: _checkout_step(
            _waiting_for_text(ad.typed_place, (kind(InboundKind.LOCATION), ad.got_pin))
        ),
        S.SUMMARY: _checkout_step(_waiting_for_tap(co.reprompt, (o.SAYS_YES, co.reprompt))),
        S.PAYMENT: _checkout_step(_waiting_for_tap(co.reprompt)),
        S.PAYER: _checkout_step(_waiting_for_tap(co.reprompt)),
        S.CANCEL: _choice_step(
            o.ask_cancel_again, (o.SAYS_YES, o.cancel_yes), (o.SAYS_NO, o.cancel_no)
        ),
        S.CASH_REFERENCE: _choice_step(
            o.ask_reference_again,
            (exactly("passer", "skip", "non", "no"), o.skip_reference),
            (o.REFERENCE_TYPED, o.got_reference),
        ),
        S.RATING: _choice_step(o.ask_stars_again, (o.STARS_TYPED, o.typed_stars)),
        S.REVIEW_COMMENT: _waiting_for_text(o.got_comment),
        S.COURIER_RATING: _choice_step(
            o.ask_courier_again,
            (o.STARS_TYPED, o.typed_courier_stars),
            (exactly("passer", "skip", "non", "no", "0"), o.skip_courier),
        ),
        S.RETURN_ITEMS: _choice_step(r.ask_items_again),
        S.RETURN_REASON: _waiting_for_text(r.got_reason),
        S.RETURN_PHOTO: _waiting_for_text(r.got_photo, (kind(InboundKind.MEDIA), r.got_photo)),
        S.REPORT: _waiting_for_text(r.got_report),
    },
    fallbacks=(*KEYWORDS, *TAPS, (th.IN_THREAD, th.to_thread), *PHRASES),
    unknown=h.unknown,
    help_key="buyer.help",
)
