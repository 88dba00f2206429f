"""Support questions answered in a worker: the model call never runs inside a webhook.

`answer_support_question` takes ids only (the question waits in the conversation's data under
a reference number), reloads everything, and is idempotent: the pending question is cleared in
the same transaction that writes the reply, so a retried job finds nothing left to do.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot import language
from bot.flow import Context
from bot.handoff_flow import hand_off_to_human, order_in_context
from bot.messages import InboundMessage, Reply, Text, reply_to_json
from bot.support.agent import answer
from bot.support.handlers import with_codes
from bot.support.retrieval import SupportAnswer
from bot.support.scoped import ScopedReader
from commerce import clock
from commerce.db import unit_of_work
from commerce.messaging.models import ConversationState, Outbox, OutboxStatus
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, take_pending_ids
from commerce.users.models import User
from workers.dispatch import slow_job

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)

# How long an answer waits for the turn's own replies ("Je regarde…") to leave first. They
# normally leave in well under a second; the bound only keeps a stuck row from holding it.
ORDER_WAIT_S = 15.0
ORDER_POLL_S = 0.1
# Only the conversation's recent replies count: an old row left pending is the sweeper's.
ORDER_WINDOW = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Question:
    """The parked question as plain values: nothing of the session that read it survives."""

    text: str
    lang: str
    handoff: bool
    history: list[dict[str, str]]
    misses: int


def _pending(conv: ConversationState | None, user_id: int, ref: int) -> dict[str, Any] | None:
    if conv is None or conv.user_id != user_id or conv.human_mode:
        return None
    pending = (conv.data.get("support") or {}).get("pending")
    return pending if isinstance(pending, dict) and pending.get("ref") == ref else None


def question_lang(pending: dict[str, Any], stored: str) -> str:
    """The question's language: as the turn recorded it, else read from the words, else the
    buyer's stored one ("How long do I have to return it?" is answered in English)."""
    lang = pending.get("lang")
    if lang in ("fr", "en"):
        return str(lang)
    return language.detect(str(pending.get("text", ""))) or stored


def _load(rt: Runtime, user_id: int, conversation_id: int, ref: int) -> Question | None:
    """Read the parked question and end that transaction before anything slow happens."""
    with rt.session_factory() as session:
        conv = session.get(ConversationState, conversation_id)
        pending = _pending(conv, user_id, ref)
        user = session.get(User, user_id)
        if pending is None or user is None or conv is None:
            return None
        support = conv.data.get("support") or {}
        question = Question(
            text=str(pending.get("text", "")),
            lang=question_lang(pending, user.language.value),
            handoff=bool(pending.get("handoff")),
            history=[dict(t) for t in support.get("history") or []],
            misses=int(support.get("misses", 0)),
        )
        session.rollback()
    return question


@slow_job
def answer_support_question(
    rt: Runtime, user_id: int, conversation_id: int, question_ref: int
) -> str:
    """Answer the parked question `question_ref` of the conversation, then reply or hand off.

    Why three short transactions and not one: on SQLite every transaction holds the database's
    write lock (BEGIN IMMEDIATE), and a model may think for 45 s; holding it across the call
    made every other buyer's message wait 5 s and fail. So the question is copied out and its
    transaction ended, each tool read ends its own (`end_each_read`), and the reply is written
    in a transaction of its own after the call.
    """
    question = _load(rt, user_id, conversation_id, question_ref)
    if question is None:
        return "nothing to do"
    if question.handoff:
        result = SupportAnswer("", handoff=True)  # the turn already told the buyer
    else:
        with rt.session_factory() as session:
            reader = ScopedReader(session, user_id, lang=question.lang, end_each_read=True)
            result = answer(
                session,
                user_id=user_id,
                text=question.text,
                lang=question.lang,
                config=rt.config,
                history=question.history,
                misses=question.misses,
                reader=reader,
            )
            session.rollback()  # read-only: end whatever the fallback read before writing
    with unit_of_work(rt.session_factory) as session:
        conv = session.get(ConversationState, conversation_id)
        if _pending(conv, user_id, question_ref) is None or conv is None:
            return "already answered"
        support = dict(conv.data.get("support") or {})
        support.pop("pending", None)
        support["history"] = list(result.history)
        support["misses"] = int(support.get("misses", 0)) + 1 if result.missed else 0
        conv.data = {**conv.data, "support": support}
        if result.order_id is not None:  # the order in context: a hand-off goes to its seller
            conv.data = {**conv.data, "order": result.order_id}
        for reply in _replies(rt, session, conv, result, question.lang):
            notify(
                session,
                user_id=user_id,
                kind=Notice.REPLY,
                params={"reply": reply_to_json(reply)},
                essential=True,  # the user asked: answers go even after STOP
                channel=conv.channel,
                address=conv.address,
            )
        if result.handoff:
            support["misses"] = 0
            conv.data = {**conv.data, "support": support}
            _hand_off(session, conv, user_id, reason=question.text, to_admin=result.to_admin)
        session.flush()
        ids = take_pending_ids(session)
    if ids:
        after_earlier_rows(rt, user_id, min(ids))
    rt.dispatcher.dispatch(ids)
    return f"answered ({result.source}{', handoff' if result.handoff else ''})"


