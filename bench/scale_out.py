"""Scale-out — web and queue processes on one PostgreSQL and one Redis, invariants checked.

Why: Boutik scales by adding processes (gunicorn workers for webhooks, `boutik worker` for
sending), all sharing one database and one Redis. Two things must hold: throughput rises with
processes until the cores are full, and nothing breaks when several processes race — no
duplicate effect from a provider's retry, no oversell, no lost or doubled message.

Every piece is a separate process: gunicorn `boutik.wsgi:app` (gthread, 4 threads per
worker), `boutik worker` processes (RQ SimpleWorker), and the Twilio/Telegram emulator
(`bench.emulator_proc`, provider rate limits set to 100 000/s so our code is the ceiling).
PostgreSQL db bench_scale and Redis db 12 are emptied for each configuration.

For each configuration (web workers : queue workers, default 1:1, 2:2, 4:3):
1. inbound: each of --buyers known buyers searches "telephone samsung" (warm-up), then wrk
   (closed loop, --connections) for --seconds, no queue worker running → requests/s;
2. outbound: the queue workers start and drain that backlog to the emulator → sends/s, from
   the emulator's first accepted message to the last;
3. invariants, with web and workers running:
   - duplicates: 30 new numbers each send one message twice at the same instant (a Twilio
     retry racing the original) → one inbound row each, and as many replies as a number that
     sent once;
   - oversell: --racers buyers with a saved address go through search → card → buy → address
     → summary by webhook, then all send "Confirmer" at once for a product with stock
     --stock → orders = stock, stock 0, the others told it is sold out;
   - lost/doubled messages: once the workers are idle, every outbox row is SENT and the
     emulator accepted exactly one message per row (Twilio sids and Telegram message ids
     matched one to one; nothing extra).

Needs: wrk, createdb -h 127.0.0.1 -U postgres bench_scale, Redis on 127.0.0.1:6379.
Reproduce (about 4.5 min):
    .venv/bin/python -m bench.scale_out
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import func, select

from bench import emulator_proc
from bench.loadgen import (
    WA_PATH,
    SignedRequest,
    Signer,
    boutik_env,
    free_port,
    gunicorn_args,
    post_signed,
    require_wrk,
    run_wrk,
    send_all,
    start_process,
    stop_process,
    wait_for_port,
    whatsapp_form,
)
from commerce.catalog.models import Product
from commerce.messaging.models import InboundMessage, Outbox, OutboxStatus
from commerce.orders.models import OrderItem
from commerce.users.models import User
from devtools.testkit.builders import make_buyer, make_category, make_product, make_seller
from devtools.testkit.db import migrate, open_db, truncate_all
from devtools.testkit.webhooks import PUBLIC

DB_URL = os.environ.get(
    "BENCH_SCALE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale"
)
REDIS_URL = os.environ.get("BENCH_SCALE_REDIS_URL", "redis://127.0.0.1:6379/12")
HOST = "127.0.0.1"
QUERY = "telephone samsung"
LIMITED = "Casque Sennheiser Momentum édition limitée"
LIMITED_QUERY = "casque sennheiser"
THREADS = 4  # per gunicorn worker
DUPLICATES = 30
TERMINAL_OK = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)


# --- world and processes -----------------------------------------------------------------------


@dataclass
class World:
    numbers: list[str]  # browsing buyers (greeted during the warm-up)
    racers: list[str]  # buyers with a saved address, for the oversell race
    limited_id: int


def seed(args: argparse.Namespace) -> World:
    migrate(DB_URL)
    db = open_db(DB_URL)
    truncate_all(db.engine)
    seller, _ = make_seller(db)
    phones = make_category(db, "telephones")
    for i in range(20):
        make_product(
            db,
            seller_id=seller,
            name=f"Téléphone Samsung Galaxy A{i + 10}",
            price=1_500_000 + 10_000 * i,
            category_id=phones,
        )
    limited = make_product(
        db,
        seller_id=seller,
        name=LIMITED,
        price=900_000,
        stock=args.stock,
        category_id=make_category(db, "audio"),
        brand="Sennheiser",
    )
    racer_ids = [make_buyer(db)[0] for _ in range(args.racers)]
    with db.session() as s:
        racers = [s.get(User, uid).phone for uid in racer_ids]  # type: ignore[union-attr]
    db.engine.dispose()
    numbers = [f"+22462{n:07d}" for n in range(args.buyers)]
    return World(numbers=numbers, racers=[p for p in racers if p], limited_id=limited)


def environment(tmp: Path, emulator: str) -> dict[str, str]:
    overlay = tmp / "scale.toml"
    overlay.write_text(
        f'[web]\npublic_base_url = "{PUBLIC}"\n'
        f'[media]\ndir = "{tmp / "media"}"\n'
        f'[twilio]\napi_base_url = "{emulator}"\n'
        "whatsapp_rate_per_s = 100000.0\nsms_segments_per_s = 100000.0\n"
        f'[telegram]\napi_base_url = "{emulator}/telegram/bot"\n'
        "rate_per_s = 100000.0\nrate_per_chat_per_s = 100000.0\n"
    )
    return boutik_env(
        DB_URL,
        REDIS_URL,
        overlay,
        BOUTIK_SECRET_KEY="bench-scale-out-secret",  # the same on web and workers (README)
        PYTHONUNBUFFERED="1",
    )


# --- one configuration -------------------------------------------------------------------------


@dataclass
class Outcome:
    web: int
    workers: int
    inbound_rps: float = 0.0
    inbound_errors: int = 0
    backlog: int = 0
    sends_per_s: float = 0.0
    drain_s: float = 0.0
    checks: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks[name] = ("ok: " if ok else "FAILED: ") + detail
        if not ok:
            self.failed.append(name)


def outbox_counts() -> tuple[int, Counter[str], int]:
    """(rows, rows by status, rows due later) — a row due later is a scheduled reminder."""
    db = open_db(DB_URL)
    try:
        with db.session() as s:
            rows = s.execute(select(Outbox.status, Outbox.next_attempt_at)).all()
            now = s.scalar(select(func.now()))
    finally:
        db.engine.dispose()
    later = sum(1 for st, at in rows if st == OutboxStatus.PENDING and at is not None and at > now)
    return len(rows), Counter(str(st) for st, _ in rows), later


def drain(emulator: str, total: int, timeout: float) -> tuple[float, float]:
    """Poll the emulator until it holds `total` messages: (sends/s, seconds), measured from the
    first accepted message to the last (worker start-up is not counted)."""
    deadline = time.monotonic() + timeout
    first = last = None
    count = start_count = 0
    while time.monotonic() < deadline:
        sent = emulator_proc.counts(emulator)
        new = sent["twilio"] + sent["telegram_calls"]
        now = time.monotonic()
        if new and first is None:
            first, start_count = now, new
        if new != count:
            last, count = now, new
        if count >= total:
            break
        time.sleep(0.1)
    if first is None or last is None or last <= first:
        return 0.0, 0.0
    return (count - start_count) / (last - first), last - first


def race(port: int, reqs: list[list[SignedRequest]]) -> list[int]:
    """Each thread posts its requests in order; before the last one all wait at a barrier."""
    barrier = threading.Barrier(len(reqs))
    statuses = [0] * len(reqs)

    def one(i: int) -> None:
        *before, last = reqs[i]
        for r in before:
            status = post_signed(HOST, port, WA_PATH, r)
            if status != 200:
                statuses[i] = status
                barrier.abort()
                return
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            return
        statuses[i] = post_signed(HOST, port, WA_PATH, last)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(reqs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def run_config(
    web: int, workers: int, args: argparse.Namespace, emulator: str, tmp: Path
) -> Outcome:
    out = Outcome(web, workers)
    print(f"\n== {web} web worker(s), {workers} queue worker(s) ==", flush=True)
    world = seed(args)
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    emulator_proc.reset(emulator)
    env = environment(tmp, emulator)
    log = tmp / f"w{web}q{workers}.log"
    signer = Signer()
    port = free_port()
    cmd = gunicorn_args(
        "boutik.wsgi:app",
        port=port,
        workers=web,
        worker_class="gthread",
        threads=THREADS,
    )
    web_proc = start_process(cmd, env=env, log=log)
    queue_procs: list[subprocess.Popen[bytes]] = []
    try:
        wait_for_port(HOST, port, web_proc, timeout=30)
        greet = send_all(
            HOST, port, WA_PATH, signer.turns(world.numbers, QUERY, len(world.numbers))
        )
        if set(greet) != {200}:
            raise SystemExit(f"warm-up failed: HTTP statuses {dict(greet)} (log {log})")

        # 1. inbound, nothing sending
        count = int(args.max_rps * args.seconds) + 1000
        wrk = run_wrk(
            f"http://{HOST}:{port}{WA_PATH}",
            signer.turns(world.numbers, QUERY, count),
            seconds=args.seconds,
            connections=args.connections,
        )
        if wrk.wrapped:
            raise SystemExit(f"more than {count} requests: raise --max-rps")
        out.inbound_rps, out.inbound_errors = wrk.rps, wrk.errors
        print(f"inbound: {wrk.rps:.1f} req/s, {wrk.errors} errors", flush=True)

        # 2. outbound: drain the backlog
        out.backlog, _, _ = outbox_counts()
        queue_procs = [
            start_process(  # the outbox only (no slow-queue child): see outbound_drain.py
                [sys.executable, "-m", "boutik.cli", "worker", "--queue", "fast"],
                env=env,
                log=tmp / f"q{i}.log",
            )
            for i in range(workers)
        ]
        out.sends_per_s, out.drain_s = drain(emulator, out.backlog, timeout=args.drain_timeout)
        print(
            f"outbound: {out.backlog} rows, {out.sends_per_s:.1f} sends/s over {out.drain_s:.1f} s",
            flush=True,
        )

        # 3. invariants
        check_duplicates(out, port, signer)
        check_oversell(out, port, signer, world, args)
        check_delivery(out, emulator, args)
    finally:
        for proc in queue_procs:
            stop_process(proc)
        stop_process(web_proc)
        queue.flushdb()
    return out


def check_duplicates(out: Outcome, port: int, signer: Signer) -> None:
    """A Twilio retry racing its original: same MessageSid, same instant, two connections."""
    control = "+224629990000"
    post_signed(HOST, port, WA_PATH, signer.sign(whatsapp_form(signer.sid(), control, QUERY)))
    numbers = [f"+22462998{i:04d}" for i in range(DUPLICATES)]
    sids = [signer.sid() for _ in numbers]
    reqs = [signer.sign(whatsapp_form(sid, n, QUERY)) for sid, n in zip(sids, numbers, strict=True)]
    statuses = race(port, [[r] for pair in zip(reqs, reqs, strict=True) for r in pair])
    db = open_db(DB_URL)
    with db.session() as s:
        inbound = Counter(
            s.scalars(
                select(InboundMessage.external_id).where(InboundMessage.external_id.in_(sids))
            )
        )
        replies = Counter(
            s.scalars(select(Outbox.address).where(Outbox.address.in_([*numbers, control])))
        )
    db.engine.dispose()
    per_number = {replies[n] for n in numbers}
    ok = (
        all(st == 200 for st in statuses)
        and len(inbound) == DUPLICATES
        and set(inbound.values()) == {1}
        and per_number == {replies[control]}
    )
    out.check(
        "no duplicate effect",
        ok,
        f"{DUPLICATES} messages each posted twice at once: answers {Counter(statuses)}, "
        f"inbound rows per sid {sorted(set(inbound.values()))}, replies per number "
        f"{sorted(per_number)} (a number that sent once: {replies[control]})",
    )


def check_oversell(
    out: Outcome, port: int, signer: Signer, world: World, args: argparse.Namespace
) -> None:
    """Every racer walks to the order summary by webhook, then all confirm at once."""
    steps = ("Bonjour", LIMITED_QUERY, "1", "1", "1", "1")  # …, card, Acheter, address, Confirmer
    reqs = [
        [signer.sign(whatsapp_form(signer.sid(), number, text)) for text in steps]
        for number in world.racers
    ]
    statuses = race(port, reqs)
    db = open_db(DB_URL)
    with db.session() as s:
        stock = s.scalar(select(Product.stock).where(Product.id == world.limited_id))
        orders = (
            s.scalar(
                select(func.count(func.distinct(OrderItem.order_id))).where(
                    OrderItem.product_id == world.limited_id
                )
            )
            or 0
        )
    db.engine.dispose()
    ok = all(st == 200 for st in statuses) and orders == args.stock and stock == 0
    out.check(
        "no oversell",
        ok,
        f"{len(reqs)} buyers confirmed at once for stock {args.stock}: {orders} orders, "
        f"stock left {stock}, answers {Counter(statuses)}",
    )


def check_delivery(out: Outcome, emulator: str, args: argparse.Namespace) -> None:
    """Every row sent once: the emulator's accepted messages match the outbox one to one."""
    deadline = time.monotonic() + args.drain_timeout
    while True:
        _total, statuses, later = outbox_counts()
        busy = statuses.get(OutboxStatus.PENDING, 0) + statuses.get(OutboxStatus.SENDING, 0)
        if busy <= later or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    time.sleep(0.5)  # a send accepted by the emulator is recorded in the row right after
    db = open_db(DB_URL)
    with db.session() as s:
        rows = s.execute(
            select(
                Outbox.id,
                Outbox.status,
                Outbox.sent_channel,
                Outbox.sent_address,
                Outbox.provider_message_id,
            )
        ).all()
    db.engine.dispose()
    twilio, telegram = emulator_proc.sent(emulator)
    sent_rows = [r for r in rows if r.status in TERMINAL_OK]
    ours_twilio = Counter(r.provider_message_id for r in sent_rows if r.sent_channel != "telegram")
    ours_tg = Counter(
        (r.sent_address, r.provider_message_id) for r in sent_rows if r.sent_channel == "telegram"
    )
    theirs_twilio = Counter(sid for sid, _to in twilio)
    theirs_tg = Counter((chat, mid) for chat, mid, _m in telegram)
    not_sent = Counter(str(r.status) for r in rows if r.status not in TERMINAL_OK)
    ok = (
        not not_sent.keys() - {"pending"}
        and not_sent.get("pending", 0) == later
        and ours_twilio == theirs_twilio
        and ours_tg == theirs_tg
        and max([*theirs_twilio.values(), *theirs_tg.values(), 1]) == 1
    )
    out.check(
        "no lost or doubled message",
        ok,
        f"{len(rows)} outbox rows: {len(sent_rows)} sent, not sent {dict(not_sent) or 0} "
        f"({later} scheduled for later); emulator accepted {len(twilio)} Twilio + "
        f"{len(telegram)} Telegram messages; rows without a matching message "
        f"{sum((ours_twilio - theirs_twilio).values()) + sum((ours_tg - theirs_tg).values())}, "
        f"messages without a row "
        f"{sum((theirs_twilio - ours_twilio).values()) + sum((theirs_tg - ours_tg).values())}",
    )


