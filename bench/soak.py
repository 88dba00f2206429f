"""Soak (issue 9, resilience): mixed traffic from simulated users against production-shaped
processes, with memory, latency, backlog and losses sampled every minute.

Why: a leak of a few kB per turn, a latency that creeps up as tables grow, or an outbox that
drains a little slower than it fills are invisible in a 60-second benchmark and take a
production node down after a busy week. This runs the real processes long enough to see a
slope, and counts what a user would notice: errors, slow acknowledgements, lost messages.

What it starts (each in its own session, killed as a process group on exit or Ctrl-C):
  - the provider emulators (`bench.emulator_proc`, own process),
  - gunicorn `boutik.wsgi:app`, 2 workers × `--threads` threads,
  - 2 × `boutik worker` (RQ SimpleWorker + scheduler),
on PostgreSQL db `bench_soak` (migrated, truncated, demo-seeded here) and Redis db 8 (flushed),
configured as production is: a BOUTIK_CONFIG overlay for URLs, secrets in the environment, and
the providers' rate limits from config.toml (WhatsApp 80/s, SMS 1 segment/s, Telegram 30/s and
1/s per chat) unless `--fast-providers`.

Who talks (signed provider payloads over HTTP on loopback, `devtools.testkit.webhooks`): mostly
WhatsApp buyers (greeting, typo searches, browsing, cart, cash-on-delivery checkout, cancelling,
order tracking, FAQ questions to the support assistant, junk), Telegram sellers (accepting orders,
delivering themselves or publishing to couriers, restocking, /stats) and SMS couriers (ON/OFF,
accepting offers, pickup, delivery with the PIN read from the buyer's own messages at the emulator).
Users read their replies at the emulator and answer what they were asked, after a think time; a
global pacer caps the request rate (`--rate`).

Every minute one row: requests, errors (non-2xx or timeout), p50/p99 webhook acknowledgement
latency, RSS of each gunicorn worker and queue worker, outbox backlog (pending + sending),
messages the emulator received, orders placed and delivered. The table is also written to
var/soak-<timestamp>.csv. At the end: RSS first → last minute and slope per 10 minutes,
latency first vs last 5 minutes, errors, lost messages after a drain grace period, duplicates
at the emulator, and the command to reproduce.

Needs: createdb -h 127.0.0.1 -U postgres bench_soak (or BENCH_SOAK_DATABASE_URL)
Reproduce: .venv/bin/python -m bench.soak --minutes 30
"""

from __future__ import annotations

import abc
import argparse
import csv
import datetime as dt
import heapq
import itertools
import os
import random
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests
from sqlalchemy import func, select, text

from bench import emulator_proc
from bench.loadgen import boutik_env, free_port
from bench.memory import rss_mb
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.orders.models import Order, OrderStatus
from commerce.users.models import Role, User, UserRole
from devtools.seed.seeder import seed_demo
from devtools.testkit import processes
from devtools.testkit.builders import make_courier
from devtools.testkit.db import migrate, open_db, truncate_all
from devtools.testkit.webhooks import (
    TELEGRAM_SECRET,
    sms_form,
    telegram_callback,
    telegram_message,
    twilio_signature,
    whatsapp_form,
)

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get(
    "BENCH_SOAK_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_soak"
)
REDIS_URL = os.environ.get("BENCH_SOAK_REDIS_URL", "redis://127.0.0.1:6379/8")
WA, SMS = "/webhooks/twilio/whatsapp", "/webhooks/twilio/sms"
TIMEOUT_S = 10.0
BACKLOG = (OutboxStatus.PENDING, OutboxStatus.SENDING)
DONE = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)


# --- processes ------------------------------------------------------------------------------


def rss_or_zero(pid: int) -> float:
    """VmRSS of one process in MB, 0 once it is gone (a dead process shows in the table)."""
    try:
        return rss_mb(pid)
    except (OSError, RuntimeError):
        return 0.0


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers are the master's children)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(p) for p in f.read().split())
    except OSError:
        return []


@dataclass
class Stack:
    """The running processes and where they log."""

    emulator: subprocess.Popen[bytes]
    emulator_url: str
    web: subprocess.Popen[bytes]
    web_url: str
    workers: list[subprocess.Popen[bytes]]
    logs: Path

    def all(self) -> list[subprocess.Popen[bytes]]:
        return [self.web, *self.workers, self.emulator]

    def web_workers(self) -> list[int]:
        return children(self.web.pid)

    def stop(self) -> None:
        for proc in self.all():
            processes.stop(proc)


