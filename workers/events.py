"""Starting the jobs the core asked for after a commit (`commerce.messaging.events`).

Called by the edge that committed the transaction. Never fails the caller: a queue that cannot
be reached is logged: the job stays open and the sweeper starts its waves from the database
(`workers.offers.sweep_offers`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from commerce.messaging.events import Event

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)


def _jobs() -> dict[str, Callable[..., tuple[Any, ...]]]:
    """Event name → (job function, *its arguments) built from the event's ids."""
    from workers.assistant import answer_support_question
    from workers.exports import build_export
    from workers.offers import offer_open_jobs, offer_wave
    from workers.seller_charts import send_seller_chart  # matplotlib loads only in the job

    return {
        "job_published": lambda job_id, offer_round: (offer_wave, job_id, 1, offer_round),
        "courier_available": lambda user_id: (offer_open_jobs, user_id),
        "support_question": lambda *ids: (answer_support_question, *ids),
        "export_requested": lambda admin_id, kind: (build_export, admin_id, kind),
        "stats_requested": lambda *ids: (send_seller_chart, *ids),
    }


def start(rt: Runtime, events: list[Event]) -> None:
    if not events:
        return
    jobs = _jobs()
    for event in events:
        make = jobs.get(event.name)
        if make is None:
            log.warning("no job for event %s", event.name)
            continue
        fn, *args = make(*event.args)
        try:
            rt.dispatcher.enqueue(fn, *args)
        except Exception:  # the webhook is answered anyway; the loss is logged
            log.exception("could not start %s%r", event.name, event.args)
