"""The WhatsApp Cloud API webhook: signature, subscription check, and every payload Meta sends.

The signature vector was computed once, independently of Python, with
``printf '%s' '<BODY>' | openssl dgst -sha256 -hmac 'boutik-kat-app-secret'``; the payload
examples are Meta's own (copied from the API description into meta_webhook_examples.json).
Routes run on the real Flask app over a private SQLite file; the replies a turn produces are
counted, not sent (no socket in a unit test).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.messages import InboundKind, InboundMessage, Media
from boutik.runtime import Runtime
from channels_adapters.meta_inbound import (
    MetaOrder,
    OrderItem,
    StatusUpdate,
    parse_status,
    parse_webhook,
    signature_ok,
)
from channels_adapters.web import create_app
from commerce.messaging.models import InboundMessage as InboundRecord
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.notices import Notice
from commerce.users.models import Channel
from settings.config import load_config
from tests.support import Db
from tests.unit.flows import outbox_row
from tests.webhooks import (
    META_PHONE_NUMBER_ID,
    meta_audio,
    meta_button,
    meta_button_reply,
    meta_contacts,
    meta_document,
    meta_image,
    meta_list_reply,
    meta_location,
    meta_order,
    meta_text,
    meta_unsupported,
    meta_video,
)

PATH = "/webhooks/meta/whatsapp"
PHONE_NUMBER_ID = "106540352242922"  # the number of Meta's examples is ours here
APP_SECRET = "test-meta-app-secret-unit"
VERIFY_TOKEN = "test-meta-verify-token-unit"

# The known-answer vector: fixed body, fixed secret, the digest written out (from openssl).
KAT_SECRET = "boutik-kat-app-secret"
KAT_BODY = b'{"object":"whatsapp_business_account","entry":[]}'
KAT_SIGNATURE = "sha256=55bc44e46a8134b5e6feeeae06ed4c319bf4618af21d8d81f480bc694207d721"

EXAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "meta_webhook_examples.json").read_text(encoding="utf-8")
)
EXAMPLES.pop("_source")


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


class App:
    def __init__(self, db: Db, *, app_secret: str = APP_SECRET, verify_token: str = VERIFY_TOKEN):
        config = load_config(environ={"DATABASE_URL": str(db.engine.url)}).replace(
            meta__phone_number_id=PHONE_NUMBER_ID, meta__api_base_url="http://127.0.0.1:9"
        )
        config = dataclasses.replace(
            config,
            secrets=dataclasses.replace(
                config.secrets,
                meta_app_secret=app_secret,
                meta_verify_token=verify_token,
                meta_whatsapp_token="test-meta-token",
            ),
        )
        self.rt = Runtime(config)
        self.rt.after_commit = self._committed  # type: ignore[method-assign]
        self.sent: list[int] = []  # outbox ids a turn handed over for sending
        self.client = create_app(config, runtime=self.rt).test_client()
        self.db = db

    def _committed(self, ids: list[int], events: list[Any]) -> None:
        self.sent += ids

    def post(self, body: bytes, signature: str | None = "sign") -> Any:
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            signature = sign(body)
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.client.post(PATH, data=body, headers=headers)

    def counts(self) -> tuple[int, int]:
        """(inbound records, outbox rows): a refused request changes neither."""
        with self.db.session() as s:
            return (
                s.scalar(select(func.count(InboundRecord.id))) or 0,
                s.scalar(select(func.count(Outbox.id))) or 0,
            )


@pytest.fixture
def app(db: Db) -> Iterator[App]:
    built = App(db)
    yield built
    built.rt.dispose()


def _text_payload(wamid: str = "wamid.unit-text-1", body: str = "Bonjour") -> dict[str, Any]:
    payload = copy.deepcopy(EXAMPLES["Text Message"])
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"], message["from"], message["text"]["body"] = wamid, "224620000001", body
    payload["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "224620000001"
    return payload


# --- the signature --------------------------------------------------------------------------


def test_the_known_answer_vector() -> None:
    assert sign(KAT_BODY, KAT_SECRET) == KAT_SIGNATURE
    assert signature_ok(KAT_BODY, KAT_SIGNATURE, KAT_SECRET)


def test_the_known_answer_vector_is_accepted_by_the_route(db: Db) -> None:
    app = App(db, app_secret=KAT_SECRET)
    assert app.post(KAT_BODY, KAT_SIGNATURE).status_code == 200


def _flip_one_digit(signature: str) -> str:
    last = signature[-1]
    return signature[:-1] + ("0" if last != "0" else "1")


BODY = encode(_text_payload())
GOOD = sign(BODY)
MUTATIONS = {
    "one hex digit changed": _flip_one_digit(GOOD),
    "sha1= prefix": "sha1=" + hmac.new(APP_SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
    "sha1= prefix with the sha256 digest": "sha1=" + GOOD.removeprefix("sha256="),
    "uppercase prefix": "SHA256=" + GOOD.removeprefix("sha256="),
    "no prefix": GOOD.removeprefix("sha256="),
    "truncated": GOOD[:-1],
    "only the prefix": "sha256=",
    "empty": "",
    "too long": GOOD + "0",
    "not hex": "sha256=" + "z" * 64,
    "a space inside": GOOD[:39] + " " + GOOD[40:],
    "two signatures": GOOD + "," + GOOD,
    "signature of another body": sign(encode(_text_payload(body="Au revoir"))),
    "signed with another secret": sign(BODY, "someone-elses-secret"),
}


@pytest.mark.parametrize("signature", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_a_mutated_signature_is_refused_and_nothing_stored(app: App, signature: str) -> None:
    response = app.post(BODY, signature)
    assert response.status_code == 403
    assert app.counts() == (0, 0) and app.sent == []


def test_a_missing_signature_header_is_refused(app: App) -> None:
    assert app.post(BODY, signature=None).status_code == 403
    assert app.counts() == (0, 0)


def test_a_mutated_body_with_the_original_signature_is_refused(app: App) -> None:
    mutated = BODY.replace(b"Bonjour", b"Bonsoir")
    assert mutated != BODY
    assert app.post(mutated, GOOD).status_code == 403
    # the same content re-serialised (another key order, spaces) is another body, too
    reordered = json.dumps(json.loads(BODY), indent=1).encode()
    assert app.post(reordered, GOOD).status_code == 403
    assert app.counts() == (0, 0)


def test_without_an_app_secret_configured_everything_is_refused(db: Db) -> None:
    app = App(db, app_secret="")
    assert app.post(BODY, GOOD).status_code == 403
    assert app.post(BODY, sign(BODY, "")).status_code == 403  # HMAC under the empty key
    assert app.counts() == (0, 0)


def test_the_right_signature_is_accepted_and_the_message_stored(app: App) -> None:
    assert app.post(BODY, GOOD).status_code == 200
    assert app.counts() == (1, 1) and len(app.sent) == 1


# --- the subscription check -----------------------------------------------------------------


def _verify(app: App, **params: str) -> Any:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    query.update(params)
    return app.client.get(PATH, query_string={k: v for k, v in query.items() if v is not None})


def test_the_handshake_with_the_right_token_echoes_the_challenge(app: App) -> None:
    response = _verify(app)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1158201444"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.verify_token": "wrong-token"},
        {"hub.verify_token": VERIFY_TOKEN + "x"},
        {"hub.verify_token": ""},
        {"hub.verify_token": "jéton"},  # not even ASCII: refused, not a TypeError
        {"hub.mode": "unsubscribe"},
        {"hub.mode": ""},
        {"hub.challenge": ""},
        {"hub.challenge": "9" * 129},  # reflected: bounded
        {"hub.challenge": "12\n34"},
        {"hub.challenge": "12 34"},
        {"hub.challenge": "défi"},
    ],
)
def test_the_handshake_refuses_anything_else(app: App, params: dict[str, str]) -> None:
    assert _verify(app, **params).status_code == 403


def test_the_handshake_is_refused_when_no_verify_token_is_configured(db: Db) -> None:
    app = App(db, verify_token="")
    assert _verify(app, **{"hub.verify_token": ""}).status_code == 403
    assert _verify(app).status_code == 403


# --- Meta's own examples, parsed --------------------------------------------------------------

SHEENA = {
    "provider": "meta",
    "channel": Channel.WHATSAPP,
    "address": "+16505551234",
    "profile_name": "Sheena Nelson",
}
# Meta's example name → the messages it becomes (an empty tuple: acknowledged, no turn).
EXPECTED: dict[str, tuple[InboundMessage, ...]] = {
    "Text Message": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            text="Does it come in another color?",
        ),
    ),
    "Text Message with Context (Product Inquiry)": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTA2NTUwRkNEMDdFQjJCRUU0NQA=",
            text="Is this still available?",
        ),
    ),
    "Text Message from Click to WhatsApp Ad": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=",
            text="Hello! Can I get more info on this?",
        ),
    ),
    "Reaction Message": (),
    "Image Message": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            kind=InboundKind.MEDIA,
            text="Taj Mahal",
            media=(Media(content_type="image/jpeg", ref="meta:1003383421387256"),),
        ),
    ),
    "Location Message": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTU2MjZEMDBGRkE3MENEMDE0RQA=",
            kind=InboundKind.LOCATION,
            latitude=37.44221496582,
            longitude=-122.16165924072,
            location_label="Philz Coffee",
        ),
    ),
    "Contact Sharing Message": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            kind=InboundKind.CONTACT,
            contact_phone="+19835552319",
        ),
    ),
    "Unsupported Message": (  # an empty text: the engine's "I did not understand"
        InboundMessage(
            **SHEENA, external_id="wamid.HBgLMTQyMDU1NTA3NDkVAgASGBI5N0MwRjg0RTVBNUI1RDA2OTkA"
        ),
    ),
    "Button Message": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUU0M0MxQzQzMUJCMTMwNUZFOQA=",
            kind=InboundKind.BUTTON,
            payload="Unsubscribe",
            text="Unsubscribe",
        ),
    ),
    "Interactive List Reply Message": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJDQ0NDM0FEODY4ODkzOTc5RgA=",
            kind=InboundKind.BUTTON,
            payload="priority_express",
            text="Priority Mail Express",
        ),
    ),
    "Interactive Button Reply Message": (
        InboundMessage(
            **SHEENA,
            external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTZBQzg0MzQ4QjRCM0NGNkVGOAA=",
            kind=InboundKind.BUTTON,
            payload="cancel-button",
            text="Cancel",
        ),
    ),
    "Order Message": (  # the cart's note as text (empty here); the cart itself in .orders
        InboundMessage(
            **SHEENA, external_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTEyQjFGNzI1QTQxMjI5QTMyOQA="
        ),
    ),
    "System Message": (),
    "Group Create Message": (),
    "Group Settings Update": (),
    "Group Remove Participants": (),
}


def test_every_example_of_meta_is_covered() -> None:
    assert set(EXPECTED) == set(EXAMPLES)


@pytest.mark.parametrize("name", EXPECTED)
def test_metas_example_is_parsed_to_the_right_message(name: str) -> None:
    webhook = parse_webhook(copy.deepcopy(EXAMPLES[name]), PHONE_NUMBER_ID)
    assert tuple(webhook.messages) == EXPECTED[name]
    assert webhook.statuses == [] and webhook.skipped == 0


def test_the_order_example_keeps_its_cart() -> None:
    webhook = parse_webhook(copy.deepcopy(EXAMPLES["Order Message"]), PHONE_NUMBER_ID)
    [message] = webhook.messages
    assert webhook.orders[message.external_id] == MetaOrder(
        catalog_id="194836987003835",
        text="",
        items=(
            OrderItem("di9ozbzfi4", 2, 30.0, "USD"),
            OrderItem("nqryix03ez", 1, 25.0, "USD"),
        ),
    )


def _webhook(number: str = PHONE_NUMBER_ID, **value: Any) -> dict[str, Any]:
    """A `messages` change for phone number id `number`, carrying `value`'s fields."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "419561257915477",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": number,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def _one(message: dict[str, Any], contacts: list[Any] | None = None) -> dict[str, Any]:
    """A webhook carrying ``message`` from +224620000001 (Mariama) to our number."""
    base = {"from": "224620000001", "id": "wamid.unit-one", "timestamp": "1750000000"}
    mariama = [{"profile": {"name": "Mariama Diallo"}, "wa_id": "224620000001"}]
    return _webhook(
        contacts=contacts if contacts is not None else mariama, messages=[{**base, **message}]
    )


