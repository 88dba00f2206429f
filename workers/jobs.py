"""RQ job functions: module level, the runtime first and then ids, fresh state every time.

The runtime is handed in by whoever runs the job (`workers.runner.RuntimeWorker` under RQ,
`InProcessDispatcher` without Redis); only the ids travel through Redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.ports import Runtime


def deliver_outbox(rt: Runtime, outbox_id: int) -> str:
    from workers.outbox import deliver

    return deliver(rt, outbox_id)


def deliver_outbox_batch(rt: Runtime, outbox_ids: list[int]) -> list[str]:
    """Send rows one after the other, in the order given (a turn's replies stay in order).

    Claimed and recorded together (`workers.outbox.deliver_batch`): a few database round trips
    per batch rather than several per row.
    """
    from workers.outbox import deliver_batch

    return deliver_batch(rt, outbox_ids)


def sweep_outbox(rt: Runtime) -> int:
    from workers.outbox import sweep

    ids = sweep(rt)
    rt.dispatcher.dispatch(ids)
    return len(ids)
