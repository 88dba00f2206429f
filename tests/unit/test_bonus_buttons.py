"""The seller's bonus buttons: one set of steps (bot.seller.dispatch.BONUS_STEPS) on both screens.

Publishing offers "no bonus" then each step; the "nobody took it" notice offers each step on top
of the bonus already offered.
"""

from __future__ import annotations

from pathlib import Path

from bot.courier import notifications as courier_notes
from bot.messages import Choices
from bot.seller.dispatch import BONUS_STEPS
from commerce.users.models import User
from tests.support import Db
from tests.unit import flows
from tests.unit.seller_admin_turns import choice_ids, make_bot


def test_the_bonus_steps() -> None:
    assert BONUS_STEPS == (2_000, 5_000, 10_000)


def test_publishing_offers_no_bonus_then_each_step(db: Db, tmp_path: Path) -> None:
    bot = make_bot(db, tmp_path)
    p = flows.place(db)
    with db.session() as s:
        tg = s.get(User, p.seller_id).telegram_id  # type: ignore[union-attr]
    bot.tap(tg, f"o:a:{p.order_id}")
    quote = bot.tap(tg, f"d:p:{p.order_id}")
    assert choice_ids(quote) == [
        f"d:b:{p.order_id}:0",
        f"d:b:{p.order_id}:2000",
        f"d:b:{p.order_id}:5000",
        f"d:b:{p.order_id}:10000",
    ]
    assert isinstance(quote[-1], Choices)
    labels = [c.label for c in quote[-1].choices]
    assert labels[0] == "Publier sans bonus"
    assert all(label.startswith("Bonus +") for label in labels[1:])


def test_the_unclaimed_notice_raises_the_bonus_already_offered_by_each_step(db: Db) -> None:
    p = flows.place(db)
    flows.accept(db, p)
    job_id = flows.publish(db, p, bonus=5_000)
    with db.session() as s:
        seller = s.get(User, p.seller_id)
        assert seller is not None
        params = {"job_id": job_id, "order_id": p.order_id, "commission": 0}
        reply = courier_notes.job_unclaimed(s, seller, params, "fr")
    assert isinstance(reply, Choices)
    assert [c.id for c in reply.choices] == [
        f"bonus:{job_id}:7000",
        f"bonus:{job_id}:10000",
        f"bonus:{job_id}:15000",
    ]
