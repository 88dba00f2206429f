"""The admins' CSV exports: orders, products, users, the cash ledger.

The core yields the rows and writes them to a path its caller chooses (the media storage); the
admin flow or, for a large export, a worker job sends the file as a Telegram document. Rows are
streamed in id order with `yield_per`, so a large export never holds every object in memory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commerce import clock
from commerce.catalog.models import Product, Shop
from commerce.ledger import actions as ledger
from commerce.ledger.models import LedgerLine
from commerce.orders.models import Order
from commerce.users.actions import require_actor
from commerce.users.models import Role, User


class ExportKind(StrEnum):
    ORDERS = "orders"
    PRODUCTS = "products"
    USERS = "users"
    LEDGER = "ledger"


HEADERS: dict[ExportKind, tuple[str, ...]] = {
    ExportKind.ORDERS: (
        "id", "created_at", "status", "shop_id", "buyer_id", "delivery_mode", "payment_method",
        "prefecture", "quartier", "subtotal_gnf", "discount_gnf", "delivery_fee_gnf",
        "total_gnf", "courier_id", "delivered_at",
    ),
    ExportKind.PRODUCTS: (
        "id", "shop_id", "shop", "name", "category_id", "brand", "colour", "price_gnf", "stock",
        "status", "paused", "deleted", "created_at",
    ),
    ExportKind.USERS: (
        "id", "name", "phone", "telegram_id", "roles", "language", "active", "opted_out",
        "loyalty_points", "created_at",
    ),
    ExportKind.LEDGER: ledger.LEDGER_HEADERS,
}  # fmt: skip


def count(session: Session, *, admin_id: int, kind: ExportKind) -> int:
    require_actor(session, admin_id, Role.ADMIN)
    model = {
        ExportKind.ORDERS: Order,
        ExportKind.PRODUCTS: Product,
        ExportKind.USERS: User,
        ExportKind.LEDGER: LedgerLine,
    }[kind]
    return session.scalar(select(func.count()).select_from(model)) or 0


def rows(session: Session, *, admin_id: int, kind: ExportKind) -> Iterator[tuple[Any, ...]]:
    """The header, then one tuple per record, oldest first."""
    require_actor(session, admin_id, Role.ADMIN)
    yield HEADERS[kind]
    if kind == ExportKind.ORDERS:
        for o in session.scalars(select(Order).order_by(Order.id).execution_options(yield_per=500)):
            yield (
                o.id, o.created_at.isoformat(), o.status.value, o.shop_id, o.buyer_id,
                o.delivery_mode.value, o.payment_method.value, o.prefecture, o.quartier,
                o.subtotal, o.discount, o.delivery_fee, o.total, o.courier_id or "",
                o.delivered_at.isoformat() if o.delivered_at else "",
            )  # fmt: skip
    elif kind == ExportKind.PRODUCTS:
        stmt = (
            select(Product, Shop.name)
            .join(Shop, Product.shop_id == Shop.id)
            .order_by(Product.id)
            .execution_options(yield_per=500)
        )
        for p, shop_name in session.execute(stmt):
            yield (
                p.id, p.shop_id, shop_name, p.name, p.category_id, p.brand, p.colour, p.price,
                p.stock, p.status.value, int(p.is_paused), int(p.is_deleted),
                p.created_at.isoformat(),
            )  # fmt: skip
    elif kind == ExportKind.LEDGER:
        rows_ = ledger.ledger_rows(session)
        next(rows_)  # its header is HEADERS[LEDGER]
        yield from rows_
    else:
        for u in session.scalars(select(User).order_by(User.id).execution_options(yield_per=500)):
            yield (
                u.id, u.name, u.phone or "", u.telegram_id or "",
                "|".join(sorted(r.role.value for r in u.roles)), u.language.value,
                int(u.is_active), int(u.opted_out), u.loyalty_points, u.created_at.isoformat(),
            )  # fmt: skip


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Defuse spreadsheet formulas in free text ("=HYPERLINK(…)"), keep numbers and phones."""
    formula = isinstance(value, str) and value.startswith(FORMULA_START)
    if formula and not re.fullmatch(r"[+-]?\d[\d .]*", value):
        return "'" + value
    return value


def write_csv(session: Session, *, admin_id: int, kind: ExportKind, target: Path) -> int:
    """Write the export to `target` (UTF-8 with BOM, for spreadsheets); returns the row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = -1  # the header is not a record
    with target.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        for row in rows(session, admin_id=admin_id, kind=kind):
            writer.writerow([_cell(v) for v in row])
            written += 1
    return written


def export_filename(kind: ExportKind, admin_id: int) -> tuple[str, str]:
    """(file name shown to the admin, path relative to the media directory)."""
    filename = f"boutik-{kind.value}-{clock.now():%Y%m%d-%H%M%S}.csv"
    return filename, f"exports/{admin_id}-{filename}"
