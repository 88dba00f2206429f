"""Couriers end to end on PostgreSQL: offers by SMS, the first-accept race, PIN and QR proofs."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from commerce import clock
from commerce.delivery import actions as delivery
from commerce.messaging.events import take_events
from commerce.messaging.outbox import take_pending_ids
from commerce.orders.models import OrderStatus
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.support import make_courier
from tests.timing import WAIT_S
from tests.unit import flows
from tests.webhooks import post_twilio, sms_form
from workers.events import start

SMS = "/webhooks/twilio/sms"


@pytest.fixture
def app(boutik: Boutik) -> Iterator[Boutik]:
    yield boutik


def phone_of(b: Boutik, user_id: int) -> str:
    with b.db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def bodies(b: Boutik, number: str) -> list[str]:
    return [m.body for m in b.store.twilio_messages(to=number)]


def wait_sms(b: Boutik, number: str, count: int = 1, timeout: float = WAIT_S) -> list[str]:
    b.store.wait_for(lambda: len(bodies(b, number)) >= count, timeout=timeout)
    return bodies(b, number)


def text(b: Boutik, number: str, body: str) -> str:
    """Send one SMS as `number` and return the answer it got."""
    before = len(bodies(b, number))
    response = post_twilio(b.client, SMS, sms_form(number, body))
    assert response.status_code == 200
    return wait_sms(b, number, before + 1)[-1]


def publish(b: Boutik, p: flows.Placed) -> int:
    """The seller's publish, committed and its events started exactly as run_turn does."""
    with b.db.uow() as s:
        job = delivery.publish_job(s, seller_id=p.seller_id, order_id=p.order_id)
        ids, events, job_id = take_pending_ids(s), take_events(s), job.id
    b.rt.dispatcher.dispatch(ids)
    start(b.rt, events)
    return job_id


def test_published_order_reaches_a_courier_who_accepts_picks_up_and_delivers_with_the_pin(
    app: Boutik,
) -> None:
    courier_id = make_courier(app.db, prefecture="Kaloum")
    number = phone_of(app, courier_id)
    p = flows.place(app.db)
    flows.accept(app.db, p)

    publish(app, p)

    [offer] = wait_sms(app, number)
    assert offer.startswith(f"Course {p.order_id}: Kaloum > Ratoma ")
    assert offer.endswith(f"Repondez A{p.order_id} pour accepter") or offer.endswith(
        f"Répondez A{p.order_id} pour accepter"
    )
    accepted = text(app, number, f"a-{p.order_id}")
    assert phone_of(app, p.seller_id) in accepted
    assert "en route" not in accepted
    picked = text(app, number, f"P{p.order_id}")
    assert phone_of(app, p.buyer_id) in picked
    buyer = phone_of(app, p.buyer_id)
    app.store.wait_for(lambda: any("en route" in m for m in bodies(app, buyer)), timeout=WAIT_S)
    assert "Code bon" in text(app, number, f"D{p.order_id} {p.pin}")
    assert flows.confirm_cash(app.db, p) is True
    with app.db.uow() as s:
        app.rt.dispatcher.dispatch(take_pending_ids(s))  # nothing new: already dispatched
    assert flows.order(app.db, p.order_id).status == OrderStatus.DELIVERED
    assert all(m.num_segments == 1 for m in app.store.twilio_messages(to=number))


