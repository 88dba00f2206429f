"""Promotion burst (issue 20, item 3): 2 000 new buyers write within 20 s, production-shaped.

Why: a seller's promotion (a WhatsApp status, a radio spot, a post shared in groups) makes
thousands of people write within seconds, most of them for the first time. Two things must
hold: every webhook is acknowledged fast (Twilio waits 15 s, then retries), and every buyer
gets her answer exactly once, as fast as WhatsApp lets one number send (80 msg/s) — the
provider's limit, not our code, must be the ceiling, and the backlog must drain at it.

What runs (each a separate process, stopped as a process group on exit):
  - the provider emulators, with WhatsApp's per-number limit switched on: a sender's 81st
    message within one second is refused (HTTP 429, error 63018, Retry-After 1;
    `EmulatorStore.limit_whatsapp_senders`). Served by this module (`--serve-emulator`): the
    `bench.emulator_proc` app plus one route listing each accepted message with its
    CLOCK_MONOTONIC instant, so replies are counted to the millisecond, not by polling;
  - gunicorn `boutik.wsgi:app -w 2 -k gthread --threads 4` (as `bench.inbound_turn`);
  - 2 × `boutik worker --queue fast` (as the outbox benchmarks start them), with the pacing
    of config.toml left as shipped: `[twilio] whatsapp_rate_per_s = 80` (GCRA in Redis,
    98 % headroom: 78.4/s);
  on PostgreSQL `bench_burst` (truncated; 20 Samsung phones on a 20 % promotion among 200
  products) and Redis db 7 (flushed).

Who writes: 2 000 distinct numbers never seen before, each one real signed Twilio WhatsApp
webhook (own MessageSid, X-Twilio-Signature over the public URL) saying "Bonjour, je cherche
un telephone samsung". New rather than known buyers because that is who a promotion brings,
and it is the heavier turn: the user, her WhatsApp identity and her conversation are created,
and she gets the first-contact greeting (with the language line) and then the search results
— so one inbound makes k replies (k measured in the same run, see below).

The schedule is open loop (`ramp_schedule`): the rate rises linearly from 0 to 150 req/s,
holds, and falls back to 0, in three equal thirds of 20 s (area 150 × 13.3 s = 2 000).
Request i leaves at its due time whatever the server does; its acknowledgement latency counts
from that due time (no coordinated omission); a new connection per request, as Twilio makes.

Phases, one run, one machine:
  1. warm-up: 10 new buyers, closed loop; wait until their replies are sent;
  2. low rate: 2 req/s for 15 s (30 new buyers) → p50 acknowledgement, and k = replies per new
     buyer (every one of the 30 must get the same number);
  3. machine speed: `bench.machine`'s fixed pure-Python loop, ms, stack idle;
  4. the burst, sampled every 0.25 s (RQ queue depths, outbox rows pending or sending), until
     the emulator accepted 2 000 × k replies for the burst's numbers (or --drain-timeout);
  5. checks: every webhook 200, one inbound row per MessageSid; per number exactly k outbox
     rows, all sent, and exactly as many accepted messages at the emulator, matched one to
     one by MessageSid (0 lost, 0 doubled); the emulator's refusals.

Figures (same-run baselines): replied/s while the backlog held ≥ 100 rows ÷ 80/s (the
provider's limit); p99 acknowledgement in the burst ÷ p50 at 2 req/s. Also: time from the
first request to the last reply, the per-second table (offered, acknowledged, replied, each
queue's depth) and the figure bench/figures/promotion_burst.png (--figure).

Needs: createdb -h 127.0.0.1 -U postgres bench_burst (or BENCH_BURST_DATABASE_URL); Redis on
127.0.0.1:6379 (db 7 is flushed). One benchmark at a time on the machine:
    flock /tmp/bench.lock .venv/bin/python -m bench.promotion_burst       # about 2.5 min
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get(
    "BENCH_BURST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_burst"
)
REDIS_URL = os.environ.get("BENCH_BURST_REDIS_URL", "redis://127.0.0.1:6379/7")
HOST = "127.0.0.1"
TEXT = "Bonjour, je cherche un telephone samsung"
WHATSAPP_PER_S = 80.0  # WhatsApp's default per-number throughput (CHANNELS.md)
FIGURE = ROOT / "bench" / "figures" / "promotion_burst.png"
SATURATED = 100  # outbox rows waiting: a second that starts and ends with this many is "drain"
TWILIO_TIMEOUT_S = 15.0  # Twilio's wait for a webhook answer before it retries


# --- the schedule (pure; pinned by tests/unit/test_promotion_burst_schedule.py) ---------------


def ramp_schedule(total: int, seconds: float, peak: float) -> list[float]:
    """Due instants (s from the start) of `total` requests whose rate rises linearly from 0 to
    `peak`, holds, and falls linearly back to 0 at `seconds`.

    A trapezoid with two ramps of r = seconds − total/peak has area peak·(seconds − r) = total;
    r = 0 is a constant rate. Request i is due when the cumulative count reaches i + ½, so each
    second holds the requests its share of the area says (a plateau second exactly `peak`).
    """
    ramp = seconds - total / peak
    if total < 1 or not 0 <= ramp <= seconds / 2 + 1e-9:
        raise ValueError(
            f"{total} requests in {seconds:g} s cannot peak at {peak:g}/s: the peak must lie "
            f"between {total / seconds:g} (constant) and {2 * total / seconds:g} (a triangle)"
        )
    head = peak * ramp / 2  # requests in each ramp
    dues = []
    for i in range(total):
        n = i + 0.5
        if n <= head and ramp > 0:
            t = math.sqrt(2 * ramp * n / peak)
        elif n <= total - head or ramp == 0:
            t = ramp + (n - head) / peak
        else:
            t = seconds - math.sqrt(2 * ramp * (total - n) / peak)
        dues.append(t)
    return dues


def planned_rate(t: float, total: int, seconds: float, peak: float) -> float:
    """The schedule's rate at instant t (req/s), for the figure."""
    ramp = seconds - total / peak
    if t < 0 or t > seconds:
        return 0.0
    if ramp > 0 and t < ramp:
        return peak * t / ramp
    if ramp > 0 and t > seconds - ramp:
        return peak * (seconds - t) / ramp
    return peak


