"""Benchmark #3 — rate-limit fidelity of RedisRateLimiter under real time and real sleeping.

Why: the providers, not our code, must be the ceiling, yet we must never exceed their per-sender
limits (429s, failed SMS, banned bots). Several sender *processes* share one GCRA limit in a real
Redis (127.0.0.1:6379 db 9, flushed), each looping `pace()` then "sending" (recording the time).

Figures: achieved rate ÷ L over the run (target 0.9–1.0) and the worst sliding 1-second window
(target ≤ L), counted both on the instants the limiter reserved and on the instants the senders
actually woke up (sleep jitter can only show up in the latter). Baseline = L, the configured
limit, i.e. a perfect sender on this machine.

Reproduce:
    .venv/bin/python -m bench.rate_limit_fidelity --scenario whatsapp --seconds 60
    .venv/bin/python -m bench.rate_limit_fidelity --scenario sms --seconds 60
"""

from __future__ import annotations

import argparse
import bisect
import math
import multiprocessing as mp
import time

from redis import Redis

from workers.rate_limit import HEADROOM, RedisRateLimiter, pace

REDIS_URL = "redis://127.0.0.1:6379/9"
SCENARIOS = {
    # name: (limit per second, concurrent sender processes, key)
    "whatsapp": (20.0, 4, "wa:+14155238886"),
    "sms": (1.0, 2, "sms:+12025550100"),
}


class RecordingClock:
    """time.time(), remembering its first reading: the `now` pace() reserved with."""

    def __init__(self) -> None:
        self.first: float | None = None

    def __call__(self) -> float:
        now = time.time()
        if self.first is None:
            self.first = now
        return now


def sender(  # type: ignore[type-arg]
    key: str, rate: float, start: float, stop: float, out: mp.Queue, headroom: float = 1.0
) -> None:
    """One worker process: reserve a slot, sleep until it, record (slot, woke) until `stop`.

    Both are integer microseconds, as the limiter keeps time: the reserved slot is exactly
    floor(now·1e6) + delay_us, with no float rounding to blur a window's edge."""
    limiter = RedisRateLimiter(Redis.from_url(REDIS_URL))
    time.sleep(max(0.0, start - time.time()))
    records: list[tuple[int, int]] = []
    while True:
        clock = RecordingClock()
        delay = pace(limiter, [(key, rate * headroom, 1)], clock=clock)
        now = clock.first
        woke = time.time_ns() // 1000
        assert now is not None
        slot = math.floor(now * 1_000_000) + round(delay * 1_000_000)
        if slot >= stop * 1_000_000:
            break
        records.append((slot, woke))
    out.put(records)


def worst_window(times: list[int], width: int = 1_000_000) -> int:
    """Most events in any half-open window [t, t + width) starting at an event (sliding)."""
    return max(windows(times, width), default=0)


def windows(times: list[int], width: int = 1_000_000) -> list[int]:
    """Events in the window [t, t + width) starting at each event."""
    times = sorted(times)
    return [bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="whatsapp")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--headroom",
        type=float,
        default=HEADROOM,
        help="share of L the senders pace at (workers use workers.rate_limit.HEADROOM)",
    )
    args = parser.parse_args()
    rate, procs, key = SCENARIOS[args.scenario]
    Redis.from_url(REDIS_URL).flushdb()

    start = time.time() + 1.0  # every process is up and waiting before the clock starts
    stop = start + args.seconds
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    workers = [
        mp.Process(target=sender, args=(key, rate, start, stop, out, args.headroom))
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    records = [r for _ in workers for r in out.get()]
    for w in workers:
        w.join()

    slots = [s for s, _ in records if s >= start * 1_000_000]
    woke = [w for s, w in records if s >= start * 1_000_000]
    achieved = len(slots) / args.seconds
    lag = sorted(w - s for s, w in records)
    print(
        f"scenario={args.scenario} L={rate:g}/s senders={procs} processes, {args.seconds:g} s, "
        f"paced at {args.headroom:g} L"
    )
    print(f"sent={len(slots)}  achieved={achieved:.3f}/s  baseline L={rate:g}/s")
    print(f"RATIO achieved/L = {achieved / rate:.3f}   (target 0.9-1.0)")
    print(f"worst 1 s window, reserved slots = {worst_window(slots)}  (target <= {rate:g})")
    print(f"worst 1 s window, actual wake-ups = {worst_window(woke)}  (target <= {rate:g})")
    over = sum(n > rate for n in windows(woke))
    print(f"1 s windows (one per wake-up) over L at the sender: {over} of {len(woke)}")
    if lag:
        p50, p99 = lag[len(lag) // 2], lag[min(len(lag) - 1, int(len(lag) * 0.99))]
        print(f"wake-up lag after slot: p50={p50 / 1000:.2f} ms p99={p99 / 1000:.2f} ms")
    print(
        f"reproduce: .venv/bin/python -m bench.rate_limit_fidelity --scenario {args.scenario}"
        f" --seconds {args.seconds:g}"
    )


if __name__ == "__main__":
    main()