def _parsed(message: dict[str, Any], **kw: Any) -> InboundMessage:
    [msg] = parse_webhook(_one(message, **kw), PHONE_NUMBER_ID).messages
    assert (msg.provider, msg.external_id, msg.address) == (
        "meta",
        "wamid.unit-one",
        "+224620000001",
    )
    return msg


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("audio", {"id": "2001", "mime_type": "audio/ogg; codecs=opus", "voice": True}),
        ("document", {"id": "2002", "mime_type": "application/pdf", "caption": "Facture"}),
        ("video", {"id": "2003", "mime_type": "video/mp4", "caption": "Le colis"}),
        ("sticker", {"id": "2004", "mime_type": "image/webp", "animated": False}),
    ],
)
def test_every_media_type_is_a_media_by_id(kind: str, body: dict[str, Any]) -> None:
    msg = _parsed({"type": kind, kind: {**body, "sha256": "aGVsbG8="}})
    assert msg.kind == InboundKind.MEDIA
    assert msg.media == (Media(content_type=body["mime_type"], ref=f"meta:{body['id']}"),)
    assert msg.media[0].reference == f"meta:{body['id']}"  # what the return flow stores
    assert msg.text == body.get("caption", "")


def test_a_sticker_by_link_is_a_media_without_anything_to_fetch() -> None:
    msg = _parsed({"type": "sticker", "sticker": {"link": "https://example.com/s.webp"}})
    assert msg.kind == InboundKind.MEDIA and msg.media == ()