def start_stack(args: argparse.Namespace, work: Path, logs: Path) -> Stack:
    """Emulator first (its URL goes into the config), then gunicorn and the queue workers."""
    overlay = work / "boutik.toml"  # written below, once the emulator's URL is known
    env = boutik_env(
        DB_URL,
        REDIS_URL,
        overlay,
        BOUTIK_SECRET_KEY=secrets.token_urlsafe(32),
        PYTHONUNBUFFERED="1",
    )
    started: list[subprocess.Popen[bytes]] = []
    try:
        try:
            emulator, emulator_url = emulator_proc.start(stderr=(logs / "emulator.log").open("wb"))
        except RuntimeError as e:
            raise RuntimeError(f"{e}: see {logs / 'emulator.log'}") from e
        started.append(emulator)
        port = free_port()
        web_url = f"http://127.0.0.1:{port}"
        twilio = f'api_base_url = "{emulator_url}"\n'
        telegram = f'api_base_url = "{emulator_url}/telegram/bot"\n'
        if args.fast_providers:
            twilio += "whatsapp_rate_per_s = 1000.0\nsms_segments_per_s = 1000.0\n"
            telegram += "rate_per_s = 1000.0\nrate_per_chat_per_s = 1000.0\n"
        overlay.write_text(
            f'[web]\npublic_base_url = "{web_url}"\n[media]\ndir = "{work / "media"}"\n'
            f"[twilio]\n{twilio}[telegram]\n{telegram}"
        )
        web = processes.start(
            [
                sys.executable, "-m", "gunicorn", "-w", str(args.web_workers),
                "--threads", str(args.threads), "-b", f"127.0.0.1:{port}",
                "--timeout", "60", "boutik.wsgi:app",
            ],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=(logs / "gunicorn.log").open("wb"),
        )  # fmt: skip
        started.append(web)
        workers = []
        for i in range(args.queue_workers):
            workers.append(
                processes.start(
                    [sys.executable, "-m", "boutik.cli", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / f"worker{i + 1}.log").open("wb"),
                )
            )
            started.append(workers[-1])
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{web_url}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass  # still importing the app
            if time.monotonic() > deadline or web.poll() is not None:
                raise RuntimeError(f"gunicorn did not start: see {logs / 'gunicorn.log'}")
            time.sleep(0.2)
        while len(children(web.pid)) < args.web_workers and time.monotonic() < deadline:
            time.sleep(0.2)
        return Stack(emulator, emulator_url, web, web_url, workers, logs)
    except BaseException:
        for proc in started:
            processes.stop(proc)
        raise


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    seller_tg_ids: list[int]
    courier_phones: list[str]
    base_orders: int
    base_delivered: int


def prepare(args: argparse.Namespace, media: Path) -> World:
    """Migrate, truncate, seed the demo marketplace plus extra couriers; flush Redis db 8."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    migrate(DB_URL)
    db = open_db(DB_URL)
    try:
        truncate_all(db.engine)
        seed_demo(db.factory, media)
        with db.uow() as s:
            # Thirty minutes of orders must not empty the shelves; sellers restock on top.
            s.execute(text("UPDATE products SET stock = stock + 500"))
        seeded_couriers = _phones(db, Role.COURIER)
        for i in range(max(0, args.couriers - len(seeded_couriers))):
            prefecture = ("Kaloum", "Dixinn", "Matam", "Ratoma", "Matoto")[i % 5]
            make_courier(db, prefecture=prefecture)
        with db.session() as s:
            sellers = s.scalars(
                select(User.telegram_id)
                .join(UserRole)
                .where(UserRole.role == Role.SELLER, User.telegram_id.is_not(None))
                .order_by(User.id)
            ).all()
        orders, delivered = order_counts(db)
        return World(
            seller_tg_ids=[int(t) for t in sellers][: args.sellers],
            courier_phones=_phones(db, Role.COURIER)[: args.couriers],
            base_orders=orders,
            base_delivered=delivered,
        )
    finally:
        db.engine.dispose()


def _phones(db: Any, role: Role) -> list[str]:
    with db.session() as s:
        return [
            p
            for p in s.scalars(
                select(User.phone).join(UserRole).where(UserRole.role == role).order_by(User.id)
            )
            if p
        ]


def order_counts(db: Any) -> tuple[int, int]:
    delivered = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
    with db.session() as s:
        total = s.scalar(select(func.count(Order.id))) or 0
        done = s.scalar(select(func.count(Order.id)).where(Order.status.in_(delivered))) or 0
    return int(total), int(done)


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Minute:
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0


class Stats:
    """Request outcomes, bucketed per sampling period, plus run totals and error samples."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = Minute()
        self.requests = 0
        self.errors = 0
        self.error_samples: list[str] = []
        self.events: Counter[str] = Counter()
        self.driver_traces: list[str] = []
        self.t0 = time.monotonic()  # reset when the users start
        self.slowest: list[tuple[float, str]] = []  # a min-heap of the 10 slowest requests

    def record(self, latency: float, ok: bool, what: str, detail: str = "") -> None:
        with self.lock:
            self.current.requests += 1
            self.requests += 1
            self.current.latencies.append(latency)
            heapq.heappush(
                self.slowest, (latency, f"{what} at +{time.monotonic() - self.t0:.0f} s")
            )
            if len(self.slowest) > 10:
                heapq.heappop(self.slowest)
            if not ok:
                self.current.errors += 1
                self.errors += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{what}: {detail}")

    def reset(self) -> None:
        """Forget the warm-up."""
        with self.lock:
            self.current = Minute()
            self.requests = self.errors = 0
            self.error_samples.clear()
            self.slowest.clear()

    def driver_error(self, trace: str) -> None:
        with self.lock:
            self.events["load generator errors"] += 1
            if len(self.driver_traces) < 3:
                self.driver_traces.append(trace)

    def event(self, name: str) -> None:
        with self.lock:
            self.events[name] += 1

    def take(self) -> Minute:
        with self.lock:
            minute, self.current = self.current, Minute()
            return minute


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- talking to the server and the emulator -------------------------------------------------


@dataclass(frozen=True)
class Req:
    """One inbound provider message: WhatsApp/SMS text (form extras allowed) or a Telegram
    message or button tap."""

    kind: str  # "wa" | "sms" | "tg" | "tap"
    body: str = ""
    extra: tuple[tuple[str, str], ...] = ()


@dataclass
class Msg:
    body: str
    media: bool = False
    callbacks: list[str] = field(default_factory=list)


