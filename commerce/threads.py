"""Support threads: a buyer and one person of the shop (its seller, else an admin) writing
to each other through the bot.

Two kinds: a "question" about a product (opened by the buyer from the product card) and a
"handoff" (the bot, or the support assistant, gives the buyer's conversation to a human). Each
message is logged and relayed to the other side through the outbox, in the same transaction;
either side may close the thread, and the other side is told.

The core does not know channels: the buyer's channel and address are recorded as plain data so
the answer reaches the buyer where they asked, as every outbox row may name its channel.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commerce import clock
from commerce.catalog.models import Product, Shop
from commerce.db import Base, action
from commerce.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.orders.models import Order, OrderStatus
from commerce.users.actions import require_actor
from commerce.users.models import Channel, Role, User, UserRole

MAX_MESSAGE = 1000
OPEN_ORDER_STATUSES = (
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.COURIER_ASSIGNED,
    OrderStatus.PICKED_UP,
)


class ThreadKind(StrEnum):
    QUESTION = "question"
    HANDOFF = "handoff"


class ThreadStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SupportThread(Base):
    __tablename__ = "support_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The seller (or admin) who answers.
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[ThreadKind]
    status: Mapped[ThreadStatus] = mapped_column(default=ThreadStatus.OPEN)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # Where the buyer wrote from: answers go back there (None: the buyer's preferred channel).
    buyer_channel: Mapped[Channel | None]
    buyer_address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ThreadMessage(Base):
    __tablename__ = "thread_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("support_threads.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


def _clean(text: str) -> str:
    clean = " ".join((text or "").split())
    if not clean:
        raise InvalidInput("empty message", field="message")
    if len(clean) > MAX_MESSAGE:
        raise InvalidInput("message too long", max=MAX_MESSAGE)
    return clean


def _params(thread: SupportThread, **more: object) -> dict[str, object]:
    return {"thread_id": thread.id, "thread_kind": thread.kind.value, **more}


def _notify_buyer(session: Session, thread: SupportThread, kind: Notice, **params: object) -> None:
    notify(
        session,
        user_id=thread.buyer_id,
        kind=kind,
        params=_params(thread, **params),
        essential=True,  # the buyer asked, or a person is answering them
        channel=thread.buyer_channel,
        address=thread.buyer_address if thread.buyer_channel else "",
    )


def _notify_staff(session: Session, thread: SupportThread, kind: Notice, **params: object) -> None:
    params = _params(thread, **params)
    notify(session, user_id=thread.staff_id, kind=kind, params=params, essential=True)


def get_thread(session: Session, thread_id: int) -> SupportThread:
    thread = session.get(SupportThread, thread_id)
    if thread is None:
        raise NotFound("unknown thread", entity="thread", id=thread_id)
    return thread


def thread_for(session: Session, *, thread_id: int, user_id: int) -> SupportThread:
    """The thread, if `user_id` is one of its two sides (else PermissionDenied)."""
    thread = get_thread(session, thread_id)
    if user_id not in (thread.buyer_id, thread.staff_id):
        raise PermissionDenied("not your thread", thread_id=thread_id)
    return thread


def open_thread_of_buyer(
    session: Session, buyer_id: int, kind: ThreadKind | None = None
) -> SupportThread | None:
    """The buyer's most recent open thread (of `kind`, if given)."""
    stmt = select(SupportThread).where(
        SupportThread.buyer_id == buyer_id, SupportThread.status == ThreadStatus.OPEN
    )
    if kind is not None:
        stmt = stmt.where(SupportThread.kind == kind)
    return session.scalar(stmt.order_by(SupportThread.id.desc()).limit(1))


def messages(session: Session, thread_id: int) -> list[ThreadMessage]:
    return list(
        session.scalars(
            select(ThreadMessage)
            .where(ThreadMessage.thread_id == thread_id)
            .order_by(ThreadMessage.id)
        )
    )


def _check_staff(
    session: Session,
    thread_kind: ThreadKind,
    staff_id: int,
    product_id: int | None,
    order_id: int | None,
) -> None:
    """The staff side is an admin, or the seller owning the product and order concerned."""
    staff = require_actor(session, staff_id)
    if thread_kind == ThreadKind.QUESTION and product_id is None:
        raise InvalidInput("a question is about a product", field="product")
    if staff.has_role(Role.ADMIN):
        return
    if not staff.has_role(Role.SELLER):
        raise PermissionDenied("a seller or an admin answers", user_id=staff_id)
    shop_ids: list[int] = []
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None:
            raise NotFound("unknown product", entity="product", id=product_id)
        shop_ids.append(product.shop_id)
    if order_id is not None:
        order = session.get(Order, order_id)
        if order is None:
            raise NotFound("unknown order", entity="order", id=order_id)
        shop_ids.append(order.shop_id)
    for shop_id in shop_ids:
        shop = session.get(Shop, shop_id)
        if shop is None or shop.owner_id != staff_id:
            raise PermissionDenied("not this seller's shop", user_id=staff_id)


