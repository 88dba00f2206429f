"""A locked delivery code can be recovered, and wrong PINs are counted per courier too.

The defect: after 5 wrong PINs nothing reset a code — the order stayed picked up, the job kept
counting against the courier's active jobs, the QR page answered 423 and the buyer could not
get a code again. Now the seller and the admins hear of the lock at once, an admin reissues the
code (fresh token and PIN, the buyer gets them as at checkout, the courier is told), and a
courier who collects too many wrong PINs across his jobs is paused before any PIN is compared.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.buyer.qr import qr_path
from bot.courier.flow import FLOW as COURIER
from bot.engine import Engine
from bot.messages import Choices, Image, InboundKind, InboundMessage, Reply, Text
from bot.notifications import render_notification
from commerce import clock, rules
from commerce.catalog.models import Shop
from commerce.delivery import handover, lockouts
from commerce.delivery.models import DeliveryCode, JobStatus, PinFailure
from commerce.errors import (
    CodeLocked,
    CodeNotLocked,
    CodeUsed,
    CourierPinPaused,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    PinNotPaused,
    WrongPin,
)
from commerce.messaging.models import Outbox
from commerce.messaging.sms_text import segments, to_gsm7
from commerce.orders import actions as orders
from commerce.orders.models import OrderStatus
from commerce.users.models import Channel, User
from tests.integration.races import race
from tests.support import Db, make_admin, make_courier
from tests.unit import flows
from tests.unit.seller_admin_turns import choice_ids, make_bot, texts

ADMIN_TG = 990_707


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def lock(db: Db, courier_id: int, p: flows.Placed) -> None:
    """Five wrong PINs: the fifth locks the code."""
    with db.session() as s:
        attempts = rules.of(s).pin_max_attempts
    for _ in range(attempts - 1):
        with pytest.raises(WrongPin):
            flows.prove_pin(db, courier_id, p, wrong(p.pin))
    with pytest.raises(CodeLocked):
        flows.prove_pin(db, courier_id, p, wrong(p.pin))


def locked_order(db: Db) -> tuple[flows.Placed, int, int]:
    """A picked-up order whose code the courier locked: (placed, courier id, job id)."""
    p = flows.place(db)
    courier_id, job_id = flows.to_picked_up(db, p)
    lock(db, courier_id, p)
    return p, courier_id, job_id


def reissue(db: Db, admin_id: int, order_id: int) -> DeliveryCode:
    with db.uow() as s:
        return lockouts.reissue_code(s, admin_id=admin_id, order_id=order_id)


def rendered(db: Db, row: Outbox) -> Reply:
    with db.session() as s:
        user = s.get(User, row.user_id)
        assert user is not None
        return render_notification(
            s, user, row.kind, dict(row.payload["params"]), user.language.value
        )


def reply_text(reply: Reply) -> str:
    if isinstance(reply, Image):
        return reply.caption
    assert isinstance(reply, Text | Choices)
    return reply.text


def buyer_phone(db: Db, p: flows.Placed) -> str:
    with db.session() as s:
        user = s.get(User, p.buyer_id)
        assert user is not None and user.phone
        return user.phone


def assert_secret_free(text: str, p: flows.Placed, phone: str, token: str | None = None) -> None:
    for secret in (p.pin, p.token, token or p.token, phone, phone.removeprefix("+224")):
        assert secret not in text, (secret, text)


# --- the lock is announced -------------------------------------------------------------------


def test_the_locking_pin_tells_the_seller_and_every_admin_once_without_secrets(db: Db) -> None:
    first_admin = make_admin(db)
    p = flows.place(db)
    second_admin = make_admin(db)
    courier_id, _job = flows.to_picked_up(db, p)

    lock(db, courier_id, p)
    with pytest.raises(CodeLocked):  # a sixth try is refused, and announces nothing again
        flows.prove_pin(db, courier_id, p, wrong(p.pin))

    [seller_row] = flows.outbox(db, user_id=p.seller_id, kind="code_locked")
    admin_rows = flows.outbox(db, kind="code_locked_admin")
    with db.session() as s:
        admins = {
            u.id for u in s.scalars(select(User)) if any(r.role.value == "admin" for r in u.roles)
        }
    assert {first_admin, second_admin} <= admins
    assert sorted(r.user_id for r in admin_rows) == sorted(admins)
    phone = buyer_phone(db, p)
    seller_text = reply_text(rendered(db, seller_row))
    assert str(p.order_id) in seller_text and "admin" in seller_text
    assert_secret_free(seller_text, p, phone)
    card = rendered(db, admin_rows[0])
    assert isinstance(card, Choices) and f"dc:u:{p.order_id}" in [c.id for c in card.choices]
    assert str(p.order_id) in card.text and "Ibrahima" in card.text and "5 PIN faux" in card.text
    assert_secret_free(card.text, p, phone)
    assert all(
        str(p.token) not in str(r.payload) and p.pin not in str(r.payload) for r in admin_rows
    )


# --- reissue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["courier", "seller", "buyer"])
def test_only_an_admin_may_reissue_a_code(db: Db, who: str) -> None:
    p, courier_id, _job = locked_order(db)
    actor = {"courier": courier_id, "seller": p.seller_id, "buyer": p.buyer_id}[who]
    before = flows.code(db, p.order_id)

    with pytest.raises(PermissionDenied), db.uow() as s:
        lockouts.reissue_code(s, admin_id=actor, order_id=p.order_id)
    with pytest.raises(PermissionDenied), db.session() as s:
        lockouts.locked_codes(s, admin_id=actor)

    after = flows.code(db, p.order_id)
    assert (after.token, after.pin, after.locked_at) == (before.token, before.pin, before.locked_at)


def test_reissue_gives_a_new_token_and_pin_and_the_new_ones_deliver(db: Db) -> None:
    admin_id = make_admin(db)
    p, courier_id, job_id = locked_order(db)
    old = flows.code(db, p.order_id)
    with db.session() as s:  # the admin's list: order, shop, courier, when, tries
        [row], total = lockouts.locked_codes(s, admin_id=admin_id)
    assert (row.order_id, row.courier, row.failed_attempts, total) == (p.order_id, "Ibrahima", 5, 1)
    assert row.locked_at == old.locked_at

    new = reissue(db, admin_id, p.order_id)

    assert new.id == old.id  # rotated in place: the order keeps one code row
    assert new.token != old.token and new.pin != old.pin
    assert (new.failed_attempts, new.locked_at, new.used_at) == (0, None, None)
    assert (new.reissued_by, new.reissues) == (admin_id, 1) and new.reissued_at is not None
    assert new.expires_at > old.expires_at
    with db.session() as s:
        assert lockouts.locked_codes(s, admin_id=admin_id) == ([], 0)
    # The buyer gets the new QR and PIN exactly as at checkout; the courier only hears of it.
    [buyer_row] = flows.outbox(db, user_id=p.buyer_id, kind="code_reissued")
    photo = rendered(db, buyer_row)
    assert isinstance(photo, Image)
    assert photo.media_path == qr_path(order_id=p.order_id, token=new.token)
    assert f"Code PIN : {new.pin}" in photo.caption and str(p.order_id) in photo.caption
    assert new.pin not in str(buyer_row.payload)  # read at send time, never kept in the outbox
    [courier_row] = flows.outbox(db, user_id=courier_id, kind="code_reissued_courier")
    courier_text = reply_text(rendered(db, courier_row))
    assert str(p.order_id) in courier_text
    assert new.pin not in courier_text and old.pin not in courier_text
    # The old PIN and the old token are dead.
    with pytest.raises(WrongPin):
        flows.prove_pin(db, courier_id, p, old.pin)
    with pytest.raises(NotFound), db.uow() as s:
        handover.prove_with_qr(s, user_id=courier_id, token=old.token)
    with pytest.raises(NotFound), db.session() as s:
        handover.order_for_token(s, token=old.token)
    # The new ones work, end to end.
    with db.session() as s:
        assert handover.order_for_token(s, token=new.token).id == p.order_id
    assert flows.prove_pin(db, courier_id, p, new.pin) is False
    assert flows.confirm_cash(db, p) is True
    assert flows.order(db, p.order_id).status == OrderStatus.DELIVERED
    assert flows.job(db, job_id).status == JobStatus.DONE


def test_the_new_qr_token_delivers_too(db: Db) -> None:
    admin_id = make_admin(db)
    p, courier_id, _job = locked_order(db)
    new = reissue(db, admin_id, p.order_id)
    with db.uow() as s:
        assert handover.prove_with_qr(s, user_id=courier_id, token=new.token).delivered is False
    assert flows.code(db, p.order_id).proof == "qr"


def test_two_admins_tapping_at_once_reissue_once(db: Db) -> None:
    admins = [make_admin(db), make_admin(db)]
    p, _courier_id, _job = locked_order(db)
    old = flows.code(db, p.order_id)

    results = race(
        db, [partial(lockouts.reissue_code, admin_id=a, order_id=p.order_id) for a in admins]
    )

    assert sum(isinstance(r, DeliveryCode) for r in results) == 1
    assert sum(isinstance(r, CodeNotLocked) for r in results) == 1
    code = flows.code(db, p.order_id)
    assert code.reissues == 1 and code.token != old.token
    assert len(flows.outbox(db, user_id=p.buyer_id, kind="code_reissued")) == 1
    # And a stale button later: still refused, nothing sent.
    with pytest.raises(CodeNotLocked):
        reissue(db, admins[0], p.order_id)
    assert len(flows.outbox(db, user_id=p.buyer_id, kind="code_reissued")) == 1


def test_an_unlocked_or_used_code_or_a_finished_order_is_not_reissued(db: Db) -> None:
    admin_id = make_admin(db)
    fresh = flows.place(db)
    with pytest.raises(CodeNotLocked):
        reissue(db, admin_id, fresh.order_id)
    used = flows.place(db)
    flows.deliver(db, used)
    with pytest.raises(CodeUsed):
        reissue(db, admin_id, used.order_id)
    cancelled = flows.place(db)
    with db.uow() as s:
        orders.cancel_order(s, buyer_id=cancelled.buyer_id, order_id=cancelled.order_id)
    with db.uow() as s:  # a code that locked, then its order went away
        s.execute(
            DeliveryCode.__table__.update()
            .where(DeliveryCode.order_id == cancelled.order_id)
            .values(failed_attempts=5, locked_at=clock.now())
        )
    with pytest.raises(IllegalTransition):
        reissue(db, admin_id, cancelled.order_id)
    with db.session() as s:
        assert lockouts.locked_codes(s, admin_id=admin_id) == ([], 0)


# --- wrong PINs per courier ------------------------------------------------------------------


def two_jobs(db: Db) -> tuple[int, flows.Placed, flows.Placed]:
    courier_id = make_courier(db)
    a, b = flows.place(db), flows.place(db)
    flows.to_picked_up(db, a, courier_id)
    flows.to_picked_up(db, b, courier_id)
    return courier_id, a, b


def test_wrong_pins_across_jobs_pause_the_courier_and_admins_hear_once(db: Db) -> None:
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=6, courier_pin_window_s=3600))
    admin_id = make_admin(db)
    courier_id, a, b = two_jobs(db)
    for p in (a, a, a, b, b):
        with pytest.raises(WrongPin):
            flows.prove_pin(db, courier_id, p, wrong(p.pin))

    with pytest.raises(CourierPinPaused) as paused:  # the 6th, on either job
        flows.prove_pin(db, courier_id, b, wrong(b.pin))

    assert paused.value.params["minutes"] == 60
    with db.session() as s:
        assert s.query(PinFailure).filter_by(user_id=courier_id).count() == 6
    # No code locked (3 and 3 tries), yet the courier is stopped.
    assert (
        flows.code(db, a.order_id).failed_attempts,
        flows.code(db, b.order_id).failed_attempts,
    ) == (3, 3)
    for _ in range(3):  # later tries are refused before any PIN is compared, and not counted
        with pytest.raises(CourierPinPaused):
            flows.prove_pin(db, courier_id, a, wrong(a.pin))
    assert flows.code(db, a.order_id).failed_attempts == 3
    rows = flows.outbox(db, kind="pin_paused_admin")
    assert admin_id in [r.user_id for r in rows]
    assert len(rows) == len({r.user_id for r in rows})  # once per admin
    card = rendered(db, next(r for r in rows if r.user_id == admin_id))
    assert isinstance(card, Choices) and card.choices[0].id == f"pp:l:{courier_id}"
    assert "Ibrahima" in card.text and "6 PIN faux" in card.text
    with db.session() as s:
        [pause] = lockouts.paused_people(s, admin_id=admin_id)
    assert (pause.user_id, pause.failures) == (courier_id, 6)


def test_a_paused_courier_is_refused_even_the_right_pin_but_may_scan_the_qr(db: Db) -> None:
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=2))
    courier_id, a, b = two_jobs(db)
    with pytest.raises(WrongPin):
        flows.prove_pin(db, courier_id, a, wrong(a.pin))
    with pytest.raises(CourierPinPaused):
        flows.prove_pin(db, courier_id, b, wrong(b.pin))

    with pytest.raises(CourierPinPaused):
        flows.prove_pin(db, courier_id, a, a.pin)
    assert flows.code(db, a.order_id).used_at is None

    with db.uow() as s:  # a scan proves the courier is at the door: not a guess
        handover.prove_with_qr(s, user_id=courier_id, token=b.token)
    assert flows.code(db, b.order_id).proof == "qr"


def test_the_pause_lifts_when_the_window_has_passed(db: Db) -> None:
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=2, courier_pin_window_s=600))
    courier_id, a, b = two_jobs(db)
    with pytest.raises(WrongPin):
        flows.prove_pin(db, courier_id, a, wrong(a.pin))
    with pytest.raises(CourierPinPaused):
        flows.prove_pin(db, courier_id, b, wrong(b.pin))
    clock.advance(dt.timedelta(seconds=599))
    with pytest.raises(CourierPinPaused) as still:
        flows.prove_pin(db, courier_id, a, a.pin)
    assert still.value.params["minutes"] == 1

    clock.advance(dt.timedelta(seconds=1))

    assert flows.prove_pin(db, courier_id, a, a.pin) is False
    with db.session() as s:
        assert lockouts.paused_people(s, admin_id=make_admin(db)) == []


def test_wrong_pins_older_than_the_window_no_longer_count(db: Db) -> None:
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=3, courier_pin_window_s=600))
    courier_id, a, b = two_jobs(db)
    for p in (a, b):
        with pytest.raises(WrongPin):
            flows.prove_pin(db, courier_id, p, wrong(p.pin))
    clock.advance(dt.timedelta(seconds=601))
    for p in (a, b):  # two again: four in all, but never three within ten minutes
        with pytest.raises(WrongPin):
            flows.prove_pin(db, courier_id, p, wrong(p.pin))
    clock.advance(dt.timedelta(seconds=300))
    with pytest.raises(CourierPinPaused):  # the third within the last ten minutes
        flows.prove_pin(db, courier_id, a, wrong(a.pin))


def test_an_admin_lifts_the_pause_and_the_courier_is_told(db: Db) -> None:
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=2))
    admin_id = make_admin(db)
    courier_id, a, b = two_jobs(db)
    with pytest.raises(WrongPin):
        flows.prove_pin(db, courier_id, a, wrong(a.pin))
    with pytest.raises(CourierPinPaused):
        flows.prove_pin(db, courier_id, b, wrong(b.pin))
    with pytest.raises(PermissionDenied), db.uow() as s:
        lockouts.lift_pin_pause(s, admin_id=courier_id, user_id=courier_id)

    with db.uow() as s:
        lockouts.lift_pin_pause(s, admin_id=admin_id, user_id=courier_id)

    with pytest.raises(PinNotPaused), db.uow() as s:  # a second tap
        lockouts.lift_pin_pause(s, admin_id=admin_id, user_id=courier_id)
    [told] = flows.outbox(db, user_id=courier_id, kind="pin_pause_lifted")
    assert "PIN" in reply_text(rendered(db, told))
    # The wrong PINs before the lift are forgiven: one more wrong one does not pause again.
    with pytest.raises(WrongPin):
        flows.prove_pin(db, courier_id, a, wrong(a.pin))
    assert flows.prove_pin(db, courier_id, b, b.pin) is False


def test_wrong_pins_stay_counted_when_the_turn_goes_on(db: Db) -> None:
    """The action's savepoint keeps the count: the caller catching WrongPin and carrying on,
    or the error propagating out of the transaction, both leave it counted."""
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=4))
    courier_id, a, _b = two_jobs(db)
    with db.uow() as s:
        for _ in range(2):
            with pytest.raises(WrongPin):
                handover.prove_with_pin(s, user_id=courier_id, order_id=a.order_id, pin="x")
    with pytest.raises(WrongPin):
        flows.prove_pin(db, courier_id, a, wrong(a.pin))  # uow: the error leaves the block
    assert flows.code(db, a.order_id).failed_attempts == 3
    with db.session() as s:
        assert s.query(PinFailure).filter_by(user_id=courier_id).count() == 3


def test_the_courier_reads_the_pause_in_one_sms(db: Db, tmp_path: Path) -> None:
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=2))
    courier_id, a, b = two_jobs(db)
    with db.session() as s:
        number = s.get(User, courier_id).phone  # type: ignore[union-attr]
    engine = Engine(lambda _u, _m, _c: COURIER, flow_named=lambda _n: COURIER, media_dir=tmp_path)

    def sms(body: str) -> str:
        msg = InboundMessage(
            provider="twilio",
            external_id=f"SMlock{body}{clock.now().timestamp()}",
            channel=Channel.SMS,
            address=number,
            kind=InboundKind.TEXT,
            text=body,
        )
        with db.uow() as s:
            [reply] = engine.handle(s, msg).replies
        assert isinstance(reply, Text)
        return reply.text

    sms(f"D{a.order_id} {wrong(a.pin)}")
    paused = sms(f"D{b.order_id} {wrong(b.pin)}")
    again = sms(f"D{a.order_id} {a.pin}")

    for text in (paused, again):
        assert "pause 60 min" in text and "admin" in text, text
        assert segments(to_gsm7(text)) == ("GSM-7", 1)
    assert flows.code(db, a.order_id).used_at is None


# --- the admin's screen ----------------------------------------------------------------------


def test_an_admin_lists_locked_codes_and_unlocks_one_on_telegram(db: Db, tmp_path: Path) -> None:
    rules.bind(db.factory, rules.Rules(courier_pin_max_failures=5))
    bot = make_bot(db, tmp_path, admin_ids=(ADMIN_TG,))
    bot.send(ADMIN_TG, "/start")
    p = flows.place(db)
    courier_id, _job = flows.to_picked_up(db, p)
    for _ in range(4):
        with pytest.raises(WrongPin):
            flows.prove_pin(db, courier_id, p, wrong(p.pin))
    with pytest.raises(CourierPinPaused):  # the 5th locks the code and pauses the courier
        flows.prove_pin(db, courier_id, p, wrong(p.pin))
    phone = buyer_phone(db, p)

    screen = bot.send(ADMIN_TG, "/codes")

    shown = texts(screen)
    with db.session() as s:
        shop = s.get(Shop, p.shop_id).name  # type: ignore[union-attr]
    assert f"Commande {p.order_id} — {shop} — livreur Ibrahima — bloqué le " in shown
    assert "5 PIN faux" in shown and "Ibrahima — 5 PIN faux" in shown  # the paused courier
    assert_secret_free(shown, p, phone)
    assert f"dc:u:{p.order_id}" in choice_ids(screen)
    assert f"pp:l:{courier_id}" in choice_ids(screen)

    done = bot.tap(ADMIN_TG, f"dc:u:{p.order_id}")

    assert "Nouveau code émis" in texts(done)
    new = flows.code(db, p.order_id)
    assert new.token != p.token and new.reissued_by == bot.user_id(ADMIN_TG)
    assert (tmp_path / qr_path(order_id=p.order_id, token=new.token)).read_bytes()[:4] == b"\x89PNG"
    assert "plus) bloqué" in texts(bot.tap(ADMIN_TG, f"dc:u:{p.order_id}"))  # a stale button
    assert "levée" in texts(bot.tap(ADMIN_TG, f"pp:l:{courier_id}"))
    assert "Aucun code" in texts(bot.send(ADMIN_TG, "/codes"))
    assert flows.prove_pin(db, courier_id, p, new.pin) is False


def test_codes_is_an_admin_command_only(db: Db, tmp_path: Path) -> None:
    locked_order(db)
    bot = make_bot(db, tmp_path)
    reply = bot.send(770_123, "/codes")
    assert "réservée aux administrateurs" in texts(reply) and not choice_ids(reply)
