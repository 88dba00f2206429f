"""Benchmark #2 on Meta — one queue worker draining the outbox on `[whatsapp] provider = "meta"`,
against a bare HTTP loop POSTing the same bodies to the same Graph API emulator.

Why: as `bench.outbound_drain` asks of the Twilio path, Boutik must be fast enough that Meta,
not our code, is the ceiling. The worker claims the row, routes it (24 h window, templates),
renders it for the Cloud API (`channels_adapters.meta_render`), paces it on the shared Redis
limiter (`meta:<phone-number-id>`), sends it through `MetaSender` and records the outcome, plus
RQ's own bookkeeping; the bare loop only POSTs a prepared JSON body with a `requests.Session`
(the HTTP client MetaSender uses). The ratio says how much of the bare speed survives.

Set-up (all on this machine, loopback), as `bench.outbound_drain`'s:
- The emulators in their own process (`bench.emulator_proc`), the Graph API under ``/meta``.
- World: N buyers inside the 24 h window, one `order_accepted` notification each
  (`bench.outbound_drain.build_world`), so the worker sends a free-form text. PostgreSQL db
  `bench_out` (truncated), Redis db 11 (flushed).
- Worker: one real `boutik worker` process configured for Meta, warmed up (W rows) before
  timing. Timed: enqueue the N ids as the web process does after commit until the database says
  all N are sent. The Graph API has no list of sent messages (and the emulator process serves
  no Meta count), so the drain ends when the rows are recorded "sent": the worker is timed up
  to its own bookkeeping, a little to its disadvantage. Meta's pacing is set to 100 000/s so it
  is not the ceiling (one Redis reservation per message still happens).
- Baseline: in this process, a `requests.Session` POSTing the body the worker sends for such a
  row (same headers, same JSON) to the same emulator, N sends after W warm-up sends, before and
  after the worker; the mean is the baseline. The same sends from
  `workers.outbox.SEND_THREADS` threads are a second reference (the worker sends to that many
  recipients at once).

Figure: worker messages/s ÷ bare messages/s. Target ≥ 0.7, as for Twilio.

Needs: createdb -h 127.0.0.1 -U postgres bench_out; Redis on 127.0.0.1:6379.
Reproduce:
    .venv/bin/python -m bench.outbound_drain_meta
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import requests
from rq import Worker
from sqlalchemy import func, select

from bench import emulator_proc
from bench.loadgen import boutik_env, stop_process
from bench.outbound_drain import (
    DB_URL,
    REDIS_URL,
    build_world,
    count_sent,
    loop_rate,
    parse_args,
    pool_rate,
    print_figures,
    start_worker,
    timed_drain,
    wait_until,
)
from bot import i18n
from bot.messages import Text
from channels_adapters.meta_render import render_meta
from commerce.messaging.models import Outbox
from devtools.testkit.db import open_db
from devtools.testkit.meta_webhooks import (
    META_APP_SECRET,
    META_PHONE_NUMBER_ID,
    META_TOKEN,
    META_VERSION,
    META_WABA_ID,
)
from devtools.testkit.webhooks import PUBLIC
from workers import outbox as outbox_worker
from workers.dispatch import RQDispatcher


def overlay(emulator_url: str) -> Path:
    """The worker's config file: WhatsApp through Meta at the emulator, limits out of the way."""
    path = Path(tempfile.mkdtemp(prefix="bench-out-meta-")) / "boutik.toml"
    path.write_text(
        f"""
[web]
public_base_url = "{PUBLIC}"
[whatsapp]
provider = "meta"
[meta]
phone_number_id = "{META_PHONE_NUMBER_ID}"
waba_id = "{META_WABA_ID}"
graph_version = "{META_VERSION}"
api_base_url = "{emulator_url}/meta"
rate_per_s = 100000.0
[twilio]
api_base_url = "{emulator_url}"
whatsapp_rate_per_s = 100000.0
sms_segments_per_s = 100000.0
[telegram]
api_base_url = "{emulator_url}/telegram/bot"
rate_per_s = 100000.0
rate_per_chat_per_s = 100000.0
[media]
dir = "{path.parent / "media"}"
"""
    )
    return path


