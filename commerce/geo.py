"""Guinea's administrative geography, place lookups and distances.

Buyers type places the way they say them ("nzerekore", "KIPE", "Belle Vue"), and couriers are
paid by the kilometre, so the core needs a shipped gazetteer it can trust offline: the data
lives in `geo_data/guinea.json` (8 regions, 33 prefectures, Conakry's 5 communes, and the main
quartiers with approximate centres), and this module turns it into frozen, typed objects.

Nothing here talks to a network or a chat platform: a geocoding service would happily turn
"Madina" into Medina, Saudi Arabia. What a run pays is `commerce.delivery.pricing`'s business.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from commerce.text import fold

EARTH_RADIUS_KM = 6371.0088
"""Mean earth radius (IUGG): the best single sphere for short, equatorial-ish distances."""

Point = tuple[float, float]


def normalize_name(s: str) -> str:
    """Fold a place name for comparison: "N'Zérékoré" → "n zerekore", "Belle-Vue" → "belle vue".

    Lowercase, accents stripped (NFKD), hyphens, apostrophes and runs of spaces folded to one
    space, ends stripped. This is the same folding search uses (`commerce.text.fold`), so a
    place typed into a search box and into an address form compare alike.
    """
    return fold(s)


def _key(s: str) -> str:
    """Lookup key: the folded name without spaces.

    Spelling varies on whether an apostrophe or hyphen splits a name ("N'Zérékoré" and
    "Nzérékoré", "Dar-es-Salam" and "Daressalam"), so lookups ignore the gaps entirely.
    """
    return normalize_name(s).replace(" ", "")


@dataclass(frozen=True)
class Place:
    """A named point: the centre used when the buyer gives a name instead of a GPS pin."""

    name: str
    lat: float
    lng: float

    @property
    def point(self) -> Point:
        return (self.lat, self.lng)


@dataclass(frozen=True)
class Quartier(Place):
    """A neighbourhood of a prefecture's seat (or of a Conakry commune)."""


@dataclass(frozen=True)
class Prefecture:
    """A prefecture, or one of Conakry's communes (`kind == "commune"`).

    Conakry has no prefectures: its communes play that role in an address, so they share the
    type and are told apart by `kind`.
    """

    name: str
    kind: str
    lat: float
    lng: float
    quartiers: tuple[Quartier, ...]

    @property
    def point(self) -> Point:
        return (self.lat, self.lng)

    def quartier(self, name: str) -> Quartier | None:
        """The quartier called `name` (accent/case/punctuation-insensitive), or None."""
        key = _key(name)
        return next((q for q in self.quartiers if _key(q.name) == key), None)


@dataclass(frozen=True)
class Region:
    """One of the 8 administrative regions (Conakry counts as one)."""

    name: str
    lat: float
    lng: float
    prefectures: tuple[Prefecture, ...]

    @property
    def point(self) -> Point:
        return (self.lat, self.lng)

    def prefecture(self, name: str) -> Prefecture | None:
        """The prefecture or commune called `name` in this region, or None."""
        key = _key(name)
        return next((p for p in self.prefectures if _key(p.name) == key), None)


