"""What every provider's checks share: the facts file and the request as an emulator saw it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

FACTS_PATH = Path(__file__).with_name("provider_facts.json")


@cache
def facts() -> dict[str, Any]:
    return json.loads(FACTS_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RawRequest:
    """One HTTP request as an emulator received it: form fields as lists, a JSON body as is."""

    method: str
    path: str
    form: Mapping[str, list[str]]
    json_body: Any = None
    query: Mapping[str, list[str]] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # names of multipart file parts


@dataclass(frozen=True)
class RawResponse:
    """One answer an emulator gave: the request it answered and the JSON body (None if not JSON).

    Kept beside the requests so that what an emulator *says* is held to the provider's
    description too: a field Twilio never sends, or a status outside its enum, must fail the test
    whose code read it, not pass because our own emulator made it up.
    """

    method: str
    path: str
    status: int
    json_body: Any = None


@dataclass(frozen=True)
class RawWebhook:
    """A webhook an emulator posted to the application (a Twilio status callback): its form."""

    kind: str  # "status_callback" (what the emulator sends); "inbound" for a simulated message
    url: str
    form: Mapping[str, str]
