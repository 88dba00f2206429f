"""The one source of "now" for the core.

Why: the simulator's clock control and the tests jump time (a QR code expiring, the return
window closing) without sleeping; everything that compares against now asks here.
"""

from __future__ import annotations

import datetime as dt

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + _offset


def advance(delta: dt.timedelta) -> None:
    """Move this process's clock forward (simulator and tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = dt.timedelta(0)