@action
def open_thread(
    session: Session,
    *,
    buyer_id: int,
    staff_id: int,
    kind: ThreadKind | str,
    text: str,
    product_id: int | None = None,
    order_id: int | None = None,
    buyer_channel: Channel | None = None,
    buyer_address: str = "",
) -> SupportThread:
    """Open a thread and tell the staff side (the first message is `text`)."""
    thread_kind = ThreadKind(kind)
    require_actor(session, buyer_id)
    if buyer_id == staff_id:
        raise PermissionDenied("a thread needs two people", user_id=buyer_id)
    if order_id is not None:
        order = session.get(Order, order_id)
        if order is None or order.buyer_id != buyer_id:
            raise NotFound("unknown order", entity="order", id=order_id)
    _check_staff(session, thread_kind, staff_id, product_id, order_id)
    first = _clean(text)
    thread = SupportThread(
        buyer_id=buyer_id,
        staff_id=staff_id,
        kind=thread_kind,
        product_id=product_id,
        order_id=order_id,
        buyer_channel=buyer_channel,
        buyer_address=buyer_address[:64] if buyer_channel else "",
    )
    session.add(thread)
    session.flush()
    session.add(ThreadMessage(thread_id=thread.id, author_id=buyer_id, text=first))
    _notify_staff(session, thread, Notice.THREAD_OPENED, text=first)
    session.flush()
    return thread


@action
def post_message(session: Session, *, thread_id: int, author_id: int, text: str) -> ThreadMessage:
    """One side writes; the other side is told through the outbox."""
    require_actor(session, author_id)
    thread = thread_for(session, thread_id=thread_id, user_id=author_id)
    if thread.status != ThreadStatus.OPEN:
        raise IllegalTransition("thread closed", thread_id=thread_id, from_status="closed")
    body = _clean(text)
    message = ThreadMessage(thread_id=thread.id, author_id=author_id, text=body)
    session.add(message)
    if author_id == thread.staff_id:
        _notify_buyer(session, thread, Notice.THREAD_MESSAGE, text=body)
    else:
        _notify_staff(session, thread, Notice.THREAD_MESSAGE, text=body)
    session.flush()
    return message


@action
def close_thread(session: Session, *, thread_id: int, actor_id: int) -> SupportThread:
    """Either side (or any admin) closes; the other side is told. Closing twice is a no-op."""
    actor = require_actor(session, actor_id)
    thread = get_thread(session, thread_id)
    if actor_id not in (thread.buyer_id, thread.staff_id) and not actor.has_role(Role.ADMIN):
        raise PermissionDenied("not your thread", thread_id=thread_id)
    if thread.status == ThreadStatus.CLOSED:
        return thread
    thread.status = ThreadStatus.CLOSED
    thread.closed_at = clock.now()
    thread.closed_by = actor_id
    if actor_id != thread.buyer_id:
        _notify_buyer(session, thread, Notice.THREAD_CLOSED)
    if actor_id != thread.staff_id:
        _notify_staff(session, thread, Notice.THREAD_CLOSED)
    session.flush()
    return thread


def staff_for_buyer(
    session: Session, buyer_id: int, order_id: int | None = None, *, to_admin: bool = False
) -> tuple[int, int | None]:
    """Who takes a hand-off: (staff id, order id) — the seller of the order in context (the
    one the buyer was just talking about, `order_id`, when it is hers), else the seller of her
    most recent open order, else (the first active admin, None). `to_admin` skips the sellers:
    when the seller is the problem (silent, or a courier asking more), an admin answers."""
    # A seller who is still active and not the buyer herself, of one of her orders.
    sellers = (
        select(Order.id, Shop.owner_id)
        .join(Shop, Shop.id == Order.shop_id)
        .join(User, User.id == Shop.owner_id)
        .where(Order.buyer_id == buyer_id, User.is_active.is_(True), Shop.owner_id != buyer_id)
    )
    if order_id is not None and not to_admin:
        row = session.execute(sellers.where(Order.id == order_id)).first()
        if row is not None:
            return int(row.owner_id), int(row.id)
    row = session.execute(
        sellers.where(Order.status.in_(OPEN_ORDER_STATUSES)).order_by(Order.id.desc()).limit(1)
    ).first()
    if row is not None and not to_admin:
        return int(row.owner_id), int(row.id)
    admin = session.scalar(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN, User.is_active.is_(True), User.id != buyer_id)
        .order_by(User.id)
        .limit(1)
    )
    if admin is None:
        raise NotFound("no one to hand over to", entity="staff")
    return int(admin), None
