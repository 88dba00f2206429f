"""Free text is never swallowed (issue 17): inside a step, words that are not the expected
answer are a global command, else a search or a support question, and the step is asked again
with its choices. Numbers: words count ("deux", "two"), one quantity rule stated once, and a
number is an order number only where the words say so. Signed Twilio WhatsApp posts throughout.
"""

from __future__ import annotations

from sqlalchemy import select

from commerce.cart.models import Cart
from tests.e2e.conftest import Boutik
from tests.e2e.test_buyer_journeys import Phone, _fast_senders, _phone, _state
from tests.support import Db, make_buyer, make_product, make_seller
from tests.unit import flows

__all__ = ["_fast_senders"]  # the autouse fixture: fast pacing for these conversations too


def _cart(db: Db, buyer_id: int) -> dict[int, int]:
    with db.session() as s:
        cart = s.scalar(select(Cart).where(Cart.user_id == buyer_id))
        return {i.product_id: i.quantity for i in cart.items} if cart else {}


def _labelled_buyer(db: Db) -> tuple[int, int]:
    """A returning buyer whose one saved address she named "Maison"."""
    from commerce.users import actions as users

    buyer_id, _ = make_buyer(db)
    with db.uow() as s:
        address = users.add_address(
            s,
            user_id=buyer_id,
            region="Conakry",
            prefecture="Dixinn",
            quartier="Landréah",
            landmark="portail bleu après la boulangerie",
            label="Maison",
        )
        return buyer_id, address.id


def test_words_at_the_quantity_prompt_are_a_search_then_the_quantity_is_asked_again(
    boutik: Boutik,
) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    phone_id = make_product(db, seller_id=seller, name="Téléphone Samsung Galaxy A15")
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")
    asked = wa.text("", ButtonPayload=f"add:{phone_id}", ButtonText="Ajouter au panier")
    assert "Combien" in asked

    found = wa.text("samsung noir")
    assert "Donnez un nombre" not in found
    assert "Samsung Galaxy" in found  # the search ran
    assert "Combien" in found.split("Samsung Galaxy")[-1]  # then the question again
    assert _state(boutik, "whatsapp", wa.number) == "quantity"  # still waiting for a number

    # Number words are numbers: "deux" adds two.
    added = wa.text("deux")
    assert "Combien" not in added
    assert _cart(db, buyer_id) == {phone_id: 2}


def test_number_words_in_both_languages_and_one_quantity_rule(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller, stock=50)
    buyer_id, _ = make_buyer(db)
    flows.add(db, buyer_id, product_id, 1)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")

    edit = wa.text("", ButtonPayload=f"line:{product_id}", ButtonText="Modifier")
    too_many = wa.text("500")
    # The rule the prompt states is the rule the refusal states, once, in the same words.
    rule = next(line for line in edit.splitlines() if "99" in line)
    assert "0" in rule  # editing a line: 0 removes it
    assert too_many.count(rule) == 1 and "entre 1 et 99" not in too_many
    assert _state(boutik, "whatsapp", wa.number) == "quantity"

    wa.text("cinq")
    assert _cart(db, buyer_id) == {product_id: 5}
    wa.text("", ButtonPayload=f"line:{product_id}", ButtonText="Modifier")
    wa.text("two")
    assert _cart(db, buyer_id) == {product_id: 2}
    wa.text("", ButtonPayload=f"line:{product_id}", ButtonText="Modifier")
    wa.text("zéro")
    assert _cart(db, buyer_id) == {}


def test_a_number_is_an_order_number_only_where_the_words_say_so(boutik: Boutik) -> None:
    db = boutik.db
    placed = flows.place(db)
    if placed.order_id == 5:  # the sentence's "5" must not happen to be her order
        placed = flows.place(db, buyer=(placed.buyer_id, placed.address_id or 0))
    wa = Phone(boutik, _phone(db, placed.buyer_id))
    wa.text("Bonjour")

    waiting = wa.text("Ça fait 5 jours que j'attends ma commande")
    assert "commande 5 " not in waiting and "commande 5 à" not in waiting
    assert str(placed.order_id) in waiting  # her own order, the one she waits for

    for said in (
        f"où est ma commande {placed.order_id}",
        f"#{placed.order_id}",
        f"n° {placed.order_id}",
        f"commande {placed.order_id}",
    ):
        assert f"Commande {placed.order_id}" in wa.text(said), said
