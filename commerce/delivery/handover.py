"""The hand-over at the door: who may prove a delivery, how, and what closes it.

A delivery closes only on two confirmations: the deliverer's proof (the buyer's PIN, or a scan
of the buyer's QR confirmed from the deliverer's own phone) and the buyer's word that the cash
was handed over. Either may come first.

Why one module: the courier's SMS, the seller's Telegram screens and the QR page all ask the
same questions (is this person the one who meets the buyer? is the parcel at the door?). Each of
them calls the functions here, so the answer cannot differ between channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from commerce import clock
from commerce.db import action
from commerce.delivery import codes
from commerce.delivery.actions import (
    job_for_order,
    job_for_order_number,
    mark_picked_up,
    shop_owner_id,
)
from commerce.delivery.models import ACTIVE_JOB_STATUSES, JobStatus
from commerce.errors import IllegalTransition, NotFound, PermissionDenied
from commerce.ledger.actions import record_door_payment
from commerce.loyalty.actions import credit_for_order
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, notify_once
from commerce.orders.actions import buyer_order, seller_order
from commerce.orders.lifecycle import Actor, transition
from commerce.orders.models import DeliveryMode, Order, OrderStatus
from commerce.users.actions import require_actor

RIDING_STATUSES = (OrderStatus.COURIER_ASSIGNED, OrderStatus.PICKED_UP)
# The QR page texts its confirmation link at most once per order and deliverer in this window,
# so its public button cannot be used to spam a courier.
CONFIRM_LINK_EVERY_S = 120


@dataclass(frozen=True)
class ProofResult:
    order: Order
    delivered: bool  # False: waiting for the buyer's cash confirmation


# --- who and when ----------------------------------------------------------------------------


def deliverer_of(session: Session, order: Order) -> int | None:
    """Who may prove this order at the door: its courier, or the seller for a pickup at the shop."""
    if order.delivery_mode == DeliveryMode.PICKUP:
        return shop_owner_id(session, order)
    return order.courier_id


def at_the_door(order: Order) -> bool:
    """Picked up (home delivery), or accepted and waiting at the shop (pickup)."""
    if order.delivery_mode == DeliveryMode.PICKUP:
        return order.status == OrderStatus.ACCEPTED
    return order.status == OrderStatus.PICKED_UP


def seller_hands_over(session: Session, order: Order) -> bool:
    """The seller meets the buyer now: a pickup ready at the shop, or a delivery they ride."""
    if order.delivery_mode == DeliveryMode.PICKUP:
        return order.status == OrderStatus.ACCEPTED
    return (
        order.courier_id is not None
        and order.courier_id == shop_owner_id(session, order)
        and order.status in RIDING_STATUSES
    )


def _check_deliverer(session: Session, order: Order, user_id: int) -> None:
    """Only the order's deliverer may present a code, and only once the parcel is at the door."""
    if deliverer_of(session, order) != user_id:
        raise PermissionDenied("not your delivery", order_id=order.id)
    if not at_the_door(order):
        raise IllegalTransition(
            "not at the door yet", order_id=order.id, from_status=order.status.value
        )


# --- what closes it --------------------------------------------------------------------------


def _finish_if_confirmed(session: Session, order: Order, *, by_buyer: bool = False) -> bool:
    """Close the order once both confirmations are in; tell the seller, the courier, the buyer.

    `by_buyer`: the buyer's own word closed it. She is answered in the turn that carried it
    (which asks for the stars), so no second rating prompt is queued for her.
    """
    code = codes.code_for_order(session, order.id)
    if code.used_at is None or order.cash_confirmed_at is None:
        return False
    transition(session, order, OrderStatus.DELIVERED, actor=Actor.SYSTEM, actor_id=None)
    order.delivered_at = clock.now()
    job = job_for_order(session, order.id)
    if job is not None and job.status in ACTIVE_JOB_STATUSES:
        job.status = JobStatus.DONE
        job.done_at = order.delivered_at
    credit_for_order(session, order=order)
    record_door_payment(session, order=order, job=job)
    owner = shop_owner_id(session, order)
    notify(
        session,
        user_id=owner,
        kind=Notice.ORDER_DELIVERED,
        params={"order_id": order.id},
        essential=True,
    )
    if not by_buyer:
        notify(
            session,
            user_id=order.buyer_id,
            kind=Notice.REVIEW_PROMPT,
            params={"order_id": order.id},
            essential=True,
        )
    if order.courier_id is not None and order.courier_id != owner:
        notify(
            session,
            user_id=order.courier_id,
            kind=Notice.DELIVERY_CLOSED,
            params={"order_id": order.id, "commission": job.commission if job else 0},
            essential=True,
        )
    session.flush()
    return True