class Derail(Exception):
    """The reply did not offer what the simulated user meant to do next."""


def fold(value: str) -> str:
    """Lower case without accents: the courier SMS texts drop accents to stay in GSM-7."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Env:
    """What every simulated user shares: HTTP, the pacer, the stats, orders → buyer phone."""

    def __init__(self, stack: Stack, stats: Stats, rate: float, max_requests: int) -> None:
        self.stack, self.stats = stack, stats
        self.interval = 1.0 / rate
        self.max_requests = max_requests
        self.stop = threading.Event()
        self._pace_lock = threading.Lock()
        self._next_slot = time.monotonic()
        self._sent = 0
        self._local = threading.local()
        self.buyer_of_order: dict[int, str] = {}

    @property
    def http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def pace(self) -> bool:
        """Wait for the next request slot; False once the request budget is spent."""
        with self._pace_lock:
            if self._sent >= self.max_requests:
                self.stop.set()
                return False
            self._sent += 1
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        time.sleep(max(0.0, slot - now))
        return not self.stop.is_set()

    def send(self, address: str, req: Req) -> None:
        """Post one signed provider payload and record the acknowledgement."""
        extra = dict(req.extra)
        if req.kind in ("wa", "sms"):
            path = WA if req.kind == "wa" else SMS
            form = (
                whatsapp_form(address, req.body, **extra)
                if req.kind == "wa"
                else sms_form(address, req.body, **extra)
            )
            url = self.stack.web_url + path
            kwargs: dict[str, Any] = {
                "data": form,
                "headers": {"X-Twilio-Signature": twilio_signature(url, form)},
            }
        else:
            chat = int(address)
            update = (
                telegram_callback(chat, req.body)
                if req.kind == "tap"
                else telegram_message(chat, req.body, **extra)
            )
            url = self.stack.web_url + "/webhooks/telegram"
            kwargs = {
                "json": update,
                "headers": {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            }
        what = f"{req.kind} {address} {req.body[:40]!r}"
        t0 = time.perf_counter()
        try:
            response = self.http.post(url, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as exc:
            self.stats.record(time.perf_counter() - t0, False, what, f"{type(exc).__name__}")
            return
        latency = time.perf_counter() - t0
        ok = 200 <= response.status_code < 300
        self.stats.record(latency, ok, what, f"HTTP {response.status_code} {response.text[:200]}")

    def inbox(self, channel: str, address: str, after: int) -> list[Msg]:
        """What the bot sent this user since message `after`, read at the emulator."""
        if channel == "tg":
            url, params = "/_soak/telegram", {"chat": address, "after": after}
        else:
            to = f"whatsapp:{address}" if channel == "wa" else address
            url, params = "/_soak/twilio", {"to": to, "after": after}
        try:
            response = self.http.get(self.stack.emulator_url + url, params=params, timeout=10)
            return [Msg(**m) for m in response.json()]
        except (requests.RequestException, ValueError):
            return []

    def pin_of(self, order_id: int) -> str | None:
        """The buyer's PIN for an order, as the courier hears it: from the buyer's messages."""
        phone = self.buyer_of_order.get(order_id)
        if phone is None:
            return None
        for msg in self.inbox("wa", phone, 0):
            found = re.search(rf"Commande {order_id} .*?Code PIN : (\d{{6}})", msg.body, re.S)
            if found:
                return found.group(1)
        return None


def numbered(msgs: list[Msg]) -> list[tuple[str, str]]:
    """The numbered choices ("1. Catalogue") of the latest message that has any."""
    for msg in reversed(msgs):
        found = re.findall(r"^\s*(\d+)\.\s+(.+?)\s*$", msg.body, re.M)
        if found:
            return found
    return []


def choose(msgs: list[Msg], *labels: str) -> Req:
    """Answer a numbered WhatsApp menu with the number of the first label found."""
    options = numbered(msgs)
    for label in labels:
        for number, text_ in options:
            if fold(label) in fold(text_):
                return Req("wa", number)
    raise Derail(f"no {labels} in {[t for _, t in options][:6]}")


Session = Generator[Req, list[Msg], Any]


def idle() -> Session:
    """A turn spent doing nothing (reading, away from the phone)."""
    return
    yield


class Person(abc.ABC):
    """A simulated person: reads new messages, then sends at most one thing per step."""

    channel = "wa"
    reply_timeout_s = 30.0
    # A turn's replies are separate outbox rows: read them once none arrived for this long
    # (Telegram leaves at 1 message/s per chat, SMS at 1 segment/s for everyone).
    settle_s = 1.0

    def __init__(self, env: Env, address: str, mean_think: float, rng: random.Random) -> None:
        self.env, self.address, self.rng = env, address, rng
        self.mean_think = mean_think
        self.seen = 0
        self.session: Session | None = None
        self.urgent: Session | None = None
        self.waiting_since: float | None = None
        self.last_arrival = 0.0
        self.pending: list[Msg] = []
        self.lost = False  # derailed: the next session starts with MENU, as a lost user does

    def think(self) -> float:
        return min(max(self.rng.expovariate(1 / self.mean_think), 1.0), 5 * self.mean_think)

    def step(self) -> float:
        new = self.env.inbox(self.channel, self.address, self.seen)
        self.seen += len(new)
        self.pending += new
        self.absorb(new)
        now = time.monotonic()
        if new:
            self.last_arrival = now
        if self.waiting_since is not None:
            answered = self.last_arrival >= self.waiting_since
            if answered and now - self.last_arrival < self.settle_s:
                return self.settle_s / 2
            if not answered and now - self.waiting_since < self.reply_timeout_s:
                return 1.0
            if not answered:
                self.env.stats.event(f"{type(self).__name__.lower()} no reply in time")
        self.waiting_since = None
        replies, self.pending = self.pending, []
        req = self.next_request(replies)
        if req is None:
            return self.think()
        if not self.env.pace():
            return 0.0
        self.env.send(self.address, req)
        self.waiting_since = time.monotonic()
        return self.think()

    def next_request(self, replies: list[Msg]) -> Req | None:
        if self.urgent is not None:
            self.session, self.urgent = self.urgent, None
            return self._advance(None)
        if self.session is None:
            self.session = self.new_session()
            return self._advance(None)
        return self._advance(replies)

    def _advance(self, replies: list[Msg] | None) -> Req | None:
        assert self.session is not None
        try:
            return next(self.session) if replies is None else self.session.send(replies)
        except StopIteration:
            self.session = None
        except Derail as exc:
            self.env.stats.event(f"{type(self).__name__.lower()} derailed: {exc}"[:90])
            self.session = None
            self.lost = True
        return None

    def absorb(self, new: list[Msg]) -> None:
        """Notice notifications (a PIN, an offer, an alert) among the new messages."""
        return None  # most people notice nothing outside their own journey

    @abc.abstractmethod
    def new_session(self) -> Session:
        """The next journey of this kind of user (a generator of requests)."""


# --- buyers (WhatsApp) ----------------------------------------------------------------------

QUERIES = (
    "telefone samsng", "telephone samsung", "tecno sprak", "infinix hot", "nokia 105",
    "iphone reconditione", "pagne wax", "pagne wacs vlisco", "sac a main cuir", "chausures nike",
    "baskets adidas", "sandales", "riz parfume", "huile dinor", "lait nido", "televiseur samsng",
    "ecouteurs bluetooth", "chargeur oraimo", "ventilateur", "marmite", "bazin riche",
    "creme nivea", "parfum dior", "chaussures moins de 200000", "samsung noir", "jean levis",
)  # fmt: skip
QUESTIONS = (
    "je peux payer avec Orange Money ?",
    "combien de temps pour la livraison ?",
    "pourquoi ma commande n'est pas arrivée ?",
    "comment retourner un article ?",
    "est-ce que vous livrez à Kankan ?",
    "qui paie la livraison ?",
    "comment marche le code PIN ?",
)
JUNK = ("asdfgh", "🤔", "??", "ok", "y" * 600, "<b>gras</b>", "1234567", "merci", "\x01", ".")
PINS = (("9.6412", "-13.62", "Kipé, Conakry"), ("9.535", "-13.68", "Kaloum"))


class Buyer(Person):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.orders: list[int] = []

    def absorb(self, new: list[Msg]) -> None:
        for msg in new:
            placed = re.search(r"Commande (\d+) \(.*?\) : .*?Code PIN : (\d{6})", msg.body, re.S)
            if placed:
                order_id = int(placed.group(1))
                self.orders.append(order_id)
                self.env.buyer_of_order[order_id] = self.address
                self.env.stats.event("buyer order confirmed")
            if "Confirmez-vous avoir payé" in msg.body:
                self.urgent = self.confirm_cash([msg])

    def confirm_cash(self, msgs: list[Msg]) -> Session:
        replies = yield choose(msgs, "Oui")
        self.env.stats.event("buyer confirmed cash")
        if any("1 à 5" in m.body for m in replies):
            replies = yield choose(replies, self.rng.choice(("5 - Excellent", "4 - Bien")))
            yield Req("wa", self.rng.choice(("Très bien, merci", "Livreur rapide")))

    def new_session(self) -> Session:
        kinds = (
            (self.purchase, 30), (self.cart, 12), (self.browse, 15), (self.ask, 10),
            (self.track, 10), (self.cancel, 5), (self.junk, 10), (self.misc, 8),
        )  # fmt: skip
        session = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        return session()

    def search(self) -> Session:
        """Typo search → a product card; returns the card's messages."""
        if self.lost or self.rng.random() < 0.4:
            self.lost = False
            yield Req("wa", self.rng.choice(("bonjour", "Bonjour", "salut", "MENU")))
        replies = yield Req("wa", self.rng.choice(QUERIES))
        if self.rng.random() < 0.2 and any(t == "Plus" for _, t in numbered(replies)):
            replies = yield choose(replies, "Plus")
        if any("rien trouvé" in m.body for m in replies):
            self.env.stats.event("buyer search found nothing")
            return []
        options = [(n, t) for n, t in numbered(replies) if t not in ("Plus", "Menu")]
        if not options or options[0][1] == "Catalogue":  # the main menu, not a result list
            raise Derail("no search result")
        number, _ = self.rng.choice(options[:5])
        return (yield Req("wa", number))

    def where_to(self, replies: list[Msg]) -> Session:
        """The delivery step: a location pin, pickup, a saved or a new address."""
        options = [t for _, t in numbered(replies)]
        roll = self.rng.random()
        if roll < 0.4 and any("position" in t for t in options):
            yield choose(replies, "position")
            lat, lng, where = self.rng.choice(PINS)
            extra = (("Latitude", lat), ("Longitude", lng), ("Address", where), ("Label", where))
            return (yield Req("wa", "", extra))
        if roll < 0.55 and any("Retrait" in t for t in options):
            return (yield choose(replies, "Retrait"))
        if options and "Nouvelle" not in options[0]:
            return (yield Req("wa", "1"))  # a saved address, one tap
        replies = yield choose(replies, "Nouvelle")
        replies = yield choose(replies, "Conakry")
        for _ in range(2):  # commune, then quartier
            choices = [n for n, t in numbered(replies) if "Autre" not in t]
            if not choices:
                raise Derail("no place list")
            replies = yield Req("wa", self.rng.choice(choices[:6]))
        return (yield Req("wa", "derrière la grande mosquée"))

    def purchase(self) -> Session:
        card = yield from self.search()
        if not card:
            return
        replies = yield choose(card, "Acheter")
        summary = yield from self.where_to(replies)
        if self.rng.random() < 0.1:
            summary = yield choose(summary, "Mode de paiement")
            summary = yield choose(summary, "Orange Money", "Espèces")
        yield choose(summary, "Confirmer")

    def cart(self) -> Session:
        card = yield from self.search()
        if not card:
            return
        replies = yield choose(card, "Ajouter au panier")
        if any("Combien" in m.body for m in replies):
            replies = yield Req("wa", str(self.rng.choice((1, 1, 2))))
        if self.rng.random() < 0.3:
            return
        replies = yield Req("wa", self.rng.choice(("PANIER", "panier")))
        replies = yield choose(replies, "Commander")
        summary = yield from self.where_to(replies)
        yield choose(summary, "Confirmer")

    def browse(self) -> Session:
        self.lost = False
        replies = yield Req("wa", "bonjour")
        replies = yield choose(replies, "Catalogue")
        categories = [n for n, _ in numbered(replies)]
        if not categories:
            raise Derail("no categories")
        replies = yield Req("wa", self.rng.choice(categories))
        products = [n for n, t in numbered(replies) if t not in ("Plus", "Menu")]
        if products:
            yield Req("wa", self.rng.choice(products[:5]))

    def ask(self) -> Session:
        yield Req("wa", self.rng.choice(QUESTIONS))

    def track(self) -> Session:
        if self.orders and self.rng.random() < 0.7:
            yield Req("wa", f"où est ma commande {self.rng.choice(self.orders)}")
        else:
            yield Req("wa", self.rng.choice(("COMMANDES", "mes commandes")))

    def cancel(self) -> Session:
        if not self.orders:
            return
        replies = yield Req("wa", f"annuler {self.orders[-1]}")
        if any("Annuler la commande" in m.body for m in replies):
            yield choose(replies, "Oui, annuler")
            self.env.stats.event("buyer cancelled")

    def junk(self) -> Session:
        yield Req("wa", self.rng.choice(JUNK))

    def misc(self) -> Session:
        yield Req("wa", self.rng.choice(("AIDE", "POINTS", "MENU", "panier")))