# --- report ------------------------------------------------------------------------------------


def report(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    print()
    print(f"machine: {os.cpu_count()} cores; gunicorn gthread, {THREADS} threads per worker")
    print(
        "| web workers | queue workers | inbound req/s | ÷ 1 web | backlog | sends/s | ÷ 1 worker |"
    )
    print("|---|---|---|---|---|---|---|")
    base_in, base_out = outcomes[0].inbound_rps, outcomes[0].sends_per_s
    for o in outcomes:
        print(
            f"| {o.web} | {o.workers} | {o.inbound_rps:.1f} | {o.inbound_rps / base_in:.2f} | "
            f"{o.backlog} | {o.sends_per_s:.1f} | {o.sends_per_s / base_out:.2f} |"
        )
    print()
    for o in outcomes:
        for name, result in o.checks.items():
            print(f"{o.web}:{o.workers} {name}: {result}")
    failed = [f"{o.web}:{o.workers} {n}" for o in outcomes for n in o.failed]
    print()
    print("INVARIANTS: " + ("all hold" if not failed else "FAILED " + ", ".join(failed)))
    print("reproduce: .venv/bin/python -m bench.scale_out " + " ".join(sys.argv[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs", default="1:1,2:2,4:3", help="web:queue worker counts, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="wrk run per configuration")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--racers", type=int, default=30)
    parser.add_argument("--stock", type=int, default=5)
    parser.add_argument("--max-rps", type=float, default=500.0)
    parser.add_argument("--drain-timeout", type=float, default=90.0)
    args = parser.parse_args()
    require_wrk()
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    proc, emulator = emulator_proc.start()
    outcomes = []
    try:
        for pair in args.configs.split(","):
            web, workers = (int(x) for x in pair.split(":"))
            outcomes.append(run_config(web, workers, args, emulator, tmp))
    finally:
        stop_process(proc)
    report(outcomes, args)
    print(f"logs in {tmp}; total run time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