def _after_proof(session: Session, order: Order) -> ProofResult:
    delivered = _finish_if_confirmed(session, order)
    if not delivered:
        notify(
            session,
            user_id=order.buyer_id,
            kind=Notice.CONFIRM_CASH,
            params={"order_id": order.id, "total": order.total},
            essential=True,
        )
    return ProofResult(order=order, delivered=delivered)


# --- the proofs ------------------------------------------------------------------------------


@action
def prove_with_pin(session: Session, *, user_id: int, order_id: int, pin: str) -> ProofResult:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("unknown order", entity="order", id=order_id)
    require_actor(session, user_id)
    _check_deliverer(session, order, user_id)
    code = codes.code_for_order(session, order.id)
    codes.check_pin(session, code, pin, by_user_id=user_id)
    codes.mark_used(session, code, by_user_id=user_id, proof="pin")
    return _after_proof(session, order)


def order_for_token(session: Session, *, token: str) -> Order:
    """What the QR page shows: the order behind a token, if the token is still usable."""
    code = codes.code_for_token(session, token)
    codes.check_usable(session, code)
    order = session.get(Order, code.order_id)
    assert order is not None
    return order


@action
def send_confirm_link(
    session: Session, *, token: str, link_for: Callable[[int, int, int], str]
) -> Order:
    """The QR page's button: text the order's deliverer (never whoever pressed) a link.

    `link_for(order_id, deliverer_id, now_s)` makes the signed, short-lived link: the signing
    key and the public URL belong to the web edge, not to the core. At most one text per order
    and deliverer every CONFIRM_LINK_EVERY_S; a second press in that window writes nothing.
    """
    order = order_for_token(session, token=token)
    deliverer = deliverer_of(session, order)
    if deliverer is None or not at_the_door(order):
        raise IllegalTransition(
            "not at the door yet", order_id=order.id, from_status=order.status.value
        )
    now = int(clock.now().timestamp())
    notify_once(
        session,
        user_id=deliverer,
        kind=Notice.COURIER_QR_LINK,
        params={"order_id": order.id, "url": link_for(order.id, deliverer, now)},
        essential=True,
        dedupe_key=f"qrlink:{order.id}:{deliverer}:{now // CONFIRM_LINK_EVERY_S}",
    )
    return order


@action
def prove_with_qr(session: Session, *, user_id: int, token: str) -> ProofResult:
    code = codes.code_for_token(session, token)
    codes.check_usable(session, code)
    order = session.get(Order, code.order_id)
    assert order is not None
    require_actor(session, user_id)
    _check_deliverer(session, order, user_id)
    codes.mark_used(session, code, by_user_id=user_id, proof="qr")
    return _after_proof(session, order)


@action
def prove_as_seller(session: Session, *, seller_id: int, order_id: int, pin: str) -> ProofResult:
    """The seller types the buyer's PIN at the hand-over.

    Riding it personally, the parcel left the shop with the seller: it is marked picked up first.
    A refusal that counts (a wrong PIN, a lock) keeps that, as it keeps the count.
    """
    order = seller_order(session, seller_id, order_id)
    if not seller_hands_over(session, order):
        raise IllegalTransition(
            "the seller does not hand this order over",
            order_id=order.id,
            from_status=order.status.value,
        )
    if order.status == OrderStatus.COURIER_ASSIGNED:
        job = job_for_order_number(session, user_id=seller_id, order_id=order.id)
        mark_picked_up(session, user_id=seller_id, job_id=job.id)
    return prove_with_pin(session, user_id=seller_id, order_id=order.id, pin=pin)


@action
def confirm_cash(
    session: Session, *, buyer_id: int, order_id: int, reference: str = ""
) -> ProofResult:
    """The buyer says the cash was handed over; with the deliverer's proof, the order closes.

    `reference`: the Orange Money / MTN MoMo transaction id when she gives one; it goes into
    the ledger's door-payment entry. Closing it here, the caller's answer to her asks for the
    stars: no rating prompt is queued.
    """
    order = buyer_order(session, buyer_id, order_id)
    if not at_the_door(order):
        raise IllegalTransition(
            "nothing to confirm yet", order_id=order.id, from_status=order.status.value
        )
    if order.cash_confirmed_at is None:
        order.cash_confirmed_at = clock.now()
        if reference.strip():
            order.payment_reference = reference.strip()[:64]
        session.flush()
    return ProofResult(order=order, delivered=_finish_if_confirmed(session, order, by_buyer=True))