def test_a_shared_contact_without_wa_id_gives_the_number_as_written() -> None:
    card = {"name": {"formatted_name": "Aissatou Bah"}, "phones": [{"phone": "+224 620 00 00 09"}]}
    msg = _parsed({"type": "contacts", "contacts": [card]})
    assert (msg.kind, msg.contact_phone) == (InboundKind.CONTACT, "+224 620 00 00 09")
    no_phone = _parsed({"type": "contacts", "contacts": [{"name": {"formatted_name": "X"}}]})
    assert (no_phone.kind, no_phone.contact_phone) == (InboundKind.CONTACT, "")


def test_the_profile_name_is_the_senders_by_wa_id() -> None:
    others = [
        {"profile": {"name": "Someone Else"}, "wa_id": "224620000099"},
        {"profile": {"name": "Mariama Diallo"}, "wa_id": "224620000001"},
    ]
    assert _parsed({"type": "text", "text": {"body": "x"}}, contacts=others).profile_name == (
        "Mariama Diallo"
    )
    nobody = [{"profile": {"name": "Someone Else"}, "wa_id": "224620000099"}]
    assert _parsed({"type": "text", "text": {"body": "x"}}, contacts=nobody).profile_name == ""


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("9.6412", "-13.5784"), (9.6412, -13.5784)],  # the schema says strings, Meta sends numbers
)
def test_a_pin_in_either_form_is_a_location(latitude: Any, longitude: Any) -> None:
    msg = _parsed({"type": "location", "location": {"latitude": latitude, "longitude": longitude}})
    assert (msg.kind, msg.latitude, msg.longitude) == (InboundKind.LOCATION, 9.6412, -13.5784)
    assert msg.location_label == ""


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        ("NaN", 1.0),
        ("inf", 1.0),
        ("1e400", 1.0),
        (91.0, 1.0),
        (1.0, -180.5),
        (True, 1.0),
        ("north", 1.0),
        (None, 1.0),
        ([1], 1.0),
    ],
)
def test_a_pin_that_is_no_pin_is_not_understood_not_a_crash(latitude: Any, longitude: Any) -> None:
    msg = _parsed({"type": "location", "location": {"latitude": latitude, "longitude": longitude}})
    assert (msg.kind, msg.text, msg.latitude, msg.longitude) == (InboundKind.TEXT, "", None, None)


