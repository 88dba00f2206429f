"""Resilience: 1 000 notifications while workers are SIGKILLed, Redis and PostgreSQL restarted.

Why: a queue worker dies at the worst moments — between Twilio's 201 and our commit, holding
claimed rows, during a PostgreSQL restart — and Redis may come back empty (no persistence).
The outbox in PostgreSQL is the truth; this checks that every row still ends sent, and counts
how many messages reached the provider more than once.

Set-up, all private so nothing shared is restarted:
- a PostgreSQL cluster of its own (initdb in a temp dir, port 5440) and a redis-server of its
  own (port 6390, --save "" --appendonly no), both removed at the end (bench.private_services);
- the Twilio emulator in its own process (bench.emulator_proc);
- N notifications written through the real core (`commerce.messaging.outbox.notify`): half
  `order_accepted` to WhatsApp buyers inside the 24 h window, half `job_assigned` to couriers
  by SMS; each carries a unique order number, so each body is unique and a duplicate at the
  emulator is countable;
- W real `boutik worker` processes (RQ SimpleWorker + scheduler + sweeper), with
  stale_sending_s = 3 and sweep_every_s = 1 so recovery is quick, and provider limits of
  `--rate` msg/s per sender so the drain lasts long enough for the chaos to hit it.
Chaos: the ids are enqueued as the web process does after commit; then every 1–3 s a random
worker's process group is SIGKILLed and restarted (`--kills` times); Redis is restarted
without saving after `--redis-at` s, PostgreSQL (`pg_ctl restart -m fast`) after `--pg-at` s.
Then the script waits until no row is pending or sending.

Figures: rows by status (target: all sent), duplicate sends at the emulator and per 1 000
(target ≤ 1), missing messages, rows that needed more than one attempt, and the chaos done.

Reproduce:
    .venv/bin/python -m bench.chaos_notifications
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bench import emulator_proc
from bench.loadgen import boutik_env, stop_process
from bench.outbound_drain import start_worker
from bench.private_services import PrivatePostgres, PrivateRedis
from commerce.db import unit_of_work
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.outbox import notify
from commerce.users import actions as users
from commerce.users.models import Channel, Role
from devtools.testkit import processes
from devtools.testkit.db import migrate, open_db
from devtools.testkit.webhooks import PUBLIC
from workers.dispatch import RQDispatcher

MARKER = 700_000  # order numbers from here on: unique per notification


@dataclass
class Result:
    notifications: int
    statuses: dict[str, int]
    sent_at_emulator: int
    distinct_bodies: int
    duplicates: int  # extra copies beyond the first, summed over bodies
    missing: int  # expected bodies the emulator never received
    retried_rows: int  # rows that needed more than one attempt
    kills: int
    redis_restarts: int
    pg_restarts: int
    drain_s: float
    events: list[str] = field(default_factory=list)

    @property
    def all_sent(self) -> bool:
        return self.statuses == {OutboxStatus.SENT.value: self.notifications}

    @property
    def duplicates_per_1000(self) -> float:
        return 1000 * self.duplicates / self.notifications


def build_world(url: str, n: int) -> tuple[list[int], list[str]]:
    """n notifications through the real core; returns their ids and expected marker texts."""
    migrate(url)
    db = open_db(url)
    ids: list[int] = []
    markers: list[str] = []
    try:
        with unit_of_work(db.factory) as s:
            for i in range(n):
                number = f"+22465{i:07d}"
                order_id = MARKER + i
                if i % 2 == 0:
                    user = users.get_or_create_by_phone(s, phone=number, name=f"Acheteur {i}")
                    users.touch_identity(
                        s, user_id=user.id, channel=Channel.WHATSAPP, address=number
                    )
                    row = notify(
                        s, user_id=user.id, kind="order_accepted", params={"order_id": order_id}
                    )
                else:
                    user = users.get_or_create_by_phone(
                        s, phone=number, name=f"Livreur {i}", role=Role.COURIER
                    )
                    row = notify(
                        s,
                        user_id=user.id,
                        kind="job_assigned",
                        params={"order_id": order_id},
                        essential=True,
                    )
                ids.append(row.id)
                markers.append(str(order_id))
    finally:
        db.engine.dispose()
    return ids, markers


def overlay(path: Path, emulator_url: str, rate: float) -> Path:
    path.write_text(
        f"""