# --- sellers (Telegram) ---------------------------------------------------------------------


class Seller(Person):
    channel = "tg"
    settle_s = 2.0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.todo: list[tuple[str, int]] = []  # ("accept" | "dispatch" | ..., order id)
        self.retries: dict[int, int] = {}

    def absorb(self, new: list[Msg]) -> None:
        for msg in new:
            for data in msg.callbacks:
                parts = data.split(":")
                if data.startswith("o:a:"):
                    self.todo.append(("accept", int(parts[2])))
                elif data.startswith("d:p:"):
                    self.todo.append(("dispatch", int(parts[2])))
                elif data.startswith("d:b:") and ("bonus", int(parts[2])) not in self.todo:
                    self.todo.append(("bonus", int(parts[2])))
                elif data.startswith("d:c:"):
                    self.todo.append(("pin", int(parts[2])))
        self.todo = list(dict.fromkeys(self.todo))
        if self.todo and self.session is None:
            self.urgent = self.work()

    def work(self) -> Session:
        while self.todo:
            what, order_id = self.todo.pop(0)
            if what == "accept":
                yield Req("tap", f"o:a:{order_id}")
                self.env.stats.event("seller accepted")
            elif what == "dispatch":
                if self.rng.random() < 0.35:
                    self.env.stats.event("seller offered to couriers")
                    yield Req("tap", f"d:p:{order_id}")  # to the couriers (SMS offers)
                else:
                    self.env.stats.event("seller delivers personally")
                    yield Req("tap", f"d:m:{order_id}")
            elif what == "bonus":
                yield Req("tap", f"d:b:{order_id}:0")
                self.env.stats.event("seller published")
            elif what == "pin":
                pin = self.env.pin_of(order_id)
                if pin is None:  # the buyer has not read their confirmation yet: later
                    self.retries[order_id] = self.retries.get(order_id, 0) + 1
                    if self.retries[order_id] < 20:
                        self.todo.append((what, order_id))
                    return
                yield Req("tap", f"d:c:{order_id}")
                yield Req("tg", pin)
                self.env.stats.event("seller delivered")

    def new_session(self) -> Session:
        if self.todo:
            return self.work()
        roll = self.rng.random()
        if roll < 0.08:
            return self.stats()
        if roll < 0.3:
            return self.restock()
        if roll < 0.45:
            return self.command(self.rng.choice(("/commandes", "/aide", "/start")))
        return idle()

    def command(self, name: str) -> Session:
        yield Req("tg", name)

    def stats(self) -> Session:
        yield Req("tg", "/stats")

    def restock(self) -> Session:
        replies = yield Req("tg", "/produits")
        products = [c for m in replies for c in m.callbacks if c.startswith("pr:")]
        if not products:
            raise Derail("no product list")
        replies = yield Req("tap", self.rng.choice(products))
        restock = [c for m in replies for c in m.callbacks if c.startswith("ps:")]
        if not restock:
            raise Derail("no restock button")
        yield Req("tap", restock[0])
        yield Req("tg", str(self.rng.choice((5, 10, 20))))
        self.env.stats.event("seller restocked")