def body(to: str, order_id: int) -> dict[str, Any]:
    """What the worker POSTs for buyer `to`'s `order_accepted` notification."""
    text = i18n.t("fr", "notify.order_accepted", order_id=order_id)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        **render_meta(Text(text), lang="fr", media_url=str),
    }


def _poster(emulator_url: str) -> Any:
    session = requests.Session()
    session.trust_env = False
    url = f"{emulator_url}/meta/{META_VERSION}/{META_PHONE_NUMBER_ID}/messages"
    headers = {"Authorization": f"Bearer {META_TOKEN}"}

    def send(to: str, order_id: int) -> None:
        response = session.post(url, json=body(to, order_id), headers=headers, timeout=10)
        response.raise_for_status()
        if not response.json()["messages"][0]["id"]:  # read the wamid, as MetaSender does
            raise RuntimeError("the Graph emulator answered without a message id")

    return send


def bare_loop(emulator_url: str, n: int, warmup: int, offset: int) -> float:
    """Messages/s of a bare requests.Session loop to the Graph emulator (after a warm-up)."""
    send = _poster(emulator_url)
    return loop_rate(lambda i: send(f"+22463{offset + i:07d}", i), n, warmup)


def bare_threaded(emulator_url: str, n: int, threads: int, offset: int) -> float:
    """The same sends from `threads` threads sharing one session."""
    send = _poster(emulator_url)
    warmup = range(threads * 5)
    timed = range(threads * 5, threads * 5 + n)
    return pool_rate(lambda i: send(f"+22464{offset + i:07d}", i), threads, warmup, timed)


def main() -> None:
    args = parse_args(__doc__)
    n, warm = args.messages, args.warmup

    t_setup = time.monotonic()
    ids = build_world(warm + n)
    print(f"world: {warm + n} buyers and outbox rows in {time.monotonic() - t_setup:.1f} s")
    conn = redis.Redis.from_url(REDIS_URL)
    conn.flushdb()
    emu, emu_url = emulator_proc.start()
    worker = None
    config_path: Path | None = None
    db = open_db(DB_URL)
    try:
        bare_before = bare_loop(emu_url, n, warm, offset=0)
        print(f"bare HTTP loop (before): {bare_before:.1f} msg/s")

        config_path = overlay(emu_url)
        env = boutik_env(
            DB_URL,
            REDIS_URL,
            config_path,
            META_WHATSAPP_TOKEN=META_TOKEN,
            META_APP_SECRET=META_APP_SECRET,
            META_VERIFY_TOKEN="bench-verify-token",
        )
        worker = start_worker(env, args.worker_log)
        wait_until(lambda: len(Worker.all(connection=conn)) >= 1, 30, "the worker to register")
        drain = timed_drain(
            RQDispatcher(REDIS_URL),
            ids,
            warm,
            lambda: count_sent(db),
            args.timeout,
            worker.pid,
            emu.pid,
        )
        print(
            f"worker drain: {n} messages in {drain.seconds:.2f} s = {n / drain.seconds:.1f} msg/s"
        )
        with db.session() as s:
            statuses = dict(
                s.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
            )
            wamids = s.scalar(select(func.count(func.distinct(Outbox.provider_message_id))))
        stop_process(worker)
        worker = None

        bare_after = bare_loop(emu_url, n, warm, offset=100_000)
        print(f"bare HTTP loop (after): {bare_after:.1f} msg/s")
        threads = outbox_worker.SEND_THREADS
        bare_thr = bare_threaded(emu_url, n, threads, offset=200_000)
        print(f"bare HTTP sends from {threads} threads (reference): {bare_thr:.1f} msg/s")
    finally:
        if worker is not None:
            stop_process(worker)
        stop_process(emu)
        db.engine.dispose()
        conn.flushdb()
        if config_path is not None:
            shutil.rmtree(config_path.parent, ignore_errors=True)

    print_figures(
        bare_name="bare HTTP loop",
        bare_before=bare_before,
        bare_after=bare_after,
        bare_threads=bare_thr,
        threads=threads,
        drain=drain,
        n=n,
        warm=warm,
        statuses=statuses,
        check=f"distinct wamids on {warm + n} rows: {wamids}",
        ratio_name="RATIO worker/bare (Meta)",
        module="bench.outbound_drain_meta",
    )


if __name__ == "__main__":
    main()