def per_second(instants: Sequence[float], seconds: int) -> list[int]:
    """How many of `instants` (s from the start) fall in each second 0 … seconds − 1."""
    counts = [0] * seconds
    for t in instants:
        if 0 <= t < seconds:
            counts[int(t)] += 1
    return counts


# --- the emulator, paced -------------------------------------------------------------------------


def serve_emulator(per_s: float) -> None:
    """`bench.emulator_proc`'s app with WhatsApp senders limited to `per_s`, plus
    ``GET /_burst/accepted`` ([to, sid, CLOCK_MONOTONIC s] of every accepted Twilio message)
    and refusals counted by error code in ``/_soak/summary`` (``twilio_rejected_63018``)."""
    import signal

    from flask import jsonify

    from bench import emulator_proc
    from devtools.emulators import serve_in_thread
    from devtools.emulators.store import TwilioMessage

    class TimedStore(emulator_proc.IndexedStore):
        def __init__(self) -> None:
            super().__init__()
            self.accepted: list[tuple[str, str, float]] = []

        def record_twilio(self, message: TwilioMessage) -> None:
            at = time.monotonic()
            super().record_twilio(message)
            with self._index_lock:
                self.accepted.append((message.to, message.sid, at))

        def record_twilio_rejection(
            self, to: str | None, status: int, code: int, message: str
        ) -> None:
            super().record_twilio_rejection(to, status, code, message)
            with self._index_lock:
                self.counts[f"twilio_rejected_{code}"] += 1

    store = TimedStore()
    store.limit_whatsapp_senders(per_s)
    app = emulator_proc.create_app(store)

    @app.get("/_burst/accepted")
    def accepted() -> Any:
        with store._index_lock:
            return jsonify(list(store.accepted))

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    base_url, shutdown = serve_in_thread(app)
    print(f"PORT {base_url.rsplit(':', 1)[1]}", flush=True)
    stop.wait()
    shutdown()


