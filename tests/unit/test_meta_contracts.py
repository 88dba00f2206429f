"""The Meta contract checker catches what Meta refuses and accepts what we send.

Why: the emulator and the sender are both ours; only the facts derived from Meta's own
description (plus the hand-kept documented ones) stand between a green suite and a refusal in
production. So the checker itself is tested on each limit we rely on, and on Meta's own
webhook examples (which must all pass).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from devtools.contracts import RawRequest, RawResponse, violations, webhook_violations
from devtools.contracts.common import RawWebhook
from devtools.contracts.meta import meta_response_violations, meta_webhook_violations
from devtools.testkit import meta_webhooks as mw

SEND = f"/meta/{mw.META_VERSION}/{mw.META_PHONE_NUMBER_ID}/messages"
BUYER = "+224620000001"


def _send(body: dict[str, Any]) -> list[str]:
    return violations([RawRequest("POST", SEND, {}, json_body=body)])


def _message(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": kind,
        kind: content,
    }


def _buttons(n: int, title: str = "Choix") -> dict[str, Any]:
    return _message(
        "interactive",
        {
            "type": "button",
            "body": {"text": "Que voulez-vous faire ?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": f"{title} {i}"[:40]}}
                    for i in range(n)
                ]
            },
        },
    )


def _list(rows: list[dict[str, Any]], sections: int = 1) -> dict[str, Any]:
    per = max(1, len(rows) // sections)
    chunks = [rows[i * per : (i + 1) * per] for i in range(sections)]
    chunks[-1] += rows[sections * per :]
    return _message(
        "interactive",
        {
            "type": "list",
            "body": {"text": "Nos produits"},
            "action": {
                "button": "Voir",
                "sections": [
                    {"title": f"Rayon {i}", "rows": chunk} for i, chunk in enumerate(chunks)
                ],
            },
        },
    )


def _rows(n: int, **over: str) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "title": f"Produit {i}", **over} for i in range(n)]


TEMPLATE = _message(
    "template",
    {
        "name": "order_update",
        "language": {"policy": "deterministic", "code": "fr"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "B-42"}]}],
    },
)
CORRECT = {
    "text": _message("text", {"body": "Bonjour !", "preview_url": False}),
    "image link": _message(
        "image", {"link": "https://boutik.example.gn/media/1.jpg", "caption": "Pagne"}
    ),
    "document link": _message(
        "document", {"link": "https://boutik.example.gn/media/r.pdf", "filename": "recu.pdf"}
    ),
    "button": _buttons(3),
    "list": _list(_rows(10, description="x" * 72), sections=2),
    "location request": _message(
        "interactive",
        {
            "type": "location_request_message",
            "body": {"text": "Envoyez votre position"},
            "action": {"name": "send_location"},
        },
    ),
    "template": TEMPLATE,
}


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_what_we_send_fits_the_spec(name: str) -> None:
    assert _send(CORRECT[name]) == []


def _without_language() -> dict[str, Any]:
    body = copy.deepcopy(TEMPLATE)
    del body["template"]["language"]
    return body


WRONG = {
    "4th button": (_buttons(4), "at most 3"),
    "21-char button title": (_buttons(1, "x" * 21), "at most 20"),
    "25-char row title": (_list([{"id": "r", "title": "x" * 25}]), "at most 24"),
    "11 rows": (_list(_rows(11), sections=2), "11 rows in all"),
    "73-char description": (_list(_rows(1, description="x" * 73)), "at most 72"),
    "template without language": (_without_language(), "language: required"),
    "unknown top-level field": ({**CORRECT["text"], "priority": "high"}, "priority: a field"),
    "duplicate button titles": (
        _message(
            "interactive",
            {
                "type": "button",
                "body": {"text": "?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": str(i), "title": "Oui"}} for i in range(2)
                    ]
                },
            },
        ),
        "unique",
    ),
    "location request with another action": (
        _message(
            "interactive",
            {
                "type": "location_request_message",
                "body": {"text": "?"},
                "action": {"name": "send_pin"},
            },
        ),
        "action.name",
    ),
    "text past 4096": (_message("text", {"body": "x" * 4097}), "at most 4096"),
    "image by ftp link": (_message("image", {"link": "ftp://x/y.jpg"}), "http(s) URL"),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_the_checker_catches_what_meta_refuses(name: str) -> None:
    body, expected = WRONG[name]
    found = _send(body)
    assert any(expected in line for line in found), found


def test_an_unknown_call_is_a_violation() -> None:
    found = violations([RawRequest("POST", "/meta/v23.0/106540352242922/broadcast", {})])
    assert found and "no such call" in found[0]


def test_unknown_query_parameters_are_violations_but_graph_paging_is_not() -> None:
    path = f"/meta/v23.0/{mw.META_WABA_ID}/message_templates"
    ok = RawRequest("GET", path, {}, query={"name": ["x"], "limit": ["2"], "fields": ["name"]})
    assert violations([ok]) == []
    bad = RawRequest("GET", path, {}, query={"sort": ["name"]})
    assert "unknown query parameter 'sort'" in violations([bad])[0]


def test_answers_are_held_to_the_response_schemas_strictly() -> None:
    good = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": BUYER, "wa_id": "224620000001"}],
        "messages": [{"id": "wamid.X", "message_status": "accepted"}],
    }
    assert meta_response_violations(RawResponse("POST", SEND, 200, good)) == []
    invented = {**good, "messages": [{"id": "wamid.X", "status": "queued"}]}
    assert meta_response_violations(RawResponse("POST", SEND, 200, invented))
    error = {"error": {"message": "x", "type": "OAuthException", "code": 100, "fbtrace_id": "A"}}
    assert meta_response_violations(RawResponse("POST", SEND, 400, error)) == []
    assert meta_response_violations(RawResponse("POST", SEND, 400, {"error": {"code": "100"}}))


def _spec_webhook_examples() -> dict[str, Any]:
    """Meta's own webhook examples, as copied verbatim from the API description into the repo
    (tests never read ../shared at run time, so this runs, never skips, on any machine)."""
    copy = Path(__file__).with_name("meta_webhook_examples.json")
    examples = json.loads(copy.read_text(encoding="utf-8"))
    return {name: {"value": value} for name, value in examples.items() if name != "_source"}


def test_every_webhook_example_of_the_spec_passes() -> None:
    examples = _spec_webhook_examples()
    assert len(examples) >= 10
    for name, example in examples.items():
        assert meta_webhook_violations(example["value"]) == [], name


BUILT = {
    "text": mw.meta_text(BUYER, "Bonjour"),
    "button_reply": mw.meta_button_reply(BUYER, "b1", "Oui"),
    "list_reply": mw.meta_list_reply(BUYER, "r1", "Pagne", "Wax 6 yards"),
    "location": mw.meta_location(BUYER, 9.5092, -13.7122, name="Kaloum", address="Conakry"),
    "image": mw.meta_image(BUYER, caption="Photo"),
    "audio": mw.meta_audio(BUYER),
    "document": mw.meta_document(BUYER),
    "video": mw.meta_video(BUYER),
    "contacts": mw.meta_contacts(BUYER, "+224620000009"),
    "order": mw.meta_order(BUYER, [("p1", 2, 15000), ("p2", 1, 2500.5)]),
    "button": mw.meta_button(BUYER, "STOP", "Stop"),
    "unsupported": mw.meta_unsupported(BUYER),
    "sent": mw.meta_status(mw.new_wamid(), "sent", BUYER),
    "delivered": mw.meta_status(mw.new_wamid(), "delivered", BUYER),
    "read": mw.meta_status(mw.new_wamid(), "read", BUYER),
    "failed": mw.meta_status(mw.new_wamid(), "failed", BUYER, error_code=131047),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_our_builders_payloads_pass(name: str) -> None:
    assert meta_webhook_violations(BUILT[name]) == []


def test_builders_write_senders_as_meta_does() -> None:
    value = BUILT["text"]["entry"][0]["changes"][0]["value"]
    assert value["messages"][0]["from"] == "224620000001"
    assert value["contacts"][0]["wa_id"] == "224620000001"
    ids = {mw.meta_text(BUYER, "x")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]}
    ids.add(mw.meta_text(BUYER, "x")["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
    assert len(ids) == 2 and all(i.startswith("wamid.") for i in ids)


def test_the_webhook_checker_catches_invented_keys_and_shapes() -> None:
    payload = copy.deepcopy(BUILT["text"])
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["lang"] = "fr"
    assert any("text.lang" in v for v in meta_webhook_violations(payload))
    assert meta_webhook_violations({"entry": []})
    status = copy.deepcopy(BUILT["sent"])
    status["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "queued"
    assert any("queued" in v for v in meta_webhook_violations(status))
    posted = [RawWebhook("meta_status", "http://x", status)]
    assert webhook_violations(posted)


def test_the_signature_is_hmac_sha256_of_the_exact_body() -> None:
    # Known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    body = b"The quick brown fox jumps over the lazy dog"
    assert mw.meta_signature(body, "key") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
