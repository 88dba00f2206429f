"""Carts (one per user, kept across days and channels) and marketplace promo codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import clock
from commerce.db import Base


class PromoCode(Base):
    """A code typed at checkout: a platform code (no shop, made by an admin) discounts the whole
    cart; a shop code (made by its seller) discounts that shop's items only."""

    __tablename__ = "promo_codes"
    __table_args__ = (
        CheckConstraint(
            "(percent_off IS NULL) <> (amount_off IS NULL)", name="one_kind_of_discount"
        ),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_max"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    percent_off: Mapped[int | None]
    amount_off: Mapped[int | None]
    min_total: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    max_uses: Mapped[int | None]
    # Incremented by a conditional UPDATE at checkout, never read-modify-write.
    uses: Mapped[int] = mapped_column(default=0)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A seller (or an admin) may switch a code off before its end; it is then refused.
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Cart(Base):
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    promo_code_id: Mapped[int | None] = mapped_column(ForeignKey("promo_codes.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    items: Mapped[list[CartItem]] = relationship(
        cascade="all, delete-orphan", order_by="CartItem.id", lazy="selectin"
    )
    promo_code: Mapped[PromoCode | None] = relationship()


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