# --- couriers (SMS) -------------------------------------------------------------------------


class Courier(Person):
    channel = "sms"
    reply_timeout_s = 180.0  # SMS leave at 1 segment/s for everyone: replies queue
    settle_s = 2.0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.offers: list[int] = []
        self.on = True

    def absorb(self, new: list[Msg]) -> None:
        for msg in new:
            offer = re.match(r"Course (\d+):", msg.body)
            if offer and int(offer.group(1)) not in self.offers:
                self.offers.append(int(offer.group(1)))
                self.env.stats.event("courier offered")
        if self.offers and self.session is None and self.on:
            self.urgent = self.job(self.offers.pop(0))

    def job(self, order_id: int) -> Session:
        replies = yield Req("sms", self.rng.choice((f"A{order_id}", f"a {order_id}")))
        if any("prise" in fold(m.body) for m in replies) or not replies:
            return
        self.env.stats.event("courier accepted")
        yield Req("sms", f"P{order_id}")
        pin = self.env.pin_of(order_id)
        if pin is None:  # an order the demo seed placed: no buyer here holds its PIN
            self.env.stats.event("courier without a PIN (seeded order)")
            return
        replies = yield Req("sms", f"D{order_id} {pin}")
        if any("code bon" in fold(m.body) for m in replies):
            self.env.stats.event("courier delivered")

    def new_session(self) -> Session:
        roll = self.rng.random()
        if roll < 0.1:
            self.on = not self.on
            return self.say("ON" if self.on else "OFF")
        if roll < 0.25:
            return self.say(self.rng.choice(("GAINS", "COURSES", "AIDE")))
        return self.say("ON") if not self.on else idle()

    def say(self, body: str) -> Session:
        yield Req("sms", body)