[web]
public_base_url = "{PUBLIC}"
[twilio]
api_base_url = "{emulator_url}"
whatsapp_rate_per_s = {rate}
sms_segments_per_s = {rate}
[telegram]
api_base_url = "{emulator_url}/telegram/bot"
[queue]
stale_sending_s = 3
sweep_every_s = 1.0
[media]
dir = "{path.parent / "media"}"
"""
    )
    return path


def run(
    *,
    n: int = 1000,
    workers: int = 3,
    kills: int = 12,
    redis_at: float = 8.0,
    pg_at: float = 16.0,
    rate: float = 20.0,
    timeout: float = 180.0,
    seed: int = 9,
    pg_port: int = 5440,
    redis_port: int = 6390,
    log: bool = True,
    keep_logs: Path | None = None,
) -> Result:
    """The whole chaos run; every process and service it starts is gone when it returns."""
    rng = random.Random(seed)
    say = print if log else (lambda *_a, **_k: None)
    pg = PrivatePostgres(port=pg_port)
    rd = PrivateRedis(port=redis_port)
    procs: list = []
    emu = None
    run_dir = Path(tempfile.mkdtemp(prefix="boutik-chaos-run-"))
    try:
        pg.start()
        rd.start()
        assert pg.base is not None
        ids, markers = build_world(pg.url, n)
        emu, emu_url = emulator_proc.start()
        env = boutik_env(pg.url, rd.url, overlay(run_dir / "boutik.toml", emu_url, rate))
        logs = run_dir / "workers.log"
        procs = [start_worker(env, logs) for _ in range(workers)]
        RQDispatcher(rd.url).dispatch(ids)  # as the web process does after commit
        t0 = time.monotonic()
        events: list[str] = []
        done_kills = redis_restarts = pg_restarts = 0
        next_kill = t0 + rng.uniform(1.0, 3.0)
        db = open_db(pg.url, pool_pre_ping=True)

        def unfinished() -> int | None:
            try:
                with db.session() as s:
                    return int(
                        s.scalar(
                            select(func.count()).where(
                                Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
                            )
                        )
                        or 0
                    )
            except Exception:
                return None  # PostgreSQL restarting

        while time.monotonic() - t0 < timeout:
            now = time.monotonic()
            elapsed = now - t0
            if redis_restarts == 0 and elapsed >= redis_at:
                rd.restart()
                redis_restarts += 1
                events.append(f"{elapsed:5.1f}s Redis restarted (no persistence)")
                say(events[-1])
            if pg_restarts == 0 and elapsed >= pg_at:
                pg.restart()
                pg_restarts += 1
                events.append(f"{time.monotonic() - t0:5.1f}s PostgreSQL restarted")
                say(events[-1])
            if done_kills < kills and now >= next_kill:
                victim = rng.randrange(len(procs))
                stop_group_kill(procs[victim])
                procs[victim] = start_worker(env, logs)
                done_kills += 1
                events.append(f"{elapsed:5.1f}s worker {victim} SIGKILLed and restarted")
                say(events[-1])
                next_kill = now + rng.uniform(1.0, 3.0)
            left = unfinished()
            chaos_over = done_kills >= kills and redis_restarts and pg_restarts
            if left == 0 and chaos_over:
                break
            time.sleep(0.2)
        drain_s = time.monotonic() - t0
        with db.session() as s:
            statuses = {
                str(k): v
                for k, v in s.execute(
                    select(Outbox.status, func.count()).group_by(Outbox.status)
                ).all()
            }
            retried = int(s.scalar(select(func.count()).where(Outbox.attempts > 1)) or 0)
        db.engine.dispose()
        bodies = emulator_proc.bodies(emu_url)
    finally:
        for proc in procs:
            stop_process(proc)
        if emu is not None:
            stop_process(emu)
        rd.stop()
        pg.stop()
        if keep_logs is not None:
            shutil.copy(run_dir / "workers.log", keep_logs)
        shutil.rmtree(run_dir, ignore_errors=True)
    # Each notification's body is unique (its order number): a body seen twice is a duplicate.
    per_body = Counter(bodies)
    duplicates = sum(c - 1 for c in per_body.values())
    seen = {m for body in per_body for m in re.findall(r"\d{6,}", body)}
    missing = sum(1 for m in markers if m not in seen)
    return Result(
        notifications=n,
        statuses=statuses,
        sent_at_emulator=len(bodies),
        distinct_bodies=len(set(bodies)),
        duplicates=duplicates,
        missing=missing,
        retried_rows=retried,
        kills=done_kills,
        redis_restarts=redis_restarts,
        pg_restarts=pg_restarts,
        drain_s=drain_s,
        events=events,
    )


def stop_group_kill(proc) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL the worker's whole process group (the worker and its scheduler child)."""
    processes.kill_group(proc)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--redis-at", type=float, default=8.0)
    parser.add_argument("--pg-at", type=float, default=16.0)
    parser.add_argument("--rate", type=float, default=20.0, help="per sender, msg/s")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--worker-log", type=Path, default=None, help="keep the workers' log")
    args = parser.parse_args()
    t = time.monotonic()
    r = run(
        n=args.notifications,
        workers=args.workers,
        kills=args.kills,
        redis_at=args.redis_at,
        pg_at=args.pg_at,
        rate=args.rate,
        timeout=args.timeout,
        seed=args.seed,
        keep_logs=args.worker_log,
    )
    print()
    print(f"outbox rows by status: {r.statuses}  (all sent: {r.all_sent})")
    print(f"messages at the emulator: {r.sent_at_emulator}; distinct bodies {r.distinct_bodies}")
    print(f"duplicates: {r.duplicates} = {r.duplicates_per_1000:.2f} per 1 000 (target <= 1)")
    print(f"missing at the emulator: {r.missing}")
    print(f"rows needing more than one attempt: {r.retried_rows}")
    print(
        f"chaos: {r.kills} SIGKILLs, {r.redis_restarts} Redis restart, "
        f"{r.pg_restarts} PostgreSQL restart; drained in {r.drain_s:.1f} s "
        f"(whole run {time.monotonic() - t:.1f} s)"
    )
    print(
        "reproduce: .venv/bin/python -m bench.chaos_notifications "
        f"--notifications {args.notifications} --workers {args.workers} --kills {args.kills} "
        f"--redis-at {args.redis_at:g} --pg-at {args.pg_at:g} --rate {args.rate:g} "
        f"--seed {args.seed}"
    )


if __name__ == "__main__":
    main()