def start_emulator(per_s: float, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    import requests

    from devtools.testkit import processes

    proc = processes.start(
        [sys.executable, "-m", "bench.promotion_burst", "--serve-emulator", f"{per_s:g}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log.open("ab"),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("PORT "):
        processes.stop(proc)
        raise RuntimeError(f"emulator did not start: {line!r} (see {log})")
    base_url = f"http://127.0.0.1:{int(line.split()[1])}"
    for _ in range(100):
        try:
            requests.get(f"{base_url}/_soak/summary", timeout=2)
            return proc, base_url
        except requests.RequestException:
            time.sleep(0.05)
    processes.stop(proc)
    raise RuntimeError("emulator does not answer")


# --- world and processes -------------------------------------------------------------------------


def seed() -> None:
    """One approved shop: 20 Samsung phones on a 20 % promotion among 200 products."""
    from sqlalchemy import text

    from bench.inbound_turn import seed_catalog
    from commerce.catalog import actions as catalog
    from commerce.clock import now

    db, seller, promoted = seed_catalog(DB_URL)
    with db.uow() as s:
        for product_id in promoted:
            catalog.add_promotion(
                s,
                seller_id=seller,
                product_id=product_id,
                percent=20,
                starts_at=now() - dt.timedelta(hours=1),
                ends_at=now() + dt.timedelta(days=2),
            )
    # The set-up's own notifications (400 "product pending/approved" to the admin and the
    # seller on Telegram, paced at 1 msg/s per chat) are not part of the burst: left in the
    # outbox they hold both workers for minutes (see BENCHMARKS.md #9) and no reply goes out.
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox"))
    db.engine.dispose()


@dataclass
class Stack:
    emulator: subprocess.Popen[bytes]
    emulator_url: str
    web: subprocess.Popen[bytes]
    port: int
    workers: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        from bench.loadgen import stop_process

        for proc in [*self.workers, self.web, self.emulator]:
            stop_process(proc)


def start_stack(args: argparse.Namespace, tmp: Path) -> Stack:
    from bench.loadgen import (
        boutik_env,
        free_port,
        gunicorn_args,
        start_process,
        stop_process,
        wait_for_port,
    )
    from devtools.testkit.webhooks import PUBLIC

    emulator, url = start_emulator(args.whatsapp_limit, tmp / "emulator.log")
    overlay = tmp / "burst.toml"
    # Only URLs: the providers' pacing is config.toml's, as shipped (WhatsApp 80/s).
    overlay.write_text(
        f'[web]\npublic_base_url = "{PUBLIC}"\n[media]\ndir = "{tmp / "media"}"\n'
        f'[twilio]\napi_base_url = "{url}"\n[telegram]\napi_base_url = "{url}/telegram/bot"\n'
    )
    env = boutik_env(
        DB_URL, REDIS_URL, overlay, BOUTIK_SECRET_KEY="bench-burst-secret", PYTHONUNBUFFERED="1"
    )
    port = free_port()
    cmd = gunicorn_args(
        "boutik.wsgi:app", port=port, workers=args.web, worker_class="gthread", threads=4
    )
    web = start_process(cmd, env=env, log=tmp / "gunicorn.log")
    workers = [
        start_process(
            [sys.executable, "-m", "boutik.cli", "worker", "--queue", "fast"],
            env=env,
            log=tmp / f"worker{i + 1}.log",
        )
        for i in range(args.workers)
    ]
    stack = Stack(emulator, url, web, port, workers)
    try:
        wait_for_port(HOST, port, web, timeout=30)
    except BaseException:
        stack.stop()
        stop_process(emulator)
        raise
    return stack


# --- the open loop with a schedule ---------------------------------------------------------------


@dataclass
class Shot:
    due: float  # s from the burst's start
    left: float  # when the request actually left
    done: float  # when the answer arrived (or the connection failed)
    status: int  # HTTP status, 0 = no answer

    @property
    def ack_ms(self) -> float:
        return (self.done - self.due) * 1000


def fire(
    port: int, reqs: Sequence[Any], dues: Sequence[float], threads: int, t0: float
) -> list[Shot]:
    """Send reqs[i] at t0 + dues[i] (CLOCK_MONOTONIC; open loop, a new connection each, as
    Twilio does); `threads` senders share the schedule. One Shot per request, times from t0."""
    from bench.loadgen import WA_PATH, post_signed

    shots: list[Shot | None] = [None] * len(reqs)
    order = itertools.count()

    def sender() -> None:
        while (i := next(order)) < len(reqs):
            delay = t0 + dues[i] - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            left = time.monotonic() - t0
            status = post_signed(HOST, port, WA_PATH, reqs[i], timeout=60)
            shots[i] = Shot(dues[i], left, time.monotonic() - t0, status)

    pool = [threading.Thread(target=sender, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return [s for s in shots if s is not None]


# --- sampling the queues -------------------------------------------------------------------------


@dataclass
class Sample:
    t: float  # s from the burst's start
    outbox: int  # rows pending or sending
    fast: int  # RQ jobs waiting on the outbox queue
    slow: int  # RQ jobs waiting on the slow queue
    scheduled: int  # RQ jobs scheduled for later (retries)


class Sampler(threading.Thread):
    def __init__(self, t0: float, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.t0 = t0
        self.samples: list[Sample] = []
        self.halt = threading.Event()

    def run(self) -> None:
        import redis
        from sqlalchemy import func, select

        from commerce.messaging.models import Outbox, OutboxStatus
        from devtools.testkit.db import open_db
        from workers.dispatch import QUEUE, SLOW_QUEUE

        db = open_db(DB_URL)
        queue = redis.Redis.from_url(REDIS_URL)
        backlog = select(func.count(Outbox.id)).where(
            Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
        )
        tick = time.monotonic()
        try:
            while not self.halt.is_set():
                now = time.monotonic()
                pipe = queue.pipeline(transaction=False)
                pipe.llen(f"rq:queue:{QUEUE}")
                pipe.llen(f"rq:queue:{SLOW_QUEUE}")
                pipe.zcard(f"rq:scheduled:{QUEUE}")
                fast, slow, scheduled = pipe.execute()
                with db.session() as s:
                    rows = s.scalar(backlog) or 0
                self.samples.append(Sample(now - self.t0, rows, fast, slow, scheduled))
                tick += self.every
                self.halt.wait(max(0.0, tick - time.monotonic()))
        finally:
            db.engine.dispose()
            queue.close()

    def max_per_second(self, seconds: int) -> list[Sample]:
        """Per second, the largest depth of each queue sampled within it."""
        out = []
        for sec in range(seconds):
            within = [x for x in self.samples if sec <= x.t < sec + 1] or [Sample(sec, 0, 0, 0, 0)]
            out.append(
                Sample(
                    sec,
                    max(x.outbox for x in within),
                    max(x.fast for x in within),
                    max(x.slow for x in within),
                    max(x.scheduled for x in within),
                )
            )
        return out

    def at(self, t: float) -> Sample | None:
        """The last sample at or before t."""
        before = [x for x in self.samples if x.t <= t]
        return before[-1] if before else None


# --- emulator reads ------------------------------------------------------------------------------


def accepted(emulator: str) -> list[tuple[str, str, float]]:
    """(to without "whatsapp:", sid, CLOCK_MONOTONIC instant) of every accepted message."""
    import requests

    rows = requests.get(f"{emulator}/_burst/accepted", timeout=30).json()
    return [(str(to).removeprefix("whatsapp:"), str(sid), float(at)) for to, sid, at in rows]


def summary(emulator: str) -> dict[str, int]:
    import requests

    return dict(requests.get(f"{emulator}/_soak/summary", timeout=10).json())


def wait_replies(emulator: str, expected: int, timeout: float) -> int:
    """Wait until the emulator accepted `expected` WhatsApp messages in all (a cheap count);
    the count reached."""
    deadline = time.monotonic() + timeout
    while True:
        got = summary(emulator).get("whatsapp", 0)
        if got >= expected or time.monotonic() > deadline:
            return got
        time.sleep(0.25)


def busiest(n: int = 6) -> list[str]:
    """The processes using the most CPU right now (top's second frame, 0.5 s apart)."""
    out = subprocess.run(
        ["top", "-bn2", "-d0.5", "-o", "%CPU", "-w", "120"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    frame = out.split("\n\n\n")[-1] if "\n\n\n" in out else out
    lines = frame.splitlines()
    head = next((i for i, line in enumerate(lines) if line.lstrip().startswith("PID")), None)
    return [] if head is None else [line.rstrip() for line in lines[head : head + n + 1]]


def cpu_groups(stack: Stack) -> dict[str, list[int]]:
    """The processes whose CPU the burst spends, by role (PostgreSQL and Redis are shared:
    anyone else's use of them counts too)."""
    from bench.soak import children

    def pgrep(*args: str) -> list[int]:
        out = subprocess.run(["pgrep", *args], capture_output=True, text=True, check=False)
        return [int(x) for x in out.stdout.split()]

    return {
        "web (gunicorn)": [stack.web.pid, *children(stack.web.pid)],
        "queue workers": [p for w in stack.workers for p in (w.pid, *children(w.pid))],
        "emulator": [stack.emulator.pid],
        "load generator (this process)": [os.getpid()],
        "PostgreSQL": pgrep("-u", "postgres"),
        "Redis": pgrep("redis-server"),
    }


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each group, and the machine's busy, idle and steal seconds."""
    from bench.outbound_drain import cpu_s

    out = {name: sum(cpu_s(pid) for pid in pids) for name, pids in groups.items()}
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    out["_busy"] = (user + nice + system + irq + softirq) / tick
    out["_idle"] = (idle + iowait) / tick
    out["_steal"] = steal / tick
    return out


def cpu_budget(before: dict[str, float], after: dict[str, float]) -> tuple[list[str], float]:
    """Core-seconds each group spent between two snapshots, and what the machine did; and
    the share of the machine that went to processes not ours."""
    spent = {k: after[k] - before[k] for k in before}
    total = spent["_busy"] + spent["_idle"] + spent["_steal"]
    ours = sum(v for k, v in spent.items() if not k.startswith("_"))
    lines = [
        f"| {name} | {v:.1f} | {100 * v / total:.0f} % |"
        for name, v in spent.items()
        if not name.startswith("_")
    ]
    lines += [
        f"| anything else on the machine | {max(0.0, spent['_busy'] - ours):.1f} "
        f"| {100 * max(0.0, spent['_busy'] - ours) / total:.0f} % |",
        f"| idle | {spent['_idle']:.1f} | {100 * spent['_idle'] / total:.0f} % |",
        f"| stolen by the hypervisor | {spent['_steal']:.1f} "
        f"| {100 * spent['_steal'] / total:.0f} % |",
    ]
    header = [f"| CPU from the first request to the last reply | core-s | share of {total:.0f} "
              "core-s |", "|---|---|---|"]  # fmt: skip
    return [*header, *lines], max(0.0, spent["_busy"] - ours) / total


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def settle(emulator: str, numbers: set[str], timeout: float, quiet: float = 3.0) -> int:
    """Wait until no new message to `numbers` arrived for `quiet` seconds; the count."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        got = sum(1 for to, _sid, _at in accepted(emulator) if to in numbers)
        if got != last:
            last, since = got, time.monotonic()
        elif got > 0 and time.monotonic() - since >= quiet:
            break
        time.sleep(0.25)
    return last


# --- checks --------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """Per number: what the database holds and what the emulator accepted."""

    inbound_per_sid: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    not_sent: Counter[str] = field(default_factory=Counter)
    row_sids: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    accepted_sids: Counter[str] = field(default_factory=Counter)


def ledger(emulator: str, numbers: set[str], sids: set[str]) -> Ledger:
    from sqlalchemy import select

    from commerce.messaging.models import InboundMessage, Outbox, OutboxStatus
    from devtools.testkit.db import open_db

    done = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)
    out = Ledger()
    db = open_db(DB_URL)
    try:
        with db.session() as s:
            out.inbound_per_sid.update(
                s.scalars(
                    select(InboundMessage.external_id).where(InboundMessage.external_id.in_(sids))
                )
            )
            for address, status, sid in s.execute(
                select(Outbox.address, Outbox.status, Outbox.provider_message_id).where(
                    Outbox.address.in_(numbers)
                )
            ):
                out.rows[address] += 1
                if status not in done:
                    out.not_sent[str(status)] += 1
                if sid:
                    out.row_sids[sid] += 1
    finally:
        db.engine.dispose()
    for to, sid, _at in accepted(emulator):
        if to in numbers:
            out.accepted[to] += 1
            out.accepted_sids[sid] += 1
    return out


# --- the run -------------------------------------------------------------------------------------


def code_state() -> str:
    """The commit run, and the files of the running code that differ from it (the working
    tree is shared: someone else's edit in progress runs too)."""

    def git(*cmd: str) -> str:
        return subprocess.run(
            ["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.rstrip()

    changed = git(
        "status", "--short", "--", "boutik", "workers", "channels_adapters", "bot", "commerce",
        "settings", "devtools/emulators", "config.toml",
    ).splitlines()  # fmt: skip
    return f"HEAD {git('rev-parse', '--short', 'HEAD')}" + (
        f"; uncommitted: {', '.join(line[3:] for line in changed)}" if changed else ", clean"
    )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


@dataclass
class Run:
    args: argparse.Namespace
    started_utc: dt.datetime
    uptime_before: str
    code: str
    k: int = 0
    low: list[Shot] = field(default_factory=list)
    speed_ms: float = 0.0
    shots: list[Shot] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)  # burst replies' instants, from t0
    sampler: Sampler | None = None
    led: Ledger | None = None
    refusals: dict[str, int] = field(default_factory=dict)
    uptime_after: str = ""
    low_replies_per_buyer: Counter[int] = field(default_factory=Counter)
    redis_restarted: bool = False
    load_burst: str = ""  # /proc/loadavg as the burst started
    load_after: str = ""  # … and once its replies were all sent
    top: list[str] = field(default_factory=list)  # the busiest processes as the burst ended
    cpu: list[str] = field(default_factory=list)  # the CPU budget table (cpu_budget)
    others: float = 0.0  # the share of the machine's CPU other people's processes took


def run(args: argparse.Namespace, tmp: Path) -> Run:
    import redis

    from bench.loadgen import WA_PATH, Signer, send_all, whatsapp_form
    from bench.machine import python_speed_ms

    r = Run(args, dt.datetime.now(dt.UTC), uptime(), code_state())
    print(f"uptime before: {r.uptime_before}", flush=True)
    print(f"seeding {DB_URL} …", flush=True)
    seed()
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    redis_run = queue.info("server")["run_id"]  # a Redis restarted by someone else shows
    signer = Signer()

    def reqs(numbers: list[str]) -> list[Any]:
        return [signer.sign(whatsapp_form(signer.sid(), n, TEXT)) for n in numbers]

    stack = start_stack(args, tmp)
    try:
        # 1. warm-up: every process booted and connected
        warm = [f"+22466{i:07d}" for i in range(10)]
        statuses = send_all(HOST, stack.port, WA_PATH, reqs(warm), workers=2)
        if set(statuses) != {200}:
            raise SystemExit(f"warm-up failed: {dict(statuses)} (logs in {tmp})")
        settle(stack.emulator_url, set(warm), timeout=60)

        # 2. low rate: p50 acknowledgement, and k replies per new buyer
        low = [f"+22463{i:07d}" for i in range(round(args.low_rate * args.low_seconds))]
        low_dues = [i / args.low_rate for i in range(len(low))]
        r.low = fire(stack.port, reqs(low), low_dues, 8, time.monotonic() + 0.3)
        settle(stack.emulator_url, set(low), timeout=60)
        per_buyer = Counter(to for to, _sid, _at in accepted(stack.emulator_url) if to in low)
        r.low_replies_per_buyer = Counter(per_buyer[n] for n in low)
        r.k = max(r.low_replies_per_buyer, key=lambda k: r.low_replies_per_buyer[k])
        print(
            f"low rate {args.low_rate:g} req/s: {len(r.low)} requests, p50 "
            f"{pct([s.ack_ms for s in r.low], 50):.1f} ms; replies per new buyer "
            f"{dict(r.low_replies_per_buyer)} → k = {r.k}",
            flush=True,
        )
        if r.k == 0 or len(r.low_replies_per_buyer) != 1:
            raise SystemExit(
                "every new buyer at the low rate must get the same number (≥ 1) of replies "
                f"within a minute: {dict(r.low_replies_per_buyer)} (logs in {tmp})"
            )

        # 3. machine speed, stack idle
        r.speed_ms = python_speed_ms()
        print(f"machine speed: fixed Python loop {r.speed_ms:.1f} ms", flush=True)

        # 4. the burst
        numbers = [f"+22465{i:07d}" for i in range(args.buyers)]
        burst = reqs(numbers)
        dues = ramp_schedule(args.buyers, args.seconds, args.peak)
        before = summary(stack.emulator_url).get("whatsapp", 0)
        r.load_burst = loadavg()
        groups = cpu_groups(stack)
        t0 = time.monotonic() + 1.0  # the sampler's first samples: the queues at rest
        sampler = Sampler(t0)
        sampler.start()
        time.sleep(max(0.0, t0 - time.monotonic() - 0.05))
        cpu_before = cpu_snapshot(groups)
        shots = fire(stack.port, burst, dues, args.threads or args.buyers, t0)
        print(f"burst sent: {len(shots)} requests; waiting for the replies …", flush=True)
        r.top = busiest()
        got = wait_replies(
            stack.emulator_url, before + r.k * args.buyers, timeout=args.drain_timeout
        )
        got -= before
        r.cpu, r.others = cpu_budget(cpu_before, cpu_snapshot(groups))
        r.load_after = loadavg()
        time.sleep(1.0)  # one more sample of empty queues
        sampler.halt.set()
        sampler.join()
        r.shots, r.sampler = shots, sampler
        r.replies = sorted(
            at - t0 for to, _sid, at in accepted(stack.emulator_url) if to in set(numbers)
        )
        print(f"replies accepted: {got} of {r.k * args.buyers}", flush=True)
        time.sleep(1.0)  # a send accepted is recorded on its row right after
        r.led = ledger(stack.emulator_url, set(numbers), {signer_sid(b) for b in burst})
        r.refusals = {
            k: v for k, v in summary(stack.emulator_url).items() if k.startswith("twilio_rejected")
        }
    finally:
        stack.stop()
        r.redis_restarted = queue.info("server")["run_id"] != redis_run
        queue.flushdb()
    r.uptime_after = uptime()
    return r


def signer_sid(req: Any) -> str:
    """The MessageSid of a signed request (from its form body)."""
    from urllib.parse import parse_qs

    return parse_qs(req.body)["MessageSid"][0]


def pct(values: Sequence[float], p: float) -> float:
    from bench.loadgen import percentile

    return percentile(values, p)


# --- report --------------------------------------------------------------------------------------


@dataclass
class Table:
    seconds: int
    offered: list[int]
    acked: list[int]
    replied: list[int]
    depth: list[Sample]
    unanswered: list[int]  # webhooks due but not yet answered, at each second's end


def table(r: Run) -> Table:
    assert r.sampler is not None
    end = max([*(s.done for s in r.shots), *r.replies, r.args.seconds])
    seconds = math.ceil(end + 1e-9)
    offered = per_second([s.due for s in r.shots], seconds)
    acked = per_second([s.done for s in r.shots if s.status == 200], seconds)
    unanswered = [
        sum(1 for s in r.shots if s.due < sec + 1 and s.done >= sec + 1) for sec in range(seconds)
    ]
    return Table(
        seconds,
        offered,
        acked,
        per_second(r.replies, seconds),
        r.sampler.max_per_second(seconds),
        unanswered,
    )


def drain_rate(r: Run, t: Table) -> tuple[float, int]:
    """Mean replied/s over the seconds that start and end with ≥ SATURATED rows waiting."""
    assert r.sampler is not None
    full = []
    for sec in range(t.seconds):
        a, b = r.sampler.at(sec), r.sampler.at(sec + 1)
        if a and b and a.outbox >= SATURATED and b.outbox >= SATURATED:
            full.append(t.replied[sec])
    return (statistics.fmean(full) if full else float("nan")), len(full)


def report(r: Run, figure: Path | None) -> list[str]:
    t = table(r)
    led = r.led
    assert led is not None
    args = r.args
    acks = [s.ack_ms for s in r.shots if s.status == 200]
    errors = Counter(s.status for s in r.shots if s.status != 200)
    low_p50 = pct([s.ack_ms for s in r.low], 50)
    p50, p99, worst = pct(acks, 50), pct(acks, 99), max(acks, default=float("nan"))
    over_twilio = sum(1 for a in acks if a > TWILIO_TIMEOUT_S * 1000)
    late = sum(1 for s in r.shots if s.left - s.due > 0.05)
    expected = r.k * args.buyers
    last_reply = r.replies[-1] if r.replies else float("nan")
    first_reply = r.replies[0] if r.replies else float("nan")
    rate, full_seconds = drain_rate(r, t)
    numbers = [f"+22465{i:07d}" for i in range(args.buyers)]
    lost = sum(max(0, r.k - led.accepted[n]) for n in numbers)
    doubled = sum(max(0, led.accepted[n] - led.rows[n]) for n in numbers) + sum(
        c - 1 for c in led.accepted_sids.values() if c > 1
    )
    unmatched = len(set(led.accepted_sids) ^ set(led.row_sids))
    rows_off = Counter(led.rows[n] for n in numbers)
    inbound_ok = len(led.inbound_per_sid) == args.buyers and set(led.inbound_per_sid.values()) == {
        1
    }
    peak_depth = max(t.depth, key=lambda x: x.outbox)
    lines = [
        f"Promotion burst, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC "
        f"(started {r.started_utc:%H:%M:%S}); nproc {os.cpu_count()}; {platform.python_version()}",
        f"uptime before: {r.uptime_before}",
        f"uptime after:  {r.uptime_after}",
        f"load average as the burst started: {r.load_burst}; when its replies were sent: "
        f"{r.load_after}",
        "busiest processes as the burst's last request left (top, %CPU of one core):",
        *(f"    {line}" for line in r.top),
        f"machine speed: bench.machine's fixed Python loop {r.speed_ms:.1f} ms (median of 5)",
        f"code: {r.code}",
        "",
        "| second | offered | acknowledged | replied | webhooks unanswered | outbox rows waiting "
        "| RQ outbox jobs | RQ slow jobs | RQ scheduled |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for sec in range(t.seconds):
        d = t.depth[sec]
        lines.append(
            f"| {sec}–{sec + 1} | {t.offered[sec]} | {t.acked[sec]} | {t.replied[sec]} "
            f"| {t.unanswered[sec]} | {d.outbox} | {d.fast} | {d.slow} | {d.scheduled} |"
        )
    lines += [
        "",
        f"requests: {len(r.shots)} of {args.buyers} sent; HTTP 200: {len(acks)}; other: "
        f"{dict(errors) or 0}; left > 50 ms late: {late}",
        f"acknowledgement (from each request's due time): p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {worst:.1f} ms; over Twilio's {TWILIO_TIMEOUT_S:g} s: {over_twilio}",
        f"low rate ({args.low_rate:g} req/s, {len(r.low)} new buyers): p50 {low_p50:.1f} ms, "
        f"p99 {pct([s.ack_ms for s in r.low], 99):.1f} ms; replies per new buyer "
        f"{dict(r.low_replies_per_buyer)} → k = {r.k}",
        f"replies: {len(r.replies)} of {expected} ({args.buyers} × {r.k}); first "
        f"{first_reply:.2f} s, last {last_reply:.2f} s after the first request was due; "
        f"whole drain {len(r.replies) / (last_reply - first_reply):.1f} msg/s",
        f"webhooks waiting for an answer: peak {max(t.unanswered)} at the end of second "
        f"{t.unanswered.index(max(t.unanswered)) + 1}; "
        f"outbox backlog: peak {peak_depth.outbox} rows at {peak_depth.t:.0f} s; "
        f"RQ outbox queue peak {max(d.fast for d in t.depth)} jobs",
        f"emulator refusals (WhatsApp limit {args.whatsapp_limit:g}/s per sender): "
        f"{r.refusals or 0}",
        f"inbound rows: {sum(led.inbound_per_sid.values())} for {args.buyers} MessageSids "
        f"({'one each' if inbound_ok else 'NOT one each'})",
        f"outbox rows per buyer: {dict(rows_off)}; not sent: {dict(led.not_sent) or 0}; "
        f"emulator sids unmatched by a row (or rows by a sid): {unmatched}",
        f"LOST {lost}, DOUBLED {doubled}",
        "",
        *r.cpu,
        "",
        "Redis (shared, 6379) was RESTARTED during the run: figures unreliable"
        if r.redis_restarted
        else "Redis: same server process from start to end",
        "",
        f"RATIO replied/s while ≥ {SATURATED} rows waited ÷ WhatsApp's {WHATSAPP_PER_S:g}/s = "
        f"{rate / WHATSAPP_PER_S:.3f} ({rate:.1f} msg/s over {full_seconds} s; our pacing "
        "sends at 98 % of the limit: 0.98 is the ceiling)",
        f"RATIO p99 ack in the burst ÷ p50 ack at {args.low_rate:g} req/s = {p99 / low_p50:.2f} "
        f"({p99:.1f} / {low_p50:.1f} ms)",
        f"time to the last reply: {last_reply:.1f} s (ideal at 78.4/s after the first reply: "
        f"{first_reply + expected / 78.4:.1f} s)",
        "reproduce: flock /tmp/bench.lock .venv/bin/python -m bench.promotion_burst "
        + " ".join(sys.argv[1:]),
    ]
    if figure is not None:
        draw(r, t, figure)
        lines.append(
            f"figure: {figure.relative_to(ROOT) if figure.is_relative_to(ROOT) else figure}"
        )
    return lines


def draw(r: Run, t: Table, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    args = r.args
    x = [sec + 0.5 for sec in range(t.seconds)]
    fig, ax = plt.subplots(figsize=(11, 5.6))
    fine = [i / 20 for i in range(int(args.seconds * 20) + 1)]
    ax.plot(
        fine,
        [planned_rate(u, args.buyers, args.seconds, args.peak) for u in fine],
        color="0.75",
        lw=1,
        ls=":",
        label="schedule (req/s)",
    )
    ax.plot(x, t.offered, color="tab:blue", lw=2, marker=".", label="offered (req/s)")
    ax.plot(x, t.acked, color="tab:green", lw=1.5, ls="--", label="acknowledged (req/s)")
    ax.plot(x, t.replied, color="tab:red", lw=2, marker=".", label="replied: sent (msg/s)")
    ax.axhline(WHATSAPP_PER_S, color="tab:red", lw=0.8, ls=":")
    ax.text(t.seconds - 0.5, WHATSAPP_PER_S + 2, "WhatsApp limit 80/s", color="tab:red",
            ha="right", va="bottom", fontsize=8)  # fmt: skip
    ax.set_xlabel("seconds since the first buyer wrote")
    ax.set_ylabel("per second")
    ax.set_xlim(0, t.seconds)
    ax.set_ylim(0, max([*t.offered, *t.acked, *t.replied, 100]) * 1.15)
    depth = ax.twinx()
    depth.fill_between(
        [s.t for s in r.sampler.samples if s.t >= 0] if r.sampler else [],
        [s.outbox for s in r.sampler.samples if s.t >= 0] if r.sampler else [],
        step="post",
        color="tab:orange",
        alpha=0.2,
        label="outbox rows waiting (right)",
    )
    depth.plot(
        x,
        [d.fast for d in t.depth],
        color="tab:purple",
        lw=1,
        drawstyle="steps-mid",
        label="RQ outbox jobs waiting (right)",
    )
    depth.plot(
        x,
        t.unanswered,
        color="0.35",
        lw=1.5,
        drawstyle="steps-mid",
        label="webhooks not yet answered (right)",
    )
    depth.set_ylabel("queue depth")
    depth.set_ylim(0, max([*(d.outbox for d in t.depth), *t.unanswered, 10]) * 1.15)
    handles = ax.get_legend_handles_labels()
    more = depth.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper right", fontsize=8)
    load = r.uptime_before.split("load average:")[-1].strip()
    ax.set_title(
        f"Promotion burst: {args.buyers} new WhatsApp buyers in {args.seconds:g} s "
        f"(ramp to {args.peak:g} req/s), {args.web} web + {args.workers} queue processes, "
        "PostgreSQL + Redis\n"
        f"{r.started_utc:%Y-%m-%d %H:%M} UTC · nproc {os.cpu_count()} · load average "
        f"{load} at the start, {r.load_burst} at the burst · {100 * r.others:.0f} % of the CPU "
        f"to others' work · Python loop {r.speed_ms:.0f} ms",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=2000, help="distinct new buyers")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the burst")
    parser.add_argument("--peak", type=float, default=150.0, help="peak rate, req/s")
    parser.add_argument("--web", type=int, default=2, help="gunicorn workers (4 threads each)")
    parser.add_argument("--workers", type=int, default=2, help="boutik worker processes")
    parser.add_argument("--whatsapp-limit", type=float, default=WHATSAPP_PER_S,
                        help="the emulator's per-sender WhatsApp limit, msg/s")  # fmt: skip
    parser.add_argument("--low-rate", type=float, default=2.0, help="baseline rate, req/s")
    parser.add_argument("--low-seconds", type=float, default=15.0)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="open-loop sender threads (default: one per buyer, so none waits for an answer)",
    )
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument("--figure", type=Path, default=FIGURE, help="PNG path ('' for none)")
    parser.add_argument("--serve-emulator", type=float, metavar="PER_S", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_emulator is not None:
        serve_emulator(args.serve_emulator)
        return
    ramp_schedule(args.buyers, args.seconds, args.peak)  # refuse an impossible shape early
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    result = run(args, tmp)
    figure = args.figure if str(args.figure) else None
    for line in report(result, figure):
        print(line)
    print(f"logs in {tmp}; total run time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
