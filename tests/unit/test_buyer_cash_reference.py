"""The buyer's cash confirmation carries a mobile-money reference (issue 19): one optional step
after "J'ai payé" when her order is paid by Orange Money or MTN MoMo, never for cash."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.buyer.states import BuyerState as S
from commerce.ledger.models import EntryKind, LedgerEntry
from commerce.orders.models import Order, OrderStatus, PaymentMethod
from commerce.users.models import User
from tests.support import Db
from tests.unit import flows
from tests.unit.buyer_chat import Chat


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def _placed(db: Db, media: Path, method: PaymentMethod) -> tuple[Chat, flows.Placed, int]:
    placed = flows.place(db)
    with db.uow() as s:
        order = s.get(Order, placed.order_id)
        assert order is not None
        order.payment_method = method
        user = s.get(User, placed.buyer_id)
        assert user is not None and user.phone
        number = user.phone
    chat = Chat(db, media, number=number)
    chat.say("bonjour")
    courier, _job = flows.to_picked_up(db, placed)
    return chat, placed, courier


def _door_entry(db: Db, order_id: int) -> LedgerEntry | None:
    with db.session() as s:
        return s.scalar(
            select(LedgerEntry).where(
                LedgerEntry.order_id == order_id, LedgerEntry.kind == EntryKind.DOOR_PAYMENT
            )
        )


def test_orange_money_asks_the_reference_and_keeps_it(db: Db, media: Path) -> None:
    chat, placed, courier = _placed(db, media, PaymentMethod.ORANGE_MONEY)
    assert flows.prove_pin(db, courier, placed) is False
    chat.press(f"cash:yes:{placed.order_id}")
    assert chat.current == S.CASH_REFERENCE
    assert "Orange Money" in chat.texts() and "référence" in chat.texts()
    assert flows.order(db, placed.order_id).cash_confirmed_at is None  # not before her answer
    chat.say("chaussures rouges")  # a search, answered aside; the question comes again
    assert chat.current == S.CASH_REFERENCE
    chat.say("MP231210.1234.A56789")
    assert "livrée et payée" in chat.texts()
    order = flows.order(db, placed.order_id)
    assert order.status == OrderStatus.DELIVERED
    assert order.payment_reference == "MP231210.1234.A56789"
    entry = _door_entry(db, placed.order_id)
    assert entry is not None


def test_momo_reference_can_be_skipped(db: Db, media: Path) -> None:
    chat, placed, courier = _placed(db, media, PaymentMethod.MTN_MOMO)
    chat.say(f"oui {placed.order_id}")
    assert "MTN MoMo" in chat.texts()
    chat.press(f"cashref:skip:{placed.order_id}")
    assert "noté" in chat.texts()  # the courier's proof is still to come
    order = flows.order(db, placed.order_id)
    assert order.cash_confirmed_at is not None and not order.payment_reference
    assert flows.prove_pin(db, courier, placed) is True
    chat.press(f"cashref:skip:{placed.order_id}")  # the old button again: said, not a crash
    assert "déjà confirmé" in chat.texts()


def test_cash_has_no_reference_step(db: Db, media: Path) -> None:
    chat, placed, courier = _placed(db, media, PaymentMethod.CASH)
    assert flows.prove_pin(db, courier, placed) is False
    chat.press(f"cash:yes:{placed.order_id}")
    assert chat.current != S.CASH_REFERENCE
    assert "livrée et payée" in chat.texts()


def test_someone_elses_skip_button_confirms_nothing(db: Db, media: Path) -> None:
    _chat, placed, _courier = _placed(db, media, PaymentMethod.ORANGE_MONEY)
    other, other_placed, _c = _placed(db, media, PaymentMethod.CASH)
    other.press(f"cashref:skip:{placed.order_id}")
    assert other.texts()  # answered politely
    assert flows.order(db, placed.order_id).cash_confirmed_at is None
    other.press("cashref:skip:abc")
    assert other.texts()
    assert flows.order(db, other_placed.order_id).cash_confirmed_at is None
