"""Steps of a cash day for the ledger tests: deliveries by chosen couriers, hand-overs, refunds."""

from __future__ import annotations

from sqlalchemy import func, select

from commerce.delivery import actions as delivery
from commerce.delivery.models import DeliveryJob
from commerce.ledger import actions as ledger
from commerce.ledger.models import AccountKind, LedgerEntry, LedgerLine, Remittance
from commerce.orders.models import CommissionPayer, DeliveryMode
from commerce.returns import actions as returns
from tests.support import Db
from tests.unit import flows


def delivered_by(
    db: Db,
    courier_id: int | None,
    *,
    seller: tuple[int, int],
    buyer: tuple[int, int] | None = None,
    price: int = 100_000,
    quantity: int = 1,
    payer: CommissionPayer = CommissionPayer.BUYER,
    mode: DeliveryMode = DeliveryMode.HOME,
) -> flows.Placed:
    """One order of `seller`, delivered by `courier_id` (None: a pickup at the shop)."""
    p = flows.place(
        db,
        price=price,
        quantity=quantity,
        stock=50,
        seller=seller,
        buyer=buyer,
        payer=payer,
        mode=mode,
    )
    if mode == DeliveryMode.PICKUP:
        flows.accept(db, p)
        from commerce.delivery import handover

        with db.uow() as s:
            handover.prove_as_seller(s, seller_id=p.seller_id, order_id=p.order_id, pin=p.pin)
        assert flows.confirm_cash(db, p) is True
        return p
    assert courier_id is not None
    flows.to_picked_up(db, p, courier_id)
    flows.prove_pin(db, courier_id, p)
    assert flows.confirm_cash(db, p) is True
    return p


def commission_of(db: Db, order_id: int) -> int:
    job = flows.delivery_job(db, order_id)
    return job.commission if job is not None else 0


def declare(db: Db, courier_id: int) -> list[Remittance]:
    with db.uow() as s:
        return ledger.declare_remittance(s, courier_user_id=courier_id)


def confirm(db: Db, seller_id: int, courier_id: int, amount: int) -> Remittance:
    with db.uow() as s:
        return ledger.confirm_remittance(
            s, seller_id=seller_id, courier_id=courier_id, amount=amount
        )


def dispute(db: Db, seller_id: int, remittance_id: int, note: str = "") -> Remittance:
    with db.uow() as s:
        return ledger.dispute_remittance(
            s, seller_id=seller_id, remittance_id=remittance_id, note=note
        )


def held_for(db: Db, courier_id: int, seller_id: int) -> int:
    with db.session() as s:
        return ledger.balance(s, AccountKind.COURIER_CASH, courier_id, party_id=seller_id)


def refund_order(db: Db, p: flows.Placed, courier_id: int, quantity: int = 1) -> int:
    """The buyer returns `quantity` of the item; `courier_id` brings it back; refund confirmed."""
    with db.uow() as s:
        rid = returns.request_return(
            s,
            buyer_id=p.buyer_id,
            order_id=p.order_id,
            items=[(p.item_id, quantity)],
            reason="taille",
        ).id
    with db.uow() as s:
        returns.approve_return(s, seller_id=p.seller_id, return_id=rid)
    with db.session() as s:
        job = s.scalar(select(DeliveryJob).where(DeliveryJob.return_id == rid))
        assert job is not None
        job_id = job.id
    flows.claim(db, courier_id, job_id)
    flows.pick_up(db, courier_id, job_id)
    with db.uow() as s:
        delivery.deliver_return(s, user_id=courier_id, job_id=job_id)
    with db.uow() as s:
        return returns.confirm_refund(s, buyer_id=p.buyer_id, return_id=rid).amount


def unbalanced_entries(db: Db) -> list[int]:
    with db.session() as s:
        rows = s.execute(
            select(LedgerEntry.id, func.sum(LedgerLine.amount))
            .join(LedgerLine, LedgerLine.entry_id == LedgerEntry.id)
            .group_by(LedgerEntry.id)
        ).all()
        lineless = s.scalars(select(LedgerEntry.id).where(~LedgerEntry.lines.any())).all()
    return [eid for eid, total in rows if total != 0] + list(lineless)
