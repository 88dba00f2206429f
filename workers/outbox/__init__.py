"""Delivering outbox rows: claim, choose channel and content, pace, send, record.

Idempotent per outbox id: the claim is a conditional UPDATE (pending → sending), so a job run
twice, or by two workers, sends once. The provider call happens outside any transaction; its
outcome is written in a second one. Retries with backoff for what can succeed later (429 with
its retry_after, 5xx, timeouts, Twilio 20429/63018, Meta 130429/131056); terminal errors end the
row with their reason and are acted on (opted out, blocked; outside the WhatsApp window, Twilio
63016 or Meta 131047 → the approved template, else SMS).

The package, by concern (this module only re-exports; `workers.outbox.deliver`,
`deliver_batch`, `sweep`, `replay` and `record_status` are the entry points everyone imports):

- `rows` — the row's lifecycle: claim a batch, record sends, failures and retries, sweep rows a
  dead worker left "sending", replay; `statuses` — provider status callbacks and their ranks;
- `lease` — a job's hold on its claimed rows: heartbeat, pacing, batched records, release;
- `routing` — which channel and content: preferred channel, the 24 h window, templates, SMS;
- `providers` — one sender per provider behind `providers.base.ProviderSender`: `twilio`
  (WhatsApp, SMS and SMS part resume), `meta` (WhatsApp through the Cloud API, when
  `[whatsapp] provider = "meta"`), `telegram` (including Telegram file ids);
- `batch` — the job body that strings them together, several recipients at a time;
- `plan` — the `Plan` that routing writes and a provider sender executes.

Patch a setting where it is read (`workers.outbox.lease.HEARTBEAT_S`, `...batch.SEND_THREADS`),
not here: the names below are copies.
"""

from __future__ import annotations

from workers.outbox.batch import SEND_THREADS, deliver, deliver_batch
from workers.outbox.lease import (
    DB_RETRY_S,
    FLUSH_ROWS,
    FLUSH_S,
    HEARTBEAT_S,
    Lease,
    LeaseLost,
    db_retry,
    pace,
)
from workers.outbox.plan import INTERRUPTED, Plan
from workers.outbox.providers.telegram import TELEGRAM_FILE
from workers.outbox.routing import WINDOW, plan_for, preferred_channel
from workers.outbox.rows import BACKOFF_S, MAX_ATTEMPTS, claim, claim_batch, replay, sweep
from workers.outbox.statuses import ROW_RANK, STATUS_OF, STATUS_RANK, record_status

__all__ = [
    "BACKOFF_S",
    "DB_RETRY_S",
    "FLUSH_ROWS",
    "FLUSH_S",
    "HEARTBEAT_S",
    "INTERRUPTED",
    "MAX_ATTEMPTS",
    "ROW_RANK",
    "SEND_THREADS",
    "STATUS_OF",
    "STATUS_RANK",
    "TELEGRAM_FILE",
    "WINDOW",
    "Lease",
    "LeaseLost",
    "Plan",
    "claim",
    "claim_batch",
    "db_retry",
    "deliver",
    "deliver_batch",
    "pace",
    "plan_for",
    "preferred_channel",
    "record_status",
    "replay",
    "sweep",
]
