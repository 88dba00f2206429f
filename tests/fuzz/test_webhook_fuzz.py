"""Hostile input at every door: the webhook parsers, the signed routes, and the engine itself.

Payloads per test (max_examples; derandomized, so CI replays the same ones):

    test_twilio_parser_never_raises ............................ 2 000
    test_telegram_parser_never_raises .......................... 3 000
    test_signed_whatsapp_webhook_always_answers ................ 800
    test_signed_sms_webhook_always_answers ..................... 600
    test_signed_telegram_webhook_always_answers ................ 1 300
    test_status_callbacks_with_odd_statuses .................... 300
    test_unsigned_or_forged_requests_are_refused_and_store_nothing 1 000
    test_engine_answers_every_role_in_every_state .............. 1 200
    test_hostile_fields_on_postgresql .......................... 300
                                                        total   10 500

What is promised, for each: no 5xx and no exception (nothing logged at ERROR either: the engine
turns a handler crash into a polite reply, so a status code alone would hide it); a signed
request gets 200 (204 for status callbacks), or 400 when a field it reads is one no provider
would send (a NUL in a MessageSid, update_id a string: see tests/e2e/test_malformed_payloads.py)
— and a 400 changes nothing; a bad signature or secret gets 403 and changes nothing; and a real
sender's new message gets at least one reply, in their language.

SQLite carries the bulk for speed (as the unit tests do); the last test repeats the signed doors
on the real PostgreSQL (TEST_DATABASE_URL), which refuses NUL characters and over-long strings
that SQLite stores without a word.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from bot.engine import Engine
from bot.messages import InboundKind, InboundMessage, Media
from bot.router import flow_named, pick_flow
from channels_adapters.payloads import MalformedPayload
from channels_adapters.telegram_inbound import checked_update, parse_update
from channels_adapters.twilio_inbound import checked_form, parse_form
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.users.models import Channel
from tests.fuzz import helpers as h
from tests.fuzz.conftest import World, build_world, make_app
from tests.support import Db
from tests.webhooks import (
    ACCOUNT_SID,
    PUBLIC,
    TELEGRAM_SECRET,
    post_telegram,
    post_twilio,
    sms_form,
    twilio_signature,
    whatsapp_form,
)

WA, SMS, STATUS, TG = (
    "/webhooks/twilio/whatsapp",
    "/webhooks/twilio/sms",
    "/webhooks/twilio/status",
    "/webhooks/telegram",
)


def fuzz_settings(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


_sids = itertools.count(1)
_updates = itertools.count(50_000_000)

# --- Twilio forms ---------------------------------------------------------------------------

ODD_FROM = st.sampled_from(
    (
        "",
        "+",
        "+224",
        "+224 62 00 00 00",
        "+2246200000001234",
        "00224620000001",
        "620000001",
        "+14155550100",
        "+33612345678",
        "whatsapp:",
        "whatsapp:whatsapp:+224620000001",
        "messenger:123",
        "sip:alice@example.com",
        "+224\x00620000001",
        "+٢٢٤٦٢٠٠٠٠٠٠١",  # Arabic-Indic digits
        "+224" + "9" * 80,
        "client:anonymous",
    )
) | st.text(h._ANY_CHAR, max_size=24)
NUMBER = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(("", "lots", "1e3", "١", "9" * 30, "-0", " 2 ", "0x1")),
)
COORD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(("", "north", "nan", "inf", "-inf", "1e400", "91", "-181", "9,64", "٩.٦")),
    st.floats(-90, 90).map(str),
)
MEDIA_URL = st.one_of(
    st.sampled_from(
        (
            "",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
            "http://127.0.0.1:1/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://evil.example.com/" + "a" * 3000,
            "not a url",
        )
    ),
    st.text(h._ANY_CHAR, max_size=30),
)
CONTENT_TYPE = st.one_of(
    st.sampled_from(
        ("image/jpeg", "image/png", "video/mp4", "audio/ogg", "application/pdf", "", "text/x")
    ),
    st.text(h._ANY_CHAR, max_size=20),
)
_OPTIONAL_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "NumMedia": NUMBER,
    "Latitude": COORD,
    "Longitude": COORD,
    "Address": h.text,
    "Label": h.text,
    "ButtonPayload": h.payload,
    "ButtonText": h.text,
    "ListId": h.payload,
    "ListTitle": h.text,
    "ProfileName": h.text,
    "MessageType": st.sampled_from(("text", "image", "location", "button", "interactive", "?")),
    "WaId": h.text,
    "OriginalRepliedMessageSid": h.text,
    "MessageSid": st.one_of(st.just(""), h.text),
    "SmsMessageSid": h.text,
    "Body": h.text,
    **{f"MediaUrl{i}": MEDIA_URL for i in (0, 1, 2, 11)},
    **{f"MediaContentType{i}": CONTENT_TYPE for i in (0, 1, 2, 11)},
}


_FIELD_NAMES = st.sampled_from(sorted(_OPTIONAL_FIELDS))


@cache
@st.composite
def twilio_form(draw: st.DrawFn, world: World, channel: Channel) -> dict[str, str]:
    """A form as Twilio posts it, then bent: fields dropped, added, garbled."""
    known = world.wa_buyers if channel == Channel.WHATSAPP else [*world.sms_buyers, world.courier]
    sender = draw(st.sampled_from(known) | st.sampled_from(known) | ODD_FROM)
    body = draw(h.text)
    if channel == Channel.WHATSAPP:
        form = whatsapp_form(sender, body)
        if draw(st.booleans()):
            form["From"] = sender  # without the whatsapp: prefix, or an odd one as is
    else:
        form = sms_form(sender, body)
    form["MessageSid"] = f"SMfz{next(_sids):028x}"
    # A few odd fields per form (not a yes/no per field: fewer choices, faster generation).
    for key in draw(st.lists(_FIELD_NAMES, max_size=4, unique=True)):
        form[key] = draw(_OPTIONAL_FIELDS[key])
    for key in draw(st.sets(st.sampled_from(sorted(form)), max_size=3)):
        del form[key]
    extra = draw(st.dictionaries(st.text(h._ANY_CHAR, min_size=1, max_size=12), h.text, max_size=2))
    form.update(extra)
    return form


def _malformed(check: Any, *args: Any) -> bool:
    """Whether the route's own check refuses this payload: then, and only then, a 400."""
    try:
        check(*args)
    except MalformedPayload:
        return True
    return False


