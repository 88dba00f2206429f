"""Provider contracts: does a request we make (or a payload an emulator makes) fit the spec?

The facts come from the providers' own API descriptions (`scripts/derive_contract_facts.py`
writes `provider_facts.json` beside this file). Why not trust the emulators: they were written
here, from our reading of the docs, and a test that only talks to them can stay green while
production breaks. The emulators record every request they receive (`EmulatorStore.raw_requests`)
and the contract tests check each one here: an unknown parameter, a missing required one, a
value of the wrong type or past a documented limit is a violation.
"""

from __future__ import annotations

from collections.abc import Iterable

from devtools.contracts.common import FACTS_PATH, RawRequest, facts
from devtools.contracts.telegram import telegram_method, telegram_violations
from devtools.contracts.twilio import twilio_call, twilio_violations

__all__ = [
    "FACTS_PATH",
    "RawRequest",
    "facts",
    "telegram_method",
    "telegram_violations",
    "twilio_call",
    "twilio_violations",
    "violations",
]


def violations(requests: Iterable[RawRequest]) -> list[str]:
    """Every contract violation among an emulator's recorded requests."""
    found = []
    for request in requests:
        if "/telegram/" in request.path or request.path.startswith("/bot"):
            found += telegram_violations(request)
        else:
            found += twilio_violations(request)
    return found