def after_earlier_rows(rt: Runtime, user_id: int, first_id: int) -> bool:
    """Wait (bounded) until no earlier row to this user is waiting to leave or leaving.

    Why: the turn's replies ("Je regarde…") and this answer are separate sends, run by separate jobs
    (threads in-process, RQ workers elsewhere) that only keep order within one batch; a model
    answering at once could overtake the acknowledgement. Only recent replies count; a row
    held for later on purpose (not yet due, never tried) or failing and retrying later, and
    every notification, do not hold the answer back.
    Returns False when it gave up waiting.
    """
    deadline = time.monotonic() + ORDER_WAIT_S
    while True:
        with rt.session_factory() as session:
            waiting = session.scalar(
                select(Outbox.id)
                .where(
                    Outbox.user_id == user_id,
                    Outbox.id < first_id,
                    Outbox.kind == Notice.REPLY.value,
                    Outbox.created_at >= clock.now() - ORDER_WINDOW,
                    or_(
                        Outbox.status == OutboxStatus.SENDING,
                        and_(
                            Outbox.status == OutboxStatus.PENDING,
                            Outbox.attempts == 0,
                            Outbox.next_attempt_at <= clock.now(),
                        ),
                    ),
                )
                .limit(1)
            )
            session.rollback()
        if waiting is None:
            return True
        if time.monotonic() >= deadline:
            log.warning("answer %s sent before earlier row %s still waiting", first_id, waiting)
            return False
        time.sleep(ORDER_POLL_S)


def _replies(
    rt: Runtime, session: Session, conv: ConversationState, result: SupportAnswer, lang: str
) -> list[Reply]:
    """The answer's text, and her QR and PIN again when the (offline) answer re-sends codes,
    through the same path as the turn (`bot.support.handlers.with_codes`)."""
    replies: list[Reply] = [Text(result.text)] if result.text else []
    user = session.get(User, conv.user_id) if result.resend_codes else None
    if user is None:
        return replies
    ctx = Context(
        session=session,
        user=user,
        conv=conv,
        inbound=InboundMessage(
            provider="worker", external_id="", channel=conv.channel, address=conv.address
        ),
        data=copy.deepcopy(conv.data),
        public_base_url=rt.config.web.public_base_url,
        media_dir=rt.config.media_dir,
    )
    replies = with_codes(ctx, replies, result, lang)
    conv.data = ctx.data  # what showing the code remembered (the order in context)
    return replies


def _hand_off(
    session: Session,
    conv: ConversationState,
    user_id: int,
    *,
    reason: str,
    to_admin: bool = False,
) -> None:
    """To a person: the seller of the order concerned, else an admin (`bot.handoff_flow`);
    an admin at once when the seller or the courier is the trouble (`to_admin`)."""
    hand_off_to_human(
        session,
        buyer_id=user_id,
        channel=conv.channel,
        address=conv.address,
        reason=reason,
        tell_buyer=False,  # the reply written above (or by the turn) already told them
        order_id=order_in_context(conv.data),
        to_admin=to_admin,
    )


def warm_up(rt: Runtime) -> float | None:
    """At the start of a process that answers questions (`boutik worker`, the embedded
    `boutik serve`): import the job modules and build the model's client and compiled agents
    now, so the first buyer's question does not pay for them (`bot.support.agent.warm_up`).
    Never raises; None when no model is configured."""
    from bot.support.agent import warm_up as prepare
    from workers.events import _jobs

    try:
        _jobs()  # the job modules themselves (this one, exports, offers…)
    except Exception:
        log.exception("job modules failed to import at start-up")
    return prepare(rt.config)