def _post_signed_form(world: World, path: str, form: dict[str, str], channel: Channel) -> None:
    msg = parse_form(MultiDict(form), channel)
    prior = h.before(world.db, "twilio", msg.external_id, channel, msg.address)
    counts = h.counts(world.db)
    response = post_twilio(world.app.client, path, form)
    expected = 400 if _malformed(checked_form, MultiDict(form)) else 200
    assert response.status_code == expected, (response.status_code, form)
    if response.status_code == 400:
        assert h.counts(world.db) == counts, form  # refused: nothing recorded
    elif msg.external_id and msg.address:
        h.assert_answered(world.db, "twilio", msg.external_id, prior)


@fuzz_settings(2_000)
@given(data=st.data(), whatsapp=st.booleans())
def test_twilio_parser_never_raises(world: World, data: st.DataObject, whatsapp: bool) -> None:
    """2 000 forms straight into the parser: it always returns a well-typed message."""
    channel = Channel.WHATSAPP if whatsapp else Channel.SMS
    form = data.draw(twilio_form(world, channel))
    msg = parse_form(MultiDict(form), channel)
    assert isinstance(msg.text, str) and isinstance(msg.payload, str)
    assert isinstance(msg.address, str) and isinstance(msg.external_id, str)
    for value in (msg.latitude, msg.longitude):
        assert value is None or (isinstance(value, float) and abs(value) <= 180)
    assert (msg.latitude is None) == (msg.longitude is None)
    assert all(m.url for m in msg.media) and len(msg.media) <= 10