def test_ten_couriers_accept_at_once_one_wins_nine_hear_it_is_taken(app: Boutik) -> None:
    couriers = [make_courier(app.db, prefecture="Kaloum") for _ in range(10)]
    numbers = [phone_of(app, c) for c in couriers]
    p = flows.place(app.db)
    flows.accept(app.db, p)
    job_id = flows.publish(app.db, p)
    flows.offer(app.db, job_id, *couriers)  # offered to all ten, without the SMS: only the race
    barrier = threading.Barrier(len(numbers))
    flask_app = app.client.application

    def answer(number: str) -> None:
        barrier.wait()
        response = post_twilio(flask_app.test_client(), SMS, sms_form(number, f"A{p.order_id}"))
        assert response.status_code == 200

    threads = [threading.Thread(target=answer, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # [twilio] sms_segments_per_s = 1: ten answers leave over about ten seconds, real time on
    # any machine, plus the usual wait for the work.
    replies = [wait_sms(app, n, timeout=10 + WAIT_S)[-1] for n in numbers]

    won = [r for r in replies if "a vous" in r or "à vous" in r]
    lost = [r for r in replies if "deja prise" in r or "déjà prise" in r]
    assert (len(won), len(lost)) == (1, 9), replies
    assert flows.job(app.db, job_id).courier_id is not None


def test_wrong_pin_countdown_and_lock_over_http(app: Boutik) -> None:
    courier_id = make_courier(app.db, prefecture="Kaloum")
    number = phone_of(app, courier_id)
    p = flows.place(app.db)
    flows.to_picked_up(app.db, p, courier_id)
    wrong = "000000" if p.pin != "000000" else "111111"

    answers = [text(app, number, f"D{p.order_id} {wrong}") for _ in range(5)]

    assert "Essais restants: 4" in answers[0] and "Essais restants: 1" in answers[3]
    assert "bloque" in answers[4] or "bloqué" in answers[4]
    assert flows.code(app.db, p.order_id).failed_attempts == 5


# --- the QR page ---------------------------------------------------------------------------------


def _picked_up_order(app: Boutik) -> tuple[flows.Placed, int, str]:
    courier_id = make_courier(app.db, prefecture="Kaloum")
    p = flows.place(app.db)
    flows.to_picked_up(app.db, p, courier_id)
    return p, courier_id, phone_of(app, courier_id)


def test_the_qr_page_sends_the_courier_a_link_that_confirms_the_delivery(app: Boutik) -> None:
    p, courier_id, number = _picked_up_order(app)

    page = app.client.get(f"/q/{p.token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (
        str(p.order_id) in html and "<script" not in html and "http" not in html.split("<body>")[1]
    )
    assert phone_of(app, p.buyer_id) not in html and "GNF" not in html

    sent = app.client.post(f"/q/{p.token}")
    assert sent.status_code == 200
    [sms] = wait_sms(app, number)
    url = re.search(r"https?://\S+", sms).group(0)  # type: ignore[union-attr]
    path = url.removeprefix("https://boutik.example.gn")
    app.client.post(f"/q/{p.token}")  # pressed twice: still one SMS
    confirm_page = app.client.get(path)
    assert confirm_page.status_code == 200
    assert flows.code(app.db, p.order_id).used_at is None  # a GET never confirms

    done = app.client.post(path)

    assert done.status_code == 200 and str(p.order_id) in done.get_data(as_text=True)
    code = flows.code(app.db, p.order_id)
    assert code.used_by == courier_id and code.proof == "qr"
    assert len(bodies(app, number)) == 1
    assert flows.outbox(app.db, user_id=p.buyer_id, kind="confirm_cash")
    # The same link and the QR again: used.
    assert app.client.post(path).status_code == 410
    assert app.client.get(f"/q/{p.token}").status_code == 410


def test_qr_page_for_expired_forged_and_tampered_tokens(app: Boutik) -> None:
    p, _courier_id, number = _picked_up_order(app)

    assert app.client.get("/q/" + "x" * 43).status_code == 404
    assert app.client.post("/q/" + "x" * 43).status_code == 404
    app.client.post(f"/q/{p.token}")
    [sms] = wait_sms(app, number)
    path = re.search(r"/q/c/\S+", sms).group(0)  # type: ignore[union-attr]
    order_part, user_part, expires, mac = path.removeprefix("/q/c/").split(".")
    forged_mac = f"/q/c/{order_part}.{user_part}.{expires}.{'A' * len(mac)}"
    other_user = f"/q/c/{order_part}.{int(user_part) + 1}.{expires}.{mac}"
    later = f"/q/c/{order_part}.{user_part}.{int(expires) + 3600}.{mac}"
    for bad in (forged_mac, other_user, later, "/q/c/garbage"):
        assert app.client.post(bad).status_code == 403, bad
    assert flows.code(app.db, p.order_id).used_at is None

    clock.advance(dt.timedelta(days=8))
    try:
        assert app.client.get(f"/q/{p.token}").status_code == 410
        assert app.client.post(path).status_code == 403  # the link expired long before
    finally:
        clock.reset()


def test_qr_page_before_pickup_does_not_text_anyone(app: Boutik) -> None:
    courier_id = make_courier(app.db, prefecture="Kaloum")
    p = flows.place(app.db)
    flows.to_assigned(app.db, p, courier_id)
    assert app.client.post(f"/q/{p.token}").status_code == 409
    with app.db.session() as s:
        assert s.scalar(select(User.phone).where(User.id == courier_id))
    assert not flows.outbox(app.db, user_id=courier_id, kind="courier_qr_link")


def test_a_courier_texting_on_is_offered_the_job_already_open_near_them(app: Boutik) -> None:
    courier_id = make_courier(app.db, prefecture="Kaloum", available=False)
    number = phone_of(app, courier_id)
    p = flows.place(app.db)
    flows.accept(app.db, p)
    job_id = flows.publish(app.db, p)  # no waves here: only switching ON can offer it

    text(app, number, "on")

    offer = wait_sms(app, number, 2)[-1]
    assert offer.startswith(f"Course {p.order_id}: Kaloum > ")
    text(app, number, "ON")  # again: no second offer
    assert sum(b.startswith("Course ") for b in bodies(app, number)) == 1
    assert flows.job(app.db, job_id).status.value == "open"
