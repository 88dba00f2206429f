"""The ledger's use cases: the movements of cash, and what each person may read of them.

Every movement is one balanced entry with a unique key (see `commerce.ledger` for the chart of
accounts). The door payment and the refund are written by the actions that close a delivery
(`commerce.delivery.handover`) and confirm a refund (`commerce.returns.actions.confirm_refund`),
inside their transaction; the remittance, the dispute and the correction are actions of their
own, called by the bot.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.catalog.models import Shop
from commerce.db import action, conditional_update
from commerce.delivery.models import DeliveryJob
from commerce.errors import NotFound, PermissionDenied, ReasonRequired
from commerce.ledger import events
from commerce.ledger.errors import (
    AlreadyRecorded,
    AmountChanged,
    NothingToRemit,
    RemittanceState,
    UnbalancedEntry,
)
from commerce.ledger.models import (
    OPEN_REMITTANCE_STATUSES,
    AccountKind,
    AlertKind,
    CashAlert,
    EntryKind,
    LedgerEntry,
    LedgerLine,
    Remittance,
    RemittanceStatus,
)
from commerce.messaging.outbox import notify
from commerce.orders.models import DeliveryMode, Order
from commerce.returns.models import Refund, Return
from commerce.users.actions import admins, require_actor
from commerce.users.models import Role, User

MAX_REASON = 500
# The admin's reason as quoted to the seller and by SMS to the courier: one segment left room.
MAX_NOTICE_REASON = 60
CUSTODY = (AccountKind.COURIER_CASH, AccountKind.COURIER_COMMISSION)


@dataclass(frozen=True)
class Line:
    """One line of an entry before it is written."""

    account: AccountKind
    amount: int
    owner_id: int | None = None
    party_id: int | None = None
    order_id: int | None = None


# --- writing ---------------------------------------------------------------------------------


def post(
    session: Session,
    *,
    kind: EntryKind,
    key: str,
    lines: Iterable[Line],
    recorded_by: int | None = None,
    reason: str = "",
    **refs: Any,
) -> LedgerEntry:
    """Write one balanced entry, or refuse: unbalanced, or its key recorded already.

    The savepoint keeps the caller's transaction usable when the unique key refuses the insert
    (the caller decides whether a duplicate is an error).
    """
    kept = [ln for ln in lines if ln.amount != 0]
    if not kept or sum(ln.amount for ln in kept) != 0:
        raise UnbalancedEntry("lines must sum to zero", key=key)
    savepoint = session.begin_nested()
    try:
        entry = LedgerEntry(
            kind=kind, key=key, recorded_by=recorded_by, reason=reason[:MAX_REASON], **refs
        )
        session.add(entry)
        session.flush()
        for ln in kept:
            session.add(
                LedgerLine(
                    entry_id=entry.id,
                    account=ln.account,
                    owner_id=ln.owner_id,
                    party_id=ln.party_id,
                    order_id=ln.order_id,
                    amount=ln.amount,
                )
            )
        session.flush()
    except IntegrityError as exc:
        savepoint.rollback()
        raise AlreadyRecorded("movement already recorded", key=key) from exc
    savepoint.commit()
    session.refresh(entry)
    return entry


def entry_for(session: Session, key: str) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(LedgerEntry.key == key))


def _seller_of(session: Session, order: Order) -> int:
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    return shop.owner_id


def door_payment_lines(order: Order, *, seller_id: int, job: DeliveryJob | None) -> list[Line]:
    """The buyer's cash at the door, split as the order's "who pays delivery" says.

    A courier other than the seller holds the seller's share (the total less his commission,
    which the buyer paid in the total, or the seller pays out of the goods price) and his own
    commission, both until the seller confirms the hand-over. A seller who hands the parcel
    over himself (pickup at the shop, or riding it) holds the whole total at once.
    """
    courier = job.courier_id if job is not None else None
    if order.delivery_mode == DeliveryMode.PICKUP or courier is None or courier == seller_id:
        return [
            Line(AccountKind.BUYER, -order.total, order.buyer_id, order_id=order.id),
            Line(AccountKind.SELLER, order.total, seller_id, order_id=order.id),
        ]
    assert job is not None
    commission = job.commission
    return [
        Line(AccountKind.BUYER, -order.total, order.buyer_id, order_id=order.id),
        Line(AccountKind.COURIER_CASH, order.total - commission, courier, seller_id, order.id),
        Line(AccountKind.COURIER_COMMISSION, commission, courier, seller_id, order.id),
    ]


def record_door_payment(
    session: Session, *, order: Order, job: DeliveryJob | None
) -> LedgerEntry | None:
    """The buyer paid at the door: called where the order closes, in its transaction.

    Amount: what she owed (`order.total`: the goods, plus the delivery fee when she pays it).
    Nothing is written for an order that cost nothing.
    """
    lines = door_payment_lines(order, seller_id=_seller_of(session, order), job=job)
    if order.total == 0 and all(ln.amount == 0 for ln in lines):
        return None
    return post(
        session,
        kind=EntryKind.DOOR_PAYMENT,
        key=f"door_payment:{order.id}",
        lines=lines,
        recorded_by=order.buyer_id,
        order_id=order.id,
        job_id=job.id if job is not None else None,
        method=order.payment_method,
        reference=order.payment_reference,
    )


def record_refund(session: Session, *, refund: Refund, ret: Return, order: Order) -> LedgerEntry:
    """A return's refund reached the buyer: it is the seller's money (handed over by him, or by
    the return courier who took it at the shop). Called by `confirm_refund`, in its transaction.
    """
    job = session.scalar(select(DeliveryJob).where(DeliveryJob.return_id == ret.id))
    return post(
        session,
        kind=EntryKind.REFUND,
        key=f"refund:{refund.id}",
        lines=[
            Line(AccountKind.SELLER, -refund.amount, _seller_of(session, order), order_id=order.id),
            Line(AccountKind.BUYER, refund.amount, order.buyer_id, order_id=order.id),
        ],
        recorded_by=ret.buyer_id,
        order_id=order.id,
        return_id=ret.id,
        job_id=job.id if job is not None else None,
    )


# --- what a courier holds for a seller -------------------------------------------------------


@dataclass
class OrderCustody:
    """One order's cash still in a courier's hands: the seller's share and his commission."""

    order_id: int
    cash: int = 0
    commission: int = 0
    since: dt.datetime | None = None


