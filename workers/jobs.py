"""RQ job functions: module level, ids only, fresh state from the database every time."""

from __future__ import annotations

from workers.context import runtime


def deliver_outbox(outbox_id: int) -> str:
    from workers.outbox import deliver

    return deliver(runtime(), outbox_id)


def sweep_outbox() -> int:
    from workers.outbox import sweep

    rt = runtime()
    ids = sweep(rt)
    rt.dispatcher.dispatch(ids)
    return len(ids)
