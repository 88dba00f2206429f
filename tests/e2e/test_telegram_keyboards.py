"""Issue 17, Telegram: the share-number keyboard goes once the number is shared, a finished
step's inline buttons are edited away, and a stale tap says why it cannot be done.

Signed Telegram updates in; the Bot API calls and the chat as the user sees it read back from
the emulator (which holds requests to the Bot API description).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from commerce.users.models import User
from tests.e2e.conftest import Boutik, telegram_say, telegram_tap
from tests.support import phone, uid
from tests.unit import flows

pytestmark = pytest.mark.usefixtures("fast_chats")


def _markup(params: dict[str, Any]) -> dict[str, Any]:
    markup = params.get("reply_markup") or {}
    return json.loads(markup) if isinstance(markup, str) else dict(markup)


def _sent(boutik: Boutik, tg: int) -> list[dict[str, Any]]:
    return [c.params for c in boutik.store.telegram_calls(method="sendMessage", chat_id=tg)]


def _seller_tg(boutik: Boutik, seller_id: int) -> int:
    with boutik.db.session() as s:
        tg = s.scalar(select(User.telegram_id).where(User.id == seller_id))
        assert tg is not None
        return int(tg)


def test_the_share_number_keyboard_is_removed_once_the_number_is_shared(boutik: Boutik) -> None:
    tg = 770_000 + uid()
    telegram_say(boutik, tg, "/start")
    telegram_tap(boutik, tg, "w:shop")
    assert "request_contact" in json.dumps(_markup(_sent(boutik, tg)[-1]))
    before = len(_sent(boutik, tg))

    mine = {"phone_number": phone().lstrip("+"), "first_name": "Aissatou", "user_id": tg}
    telegram_say(boutik, tg, contact=mine)

    after = _sent(boutik, tg)[before:]
    assert after and _markup(after[0]) == {"remove_keyboard": True}, after
    for answer in ("Chez Aissatou", "Kaloum"):  # the later steps carry no reply keyboard
        telegram_say(boutik, tg, answer)
    later = _sent(boutik, tg)[before + len(after) :]
    assert later and not any("keyboard" in _markup(p) for p in later), later


def test_a_tapped_decision_loses_its_buttons(boutik: Boutik) -> None:
    p = flows.place(boutik.db)
    tg = _seller_tg(boutik, p.seller_id)
    boutik.flush()  # the new-order alert, with Accept and Refuse
    [alert] = [
        m
        for m in boutik.store.telegram_messages(tg)
        if f"o:a:{p.order_id}" in json.dumps(m.get("reply_markup", {}))
    ]

    telegram_tap(boutik, tg, f"o:a:{p.order_id}", message_id=alert["message_id"])

    edits = boutik.store.telegram_calls(method="editMessageReplyMarkup", chat_id=tg)
    assert [e.params.get("message_id") for e in edits] == [alert["message_id"]]
    seen = boutik.store.telegram_message(tg, alert["message_id"])
    assert seen is not None and "reply_markup" not in seen  # the chat shows no stale buttons
    assert "d:p:" in json.dumps(_markup(_sent(boutik, tg)[-1]))  # the next step's buttons


def test_refusing_a_delivered_order_says_it_is_already_delivered(boutik: Boutik) -> None:
    p = flows.place(boutik.db)
    flows.deliver(boutik.db, p)
    tg = _seller_tg(boutik, p.seller_id)
    boutik.flush()

    telegram_tap(boutik, tg, f"o:r:{p.order_id}")
    telegram_tap(boutik, tg, f"o:a:{p.order_id}")

    refused, accepted = (str(m.get("text")) for m in _sent(boutik, tg)[-2:])
    for text in (refused, accepted):
        assert str(p.order_id) in text and "livrée" in text, text