def _custody(
    session: Session, *, courier_id: int | None = None, seller_id: int | None = None
) -> dict[tuple[int, int], dict[int, OrderCustody]]:
    """{(courier, seller): {order: custody}} for every order not settled yet."""
    q = (
        select(
            LedgerLine.owner_id,
            LedgerLine.party_id,
            LedgerLine.order_id,
            LedgerLine.account,
            func.sum(LedgerLine.amount),
            func.min(LedgerEntry.recorded_at),
        )
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(LedgerLine.account.in_(CUSTODY))
        .group_by(LedgerLine.owner_id, LedgerLine.party_id, LedgerLine.order_id, LedgerLine.account)
    )
    if courier_id is not None:
        q = q.where(LedgerLine.owner_id == courier_id)
    if seller_id is not None:
        q = q.where(LedgerLine.party_id == seller_id)
    out: dict[tuple[int, int], dict[int, OrderCustody]] = defaultdict(dict)
    for owner, party, order_id, account, total, since in session.execute(q):
        if not total or owner is None or party is None or order_id is None:
            continue  # custody lines always name courier, seller and order
        c = out[(owner, party)].setdefault(order_id, OrderCustody(order_id=order_id))
        if account == AccountKind.COURIER_CASH:
            c.cash = int(total)
        else:
            c.commission = int(total)
        c.since = since if c.since is None else min(c.since, since)
    return dict(out)


