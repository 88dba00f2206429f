"""Helpers for tests/e2e/test_forged_buttons.py: chats that wait for their answers, the buttons
and texts the Telegram emulator captured, secrets to look for in a reply, and whole-database
snapshots that can be compared (ignoring what the attacker owns) and put back.

Why snapshots are restored: a forged button that works changes the world (a job picked up, an
order cancelled); the next replay must meet the same world, or one hole would hide the others.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

import commerce.models  # noqa: F401 - every table registered on the metadata
from commerce.db import Base
from commerce.messaging.models import ConversationState
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.timing import WAIT_S
from tests.webhooks import (
    post_telegram,
    post_twilio,
    telegram_callback,
    telegram_message,
    whatsapp_form,
)
from workers.outbox import sweep

WA = "/webhooks/twilio/whatsapp"
SENT = ("sendmessage", "sendphoto", "senddocument", "editmessagetext", "editmessagecaption")

# --- waiting for the app to be quiet -----------------------------------------------------------


def drain(b: Boutik, timeout: float = WAIT_S) -> None:
    """Until every job the turn started has finished and no outbox row is due.

    The in-process dispatcher has two thread pools (slow jobs, then the rest): as many barrier
    tasks as a pool has threads can only all run once every earlier task of that pool (chart
    and export jobs; outbox sends, offer waves) has finished; then the sweeper's view of the
    outbox says whether anything is left.
    """
    dispatcher = b.rt.dispatcher
    # The slow jobs' threads first (a chart or an export job writes outbox rows), then the sends'.
    pools = (dispatcher.slow_pool, dispatcher.pool)  # type: ignore[attr-defined]
    for _ in range(100):
        for pool in pools:
            workers = pool._max_workers
            barrier = threading.Barrier(workers + 1)
            tasks = [pool.submit(barrier.wait, timeout) for _ in range(workers)]
            barrier.wait(timeout)
            for task in tasks:
                task.result(timeout)
        due = sweep(b.rt)
        if not due:
            return
        b.rt.dispatcher.dispatch(due)
    raise TimeoutError("the app never became quiet")


# --- what the emulators captured ---------------------------------------------------------------


def buttons_of(call: Any) -> list[tuple[str, str]]:
    """(label, callback_data) of every inline button of a Bot API call (sent or edited)."""
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        (str(b.get("text", "")), str(b["callback_data"]))
        for row in markup.get("inline_keyboard", [])
        for b in row
        if "callback_data" in b
    ]


def text_of(call: Any) -> str:
    """Everything a Telegram user gets in a call: text, caption, callback answer, the files
    (named, hashed, and read when they are text)."""
    parts = [str(call.params.get(k) or "") for k in ("text", "caption", "photo", "document")]
    for upload in call.files.values():
        parts += [upload.filename, f"sha256:{hashlib.sha256(upload.data).hexdigest()}"]
        if upload.filename.endswith((".csv", ".txt")):
            parts.append(upload.data.decode("utf-8", "replace"))
    return "\n".join(p for p in parts if p)


class Tg:
    """One Telegram user: send, tap, read what came back."""

    def __init__(self, b: Boutik, chat: int, name: str) -> None:
        self.b, self.chat, self.name = b, chat, name

    def calls(self) -> list[Any]:
        return self.b.store.telegram_calls(chat_id=self.chat)

    def _post(self, update: dict[str, Any]) -> list[Any]:
        before = len(self.calls())
        assert post_telegram(self.b.client, update).status_code == 200
        drain(self.b)
        return self.calls()[before:]

    def say(self, words: str = "", **extra: Any) -> list[Any]:
        return self._post(telegram_message(self.chat, words, **extra))

    def tap(self, data: str) -> list[Any]:
        return self._post(telegram_callback(self.chat, data))

    def buttons(self) -> list[str]:
        """The callback_data of every button this chat received, newest first."""
        return [data for call in reversed(self.calls()) for _shown, data in buttons_of(call)]

    def button(self, prefix: str, label: str = "") -> str:
        """The newest button received that is `prefix` exactly, else that starts with it
        (and whose label contains `label`)."""
        found = [
            (data, shown)
            for call in reversed(self.calls())
            for shown, data in buttons_of(call)
            if data.startswith(prefix) and label.lower() in shown.lower()
        ]
        for data, _shown in found:
            if data == prefix:
                return data
        if not found:
            raise AssertionError(f"{self.name} never received a {prefix!r} button {label!r}")
        return found[0][0]

    def press(self, prefix: str, label: str = "") -> list[Any]:
        """Tap a button this chat really received (see `button`)."""
        return self.tap(self.button(prefix, label))


class Wa:
    """One WhatsApp user; the ids of the menu she sees are kept (they are her buttons)."""

    def __init__(self, b: Boutik, number: str, name: str) -> None:
        self.b, self.number, self.name = b, number, name
        self.payloads: set[str] = set()

    @property
    def to(self) -> str:
        return f"whatsapp:{self.number}"

    def messages(self) -> list[Any]:
        return self.b.store.twilio_messages(to=self.to)

    def send(self, body: str = "", **extra: str) -> str:
        before = len(self.messages())
        form = whatsapp_form(self.number, body, **extra)
        assert post_twilio(self.b.client, WA, form).status_code == 200
        drain(self.b)
        self.harvest()
        return "\n".join(m.body for m in self.messages()[before:])

    def menu(self) -> list[tuple[str, str]]:
        """(id, label) of the menu her conversation is answering now."""
        with self.b.db.session() as s:
            conv = s.scalar(
                select(ConversationState).where(
                    ConversationState.channel == "whatsapp",
                    ConversationState.address == self.number,
                )
            )
            return [(c[0], c[1]) for c in (conv.data.get("menu") or [])] if conv else []

    def harvest(self) -> None:
        self.payloads.update(choice for choice, _label in self.menu())

    def pick(self, prefix: str, label: str = "") -> str:
        for choice, shown in self.menu():
            if choice.startswith(prefix) and label.lower() in shown.lower():
                return self.send("", ButtonPayload=choice, ButtonText=shown[:20])
        raise AssertionError(f"{self.name}: no {prefix!r} {label!r} in {self.menu()}")


# --- secrets -----------------------------------------------------------------------------------

_SEP = "[ \u00a0\u202f\u2009.,'-]?"


@dataclass(frozen=True)
class Secret:
    owner: str  # whose it is, for the report
    label: str  # what it is
    pattern: re.Pattern[str]

    def found(self, haystack: str) -> bool:
        return bool(self.pattern.search(haystack))


def _digits_pattern(digits: str, groups: Iterable[int]) -> str:
    out, at = [], 0
    for size in groups:
        out.append(re.escape(digits[at : at + size]))
        at += size
    return _SEP.join(out)


def phone_secret(owner: str, phone: str) -> Secret:
    """+224 621 23 45 67 in any spacing: E.164, national, grouped by 3 or by 2."""
    national = phone.removeprefix("+224")
    forms = {
        _digits_pattern(national, (3, 2, 2, 2)),
        _digits_pattern(national, (3, 3, 3)),
    }
    body = "|".join(f"(?:(?:\\+?224{_SEP})?(?:{f}))" for f in forms)
    return Secret(owner, f"phone {phone}", re.compile(f"(?<!\\d)(?:{body})(?!\\d)"))


def amount_secret(owner: str, amount: int, what: str) -> Secret:
    """1 060 000 GNF with normal, no-break or narrow spaces, dots, or none."""
    digits = str(amount)
    head = len(digits) % 3 or 3
    groups = [head] + [3] * ((len(digits) - head) // 3)
    pattern = _digits_pattern(digits, groups)
    return Secret(owner, f"{what} {amount} GNF", re.compile(f"(?<![\\d.,]){pattern}(?![\\d])"))


def pin_secret(owner: str, pin: str) -> Secret:
    pattern = _digits_pattern(pin, (3, 3)) if len(pin) == 6 else re.escape(pin)
    return Secret(owner, f"PIN {pin}", re.compile(f"(?<!\\d){pattern}(?!\\d)"))


def literal_secret(owner: str, label: str, value: str) -> Secret:
    return Secret(owner, label, re.compile(re.escape(value), re.IGNORECASE))


def file_secrets(owner: str, label: str, path: Path) -> list[Secret]:
    """A file sent as it is (its bytes' hash, see text_of) or linked to (its name)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return [
        literal_secret(owner, label, f"sha256:{digest}"),
        literal_secret(owner, label, path.stem),
    ]