@fuzz_settings(800)
@given(data=st.data())
def test_signed_whatsapp_webhook_always_answers(world: World, data: st.DataObject) -> None:
    """800 validly signed WhatsApp forms with hostile fields: 200, a reply in the user's
    language for every identified sender, nothing logged as an error."""
    form = data.draw(twilio_form(world, Channel.WHATSAPP))
    with h.no_logged_errors():
        _post_signed_form(world, WA, form, Channel.WHATSAPP)


@fuzz_settings(600)
@given(data=st.data())
def test_signed_sms_webhook_always_answers(world: World, data: st.DataObject) -> None:
    """600 validly signed SMS forms (buyers and a courier): same promises as WhatsApp."""
    form = data.draw(twilio_form(world, Channel.SMS))
    with h.no_logged_errors():
        _post_signed_form(world, SMS, form, Channel.SMS)


STATUSES = st.sampled_from(
    ("queued", "sending", "sent", "delivered", "read", "failed", "undelivered", "accepted")
) | st.text(h._ANY_CHAR, max_size=15)
ERROR_CODES = st.sampled_from(("", "21610", "63016", "63014", "20429", "30008")) | h.text


@fuzz_settings(300)
@given(data=st.data())
def test_status_callbacks_with_odd_statuses(world: World, data: st.DataObject) -> None:
    """300 signed status callbacks — for rows we sent and for nobody's — always 204."""
    with world.db.uow() as s:
        row = s.scalar(select(Outbox).where(Outbox.provider_message_id.is_(None)).limit(1))
        if row is not None:
            row.status, row.provider_message_id = OutboxStatus.SENT, f"SMst{next(_sids):028x}"
        known = list(
            s.scalars(
                select(Outbox.provider_message_id).where(Outbox.provider_message_id.is_not(None))
            )
        )
    pick = data.draw(st.integers(0, 10**6) | st.none())  # not sampled_from(known): it grows
    sid = known[pick % len(known)] if known and pick is not None else data.draw(h.text)
    form = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": data.draw(STATUSES),
        "ErrorCode": data.draw(ERROR_CODES),
        "SmsStatus": data.draw(STATUSES),
    }
    for key in data.draw(st.sets(st.sampled_from(sorted(form)), max_size=2)):
        del form[key]
    with h.no_logged_errors():
        response = post_twilio(world.app.client, STATUS, form)
    assert response.status_code in (204, 400)


# --- Telegram updates -----------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(h._ANY_CHAR, max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(h._ANY_CHAR, max_size=8), children, max_size=3)
    ),
    max_leaves=4,
)


@cache
def _tg_id(world: World) -> st.SearchStrategy[Any]:
    known = (world.seller_tg, world.admin_tg, world.stranger_tg)
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(known),
        st.integers(-(2**64), 2**64),
        st.sampled_from((0, -1, 2**53, 2**63, 2**63 - 1, -(2**63), 10**30, True)),
        JSON,
    )


@cache
def _user(world: World) -> st.SearchStrategy[Any]:
    valid = st.fixed_dictionaries(
        {"id": _tg_id(world), "is_bot": st.just(False), "first_name": h.text | JSON}
    )
    return st.one_of(valid, valid, valid, JSON)  # mostly a real sender: reach the engine


_CONTENT = ("text", "command", "caption", "contact", "location", "photo", "document", "junk")