def _in_open_remittances(session: Session, courier_id: int, seller_id: int) -> set[int]:
    rows = session.scalars(
        select(Remittance).where(
            Remittance.courier_id == courier_id,
            Remittance.seller_id == seller_id,
            Remittance.status.in_(OPEN_REMITTANCE_STATUSES),
        )
    )
    return {int(o) for r in rows for o in r.order_ids}


def _lock_pair(session: Session, courier_id: int) -> None:
    """Serialise a courier's custody changes (`SELECT … FOR UPDATE` on his user row)."""
    session.execute(select(User.id).where(User.id == courier_id).with_for_update())


# --- remittances -----------------------------------------------------------------------------


@action
def declare_remittance(session: Session, *, courier_user_id: int) -> list[Remittance]:
    """The courier says he handed each seller what he held for her (SMS "REMIS").

    One declaration per seller, covering the orders not already in an open one; each seller is
    asked to confirm with one tap. Declaring twice declares nothing new.
    """
    require_actor(session, courier_user_id, Role.COURIER)
    _lock_pair(session, courier_user_id)
    made: list[Remittance] = []
    for (_c, seller_id), orders in sorted(_custody(session, courier_id=courier_user_id).items()):
        busy = _in_open_remittances(session, courier_user_id, seller_id)
        todo = [o for oid, o in sorted(orders.items()) if oid not in busy]
        if not todo:
            continue
        remittance = Remittance(
            courier_id=courier_user_id,
            seller_id=seller_id,
            amount=sum(o.cash for o in todo),
            order_ids=[o.order_id for o in todo],
            declared_by=courier_user_id,
        )
        savepoint = session.begin_nested()
        try:
            session.add(remittance)
            session.flush()
        except IntegrityError:  # a declaration for this seller is still open
            savepoint.rollback()
            continue
        savepoint.commit()
        notify(
            session,
            user_id=seller_id,
            kind=events.REMITTANCE_DECLARED,
            params={"remittance_id": remittance.id, "amount": remittance.amount},
            essential=True,
        )
        made.append(remittance)
    if not made:
        raise NothingToRemit("nothing new to declare", courier_id=courier_user_id)
    return made


def _settle(session: Session, remittance: Remittance, *, by: int, reason: str = "") -> LedgerEntry:
    """Write the remittance's entry: the seller's share reaches her, the commission is his."""
    custody = _custody(session, courier_id=remittance.courier_id, seller_id=remittance.seller_id)
    orders = custody.get((remittance.courier_id, remittance.seller_id), {})
    covered = [orders[int(o)] for o in remittance.order_ids if int(o) in orders]
    amount = sum(o.cash for o in covered)
    if not covered or amount != remittance.amount:
        raise AmountChanged("the orders changed", amount_gnf=amount, remittance_id=remittance.id)
    c, s = remittance.courier_id, remittance.seller_id
    lines: list[Line] = []
    for o in covered:
        lines += [
            Line(AccountKind.COURIER_CASH, -o.cash, c, s, o.order_id),
            Line(AccountKind.SELLER, o.cash, s, order_id=o.order_id),
            Line(AccountKind.COURIER_COMMISSION, -o.commission, c, s, o.order_id),
            Line(AccountKind.COURIER_EARNED, o.commission, c, order_id=o.order_id),
        ]
    # The key counts the pair's settled remittances: two confirmations racing (two taps, two
    # workers, an admin and the seller) compute the same key, and the second insert fails.
    settled = session.scalar(
        select(func.count(Remittance.id)).where(
            Remittance.courier_id == c,
            Remittance.seller_id == s,
            Remittance.status == RemittanceStatus.CONFIRMED,
            Remittance.id != remittance.id,
        )
    )
    return post(
        session,
        kind=EntryKind.REMITTANCE,
        key=f"remittance:{c}:{s}:{settled}",
        lines=lines,
        recorded_by=by,
        reason=reason,
        remittance_id=remittance.id,
    )


