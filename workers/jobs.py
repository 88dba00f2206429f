"""RQ job functions: module level, ids only, fresh state from the database every time."""

from __future__ import annotations

from workers.context import runtime


def deliver_outbox(outbox_id: int) -> str:
    from workers.outbox import deliver

    return deliver(runtime(), outbox_id)


def deliver_outbox_batch(outbox_ids: list[int]) -> list[str]:
    """Send rows one after the other, in the order given (a turn's replies stay in order).

    Claimed and recorded together (`workers.outbox.deliver_batch`): a few database round trips
    per batch rather than several per row.
    """
    from workers.outbox import deliver_batch

    return deliver_batch(runtime(), outbox_ids)


def sweep_outbox() -> int:
    from workers.outbox import sweep

    rt = runtime()
    ids = sweep(rt)
    rt.dispatcher.dispatch(ids)
    return len(ids)
