"""The integrity rules under real concurrency on PostgreSQL."""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select

from bot.buyer.flow import FLOW
from bot.engine import Engine
from bot.messages import InboundKind, InboundMessage
from commerce.cart.actions import add_to_cart
from commerce.delivery import actions as delivery
from commerce.delivery import handover
from commerce.delivery.codes import code_for_order
from commerce.delivery.models import DeliveryCode, DeliveryJob, JobStatus
from commerce.errors import CodeLocked, JobTaken, OutOfStock, TooManyJobs, WrongPin
from commerce.messaging.models import ConversationState
from commerce.orders.actions import accept_order, place_order
from commerce.orders.models import Order
from commerce.users import actions as users
from commerce.users.models import Channel, User
from tests.integration.races import race
from tests.support import (
    Db,
    make_buyer,
    make_courier,
    make_product,
    make_seller,
    phone,
    stock_of,
)
from tests.unit import flows
from tests.webhooks import PUBLIC


def _checkout(session, *, buyer_id, address_id):  # type: ignore[no-untyped-def]
    return place_order(
        session,
        buyer_id=buyer_id,
        address_id=address_id,
        delivery_mode="home",
        commission_payer="buyer",
        payment_method="cash",
    )


def _published_jobs(db: Db, n: int) -> tuple[int, list[int], list[int]]:
    """(seller id, job ids, order ids) for n accepted orders published to couriers."""
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, stock=n)
    buyer_id, address_id = make_buyer(db)
    jobs, orders = [], []
    for _ in range(n):
        with db.uow() as s:
            add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=1)
            order = _checkout(s, buyer_id=buyer_id, address_id=address_id)[0].order
            accept_order(s, seller_id=seller_id, order_id=order.id)
            jobs.append(delivery.publish_job(s, seller_id=seller_id, order_id=order.id).id)
            orders.append(order.id)
    return seller_id, jobs, orders


def test_fifty_concurrent_checkouts_of_ten_in_stock(pg: Db) -> None:
    seller_id, _ = make_seller(pg)
    pid = make_product(pg, seller_id=seller_id, stock=10)
    buyers = [make_buyer(pg) for _ in range(50)]
    for buyer_id, _addr in buyers:
        with pg.uow() as s:
            add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=1)

    results = race(pg, [partial(_checkout, buyer_id=b, address_id=a) for b, a in buyers])

    wins = [r for r in results if isinstance(r, list)]
    losses = [r for r in results if isinstance(r, OutOfStock)]
    assert len(wins) == 10
    assert len(losses) == 40
    assert stock_of(pg, pid) == 0
    with pg.session() as s:
        assert s.scalar(select(func.count(Order.id))) == 10
        assert s.scalar(select(func.count(DeliveryCode.id))) == 10


def test_two_couriers_one_job_exactly_one_winner_100_trials(pg: Db) -> None:
    _seller, jobs, _orders = _published_jobs(pg, 100)
    for job_id in jobs:
        a, b = make_courier(pg), make_courier(pg)
        flows.offer(pg, job_id, a, b)
        results = race(
            pg,
            [
                partial(delivery.claim_job, courier_user_id=a, job_id=job_id),
                partial(delivery.claim_job, courier_user_id=b, job_id=job_id),
            ],
        )
        winners = [r for r in results if isinstance(r, DeliveryJob)]
        assert len(winners) == 1, results
        assert sum(isinstance(r, JobTaken) for r in results) == 1
        with pg.session() as s:
            job = s.get(DeliveryJob, job_id)
            assert job is not None and job.status == JobStatus.CLAIMED
            assert job.courier_id in (a, b)


def test_one_courier_claiming_ten_jobs_at_once_holds_at_most_five(pg: Db) -> None:
    _seller, jobs, _orders = _published_jobs(pg, 10)
    courier = make_courier(pg)
    for job_id in jobs:
        flows.offer(pg, job_id, courier)
    results = race(
        pg, [partial(delivery.claim_job, courier_user_id=courier, job_id=j) for j in jobs]
    )
    assert sum(isinstance(r, DeliveryJob) for r in results) == 5
    assert sum(isinstance(r, TooManyJobs) for r in results) == 5
    with pg.session() as s:
        assert delivery.active_job_count(s, courier) == 5


def test_twenty_concurrent_wrong_pins_count_at_most_five(pg: Db) -> None:
    _seller, jobs, orders = _published_jobs(pg, 1)
    courier = make_courier(pg)
    flows.offer(pg, jobs[0], courier)
    with pg.uow() as s:
        delivery.claim_job(s, courier_user_id=courier, job_id=jobs[0])
        delivery.mark_picked_up(s, user_id=courier, job_id=jobs[0])
        real_pin = code_for_order(s, orders[0]).pin
    wrong = f"{(int(real_pin) + 1) % 1_000_000:06d}"

    results = race(
        pg,
        [
            partial(handover.prove_with_pin, user_id=courier, order_id=orders[0], pin=wrong)
            for _ in range(20)
        ],
    )

    assert all(isinstance(r, WrongPin | CodeLocked) for r in results)
    assert sum(isinstance(r, WrongPin) for r in results) <= 4
    with pg.session() as s:
        code = code_for_order(s, orders[0])
        assert code.failed_attempts == 5
        assert code.locked_at is not None
        assert code.used_at is None
    # Locked means locked: even the right PIN is refused now.
    [after] = race(
        pg, [partial(handover.prove_with_pin, user_id=courier, order_id=orders[0], pin=real_pin)]
    )
    assert isinstance(after, CodeLocked)


def _first_words(number: str, text: str, sid: str) -> InboundMessage:
    return InboundMessage(
        provider="twilio",
        external_id=sid,
        channel=Channel.WHATSAPP,
        address=number,
        profile_name="Aïssatou",
        kind=InboundKind.TEXT,
        text=text,
    )


def test_two_first_messages_at_once_both_get_answers(pg: Db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A new number (and a known person new to a channel) sending two messages together:
    both turns try to create the user; the later one must reuse it, not answer 500 (found by
    the soak benchmark; without users._insert_or_existing this fails with UniqueViolation)."""
    engine = Engine(lambda _u, _m, _c: FLOW, public_base_url=PUBLIC, media_dir=tmp_path)
    for trial in range(8):
        number = phone()
        if trial % 2:  # known person, first message on WhatsApp: only the conversation races
            with pg.uow() as s:
                users.get_or_create_by_phone(s, phone=number, name="Aïssatou")
        turns = race(
            pg,
            [
                partial(engine.handle, msg=_first_words(number, "bonjour", f"SMa{trial}")),
                partial(engine.handle, msg=_first_words(number, "telephone", f"SMb{trial}")),
            ],
        )
        assert all(t.replies for t in turns), turns
        with pg.session() as s:
            assert s.scalar(select(func.count()).where(User.phone == number)) == 1
            convs = select(func.count()).where(ConversationState.address == number)
            assert s.scalar(convs) == 1