def test_a_pin_label_is_its_name_else_its_address() -> None:
    place = {"latitude": 9.6, "longitude": -13.6, "address": "Kipé, Ratoma"}
    assert _parsed({"type": "location", "location": place}).location_label == "Kipé, Ratoma"
    named = {**place, "name": "Chez moi"}
    assert _parsed({"type": "location", "location": named}).location_label == "Chez moi"


@pytest.mark.parametrize("kind", ["unknown", "ephemeral", "interactive-nfm"])
def test_an_unknown_type_is_an_empty_text(kind: str) -> None:
    msg = _parsed({"type": kind, "errors": [{"code": 131051, "title": "Message type unknown"}]})
    assert (msg.kind, msg.text, msg.payload) == (InboundKind.TEXT, "", "")


def test_an_interactive_reply_of_another_kind_is_an_empty_text() -> None:
    nfm = {"type": "nfm_reply", "nfm_reply": {"response_json": "{}", "name": "flow"}}
    msg = _parsed({"type": "interactive", "interactive": nfm})
    assert (msg.kind, msg.text, msg.payload) == (InboundKind.TEXT, "", "")


def test_nul_in_what_a_person_typed_is_dropped() -> None:
    assert _parsed({"type": "text", "text": {"body": "Bon\x00jour"}}).text == "Bonjour"


