"""Orders (one per seller per checkout), their items and every status change."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import clock
from commerce.db import Base


class OrderStatus(StrEnum):
    PLACED = "placed"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    COURIER_ASSIGNED = "courier_assigned"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeliveryMode(StrEnum):
    HOME = "home"
    PICKUP = "pickup"


class CommissionPayer(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


class PaymentMethod(StrEnum):
    CASH = "cash"
    ORANGE_MONEY = "orange_money"
    MTN_MOMO = "mtn_momo"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_non_negative"),
        CheckConstraint("subtotal >= discount", name="discount_within_subtotal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Orders of one checkout share this key (a multi-seller cart becomes several orders).
    checkout_ref: Mapped[str] = mapped_column(String(32), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(default=OrderStatus.PLACED, index=True)
    delivery_mode: Mapped[DeliveryMode]
    commission_payer: Mapped[CommissionPayer]
    payment_method: Mapped[PaymentMethod]
    # Address snapshot: the order keeps where it went even if the saved address changes.
    region: Mapped[str] = mapped_column(String(60), default="")
    prefecture: Mapped[str] = mapped_column(String(60), default="")
    quartier: Mapped[str] = mapped_column(String(80), default="")
    landmark: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    distance_km: Mapped[float] = mapped_column(default=0.0)
    subtotal: Mapped[int]
    discount: Mapped[int] = mapped_column(default=0)
    # The delivery commission; the buyer pays it in `total` only when commission_payer=buyer.
    delivery_fee: Mapped[int] = mapped_column(default=0)
    total: Mapped[int]
    promo_code_id: Mapped[int | None] = mapped_column(ForeignKey("promo_codes.id"))
    # Loyalty points spent on this order; their value is part of `discount`. Given back once
    # if the order is cancelled or refused.
    points_spent: Mapped[int] = mapped_column(default=0)
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    cash_confirmed_at: Mapped[dt.datetime | None]
    # The mobile-money transaction id the buyer gave with her confirmation (empty for cash).
    payment_reference: Mapped[str] = mapped_column(String(64), default="")
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    items: Mapped[list[OrderItem]] = relationship(
        cascade="all, delete-orphan", order_by="OrderItem.id", lazy="selectin"
    )
    history: Mapped[list[OrderStatusChange]] = relationship(
        cascade="all, delete-orphan", order_by="OrderStatusChange.id"
    )

    @property
    def number(self) -> int:
        """The order number people say and type ("commande 1042")."""
        return self.id


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("returned_quantity >= 0", name="returned_non_negative"),
        CheckConstraint("returned_quantity <= quantity", name="returned_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    unit_price: Mapped[int]
    quantity: Mapped[int]
    returned_quantity: Mapped[int] = mapped_column(default=0)


class OrderStatusChange(Base):
    """Who moved an order from one status to another, and when."""

    __tablename__ = "order_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[OrderStatus | None]
    to_status: Mapped[OrderStatus]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
