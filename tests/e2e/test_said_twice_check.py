"""The e2e check that nothing is said twice (devtools/testkit/repeats.py, run by every `boutik`
fixture at teardown) catches the two duplicates issue 17 found, put back here on purpose:

- the core's rating prompt queued beside the turn's own when the buyer's "OUI 18" closes it;
- a second seller alert about one review (at the stars' tap, then with the words).

Each test reads the check's findings itself, then removes the rows it duplicated on purpose so
the fixture's own check passes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from commerce.delivery import handover
from commerce.messaging.models import Outbox
from commerce.reviews import actions as reviews
from commerce.reviews.models import Review
from devtools.testkit import repeats
from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import at_the_door, say
from tests.unit import flows


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


def _forget_outbox(boutik: Boutik) -> None:
    with boutik.db.uow() as s:
        s.execute(delete(Outbox))


def test_the_check_sees_a_rating_prompt_asked_twice_in_one_turn(
    boutik: Boutik, monkeypatch: pytest.MonkeyPatch
) -> None:
    finish = handover._finish_if_confirmed

    def as_before(session, order, *, by_buyer: bool = False):  # type: ignore[no-untyped-def]
        return finish(session, order, by_buyer=False)  # the prompt queued whoever closed it

    monkeypatch.setattr(handover, "_finish_if_confirmed", as_before)
    placed, _courier, phone = at_the_door(boutik)
    say(boutik, phone, f"OUI {placed.order_id}")
    found = repeats.problems(boutik.db.factory, boutik.turns)
    assert any("buyer.review.r5" in line for line in found), found
    assert any("same question" in line for line in found), found
    _forget_outbox(boutik)


def test_the_check_sees_a_review_told_to_the_seller_twice(
    boutik: Boutik, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reviews, "send_now", lambda session, **_: None)  # a second alert
    placed, _courier, phone = at_the_door(boutik)
    say(boutik, phone, f"OUI {placed.order_id}")
    say(boutik, phone, "4")
    say(boutik, phone, "Bien reçu")
    boutik.send_queued()
    found = repeats.problems(boutik.db.factory, boutik.turns)
    assert [line for line in found if "new_review" in line] == [
        f"user {placed.seller_id} was told new_review about "
        f"{{'review_id': {_review_id(boutik, placed)}}} 2×"
    ]
    _forget_outbox(boutik)


def test_a_clean_conversation_passes_the_check(boutik: Boutik) -> None:
    placed, _courier, phone = at_the_door(boutik)
    say(boutik, phone, f"OUI {placed.order_id}")
    say(boutik, phone, "5")
    say(boutik, phone, "passer")
    assert len(boutik.turns) >= 3  # the turns were seen
    assert repeats.problems(boutik.db.factory, boutik.turns) == []


def _review_id(boutik: Boutik, placed: flows.Placed) -> int:
    with boutik.db.session() as s:
        found = s.scalar(select(Review.id).where(Review.order_item_id == placed.item_id))
        assert found is not None
        return found
