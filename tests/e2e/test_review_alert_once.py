"""Nothing said twice (issue 17): one alert per review for the seller, once it is complete —
with the buyer's words when she writes some, with the stars only (never "« — »") when she skips
the comment or never answers the question.

Why not at the tap: the seller would read the stars with an empty comment, then the same review
again with the words. Why not only on the comment: a buyer who walks away after tapping the
stars must still reach the seller, so the alert waits a few minutes for the words, then goes.
"""

from __future__ import annotations

import datetime as dt

import pytest

from commerce import clock
from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import at_the_door, say, user
from tests.unit import flows


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


def _seller_texts(boutik: Boutik, seller_id: int) -> list[str]:
    chat = user(boutik.db, seller_id).telegram_id
    calls = boutik.store.telegram_calls(method="sendMessage", chat_id=chat)
    return [str(c.params.get("text", "")) for c in calls]


def _delivered_and_rated(boutik: Boutik, stars: str) -> tuple[flows.Placed, str, int]:
    placed, _courier, phone = at_the_door(boutik)
    say(boutik, phone, f"OUI {placed.order_id}")
    boutik.send_queued()
    seen = len(_seller_texts(boutik, placed.seller_id))
    asked = say(boutik, phone, stars)
    assert any("commentaire" in t.lower() for t in asked)
    return placed, phone, seen


def test_the_seller_hears_of_a_review_once_with_its_words(boutik: Boutik) -> None:
    placed, phone, seen = _delivered_and_rated(boutik, "5")
    boutik.send_queued()
    assert _seller_texts(boutik, placed.seller_id)[seen:] == []  # not while she is typing
    say(boutik, phone, "Très bon téléphone, livré vite")
    boutik.send_queued()
    [alert] = _seller_texts(boutik, placed.seller_id)[seen:]
    assert "5/5" in alert and "Très bon téléphone, livré vite" in alert and "—" not in alert


def test_a_skipped_comment_alerts_the_seller_once_with_the_stars_only(boutik: Boutik) -> None:
    placed, phone, seen = _delivered_and_rated(boutik, "2")
    say(boutik, phone, "passer")
    boutik.send_queued()
    [alert] = _seller_texts(boutik, placed.seller_id)[seen:]
    assert "2/5" in alert and "—" not in alert and "«  »" not in alert
    assert "sans commentaire" in alert


def test_a_buyer_who_never_comments_still_reaches_the_seller_once(boutik: Boutik) -> None:
    placed, _phone, seen = _delivered_and_rated(boutik, "4")
    boutik.send_queued()
    assert _seller_texts(boutik, placed.seller_id)[seen:] == []
    clock.advance(dt.timedelta(hours=1))  # longer than any wait for the words
    boutik.send_queued()  # the sweeper's pass
    boutik.send_queued()
    [alert] = _seller_texts(boutik, placed.seller_id)[seen:]
    assert "4/5" in alert and "sans commentaire" in alert