# --- statuses ---------------------------------------------------------------------------------


def _statuses(*statuses: dict[str, Any], number: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    return _webhook(number, statuses=list(statuses))


def _status(wamid: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": wamid,
        "status": status,
        "timestamp": "1750000000",
        "recipient_id": "224620000001",
        **extra,
    }


UNDELIVERABLE = {
    "code": 131026,
    "title": "Message undeliverable",
    "message": "Message undeliverable",
    "error_data": {"details": "Message Undeliverable."},
}


def test_a_failed_status_keeps_its_code_and_reason() -> None:
    status = _status("wamid.out-1", "failed", errors=[UNDELIVERABLE])
    assert parse_status(status) == StatusUpdate(
        "wamid.out-1", "failed", "131026", "Message undeliverable"
    )
    assert parse_status(_status("wamid.out-1", "read")) == StatusUpdate("wamid.out-1", "read")


def _outbox_row(db: Db, wamid: str) -> int:
    with db.session() as s:
        row = Outbox(
            user_id=None,
            channel=Channel.WHATSAPP,
            address="+224620000001",
            kind=Notice.REPLY.value,
            payload={"params": {}},
            status=OutboxStatus.SENT,
            provider_message_id=wamid,
            sent_channel=Channel.WHATSAPP,
        )
        s.add(row)
        s.commit()
        return row.id


def test_statuses_move_the_outbox_row_and_a_failure_keeps_its_reason(app: App, db: Db) -> None:
    delivered_id = _outbox_row(db, "wamid.out-delivered")
    failed_id = _outbox_row(db, "wamid.out-failed")
    body = encode(
        _statuses(
            _status("wamid.out-delivered", "delivered"),
            _status("wamid.out-failed", "failed", errors=[UNDELIVERABLE]),
            _status("wamid.not-ours-at-all", "read"),  # an id we never sent: fine
        )
    )
    assert app.post(body).status_code == 200
    assert outbox_row(db, delivered_id).status == OutboxStatus.DELIVERED
    failed = outbox_row(db, failed_id)
    assert failed.status == OutboxStatus.FAILED
    assert (failed.error_code, failed.last_error) == ("131026", "Message undeliverable")


def test_a_broken_status_is_skipped_and_the_others_apply(app: App, db: Db) -> None:
    row_id = _outbox_row(db, "wamid.out-read")
    body = encode(
        _statuses(
            _status("wamid.\x00bad", "read"),
            _status("wamid.out-x", "failed", errors=["not an object"]),
            _status("wamid.out-read", "read"),
        )
    )
    assert app.post(body).status_code == 200
    assert outbox_row(db, row_id).status == OutboxStatus.READ


# --- through the route ---------------------------------------------------------------------------


def test_a_redelivered_webhook_is_a_no_op(app: App) -> None:
    body = encode(_text_payload("wamid.unit-redelivered"))
    assert app.post(body).status_code == 200
    first = app.counts()
    assert first == (1, 1)
    for _ in range(3):
        assert app.post(body).status_code == 200
    assert app.counts() == first and len(app.sent) == 1


def test_two_long_wamids_sharing_their_first_64_characters_are_two_messages(app: App) -> None:
    """A real wamid can pass 64 characters: the whole id is the key, never a prefix of it."""
    prefix = "wamid.HBgMMjI0NjIwMDAwMDAxFQIAEhggQTBCMUMyRDNFNEY1QTZCN0M4RDlFMEYxQTJCM0M0RDU"
    assert len(prefix) > 64
    for tail in ("AA", "AB"):
        assert app.post(encode(_text_payload(prefix + tail))).status_code == 200
    inbound, _replies = app.counts()
    assert inbound == 2
    with app.db.session() as s:
        stored = set(s.scalars(select(InboundRecord.external_id)))
    assert stored == {prefix + "AA", prefix + "AB"}


def test_another_numbers_events_are_acknowledged_and_ignored(app: App, db: Db) -> None:
    payload = _text_payload("wamid.unit-other-number")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999999999"
    assert app.post(encode(payload)).status_code == 200
    row_id = _outbox_row(db, "wamid.out-other")
    other = _statuses(_status("wamid.out-other", "read"), number="999999999999999")
    assert app.post(encode(other)).status_code == 200
    assert app.counts() == (0, 1)  # the one row is the test's own
    assert outbox_row(db, row_id).status == OutboxStatus.SENT


def test_reactions_and_system_messages_get_no_turn(app: App) -> None:
    for name in ("Reaction Message", "System Message", "Group Create Message"):
        assert app.post(encode(EXAMPLES[name])).status_code == 200
    assert app.counts() == (0, 0)


@pytest.mark.parametrize("name", [n for n, msgs in EXPECTED.items() if msgs])
def test_every_example_gets_a_reply(db: Db, name: str) -> None:
    app = App(db)
    assert app.post(encode(EXAMPLES[name])).status_code == 200
    inbound, replies = app.counts()
    assert inbound == 1 and replies >= 1 and len(app.sent) == replies


def test_one_broken_message_does_not_drop_the_others(app: App) -> None:
    payload = _text_payload("wamid.unit-good-1")
    value = payload["entry"][0]["changes"][0]["value"]
    good = value["messages"][0]
    value["messages"] = [
        {**good, "id": "wamid.unit-bad-1", "text": {"body": 12}},  # a number for a text
        {**good, "id": "wamid.unit-bad-2", "from": "+224620000001"},  # not Meta's digits
        {**good, "id": "wamid." + "A" * 200},  # longer than any wamid
        "not an object",
        good,
        {**good, "id": "wamid.unit-good-2", "text": {"body": "Encore"}},
    ]
    webhook = parse_webhook(copy.deepcopy(payload), PHONE_NUMBER_ID)
    assert [m.external_id for m in webhook.messages] == ["wamid.unit-good-1", "wamid.unit-good-2"]
    assert webhook.skipped == 4
    assert app.post(encode(payload)).status_code == 200
    inbound, replies = app.counts()
    assert inbound == 2 and replies >= 2


@pytest.mark.parametrize(
    "bend",
    [
        lambda p: p.update(entry={"id": "1"}),
        lambda p: p.update(entry=["not an object"]),
        lambda p: p["entry"][0].update(changes="messages"),
        lambda p: p["entry"][0]["changes"][0].update(value=[]),
        lambda p: p["entry"][0]["changes"][0]["value"].update(metadata="ours"),
        lambda p: p["entry"][0]["changes"][0]["value"]["metadata"].update(phone_number_id=1065),
        lambda p: p["entry"][0]["changes"][0]["value"].update(messages={"id": "wamid.x"}),
        lambda p: p["entry"][0]["changes"][0]["value"].update(statuses="read"),
        lambda p: p["entry"][0]["changes"][0]["value"].update(contacts=[{"wa_id": 1}]),
    ],
)
def test_a_malformed_envelope_is_a_400_with_nothing_stored(app: App, bend: Any) -> None:
    payload = _text_payload("wamid.unit-envelope")
    bend(payload)
    response = app.post(encode(payload))
    assert response.status_code == 400
    assert app.counts() == (0, 0)


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[]", b"\xff\xfe", b"[" * 100 + b"]" * 100, b'"text"']
)
def test_a_signed_body_that_is_no_json_object_is_a_400(app: App, body: bytes) -> None:
    assert app.post(body).status_code == 400
    assert app.counts() == (0, 0)


