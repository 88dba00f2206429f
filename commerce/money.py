"""Guinean francs: whole numbers, shown as `250 000 GNF`.

Plain spaces, not the narrow no-break space Babel's fr locale uses: the amount must stay
GSM-7 so an SMS with a price is not silently switched to UCS-2 (70 characters a segment).
"""

from __future__ import annotations


def format_gnf(amount: int) -> str:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("GNF amounts are whole numbers")
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,}".replace(",", " ")
    return f"{sign}{digits} GNF"


def percent_of(amount: int, percent: int) -> int:
    """`percent`% of `amount`, rounded half up to a whole franc."""
    return (amount * percent + 50) // 100


def loyalty_points_for(amount: int, *, gnf_per_point: int) -> int:
    """1 point per `gnf_per_point` GNF spent (10 000 by default), rounded down."""
    return max(0, amount) // gnf_per_point