@cache
def _content(world: World) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """One strategy per kind of message content, each drawing only its own fields."""
    coord = st.floats(allow_nan=False, allow_infinity=False) | JSON
    return {
        "text": st.fixed_dictionaries({"text": h.text}),
        "command": st.fixed_dictionaries({"text": h.words.map(lambda w: "/" + w) | h.text}),
        "caption": st.fixed_dictionaries({"caption": h.text, "text": JSON}),
        "contact": st.fixed_dictionaries(
            {
                "contact": st.fixed_dictionaries(
                    {
                        "phone_number": st.sampled_from(("+224622000112", "622000112", ""))
                        | h.text
                        | JSON,
                        "user_id": _tg_id(world),
                    }
                )
                | JSON
            }
        ),
        "location": st.fixed_dictionaries(
            {"location": st.fixed_dictionaries({"latitude": coord, "longitude": coord}) | JSON}
        ),
        "photo": st.fixed_dictionaries(
            {
                "photo": st.lists(
                    st.fixed_dictionaries(
                        {
                            "file_id": h.text | JSON,
                            "file_size": st.integers(-1, 10**7) | JSON,
                            "width": st.integers(0, 5000),
                        }
                    )
                    | JSON,
                    max_size=3,
                )
                | JSON,
                "caption": h.text,
            }
        ),
        "document": st.fixed_dictionaries(
            {
                "document": st.fixed_dictionaries(
                    {"file_id": h.text, "mime_type": CONTENT_TYPE, "file_name": h.text}
                ),
                "caption": h.text,
            }
        ),
        "junk": st.dictionaries(
            st.sampled_from(
                ("text", "contact", "location", "photo", "sticker", "voice", "entities")
            ),
            JSON,
            max_size=2,
        ),
    }


@cache
def _message(world: World) -> st.SearchStrategy[dict[str, Any]]:
    valid = st.fixed_dictionaries({"id": _tg_id(world), "type": st.just("private")})
    chat = st.one_of(valid, valid, valid, JSON)

    @st.composite
    def message(draw: st.DrawFn) -> dict[str, Any]:
        body = {
            "message_id": 1,
            "date": 1_763_000_000,
            "chat": draw(chat),
            "from": draw(_user(world)),
        }
        body.update(draw(_content(world)[draw(st.sampled_from(_CONTENT))]))
        return body

    return message()


_UPDATE_ID = st.builds(lambda: next(_updates)) | st.sampled_from(
    (0, -1, 2**63, 10**20, "7", None, True)
)
_SHAPES = st.sampled_from(
    (
        "message",
        "message",
        "message",
        "callback",
        "callback",
        "edited_message",
        "channel_post",
        "my_chat_member",
        "json",
    )
)
_JSON_UPDATE = JSON | st.fixed_dictionaries(
    {"update_id": _UPDATE_ID},
    optional={k: JSON for k in ("message", "callback_query", "edited_message", "inline_query")},
)


@cache
def _callback(world: World) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": h.text | JSON, "from": _user(world), "data": h.payload | h.payload | JSON},
        optional={"message": st.just({"message_id": 1, "date": 0}) | _message(world) | JSON},
    )


@cache
@st.composite
def telegram_update(draw: st.DrawFn, world: World) -> Any:
    """An update as Telegram sends it, of every kind, then bent — or any JSON at all."""
    shape = draw(_SHAPES)
    if shape == "json":
        return draw(_JSON_UPDATE)
    update_id = draw(_UPDATE_ID)
    if shape == "callback":
        return {"update_id": update_id, "callback_query": draw(_callback(world))}
    if shape == "my_chat_member":
        return {"update_id": update_id, "my_chat_member": draw(JSON)}
    return {"update_id": update_id, shape: draw(_message(world))}


@fuzz_settings(3_000)
@given(data=st.data())
def test_telegram_parser_never_raises(world: World, data: st.DataObject) -> None:
    """3 000 updates straight into the parser: a well-typed message, or None."""
    update = data.draw(telegram_update(world))
    msg = parse_update(update) if isinstance(update, dict) else None
    if msg is None:
        return
    assert isinstance(msg.address, str) and isinstance(msg.text, str)
    assert isinstance(msg.payload, str) and len(msg.payload.encode()) <= 64 * 4
    assert msg.telegram_user_id is None or type(msg.telegram_user_id) is int
    assert msg.contact_user_id is None or type(msg.contact_user_id) is int
    for value in (msg.latitude, msg.longitude):
        assert value is None or type(value) is float
    assert all(isinstance(m.file_id, str) for m in msg.media)


