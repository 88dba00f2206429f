"""Courier jobs: the computed commission, one winner per job, at most 5 active jobs per
courier, only approved and active couriers."""

from __future__ import annotations

import pytest

from commerce import geo, rules
from commerce.delivery import actions as delivery
from commerce.delivery.models import CourierStatus, JobStatus
from commerce.errors import (
    AccountInactive,
    AddressInvalid,
    AlreadyExists,
    CourierUnavailable,
    IllegalTransition,
    InvalidInput,
    JobTaken,
    NotFound,
    PermissionDenied,
    ReasonRequired,
    TooManyJobs,
)
from commerce.orders import actions as orders
from commerce.orders.models import OrderStatus
from commerce.users import actions as users
from commerce.users.models import Role
from tests.support import courier_row, ensure_admin, make_courier, make_seller, phone
from tests.unit import flows


def accepted(db, **kwargs) -> flows.Placed:
    p = flows.place(db, **kwargs)
    flows.accept(db, p)
    return p


def pending_courier(db) -> int:
    with db.uow() as s:
        user = users.get_or_create_by_phone(s, phone=phone(), name="Sekou", role=Role.COURIER)
        delivery.register_courier(s, user_id=user.id, prefecture="Matam", vehicle="moto")
        return user.id


# --- publishing ---------------------------------------------------------------------------


def test_published_job_carries_the_computed_commission_plus_bonus(db):
    p = accepted(db)  # Kaloum/Boulbinet → Ratoma/Kipé, about 12.5 km
    job_id = flows.publish(db, p, bonus=5_000)
    j = flows.job(db, job_id)
    km = round(
        geo.haversine_km(
            geo.locate(prefecture="Kaloum", quartier="Boulbinet"),
            geo.locate(prefecture="Ratoma", quartier="Kipé"),
        ),
        2,
    )
    assert j.status == JobStatus.OPEN and j.courier_id is None
    assert j.distance_km == pytest.approx(km)
    assert j.bonus == 5_000
    assert j.commission == int(km * 2_000 + 0.5) + 5_000
    assert None not in (j.from_lat, j.from_lng, j.to_lat, j.to_lng)


