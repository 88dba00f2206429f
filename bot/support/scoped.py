"""The only reads the support assistant can make, each one scoped to the asking user in code.

Why a reader object rather than queries inside the tools: the offline mode and the model's
tools must obey exactly the same rule (the user id comes from the conversation, never from the
question or the model), and every read must land in the audit log with the ids it touched.
Nothing here writes to the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.catalog.search import search_products
from commerce.delivery.models import DeliveryJob, JobStatus
from commerce.errors import CommerceError
from commerce.loyalty import actions as loyalty
from commerce.orders import queries
from commerce.orders.actions import buyer_order, orders_of_buyer
from commerce.orders.models import Order, OrderStatus
from commerce.returns.models import Refund, RefundStatus, Return, ReturnStatus

log = logging.getLogger("boutik.support.audit")

MAX_DESCRIPTION = 200
# On its way: not yet delivered, refused nor cancelled.
IN_TRANSIT = (
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.COURIER_ASSIGNED,
    OrderStatus.PICKED_UP,
)
# Where a delivery code still has a use: the states in which "mes commandes" offers it again.
CODE_SERVES = (*queries.CANCELLABLE, OrderStatus.PICKED_UP)

# What a phone number looks like here, and nothing else (a date, an amount, an order number or
# a PIN must reach the model and the buyer intact: "livrée le 2026-11-20 ; total 12 500 000 GNF").
_SEP = r"[ .\-]?"
_INTL_SEP = r"(?:[ .\-]|\s?\(|\)\s?)?"  # international ones may group with brackets: "+1 (555)"
# Not glued to a digit, a word or a "+" before it, nor to "digit + separator" ("1 622 500 000").
_START = r"(?<![\w+])(?<!\d[ .\-])"
# Not followed by more of the same run, nor by a currency (an amount, however it is written).
_END = r"(?![ .\-]?\d)(?!\s*(?:gnf|fg|francs?)\b)"
_PHONE = re.compile(
    _START
    + "(?:"
    # International: "+33 6 12 34 56 78", "00224 622 12 34 56" (8 to 15 digits after the prefix).
    + rf"\+{_INTL_SEP}\d(?:{_INTL_SEP}\d){{6,14}}"
    + rf"|00[1-9](?:{_INTL_SEP}\d){{6,14}}"
    # Guinea without "+": "224 622 12 34 56"; local mobile: "622 12 34 56", "622123456".
    + rf"|(?:224{_SEP})?6(?:{_SEP}\d){{8}}"
    + ")"
    + _END,
    re.IGNORECASE,
)


def mask_phones(text: str) -> str:
    """Hide every phone number except its last 4 digits: '+224622123456' → '+********3456'.

    Applied to whatever goes into a prompt, a tool result, a reply or a log line, so a number
    typed in a question or a landmark never reaches a model provider or a log file in full.
    Why a precise rule rather than "8 digits or more": that garbled the answers themselves
    (a date became "****1120", a total "****0000 GNF"). A phone here is a Guinean mobile (nine
    digits starting with 6, grouped or not, with or without 224 / +224 / 00224) or any number
    written with + or 00; a run of digits followed by GNF is an amount, whatever its shape.
    """

    def hide(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = [c for c in raw if c.isdigit()]
        keep = "".join(digits[-4:])
        prefix = "+" if raw.startswith("+") else ""
        return prefix + "*" * (len(digits) - 4) + keep

    return _PHONE.sub(hide, text or "")


@dataclass(frozen=True)
class AuditEntry:
    """One read: who asked, through which tool, and every row id it returned."""

    user_id: int
    tool: str
    args: dict[str, Any]
    order_ids: tuple[int, ...] = ()
    # The buyer of each order read: equal to user_id, always — the test of the scoping.
    order_owner_ids: tuple[int, ...] = ()
    product_ids: tuple[int, ...] = ()


@dataclass
class AuditLog:
    """The reads of one support request, kept in memory and written to the audit logger."""

    user_id: int
    entries: list[AuditEntry] = field(default_factory=list)

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)
        log.info(
            "support read user=%s tool=%s args=%s orders=%s products=%s",
            entry.user_id,
            entry.tool,
            mask_phones(repr(entry.args)),
            list(entry.order_ids),
            list(entry.product_ids),
        )

    def cross_user_reads(self) -> list[AuditEntry]:
        """Entries that returned an order of someone other than the asking user (must be [])."""
        return [
            e
            for e in self.entries
            if e.user_id != self.user_id or any(o != e.user_id for o in e.order_owner_ids)
        ]

    def order_ids_read(self) -> set[int]:
        return {i for e in self.entries for i in e.order_ids}


def _iso(value: dt.datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


class ScopedReader:
    """Read-only access to one user's orders, the public catalog and the FAQ.

    `user_id` is fixed at construction from the conversation; no method takes a user id. A lock
    serialises reads because the agent's tool node may call tools from worker threads while the
    session is one; `closed` stops late tool calls after the caller gave up waiting. A plain
    class (not a dataclass) so pydantic, which inspects tool signatures, leaves it alone.
    """

    def __init__(
        self,
        session: Session,
        user_id: int,
        *,
        lang: str = "fr",
        lock: threading.Lock | None = None,
        end_each_read: bool = False,
    ) -> None:
        self.session = session
        self.user_id = user_id
        self.lang = lang
        self.audit = AuditLog(user_id)
        self.lock = lock or threading.Lock()
        self.closed = False
        # True in the worker: each read ends its own transaction, so nothing (on SQLite, the
        # BEGIN IMMEDIATE write lock) stays open while a model thinks between two tool calls.
        self.end_each_read = end_each_read

    @contextmanager
    def reading(self) -> Iterator[bool]:
        """Serialise one read; yields False once the caller gave up (`closed`).

        Every read method runs inside it, so the lock, the late-call guard and the end of the
        read's transaction are one rule, not one per method.
        """
        with self.lock:
            try:
                yield not self.closed
            finally:
                if self.end_each_read:
                    self.session.rollback()  # read-only: ending it loses nothing

    # --- orders -------------------------------------------------------------------------------

    def _order_fact(self, order: Order) -> dict[str, Any]:
        courier = queries.courier_name(self.session, order)
        return {
            "order_id": order.id,
            "status": order.status.value,
            "total_gnf": order.total,
            "delivery_fee_gnf": order.delivery_fee,
            "payment_method": order.payment_method.value,
            "delivery_mode": order.delivery_mode.value,
            "placed_on": _iso(order.created_at),
            "delivered_on": _iso(order.delivered_at),
            "delivered_at": order.delivered_at.isoformat() if order.delivered_at else "",
            "courier_first_name": courier.split()[0] if courier else "",
            "refusal_reason": order.refusal_reason,
            "delivery_note": mask_phones(order.landmark),
            "items": [{"name": i.name, "quantity": i.quantity} for i in order.items],
        }

    def _order(self, order_id: int) -> Order | None:
        try:
            return buyer_order(self.session, self.user_id, order_id)
        except CommerceError:
            return None  # missing and not-yours look the same, on purpose

    def _record_orders(self, tool: str, args: dict[str, Any], orders: Sequence[Order]) -> None:
        """Audit one read of orders: their ids and their buyers' (always the asking user)."""
        self.audit.record(
            AuditEntry(
                self.user_id,
                tool,
                args,
                order_ids=tuple(o.id for o in orders),
                order_owner_ids=tuple(o.buyer_id for o in orders),
            )
        )

    def my_orders(self, *, limit: int = 5) -> list[dict[str, Any]]:
        with self.reading() as open_:
            if not open_:
                return []
            found = orders_of_buyer(self.session, buyer_id=self.user_id, limit=limit)
            facts = [self._order_fact(o) for o in found]
            self._record_orders("my_orders", {"limit": limit}, found)
            return facts

    def order(self, order_id: int, *, tool: str = "order_status") -> dict[str, Any] | None:
        with self.reading() as open_:
            if not open_:
                return None
            found = self._order(order_id)
            self.audit.record(
                AuditEntry(
                    self.user_id,
                    tool,
                    {"order_id": order_id},
                    order_ids=(found.id,) if found else (),
                    order_owner_ids=(found.buyer_id,) if found else (),
                )
            )
            return self._order_fact(found) if found else None

    def latest_order_id(self) -> int | None:
        orders = self.my_orders(limit=1)
        return orders[0]["order_id"] if orders else None

    def return_eligibility(self, order_id: int) -> dict[str, Any] | None:
        """Whether the user's order can be returned, and until when (the core's rules)."""
        fact = self.order(order_id, tool="return_eligibility")
        if fact is None:
            return None
        days = rules.of(self.session).return_window_days
        status = OrderStatus(fact["status"])
        result: dict[str, Any] = {"order_id": order_id, "window_days": days, "deadline": ""}
        if status in (OrderStatus.CANCELLED, OrderStatus.REFUSED):
            result["verdict"] = "cancelled"
        elif status == OrderStatus.COMPLETED:
            result["verdict"] = "closed"
        elif status != OrderStatus.DELIVERED or not fact["delivered_on"]:
            result["verdict"] = "not_delivered"
        else:
            delivered = dt.datetime.fromisoformat(fact["delivered_at"])
            deadline = delivered + dt.timedelta(days=days)
            result["deadline"] = deadline.date().isoformat()
            result["verdict"] = "ok" if clock.now() <= deadline else "closed"
        return result

    # --- the buyer's own situations (issue 18: delay, lost code, refund, missed delivery) ---
    #
    # Why separate reads rather than `my_orders` filtered by the caller: each one answers a
    # question buyers ask ("toujours rien", "j'ai perdu mon code", "où en est mon
    # remboursement") with only what that answer needs — the code's state, never its PIN — and
    # each lands in the audit log under its own name.

    def loyalty_points(self) -> int:
        """Her loyalty balance, as the core keeps it (`commerce.loyalty.actions.balance`)."""
        with self.reading() as open_:
            if not open_:
                return 0
            self.audit.record(AuditEntry(self.user_id, "loyalty_points", {}))
            return loyalty.balance(self.session, user_id=self.user_id)

    def rules(self) -> rules.Rules:
        """The figures the core enforces for this session (the FAQ and the verdicts quote them)."""
        return rules.of(self.session)

    def orders_in_transit(self, *, limit: int = 5) -> list[dict[str, Any]]:
        """Her orders not yet delivered nor closed (placed … picked up), newest first."""
        with self.reading() as open_:
            if not open_:
                return []
            found = list(
                self.session.scalars(
                    select(Order)
                    .where(Order.buyer_id == self.user_id, Order.status.in_(IN_TRANSIT))
                    .order_by(Order.id.desc())
                    .limit(limit)
                )
            )
            facts = [self._order_fact(o) for o in found]
            self._record_orders("orders_in_transit", {"limit": limit}, found)
            return facts

    def delivery_codes(self, *, limit: int = 5) -> list[dict[str, Any]]:
        """The state of the delivery code of each order still waiting for its hand-over.

        Never the PIN or the token: a code is sent again only through the buyer flow's own
        "QR et PIN" path (`bot.buyer.orders.resend_code`), so this read cannot leak one.
        `why` is "usable", "used", "locked" or "expired" (the same test as that path).
        """
        with self.reading() as open_:
            if not open_:
                return []
            found = list(
                self.session.scalars(
                    select(Order)
                    .where(Order.buyer_id == self.user_id, Order.status.in_(CODE_SERVES))
                    .order_by(Order.id.desc())
                    .limit(limit)
                )
            )
            now = clock.now()
            codes: list[dict[str, Any]] = []
            for order in found:
                code = queries.code_of(self.session, order)
                if code is None:
                    continue
                if code.used_at is not None:
                    why = "used"
                elif code.locked_at is not None:
                    why = "locked"
                elif now >= code.expires_at:
                    why = "expired"
                else:
                    why = "usable"
                codes.append(
                    {
                        "order_id": order.id,
                        "status": order.status.value,
                        "usable": why == "usable",
                        "why": why,
                        "expires_on": _iso(code.expires_at),
                    }
                )
            self._record_orders("delivery_codes", {"limit": limit}, found)
            return codes

    def refunds(self, *, limit: int = 5) -> list[dict[str, Any]]:
        """Her return requests and the refund each led to, newest first.

        `state`: "requested" (the seller decides), "refused", "approved" (a courier comes for
        the parcel and brings the cash), "collected" (the courier took the parcel: she confirms
        the cash), "paid" (she confirmed it).
        """
        with self.reading() as open_:
            if not open_:
                return []
            rows = list(
                self.session.execute(
                    select(Return, Order)
                    .join(Order, Order.id == Return.order_id)
                    .where(Return.buyer_id == self.user_id, Order.buyer_id == self.user_id)
                    .order_by(Return.id.desc())
                    .limit(limit)
                ).all()
            )
            found: list[dict[str, Any]] = []
            for ret, order in rows:
                refund = self.session.scalar(select(Refund).where(Refund.return_id == ret.id))
                job = self.session.scalar(
                    select(DeliveryJob).where(DeliveryJob.return_id == ret.id)
                )
                collected = job is not None and job.status in (JobStatus.PICKED_UP, JobStatus.DONE)
                if ret.status == ReturnStatus.REFUSED:
                    state = "refused"
                elif refund is not None and refund.status == RefundStatus.PAID:
                    state = "paid"
                elif refund is not None and collected:
                    state = "collected"
                elif refund is not None:
                    state = "approved"
                else:
                    state = "requested"
                found.append(
                    {
                        "return_id": ret.id,
                        "order_id": order.id,
                        "state": state,
                        "amount_gnf": refund.amount if refund is not None else 0,
                        "refusal_reason": ret.refusal_reason,
                        "paid_on": _iso(refund.paid_at) if refund is not None else "",
                    }
                )
            self.audit.record(
                AuditEntry(
                    self.user_id,
                    "refund_status",
                    {"limit": limit},
                    order_ids=tuple(order.id for _ret, order in rows),
                    order_owner_ids=tuple(order.buyer_id for _ret, order in rows),
                )
            )
            return found

    # --- public data --------------------------------------------------------------------------

    def products(self, query: str, *, limit: int = 5) -> list[dict[str, Any]]:
        with self.reading() as open_:
            if not open_:
                return []
            try:
                page = search_products(self.session, query=query[:200], limit=limit)
            except CommerceError:
                return []
            found: list[dict[str, Any]] = [
                {
                    "product_id": p.id,
                    "name": p.name,
                    "price_gnf": p.price,
                    "shop": p.shop.name,
                    "in_stock": p.stock > 0,
                    "description": mask_phones(p.description[:MAX_DESCRIPTION]),
                }
                for p in page.products
            ]
            self.audit.record(
                AuditEntry(
                    self.user_id,
                    "search_products",
                    {"query": query[:200]},
                    product_ids=tuple(p["product_id"] for p in found),
                )
            )
            return found

    def faq(
        self, question: str, *, lang: str | None = None, limit: int = 2
    ) -> list[dict[str, Any]]:
        from bot.support.retrieval import search_faq

        hits = search_faq(question, lang or self.lang, rules.of(self.session))[:limit]
        self.audit.record(AuditEntry(self.user_id, "faq_lookup", {"question": question[:200]}))
        return [
            {"topic": h.entry.id, "answer": h.answer, "score": h.score, "sure": h.sure}
            for h in hits
        ]
