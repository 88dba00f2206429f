"""The Twilio emulator says only what Twilio says: answers, webhooks and list semantics.

Answers are held to the response schemas of Twilio's OpenAPI (`provider_facts.json`), webhooks
(which the OpenAPI does not describe) to the parameters Twilio's documentation lists, and the
Messages list to the meaning the spec gives its filters. No sockets: Flask's test client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient

from devtools import contracts
from devtools.emulators import EmulatorStore, create_emulator_app
from devtools.emulators.message_list import parse_date_filter
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN, sms_form, whatsapp_form

MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CREATE = "POST /2010-04-01/Accounts/{AccountSid}/Messages.json"
FETCH = "GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"
LIST = "GET /2010-04-01/Accounts/{AccountSid}/Messages.json"
BUYER = "+224620000002"


@pytest.fixture
def store() -> EmulatorStore:
    return EmulatorStore()


@pytest.fixture
def client(store: EmulatorStore) -> FlaskClient:
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )
    return app.test_client()


AUTH = {"auth": (ACCOUNT_SID, AUTH_TOKEN)}


def _send(client: FlaskClient, **form: str) -> dict[str, Any]:
    data = {"To": BUYER, **form}
    if "MessagingServiceSid" not in form:
        data.setdefault("From", "+12025550100")
    answer = client.post(MESSAGES, data=data, **AUTH)
    assert answer.status_code == 201, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def _list(client: FlaskClient, **query: str) -> Any:
    return client.get(MESSAGES, query_string=query, **AUTH)


# ---------------------------------------------------------------- the checkers catch what they must


def _message(**changes: Any) -> dict[str, Any]:
    message = {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": "Bonjour",
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": "+12025550100",
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": "SM" + "a" * 32,
        "status": "queued",
        "subresource_uris": {"media": "/x/Media.json"},
        "to": BUYER,
        "uri": "/x.json",
    }
    message.update(changes)
    return message


def test_a_message_as_the_spec_has_it_passes() -> None:
    assert contracts.twilio_response_violations(CREATE, 201, _message()) == []


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"channel": "sms"}, "field 'channel' the spec does not have"),
        ({"status": "pending"}, "'pending' is not one of"),
        ({"num_segments": 1}, "is not of type string"),
        ({"error_code": "63016"}, "is not of type integer"),
        ({"date_created": "2023-08-24T05:01:45Z"}, "not an RFC 2822 date in GMT"),
        ({"sid": "SM123"}, "does not match"),
        ({"direction": None}, "null, the spec says never"),
    ],
)
def test_an_off_spec_message_is_caught(changes: dict[str, Any], complaint: str) -> None:
    found = contracts.twilio_response_violations(CREATE, 201, _message(**changes))
    assert any(complaint in f for f in found), found


def test_a_missing_field_and_a_wrong_status_code_are_caught() -> None:
    message = _message()
    del message["price_unit"]
    assert contracts.twilio_response_violations(FETCH, 200, message) == [
        f"{FETCH} -> 200: field 'price_unit' missing"
    ]
    assert "describes no 200 answer" in contracts.twilio_response_violations(CREATE, 200, {})[0]


def test_a_list_page_needs_the_paging_fields_and_error_bodies_twilios_shape() -> None:
    page = {"messages": [_message()], "page": 0, "page_size": 50, "uri": "/m.json"}
    found = contracts.twilio_response_violations(LIST, 200, page)
    assert {f.split(": ", 1)[1] for f in found} >= {
        "field 'first_page_uri' missing",
        "field 'next_page_uri' missing",
        "field 'start' missing",
    }
    error = {"code": 21211, "message": "Invalid", "status": 400, "detail": "x"}
    found = contracts.twilio_response_violations(CREATE, 400, error)
    assert any("'detail' not in" in f for f in found) and any("'more_info'" in f for f in found)


# ---------------------------------------------------------------- the emulator's answers fit


def test_every_answer_of_the_emulator_fits_the_response_schemas(
    client: FlaskClient, store: EmulatorStore
) -> None:
    sent = _send(client, Body="Bonjour", StatusCallback="https://boutik.example.gn/s")
    _send(client, Body="via service", MessagingServiceSid="MG" + "d" * 32)
    store.advance_status(sent["sid"], "delivered")
    client.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sent['sid']}.json", **AUTH)
    client.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM{'0' * 32}.json", **AUTH)
    _list(client, To=BUYER, PageSize="1")
    client.post(MESSAGES, data={"To": "0620", "From": "+12025550100", "Body": "x"}, **AUTH)
    client.get(MESSAGES)  # no credentials: 401

    answers = store.raw_responses()
    assert {(r.method, r.status) for r in answers} >= {
        ("POST", 201),
        ("GET", 200),
        ("GET", 404),
        ("POST", 400),
        ("GET", 401),
    }
    assert contracts.response_violations(answers) == []


def test_date_sent_and_date_updated_follow_the_status(
    client: FlaskClient, store: EmulatorStore
) -> None:
    sent = _send(client, Body="Bonjour", StatusCallback="https://boutik.example.gn/s")
    assert sent["status"] == "queued" and sent["date_sent"] is None
    store.advance_status(sent["sid"], "sent")
    fetched = client.get(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sent['sid']}.json", **AUTH
    ).get_json()
    assert fetched["status"] == "sent" and fetched["date_sent"] is not None
    service = _send(client, Body="x", MessagingServiceSid="MG" + "d" * 32)
    assert (service["status"], service["num_segments"]) == ("accepted", "0")


# ---------------------------------------------------------------- webhooks: the documented names


def test_the_webhook_checker_refuses_invented_parameters_and_statuses() -> None:
    form = {"MessageSid": "SM1", "AccountSid": ACCOUNT_SID, "From": "+1", "To": "+2"}
    assert contracts.twilio_webhook_violations("inbound", {**form, "MediaUrl3": "u"}) == []
    found = contracts.twilio_webhook_violations("inbound", {**form, "ChannelMetadata": "{}"})
    assert found and "'ChannelMetadata' is not in https://www.twilio.com/docs/" in found[0]
    callback = {**form, "MessageStatus": "pending"}
    assert any("'pending' is not one of" in f for f in contracts.twilio_webhook_violations(
        "status_callback", callback
    ))  # fmt: skip
    assert contracts.twilio_webhook_violations("status_callback", {**form, "From": ""}) == [
        "status_callback: From is empty",
        "status_callback: MessageStatus missing",
    ]


def test_status_callbacks_carry_only_documented_parameters(
    client: FlaskClient, store: EmulatorStore
) -> None:
    hook = "https://boutik.example.gn/webhooks/twilio/status"
    wa = _send(client, To=f"whatsapp:{BUYER}", From="whatsapp:+14155238886", Body="x",
               StatusCallback=hook)  # fmt: skip
    service = _send(client, Body="y", MessagingServiceSid="MG" + "d" * 32, StatusCallback=hook)
    sms = _send(client, Body="z", StatusCallback=hook)
    for sid, status in [(wa["sid"], "read"), (service["sid"], "queued"), (sms["sid"], "failed")]:
        store.advance_status(sid, status, 30003 if status == "failed" else None)
    _url, service_params = store.advance_status(service["sid"], "sent")
    assert "From" not in service_params  # was "" before: Twilio never sends an empty From
    posted = store.sent_webhooks()
    assert len(posted) == 4
    assert contracts.webhook_violations(posted) == []


def test_every_inbound_form_the_test_kit_and_the_simulator_build_is_documented() -> None:
    from devtools.simulator import provider
    from settings.config import load_config

    config = load_config(
        environ={"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    )
    forms = [whatsapp_form(BUYER, "Bonjour"), sms_form(BUYER, "Bonjour")]
    actions: list[dict[str, Any]] = [
        {"text": "Bonjour"},
        {"button": {"title": "Oui", "id": "y"}},
        {"button": {"title": "Chaussures", "id": "cat:3", "list": True}},
        {"location": {"lat": 9.5, "lng": -13.7, "label": "Kaloum"}},
        {"media_url": "https://api.twilio.com/m", "preview": "p", "text": "photo"},
    ]
    forms += [provider.whatsapp(config, BUYER, "Mariama", a).form or {} for a in actions]
    forms.append(provider.sms(config, BUYER, "Bonjour").form or {})
    for form in forms:
        assert contracts.twilio_webhook_violations("inbound", form) == [], form


# ---------------------------------------------------------------- the Messages list, as Twilio


@pytest.mark.parametrize(
    ("value", "expected", "whole_day"),
    [
        ("2026-12-02", dt.datetime(2026, 12, 2, tzinfo=dt.UTC), True),
        ("2026-12-02T10:20:30Z", dt.datetime(2026, 12, 2, 10, 20, 30, tzinfo=dt.UTC), False),
        ("2019-06-11 22:05:25.000", dt.datetime(2019, 6, 11, 22, 5, 25, tzinfo=dt.UTC), False),
        ("Wed, 19 Jun 2019 22:04:00 -0000", dt.datetime(2019, 6, 19, 22, 4, tzinfo=dt.UTC), False),
        ("06/11/2019 22:05:25 MST", dt.datetime(2019, 6, 12, 5, 5, 25, tzinfo=dt.UTC), False),
    ],
)
def test_the_date_formats_of_the_spec_are_read_in_gmt(
    value: str, expected: dt.datetime, whole_day: bool
) -> None:
    assert parse_date_filter("DateSent>", value) == (expected, whole_day)


def test_an_unreadable_date_or_page_size_is_a_400_shaped_like_twilio(
    client: FlaskClient, store: EmulatorStore
) -> None:
    for query in ({"DateSent>": "yesterday"}, {"DateSent": "2026-13-45"}, {"PageSize": "5000"}):
        answer = _list(client, **query)
        assert answer.status_code == 400, query
        assert set(answer.get_json()) == {"code", "message", "more_info", "status"}
    assert contracts.response_violations(store.raw_responses()) == []


def test_date_sent_filters_see_only_messages_twilio_has_sent(
    client: FlaskClient, store: EmulatorStore
) -> None:
    queued = _send(client, Body="en file")
    sent = _send(client, Body="parti")
    store.advance_status(sent["sid"], "sent")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    everything = [m["sid"] for m in _list(client, To=BUYER).get_json()["messages"]]
    assert set(everything) == {queued["sid"], sent["sid"]}
    after_today = _list(client, To=BUYER, **{"DateSent>": today}).get_json()["messages"]
    assert [m["sid"] for m in after_today] == [sent["sid"]]  # the queued one has no date_sent
    before_today = _list(client, To=BUYER, **{"DateSent<": today}).get_json()["messages"]
    assert [m["sid"] for m in before_today] == [sent["sid"]]  # "on and before" includes today
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    assert _list(client, To=BUYER, **{"DateSent>": tomorrow}).get_json()["messages"] == []
    assert _list(client, To="+224620000003").get_json()["messages"] == []


def test_the_list_is_newest_first_in_pages_with_twilios_paging_fields(
    client: FlaskClient, store: EmulatorStore
) -> None:
    sids = []
    for n in range(3):
        sids.append(_send(client, Body=f"n{n}")["sid"])
        store.advance_status(sids[-1], "sent")
        with store._lock:  # three distinct date_sent seconds without sleeping
            store._twilio[sids[-1]].sent_at = dt.datetime(2026, 1, 1, 10, 0, n, tzinfo=dt.UTC)
    first = _list(client, To=BUYER, PageSize="2").get_json()
    assert [m["sid"] for m in first["messages"]] == [sids[2], sids[1]]
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
    assert first["previous_page_uri"] is None and "PageToken=" in first["next_page_uri"]
    second = client.get(first["next_page_uri"], **AUTH).get_json()
    assert [m["sid"] for m in second["messages"]] == [sids[0]]
    assert second["next_page_uri"] is None and second["page"] == 1
    assert contracts.response_violations(store.raw_responses()) == []


CONTENT_CREATE = "POST /v1/Content"


def _content() -> dict[str, Any]:
    sid = "HX" + "1" * 32
    url = f"https://content.twilio.com/v1/Content/{sid}"
    return {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "friendly_name": "boutik_menu_quick_reply_2",
        "language": "fr",
        "variables": {"1": "Que souhaitez-vous faire ?"},
        "types": {"twilio/text": {"body": "{{1}}"}},
        "url": url,
        "date_created": "2026-12-02T10:00:00Z",
        "date_updated": "2026-12-02T10:00:00Z",
        "links": {"approval_create": f"{url}/ApprovalRequests/whatsapp"},
    }


def test_content_api_answers_are_held_to_the_content_spec_too() -> None:
    """The Content API's answers have their own schema (ISO dates, HX sids), checked alike."""
    assert contracts.twilio_response_violations(CONTENT_CREATE, 201, _content()) == []
    bad = _content() | {"date_created": "Wed, 02 Dec 2026 10:00:00 +0000", "shape": "x"}
    found = contracts.twilio_response_violations(CONTENT_CREATE, 201, bad)
    assert any("'shape' the spec does not have" in f for f in found)
    assert any("not an ISO 8601 date-time" in f for f in found)
    del bad["sid"]
    assert any(
        "'sid' missing" in f for f in contracts.twilio_response_violations(CONTENT_CREATE, 201, bad)
    )