def test_a_body_of_another_object_is_acknowledged_and_ignored(app: App) -> None:
    payload = {**_text_payload("wamid.unit-page"), "object": "page"}
    assert app.post(encode(payload)).status_code == 200
    assert app.counts() == (0, 0)


# --- the testkit's builders (what the e2e tests post) read the same way ----------------------


def _built() -> list[tuple[str, dict[str, Any], InboundKind]]:
    n = "+224620000001"
    return [
        ("text", meta_text(n, "Bonjour"), InboundKind.TEXT),
        ("button_reply", meta_button_reply(n, "co:ok:1", "Confirmer"), InboundKind.BUTTON),
        ("list_reply", meta_list_reply(n, "cat:3", "Chaussures", "Tout"), InboundKind.BUTTON),
        ("button", meta_button(n, "menu:main", "Menu"), InboundKind.BUTTON),
        ("location", meta_location(n, 9.64, -13.58, name="Kipé"), InboundKind.LOCATION),
        ("image", meta_image(n, "1234", caption="Photo"), InboundKind.MEDIA),
        ("audio", meta_audio(n, "1235"), InboundKind.MEDIA),
        ("document", meta_document(n, "1236"), InboundKind.MEDIA),
        ("video", meta_video(n, "1237"), InboundKind.MEDIA),
        ("contacts", meta_contacts(n, "+224620000777"), InboundKind.CONTACT),
        ("order", meta_order(n, [("SKU-1", 2, 150000.0)], text="Vite"), InboundKind.TEXT),
        ("unsupported", meta_unsupported(n), InboundKind.TEXT),
    ]


BUILT = _built()


@pytest.mark.parametrize(("name", "payload", "kind"), BUILT, ids=[b[0] for b in BUILT])
def test_the_testkits_payloads_are_read_as_the_examples_are(
    name: str, payload: dict[str, Any], kind: InboundKind
) -> None:
    webhook = parse_webhook(payload, META_PHONE_NUMBER_ID)
    [msg] = webhook.messages
    assert (msg.kind, msg.address, msg.profile_name) == (kind, "+224620000001", "Mariama Diallo")
    assert msg.external_id.startswith("wamid.") and webhook.skipped == 0
    if kind == InboundKind.MEDIA:
        assert msg.media[0].ref.startswith("meta:12")
    if name == "contacts":
        assert msg.contact_phone == "+224620000777"
    if name == "order":
        assert msg.text == "Vite"
        assert webhook.orders[msg.external_id].items == (OrderItem("SKU-1", 2, 150000.0, "GNF"),)
