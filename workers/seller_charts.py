"""The seller's /stats chart, drawn by a worker and sent through the outbox.

Why a job: drawing the PNG takes seconds of matplotlib, and the first import of matplotlib adds
about 50 MB to the process (bench/RESULTS_soak.md). The /stats turn answers with the figures at
once and records `stats_requested(seller_id, conversation_id, ref)`, started here after the turn
commits (`workers.events`): RQ when Redis is configured, the in-process pool otherwise.
matplotlib is imported only inside `bot.seller.charts.draw_seller_chart`, so a web process that
only queues this job never loads it. (Without Redis the job runs on the in-process pool: the
single embedded process loads matplotlib with its first chart, off the request thread.)

Ids only, fresh state, idempotent: the outbox row carries `dedupe_key` `stats_chart:<seller>:<ref>`
(unique in the database), so a retry after the row was written sends nothing twice. A failure
before that is retried on the outbox's own schedule (5, 30, 120 s); after the last attempt the
seller is told to ask again and the error is raised, so RQ keeps the job in its failed registry.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot import i18n
from bot.messages import Image, Text, reply_to_json
from bot.seller.charts import CHART_PENDING_KEY, draw_seller_chart
from commerce.db import unit_of_work
from commerce.errors import CommerceError
from commerce.messaging.models import ConversationState, Outbox
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, take_pending_ids
from commerce.stats import seller_stats
from commerce.users.models import User
from workers.dispatch import slow_job

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)
RETRY_DELAYS_S = (5, 30, 120)  # as the outbox's Retry(max=3, interval=[5, 30, 120])


def _dedupe_key(seller_id: int, ref: int) -> str:
    return f"stats_chart:{seller_id}:{ref}"


@slow_job
def send_seller_chart(
    rt: Runtime, seller_id: int, conversation_id: int, ref: int, attempt: int = 1
) -> str:
    """Draw the seller's chart and queue it as a photo; retried on failure, then reported."""
    try:
        return _send(rt, seller_id, conversation_id, ref)
    except CommerceError as exc:
        # No longer a seller, or deactivated since asking: a retry would be refused again.
        log.info("chart for seller %s not drawn: %s", seller_id, exc)
        _finish(rt, conversation_id, ref)
        return "refused"
    except Exception:
        if attempt > len(RETRY_DELAYS_S):
            log.exception("chart for seller %s failed for good", seller_id)
            _finish(rt, conversation_id, ref, failed_seller_id=seller_id)
            raise
        delay = RETRY_DELAYS_S[attempt - 1]
        log.warning("chart for seller %s failed, retry in %s s", seller_id, delay, exc_info=True)
        rt.dispatcher.enqueue(
            send_seller_chart, seller_id, conversation_id, ref, attempt + 1, delay_s=delay
        )
        return "retry"


def _send(rt: Runtime, seller_id: int, conversation_id: int, ref: int) -> str:
    key = _dedupe_key(seller_id, ref)
    # Read, then draw with no transaction open: a DB connection is not held for seconds here
    # either.
    with rt.session_factory() as session:
        if session.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)) is not None:
            return "already sent"
        conv = session.get(ConversationState, conversation_id)
        if conv is None or conv.user_id != seller_id:
            return "nothing to do"
        figures = seller_stats(session, seller_id=seller_id)
        user = session.get(User, seller_id)
        lang = user.language.value if user is not None else "fr"
        session.rollback()
    relative = draw_seller_chart(
        figures, media_dir=rt.config.media_dir, user_id=seller_id, lang=lang
    )
    with unit_of_work(rt.session_factory) as session:
        conv = session.get(ConversationState, conversation_id, with_for_update=True)
        if conv is None:
            return "nothing to do"
        photo = Image(media_path=relative, caption=i18n.t(lang, "seller.stats.caption"))
        notify(
            session,
            user_id=seller_id,
            kind=Notice.REPLY,
            params={"reply": reply_to_json(photo)},
            essential=True,  # the seller asked: it goes even after STOP, as every reply does
            channel=conv.channel,
            address=conv.address,
            dedupe_key=key,
        )
        _clear_marker(conv, ref)
        ids = take_pending_ids(session)
    rt.dispatcher.dispatch(ids)
    return "sent"


def _clear_marker(conv: ConversationState, ref: int) -> None:
    """Let /stats queue a chart again, unless a newer request has replaced this one."""
    if conv.data.get(CHART_PENDING_KEY) == ref:
        conv.data = {k: v for k, v in conv.data.items() if k != CHART_PENDING_KEY}


def _finish(
    rt: Runtime, conversation_id: int, ref: int, *, failed_seller_id: int | None = None
) -> None:
    """Clear the pending marker; after the last failed attempt, tell the seller to ask again."""
    try:
        with unit_of_work(rt.session_factory) as session:
            conv = session.get(ConversationState, conversation_id, with_for_update=True)
            if conv is None:
                return
            _clear_marker(conv, ref)
            if failed_seller_id is not None and conv.user_id == failed_seller_id:
                user = session.get(User, failed_seller_id)
                lang = user.language.value if user is not None else "fr"
                notify(
                    session,
                    user_id=failed_seller_id,
                    kind=Notice.REPLY,
                    params={"reply": reply_to_json(Text(i18n.t(lang, "seller.stats.failed")))},
                    essential=True,
                    channel=conv.channel,
                    address=conv.address,
                )
            ids = take_pending_ids(session)
    except Exception:  # the marker expires by itself (CHART_PENDING_S)
        log.exception("could not clear the chart marker of conversation %s", conversation_id)
        return
    rt.dispatcher.dispatch(ids)
