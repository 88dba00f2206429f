"""Shared steps for tests and benchmarks: an order placed, delivered, snapshots of the database.

Every step goes through the real commerce actions, one transaction each, like a webhook turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

import commerce.models  # noqa: F401 - every table registered on the metadata
from commerce.cart import actions as cart
from commerce.db import Base
from commerce.delivery import actions as delivery
from commerce.delivery import handover, offers
from commerce.delivery.models import DeliveryCode, DeliveryJob, JobKind, JobOffer
from commerce.messaging.models import Outbox
from commerce.messaging.templates import ContentTemplate
from commerce.orders import actions as orders
from commerce.orders.models import (
    CommissionPayer,
    DeliveryMode,
    Order,
    OrderItem,
    OrderStatusChange,
    PaymentMethod,
)
from devtools.testkit.builders import make_buyer, make_courier, make_product, make_seller
from devtools.testkit.db import Db


@dataclass
class Placed:
    """One order of a checkout, with everything a test needs to drive it further."""

    buyer_id: int
    address_id: int | None
    seller_id: int
    shop_id: int
    product_id: int
    order_id: int
    item_id: int
    pin: str
    token: str
    total: int


def add(db: Db, buyer_id: int, product_id: int, quantity: int = 1) -> None:
    with db.uow() as s:
        cart.add_to_cart(s, user_id=buyer_id, product_id=product_id, quantity=quantity)


def checkout(
    db: Db,
    buyer_id: int,
    address_id: int | None,
    *,
    mode: DeliveryMode = DeliveryMode.HOME,
    payer: CommissionPayer = CommissionPayer.BUYER,
    payment: PaymentMethod = PaymentMethod.CASH,
) -> list[orders.PlacedOrder]:
    with db.uow() as s:
        return orders.place_order(
            s,
            buyer_id=buyer_id,
            address_id=address_id,
            delivery_mode=mode,
            commission_payer=payer,
            payment_method=payment,
        )


def place(
    db: Db,
    *,
    price: int = 100_000,
    quantity: int = 2,
    stock: int = 10,
    mode: DeliveryMode = DeliveryMode.HOME,
    payer: CommissionPayer = CommissionPayer.BUYER,
    seller: tuple[int, int] | None = None,
    buyer: tuple[int, int] | None = None,
) -> Placed:
    """A buyer's checkout of one product from one approved shop: one PLACED order."""
    seller_id, shop_id = seller or make_seller(db)
    product_id = make_product(db, seller_id=seller_id, price=price, stock=stock)
    buyer_id, address_id = buyer or make_buyer(db)
    add(db, buyer_id, product_id, quantity)
    [placed] = checkout(
        db, buyer_id, address_id if mode == DeliveryMode.HOME else None, mode=mode, payer=payer
    )
    return Placed(
        buyer_id=buyer_id,
        address_id=address_id,
        seller_id=seller_id,
        shop_id=shop_id,
        product_id=product_id,
        order_id=placed.order.id,
        item_id=placed.order.items[0].id,
        pin=placed.code.pin,
        token=placed.code.token,
        total=placed.order.total,
    )


def wrap(placed: orders.PlacedOrder, *, seller_id: int) -> Placed:
    """A `Placed` for one order of a checkout made by hand."""
    o = placed.order
    return Placed(
        buyer_id=o.buyer_id,
        address_id=None,
        seller_id=seller_id,
        shop_id=o.shop_id,
        product_id=o.items[0].product_id,
        order_id=o.id,
        item_id=o.items[0].id,
        pin=placed.code.pin,
        token=placed.code.token,
        total=o.total,
    )


def accept(db: Db, p: Placed) -> None:
    with db.uow() as s:
        orders.accept_order(s, seller_id=p.seller_id, order_id=p.order_id)


def publish(db: Db, p: Placed, bonus: int = 0) -> int:
    with db.uow() as s:
        return delivery.publish_job(s, seller_id=p.seller_id, order_id=p.order_id, bonus=bonus).id


def offer(db: Db, job_id: int, *courier_ids: int) -> None:
    """The job was offered to these couriers (what a wave records): they may now take it."""
    with db.uow() as s:
        job = s.get(DeliveryJob, job_id)
        if job is None:
            return  # an unknown job: claiming it is refused as such
        for courier_id in courier_ids:
            known = select(JobOffer.id).where(
                JobOffer.job_id == job_id, JobOffer.courier_id == courier_id
            )
            if s.scalar(known.limit(1)) is None:
                s.add(JobOffer(job_id=job_id, courier_id=courier_id, offer_round=job.offer_round))


def offer_wave(db: Db, job_id: int) -> list[int]:
    """A real first wave, wide enough for all of Guinea: every eligible courier is offered it."""
    with db.uow() as s:
        job = s.get(DeliveryJob, job_id)
        assert job is not None
        plan = offers.WavePlan(radius_km=2_000.0, step_km=0.0, waves=1)
        return offers.offer_wave(
            s, job_id=job_id, wave=1, offer_round=job.offer_round, plan=plan
        ).offered