@action
def confirm_remittance(
    session: Session, *, seller_id: int, courier_id: int, amount: int
) -> Remittance:
    """The seller's one tap: "Reçu 1 000 000 GNF de Mamadou".

    Confirms the courier's open declaration, or (no declaration) everything he holds for her
    that is not disputed. `amount` is what her button showed: if it no longer is what the
    ledger says, nothing is recorded and she is shown the new figure.
    """
    require_actor(session, seller_id, Role.SELLER)
    _lock_pair(session, courier_id)
    remittance = session.scalar(
        select(Remittance)
        .where(
            Remittance.courier_id == courier_id,
            Remittance.seller_id == seller_id,
            Remittance.status == RemittanceStatus.DECLARED,
        )
        .with_for_update()
    )
    now = clock.now()
    if remittance is None:
        orders = _custody(session, courier_id=courier_id, seller_id=seller_id).get(
            (courier_id, seller_id), {}
        )
        busy = _in_open_remittances(session, courier_id, seller_id)
        todo = [o for oid, o in sorted(orders.items()) if oid not in busy]
        if not todo:
            raise NothingToRemit("nothing held for this seller", courier_id=courier_id)
        remittance = Remittance(
            courier_id=courier_id,
            seller_id=seller_id,
            amount=sum(o.cash for o in todo),
            order_ids=[o.order_id for o in todo],
            declared_by=seller_id,
            status=RemittanceStatus.DECLARED,
        )
        session.add(remittance)
        session.flush()
    if remittance.amount != amount:
        raise AmountChanged(
            "amount changed", amount_gnf=remittance.amount, remittance_id=remittance.id
        )
    done = conditional_update(
        session,
        update(Remittance)
        .where(Remittance.id == remittance.id, Remittance.status == RemittanceStatus.DECLARED)
        .values(status=RemittanceStatus.CONFIRMED, answered_at=now),
    )
    if done != 1:
        raise RemittanceState("already answered", remittance_id=remittance.id)
    _settle(session, remittance, by=seller_id)
    session.refresh(remittance)
    notify(
        session,
        user_id=courier_id,
        kind=events.REMITTANCE_CONFIRMED,
        params={"remittance_id": remittance.id, "amount": remittance.amount},
        essential=True,
    )
    return remittance


def _sellers_remittance(session: Session, seller_id: int, remittance_id: int) -> Remittance:
    remittance = session.get(Remittance, remittance_id)
    if remittance is None:
        raise NotFound("unknown remittance", entity="remittance", id=remittance_id)
    if remittance.seller_id != seller_id:
        raise PermissionDenied("not your remittance", remittance_id=remittance_id)
    return remittance


@action
def dispute_remittance(
    session: Session, *, seller_id: int, remittance_id: int, note: str = ""
) -> Remittance:
    """The seller says "not received": the admins are told, with both sides' word."""
    require_actor(session, seller_id, Role.SELLER)
    remittance = _sellers_remittance(session, seller_id, remittance_id)
    done = conditional_update(
        session,
        update(Remittance)
        .where(Remittance.id == remittance.id, Remittance.status == RemittanceStatus.DECLARED)
        .values(
            status=RemittanceStatus.DISPUTED,
            answered_at=clock.now(),
            seller_note=(note or "").strip()[:MAX_REASON],
        ),
    )
    if done != 1:
        raise RemittanceState("already answered", remittance_id=remittance_id)
    session.refresh(remittance)
    # Both sides' word, for the admin: what the courier declared, what the seller answered.
    courier = session.get(User, remittance.courier_id)
    shop = session.scalar(select(Shop).where(Shop.owner_id == seller_id))
    params: dict[str, Any] = {
        "remittance_id": remittance.id,
        "amount": remittance.amount,
        "courier": (courier.name if courier else "") or f"#{remittance.courier_id}",
        "shop": shop.name if shop else f"#{seller_id}",
        "declared": remittance.declared_at.strftime("%d/%m %H:%M"),
        "orders": ", ".join(str(o) for o in remittance.order_ids),
        "note": remittance.seller_note or "—",
    }
    for admin in admins(session):
        notify(
            session,
            user_id=admin.id,
            kind=events.REMITTANCE_DISPUTED,
            params=params,
            essential=True,
        )
    notify(
        session,
        user_id=remittance.courier_id,
        kind=events.REMITTANCE_DISPUTED_COURIER,
        params=params,
        essential=True,
    )
    return remittance


