"""What a run pays: km × rate + bonus, never under the minimum, in whole GNF; km from GPS pins
when both ends have one, else from quartier centres; and a raised bonus re-prices a job to
what the formula gives a new job with that bonus."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from commerce import geo, rules
from commerce.delivery import actions as delivery
from commerce.delivery import pricing
from commerce.delivery.models import DeliveryJob, JobKind
from commerce.errors import AddressInvalid, InvalidInput
from commerce.returns import actions as returns
from tests.support import make_buyer, make_seller
from tests.unit import flows


@dataclass
class Spot:
    region: str = "Conakry"
    prefecture: str = ""
    quartier: str = ""
    lat: float | None = None
    lng: float | None = None


def configure(rate: int = 2_000, minimum: int = 10_000) -> rules.Rules:
    """The rules a deployment with this rate and minimum would hand the pricing functions."""
    return rules.Rules(rate_per_km=rate, minimum_commission=minimum)


# --- the formula --------------------------------------------------------------------------


def test_the_defaults_are_2000_per_km_and_a_10000_minimum():
    assert pricing.commission(distance_km=7, rules=rules.DEFAULT) == 14_000
    assert pricing.commission(distance_km=1, rules=rules.DEFAULT) == 10_000


def test_commission_is_km_times_the_configured_rate():
    r = configure(rate=2_500, minimum=0)
    assert pricing.commission(distance_km=7, rules=r) == 17_500


def test_commission_never_under_the_minimum():
    assert pricing.commission(distance_km=0, rules=rules.DEFAULT) == 10_000
    r = configure(minimum=12_000)
    assert pricing.commission(distance_km=5.5, rules=r) == 12_000


def test_the_bonus_is_added_before_the_minimum():
    assert pricing.commission(distance_km=7, bonus=3_000, rules=rules.DEFAULT) == 17_000
    # 2 000 + 5 000 is still under the minimum: the floor applies to the sum.
    assert pricing.commission(distance_km=1, bonus=5_000, rules=rules.DEFAULT) == 10_000
    assert pricing.commission(distance_km=4, bonus=5_000, rules=rules.DEFAULT) == 13_000


@pytest.mark.parametrize(
    ("km", "expected"), [(1.2344, 1234), (1.2346, 1235), (1.2345, 1235), (2.5005, 2501)]
)
def test_commission_rounds_to_whole_francs_half_up(km, expected):
    r = configure(rate=1_000, minimum=0)
    got = pricing.commission(distance_km=km, rules=r)
    assert got == expected
    assert isinstance(got, int)


@pytest.mark.parametrize(
    ("km", "bonus", "rate", "minimum"),
    [
        (-0.1, 0, 2_000, 10_000),
        (float("nan"), 0, 2_000, 10_000),
        (1, -1, 2_000, 10_000),
        (1, 0, -1, 10_000),
        (1, 0, 2_000, -1),
    ],
)
def test_commission_refuses_negative_inputs(km, bonus, rate, minimum):
    r = configure(rate=rate, minimum=minimum)
    with pytest.raises(ValueError):
        pricing.commission(distance_km=km, bonus=bonus, rules=r)


@pytest.mark.parametrize("bonus", [-1, 1.5, True, "5000", None, pricing.MAX_BONUS + 1])
def test_a_bonus_is_a_whole_number_of_gnf_up_to_the_cap(bonus):
    with pytest.raises(InvalidInput):
        pricing.check_bonus(bonus)


@pytest.mark.parametrize("bonus", [0, 1, pricing.MAX_BONUS])
def test_bonuses_within_the_cap_pass(bonus):
    assert pricing.check_bonus(bonus) == bonus


# --- the distance -------------------------------------------------------------------------


def test_km_between_quartier_centres():
    boulbinet, kipe = (
        Spot(prefecture="Kaloum", quartier="Boulbinet"),
        Spot(prefecture="Ratoma", quartier="Kipé"),
    )
    km = round(
        geo.haversine_km(
            geo.locate(prefecture="Kaloum", quartier="Boulbinet"),
            geo.locate(prefecture="Ratoma", quartier="Kipé"),
        ),
        2,
    )
    assert 12 < km < 13
    assert pricing.quote(boulbinet, kipe, rules=rules.DEFAULT) == (km, int(km * 2_000 + 0.5))


def test_gps_pins_beat_the_quartier_names():
    # Both pins 1.5 km apart along a meridian (1° of latitude is 111.195 km), whatever the
    # quartier names say.
    dlat = 1.5 / 111.195
    a = Spot(prefecture="Kaloum", quartier="Boulbinet", lat=9.50, lng=-13.70)
    b = Spot(prefecture="Ratoma", quartier="Kipé", lat=9.50 + dlat, lng=-13.70)
    km, commission = pricing.quote(a, b, rules=rules.DEFAULT)
    assert km == 1.5
    assert commission == 10_000  # 3 000 GNF of run: the minimum
    r = configure(minimum=0)
    assert pricing.quote(a, b, rules=r) == (1.5, 3_000)


def test_one_pin_is_not_enough_the_quartier_centre_is_used():
    a = Spot(prefecture="Kaloum", quartier="Boulbinet", lat=9.60)  # no longitude
    b = Spot(prefecture="Kaloum", quartier="Boulbinet")
    assert pricing.quote(a, b, rules=rules.DEFAULT) == (0.0, 10_000)


def test_a_prefecture_alone_prices_from_its_centre_and_nowhere_is_refused():
    assert (
        pricing.quote(
            Spot(prefecture="Kaloum"), Spot(prefecture="Kaloum"), rules=rules.DEFAULT
        ).distance_km
        == 0
    )
    with pytest.raises(AddressInvalid):
        pricing.quote(
            Spot(prefecture="Kaloum"), Spot(region="", prefecture="Atlantis"), rules=rules.DEFAULT
        )


def test_the_quote_carries_the_bonus_and_refuses_a_bad_one():
    far = (Spot(prefecture="Kaloum", quartier="Boulbinet"), Spot(prefecture="Ratoma"))
    km, base = pricing.quote(*far, rules=rules.DEFAULT)
    assert pricing.quote(*far, bonus=2_000, rules=rules.DEFAULT) == (km, base + 2_000)
    with pytest.raises(InvalidInput):
        pricing.quote(*far, bonus=-5, rules=rules.DEFAULT)


# --- re-pricing ---------------------------------------------------------------------------


def short_job(**kwargs) -> DeliveryJob:
    """A 1.5 km run: 3 000 GNF of km, so it pays the 10 000 GNF minimum."""
    fields = {
        "kind": JobKind.RETURN_PICKUP,
        "from_lat": 9.51,
        "from_lng": -13.70,
        "to_lat": 9.52,
        "to_lng": -13.70,
        "distance_km": 1.5,
        "bonus": 0,
        "commission": pricing.commission(distance_km=1.5, rules=rules.DEFAULT),
    }
    return DeliveryJob(**(fields | kwargs))


def test_repricing_a_short_run_keeps_the_minimum_rule():
    job = short_job()
    assert job.commission == 10_000
    pricing.reprice(job, bonus=5_000, rules=rules.DEFAULT)
    # The formula for a new job: max(10 000, 3 000 + 5 000) = 10 000, not 10 000 + 5 000.
    assert (job.bonus, job.commission) == (
        5_000,
        pricing.commission(distance_km=1.5, bonus=5_000, rules=rules.DEFAULT),
    )
    assert job.commission == 10_000
    pricing.reprice(job, bonus=9_000, rules=rules.DEFAULT)
    assert job.commission == 12_000
    pricing.reprice(job, bonus=0, rules=rules.DEFAULT)  # lowering it back gives the bare run again
    assert job.commission == 10_000


def test_repricing_refuses_a_bad_bonus_and_changes_nothing():
    job = short_job()
    with pytest.raises(InvalidInput):
        pricing.reprice(job, bonus=-1, rules=rules.DEFAULT)
    assert (job.bonus, job.commission) == (0, 10_000)


def test_a_run_that_could_not_be_placed_stays_unpaid():
    job = short_job(from_lat=None, from_lng=None, distance_km=0.0, commission=0)
    pricing.reprice(job, bonus=5_000, rules=rules.DEFAULT)
    assert (job.bonus, job.commission) == (5_000, pricing.UNPLACED.commission)


def test_raising_the_bonus_of_a_short_return_pickup_pays_what_a_new_job_would(db):
    """Regression: the pickup was re-priced as commission − old bonus + new bonus, so a run
    paid the minimum kept it and added the whole bonus on top (10 000 + 5 000 = 15 000)."""
    seller = make_seller(db, prefecture="Kaloum", quartier="Boulbinet")
    buyer = make_buyer(db, prefecture="Kaloum", quartier="Sandervalia")  # about 1.4 km
    p = flows.place(db, seller=seller, buyer=buyer, quantity=1)
    flows.deliver(db, p)
    with db.uow() as s:
        ret = returns.request_return(
            s, buyer_id=p.buyer_id, order_id=p.order_id, items=[(p.item_id, 1)], reason="trop petit"
        )
        returns.approve_return(s, seller_id=p.seller_id, return_id=ret.id)
        job_id = s.scalar(select(DeliveryJob.id).where(DeliveryJob.return_id == ret.id))
    job = flows.job(db, job_id)
    assert job.kind == JobKind.RETURN_PICKUP
    assert 1 < job.distance_km < 2 and job.distance_km * 2_000 < 10_000
    assert job.commission == 10_000  # the minimum
    with db.uow() as s:
        delivery.raise_bonus(s, seller_id=p.seller_id, job_id=job_id, bonus=5_000)
    job = flows.job(db, job_id)
    assert job.bonus == 5_000
    assert job.commission == pricing.commission(
        distance_km=job.distance_km, bonus=5_000, rules=rules.DEFAULT
    )
    assert job.commission == 10_000