@fuzz_settings(1_300)
@given(data=st.data())
def test_signed_telegram_webhook_always_answers(world: World, data: st.DataObject) -> None:
    """1 300 updates with the right secret: 200, and a reply in their language to every
    identified sender of a new update."""
    update = data.draw(telegram_update(world))
    msg = parse_update(update) if isinstance(update, dict) else None
    prior = h.before(
        world.db,
        "telegram",
        msg.external_id if msg else "",
        Channel.TELEGRAM,
        msg.address if msg else "",
    )
    counts = h.counts(world.db)
    with h.no_logged_errors():
        response = post_telegram(world.app.client, update, off_spec=True)  # fuzzed: any JSON
    expected = 400 if not isinstance(update, dict) or _malformed(checked_update, update) else 200
    assert response.status_code == expected
    if response.status_code == 400:
        assert h.counts(world.db) == counts  # refused: nothing recorded
    elif msg is not None:
        with h.no_logged_errors():
            h.assert_answered(world.db, "telegram", msg.external_id, prior)


# --- refused requests -----------------------------------------------------------------------


@cache
@st.composite
def forged_request(draw: st.DrawFn, world: World) -> tuple[str, Any, dict[str, str]]:
    """A request with no signature, a wrong one, or one made for another URL, form or token."""
    path = draw(st.sampled_from((WA, SMS, STATUS, TG)))
    if path == TG:
        update = draw(telegram_update(world))
        secret = draw(
            st.sampled_from(
                ("", TELEGRAM_SECRET[:-1], TELEGRAM_SECRET + "x", TELEGRAM_SECRET.upper())
            )
            | st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40).filter(
                lambda s: s != TELEGRAM_SECRET
            )
        )
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        return path, update, headers
    channel = Channel.WHATSAPP if path == WA else Channel.SMS
    form = draw(twilio_form(world, channel))
    other = {**form, "Body": form.get("Body", "") + "!"}
    how = draw(st.sampled_from(("none", "empty", "junk", "token", "url", "form", "http")))
    signature = {
        "none": None,
        "empty": "",
        "junk": draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)),
        "token": twilio_signature(PUBLIC + path, form, token="another-auth-token"),
        "url": twilio_signature(PUBLIC + WA if path != WA else PUBLIC + SMS, form),
        "form": twilio_signature(PUBLIC + path, other),
        "http": twilio_signature(PUBLIC.replace("https", "http") + path, form),
    }[how]
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return path, form, headers


@fuzz_settings(1_000)
@given(data=st.data())
def test_unsigned_or_forged_requests_are_refused_and_store_nothing(
    world: World, data: st.DataObject
) -> None:
    """1 000 requests without a valid signature or secret: 403, and no row written."""
    path, payload, headers = data.draw(forged_request(world))
    before = h.counts(world.db)
    with h.no_logged_errors():
        if path == TG:
            response = world.app.client.post(path, json=payload, headers=headers)
        else:
            response = world.app.client.post(path, data=payload, headers=headers)
    assert response.status_code == 403
    assert h.counts(world.db) == before


# --- the engine directly --------------------------------------------------------------------


