"""Benchmark #7 — resident memory of a web worker and a queue worker over many conversations.

Why: a worker that leaks a few kB per conversation is restarted by the OOM killer after a busy
week; RSS sampled as conversations accumulate shows a leak as a steady slope.

A conversation = a new WhatsApp number sending "Bonjour" (greeting + menu) then a catalog search
("telephone samsung"): two signed Twilio webhook turns.
  --role web    the Flask app (channels_adapters.web.create_app) answers the turns in-process
                through app.test_client() on PostgreSQL db "bench"; its dispatcher is a no-op, so
                the replies stay PENDING in the outbox for the queue worker (and the web process
                holds no sender).
  --role queue  workers.outbox.deliver sends those outbox rows, one by one, through the real
                Twilio SDK to the emulator (devtools.emulators.serve_in_thread, in this
                process; its message store is emptied at every sample so it does not count).
Baseline: RSS after a warm-up (200 conversations, or the first 400 rows). RSS is sampled every
1 000 conversations (web) or every 1 000 conversations' worth of outbox rows (queue); the figure
is growth per 1 000 conversations (least-squares slope) and final ÷ baseline. Each role stops at
10 000 conversations or its time budget, whichever comes first — the output says which.

Needs: createdb -h 127.0.0.1 -U postgres bench
Reproduce (in this order; web truncates the tables and fills the outbox):
    .venv/bin/python -m bench.memory --role web --budget 80
    .venv/bin/python -m bench.memory --role queue --budget 80
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

from sqlalchemy import func, select

from boutik.runtime import Runtime
from channels_adapters.web import create_app
from commerce.messaging.models import Outbox, OutboxStatus
from devtools.emulators import create_emulator_app, serve_in_thread
from devtools.emulators.store import EmulatorStore
from devtools.testkit.builders import make_product, make_seller
from devtools.testkit.db import migrate, open_db, truncate_all
from devtools.testkit.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    post_twilio,
    whatsapp_form,
)
from settings.config import Config, load_config
from workers.outbox import deliver

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
WA = "/webhooks/twilio/whatsapp"
TARGET, EVERY, WARMUP = 10_000, 1_000, 200


def rss_mb(pid: int | str = "self") -> float:
    """VmRSS of a process (this one by default), in MB; the soak samples other processes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def config(emulator_url: str = "http://127.0.0.1:9") -> Config:
    env = {
        "DATABASE_URL": URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
    }
    return load_config(environ=env).replace(
        web__public_base_url=PUBLIC,
        twilio__api_base_url=emulator_url,
        telegram__api_base_url=f"{emulator_url}/telegram/bot",
        # memory, not pacing, is measured here: the provider limit must not be the bottleneck
        twilio__whatsapp_rate_per_s=100_000.0,
        media__dir=tempfile.mkdtemp(prefix="bench-media-"),
        queue__redis_url="",
    )


class NoDispatch:
    """The web process only commits the outbox; the queue role sends it."""

    def dispatch(self, ids: list[int]) -> None:
        pass

    def schedule(self, outbox_id: int, delay_s: float) -> None:
        pass

    def enqueue(self, fn: Any, *args: Any, delay_s: float = 0.0) -> None:
        pass

    def shutdown(self) -> None:
        pass


def report(role: str, done: int, samples: list[tuple[int, float]], base: float, why: str) -> None:
    print(f"role={role}: {done} conversations ({why}); RSS samples (conversations, MB):")
    print("  " + "  ".join(f"{n}:{mb:.1f}" for n, mb in samples))
    xs, ys = [n for n, _ in samples], [mb for _, mb in samples]
    slope = statistics.linear_regression(xs, ys).slope * 1000 if len(samples) > 2 else 0.0
    print(f"baseline after warm-up {base:.1f} MB, final {ys[-1]:.1f} MB")
    print(f"RATIO final/baseline = {ys[-1] / base:.3f}")
    print(f"growth = {slope:.2f} MB per 1 000 conversations (least-squares slope)")
    print(f"reproduce: .venv/bin/python -m bench.memory --role {role} --budget {ARGS.budget:g}")


def web(budget: float) -> None:
    migrate(URL)
    db = open_db(URL)
    truncate_all(db.engine)
    seller, _ = make_seller(db)
    for i in range(20):
        make_product(db, seller_id=seller, name=f"Téléphone Samsung Galaxy A{i}", price=1_500_000)
    db.engine.dispose()
    rt = Runtime(config())
    rt.__dict__["dispatcher"] = NoDispatch()
    client = create_app(rt.config, runtime=rt).test_client()

    def conversation(n: int) -> None:
        number = f"+22462{n:07d}"
        for body in ("Bonjour", "telephone samsung"):
            response = post_twilio(client, WA, whatsapp_form(number, body))
            assert response.status_code == 200, response.status_code

    for n in range(WARMUP):
        conversation(n)
    base = rss_mb()
    samples = [(0, base)]
    deadline = time.monotonic() + budget
    done = 0
    while done < TARGET and time.monotonic() < deadline:
        conversation(WARMUP + done)
        done += 1
        if done % EVERY == 0:
            samples.append((done, rss_mb()))
    if done % EVERY:
        samples.append((done, rss_mb()))
    report("web", done, samples, base, "target reached" if done == TARGET else "time budget")
    with rt.session_factory() as s:
        waiting = select(func.count(Outbox.id)).where(Outbox.status == OutboxStatus.PENDING)
        pending = s.scalar(waiting)
    print(f"outbox rows left PENDING for the queue: {pending} ({WARMUP + done} conversations)")


def queue(budget: float) -> None:
    store = EmulatorStore()
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )
    base_url, shutdown = serve_in_thread(app)
    rt = Runtime(config(base_url))
    with rt.session_factory() as s:
        ids = list(
            s.scalars(
                select(Outbox.id).where(Outbox.status == OutboxStatus.PENDING).order_by(Outbox.id)
            )
        )
        users = s.scalar(select(func.count(func.distinct(Outbox.user_id)))) or 1
    per_conv = len(ids) / users
    every_rows = max(1, round(EVERY * per_conv))
    warm = round(WARMUP * per_conv)
    for oid in ids[:warm]:
        deliver(rt, oid)
    store.reset()
    base = rss_mb()
    samples = [(0, base)]
    deadline = time.monotonic() + budget
    sent = 0
    outcomes: dict[str, int] = {}
    for oid in ids[warm:]:
        if time.monotonic() >= deadline:
            break
        outcome = deliver(rt, oid)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        sent += 1
        if sent % every_rows == 0:
            store.reset()
            samples.append((round(sent / per_conv), rss_mb()))
    store.reset()
    convs = round(sent / per_conv)
    if sent % every_rows:
        samples.append((convs, rss_mb()))
    why = "all pending rows sent" if sent == len(ids) - warm else "time budget"
    print(f"{sent} outbox rows delivered ({per_conv:.2f} per conversation): {outcomes}")
    report("queue", convs, samples, base, why)
    shutdown()


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=["web", "queue"], required=True)
    parser.add_argument("--budget", type=float, default=80.0, help="seconds after warm-up")
    ARGS = parser.parse_args()
    (web if ARGS.role == "web" else queue)(ARGS.budget)


ARGS: argparse.Namespace
if __name__ == "__main__":
    main()
