"""After-commit events: work the core asks to start once its transaction is saved.

Why not an outbox row: nobody is told anything yet — a published job must start the courier
offer waves, which are scheduled jobs. The core must not know about RQ, so an action only
records `("job_published", job_id, round)` in the session; the edge that owns the transaction
(`channels_adapters.turns.run_turn`) takes the list after commit and hands it to the worker
layer (`workers.events.start`).

A savepoint rolled back after an event was recorded leaves the event in the list: every job
started from an event therefore reloads its rows and checks they still say what the event
claimed (an offer wave stops on a job that is missing, not open, or of another round).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

_key = "boutik_after_commit_events"


@dataclass(frozen=True)
class Event:
    name: str  # past tense: "job_published"
    args: tuple[int, ...]  # ids only: jobs reload fresh state


def record(session: Session, name: str, *args: int) -> None:
    """Remember `name(*args)` to start after this session's transaction commits."""
    session.info.setdefault(_key, []).append(Event(name, tuple(args)))


def take_events(session: Session) -> list[Event]:
    """Events recorded by this session since the last call (read after commit)."""
    return session.info.pop(_key, [])
