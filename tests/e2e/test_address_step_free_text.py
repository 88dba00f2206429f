"""The address step never swallows free text (issue 17): her saved address's own label picks
it, "chez moi" is her usual address, anything else is tried as a command or a search and the
step is asked again with her saved addresses still offered; "retour" inside the checkout goes
back one step instead of abandoning it. Signed Twilio WhatsApp posts throughout.
"""

from __future__ import annotations

from tests.e2e.conftest import Boutik
from tests.e2e.test_buyer_journeys import Phone, _fast_senders, _phone, _state
from tests.e2e.test_free_text_at_steps import _labelled_buyer
from tests.support import make_product, make_seller
from tests.unit import flows

__all__ = ["_fast_senders"]  # the autouse fixture: fast pacing for these conversations too


def _at_her_cart(boutik: Boutik) -> tuple[Phone, int]:
    """She has a phone in her cart and two saved addresses, one named "Maison", and has said
    hello on WhatsApp: (her phone, the Maison address id)."""
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller)
    buyer_id, maison = _labelled_buyer(db)
    flows.add(db, buyer_id, product_id, 1)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")
    return wa, maison


def test_the_address_step_keeps_her_saved_addresses_and_retour_goes_back(boutik: Boutik) -> None:
    wa, maison = _at_her_cart(boutik)

    where = wa.text("", ButtonPayload="co:start", ButtonText="Commander")
    assert "Maison" in where
    # Her address's own label picks it.
    summary = wa.text("Maison")
    assert "TOTAL À PAYER" in summary and "Landréah" in summary
    # "retour" at the summary goes back one step, it does not abort the checkout.
    back = wa.text("retour")
    assert "Maison" in back and "abandonn" not in back.lower()
    assert _state(boutik, "whatsapp", wa.number) == "co_address"
    # "chez moi": her home address.
    summary = wa.text("chez moi")
    assert "TOTAL À PAYER" in summary and "Landréah" in summary
    wa.text("", ButtonPayload="co:addr", ButtonText="Changer l'adresse")

    # Something that is no place: the same choices again, her saved addresses still there.
    again = wa.text("😀")
    assert "Maison" in again and "Dans quelle région" not in again
    assert _state(boutik, "whatsapp", wa.number) == "co_address"
    # Words that are a search: the results, then the address question again.
    found = wa.text("samsung noir")
    assert "Samsung Galaxy" in found
    assert "Maison" in found.split("Samsung Galaxy")[-1]
    assert _state(boutik, "whatsapp", wa.number) == "co_address"
    # And the step still works: a tap on the saved address lands on the summary.
    summary = wa.text("", ButtonPayload=f"addr:{maison}", ButtonText="Maison")
    assert "TOTAL À PAYER" in summary


def test_retour_walks_the_new_address_back_step_by_step(boutik: Boutik) -> None:
    wa, _maison = _at_her_cart(boutik)
    # Back from the checkout's first step is the cart she came from, not "Commande abandonnée".
    wa.text("", ButtonPayload="co:start", ButtonText="Commander")
    cart = wa.text("retour")
    assert "abandonn" not in cart.lower() and "Commander" in cart
    assert _state(boutik, "whatsapp", wa.number) == "cart"
    wa.text("", ButtonPayload="co:start", ButtonText="Commander")

    # Region → prefecture → quartier, then back one step at a time.
    assert "Dans quelle région" in wa.text("", ButtonPayload="addr:new", ButtonText="Nouvelle")
    assert "commune de Conakry" in wa.text("Conakry")
    assert "Quel quartier (Ratoma)" in wa.text("Ratoma")
    assert "commune de Conakry" in wa.text("retour")
    assert _state(boutik, "whatsapp", wa.number) == "co_prefecture"
    assert "Dans quelle région" in wa.text("retour")
    back = wa.text("retour")
    assert "Maison" in back and _state(boutik, "whatsapp", wa.number) == "co_address"

    # A quartier typed at the address step starts a new address there; back is the quartiers.
    assert "point de repère" in wa.text("Taouyah")
    assert "Quel quartier (Ratoma)" in wa.text("retour")

    # "à la maison": her saved address; from the payment question back is "Modifier".
    assert "commune de Conakry" in wa.text("retour")
    assert "Dans quelle région" in wa.text("retour")
    assert "Maison" in wa.text("retour")
    summary = wa.text("à la maison")
    assert "TOTAL À PAYER" in summary and "Landréah" in summary
    wa.text("", ButtonPayload="co:edit", ButtonText="Modifier")
    wa.text("", ButtonPayload="co:pay", ButtonText="Mode de paiement")
    assert "Que voulez-vous modifier" in wa.text("retour")
    assert "TOTAL À PAYER" in wa.text("back")
    # Back from the summary is the address step, and from there the summary she came from.
    assert "Maison" in wa.text("retour")
    assert "TOTAL À PAYER" in wa.text("retour")