@dataclass(frozen=True)
class Guinea:
    """The whole gazetteer, with the lookups the bot and the core use.

    Every lookup is accent-, case- and punctuation-insensitive and returns None when nothing
    matches: an unknown place is an input problem for the caller to word, not an exception.
    """

    source: str
    regions: tuple[Region, ...]

    def region(self, name: str) -> Region | None:
        key = _key(name)
        return next((r for r in self.regions if _key(r.name) == key), None)

    def all_prefectures(self) -> tuple[Prefecture, ...]:
        """The 33 prefectures and Conakry's 5 communes, in data order."""
        return tuple(p for r in self.regions for p in r.prefectures)

    def all_quartiers(self) -> Iterator[tuple[Prefecture, Quartier]]:
        """Every quartier with the prefecture (or commune) that holds it."""
        for pref in self.all_prefectures():
            for q in pref.quartiers:
                yield pref, q

    def prefecture(self, name: str, region: str | None = None) -> Prefecture | None:
        """The prefecture or commune called `name`, within `region` when one is given.

        A `region` that matches nothing yields None rather than a search of the whole
        country: the caller said where to look.
        """
        if region is not None:
            reg = self.region(region)
            return reg.prefecture(name) if reg is not None else None
        key = _key(name)
        return next((p for p in self.all_prefectures() if _key(p.name) == key), None)

    def quartier(
        self, name: str, prefecture: str | None = None, region: str | None = None
    ) -> Quartier | None:
        """The quartier called `name`, within `prefecture` (and/or `region`) when given.

        Quartier names repeat across towns (Kindia has a Manquepas too), so without a
        prefecture the first in data order wins; pass the prefecture when it is known.
        """
        if prefecture is not None:
            pref = self.prefecture(prefecture, region=region)
            return pref.quartier(name) if pref is not None else None
        if region is not None:
            reg = self.region(region)
            scope = reg.prefectures if reg is not None else ()
        else:
            scope = self.all_prefectures()
        for pref in scope:
            found = pref.quartier(name)
            if found is not None:
                return found
        return None

    def region_of(self, prefecture: str | Prefecture) -> Region:
        """The region holding `prefecture` (a name or the object itself).

        Raises KeyError for an unknown prefecture: callers pass a name they have just looked
        up, so a miss is a programming error rather than bad input.
        """
        if isinstance(prefecture, Prefecture):
            for reg in self.regions:
                if any(p is prefecture for p in reg.prefectures):
                    return reg
            name = prefecture.name
        else:
            name = prefecture
        for reg in self.regions:
            if reg.prefecture(name) is not None:
                return reg
        raise KeyError(name)


def _quartier(raw: Mapping[str, Any]) -> Quartier:
    return Quartier(name=raw["name"], lat=float(raw["lat"]), lng=float(raw["lng"]))


def _prefecture(raw: Mapping[str, Any]) -> Prefecture:
    return Prefecture(
        name=raw["name"],
        kind=raw["kind"],
        lat=float(raw["lat"]),
        lng=float(raw["lng"]),
        quartiers=tuple(_quartier(q) for q in raw["quartiers"]),
    )


def _region(raw: Mapping[str, Any]) -> Region:
    return Region(
        name=raw["name"],
        lat=float(raw["lat"]),
        lng=float(raw["lng"]),
        prefectures=tuple(_prefecture(p) for p in raw["prefectures"]),
    )


def parse_guinea(raw: Mapping[str, Any]) -> Guinea:
    """Build the gazetteer from the JSON shape of `geo_data/guinea.json`.

    Counts and bounds are checked by the unit tests against the shipped file, not here, so
    loading stays cheap and a test fixture can be smaller than the real country.
    """
    return Guinea(source=str(raw["source"]), regions=tuple(_region(r) for r in raw["regions"]))


@cache
def guinea() -> Guinea:
    """The shipped gazetteer, parsed once per process (it never changes at run time)."""
    data = resources.files("commerce").joinpath("geo_data", "guinea.json")
    return parse_guinea(json.loads(data.read_text(encoding="utf-8")))


def locate(
    *,
    region: str | None = None,
    prefecture: str | None = None,
    quartier: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
) -> Point | None:
    """The best point we know for an address, most precise first.

    A GPS pin (both `lat` and `lng`) beats any name; then the quartier's centre (looked up
    within the prefecture, and region, when given); then the prefecture's centre; then the
    region's; else None. A name that matches nothing falls through to the next level, so a
    quartier we do not list still prices delivery from its prefecture.
    """
    if lat is not None and lng is not None:
        return (float(lat), float(lng))
    g = guinea()
    if quartier:
        q = g.quartier(quartier, prefecture=prefecture or None, region=region or None)
        if q is not None:
            return q.point
    if prefecture:
        p = g.prefecture(prefecture, region=region or None)
        if p is not None:
            return p.point
    if region:
        r = g.region(region)
        if r is not None:
            return r.point
    return None


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance between two (lat, lng) points in km.

    A sphere is within 0.5 % of the ellipsoid at Guinea's latitudes, far below the error of
    a quartier centre, and needs no dependency.
    """
    lat1, lng1 = map(math.radians, a)
    lat2, lng2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def nearest_quartier(lat: float, lng: float) -> tuple[Prefecture, Quartier]:
    """The listed quartier closest to a point, with its prefecture (or commune).

    Used to label a WhatsApp location pin in words the seller and courier recognise
    ("Kipé, Ratoma"); a linear scan is plenty for ~100 quartiers.
    """
    here = (lat, lng)
    return min(guinea().all_quartiers(), key=lambda pq: haversine_km(here, pq[1].point))
