"""The sweeper's cash step: couriers over a `[ledger]` threshold are told, once per crossing.

The rule lives in the core (`commerce.ledger.actions.sweep_cash_alerts`); this job only owns
the transaction and hands the outbox rows it wrote to the dispatcher after commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commerce.db import unit_of_work
from commerce.ledger.actions import sweep_cash_alerts
from commerce.messaging.outbox import take_pending_ids

if TYPE_CHECKING:
    from workers.ports import Runtime


def sweep_cash(rt: Runtime) -> int:
    with unit_of_work(rt.session_factory) as session:
        told = sweep_cash_alerts(session)
        ids = take_pending_ids(session)
    if ids:
        rt.dispatcher.dispatch(ids)
    return len(told)
