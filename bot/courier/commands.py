"""Reading what couriers type on a feature phone: forgiving, accent- and case-insensitive.

`A1042`, `a 1042`, `A-1042`, `a1042.` all accept job 1042; `D1042 482 913` delivers it with
the PIN 482913. `INSCRIPTION Mamadou Diallo Ratoma moto` (or `JOIN …`) signs up, the vehicle
anywhere after the name, the place as a prefecture/commune (optionally after its quartier).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from commerce import geo
from commerce.text import fold


class Verb(StrEnum):
    ACCEPT = "accept"  # a delivery offer
    RETURN = "return"  # a return pickup offer
    PICKUP = "pickup"  # parcel in hand (at the shop, or at the buyer's for a return)
    DELIVER = "deliver"  # at the door with the PIN, or a return back at the shop


VERBS: dict[str, Verb] = {
    "a": Verb.ACCEPT,
    "accepte": Verb.ACCEPT,
    "accepter": Verb.ACCEPT,
    "accept": Verb.ACCEPT,
    "ok": Verb.ACCEPT,
    "r": Verb.RETURN,
    "retour": Verb.RETURN,
    "return": Verb.RETURN,
    "p": Verb.PICKUP,
    "pris": Verb.PICKUP,
    "recu": Verb.PICKUP,
    "pickup": Verb.PICKUP,
    "picked": Verb.PICKUP,
    "d": Verb.DELIVER,
    "l": Verb.DELIVER,
    "livre": Verb.DELIVER,
    "livree": Verb.DELIVER,
    "delivered": Verb.DELIVER,
    "deliver": Verb.DELIVER,
}
_JOB = re.compile(r"^([a-z]+) ?(\d{1,9})(?: ([\d ]{1,20}))?$")


@dataclass(frozen=True)
class JobCommand:
    verb: Verb
    order_id: int
    pin: str = ""


def parse_job_command(text: str) -> JobCommand | None:
    match = _JOB.match(fold(text))
    if match is None or match.group(1) not in VERBS:
        return None
    pin = (match.group(3) or "").replace(" ", "")
    return JobCommand(VERBS[match.group(1)], int(match.group(2)), pin)


def parse_pin(text: str) -> str | None:
    """A bare PIN ("482913", "482 913") typed after the Telegram "Delivered" button."""
    digits = fold(text).replace(" ", "")
    return digits if digits.isdigit() and 4 <= len(digits) <= 8 else None


VEHICLES: dict[str, str] = {
    "moto": "moto",
    "motos": "moto",
    "motocyclette": "moto",
    "motorbike": "moto",
    "motorcycle": "moto",
    "scooter": "moto",
    "voiture": "voiture",
    "auto": "voiture",
    "car": "voiture",
    "taxi": "voiture",
    "velo": "velo",
    "bicyclette": "velo",
    "bicycle": "velo",
    "bike": "velo",
    "pied": "pied",
    "foot": "pied",
    "walk": "pied",
    "walking": "pied",
    "marche": "pied",
}


@dataclass(frozen=True)
class Place:
    prefecture: str
    quartier: str = ""


@dataclass(frozen=True)
class Join:
    name: str
    place: Place | None
    vehicle: str


def find_place(words: list[str]) -> tuple[Place | None, int]:
    """The place at the end of `words` and how many words it took (up to 3+3)."""
    g = geo.guinea()
    for k in (3, 2, 1):
        if len(words) < k:
            continue
        pref = g.prefecture(" ".join(words[-k:]))
        if pref is None:
            continue
        rest = words[:-k]
        for j in (3, 2, 1):
            if len(rest) >= j and pref.quartier(" ".join(rest[-j:])) is not None:
                quartier = pref.quartier(" ".join(rest[-j:]))
                assert quartier is not None
                return Place(pref.name, quartier.name), k + j
        return Place(pref.name), k
    for k in (3, 2, 1):
        if len(words) < k:
            continue
        wanted = " ".join(words[-k:])
        for pref, quartier in g.all_quartiers():
            if geo.normalize_name(quartier.name) == geo.normalize_name(wanted):
                return Place(pref.name, quartier.name), k
    return None, 0


def parse_place(text: str) -> Place | None:
    return find_place(text.split())[0] if text.strip() else None


def parse_join(text: str) -> Join | None:
    """None when the shape is wrong (no name or no vehicle); `place` None when unknown."""
    words = text.replace(",", " ").split()[1:]  # without INSCRIPTION / JOIN
    vehicle = ""
    for i in range(len(words) - 1, -1, -1):
        if fold(words[i]) in VEHICLES:
            vehicle = VEHICLES[fold(words[i])]
            drop = 2 if i > 0 and fold(words[i - 1]) == "a" and vehicle == "pied" else 1
            words = words[: i - drop + 1] + words[i + 1 :]
            break
    if not vehicle or not words:
        return None
    place, used = find_place(words)
    name = " ".join(words[: len(words) - used]) if place else " ".join(words[:-1])
    if not name:
        return None
    return Join(name=name[:120], place=place, vehicle=vehicle)