# --- the load generator ---------------------------------------------------------------------


def warm_up(env: Env, count: int = 32) -> None:
    """A few turns before the clock starts, so the first minute is not the imports' minute.

    Each gunicorn thread pays its first-request costs (lazy imports, the catalogue's first
    search, connection pools) once; left in, they would make minute 1 look slow and the
    first-vs-last latency ratio look like an improvement.
    """

    def one(i: int) -> None:
        number = f"+22466{i:07d}"
        env.send(number, Req("wa", "bonjour"))
        env.send(number, Req("wa", QUERIES[i % len(QUERIES)]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    env.stats.reset()


def run_users(
    env: Env, users: list[Person], threads: int, deadline: float
) -> list[threading.Thread]:
    """Threads that step whichever user is due next, until the deadline or the budget."""
    heap: list[tuple[float, int, Person]] = []
    seq = itertools.count()
    now = time.monotonic()
    for user in users:  # spread the first steps over one mean think time
        heapq.heappush(heap, (now + random.uniform(0, user.mean_think), next(seq), user))
    cond = threading.Condition()

    def loop() -> None:
        while not env.stop.is_set() and time.monotonic() < deadline:
            with cond:
                if not heap:
                    cond.wait(0.5)
                    continue
                due, _, user = heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    cond.wait(min(wait, 0.5))
                    continue
                heapq.heappop(heap)
            try:
                delay = user.step()
            except Exception:  # a bug in the simulated user must not stop the soak
                env.stats.driver_error(traceback.format_exc())
                user.session = None
                delay = user.think()
            with cond:
                heapq.heappush(heap, (time.monotonic() + delay, next(seq), user))
                cond.notify()

    workers = [threading.Thread(target=loop, name=f"user-{i}", daemon=True) for i in range(threads)]
    for t in workers:
        t.start()
    return workers


@dataclass
class Sample:
    elapsed_min: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    rss: dict[str, float]
    backlog: int
    emulator: int
    orders: int
    delivered: int


class Sampler:
    """Once a period: the request bucket, RSS per process, outbox backlog, emulator, orders."""

    def __init__(self, stack: Stack, stats: Stats, world: World, csv_path: Path) -> None:
        self.stack, self.stats, self.world = stack, stats, world
        self.db = open_db(DB_URL)
        self.samples: list[Sample] = []
        self.t0 = time.monotonic()
        self.csv_path = csv_path
        self.names: list[str] = []

    def rss(self) -> dict[str, float]:
        out = {f"web{i + 1}": rss_or_zero(pid) for i, pid in enumerate(self.stack.web_workers())}
        for i, proc in enumerate(self.stack.workers):
            out[f"queue{i + 1}"] = rss_or_zero(proc.pid)
        return out

    def emulator_total(self) -> dict[str, int]:
        try:
            return dict(requests.get(self.stack.emulator_url + "/_soak/summary", timeout=5).json())
        except (requests.RequestException, ValueError):
            return {}

    def backlog(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count(Outbox.id)).where(Outbox.status.in_(BACKLOG))))

    def sample(self) -> Sample:
        minute = self.stats.take()
        counts = self.emulator_total()
        orders, delivered = order_counts(self.db)
        row = Sample(
            elapsed_min=(time.monotonic() - self.t0) / 60,
            requests=minute.requests,
            errors=minute.errors,
            p50_ms=percentile(minute.latencies, 0.50) * 1000,
            p99_ms=percentile(minute.latencies, 0.99) * 1000,
            rss=self.rss(),
            backlog=self.backlog(),
            emulator=sum(counts.get(k, 0) for k in ("whatsapp", "sms", "telegram")),
            orders=orders - self.world.base_orders,
            delivered=delivered - self.world.base_delivered,
        )
        self.samples.append(row)
        self.emit(row)
        return row

    def emit(self, row: Sample) -> None:
        if not self.names:
            self.names = list(row.rss)
            rss_head = " ".join(f"{n + ' MB':>10}" for n in self.names)
            print(
                f"{'min':>5} {'req':>5} {'err':>4} {'p50 ms':>7} {'p99 ms':>7} {rss_head} "
                f"{'backlog':>7} {'emulator':>8} {'orders':>6} {'deliv':>5}",
                flush=True,
            )
            with self.csv_path.open("w", newline="") as f:
                csv.writer(f).writerow(
                    ["elapsed_min", "requests", "errors", "p50_ms", "p99_ms"]
                    + [f"rss_{n}_mb" for n in self.names]
                    + ["outbox_backlog", "emulator_messages", "orders_placed", "orders_delivered"]
                )
        rss = [row.rss.get(n, 0.0) for n in self.names]
        print(
            f"{row.elapsed_min:5.1f} {row.requests:5d} {row.errors:4d} {row.p50_ms:7.1f} "
            f"{row.p99_ms:7.1f} " + " ".join(f"{v:10.1f}" for v in rss) + f" {row.backlog:7d} "
            f"{row.emulator:8d} {row.orders:6d} {row.delivered:5d}",
            flush=True,
        )
        with self.csv_path.open("a", newline="") as f:
            csv.writer(f).writerow(
                [f"{row.elapsed_min:.2f}", row.requests, row.errors]
                + [f"{row.p50_ms:.1f}", f"{row.p99_ms:.1f}"]
                + [f"{v:.1f}" for v in rss]
                + [row.backlog, row.emulator, row.orders, row.delivered]
            )


