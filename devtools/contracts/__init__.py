"""Provider contracts: does a request we make (or a payload an emulator makes) fit the spec?

The facts come from the providers' own API descriptions (`scripts/derive_contract_facts.py`
writes `provider_facts.json` beside this file). Why not trust the emulators: they were written
here, from our reading of the docs, and a test that only talks to them can stay green while
production breaks. The emulators record every request they receive (`EmulatorStore.raw_requests`)
and every answer they give (`EmulatorStore.raw_responses`); the contract tests check each one
here: an unknown parameter or field, a missing required one, a value of the wrong type or past a
documented limit is a violation — in what we send and in what the emulator answers in the
provider's place (Twilio's answers against the response schemas, Telegram's against the
methods' return types). Updates our test builders post are checked with
`telegram_update_violations`, and the webhooks the Twilio emulator posts
(`EmulatorStore.sent_webhooks`) against the parameters Twilio documents.
"""

from __future__ import annotations

from collections.abc import Iterable

from devtools.contracts.common import FACTS_PATH, RawRequest, RawResponse, RawWebhook, facts
from devtools.contracts.meta import (
    is_meta,
    meta_response_violations,
    meta_violations,
    meta_webhook_violations,
)
from devtools.contracts.telegram import (
    telegram_method,
    telegram_response_violations,
    telegram_result_violations,
    telegram_update_violations,
    telegram_violations,
)
from devtools.contracts.twilio import twilio_call, twilio_response_violations, twilio_violations
from devtools.contracts.twilio_webhooks import twilio_webhook_violations

__all__ = [
    "FACTS_PATH",
    "RawRequest",
    "RawResponse",
    "RawWebhook",
    "facts",
    "meta_response_violations",
    "meta_violations",
    "meta_webhook_violations",
    "response_violations",
    "telegram_method",
    "telegram_response_violations",
    "telegram_result_violations",
    "telegram_update_violations",
    "telegram_violations",
    "twilio_call",
    "twilio_response_violations",
    "twilio_violations",
    "twilio_webhook_violations",
    "violations",
    "webhook_violations",
]


def _is_telegram(path: str) -> bool:
    return "/telegram/" in path or path.startswith("/bot")


def violations(requests: Iterable[RawRequest]) -> list[str]:
    """Every contract violation among an emulator's recorded requests."""
    found = []
    for request in requests:
        if is_meta(request.path):
            found += meta_violations(request)
        elif _is_telegram(request.path):
            found += telegram_violations(request)
        else:
            found += twilio_violations(request)
    return found


def response_violations(responses: Iterable[RawResponse]) -> list[str]:
    """Every contract violation among an emulator's recorded answers: Telegram's against the
    methods' return types, Twilio's (JSON ones) against the spec's response schemas."""
    found = []
    for response in responses:
        if is_meta(response.path):
            found += meta_response_violations(response)
            continue
        if _is_telegram(response.path):
            found += telegram_response_violations(response)
            continue
        call = twilio_call(response.method, response.path)
        if call is not None and response.json_body is not None:
            found += twilio_response_violations(call, response.status, response.json_body)
    return found


def webhook_violations(webhooks: Iterable[RawWebhook]) -> list[str]:
    """Every webhook an emulator posted with a parameter or value the provider does not
    document (Twilio's forms; Meta's JSON status webhooks, kind "meta_status")."""
    found = []
    for webhook in webhooks:
        if webhook.kind == "meta_status":
            found += meta_webhook_violations(dict(webhook.form))
        elif webhook.kind in ("inbound", "status_callback"):
            found += twilio_webhook_violations(webhook.kind, webhook.form)  # type: ignore[arg-type]
    return found
