"""Benchmark #2 — one queue worker draining the outbox, against a bare loop of the same SDK sends.

Why: Boutik must be fast enough that the providers, not our code, are the ceiling. The worker
does far more per message than a bare `Client.messages.create` — claim the row, pick channel
and content, pace on the shared Redis limiter, send, record the outcome, plus RQ's own job
bookkeeping — and this ratio says how much of the SDK's own speed survives all that.

Set-up (all on this machine, loopback):
- The Twilio emulator runs in its own process (`bench.emulator_proc`).
- World: N buyers (distinct +22462… numbers), each with a WhatsApp identity inside the 24 h
  window, each with one `order_accepted` notification written by
  `commerce.messaging.outbox.notify` (so the worker renders it, picks WhatsApp, sends free text).
  PostgreSQL db `bench_out` (truncated), Redis db 11 (flushed).
- Worker: one real `boutik worker` process (RQ SimpleWorker + scheduler + sweeper), started
  and warmed up (W rows) before timing. Timed: enqueue the N ids the way the web process does
  after commit (`RQDispatcher.dispatch`, batches of `workers.dispatch.BATCH`) until the
  emulator has accepted all N.
  Provider limits are set to 100 000/s so pacing is not the ceiling (it still runs: one Redis
  reservation per message).
- Baseline: in this process, a bare loop of `twilio.rest.Client.messages.create` (the same SDK
  and HTTP client class the worker uses) with the same arguments, to the same emulator, N sends
  after W warm-up sends. Run before and after the worker; the mean is the baseline.

Figure: worker messages/s ÷ bare messages/s. Target ≥ 0.7.
Also printed, for honesty: the worker sends to up to `workers.outbox.SEND_THREADS` recipients
at once, so the same sends from that many threads are measured as a second reference; and the
CPU the worker and emulator processes used per message (/proc), since on 2 cores the worker
shares them with PostgreSQL, Redis and the emulator while the bare loop shares them with the
emulator only.

Needs: createdb -h 127.0.0.1 -U postgres bench_out; Redis on 127.0.0.1:6379.
Reproduce:
    .venv/bin/python -m bench.outbound_drain
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import requests
from rq import Worker
from sqlalchemy import func, select
from twilio.rest import Client

from bench import emulator_proc
from bench.loadgen import boutik_env, stop_process
from channels_adapters.senders.twilio_sender import _RewritingHttpClient
from commerce.db import unit_of_work
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.outbox import notify
from commerce.users import actions as users
from commerce.users.models import Channel
from devtools.testkit.db import migrate, open_db, truncate_all
from devtools.testkit.webhooks import ACCOUNT_SID, AUTH_TOKEN, PUBLIC
from workers import outbox as outbox_worker
from workers.dispatch import RQDispatcher

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get(
    "BENCH_OUT_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_out"
)
REDIS_URL = os.environ.get("BENCH_OUT_REDIS_URL", "redis://127.0.0.1:6379/11")
WHATSAPP_FROM = "whatsapp:+14155238886"
STATUS_CALLBACK = f"{PUBLIC}/webhooks/twilio/status"


def build_world(n: int) -> list[int]:
    """n buyers with an open WhatsApp window and one notification each; returns outbox ids."""
    migrate(DB_URL)
    db = open_db(DB_URL)
    truncate_all(db.engine)
    ids: list[int] = []
    chunk = 250
    for start in range(0, n, chunk):
        with unit_of_work(db.factory) as s:
            for i in range(start, min(n, start + chunk)):
                number = f"+22462{i:07d}"
                user = users.get_or_create_by_phone(s, phone=number, name=f"Acheteur {i}")
                users.touch_identity(s, user_id=user.id, channel=Channel.WHATSAPP, address=number)
                row = notify(s, user_id=user.id, kind="order_accepted", params={"order_id": i})
                ids.append(row.id)
    db.engine.dispose()
    return ids


def overlay(emulator_url: str) -> Path:
    """The worker's config file: emulator URLs, and limits high enough not to be the ceiling."""
    path = Path(tempfile.mkdtemp(prefix="bench-out-")) / "boutik.toml"
    path.write_text(
        f"""
[web]
public_base_url = "{PUBLIC}"
[twilio]
api_base_url = "{emulator_url}"
whatsapp_from = "{WHATSAPP_FROM}"
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


def start_worker(env: dict[str, str], log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """A real `boutik worker` (its own session, so its scheduler child dies with it)."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        # The outbox only: a default worker also starts a slow-queue child, whose start-up
        # would share the cores with the drain being timed.
        [sys.executable, "-m", "boutik.cli", "worker", "--queue", "fast"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until(predicate, timeout: float, what: str, every: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def loop_rate(send: Callable[[int], object], n: int, warmup: int) -> float:
    """Messages/s of `send(i)` called in a loop: `warmup` calls, then `n` timed ones."""
    for i in range(warmup):
        send(i)
    t0 = time.perf_counter()
    for i in range(warmup, warmup + n):
        send(i)
    return n / (time.perf_counter() - t0)


def pool_rate(
    send: Callable[[int], object], threads: int, warmup: Sequence[int], timed: Sequence[int]
) -> float:
    """Messages/s of `send(i)` from `threads` threads: `warmup` calls, then the `timed` ones."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(send, warmup))
        t0 = time.perf_counter()
        list(pool.map(send, timed))
    return len(timed) / (time.perf_counter() - t0)


def _sdk_sender(emulator_url: str, prefix: str, offset: int) -> Callable[[int], object]:
    client = Client(
        ACCOUNT_SID, AUTH_TOKEN, http_client=_RewritingHttpClient(emulator_url, timeout=10.0)
    )

    def send(i: int) -> object:
        return client.messages.create(
            to=f"whatsapp:{prefix}{offset + i:07d}",
            from_=WHATSAPP_FROM,
            body=f"Bonne nouvelle : votre commande {i} est acceptée par le vendeur.",
            status_callback=STATUS_CALLBACK,
        )

    return send


def bare_loop(emulator_url: str, n: int, warmup: int, offset: int) -> float:
    """Messages/s of a bare `Client.messages.create` loop to the emulator (after a warm-up)."""
    return loop_rate(_sdk_sender(emulator_url, "+22463", offset), n, warmup)


def bare_threaded(emulator_url: str, n: int, threads: int, offset: int) -> float:
    """The same sends from `threads` threads sharing one client: the reference for a worker
    that sends to several recipients at once (workers.outbox.SEND_THREADS)."""
    send = _sdk_sender(emulator_url, "+22464", offset)
    return pool_rate(send, threads, range(threads * 5), range(n))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc; 0.0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Drain:
    seconds: float
    cpu_worker_s: float
    cpu_emulator_s: float
    # Messages sent while the clock ran. The worker's sweeper queues due rows when it starts,
    # so a few of the timed rows may already be out when the clock starts: they are not counted.
    messages: int = 0


def timed_drain(
    dispatcher: RQDispatcher,
    ids: list[int],
    warm: int,
    sent: Callable[[], int],
    timeout: float,
    worker_pid: int,
    emulator_pid: int,
) -> Drain:
    """Warm the worker up on the first `warm` ids, then time the rest until `sent()` (messages
    sent since the start) counts them all; with the CPU both processes used meanwhile."""
    dispatcher.dispatch(ids[:warm])
    wait_until(lambda: sent() >= warm, 60, "warm-up")
    cpu0 = (cpu_s(worker_pid), cpu_s(emulator_pid))
    t0 = time.perf_counter()
    before = sent()
    dispatcher.dispatch(ids[warm:])
    wait_until(lambda: sent() >= len(ids), timeout, "the drain", every=0.02)
    elapsed = time.perf_counter() - t0
    return Drain(
        elapsed,
        cpu_s(worker_pid) - cpu0[0],
        cpu_s(emulator_pid) - cpu0[1],
        messages=len(ids) - before,
    )


def accepted(emulator_url: str, session: requests.Session) -> int:
    """WhatsApp messages the emulator accepted, from its running counts.

    Not `emulator_proc.count`: that route copies every stored message under the store's lock,
    ~10 ms with 4 000 stored, and polled 50 times a second during the drain it cost the
    emulator ~1.5 ms of CPU per message and held up the sends it was counting.
    """
    return int(session.get(f"{emulator_url}/_soak/summary", timeout=10).json().get("whatsapp", 0))


def count_sent(db: Any) -> int:
    with db.session() as s:
        stmt = select(func.count()).where(Outbox.status == OutboxStatus.SENT)
        return int(s.scalar(stmt) or 0)


def parse_args(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=120.0, help="max seconds for the drain")
    parser.add_argument("--worker-log", type=Path, default=None)
    return parser.parse_args()


def print_figures(
    *,
    bare_name: str,
    bare_before: float,
    bare_after: float,
    bare_threads: float,
    threads: int,
    drain: Drain,
    n: int,
    warm: int,
    statuses: dict[Any, int],
    check: str,
    ratio_name: str,
    module: str,
) -> None:
    """The summary: statuses, `check` (what shows no message went twice), both rates, CPU,
    the threaded reference and the ratio, and the command that reproduces it."""
    bare = statistics.mean([bare_before, bare_after])
    timed = drain.messages or n
    worker_rate = timed / drain.seconds
    print()
    print(f"outbox rows by status: { {str(k): v for k, v in statuses.items()} }")
    print(check)
    print(f"{bare_name}: {bare:.1f} msg/s (before {bare_before:.1f}, after {bare_after:.1f})")
    print(
        f"{'queue worker:':<{len(bare_name) + 2}}{worker_rate:.1f} msg/s "
        f"({timed} messages sent while timed, {drain.seconds:.2f} s)"
    )
    print(
        f"CPU during the drain: worker process {1000 * drain.cpu_worker_s / timed:.2f} ms/message, "
        f"emulator {1000 * drain.cpu_emulator_s / timed:.2f} ms/message (2 cores)"
    )
    print(
        f"reference: worker / bare sends from {threads} threads = "
        f"{worker_rate / bare_threads:.3f} (the worker sends to up to {threads} recipients at once)"
    )
    print(f"{ratio_name} = {worker_rate / bare:.3f}   (target >= 0.7)")
    print(f"reproduce: .venv/bin/python -m {module} --messages {n} --warmup {warm}")


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
    try:
        bare_before = bare_loop(emu_url, n, warm, offset=0)
        print(f"bare SDK loop (before): {bare_before:.1f} msg/s")
        base = accepted(emu_url, requests.Session())

        config_path = overlay(emu_url)
        env = boutik_env(DB_URL, REDIS_URL, config_path)
        worker = start_worker(env, args.worker_log)
        wait_until(lambda: len(Worker.all(connection=conn)) >= 1, 30, "the worker to register")
        poll = requests.Session()
        drain = timed_drain(
            RQDispatcher(REDIS_URL),
            ids,
            warm,
            lambda: accepted(emu_url, poll) - base,
            args.timeout,
            worker.pid,
            emu.pid,
        )
        print(
            f"worker drain: {drain.messages} messages in {drain.seconds:.2f} s = "
            f"{drain.messages / drain.seconds:.1f} msg/s"
        )

        db = open_db(DB_URL)
        wait_until(lambda: count_sent(db) == warm + n, 30, "the last rows to be recorded sent", 0.1)
        with db.session() as s:
            statuses = dict(
                s.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
            )
        db.engine.dispose()
        stop_process(worker)
        worker = None

        bare_after = bare_loop(emu_url, n, warm, offset=100_000)
        print(f"bare SDK loop (after): {bare_after:.1f} msg/s")
        threads = outbox_worker.SEND_THREADS
        bare_thr = bare_threaded(emu_url, n, threads, offset=200_000)
        print(f"bare SDK sends from {threads} threads (reference): {bare_thr:.1f} msg/s")
        bodies = emulator_proc.bodies(emu_url)
        worker_bodies = [b for b in bodies[2 * warm + n : 2 * warm + 2 * n]]
        dupes = len(worker_bodies) - len(set(worker_bodies))
    finally:
        if worker is not None:
            stop_process(worker)
        stop_process(emu)
        conn.flushdb()
        if config_path is not None:
            shutil.rmtree(config_path.parent, ignore_errors=True)

    print_figures(
        bare_name="bare SDK loop",
        bare_before=bare_before,
        bare_after=bare_after,
        bare_threads=bare_thr,
        threads=threads,
        drain=drain,
        n=n,
        warm=warm,
        statuses=statuses,
        check=f"duplicate bodies among the worker's {n} sends: {dupes}",
        ratio_name="RATIO worker/bare",
        module="bench.outbound_drain",
    )


if __name__ == "__main__":
    main()