# --- the end: drain, losses, duplicates, summary --------------------------------------------


def drain(sampler: Sampler, grace_s: float) -> None:
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and sampler.backlog() > 0:
        time.sleep(2)


def losses_and_duplicates(sampler: Sampler) -> tuple[dict[str, int], dict[str, int]]:
    """Outbox rows by status, and per channel what the emulator got beyond what was sent.

    Every WhatsApp and Telegram row is one provider message, an SMS row one per part
    (payload "parts_sent" when split); anything the emulator holds beyond that was sent twice.
    """
    with sampler.db.session() as s:
        by_status = {
            str(k): int(v)
            for k, v in s.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
        }
        sent: dict[str, int] = defaultdict(int)
        rows = s.execute(
            select(Outbox.sent_channel, Outbox.payload).where(Outbox.status.in_(DONE))
        ).all()
        for channel, payload in rows:
            parts = int((payload or {}).get("parts_sent", 1)) if channel == "sms" else 1
            sent[str(channel)] += max(1, parts)
    counts = sampler.emulator_total()
    dupes = {ch: counts.get(ch, 0) - sent.get(ch, 0) for ch in ("whatsapp", "sms", "telegram")}
    return by_status, dupes


def slope_per_10min(points: list[tuple[float, float]]) -> str:
    """Least-squares growth per 10 minutes; a slope through two points is noise."""
    if len(points) < 3:
        return "n/a (< 3 samples)"
    xs, ys = zip(*points, strict=True)
    return f"{statistics.linear_regression(xs, ys).slope * 10:+.2f} MB per 10 min"


