"""Twilio's webhooks (an inbound message, a status callback): only the parameters Twilio documents.

Twilio's OpenAPI describes the REST API, not the requests Twilio makes to us, so these facts are
hand-kept from Twilio's documentation pages (`provider_facts.json`, `twilio_docs`, each with its
page). Why check our builders at all: a form the test kit or the simulator invents (a parameter
Twilio never sends, a MessageStatus outside its values, an empty From) would let the application
grow to depend on it, and production would never send it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Literal

from devtools.contracts.common import facts

WebhookKind = Literal["inbound", "status_callback"]
# Never empty when Twilio sends them.
_NOT_EMPTY = ("MessageSid", "AccountSid", "From", "To")


@cache
def _names(kind: WebhookKind) -> re.Pattern[str]:
    names = facts()["twilio_docs"][kind]["params"]
    alternatives = (re.escape(n).replace(re.escape("{N}"), "[0-9]") for n in names)
    return re.compile("(?:" + "|".join(alternatives) + ")")


def twilio_webhook_violations(kind: WebhookKind, form: Mapping[str, str]) -> list[str]:
    """Why this form is not one Twilio documents sending ([] when every parameter is)."""
    docs = facts()["twilio_docs"][kind]
    found = [
        f"{kind}: parameter {name!r} is not in {docs['source']}"
        for name in form
        if not _names(kind).fullmatch(name)
    ]
    found += [f"{kind}: {name} is empty" for name in _NOT_EMPTY if form.get(name) == ""]
    if kind == "status_callback":
        statuses = docs["message_status"]
        for name in ("MessageStatus", "SmsStatus"):
            if name in form and form[name] not in statuses:
                found.append(f"{kind}: {name}={form[name]!r} is not one of {statuses}")
        if "MessageStatus" not in form:
            found.append(f"{kind}: MessageStatus missing")
    return found
