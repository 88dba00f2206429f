"""Benchmark — a support question's acknowledgement, and everyone else's, while a model is slow.

Why: with a model configured, a support question is parked and answered by a job; the webhook
must still answer at once ("Je regarde…"), and a model thinking for seconds must slow nobody
else down. Issue 18 found the opposite on SQLite: the job held the write lock across the call
and other buyers got 503 after the 5 s busy timeout.

What is timed: the webhook's answer time (signed Twilio form posted to the app's WSGI
callable in this process: the turn, its commit and its hand-over to the jobs, not the HTTP
socket) for
- baseline: known buyers' plain messages ("bonjour", "samsung"), no question in flight;
- ack: a support question's turn ("où est ma commande ?", answered by the model later);
- during: other buyers' plain messages while --askers questions wait on a model that takes
  --model-delay seconds (scripted server, devtools/testkit/scripted_openai.py).
Figures: p50/p99 of each, and during ÷ baseline, ack ÷ baseline (same run).

Back-ends: `sqlite` — the embedded default (a file database, jobs in this process's thread
pool); `pg` — PostgreSQL with Redis/RQ, the job run by a `boutik worker` child process, as in
production. Needs for pg: PostgreSQL db bench_ack (BENCH_ACK_DATABASE_URL), Redis db 11
(BENCH_ACK_REDIS_URL, flushed).

    .venv/bin/python -m bench.support_ack [--backends sqlite,pg] [--model-delay 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.loadgen import boutik_env, percentile, start_process, stop_process
from boutik.runtime import Runtime
from channels_adapters.web import create_app
from devtools.emulators import create_emulator_app, serve_in_thread
from devtools.emulators.store import EmulatorStore
from devtools.testkit import scripted_openai as scripted
from devtools.testkit.builders import make_product, make_seller
from devtools.testkit.db import migrate, open_db, truncate_all
from devtools.testkit.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC,
    TELEGRAM_TOKEN,
    post_twilio,
    whatsapp_form,
)
from settings.config import Config, load_config

PG_URL = os.environ.get(
    "BENCH_ACK_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_ack"
)
REDIS_URL = os.environ.get("BENCH_ACK_REDIS_URL", "redis://127.0.0.1:6379/11")
WA = "/webhooks/twilio/whatsapp"
QUESTION = "où est ma commande ?"
PLAIN = ("bonjour", "samsung")


@dataclass
class Figures:
    backend: str
    baseline: list[float]
    ack: list[float]
    during: list[float]
    statuses: dict[int, int]
    questions_at_model: int
    # Time from a plain message to its reply at the provider emulator (sent by the jobs): what
    # a slow model held up when one worker ran every job in turn.
    replied_baseline: list[float]
    replied_during: list[float]

    def line(self, name: str, values: list[float], base_of: list[float] | None = None) -> str:
        if not values:
            return f"  {name:<9} n=0"
        base = statistics.median(base_of or self.baseline)
        p50, p99 = percentile(values, 50), percentile(values, 99)
        return (
            f"  {name:<9} n={len(values):<4} p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms"
            f"  p50/baseline p50 {p50 / base:5.2f}"
        )


def _numbers(prefix: int, n: int) -> list[str]:
    return [f"+22462{prefix}{i:06d}" for i in range(n)]


def _config(backend: str, db_url: str, model_url: str, emulator_url: str, media: Path) -> Config:
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "DATABASE_URL": db_url,
    }
    return load_config(environ=env).replace(
        web__public_base_url=PUBLIC,
        twilio__api_base_url=emulator_url,
        telegram__api_base_url=f"{emulator_url}/telegram/bot",
        media__dir=str(media),
        queue__redis_url=REDIS_URL if backend == "pg" else "",
        llm__base_url=model_url,
        llm__model="scripted",
    )


def _worker(tmp: Path, model_url: str, emulator_url: str) -> object:
    overlay = tmp / "worker.toml"
    overlay.write_text(
        f'[llm]\nbase_url = "{model_url}"\nmodel = "scripted"\n'
        f'[twilio]\napi_base_url = "{emulator_url}"\n'
        f'[telegram]\napi_base_url = "{emulator_url}/telegram/bot"\n'
        f'[web]\npublic_base_url = "{PUBLIC}"\n'
    )
    env = boutik_env(PG_URL, REDIS_URL, overlay)
    return start_process(
        [str(Path(sys.executable).parent / "boutik"), "worker"], env=env, log=tmp / "worker.log"
    )


def run(backend: str, args: argparse.Namespace) -> Figures:
    tmp = Path(tempfile.mkdtemp(prefix=f"support-ack-{backend}-"))
    model = scripted.ScriptedOpenAI(default=scripted.answer("Bonjour"))
    model.when(
        "ma commande",
        scripted.delay(args.model_delay, scripted.answer("Votre commande arrive.")),
    )
    model_url, stop_model = model.serve()
    store = EmulatorStore()
    emulator_url, stop_emulator = serve_in_thread(
        create_emulator_app(
            store,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            telegram_token=TELEGRAM_TOKEN,
        )
    )
    if backend == "sqlite":
        db_url = f"sqlite:///{tmp / 'boutik.db'}"
        migrate(db_url)
    else:
        db_url = PG_URL
        migrate(db_url)
        truncate_all(open_db(db_url).engine)
        redis.Redis.from_url(REDIS_URL).flushdb()
    db = open_db(db_url)
    seller, _ = make_seller(db)
    for i in range(20):
        make_product(db, seller_id=seller, name=f"Samsung Galaxy A{i}")
    rt = Runtime(_config(backend, db_url, model_url, emulator_url, tmp / "media"))
    app = create_app(rt.config, runtime=rt)
    worker = None
    if backend == "pg":
        worker = _worker(tmp, model_url, emulator_url)
    else:
        from workers.assistant import warm_up

        warm_up(rt)
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def replies(number: str) -> int:
        return len(store.twilio_messages(to=f"whatsapp:{number}"))

    def post_and_reply(number: str, text: str, acks: list[float], replied: list[float]) -> None:
        before = replies(number)
        started = time.perf_counter()
        took = post(number, text)
        store.wait_for(lambda: replies(number) > before, timeout=60.0)
        with lock:
            acks.append(took)
            replied.append(time.perf_counter() - started)

    def post(number: str, text: str) -> float:
        client = app.test_client()
        started = time.perf_counter()
        status = post_twilio(client, WA, whatsapp_form(number, text)).status_code
        took = time.perf_counter() - started
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
        return took

    others = _numbers(1, args.others)
    askers = _numbers(2, args.askers)
    for number in others + askers:
        post(number, "bonjour")  # known buyers, greeted (not measured)
    # The greetings answered: the jobs (the worker process, on pg) are up and sending.
    store.wait_for(lambda: all(replies(n) >= 1 for n in others + askers), timeout=120.0)
    baseline: list[float] = []
    replied_baseline: list[float] = []
    for i in range(args.rounds):
        for n in others:
            post_and_reply(n, PLAIN[i % 2], baseline, replied_baseline)

    ack: list[float] = []
    during: list[float] = []
    replied_during: list[float] = []

    def ask(number: str) -> None:
        took = post(number, QUESTION)
        with lock:
            ack.append(took)

    askers_threads = [threading.Thread(target=ask, args=(n,)) for n in askers]
    for t in askers_threads:
        t.start()
    for t in askers_threads:
        t.join()
    # "During" starts once a question is at the model (a worker process may still be taking
    # it) and lasts while questions are there.
    _wait(lambda: model.in_flight > 0, 60.0)
    deadline = time.monotonic() + max(1.0, args.model_delay - 1.0)

    def chat(number: str) -> None:
        i = 0
        while time.monotonic() < deadline and model.in_flight > 0:
            post_and_reply(number, PLAIN[i % 2], during, replied_during)
            i += 1

    threads = [threading.Thread(target=chat, args=(n,)) for n in others[: args.concurrency]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def asked() -> int:
        return sum(scripted.last_user_text(r) == QUESTION for r in model.requests)

    # Every question answered before stopping (one slow-queue worker takes them in turn).
    _wait(
        lambda: asked() >= args.askers and model.in_flight == 0,
        args.askers * args.model_delay + 60,
    )
    time.sleep(2)
    if worker is not None:
        stop_process(worker)  # type: ignore[arg-type]
    rt.dispatcher.shutdown() if not rt.uses_redis else None
    rt.dispose()
    db.engine.dispose()
    stop_model()
    stop_emulator()
    return Figures(
        backend, baseline, ack, during, statuses, asked(), replied_baseline, replied_during
    )


def _wait(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,pg")
    parser.add_argument("--model-delay", type=float, default=10.0, help="seconds per answer")
    parser.add_argument("--askers", type=int, default=3, help="support questions in flight")
    parser.add_argument("--others", type=int, default=6, help="other buyers")
    parser.add_argument("--concurrency", type=int, default=3, help="others writing at once")
    parser.add_argument("--rounds", type=int, default=10, help="baseline messages per buyer")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        f = run(backend, args)
        print(f"{backend}: model {args.model_delay:.0f} s, {args.askers} questions in flight")
        print(f.line("baseline", f.baseline))
        print(f.line("ack", f.ack))
        print(f.line("during", f.during))
        print(f.line("replied", f.replied_baseline, f.replied_baseline))
        print(f.line("replied*", f.replied_during, f.replied_baseline))
        print(
            f"  HTTP statuses: {dict(sorted(f.statuses.items()))}; "
            f"questions that reached the model: {f.questions_at_model}"
        )
        print("  (replied: a plain message to its reply at the emulator, no question in flight;")
        print("   replied*: the same while questions wait on the model; ratio to replied's p50)")


if __name__ == "__main__":
    main()
