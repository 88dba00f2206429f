"""The Graph API emulator over real HTTP: what it accepts, refuses, answers and posts.

Why real sockets: the Meta sender and `boutik doctor` talk HTTP to it; the status webhooks
leave it on their own thread, signed, to whatever URL the test or the simulator set. Every
request here is held to Meta's spec facts, and every answer and webhook of the emulator too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request

from devtools import contracts
from devtools.emulators import EmulatorStore, create_emulator_app, serve_in_thread
from devtools.testkit.meta_webhooks import (
    META_APP_SECRET,
    META_PHONE_NUMBER_ID,
    META_TOKEN,
    META_VERSION,
    META_WABA_ID,
)
from tests.timing import WAIT_S

BUYER = "+224620000001"
AUTH = {"Authorization": f"Bearer {META_TOKEN}"}


@pytest.fixture(scope="module")
def store() -> EmulatorStore:
    return EmulatorStore()


@pytest.fixture(scope="module")
def root(store: EmulatorStore) -> Iterator[str]:
    app = create_emulator_app(
        store, twilio_account_sid="AC" + "0" * 32, twilio_auth_token="t", telegram_token="1:t"
    )
    base, shutdown = serve_in_thread(app)
    yield f"{base}/meta"
    shutdown()


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """A tiny application that keeps each webhook as received: signature header, raw body."""
    got: list[tuple[str, bytes]] = []
    app = Flask("meta_receiver")

    @app.post("/webhooks/meta/whatsapp")
    def hook() -> tuple[str, int]:
        got.append((request.headers.get("X-Hub-Signature-256", ""), request.get_data()))
        return "", 200

    base, shutdown = serve_in_thread(app)
    yield f"{base}/webhooks/meta/whatsapp", got
    shutdown()


@pytest.fixture(autouse=True)
def _fresh_and_checked(store: EmulatorStore, request: pytest.FixtureRequest) -> Iterator[None]:
    store.reset()
    yield
    if not request.node.get_closest_marker("bad_provider_requests"):
        assert contracts.violations(store.raw_requests()) == []
    said = contracts.response_violations(store.raw_responses())
    said += contracts.webhook_violations(store.sent_webhooks())
    assert said == []


def _send(root: str, body: dict[str, Any], headers: dict[str, str] = AUTH) -> requests.Response:
    url = f"{root}/{META_VERSION}/{META_PHONE_NUMBER_ID}/messages"
    return requests.post(url, json=body, headers=headers, timeout=10)


def _text(to: str = BUYER, body: str = "Bonjour") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }


def _interactive(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": "interactive",
        "interactive": content,
    }


def _statuses(got: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    return [
        json.loads(body)["entry"][0]["changes"][0]["value"]["statuses"][0] for _sig, body in got
    ]


def test_a_text_is_accepted_recorded_and_its_sent_status_posted_signed(
    root: str, store: EmulatorStore, receiver: tuple[str, list[tuple[str, bytes]]]
) -> None:
    url, got = receiver
    got.clear()
    store.set_meta_webhook(url)
    answer = _send(root, _text())
    assert answer.status_code == 200
    body = answer.json()
    assert body["contacts"] == [{"input": BUYER, "wa_id": "224620000001"}]
    wamid = body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    [message] = store.meta_messages(to=BUYER)
    assert (message.id, message.to, message.type) == (wamid, BUYER, "text")
    assert message.payload["text"] == {"body": "Bonjour"}
    store.wait_for(lambda: len(got) >= 1, WAIT_S)
    signature, raw = got[0]
    expected = hmac.new(META_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, "sha256=" + expected)
    assert _statuses(got)[0]["status"] == "sent"
    assert _statuses(got)[0]["recipient_id"] == "224620000001"

    store.advance_meta_status(wamid, "delivered")
    assert store.post_meta_status(wamid, "read") == 200
    assert [s["status"] for s in _statuses(got)] == ["sent", "delivered", "read"]
    assert store.meta_message(wamid).status_history == ("accepted", "sent", "delivered", "read")


def test_free_text_outside_the_window_is_accepted_then_fails_131047_but_a_template_goes(
    root: str, store: EmulatorStore, receiver: tuple[str, list[tuple[str, bytes]]]
) -> None:
    url, got = receiver
    got.clear()
    store.set_meta_webhook(url)
    store.closed_windows.add(BUYER)  # the same knob Twilio's emulator reads
    answer = _send(root, _text())
    assert answer.status_code == 200
    store.wait_for(lambda: len(got) >= 1, WAIT_S)
    [failed] = _statuses(got)
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    assert store.meta_messages()[0].error_code == 131047

    store.meta_add_template("order_update", "fr", "Votre commande {{1}} est prête.")
    template = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"policy": "deterministic", "code": "fr"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "B-42"}]}],
        },
    }
    assert _send(root, template).status_code == 200
    store.wait_for(lambda: len(got) >= 2, WAIT_S)
    assert _statuses(got)[1]["status"] == "sent"


@pytest.mark.bad_provider_requests
def test_what_meta_refuses_is_refused_with_graph_errors(root: str, store: EmulatorStore) -> None:
    def buttons(n: int, title: str = "Choix") -> dict[str, Any]:
        return _interactive(
            {
                "type": "button",
                "body": {"text": "?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": str(i), "title": f"{title}{i}"}}
                        for i in range(n)
                    ]
                },
            }
        )

    def rows(n: int, title: str = "Produit") -> dict[str, Any]:
        return _interactive(
            {
                "type": "list",
                "body": {"text": "?"},
                "action": {
                    "button": "Voir",
                    "sections": [
                        {"rows": [{"id": str(i), "title": f"{title}{i}"} for i in range(n)]}
                    ],
                },
            }
        )

    cases = {
        "4th button": (buttons(4), 100),
        "21-char title": (buttons(1, "x" * 21), 100),
        "25-char row": (rows(1, "x" * 24), 100),
        "11 rows": (rows(11), 131009),
        "empty text": (_text(body=""), 100),
        "bad number": (_text(to="not-a-number"), 100),
    }
    for name, (body, code) in cases.items():
        answer = _send(root, body)
        assert answer.status_code == 400, name
        error = answer.json()["error"]
        assert error["code"] == code, name
        assert error["error_data"]["details"], name
    assert len(store.meta_rejections()) == len(cases)
    assert store.meta_messages() == []

    missing = _send(root, _text(), headers={})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == 104
    wrong = _send(root, _text(), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == 190


def test_location_request_buttons_and_lists_within_the_limits_are_accepted(
    root: str, store: EmulatorStore
) -> None:
    location = _interactive(
        {
            "type": "location_request_message",
            "body": {"text": "Où livrer ?"},
            "action": {"name": "send_location"},
        }
    )
    listing = _interactive(
        {
            "type": "list",
            "body": {"text": "Nos produits"},
            "action": {
                "button": "x" * 20,
                "sections": [
                    {
                        "title": f"Rayon {s}",
                        "rows": [
                            {"id": f"{s}-{i}", "title": "y" * 24, "description": "z" * 72}
                            for i in range(5)
                        ],
                    }
                    for s in range(2)
                ],
            },
        }
    )
    for body in (location, listing):
        assert _send(root, body).status_code == 200
    assert [m.payload["interactive"]["type"] for m in store.meta_messages()] == [
        "location_request_message",
        "list",
    ]


@pytest.mark.bad_provider_requests
def test_templates_are_created_listed_approved_and_only_then_sent(
    root: str, store: EmulatorStore
) -> None:
    base = f"{root}/{META_VERSION}/{META_WABA_ID}/message_templates"
    create = {
        "name": "order_ready",
        "language": "fr",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Commande {{1}} prête, {{2}}.",
                "example": {"body_text": [["B-42", "Mariama"]]},
            }
        ],
    }
    made = requests.post(base, json=create, headers=AUTH, timeout=10)
    assert made.status_code == 200
    assert made.json()["status"] == "PENDING" and made.json()["category"] == "UTILITY"
    again = requests.post(base, json=create, headers=AUTH, timeout=10)
    assert again.status_code == 400 and again.json()["error"]["error_subcode"] == 2388024

    send = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": "template",
        "template": {
            "name": "order_ready",
            "language": {"policy": "deterministic", "code": "fr"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "B-42"},
                        {"type": "text", "text": "Mariama"},
                    ],
                }
            ],
        },
    }
    pending = _send(root, send)
    assert pending.status_code == 404 and pending.json()["error"]["code"] == 132001
    assert store.approve_all_meta_templates() == 1
    listed = requests.get(base, params={"name": "order_ready"}, headers=AUTH, timeout=10).json()
    assert [(t["name"], t["language"], t["status"]) for t in listed["data"]] == [
        ("order_ready", "fr", "APPROVED")
    ]
    assert _send(root, send).status_code == 200
    send["template"]["components"][0]["parameters"][1]["text"] = "Mariama\nDiallo"
    newline = _send(root, send)
    assert newline.status_code == 400 and newline.json()["error"]["code"] == 132018
    send["template"]["components"][0]["parameters"].pop()
    short = _send(root, send)
    assert short.status_code == 400 and short.json()["error"]["code"] == 132000
    store.decide_meta_template("order_ready", "fr", "REJECTED", "INVALID_FORMAT")
    assert store.meta_templates()[0].status == "REJECTED"


def test_the_template_list_pages_with_cursors(root: str, store: EmulatorStore) -> None:
    for i in range(3):
        store.meta_add_template(f"notice_{i}", "fr", "Bonjour")
    base = f"{root}/{META_VERSION}/{META_WABA_ID}/message_templates"
    first = requests.get(base, params={"limit": "2"}, headers=AUTH, timeout=10).json()
    assert [t["name"] for t in first["data"]] == ["notice_0", "notice_1"]
    second = requests.get(first["paging"]["next"], headers=AUTH, timeout=10).json()
    assert [t["name"] for t in second["data"]] == ["notice_2"]
    assert "next" not in second["paging"]


def test_media_is_described_then_downloaded_only_with_the_token(
    root: str, store: EmulatorStore
) -> None:
    data = b"\xff\xd8\xff jpeg bytes"
    media_id = store.meta_add_media(data, "image/jpeg")
    assert media_id.isdigit()
    meta = requests.get(f"{root}/{META_VERSION}/{media_id}", headers=AUTH, timeout=10).json()
    assert meta["id"] == media_id and meta["mime_type"] == "image/jpeg"
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["file_size"] == str(len(data))
    assert meta["url"].startswith(root.rsplit("/meta", 1)[0])
    assert requests.get(meta["url"], timeout=10).status_code == 401
    download = requests.get(meta["url"], headers=AUTH, timeout=10)
    assert download.status_code == 200 and download.content == data
    assert download.headers["Content-Type"] == "image/jpeg"


def test_the_phone_number_answers_default_and_asked_fields(root: str) -> None:
    url = f"{root}/{META_VERSION}/{META_PHONE_NUMBER_ID}"
    default = requests.get(url, headers=AUTH, timeout=10).json()
    assert set(default) == {"id", "display_phone_number", "verified_name", "quality_rating"}
    asked = requests.get(
        url, params={"fields": "code_verification_status"}, headers=AUTH, timeout=10
    ).json()
    assert asked == {"id": META_PHONE_NUMBER_ID, "code_verification_status": "VERIFIED"}


def test_programmed_failures_come_back_as_graph_errors(root: str, store: EmulatorStore) -> None:
    store.fail_next(1, status=400, code=130429, provider="meta")
    store.fail_next(1, status=400, code=131056, error_subcode=2494055, provider="meta")
    first, second, third = (_send(root, _text()) for _ in range(3))
    assert (first.status_code, first.json()["error"]["code"]) == (400, 130429)
    assert second.json()["error"]["code"] == 131056
    assert second.json()["error"]["error_subcode"] == 2494055
    assert third.status_code == 200


def test_reset_forgets_meta_state(store: EmulatorStore) -> None:
    store.meta_add_template("x", "fr", "Bonjour")
    store.meta_add_media(b"x", "image/png")
    store.set_meta_webhook("http://127.0.0.1:9/none")
    store.reset()
    assert store.meta_templates() == [] and store.meta_webhook_url is None