def test_raising_the_bonus_reprices_the_open_job(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    base = flows.job(db, job_id).commission
    with db.uow() as s:
        delivery.raise_bonus(s, seller_id=p.seller_id, job_id=job_id, bonus=3_000)
    assert flows.job(db, job_id).commission == base + 3_000
    flows.claim(db, make_courier(db), job_id)
    with pytest.raises(JobTaken), db.uow() as s:
        delivery.raise_bonus(s, seller_id=p.seller_id, job_id=job_id, bonus=9_000)
    assert flows.job(db, job_id).commission == base + 3_000


@pytest.mark.parametrize("bonus", [-1, 1.5, True, delivery.MAX_BONUS + 1])
def test_bad_bonus_is_refused(db, bonus):
    p = accepted(db)
    before = flows.snapshot(db)
    with pytest.raises(InvalidInput):
        flows.publish(db, p, bonus=bonus)
    assert flows.snapshot(db) == before


def test_only_the_orders_seller_publishes(db):
    p = accepted(db)
    intruder, _shop = make_seller(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        delivery.publish_job(s, seller_id=intruder, order_id=p.order_id)
    assert flows.delivery_job(db, p.order_id) is None


# --- one winner ---------------------------------------------------------------------------


def test_first_acceptance_wins_the_second_gets_job_taken(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    first, second = make_courier(db), make_courier(db)
    flows.offer(db, job_id, first, second)
    flows.claim(db, first, job_id)
    before = flows.snapshot(db)
    with pytest.raises(JobTaken):
        flows.claim(db, second, job_id)
    assert flows.snapshot(db) == before
    j = flows.job(db, job_id)
    assert j.status == JobStatus.CLAIMED and j.courier_id == first
    o = flows.order(db, p.order_id)
    assert o.status == OrderStatus.COURIER_ASSIGNED and o.courier_id == first
    assert flows.history(db, p.order_id)[-1] == ("accepted", "courier_assigned", first)
    assert len(flows.outbox(db, user_id=p.seller_id, kind="job_claimed")) == 1
    assert len(flows.outbox(db, user_id=p.buyer_id, kind="courier_assigned")) == 1


def test_the_same_courier_cannot_claim_twice(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    courier = make_courier(db)
    flows.claim(db, courier, job_id)
    with pytest.raises(JobTaken):
        flows.claim(db, courier, job_id)


def test_unknown_job(db):
    with pytest.raises(NotFound):
        flows.claim(db, make_courier(db), 424_242)


def test_a_job_not_offered_to_a_courier_cannot_be_taken_by_him(db):
    """Job ids are sequential: an approved courier guessing one he was never offered."""
    p = accepted(db)
    job_id = flows.publish(db, p)
    stranger = make_courier(db)
    before = flows.snapshot(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        delivery.claim_job(s, courier_user_id=stranger, job_id=job_id)
    assert flows.snapshot(db) == before
    flows.offer(db, job_id, stranger)  # once a wave offers it to him, he may
    flows.claim(db, stranger, job_id)
    assert flows.job(db, job_id).courier_id == stranger


# --- at most five active jobs --------------------------------------------------------------


def test_a_courier_holds_at_most_five_active_jobs(db):
    courier = make_courier(db)
    seller = make_seller(db)
    placed = [accepted(db, seller=seller) for _ in range(6)]
    jobs = [flows.publish(db, p) for p in placed]
    for job_id in jobs[:5]:
        flows.claim(db, courier, job_id)
    with pytest.raises(TooManyJobs) as exc:
        flows.claim(db, courier, jobs[5])
    assert exc.value.params["max"] == 5
    assert flows.job(db, jobs[5]).status == JobStatus.OPEN
    with db.session() as s:
        assert delivery.active_job_count(s, courier) == 5
    # Picked-up jobs still count; a finished one frees a place.
    flows.pick_up(db, courier, jobs[0])
    with pytest.raises(TooManyJobs):
        flows.claim(db, courier, jobs[5])
    flows.prove_pin(db, courier, placed[0])
    flows.confirm_cash(db, placed[0])
    flows.claim(db, courier, jobs[5])
    assert flows.job(db, jobs[5]).courier_id == courier


def test_a_seller_cannot_assign_a_sixth_job_either(db):
    rules.bind(db.factory, rules.Rules(max_active_jobs=1))
    courier = make_courier(db)
    seller = make_seller(db)
    p1, p2 = accepted(db, seller=seller), accepted(db, seller=seller)
    with db.uow() as s:
        delivery.assign_courier(
            s, seller_id=p1.seller_id, order_id=p1.order_id, courier_user_id=courier
        )
    before = flows.snapshot(db)
    with pytest.raises(TooManyJobs), db.uow() as s:
        delivery.assign_courier(
            s, seller_id=p2.seller_id, order_id=p2.order_id, courier_user_id=courier
        )
    assert flows.snapshot(db) == before
    assert flows.order(db, p2.order_id).status == OrderStatus.ACCEPTED


def test_cancelled_jobs_do_not_count(db):
    rules.bind(db.factory, rules.Rules(max_active_jobs=1))
    courier = make_courier(db)
    p1, p2 = accepted(db), accepted(db)
    flows.claim(db, courier, flows.publish(db, p1))
    with db.uow() as s:
        orders.cancel_order(s, buyer_id=p1.buyer_id, order_id=p1.order_id)
    flows.claim(db, courier, flows.publish(db, p2))


# --- who may take jobs --------------------------------------------------------------------


def test_an_unapproved_courier_is_refused(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    newcomer = pending_courier(db)
    assert courier_row(db, newcomer).status == CourierStatus.PENDING
    with pytest.raises(CourierUnavailable):
        flows.claim(db, newcomer, job_id)
    with pytest.raises(CourierUnavailable), db.uow() as s:
        delivery.set_available(s, user_id=newcomer, available=True)
    with pytest.raises(CourierUnavailable), db.uow() as s:
        delivery.assign_courier(
            s, seller_id=p.seller_id, order_id=p.order_id, courier_user_id=newcomer
        )
    assert flows.job(db, job_id).status == JobStatus.OPEN


def test_a_refused_courier_is_refused_and_refusal_needs_a_reason(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    newcomer = pending_courier(db)
    cid = courier_row(db, newcomer).id
    with pytest.raises(ReasonRequired), db.uow() as s:
        delivery.decide_courier(s, admin_id=ensure_admin(db), courier_id=cid, approve=False)
    with db.uow() as s:
        delivery.decide_courier(
            s, admin_id=ensure_admin(db), courier_id=cid, approve=False, reason="pas de permis"
        )
    with pytest.raises(CourierUnavailable):
        flows.claim(db, newcomer, job_id)
    [told] = flows.outbox(db, user_id=newcomer, kind="courier_refused")
    assert told.payload["params"]["reason"] == "pas de permis"


def test_a_deactivated_courier_is_refused(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    courier = make_courier(db)
    with db.uow() as s:
        users.set_user_active(s, admin_id=ensure_admin(db), user_id=courier, active=False)
    with pytest.raises(AccountInactive):
        flows.claim(db, courier, job_id)


def test_a_buyer_is_not_a_courier(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    with pytest.raises(NotFound):
        flows.claim(db, p.buyer_id, job_id)
    assert flows.job(db, job_id).status == JobStatus.OPEN


def test_register_courier_validates(db):
    newcomer = pending_courier(db)
    with pytest.raises(AlreadyExists), db.uow() as s:
        delivery.register_courier(s, user_id=newcomer, prefecture="Matam", vehicle="moto")
    with db.uow() as s:
        other = users.get_or_create_by_phone(s, phone=phone()).id
    with pytest.raises(InvalidInput), db.uow() as s:
        delivery.register_courier(s, user_id=other, prefecture="Matam", vehicle="fusée")
    with pytest.raises(AddressInvalid), db.uow() as s:
        delivery.register_courier(s, user_id=other, prefecture="Paris", vehicle="moto")


def test_admins_are_told_of_a_new_courier(db):
    admin = ensure_admin(db)
    newcomer = pending_courier(db)
    [told] = flows.outbox(db, user_id=admin, kind="courier_pending")
    assert told.payload["params"]["courier_id"] == courier_row(db, newcomer).id


# --- the courier's side of the job -----------------------------------------------------------


def test_only_the_courier_of_the_job_picks_it_up_and_only_once(db):
    p = accepted(db)
    job_id = flows.publish(db, p)
    courier, stranger = make_courier(db), make_courier(db)
    flows.claim(db, courier, job_id)
    with pytest.raises(PermissionDenied):
        flows.pick_up(db, stranger, job_id)
    flows.pick_up(db, courier, job_id)
    with pytest.raises(IllegalTransition):
        flows.pick_up(db, courier, job_id)
    assert flows.order(db, p.order_id).status == OrderStatus.PICKED_UP
    assert len(flows.outbox(db, user_id=p.buyer_id, kind="order_picked_up")) == 1


def test_job_for_order_number(db):
    p = flows.place(db)
    courier, job_id = flows.to_assigned(db, p)
    other = make_courier(db)
    with db.session() as s:
        assert delivery.job_for_order_number(s, user_id=courier, order_id=p.order_id).id == job_id
        with pytest.raises(NotFound):
            delivery.job_for_order_number(s, user_id=other, order_id=p.order_id)


def test_earnings_count_finished_jobs(db):
    p = flows.place(db)
    courier = flows.deliver(db, p)
    commission = flows.delivery_job(db, p.order_id).commission
    with db.session() as s:
        e = delivery.earnings(s, user_id=courier)
    assert (e.today, e.week, e.unpaid, e.done_today) == (commission, commission, commission, 1)


def test_offers_go_to_available_approved_couriers_nearest_first(db):
    near = make_courier(db, prefecture="Kaloum", quartier="Boulbinet")
    far = make_courier(db, prefecture="Ratoma", quartier="Kipé")
    make_courier(db, prefecture="Kaloum", quartier="Boulbinet", available=False)
    pending_courier(db)
    point = geo.locate(prefecture="Kaloum", quartier="Boulbinet")
    with db.session() as s:
        found = delivery.available_couriers_near(s, point=point, radius_km=50)
        close = delivery.available_couriers_near(s, point=point, radius_km=3)
    assert [c.user_id for c, _km in found] == [near, far]
    assert [c.user_id for c, _km in close] == [near]
