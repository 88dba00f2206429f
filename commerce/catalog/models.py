"""Shops, categories, products, their photos, time-boxed promotions and buyers' favourites."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import clock
from commerce.db import Base


class ShopStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    SUSPENDED = "suspended"


class ModerationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(60), default="Conakry")
    prefecture: Mapped[str] = mapped_column(String(60))
    quartier: Mapped[str] = mapped_column(String(80), default="")
    landmark: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    status: Mapped[ShopStatus] = mapped_column(default=ShopStatus.PENDING)
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_fr: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price > 0", name="price_positive"),
        Index("ix_products_visible", "status", "category_id"),
        # PostgreSQL only (migration 0002; env.py leaves it out on SQLite): trigram index that
        # lets search narrow 100 000 products to the few that share letters with the query.
        Index(
            "ix_products_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            info={"only_dialect": "postgresql"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str] = mapped_column(String(60), default="")
    colour: Mapped[str] = mapped_column(String(40), default="")
    # Guinean francs have no minor unit: whole numbers only.
    price: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    low_stock_threshold: Mapped[int] = mapped_column(default=3)
    status: Mapped[ModerationStatus] = mapped_column(default=ModerationStatus.PENDING)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    is_paused: Mapped[bool] = mapped_column(default=False)
    is_deleted: Mapped[bool] = mapped_column(default=False)
    # Lowercase, accent-free name + brand + colour + category: what fuzzy search matches.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    shop: Mapped[Shop] = relationship(lazy="joined")
    category: Mapped[Category] = relationship(lazy="joined")
    photos: Mapped[list[ProductPhoto]] = relationship(
        cascade="all, delete-orphan", order_by="ProductPhoto.position"
    )
    promotions: Mapped[list[Promotion]] = relationship(cascade="all, delete-orphan")


class ProductPhoto(Base):
    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    # Relative to the media directory.
    path: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=0)


class Promotion(Base):
    """A seller's discount on one product, in percent, between two instants."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("percent > 0 AND percent < 100", name="percent_range"),
        CheckConstraint("ends_at > starts_at", name="window_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    percent: Mapped[int]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]


class Favourite(Base):
    """A buyer's "♥" on a product. `last_price` and `last_in_stock` are what she was last told
    (or saw when she tapped): a price below it, or stock after none, is news once."""

    __tablename__ = "favourites"
    __table_args__ = (UniqueConstraint("user_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    last_price: Mapped[int]
    last_in_stock: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