@action
def resolve_dispute(
    session: Session, *, admin_id: int, remittance_id: int, received: bool, reason: str
) -> Remittance:
    """An admin settles a dispute: received (the entry is written, by him) or not (the courier
    still holds the cash and may declare it again). A reason is always required."""
    require_actor(session, admin_id, Role.ADMIN)
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired("a reason is required")
    remittance = session.get(Remittance, remittance_id)
    if remittance is None:
        raise NotFound("unknown remittance", entity="remittance", id=remittance_id)
    _lock_pair(session, remittance.courier_id)
    status = RemittanceStatus.CONFIRMED if received else RemittanceStatus.REJECTED
    done = conditional_update(
        session,
        update(Remittance)
        .where(Remittance.id == remittance.id, Remittance.status == RemittanceStatus.DISPUTED)
        .values(
            status=status, resolved_at=clock.now(), resolved_by=admin_id, resolution=text[:500]
        ),
    )
    if done != 1:
        raise RemittanceState("not disputed", remittance_id=remittance_id)
    session.refresh(remittance)
    if received:
        _settle(session, remittance, by=admin_id, reason=text)
    # Both sides learn the decision: the seller who said "not received" and the courier who
    # still holds the cash (not received) or is cleared of it (received).
    params: dict[str, Any] = {
        "remittance_id": remittance.id,
        "amount": remittance.amount,
        "reason": text[:MAX_NOTICE_REASON],
    }
    if received:
        seller_kind = events.REMITTANCE_SETTLED_RECEIVED
        courier_kind = events.REMITTANCE_SETTLED_RECEIVED_COURIER
    else:
        seller_kind = events.REMITTANCE_SETTLED_NOT_RECEIVED
        courier_kind = events.REMITTANCE_SETTLED_NOT_RECEIVED_COURIER
    notify(session, user_id=remittance.seller_id, kind=seller_kind, params=params, essential=True)
    notify(session, user_id=remittance.courier_id, kind=courier_kind, params=params, essential=True)
    return remittance


@dataclass(frozen=True)
class Account:
    """One account an admin may correct, with its balance now."""

    kind: AccountKind
    owner_id: int
    party_id: int | None = None
    order_id: int | None = None
    balance: int = 0


