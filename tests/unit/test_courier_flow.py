"""The courier flow through the engine, with no sockets: SMS commands in, replies and rows out."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.courier.flow import FLOW as COURIER
from bot.engine import Engine
from bot.messages import Choices, InboundKind, InboundMessage, Reply, Text
from commerce import money
from commerce.delivery import actions as delivery
from commerce.delivery.models import Courier, CourierStatus, DeliveryCode, JobKind, JobStatus
from commerce.orders.models import OrderStatus
from commerce.returns import actions as returns
from commerce.returns.models import RefundStatus, ReturnStatus
from commerce.users import actions as users
from commerce.users.models import Channel, Role, User
from tests.support import Db, make_courier, phone, stock_of
from tests.unit import flows

_sids = itertools.count(1)


class Bot:
    """Drive the real engine with the courier flow as an SMS (or Telegram) user would."""

    def __init__(self, db: Db, tmp_path: Path) -> None:
        self.db = db
        self.engine = Engine(
            lambda _u, _m, _c: COURIER, flow_named=lambda _n: COURIER, media_dir=tmp_path
        )

    def send(
        self,
        address: str,
        text: str = "",
        *,
        channel: Channel = Channel.SMS,
        payload: str = "",
        telegram_user_id: int | None = None,
    ) -> list[Reply]:
        msg = InboundMessage(
            provider="telegram" if channel == Channel.TELEGRAM else "twilio",
            external_id=f"SM{next(_sids)}",
            channel=channel,
            address=address,
            kind=InboundKind.BUTTON if payload else InboundKind.TEXT,
            text=text,
            payload=payload,
            telegram_user_id=telegram_user_id,
        )
        with self.db.uow() as s:
            return self.engine.handle(s, msg).replies

    def sms(self, address: str, text: str) -> str:
        replies = self.send(address, text)
        assert replies, f"no answer to {text!r}"
        return "\n".join(r.text for r in replies if isinstance(r, Text | Choices))


@pytest.fixture
def bot(db: Db, tmp_path: Path) -> Bot:
    return Bot(db, tmp_path)


def phone_of(db: Db, user_id: int) -> str:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def courier(db: Db) -> tuple[int, str]:
    user_id = make_courier(db)
    return user_id, phone_of(db, user_id)


def published(db: Db) -> tuple[flows.Placed, int]:
    """An order published to the couriers, and offered to every courier there is so far."""
    p = flows.place(db)
    flows.accept(db, p)
    job_id = flows.publish(db, p)
    flows.offer_wave(db, job_id)
    return p, job_id


# --- sign-up and availability ------------------------------------------------------------------


def test_inscription_by_sms_registers_a_pending_courier_and_tells_the_admins(
    db: Db, bot: Bot
) -> None:
    number = phone()
    admin_id = _admin(db)

    text = bot.sms(number, "inscription  Mamadou Diallo  Ratoma MOTO")

    assert "Merci Mamadou" in text and "Ratoma" in text and "Moto" in text
    with db.session() as s:
        user = s.scalar(select(User).where(User.phone == number))
        assert user is not None and user.has_role(Role.COURIER) and user.name == "Mamadou Diallo"
        c = s.scalar(select(Courier).where(Courier.user_id == user.id))
        assert c is not None and c.status == CourierStatus.PENDING and c.vehicle.value == "moto"
    assert flows.outbox(db, user_id=admin_id, kind="courier_pending")
    assert "attend la validation" in bot.sms(number, "ON")
    assert "déjà inscrit" in bot.sms(number, "JOIN Mamadou Ratoma moto")


def _admin(db: Db) -> int:
    from tests.support import ensure_admin

    return ensure_admin(db)


def test_join_in_english_with_a_quartier_and_bad_inputs_get_the_usage(db: Db, bot: Bot) -> None:
    number = phone()
    assert "Commune ou préfecture inconnue" in bot.sms(number, "INSCRIPTION Alpha Paris moto")
    assert "INSCRIPTION nom commune" in bot.sms(number, "INSCRIPTION Alpha")
    assert "Merci Aissatou" in bot.sms(number, "join Aissatou Kipé Ratoma vélo")
    with db.session() as s:
        c = s.scalar(
            select(Courier).join(User, Courier.user_id == User.id).where(User.phone == number)
        )
        assert c is not None and (c.prefecture, c.quartier) == ("Ratoma", "Kipé")


def test_on_and_off_switch_availability(db: Db, bot: Bot) -> None:
    user_id, number = courier(db)
    assert "en pause" in bot.sms(number, "off")
    assert not flows_courier(db, user_id).available
    assert "disponible" in bot.sms(number, " On ")
    assert flows_courier(db, user_id).available


def flows_courier(db: Db, user_id: int) -> Courier:
    from tests.support import courier_row

    return courier_row(db, user_id)


def test_a_bare_aide_gives_the_courier_command_list_in_one_sms(db: Db, bot: Bot) -> None:
    _user_id, number = courier(db)
    text = bot.sms(number, "AIDE")
    assert "A1042" in text and "D1042" in text and "GAINS" in text
    assert len(text) <= 160
    assert "GAINS" in bot.sms(number, "aide moi")
    assert "AIDE" in bot.sms(number, "n'importe quoi")  # unknown input: a helpful answer


# --- accept, pickup, PIN ---------------------------------------------------------------------


@pytest.mark.parametrize("form", ["A{n}", "a {n}", "A-{n}", "à{n}.", "  a  {n} "])
def test_forgiving_accept_commands(db: Db, bot: Bot, form: str) -> None:
    _user_id, number = courier(db)
    p, job_id = published(db)
    text = bot.sms(number, form.format(n=p.order_id))
    assert f"Course {p.order_id} à vous" in text
    assert flows.job(db, job_id).status == JobStatus.CLAIMED


def test_first_accept_wins_the_second_hears_deja_prise(db: Db, bot: Bot) -> None:
    first, first_phone = courier(db)
    _second, second_phone = courier(db)
    p, job_id = published(db)

    won = bot.sms(first_phone, f"A{p.order_id}")
    lost = bot.sms(second_phone, f"A{p.order_id}")

    seller_phone = phone_of(db, p.seller_id)
    assert "Retrait" in won and seller_phone in won and f"P{p.order_id}" in won
    assert "déjà prise" in lost
    assert flows.job(db, job_id).courier_id == first
    assert flows.order(db, p.order_id).status == OrderStatus.COURIER_ASSIGNED


def test_pickup_tells_the_buyer_and_gives_the_buyers_door(db: Db, bot: Bot) -> None:
    _user_id, number = courier(db)
    p, _job = published(db)
    bot.sms(number, f"A{p.order_id}")

    text = bot.sms(number, f"P{p.order_id}")

    assert phone_of(db, p.buyer_id) in text and "Kipé" in text and "mosquée" in text
    assert f"{p.total:,}".replace(",", " ") in text
    assert flows.order(db, p.order_id).status == OrderStatus.PICKED_UP
    assert flows.outbox(db, user_id=p.buyer_id, kind="order_picked_up")


def test_pin_proof_then_cash_confirmation_closes_the_order_and_pays_the_courier(
    db: Db, bot: Bot
) -> None:
    user_id, number = courier(db)
    p, job_id = published(db)
    bot.sms(number, f"A{p.order_id}")
    assert f"Envoyez d'abord P{p.order_id}" in bot.sms(number, f"D{p.order_id} {p.pin}")
    bot.sms(number, f"P{p.order_id}")
    assert "Ajoutez le PIN" in bot.sms(number, f"D{p.order_id}")

    text = bot.sms(number, f"d {p.order_id} {p.pin[:3]} {p.pin[3:]}")

    assert "Code bon" in text
    assert flows.outbox(db, user_id=p.buyer_id, kind="confirm_cash")
    assert flows.confirm_cash(db, p) is True
    assert flows.order(db, p.order_id).status == OrderStatus.DELIVERED
    assert flows.job(db, job_id).status == JobStatus.DONE
    assert flows.outbox(db, user_id=user_id, kind="delivery_closed")
    assert flows.outbox(db, user_id=p.seller_id, kind="order_delivered")
    commission = f"{flows.job(db, job_id).commission:,} GNF".replace(",", " ")
    assert f"aujourd'hui {commission} (1 courses)" in bot.sms(number, "GAINS")


def test_wrong_pins_count_down_and_lock_after_five(db: Db, bot: Bot) -> None:
    _user_id, number = courier(db)
    p, _job = published(db)
    bot.sms(number, f"A{p.order_id}")
    bot.sms(number, f"P{p.order_id}")
    wrong = "000000" if p.pin != "000000" else "111111"

    answers = [bot.sms(number, f"D{p.order_id} {wrong}") for _ in range(5)]

    assert [a.split("Essais restants: ")[-1] for a in answers[:4]] == ["4.", "3.", "2.", "1."]
    assert "bloqué" in answers[4]
    assert "bloqué" in bot.sms(number, f"D{p.order_id} {p.pin}")  # even the right one now
    assert flows.code(db, p.order_id).failed_attempts == 5


def test_expired_and_used_codes_get_clear_messages(db: Db, bot: Bot) -> None:
    import datetime as dt

    from commerce import clock

    _user_id, number = courier(db)
    p, _job = published(db)
    bot.sms(number, f"A{p.order_id}")
    bot.sms(number, f"P{p.order_id}")
    clock.advance(dt.timedelta(days=8))
    assert "a expiré" in bot.sms(number, f"D{p.order_id} {p.pin}")
    clock.reset()
    with db.uow() as s:
        code = s.scalar(select(DeliveryCode).where(DeliveryCode.order_id == p.order_id))
        assert code is not None
        code.used_at = clock.now()
    assert "déjà été utilisé" in bot.sms(number, f"D{p.order_id} {p.pin}")


def test_only_the_assigned_courier_can_report_pickup_or_delivery(db: Db, bot: Bot) -> None:
    _owner, owner_phone = courier(db)
    _other, other_phone = courier(db)
    p, _job = published(db)
    bot.sms(owner_phone, f"A{p.order_id}")

    assert "ne vous est pas attribuée" in bot.sms(other_phone, f"P{p.order_id}")
    assert "ne vous est pas attribuée" in bot.sms(other_phone, f"D{p.order_id} {p.pin}")
    assert flows.order(db, p.order_id).status == OrderStatus.COURIER_ASSIGNED
    assert flows.code(db, p.order_id).failed_attempts == 0
    assert "Pas de course 99999" in bot.sms(other_phone, "P99999")


def test_at_most_five_active_jobs_and_courses_lists_them(db: Db, bot: Bot) -> None:
    _user_id, number = courier(db)
    orders = [published(db)[0] for _ in range(6)]
    for p in orders[:5]:
        assert "à vous" in bot.sms(number, f"A{p.order_id}")

    assert "déjà 5 courses" in bot.sms(number, f"A{orders[5].order_id}")
    bot.sms(number, f"P{orders[0].order_id}")
    listing = bot.sms(number, "COURSES")
    assert listing.startswith("En cours (5/5)")
    assert f"{orders[0].order_id} à livrer" in listing
    assert f"{orders[1].order_id} à retirer" in listing


# --- returns -----------------------------------------------------------------------------------


def test_return_pickup_refund_confirmation_and_drop_at_the_seller(db: Db, bot: Bot) -> None:
    p = flows.place(db, quantity=2)
    flows.deliver(db, p)
    before = stock_of(db, p.product_id)
    with db.uow() as s:
        ret = returns.request_return(
            s, buyer_id=p.buyer_id, order_id=p.order_id, items=[(p.item_id, 1)], reason="cassé"
        )
        returns.approve_return(s, seller_id=p.seller_id, return_id=ret.id)
        return_id = ret.id
    user_id, number = courier(db)
    pickup = flows.delivery_job(db, p.order_id, JobKind.RETURN_PICKUP)
    assert pickup is not None and user_id in flows.offer_wave(db, pickup.id)

    accepted = bot.send(number, f"R{p.order_id}")

    assert len(accepted) == 2  # the refund to take at the shop, then the buyer's door
    assert "Prenez 100 000 GNF" in accepted[0].text  # type: ignore[union-attr]
    assert phone_of(db, p.buyer_id) in accepted[1].text  # type: ignore[union-attr]
    job = flows.delivery_job(db, p.order_id, JobKind.RETURN_PICKUP)
    assert job is not None and job.courier_id == user_id
    assert "Rapportez" in bot.sms(number, f"P{p.order_id}")
    assert flows.outbox(db, user_id=p.buyer_id, kind="confirm_refund")
    with db.uow() as s:
        refund = returns.confirm_refund(s, buyer_id=p.buyer_id, return_id=return_id)
        assert refund.status == RefundStatus.PAID

    assert "rendu au vendeur" in bot.sms(number, f"D{p.order_id}")
    assert stock_of(db, p.product_id) == before + 1
    with db.session() as s:
        assert s.get(returns.Return, return_id).status == ReturnStatus.CLOSED  # type: ignore[union-attr]


# --- Telegram ----------------------------------------------------------------------------------


def test_telegram_sign_up_is_guided_with_buttons(db: Db, bot: Bot) -> None:
    tg = 4_400_000 + int(phone()[-6:])
    chat = str(tg)
    first = bot.send(chat, "bonjour", channel=Channel.TELEGRAM, telegram_user_id=tg)
    assert "Votre nom" in first[0].text  # type: ignore[union-attr]
    bot.send(chat, "Fanta Camara", channel=Channel.TELEGRAM, telegram_user_id=tg)
    vehicles = bot.send(chat, "Matoto", channel=Channel.TELEGRAM, telegram_user_id=tg)
    assert isinstance(vehicles[0], Choices)
    assert vehicles[0].choices[0].id == "c:veh:moto"
    done = bot.send(chat, payload="c:veh:velo", channel=Channel.TELEGRAM, telegram_user_id=tg)
    assert "Merci Fanta" in done[0].text  # type: ignore[union-attr]
    with db.session() as s:
        user = s.scalar(select(User).where(User.telegram_id == tg))
        assert user is not None
        c = s.scalar(select(Courier).where(Courier.user_id == user.id))
        assert c is not None and c.prefecture == "Matoto" and c.vehicle.value == "velo"


def test_telegram_courier_accepts_picks_up_and_delivers_with_buttons(db: Db, bot: Bot) -> None:
    admin_id = _admin(db)
    tg = 4_500_000 + int(phone()[-6:])
    with db.uow() as s:
        user = users.get_or_create_by_telegram(s, telegram_id=tg, name="Sekou", role=Role.COURIER)
        c = delivery.register_courier(s, user_id=user.id, prefecture="Kaloum", vehicle="moto")
        delivery.decide_courier(s, admin_id=admin_id, courier_id=c.id, approve=True)
        user_id = user.id
    chat = str(tg)
    p, job_id = published(db)

    def tap(data: str) -> list[Reply]:
        return bot.send(chat, payload=data, channel=Channel.TELEGRAM, telegram_user_id=tg)

    assert "disponible" in tap("c:on")[0].text  # type: ignore[union-attr]
    assert job_id in flows.courier_comes_on(db, user_id)
    taken = tap(f"c:take:{job_id}")
    assert isinstance(taken[0], Choices) and taken[0].choices[0].id == f"c:pick:{job_id}"
    picked = tap(f"c:pick:{job_id}")
    assert isinstance(picked[0], Choices) and picked[0].choices[0].id == f"c:pin:{job_id}"
    assert "PIN" in tap(f"c:pin:{job_id}")[0].text  # type: ignore[union-attr]
    proof = bot.send(chat, p.pin, channel=Channel.TELEGRAM, telegram_user_id=tg)
    assert "Code bon" in proof[0].text  # type: ignore[union-attr]
    assert flows.code(db, p.order_id).used_by == user_id


def _telegram_courier(db: Db, *, approve: bool) -> tuple[int, int]:
    """A courier signed up on Telegram; approved by an admin or still pending."""
    admin_id = _admin(db)
    tg = 4_600_000 + int(phone()[-6:])
    with db.uow() as s:
        user = users.get_or_create_by_telegram(s, telegram_id=tg, name="Alpha", role=Role.COURIER)
        c = delivery.register_courier(s, user_id=user.id, prefecture="Matoto", vehicle="moto")
        if approve:
            delivery.decide_courier(s, admin_id=admin_id, courier_id=c.id, approve=True)
        return user.id, tg


@pytest.mark.parametrize("approved", [False, True], ids=["pending", "approved-not-assigned"])
@pytest.mark.parametrize("verb", ["pick", "drop", "pin"])
@pytest.mark.parametrize("stage", ["open", "claimed", "picked_up"])
def test_a_forged_job_button_tells_nothing_and_changes_nothing(
    db: Db, bot: Bot, approved: bool, verb: str, stage: str
) -> None:
    """The outside test's `c:pick:12` from a pending courier got the buyer's door and cash."""
    p, job_id = published(db)
    if stage != "open":
        owner, _ = courier(db)
        flows.claim(db, owner, job_id)
        if stage == "picked_up":
            flows.pick_up(db, owner, job_id)
    attacker, tg = _telegram_courier(db, approve=approved)
    bot.send(str(tg), "aide", channel=Channel.TELEGRAM, telegram_user_id=tg)  # first contact
    order = flows.order(db, p.order_id)
    secrets = {order.landmark, phone_of(db, order.buyer_id), p.pin, money.format_gnf(order.total)}

    def to_others() -> list[int]:
        return [r.id for r in flows.outbox(db) if r.user_id != attacker]

    before, told_before = flows.snapshot(db), to_others()

    replies = bot.send(
        str(tg), payload=f"c:{verb}:{job_id}", channel=Channel.TELEGRAM, telegram_user_id=tg
    )

    said = " ".join(r.text for r in replies if isinstance(r, Text | Choices))
    assert [s for s in secrets if s and s in said] == [], said
    # The attacker's own turn: his conversation, de-duplication record, window and replies.
    ignored = {"conversation_states", "inbound_messages", "channel_identities", "outbox"}
    assert set(flows.diff(before, flows.snapshot(db))) - ignored == set()
    assert to_others() == told_before
