"""Crash recovery finds an interrupted send under Twilio's own list semantics.

`TwilioSender.find_sent` asks Twilio's Messages list whether a send whose 201 we never recorded
reached Twilio. The emulator answers that list as Twilio documents it (`DateSent>` compares
date_sent, which a message still queued does not have), so these tests hold the sender to the
real semantics: a queued message is found all the same, an older one is not, a sent one is.
"""

from __future__ import annotations

import datetime as dt

import pytest

from channels_adapters.senders import TwilioSender
from devtools.emulators import EmulatorStore
from tests.services import Emulator
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN

BUYER = "+224620000042"
SMS_FROM = "+12025550100"


@pytest.fixture
def store(emulator: Emulator) -> EmulatorStore:
    emulator.store.reset()
    return emulator.store


@pytest.fixture
def twilio(emulator: Emulator, store: EmulatorStore) -> TwilioSender:
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, emulator.base_url)


def _since() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=30)


def test_a_message_still_queued_is_found_though_date_sent_cannot_see_it(
    twilio: TwilioSender, store: EmulatorStore
) -> None:
    since = _since()
    sid = twilio.send(to=BUYER, from_=SMS_FROM, body="Code 4821").provider_id
    assert store.twilio_message(sid).status == "queued"  # type: ignore[union-attr]
    # What Twilio answers to the filter alone: nothing, the message has no date_sent yet.
    assert twilio._client.messages.list(to=BUYER, date_sent_after=since) == []
    assert twilio.find_sent(to=BUYER, body="Code 4821", since=since) == sid


def test_a_sent_message_is_found_and_other_bodies_or_older_ones_are_not(
    twilio: TwilioSender, store: EmulatorStore
) -> None:
    since = _since()
    old = twilio.send(to=BUYER, from_=SMS_FROM, body="Code 1111").provider_id
    with store._lock:  # created before the interrupted attempt began
        store._twilio[old].created_at = since - dt.timedelta(hours=1)
    sent = twilio.send(to=BUYER, from_=SMS_FROM, body="Code 4821").provider_id
    store.advance_status(sent, "sent")
    assert twilio.find_sent(to=BUYER, body="Code 4821", since=since) == sent
    assert twilio.find_sent(to=BUYER, body="Code 1111", since=since) is None
    assert twilio.find_sent(to=BUYER, body="Code 9999", since=since) is None


def test_a_since_in_another_time_zone_is_sent_to_twilio_in_gmt(
    twilio: TwilioSender, store: EmulatorStore
) -> None:
    sent = twilio.send(to=BUYER, from_=SMS_FROM, body="Code 4821").provider_id
    store.advance_status(sent, "delivered")
    conakry_plus_one = dt.timezone(dt.timedelta(hours=1))
    since = _since().astimezone(conakry_plus_one)  # the SDK would print its wall time as "Z"
    assert twilio.find_sent(to=BUYER, body="Code 4821", since=since) == sent
    (asked,) = [r.query["DateSent>"][0] for r in store.raw_requests() if "DateSent>" in r.query]
    written = dt.datetime.strptime(asked, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs(written - since) <= dt.timedelta(seconds=1)