def summarize(args: argparse.Namespace, sampler: Sampler, stats: Stats, command: str) -> None:
    rows = sampler.samples
    print("\n=== soak summary ===")
    if not rows:
        print("no sample taken")
        return
    print(f"duration {rows[-1].elapsed_min:.1f} min, {stats.requests} requests, "
          f"{stats.requests / max(1e-9, rows[-1].elapsed_min * 60):.1f} req/s")  # fmt: skip
    for name in sampler.names:
        points = [(r.elapsed_min, r.rss.get(name, 0.0)) for r in rows]
        first, last = points[0][1], points[-1][1]
        print(f"RSS {name:7s} {first:7.1f} → {last:7.1f} MB  (×{last / max(first, 1e-9):.3f}; "
              f"slope {slope_per_10min(points)})")  # fmt: skip
    window = max(1, min(5, len(rows) // 2))
    head, tail = rows[:window], rows[-window:]

    def p(rs: list[Sample], attr: str) -> float:
        weights = [r.requests for r in rs]
        total = sum(weights) or 1
        return sum(getattr(r, attr) * w for r, w in zip(rs, weights, strict=True)) / total

    for attr in ("p50_ms", "p99_ms"):
        a, b = p(head, attr), p(tail, attr)
        print(f"latency {attr[:3]} first {window} min {a:6.1f} ms, last {window} min {b:6.1f} ms "
              f"(last/first ×{b / max(a, 1e-9):.2f})")  # fmt: skip
    print("slowest acknowledgements: ")
    for latency, what in sorted(stats.slowest, reverse=True):
        print(f"  {latency * 1000:7.0f} ms  {what}")
    for trace in stats.driver_traces:
        print(f"load generator error (not the product's):\n{trace}")
    print(f"errors (non-2xx or timeout): {stats.errors}")
    for sample in stats.error_samples:
        print(f"  {sample}")
    print(f"draining the outbox (grace {args.drain:g} s)…", flush=True)
    drain(sampler, args.drain)
    by_status, dupes = losses_and_duplicates(sampler)
    lost = sum(v for k, v in by_status.items() if OutboxStatus(k) not in DONE)
    skipped = by_status.get(OutboxStatus.SKIPPED.value, 0)
    print(f"outbox rows by status: {dict(sorted(by_status.items()))}")
    print(f"lost messages (not sent after the grace period): {lost - skipped} "
          f"(+ {skipped} skipped on purpose)")  # fmt: skip
    print(f"duplicates at the emulator (received − sent rows, per channel): {dupes}")
    print(f"orders placed {rows[-1].orders}, delivered {rows[-1].delivered}")
    print("journey events: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.events.items())))
    print(f"table: {sampler.csv_path}")
    print(f"logs: {sampler.stack.logs}")
    print(f"reproduce: {command}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="run time (default 30)")
    parser.add_argument("--max-requests", type=int, default=30_000, help="request budget")
    parser.add_argument("--users", type=int, default=500, help="simulated people (default 500)")
    parser.add_argument("--sellers", type=int, default=7, help="of --users, Telegram sellers")
    parser.add_argument("--couriers", type=int, default=15, help="of --users, SMS couriers")
    parser.add_argument("--rate", type=float, default=12.0, help="requests/s cap (default 12)")
    parser.add_argument("--sample-seconds", type=float, default=60.0, help="table row period")
    parser.add_argument("--drain", type=float, default=120.0, help="grace to drain, seconds")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn -w (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn --threads (default 8)")
    parser.add_argument("--queue-workers", type=int, default=2, help="boutik worker processes")
    parser.add_argument("--seed", type=int, default=9, help="random seed of the users")
    parser.add_argument(
        "--fast-providers",
        action="store_true",
        help="lift the provider rate limits (default: production pacing, SMS 1 segment/s)",
    )
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.soak " + shlex.join(sys.argv[1:] if argv is None else argv)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (ROOT / "var").mkdir(exist_ok=True)
    logs = ROOT / "var" / f"soak-{stamp}"
    logs.mkdir()
    work = Path(tempfile.mkdtemp(prefix="soak-"))

    stop_signal = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop_signal.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # Python leaves SIGINT ignored when started in the background (`… &`): Ctrl-C / kill -INT
    # must still stop the run cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"seeding {DB_URL.rsplit('@', 1)[-1]} and flushing {REDIS_URL}…", flush=True)
    world = prepare(args, work / "media")
    stack = start_stack(args, work, logs)
    stats = Stats()
    env = Env(stack, stats, args.rate, args.max_requests)
    sampler: Sampler | None = None
    try:
        n_sellers = min(args.sellers, len(world.seller_tg_ids))
        n_couriers = min(args.couriers, len(world.courier_phones))
        n_buyers = max(0, args.users - n_sellers - n_couriers)
        mean_think = args.users / args.rate
        rng = random.Random(args.seed)
        users: list[Person] = [
            Buyer(env, f"+22465{i:07d}", mean_think, random.Random(rng.random()))
            for i in range(n_buyers)
        ]
        users += [
            Seller(env, str(t), mean_think, random.Random(rng.random()))
            for t in world.seller_tg_ids[:n_sellers]
        ]
        users += [
            Courier(env, p, mean_think, random.Random(rng.random()))
            for p in world.courier_phones[:n_couriers]
        ]
        print(
            f"{n_buyers} buyers (WhatsApp), {n_sellers} sellers (Telegram), {n_couriers} "
            f"couriers (SMS); ≤ {args.rate:g} req/s, mean think {mean_think:.0f} s; "
            f"{args.minutes:g} min or {args.max_requests} requests; web {stack.web_url} "
            f"(gunicorn pid {stack.web.pid}: workers {stack.web_workers()}), queue workers "
            f"{[p.pid for p in stack.workers]}, emulator {stack.emulator_url}",
            flush=True,
        )
        warm_up(env)
        sampler = Sampler(stack, stats, world, ROOT / "var" / f"soak-{stamp}.csv")
        deadline = time.monotonic() + args.minutes * 60
        stats.t0 = time.monotonic()
        threads = run_users(env, users, max(8, min(64, args.users // 10)), deadline)
        next_sample = time.monotonic() + args.sample_seconds
        while time.monotonic() < deadline and not env.stop.is_set():
            time.sleep(max(0.0, min(1.0, next_sample - time.monotonic())))
            dead = [p.args for p in stack.all() if p.poll() is not None]
            if dead:
                print(f"a process died: {dead}; stopping", flush=True)
                break
            if time.monotonic() >= next_sample:
                sampler.sample()
                next_sample += args.sample_seconds
        env.stop.set()
        for t in threads:
            t.join(timeout=TIMEOUT_S + 5)
        if not sampler.samples or next_sample - time.monotonic() < args.sample_seconds / 2:
            sampler.sample()  # the last period, when at least half of it ran
        summarize(args, sampler, stats, command)
    except KeyboardInterrupt:
        env.stop.set()
        print("\ninterrupted: stopping every process", flush=True)
        if sampler is not None and sampler.samples and not stop_signal.is_set():
            summarize(args, sampler, stats, command)
    finally:
        env.stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not orphan anything
            signal.signal(sig, signal.SIG_IGN)
        stack.stop()
        if sampler is not None:
            sampler.db.engine.dispose()
        left = [p.pid for p in stack.all() if p.poll() is None]
        print(f"processes stopped{'' if not left else f'; STILL RUNNING: {left}'}", flush=True)


if __name__ == "__main__":
    main()
