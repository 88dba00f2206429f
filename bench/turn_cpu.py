"""CPU and SQL statements per inbound turn, in process — the quick guide behind benchmark #1.

Why: wall-clock req/s on a shared 2-core machine moves by ±30 % from run to run, while the
Python CPU time of one turn (time.process_time) and its statement count barely move. Both
decide the turn's capacity: at ~5 ms of CPU per turn two cores serve ~400 turns/s before
PostgreSQL takes its share. This drives the same turn as bench/inbound_turn.py (a known buyer
sending "telephone samsung" over a signed WhatsApp webhook, through Flask's test client, the
real Runtime, PostgreSQL and the RQ enqueue) without gunicorn or wrk.

Needs PostgreSQL db bench_opt (BENCH_OPT_DATABASE_URL) and Redis db 13 (flushed).
Reproduce:
    .venv/bin/python -m bench.turn_cpu --turns 300            # add --profile for cProfile
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

DB_URL = os.environ.get(
    "BENCH_OPT_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_opt"
)
REDIS_URL = os.environ.get("BENCH_OPT_REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ["BENCH_IN_DATABASE_URL"] = DB_URL  # bench.inbound_turn.seed() seeds this database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print the top cProfile lines")
    parser.add_argument("--sql", action="store_true", help="print one turn's statements")
    args = parser.parse_args()

    import redis
    from sqlalchemy import event, select

    from bench import inbound_turn
    from bench.loadgen import WA_PATH, Signer

    inbound_turn.seed()
    redis.Redis.from_url(REDIS_URL).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="bench-turn-cpu-"))
    env = inbound_turn.app_env(tmp)
    env["REDIS_URL"] = REDIS_URL
    os.environ.update(env)

    from boutik.runtime import Runtime
    from channels_adapters.web import create_app
    from commerce.messaging.models import Outbox
    from settings.config import get_config

    runtime = Runtime(get_config())
    app = create_app(runtime.config, runtime=runtime)
    client = app.test_client()
    statements: list[str] = []

    @event.listens_for(runtime.engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    numbers = [f"+22462{n:07d}" for n in range(args.buyers)]
    signer = Signer()

    def post(req) -> None:  # type: ignore[no-untyped-def]
        resp = client.post(
            WA_PATH,
            data=req.body,
            headers={"X-Twilio-Signature": req.signature},
            content_type="application/x-www-form-urlencoded",
        )
        if resp.status_code != 200:
            sys.exit(f"HTTP {resp.status_code}: {resp.data[:300]!r}")

    for req in signer.turns(numbers, inbound_turn.QUERY, len(numbers) * 2):
        post(req)  # greeting + warm caches: every buyer known and in the browse state
    with runtime.session_factory() as s:
        # A handler error still answers (politely) and would make a broken turn look cheap.
        last = s.scalars(select(Outbox.payload).order_by(Outbox.id.desc()).limit(1)).one()
        if '"prod:' not in json.dumps(last):
            sys.exit(f"the turn did not answer with products: {last!r}")
    reqs = signer.turns(numbers, inbound_turn.QUERY, args.turns)
    cpu: list[float] = []
    wall: list[float] = []  # minus CPU: waiting for PostgreSQL and Redis, one turn at a time
    counts: list[int] = []
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
    for req in reqs:
        statements.clear()
        start, wall_start = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        post(req)
        if profiler:
            profiler.disable()
        cpu.append((time.process_time() - start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
        counts.append(len(statements))
    from bench.machine import speed_line

    print(speed_line())  # divide CPU ms by the loop's ms to compare machines
    if args.sql:
        for s in statements:
            print(" ", " ".join(s.split())[:160])
    print(
        f"{args.turns} turns: statements/turn median {statistics.median(counts)} "
        f"(min {min(counts)}, max {max(counts)}); CPU ms/turn median "
        f"{statistics.median(cpu):.2f}, mean {statistics.fmean(cpu):.2f}, "
        f"p10 {sorted(cpu)[len(cpu) // 10]:.2f}; wall ms/turn median {statistics.median(wall):.2f}"
    )
    if profiler:
        calls = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
        print(f"Python function calls per turn: {calls / args.turns:.0f} (steadier than ms)")
        profiler.dump_stats(tmp / "turn.prof")
        print(f"profile saved: {tmp / 'turn.prof'}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    redis.Redis.from_url(REDIS_URL).flushdb()
    runtime.dispose()


if __name__ == "__main__":
    main()