@cache
@st.composite
def engine_message(draw: st.DrawFn, world: World) -> InboundMessage:
    """Any message kind, from any role, on that role's channel."""
    role = draw(
        st.sampled_from(
            ("buyer", "en_buyer", "sms_buyer", "courier", "seller", "admin", "stranger")
        )
    )
    channel, address, tg = {
        "buyer": (Channel.WHATSAPP, world.wa_buyers[0], None),
        "en_buyer": (Channel.WHATSAPP, world.wa_buyers[1], None),
        "sms_buyer": (Channel.SMS, world.sms_buyers[0], None),
        "courier": (Channel.SMS, world.courier, None),
        "seller": (Channel.TELEGRAM, str(world.seller_tg), world.seller_tg),
        "admin": (Channel.TELEGRAM, str(world.admin_tg), world.admin_tg),
        "stranger": (Channel.TELEGRAM, str(world.stranger_tg), world.stranger_tg),
    }[role]
    kind = draw(st.sampled_from(InboundKind))
    coord = st.none() | st.floats(-90, 90) | st.sampled_from((float("nan"), float("inf"), 1e308))
    return InboundMessage(
        provider="telegram" if tg else "twilio",
        external_id=f"EN{next(_sids)}",
        channel=channel,
        address=address,
        kind=kind,
        text=draw(h.text),
        payload=draw(h.payload) if kind == InboundKind.BUTTON or draw(st.booleans()) else "",
        profile_name=draw(h.text),
        telegram_user_id=tg,
        latitude=draw(coord),
        longitude=draw(coord),
        location_label=draw(h.text),
        media=tuple(
            draw(
                st.lists(
                    st.builds(Media, url=MEDIA_URL, content_type=CONTENT_TYPE, file_id=h.text),
                    max_size=2,
                )
            )
        ),
        contact_phone=draw(st.sampled_from((world.courier, "+224622000112", "")) | h.text),
        contact_user_id=draw(st.none() | st.sampled_from((tg or 1, 1, 2**40))),
        callback_query_id=draw(st.sampled_from(("", "cb1"))),
    )


@fuzz_settings(1_200)
@given(data=st.data())
def test_engine_answers_every_role_in_every_state(world: World, data: st.DataObject) -> None:
    """1 200 messages of every kind into the real engine and router, as a buyer (French,
    English, SMS), a courier, a seller, an admin and a newcomer, each in whatever state the
    previous messages left them: always ≥ 1 reply in the user's language, never an error."""
    engine = Engine(
        pick_flow,
        flow_named=flow_named,
        public_base_url=PUBLIC,
        media_dir=world.app.rt.config.media_dir,
        admin_telegram_ids=(world.admin_tg,),
    )
    msg = data.draw(engine_message(world))
    prior = h.before(world.db, msg.provider, msg.external_id, msg.channel, msg.address)
    with h.no_logged_errors():
        with world.db.uow() as s:
            engine.handle(s, msg)
        h.assert_answered(world.db, msg.provider, msg.external_id, prior)


# --- the same doors on PostgreSQL -----------------------------------------------------------


@pytest.fixture
def pg_world(pg: Db, tmp_path: Path) -> Iterator[World]:
    """The world on the real PostgreSQL: it refuses what SQLite lets through (NUL characters,
    strings longer than their column, integers wider than 64 bits)."""
    made = make_app(pg, tmp_path / "media")
    yield build_world(made)
    made.rt.dispose()


@fuzz_settings(300)
@given(data=st.data(), door=st.sampled_from(("whatsapp", "sms", "telegram")))
def test_hostile_fields_on_postgresql(pg_world: World, data: st.DataObject, door: str) -> None:
    """300 signed WhatsApp/SMS forms and Telegram updates on PostgreSQL: same promises."""
    world = pg_world
    if door == "telegram":
        update = data.draw(telegram_update(world))
        msg = parse_update(update) if isinstance(update, dict) else None
        prior = h.before(
            world.db,
            "telegram",
            msg.external_id if msg else "",
            Channel.TELEGRAM,
            msg.address if msg else "",
        )
        counts = h.counts(world.db)
        with h.no_logged_errors():
            status = post_telegram(world.app.client, update, off_spec=True).status_code
        malformed = not isinstance(update, dict) or _malformed(checked_update, update)
        assert status == (400 if malformed else 200)
        if status == 400:
            assert h.counts(world.db) == counts
        elif msg is not None:
            h.assert_answered(world.db, "telegram", msg.external_id, prior)
        return
    channel = Channel.WHATSAPP if door == "whatsapp" else Channel.SMS
    form = data.draw(twilio_form(world, channel))
    with h.no_logged_errors():
        _post_signed_form(world, WA if door == "whatsapp" else SMS, form, channel)
