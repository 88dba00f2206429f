"""What a delivery run pays: the one home of the courier's commission.

Delivery commission = distance in km × rate per km + bonus, with a minimum (PRODUCT.md); the
rate and the minimum come from config.toml through `commerce.rules`, handed in by the caller
(`rules.of(session)`). The same figure is the
delivery fee the buyer (or the seller, when they pay it) sees at checkout, the commission the
seller is shown before publishing, the pay a job is offered at, and the pay after the seller
raises the bonus: every one of them is computed here, so they cannot drift apart.

The distance is haversine between GPS pins when both ends have one, else between quartier,
prefecture or region centres from the shipped Guinea data (`commerce.geo`, which keeps the
geography and knows nothing of money).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol

from commerce import geo
from commerce.delivery.models import DeliveryJob
from commerce.errors import AddressInvalid, InvalidInput
from commerce.rules import Rules

MAX_BONUS = 1_000_000
"""The largest bonus a seller may add to a run, in GNF (a typo guard, not a business limit)."""


class Place(Protocol):
    """Anything with an address: a shop, an order's destination, the order itself.

    Read-only properties, so a frozen dataclass (an order's Destination) fits as well as a model.
    """

    @property
    def region(self) -> str: ...
    @property
    def prefecture(self) -> str: ...
    @property
    def quartier(self) -> str: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lng(self) -> float | None: ...


class Quote(NamedTuple):
    distance_km: float
    commission: int


UNPLACED = Quote(distance_km=0.0, commission=0)
"""A run we cannot place (a return from a buyer who collected at the shop): it is offered to
nobody, and pays nothing whatever the bonus."""


def point(place: Place) -> geo.Point | None:
    """The best point we know for a place: its GPS pin, else its quartier's (or prefecture's,
    or region's) centre, else None."""
    return geo.locate(
        region=place.region or None,
        prefecture=place.prefecture or None,
        quartier=place.quartier or None,
        lat=place.lat,
        lng=place.lng,
    )


def distance_km(start: geo.Point, end: geo.Point) -> float:
    """Kilometres between two points, to the 10 m: what a run is priced on and what it shows."""
    return round(geo.haversine_km(start, end), 2)


def check_bonus(bonus: object) -> int:
    """A bonus is a whole number of GNF from 0 to MAX_BONUS; anything else is refused."""
    if not isinstance(bonus, int) or isinstance(bonus, bool) or not 0 <= bonus <= MAX_BONUS:
        raise InvalidInput("bonus must be a whole number of GNF", field="bonus")
    return bonus


def commission(*, distance_km: float, bonus: int = 0, rules: Rules) -> int:
    """The courier's commission in whole GNF: km × rate + bonus, never under the minimum.

    The per-km part is rounded half up to the franc (like `commerce.money.percent_of`), the
    bonus is added, and only then is the minimum applied, so a short run with a bonus still
    earns at least the minimum, and a bonus only shows once the run is worth more than it.
    Negative inputs are refused: they would silently lower the courier's pay.
    """
    r = rules
    if not math.isfinite(distance_km) or distance_km < 0:
        raise ValueError(f"distance_km must be a non-negative number, got {distance_km!r}")
    if r.rate_per_km < 0:
        raise ValueError(f"rate_per_km must be non-negative, got {r.rate_per_km!r}")
    if bonus < 0:
        raise ValueError(f"bonus must be non-negative, got {bonus!r}")
    if r.minimum_commission < 0:
        raise ValueError(f"minimum must be non-negative, got {r.minimum_commission!r}")
    per_km = math.floor(distance_km * r.rate_per_km + 0.5)
    return max(int(r.minimum_commission), int(per_km) + int(bonus))


def quote(start: Place, end: Place, *, bonus: int = 0, rules: Rules) -> Quote:
    """(distance km, commission GNF) of a run from `start` to `end`, or AddressInvalid."""
    bonus = check_bonus(bonus)
    a, b = point(start), point(end)
    if a is None or b is None:
        unplaced = end if b is None else start
        raise AddressInvalid("cannot place the address", prefecture=unplaced.prefecture)
    km = distance_km(a, b)
    return Quote(distance_km=km, commission=commission(distance_km=km, bonus=bonus, rules=rules))


def reprice(job: DeliveryJob, *, bonus: int, rules: Rules) -> None:
    """Set a job's bonus and its commission to what a new job over the same run would get.

    The run is the one the job was priced on (its stored distance), so the seller's raise is
    the only change; a run we could not place stays at nothing (`UNPLACED`).
    """
    bonus = check_bonus(bonus)
    placed = None not in (job.from_lat, job.from_lng, job.to_lat, job.to_lng)
    job.bonus = bonus
    job.commission = (
        commission(distance_km=job.distance_km, bonus=bonus, rules=rules) if placed else 0
    )
