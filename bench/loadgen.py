"""Load generation shared by the gunicorn benchmarks (#1 inbound turn, scale-out).

Why two generators:
- peak throughput is measured closed-loop by `wrk` (C, one epoll thread): a Python generator
  would take a large share of a 2-core machine and measure itself. Every Twilio request needs
  its own MessageSid and a signature over the public URL, so the requests are signed here in
  advance, written one per line, and a Lua script hands them out in order;
- latency at a steady rate is measured open-loop: request i is due at start + i/rate whatever
  happened before, and its latency counts from that due time, so a slow server cannot slow the
  generator down and hide its own queueing (coordinated omission). At tens to a few hundred
  requests per second this costs little CPU, so it is plain Python threads.
"""

from __future__ import annotations

import http.client
import itertools
import math
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from twilio.request_validator import RequestValidator

from devtools.testkit import processes
from devtools.testkit.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
)

WA_PATH = "/webhooks/twilio/whatsapp"


# --- signed Twilio requests --------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    """One WhatsApp webhook POST exactly as Twilio sends it: form body plus signature."""

    signature: str
    body: str


def whatsapp_form(sid: str, number: str, text: str) -> dict[str, str]:
    """The fields Twilio posts for a WhatsApp text (as devtools/testkit/webhooks.whatsapp_form)."""
    return {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{number}",
        "To": "whatsapp:+14155238886",
        "Body": text,
        "NumMedia": "0",
        "WaId": number.lstrip("+"),
        "ProfileName": "Mariama Diallo",
        "MessageType": "text",
        "ApiVersion": "2010-04-01",
    }


class Signer:
    """Signs forms over `public_base_url + path`, the URL the app is configured to check."""

    def __init__(self, path: str = WA_PATH, public: str = PUBLIC, token: str = AUTH_TOKEN):
        self.url = public.rstrip("/") + path
        self.validator = RequestValidator(token)
        # A run tag keeps MessageSids unique across phases and runs: a repeated sid is a
        # redelivery, which the app rightly answers without doing the turn.
        self.tag = secrets.token_hex(4)
        self.counter = itertools.count(1)

    def sid(self) -> str:
        return f"SM{self.tag}{next(self.counter):024x}"

    def sign(self, form: dict[str, str]) -> SignedRequest:
        signature = self.validator.compute_signature(self.url, form)
        return SignedRequest(signature, urllib.parse.urlencode(form))

    def turns(self, numbers: Sequence[str], text: str, count: int) -> list[SignedRequest]:
        """`count` requests, each a new MessageSid, rotating over the buyers' numbers."""
        return [
            self.sign(whatsapp_form(self.sid(), numbers[i % len(numbers)], text))
            for i in range(count)
        ]


# --- wrk (closed loop, peak) -------------------------------------------------------------------

