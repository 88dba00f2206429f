"""Free text is never swallowed, at every buyer step (issue 17).

The one rule (bot/buyer/flow.py): the global commands — MENU, PANIER, COMMANDES, AIDE, STOP,
HUMAIN and their English twins, as whole messages — run at every step. Then:
- at a step with choices (language, region, commune, quartier, pin, summary, "Modifier",
  payment, who pays, cancel yes/no, which item to return), other words are a search or a
  support question, and the step is asked again with its choices, still waiting;
- at a step that takes free text (search words, promo code, question, landmark, the buyer's
  own quartier, review comment, return reason and photo, report reason), other words are its
  answer.

Each step is reached by taps, then MENU, PANIER and AIDE are typed there (and a search where
choices are expected), through signed Twilio WhatsApp posts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import Boutik
from tests.e2e.test_buyer_journeys import Phone, _fast_senders, _phone, _state
from tests.support import make_buyer, make_product, make_seller
from tests.unit import flows

__all__ = ["_fast_senders"]  # the autouse fixture: fast pacing for these conversations too

HELP = "Boutik : achetez ici"
MENU = "Que voulez-vous faire"


@dataclass
class World:
    """One returning buyer (a saved address, an order placed, a Samsung in her cart) on
    WhatsApp."""

    boutik: Boutik
    wa: Phone
    buyer_id: int
    address_id: int
    product_id: int
    order: flows.Placed | None = None

    def tap(self, payload: str, label: str = "") -> str:
        return self.wa.text("", ButtonPayload=payload, ButtonText=label or payload)

    @property
    def state(self) -> str:
        return _state(self.boutik, "whatsapp", self.wa.number)

    def placed(self, *names: str) -> int:
        """A new order of hers from a new shop, of products named `names` (her Samsung stays
        in the cart)."""
        from commerce.orders import actions as orders
        from commerce.orders.models import CommissionPayer, DeliveryMode, PaymentMethod

        db = self.boutik.db
        seller, _shop = make_seller(db)
        products = [make_product(db, seller_id=seller, name=n, price=90_000) for n in names]
        for product in products:
            flows.add(db, self.buyer_id, product)
        with db.uow() as s:
            [placed] = orders.place_order(
                s,
                buyer_id=self.buyer_id,
                address_id=self.address_id,
                delivery_mode=DeliveryMode.HOME,
                commission_payer=CommissionPayer.BUYER,
                payment_method=PaymentMethod.CASH,
                product_ids=products,
            )
            order = flows.wrap(placed, seller_id=seller)
        self.order = order
        return order.order_id

    def delivered(self, *names: str) -> int:
        order_id = self.placed(*names)
        flows.deliver(self.boutik.db, self.order)
        return order_id


def _world(boutik: Boutik) -> World:
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller)
    buyer_id, address_id = make_buyer(db)
    flows.add(db, buyer_id, product_id, 1)
    world = World(boutik, Phone(boutik, _phone(db, buyer_id)), buyer_id, address_id, product_id)
    world.placed("Sandales cuir")
    world.wa.text("Bonjour")
    return world


def _new_address(w: World, *typed: str) -> None:
    w.tap("co:start", "Commander")
    w.tap("addr:new", "Nouvelle adresse")
    for words in typed:
        w.wa.text(words)


def _summary(w: World) -> None:
    w.tap("co:start", "Commander")
    w.tap(f"addr:{w.address_id}", "Kipé")


def _edit(w: World) -> None:
    _summary(w)
    w.tap("co:edit", "Modifier")


def _cancel(w: World) -> None:
    w.tap(f"cancel:{w.placed('Sandales cuir')}", "Annuler la commande")


def _return_items(w: World) -> None:
    order_id = w.delivered("Sac à main tressé", "Tongs")
    w.tap(f"ret:{order_id}", "Retourner")


# A step with choices: (state, how to get there, the words its question starts with).
Step = tuple[str, Callable[[World], Any], str]
CHOICE_STEPS: list[Step] = [
    ("language", lambda w: w.tap("menu:lang", "Langue"), "Choisissez votre langue"),
    ("co_region", lambda w: _new_address(w), "Dans quelle région"),
    ("co_prefecture", lambda w: _new_address(w, "Conakry"), "Quelle commune de Conakry"),
    ("co_quartier", lambda w: _new_address(w, "Conakry", "Ratoma"), "Quel quartier (Ratoma)"),
    ("co_pin", lambda w: (w.tap("co:start"), w.tap("addr:pin")), "Envoyez votre position"),
    ("co_address", lambda w: w.tap("co:start", "Commander"), "Où voulez-vous être livré"),
    ("co_summary", _summary, "TOTAL À PAYER"),
    ("co_summary", _edit, "Que voulez-vous modifier"),
    ("co_payment", lambda w: (_edit(w), w.tap("co:pay")), "Comment paierez-vous"),
    ("co_payer", lambda w: (_edit(w), w.tap("co:payer")), "Qui paie la livraison"),
    ("cancel", _cancel, "Annuler la commande"),
    ("return_items", _return_items, "Quel article voulez-vous retourner"),
]


def _id(step: Step) -> str:
    return f"{step[0]}:{step[2][:12]}"


@pytest.mark.parametrize("step", CHOICE_STEPS, ids=_id)
def test_at_a_step_with_choices_commands_run_and_other_words_are_a_search(
    boutik: Boutik, step: Step
) -> None:
    state, reach, question = step
    w = _world(boutik)

    reach(w)
    assert w.state == state
    # Words that are no choice: the search results, then the same question with its choices.
    said = w.wa.send("samsung noir")
    assert any("Samsung Galaxy" in m.body for m in said[:-1]), [m.body for m in said]
    assert question in said[-1].body, said[-1].body
    assert "Je ne trouve pas" not in "".join(m.body for m in said)
    assert w.state == state  # still waiting for its answer

    # AIDE answers and leaves the step waiting; MENU and PANIER run wherever they are typed.
    assert HELP in w.wa.text("AIDE")
    assert w.state == state
    assert MENU in w.wa.text("MENU")
    assert w.state == "menu"
    reach(w)
    assert "Samsung Galaxy" in w.wa.text("PANIER")
    assert w.state == "cart"


def _landmark(w: World) -> None:
    _new_address(w, "Conakry", "Ratoma", "Taouyah")


def _own_quartier(w: World) -> None:
    _new_address(w, "Conakry", "Ratoma")
    w.tap("qtr:other", "Autre quartier")


def _comment(w: World) -> None:
    w.tap(f"rate:{w.delivered('Sac à main tressé')}:5", "5 - Excellent")


def _reason(w: World) -> None:
    w.tap(f"ret:{w.delivered('Sac à main tressé')}", "Retourner")


def _photo(w: World) -> None:
    _reason(w)
    w.tap("rr:broken", "Abîmé ou en panne")


# A step that takes free text: (state, how to get there, an answer it takes, what follows).
TextStep = tuple[str, Callable[[World], Any], str, str]
TEXT_STEPS: list[TextStep] = [
    ("search", lambda w: w.tap("menu:search", "Rechercher"), "samsung", "Samsung Galaxy"),
    ("promo", lambda w: w.tap("promo:ask", "Code promo"), "NOEL", "n'existe pas"),
    ("question", lambda w: w.tap(f"ask:{w.product_id}"), "Il est neuf ?", "transm"),
    ("co_landmark", _landmark, "portail bleu", "TOTAL À PAYER"),
    ("co_quartier", _own_quartier, "Sonfonia gare", "point de repère"),
    ("review_comment", _comment, "très bien", "Merci pour votre avis"),
    ("return_reason", _reason, "il ne s'allume plus", "photo"),
    ("return_photo", _photo, "passer", "retour"),
    ("report", lambda w: w.tap(f"rep:p:{w.product_id}"), "faux produit", "signalement"),
]


def _text_id(step: TextStep) -> str:
    return step[0] if step[1] is not _own_quartier else "own_quartier"


@pytest.mark.parametrize("step", TEXT_STEPS, ids=_text_id)
def test_at_a_step_that_takes_free_text_commands_still_run(boutik: Boutik, step: TextStep) -> None:
    state, reach, answer, follows = step
    w = _world(boutik)

    for command, lands_on, shows in (
        ("MENU", "menu", MENU),
        ("PANIER", "cart", "Samsung Galaxy"),
        ("COMMANDES", "orders", "Vos dernières commandes"),
        ("cart", "cart", "Samsung Galaxy"),
        ("orders", "orders", "Vos dernières commandes"),
        ("home", "menu", MENU),
    ):
        reach(w)
        assert w.state == state
        assert shows in w.wa.text(command), command
        assert w.state == lands_on, command
    reach(w)
    assert HELP in w.wa.text("AIDE")
    assert w.state == state
    # Other words are the step's answer.
    assert follows in w.wa.text(answer)
    assert w.state != state or state in ("search", "promo")  # a wrong code is asked again


def test_stop_and_humain_inside_a_step(boutik: Boutik) -> None:
    from sqlalchemy import select

    from commerce.messaging.models import ConversationState
    from commerce.users.models import User

    w = _world(boutik)
    _landmark(w)
    w.wa.text("STOP")
    with boutik.db.session() as s:
        assert s.get(User, w.buyer_id).opted_out  # type: ignore[union-attr]
    assert w.state == "co_landmark"  # the step still waits for its landmark
    w.wa.text("START")
    _own_quartier(w)
    w.wa.text("HUMAIN")
    with boutik.db.session() as s:
        conv = s.scalar(select(ConversationState).where(ConversationState.address == w.wa.number))
        assert conv is not None and conv.human_mode