def accounts_of(session: Session, *, admin_id: int, user_id: int, limit: int = 8) -> list[Account]:
    """The accounts of one person an admin may correct: a seller's cash received, the cash a
    courier holds per order (custody lines always name the order) and his earned commission,
    a buyer's account. The counterpart of a correction is always the `platform` account."""
    require_actor(session, admin_id, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("unknown user", entity="user", id=user_id)
    out: list[Account] = []
    if user.has_role(Role.SELLER):
        out.append(
            Account(
                AccountKind.SELLER, user.id, balance=balance(session, AccountKind.SELLER, user.id)
            )
        )
    if user.has_role(Role.COURIER):
        custody = _custody(session, courier_id=user.id)
        held = [
            Account(AccountKind.COURIER_CASH, c, s, o.order_id, o.cash)
            for (c, s), orders in sorted(custody.items())
            for o in orders.values()
            if o.cash
        ]
        out += sorted(held, key=lambda a: a.order_id or 0)[:limit]
        earned = balance(session, AccountKind.COURIER_EARNED, user.id)
        out.append(Account(AccountKind.COURIER_EARNED, user.id, balance=earned))
    if user.has_role(Role.BUYER):
        out.append(
            Account(
                AccountKind.BUYER, user.id, balance=balance(session, AccountKind.BUYER, user.id)
            )
        )
    return out


@action
def correct(
    session: Session,
    *,
    admin_id: int,
    lines: list[Line],
    reason: str,
    order_id: int | None = None,
    key: str | None = None,
) -> LedgerEntry:
    """An admin's correction: a new balanced entry with its reason (entries are never edited).

    `key` (e.g. the Telegram update id of the tap) makes a retried correction record once.
    """
    require_actor(session, admin_id, Role.ADMIN)
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired("a reason is required")
    return post(
        session,
        kind=EntryKind.CORRECTION,
        key=f"correction:{key or uuid.uuid4().hex}",
        lines=lines,
        recorded_by=admin_id,
        reason=text,
        order_id=order_id,
    )


# --- reading ---------------------------------------------------------------------------------


def balance(
    session: Session,
    account: AccountKind,
    owner_id: int | None = None,
    *,
    party_id: int | None = None,
    order_id: int | None = None,
) -> int:
    """An account's balance: always the sum of its lines, never a stored figure."""
    q = select(func.coalesce(func.sum(LedgerLine.amount), 0)).where(LedgerLine.account == account)
    if account == AccountKind.PLATFORM:
        q = q.where(LedgerLine.owner_id.is_(None))
    elif owner_id is not None:
        q = q.where(LedgerLine.owner_id == owner_id)
    if party_id is not None:
        q = q.where(LedgerLine.party_id == party_id)
    if order_id is not None:
        q = q.where(LedgerLine.order_id == order_id)
    return int(session.scalar(q) or 0)


@dataclass(frozen=True)
class HeldFor:
    """What one courier holds for one seller."""

    courier_id: int
    seller_id: int
    cash: int  # the seller's share: what he owes her
    commission: int  # his commission, his once she confirms
    since: dt.datetime | None
    declared: Remittance | None = None  # his open declaration to her, if any
    disputed: int = 0  # the part of `cash` in a dispute


@dataclass(frozen=True)
class CourierPosition:
    held: int  # all the cash in his hands that is not settled yet
    owed: int  # of which the sellers' share
    commission: int  # of which his commission (GAINS' "non payé")
    earned: int  # commission settled
    since: dt.datetime | None  # the oldest unsettled cash
    by_seller: list[HeldFor] = field(default_factory=list)


def _held_for(session: Session, **where: int) -> list[HeldFor]:
    out = []
    for (c, s), orders in sorted(_custody(session, **where).items()):
        declared = session.scalar(
            select(Remittance).where(
                Remittance.courier_id == c,
                Remittance.seller_id == s,
                Remittance.status == RemittanceStatus.DECLARED,
            )
        )
        disputed_orders = {
            int(o)
            for r in session.scalars(
                select(Remittance).where(
                    Remittance.courier_id == c,
                    Remittance.seller_id == s,
                    Remittance.status == RemittanceStatus.DISPUTED,
                )
            )
            for o in r.order_ids
        }
        since = [o.since for o in orders.values() if o.since is not None]
        out.append(
            HeldFor(
                courier_id=c,
                seller_id=s,
                cash=sum(o.cash for o in orders.values()),
                commission=sum(o.commission for o in orders.values()),
                since=min(since) if since else None,
                declared=declared,
                disputed=sum(o.cash for oid, o in orders.items() if oid in disputed_orders),
            )
        )
    return out


def courier_position(session: Session, *, courier_id: int) -> CourierPosition:
    """SOLDE: what the courier holds and owes (he reads his own; the caller checked who)."""
    require_actor(session, courier_id, Role.COURIER)
    rows = _held_for(session, courier_id=courier_id)
    since = [r.since for r in rows if r.since is not None]
    owed = sum(r.cash for r in rows)
    commission = sum(r.commission for r in rows)
    return CourierPosition(
        held=owed + commission,
        owed=owed,
        commission=commission,
        earned=balance(session, AccountKind.COURIER_EARNED, courier_id),
        since=min(since) if since else None,
        by_seller=rows,
    )


def unpaid_commission(session: Session, *, courier_id: int) -> int:
    """Commission earned on deliveries whose cash the seller has not confirmed yet."""
    return balance(session, AccountKind.COURIER_COMMISSION, courier_id)


@dataclass(frozen=True)
class SellerPosition:
    received: int  # cash in her hands through the ledger (hand-overs, shop sales) less refunds
    pending: int  # what couriers hold for her
    disputed: int  # of which in a dispute
    by_courier: list[HeldFor] = field(default_factory=list)


def seller_position(session: Session, *, seller_id: int) -> SellerPosition:
    """/caisse: the seller's balance and, per courier, what is still in his hands."""
    require_actor(session, seller_id, Role.SELLER)
    rows = _held_for(session, seller_id=seller_id)
    return SellerPosition(
        received=balance(session, AccountKind.SELLER, seller_id),
        pending=sum(r.cash for r in rows),
        disputed=sum(r.disputed for r in rows),
        by_courier=rows,
    )


@dataclass(frozen=True)
class Reconciliation:
    held_by_couriers: int  # all unsettled cash in couriers' hands (sellers' share + commission)
    owed_to_sellers: int
    commission_pending: int
    oldest_since: dt.datetime | None
    couriers_holding: int
    open_disputes: int
    disputed_amount: int
    entries: int


def reconciliation(session: Session, *, admin_id: int) -> Reconciliation:
    """/chiffres: the platform's cash figures, for an admin."""
    require_actor(session, admin_id, Role.ADMIN)
    rows = _held_for(session)
    since = [r.since for r in rows if r.since is not None]
    disputes = list(
        session.scalars(select(Remittance).where(Remittance.status == RemittanceStatus.DISPUTED))
    )
    owed = sum(r.cash for r in rows)
    commission = sum(r.commission for r in rows)
    return Reconciliation(
        held_by_couriers=owed + commission,
        owed_to_sellers=owed,
        commission_pending=commission,
        oldest_since=min(since) if since else None,
        couriers_holding=len({r.courier_id for r in rows}),
        open_disputes=len(disputes),
        disputed_amount=sum(d.amount for d in disputes),
        entries=int(session.scalar(select(func.count(LedgerEntry.id))) or 0),
    )


def open_disputes(session: Session, *, admin_id: int) -> list[Remittance]:
    require_actor(session, admin_id, Role.ADMIN)
    return list(
        session.scalars(
            select(Remittance)
            .where(Remittance.status == RemittanceStatus.DISPUTED)
            .order_by(Remittance.id)
        )
    )


STATEMENT_HEADERS = ("date", "entry", "kind", "order", "account", "courier", "amount_gnf", "reason")


def seller_statement(
    session: Session, *, seller_id: int, start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[Any, ...]]:
    """The seller's lines in [start, end): her own account and what couriers held for her."""
    require_actor(session, seller_id, Role.SELLER)
    yield STATEMENT_HEADERS
    q = (
        select(LedgerLine, LedgerEntry)
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(
            LedgerEntry.recorded_at >= start,
            LedgerEntry.recorded_at < end,
            (
                (LedgerLine.account == AccountKind.SELLER) & (LedgerLine.owner_id == seller_id)
                | (LedgerLine.account == AccountKind.COURIER_CASH)
                & (LedgerLine.party_id == seller_id)
            ),
        )
        .order_by(LedgerEntry.id, LedgerLine.id)
    )
    for line, entry in session.execute(q):
        yield (
            entry.recorded_at.isoformat(timespec="seconds"),
            entry.id,
            entry.kind.value,
            line.order_id or "",
            line.account.value,
            line.owner_id if line.account == AccountKind.COURIER_CASH else "",
            line.amount,
            entry.reason,
        )


LEDGER_HEADERS = (
    "entry",
    "date",
    "kind",
    "key",
    "order",
    "job",
    "return",
    "remittance",
    "method",
    "reference",
    "recorded_by",
    "reason",
    "account",
    "owner",
    "party",
    "line_order",
    "amount_gnf",
)


def ledger_rows(session: Session) -> Iterator[tuple[Any, ...]]:
    """Every line of every entry, for the admins' CSV export (the caller checked the admin)."""
    yield LEDGER_HEADERS
    q = (
        select(LedgerLine, LedgerEntry)
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .order_by(LedgerEntry.id, LedgerLine.id)
        .execution_options(yield_per=500)
    )
    for line, e in session.execute(q):
        yield (
            e.id,
            e.recorded_at.isoformat(timespec="seconds"),
            e.kind.value,
            e.key,
            e.order_id or "",
            e.job_id or "",
            e.return_id or "",
            e.remittance_id or "",
            e.method.value if e.method else "",
            e.reference,
            e.recorded_by or "",
            e.reason,
            line.account.value,
            line.owner_id or "",
            line.party_id or "",
            line.order_id or "",
            line.amount,
        )


# --- cash alerts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Alerted:
    courier_id: int
    kind: AlertKind
    amount: int
    hours: int


def sweep_cash_alerts(session: Session, *, now: dt.datetime | None = None) -> list[Alerted]:
    """Tell each courier over a threshold (and the admins), once per crossing.

    Run by the periodic sweeper. An alert row stays while he is over (no second message);
    back under, the row goes and the next crossing alerts again.
    """
    limits = rules.of(session)
    now = now or clock.now()
    over: dict[tuple[int, AlertKind], tuple[int, int]] = {}
    for courier_id, rows in _by_courier(_held_for(session)).items():
        held = sum(r.cash + r.commission for r in rows)
        since = [r.since for r in rows if r.since is not None]
        hours = int((now - min(since)).total_seconds() // 3600) if since else 0
        if limits.max_cash_held_gnf and held > limits.max_cash_held_gnf:
            over[(courier_id, AlertKind.AMOUNT)] = (held, hours)
        if limits.max_cash_age_hours and since and hours >= limits.max_cash_age_hours:
            over[(courier_id, AlertKind.AGE)] = (held, hours)
    raised = {(a.courier_id, a.kind): a for a in session.scalars(select(CashAlert))}
    for key, alert in raised.items():
        if key not in over:
            session.execute(delete(CashAlert).where(CashAlert.id == alert.id))
    told: list[Alerted] = []
    for (courier_id, kind), (held, hours) in sorted(over.items()):
        if (courier_id, kind) in raised:
            continue
        savepoint = session.begin_nested()
        try:
            session.add(CashAlert(courier_id=courier_id, kind=kind, amount=held, raised_at=now))
            session.flush()
        except IntegrityError:  # another sweeper told him just now
            savepoint.rollback()
            continue
        savepoint.commit()
        courier = session.get(User, courier_id)
        params = {
            "courier_id": courier_id,
            "name": (courier.name if courier else "") or f"#{courier_id}",
            "alert": kind.value,
            "amount": held,
            "hours": hours,
        }
        notify(session, user_id=courier_id, kind=events.CASH_ALERT, params=params, essential=True)
        for admin in admins(session):
            notify(session, user_id=admin.id, kind=events.CASH_ALERT_ADMIN, params=params)
        told.append(Alerted(courier_id=courier_id, kind=kind, amount=held, hours=hours))
    session.flush()
    return told


def _by_courier(rows: list[HeldFor]) -> dict[int, list[HeldFor]]:
    out: dict[int, list[HeldFor]] = defaultdict(list)
    for r in rows:
        out[r.courier_id].append(r)
    return dict(out)