# Each wrk thread takes every n-th line of the file, so no two threads ever send the same
# MessageSid; running out wraps around and is counted (the caller then refuses the figure).
WRK_LUA = r"""
local counter = 1
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
local reqs = {}
local idx = 0
wrapped = 0
function init(args)
  local path, n = args[1], tonumber(args[2])
  local i = 0
  for line in io.lines(path) do
    if i % n == id - 1 then
      local sig, body = line:match("^([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
      }, body)
    end
    i = i + 1
  end
end
function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wrapped = wrapped + 1
  end
  return reqs[idx]
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("wrapped") end
  io.write(string.format("WRAPPED %d\n", total))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("PCT %d %.3f\n", p, latency:percentile(p) / 1000.0))
  end
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    non_2xx: int
    socket_errors: int
    wrapped: int
    pct_ms: dict[int, float]

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "wrk is not installed: peak throughput needs it (a Python load generator would "
            "compete with the server for the 2 cores). Install it with `apt-get install wrk`."
        )
    return path


def run_wrk(
    url: str,
    reqs: Iterable[SignedRequest],
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
) -> WrkResult:
    """Closed loop: `connections` connections each send the next request as soon as answered."""
    wrk = require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        lua, data = Path(tmp, "turns.lua"), Path(tmp, "requests.tsv")
        lua.write_text(WRK_LUA)
        data.write_text("".join(f"{r.signature}\t{r.body}\n" for r in reqs))
        cmd = [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(lua),
            url,
            "--",
            str(data),
            str(threads),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> WrkResult:
    def grab(pattern: str, default: str = "0") -> str:
        m = re.search(pattern, out)
        return m.group(1) if m else default

    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=int(grab(r"(\d+) requests in")),
        seconds=_duration_s(grab(r"requests in ([\d.]+\w+),", "0s")),
        rps=float(grab(r"Requests/sec:\s+([\d.]+)")),
        non_2xx=int(grab(r"Non-2xx or 3xx responses: (\d+)")),
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
        wrapped=int(grab(r"WRAPPED (\d+)")),
        pct_ms={int(p): float(v) for p, v in re.findall(r"PCT (\d+) ([\d.]+)", out)},
    )


def _duration_s(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return 0.0
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


# --- open loop (constant rate, latency) --------------------------------------------------------


@dataclass
class OpenLoopResult:
    rate: float
    sent: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    late_starts: int = 0  # requests that left more than 50 ms after their due time
    abandoned: int = 0  # never sent: the run went past its time bound (counted as errors)

    def pct(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the value p % of the samples are at or below)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def open_loop(
    host: str,
    port: int,
    path: str,
    reqs: Sequence[SignedRequest],
    *,
    rate: float,
    concurrency: int = 64,
    grace: float = 15.0,
) -> OpenLoopResult:
    """Send `reqs` at a constant `rate`; latency = answer time − due time.

    `concurrency` threads share the schedule; with latencies far below concurrency / rate
    none is ever busy when a request falls due (the result counts late starts to show it).
    An overloaded server would make the run last far longer than planned: requests not yet
    sent `grace` seconds after the planned end are abandoned and count as errors.
    """
    result = OpenLoopResult(rate=rate, sent=len(reqs))
    start = time.perf_counter() + 0.2
    stop_at = start + len(reqs) / rate + grace
    order = itertools.count()
    lock = threading.Lock()

    def worker() -> None:
        while True:
            i = next(order)
            if i >= len(reqs):
                break
            due = start + i / rate
            if time.perf_counter() > stop_at:
                with lock:
                    result.abandoned += 1
                    result.errors += 1
                continue
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            late = time.perf_counter() - due > 0.05
            error = ""
            # A new connection per request, as a provider's webhook call makes: a kept-alive
            # one would be closed by the server while idle between two slow-rate requests.
            conn = http.client.HTTPConnection(host, port, timeout=grace)
            try:
                conn.request(
                    "POST",
                    path,
                    body=reqs[i].body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": reqs[i].signature,
                        "Connection": "close",
                    },
                )
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    error = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                error = type(exc).__name__
            finally:
                conn.close()
            elapsed_ms = (time.perf_counter() - due) * 1000
            with lock:
                result.late_starts += late
                if error:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(error)
                else:
                    result.latencies_ms.append(elapsed_ms)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return result


# --- processes ---------------------------------------------------------------------------------


def boutik_env(
    database_url: str, redis_url: str, config: Path | None = None, **extra: str
) -> dict[str, str]:
    """What a Boutik process (gunicorn, `boutik worker`) reads from its environment: this one's,
    plus the database, Redis, the test secrets, the overlay file (BOUTIK_CONFIG) and `extra`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        **extra,
    }
    if config is not None:
        env["BOUTIK_CONFIG"] = str(config)
    return env


def start_process(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A child in its own session, so stop_process can signal it and all its children."""
    out = log.open("ab")
    return subprocess.Popen(
        args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM the child's process group, wait, then SIGKILL what is left of it."""
    processes.stop(proc, timeout=timeout)


def wait_for_port(host: str, port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout:g} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_args(
    app: str, *, port: int, workers: int, worker_class: str, threads: int
) -> list[str]:
    """One server set-up for the app and its baseline: same workers, class, threads, bind."""
    import sys

    args = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class]
    if worker_class == "gthread":
        args += ["--threads", str(threads)]
    # backlog well above any wrk concurrency; no access log (the app logs each turn itself)
    return [
        *args,
        *("-b", f"127.0.0.1:{port}", "--backlog", "2048", "--timeout", "60"),
        "--no-control-socket",  # several servers run at once; each would claim one path
        app,
    ]


def post_signed(host: str, port: int, path: str, req: SignedRequest, timeout: float = 60) -> int:
    """One webhook POST on a new connection; the HTTP status (0 if the connection failed)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body=req.body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": req.signature,
                "Connection": "close",
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


def send_all(
    host: str, port: int, path: str, reqs: Sequence[SignedRequest], workers: int = 8
) -> Counter[int]:
    """Warm-up and set-up traffic: every request sent, `workers` at a time (closed loop, so a
    slow server is never flooded); the count of each HTTP status (0 = no answer)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return Counter(pool.map(lambda r: post_signed(host, port, path, r), reqs))