def courier_comes_on(db: Db, courier_id: int) -> list[int]:
    """What switching ON triggers after commit: the open jobs in reach are offered to him."""
    with db.uow() as s:
        plan = offers.WavePlan(radius_km=2_000.0, step_km=0.0, waves=1)
        return offers.offer_open_jobs(s, courier_user_id=courier_id, plan=plan)


def claim(db: Db, courier_id: int, job_id: int) -> None:
    offer(db, job_id, courier_id)
    with db.uow() as s:
        delivery.claim_job(s, courier_user_id=courier_id, job_id=job_id)


def pick_up(db: Db, courier_id: int, job_id: int) -> None:
    with db.uow() as s:
        delivery.mark_picked_up(s, user_id=courier_id, job_id=job_id)


def to_assigned(db: Db, p: Placed, courier_id: int | None = None) -> tuple[int, int]:
    """Accepted, published and claimed: (courier id, job id)."""
    courier_id = courier_id or make_courier(db)
    accept(db, p)
    job_id = publish(db, p)
    claim(db, courier_id, job_id)
    return courier_id, job_id


def to_picked_up(db: Db, p: Placed, courier_id: int | None = None) -> tuple[int, int]:
    courier_id, job_id = to_assigned(db, p, courier_id)
    pick_up(db, courier_id, job_id)
    return courier_id, job_id


def prove_pin(db: Db, courier_id: int, p: Placed, pin: str | None = None) -> bool:
    with db.uow() as s:
        return handover.prove_with_pin(
            s, user_id=courier_id, order_id=p.order_id, pin=p.pin if pin is None else pin
        ).delivered


def confirm_cash(db: Db, p: Placed) -> bool:
    with db.uow() as s:
        return handover.confirm_cash(s, buyer_id=p.buyer_id, order_id=p.order_id).delivered


def deliver(db: Db, p: Placed) -> int:
    """Picked up, PIN given, cash confirmed: the order is DELIVERED. Returns the courier id."""
    courier_id, _job = to_picked_up(db, p)
    prove_pin(db, courier_id, p)
    assert confirm_cash(db, p) is True
    return courier_id


# --- reading the database back ------------------------------------------------------------


def order(db: Db, order_id: int) -> Order:
    with db.session() as s:
        o = s.get(Order, order_id)
        assert o is not None
        return o


def item(db: Db, item_id: int) -> OrderItem:
    with db.session() as s:
        i = s.get(OrderItem, item_id)
        assert i is not None
        return i


def code(db: Db, order_id: int) -> DeliveryCode:
    with db.session() as s:
        c = s.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order_id))
        assert c is not None
        return c


def job(db: Db, job_id: int) -> DeliveryJob:
    with db.session() as s:
        j = s.get(DeliveryJob, job_id)
        assert j is not None
        return j


def delivery_job(db: Db, order_id: int, kind: JobKind = JobKind.DELIVERY) -> DeliveryJob | None:
    with db.session() as s:
        return s.scalar(
            select(DeliveryJob).where(DeliveryJob.order_id == order_id, DeliveryJob.kind == kind)
        )


def history(db: Db, order_id: int) -> list[tuple[str | None, str, int | None]]:
    with db.session() as s:
        rows = s.scalars(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == order_id)
            .order_by(OrderStatusChange.id)
        )
        return [
            (r.from_status.value if r.from_status else None, r.to_status.value, r.actor_id)
            for r in rows
        ]


def outbox(db: Db, *, user_id: int | None = None, kind: str | None = None) -> list[Outbox]:
    with db.session() as s:
        stmt = select(Outbox).order_by(Outbox.id)
        if user_id is not None:
            stmt = stmt.where(Outbox.user_id == user_id)
        if kind is not None:
            stmt = stmt.where(Outbox.kind == kind)
        return list(s.scalars(stmt))


def outbox_row(db: Db, row_id: int) -> Outbox:
    with db.session() as s:
        row = s.get(Outbox, row_id)
        assert row is not None, f"no outbox row {row_id}"
        s.expunge(row)
        return row


def content_templates(db: Db) -> list[ContentTemplate]:
    """Every recorded WhatsApp template, of either provider, by name."""
    with db.session() as s:
        return list(s.scalars(select(ContentTemplate).order_by(ContentTemplate.friendly_name)))


def content_template(db: Db, friendly_name: str) -> ContentTemplate:
    [row] = [r for r in content_templates(db) if r.friendly_name == friendly_name]
    return row


def snapshot(db: Db) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: compared before and after a refused action."""
    with db.session() as s:
        return {
            t.name: sorted((tuple(r) for r in s.execute(select(t))), key=repr)
            for t in Base.metadata.sorted_tables
        }


def diff(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]):
    """The names of the tables whose rows changed."""
    return sorted(name for name in before if before[name] != after[name])
