"""Issue 17, couriers: the whole landmark and the GPS pin reach the courier; STOP speaks of jobs.

Each SMS is read back from the Twilio emulator after the courier's own signed "P<order>" text.
"""

from __future__ import annotations

import re

from commerce.messaging.models import OutboxStatus
from commerce.messaging.sms_text import to_gsm7
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.test_courier_sms import bodies, phone_of
from tests.support import make_buyer, make_courier
from tests.timing import WAIT_S
from tests.unit import flows
from tests.webhooks import post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
P18_LANDMARK = "Derrière la station Total de Kipé, portail bleu après la boulangerie"


def picked_up_texts(b: Boutik, landmark: str, **pin: float) -> tuple[flows.Placed, list[str]]:
    """The SMS a courier gets after texting P<order>: the buyer's door, once the parcel is his."""
    courier_id = make_courier(b.db, prefecture="Kaloum")
    number = phone_of(b, courier_id)
    # 2 × 625 000 GNF: "Encaissez 1 250 000 GNF" and more, as after P18 in the tour
    p = flows.place(b.db, price=625_000, buyer=make_buyer(b.db, landmark=landmark, **pin))
    flows.to_assigned(b.db, p, courier_id)
    before = max((r.id for r in b.outbox()), default=0)
    response = post_twilio(b.client, SMS, sms_form(number, f"P{p.order_id}"))
    assert response.status_code == 200

    def answered() -> bool:  # every reply of that turn to the courier has left
        rows = [r for r in b.outbox(user_id=courier_id) if r.id > before]
        waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING)
        return bool(rows) and all(r.status not in waiting for r in rows)

    b.store.wait_for(answered, timeout=WAIT_S)
    texts = bodies(b, number)
    assert all(m.num_segments == 1 for m in b.store.twilio_messages(to=number)), texts
    return p, texts


def test_the_buyers_whole_landmark_reaches_the_courier(boutik: Boutik) -> None:
    p, texts = picked_up_texts(boutik, P18_LANDMARK)

    joined = " ".join(texts)
    assert to_gsm7(P18_LANDMARK) in joined, texts
    assert phone_of(boutik, p.buyer_id) in joined and f"D{p.order_id}" in joined


def test_a_landmark_of_300_characters_arrives_whole_in_one_segment_sms(boutik: Boutik) -> None:
    landmark = ("Derrière la grande mosquée Fayçal, deuxième ruelle à gauche, " * 5)[:300].strip()

    p, texts = picked_up_texts(boutik, landmark)

    joined = re.sub(r"\s+", " ", " ".join(texts))
    assert re.sub(r"\s+", " ", to_gsm7(landmark)) in joined, texts
    assert f"D{p.order_id}" in joined


def test_a_shared_gps_pin_reaches_the_courier_as_a_maps_link(boutik: Boutik) -> None:
    _p, texts = picked_up_texts(boutik, "derrière la grande mosquée", lat=9.6412, lng=-13.6187)

    links = [u for t in texts for u in re.findall(r"https://\S+", t)]
    assert links and "9.64120,-13.61870" in links[0], texts


def test_no_pin_no_maps_link(boutik: Boutik) -> None:
    _p, texts = picked_up_texts(boutik, "derrière la grande mosquée")

    assert not any("https://" in t for t in texts), texts


def test_a_couriers_stop_talks_about_jobs_not_orders(boutik: Boutik) -> None:
    number = phone_of(boutik, make_courier(boutik.db, prefecture="Kaloum"))

    response = post_twilio(boutik.client, SMS, sms_form(number, "STOP"))

    assert response.status_code == 200
    boutik.store.wait_for(lambda: len(bodies(boutik, number)) >= 1, timeout=WAIT_S)
    [reply] = bodies(boutik, number)
    assert "commande" not in reply.lower() and "course" in reply.lower(), reply
    with boutik.db.session() as s:
        assert s.query(User).filter(User.phone == number).one().opted_out
    post_twilio(boutik.client, SMS, sms_form(number, "START"))
    boutik.store.wait_for(lambda: len(bodies(boutik, number)) >= 2, timeout=WAIT_S)
    assert "course" in bodies(boutik, number)[-1].lower(), bodies(boutik, number)