# --- database snapshots -------------------------------------------------------------------------

SKIPPED_TABLES = ("inbound_messages", "outbox")  # always grow; outbox is judged by new rows
TABLES = [t.name for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _rows_sql(name: str) -> str:
    return (
        f"coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text) "
        f"FROM \"{name}\" x), '[]'::jsonb)::text"
    )


_DIGEST = text(" UNION ALL ".join(f"SELECT '{name}', md5({_rows_sql(name)})" for name in TABLES))

Snapshot = dict[str, str]  # table → its rows as JSON text (or their md5, for a digest)


def snapshot(engine: Engine, tables: Iterable[str] = TABLES) -> Snapshot:
    """Every row of these tables, as JSON text (one statement)."""
    names = list(tables)
    if not names:
        return {}
    query = " UNION ALL ".join(f"SELECT '{name}', {_rows_sql(name)}" for name in names)
    with engine.connect() as conn:
        return {name: rows for name, rows in conn.execute(text(query))}


def digest(engine: Engine) -> Snapshot:
    """An md5 of every table's rows as JSON: cheap to take after every replay. (JSON, not the
    rows' text form: a json column restored from jsonb reads back normalised.)"""
    with engine.connect() as conn:
        return {name: value for name, value in conn.execute(_DIGEST)}


def restore(engine: Engine, before: Snapshot, tables: Iterable[str]) -> None:
    """Put these tables back as they were in `before` (foreign keys off for the swap)."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in tables:
            conn.execute(text(f'DELETE FROM "{name}"'))
            conn.execute(
                text(
                    f'INSERT INTO "{name}" SELECT * FROM '
                    f'jsonb_populate_recordset(NULL::"{name}", CAST(:rows AS jsonb))'
                ),
                {"rows": before[name]},
            )


def max_outbox_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar_one())


def outbox_since(engine: Engine, after_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, user_id, kind, channel, address FROM outbox WHERE id > :id"),
            {"id": after_id},
        )
        return [dict(r._mapping) for r in rows]


# --- comparing two snapshots, without what belongs to the attacker -----------------------------


def _key(row: dict[str, Any]) -> Any:
    return row["id"] if "id" in row else (row.get("user_id"), row.get("role"))


# Columns of an attacker's own rows that still must not change by a replay: self-approval,
# self-reactivation. (The attacker's cart, language, conversation… may change.)
PROTECTED = {
    "users": ("is_active",),
    "couriers": ("status",),
    "shops": ("status",),
    "products": ("status",),
}


@dataclass
class Owners:
    """Who owns which row, read from both snapshots (a row may exist in only one)."""

    carts: dict[int, int] = field(default_factory=dict)
    orders: dict[int, int] = field(default_factory=dict)
    shops: dict[int, int] = field(default_factory=dict)
    products: dict[int, int] = field(default_factory=dict)
    threads: dict[int, int] = field(default_factory=dict)
    returns: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, *tables: dict[str, list[dict[str, Any]]]) -> Owners:
        o = cls()
        for t in tables:
            o.carts.update({r["id"]: r["user_id"] for r in t["carts"]})
            o.orders.update({r["id"]: r["buyer_id"] for r in t["orders"]})
            o.shops.update({r["id"]: r["owner_id"] for r in t["shops"]})
            o.threads.update({r["id"]: r["buyer_id"] for r in t["support_threads"]})
            o.returns.update({r["id"]: r["buyer_id"] for r in t["returns"]})
        for t in tables:
            o.products.update({r["id"]: o.shops.get(r["shop_id"], 0) for r in t["products"]})
        return o

    def owner(self, table: str, row: dict[str, Any]) -> int | None:
        """The user a row belongs to, as far as a replay by that user may change it."""
        direct = {
            "users": "id",
            "addresses": "user_id",
            "carts": "user_id",
            "channel_identities": "user_id",
            "conversation_states": "user_id",
            "couriers": "user_id",
            "shops": "owner_id",
            "orders": "buyer_id",
            "loyalty_entries": "user_id",
            "reviews": "buyer_id",
            "returns": "buyer_id",
            "support_threads": "buyer_id",
            "job_offers": "courier_id",
            "favourites": "user_id",  # a visible product she favourites for herself
        }
        if table in direct:
            return row.get(direct[table])
        if table == "user_roles":
            return row["user_id"] if row["role"] != "admin" else None
        if table == "cart_items":
            return self.carts.get(row["cart_id"])
        if table in ("order_items", "delivery_codes", "order_status_changes"):
            return self.orders.get(row["order_id"])
        if table in ("products",):
            return self.products.get(row["id"])
        if table in ("product_photos", "promotions"):
            return self.products.get(row["product_id"])
        if table == "thread_messages":
            return self.threads.get(row["thread_id"])
        if table in ("return_items", "refunds"):
            return self.returns.get(row["return_id"])
        if table == "reports":  # a public product reported: the reporter's own row
            return row["reporter_id"] if row.get("product_id") else None
        return None


def _short(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= 40 else shown[:37] + "…"


Row = dict[str, Any]


def _row_change(
    table: str, key: Any, old: Row | None, new: Row | None, cols: Iterable[str] = ()
) -> str:
    if old is None:
        assert new is not None
        return f"{table}#{key} created {_short({k: new[k] for k in list(new)[:6]})}"
    if new is None:
        return f"{table}#{key} deleted"
    changed = [c for c in (cols or new) if old.get(c) != new.get(c)]
    return f"{table}#{key}: " + ", ".join(
        f"{c} {_short(old.get(c))}→{_short(new.get(c))}" for c in changed
    )


OWNERSHIP = ("carts", "orders", "shops", "support_threads", "returns", "products")


def changes(before: Snapshot, after: Snapshot, attacker: int) -> list[str]:
    """What changed between two snapshots of the same tables that the attacker does not own.

    Both must hold the tables that say who owns what (OWNERSHIP), changed or not.
    """
    touched = [name for name in after if before[name] != after[name]]
    old = {name: json.loads(before[name]) for name in after}
    new = {name: json.loads(after[name]) for name in after}
    owners = Owners.of(old, new)
    found: list[str] = []
    for name in touched:
        was = {_key(r): r for r in old[name]}
        now = {_key(r): r for r in new[name]}
        for key in sorted(set(was) | set(now), key=repr):
            a, z = was.get(key), now.get(key)
            if a == z:
                continue
            mine = owners.owner(name, a or z or {}) == attacker
            if mine:
                cols = PROTECTED.get(name, ())
                if a and z and any(a.get(c) != z.get(c) for c in cols):
                    found.append(_row_change(name, key, a, z, cols) + " (their own)")
                continue
            found.append(_row_change(name, key, a, z))
    return found


def set_conversation(engine: Engine, row_id: int, saved: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE conversation_states SET flow = :flow, state = :state, "
                "data = CAST(:data AS json), human_mode = :human_mode WHERE id = :id"
            ),
            {**saved, "data": json.dumps(saved["data"]), "id": row_id},
        )


def conversation_of(engine: Engine, channel: str, address: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT id, flow, state, data, human_mode FROM conversation_states "
                "WHERE channel = :channel AND address = :address"
            ),
            {"channel": channel, "address": address},
        ).one()
        return dict(row._mapping)


def user_id_of(engine: Engine, *, telegram_id: int | None = None, phone: str = "") -> int:
    with engine.connect() as conn:
        stmt = select(User.id).where(
            User.telegram_id == telegram_id if telegram_id is not None else User.phone == phone
        )
        found = conn.execute(stmt).scalar_one()
        return int(found)
