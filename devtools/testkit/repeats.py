"""Nothing said twice: what fails an end-to-end test that tells one person the same thing twice.

Two rules, checked on the outbox rows a test leaves (every message the app sent passes there):

1. One inbound message brings one person two messages from the same catalog key, or the same
   question twice (the same buttons). The turn is the transaction the web edge committed: its
   rows are what `Runtime.after_commit` was handed (`watch` records them). A message's catalog
   keys are found in its rendered text (`keys_in`): a reply carries its text in the row, a
   notification is rendered again here, in a transaction rolled back afterwards.
2. One notification kind about one object (its `*_id` parameters) reaches one person twice,
   over the whole test.

What is legitimately said twice is listed below with the reason, never skipped silently.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import i18n
from bot.messages import AskContact, AskLocation, Choices, Document, Image, Reply, Text
from bot.messages import reply_from_json as _reply_from_json
from bot.notifications import render_notification
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.notices import Notice
from commerce.users.models import User

# Catalog keys one turn may legitimately say twice to one person, and why.
ALLOWED_KEYS: dict[str, str] = {}
# Notification kinds that may reach one person twice about one object, and why.
ALLOWED_KINDS: dict[str, str] = {}
# A template with fewer literal characters than this says too little to be recognised
# ("{price_gnf}", "Oui") and would match any message.
MIN_LITERAL = 12
# A template this short with no field is a label: a button, a menu row, a list button.
LABEL_MAX = 40
_FIELD = re.compile(r"\{[a-z_0-9]*\}")


class _Runtime(Protocol):
    def after_commit(self, ids: list[int], events: list[Any]) -> None: ...


@dataclass(frozen=True)
class Said:
    """One message as its recipient read it."""

    row_id: int
    user_id: int
    kind: str
    text: str
    choice_ids: tuple[str, ...]


def watch(rt: _Runtime) -> list[list[int]]:
    """Record each committed turn's outbox ids (replies and notifications): returns the list the
    runtime's `after_commit` appends to from now on."""
    turns: list[list[int]] = []
    original: Callable[[list[int], list[Any]], None] = rt.after_commit

    def after_commit(ids: list[int], events: list[Any]) -> None:
        turns.append(list(ids))
        original(ids, events)

    rt.after_commit = after_commit  # type: ignore[method-assign]
    return turns


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    found: list[tuple[str, re.Pattern[str]]] = []
    for lang in i18n.LANGUAGES:
        for key, template in i18n.catalog(lang).items():
            literal = _FIELD.split(template)
            if sum(len(part.strip()) for part in literal) < MIN_LITERAL:
                continue
            body = ".+?".join(re.escape(part) for part in literal)
            if len(literal) == 1 and len(template) <= LABEL_MAX:
                # A label ("Mes commandes") is that label when it is a whole line (a button, a
                # menu row), not when a sentence names it ("Voyez « Mes commandes »").
                body = rf"^\s*(?:\d+\.\s*)?{body}\s*$"
            found.append((key, re.compile(body, re.DOTALL | re.MULTILINE)))
    return tuple(found)


def keys_in(text: str) -> set[str]:
    """The catalog keys (either language) whose sentence appears in `text`; a short label only
    where it stands on its own line."""
    return {key for key, pattern in _patterns() if pattern.search(text)}


def _texts(reply: Reply) -> tuple[str, tuple[str, ...]]:
    if isinstance(reply, Choices):
        labels = "\n".join(c.label for c in reply.choices)
        return f"{reply.text}\n{labels}", tuple(c.id for c in reply.choices)
    if isinstance(reply, Text | AskLocation | AskContact):
        return reply.text, ()
    if isinstance(reply, Image | Document):
        return reply.caption, ()
    return "", ()


def _said(session: Session, row: Outbox) -> Said | None:
    if row.user_id is None:
        return None
    params = (row.payload or {}).get("params") or {}
    if row.kind == Notice.REPLY:
        data = params.get("reply")
        if not isinstance(data, dict):
            return None
        reply = _reply_from_json(data)
    else:
        user = session.get(User, row.user_id)
        lang = user.language.value if user is not None else i18n.DEFAULT
        reply = render_notification(session, user, row.kind, params, lang)
    text, choice_ids = _texts(reply)
    return Said(row.id, row.user_id, row.kind, text, choice_ids)


def _object(row: Outbox) -> tuple[tuple[str, Any], ...]:
    params = (row.payload or {}).get("params") or {}
    return tuple(sorted((k, v) for k, v in params.items() if k.endswith("_id")))


def problems(factory: sessionmaker[Session], turns: Iterable[list[int]]) -> list[str]:
    """What the test's messages said twice, one line each; [] when nothing was."""
    found: list[str] = []
    session = factory()
    try:
        rows = {
            r.id: r
            for r in session.scalars(
                select(Outbox).where(Outbox.status != OutboxStatus.SKIPPED).order_by(Outbox.id)
            )
        }
        for ids in turns:
            said = [s for i in ids if i in rows and (s := _said(session, rows[i])) is not None]
            by_user: dict[int, list[Said]] = defaultdict(list)
            for s in said:
                by_user[s.user_id].append(s)
            for user_id, messages in by_user.items():
                if len(messages) < 2:
                    continue
                keys = Counter(k for m in messages for k in keys_in(m.text))
                for key, n in sorted(keys.items()):
                    if n > 1 and key not in ALLOWED_KEYS:
                        texts = " | ".join(m.text.replace("\n", " ")[:80] for m in messages)
                        found.append(f"user {user_id} got {key!r} {n}× in one turn: {texts}")
                asked = Counter(m.choice_ids for m in messages if m.choice_ids)
                for choice_ids, n in asked.items():
                    if n > 1:
                        found.append(
                            f"user {user_id} was asked the same question {n}× in one turn "
                            f"(buttons {', '.join(choice_ids[:3])}…)"
                        )
        told: Counter[tuple[int, str, tuple[tuple[str, Any], ...]]] = Counter(
            (r.user_id, r.kind, _object(r))
            for r in rows.values()
            if r.user_id is not None and r.kind != Notice.REPLY and _object(r)
        )
        for (user_id, kind, obj), n in sorted(told.items(), key=repr):
            if n > 1 and kind not in ALLOWED_KINDS:
                found.append(f"user {user_id} was told {kind} about {dict(obj)} {n}×")
    finally:
        session.rollback()
        session.close()
    return found
