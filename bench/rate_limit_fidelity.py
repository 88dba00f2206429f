"""Benchmark #3 — rate-limit fidelity of RedisRateLimiter under real time and real sleeping.

Why: the providers, not our code, must be the ceiling, yet we must never exceed their per-sender
limits (429s, failed SMS, banned bots). Several sender *processes* share one GCRA limit in a real
Redis (127.0.0.1:6379 db 9, flushed), each looping `pace()` then "sending" (recording the time).

Figures: achieved rate ÷ L over the run (target 0.9–1.0) and the worst sliding 1-second window
(target ≤ L), counted both on the instants the limiter reserved and on the instants the senders
actually woke up (sleep jitter can only show up in the latter). Baseline = L, the configured
limit, i.e. a perfect sender on this machine.

The senders pace as the outbox worker does (`workers.rate_limit.pace_slot`): a single-key limit
is served from the process's blocks, several keys are booked together, and a slot reached more
than MAX_LATE_S late is given up for a new one (counted as "slots given up").
Scenario `telegram`: both of Telegram's limits at once, 30/s for the bot and 1/s per chat, the
chats shared out among the processes (a chat's messages go from one sender, in order, as the
worker's threads do); the 1/s per chat is checked chat by chat as well.

Reproduce:
    .venv/bin/python -m bench.rate_limit_fidelity --scenario whatsapp --seconds 60
    .venv/bin/python -m bench.rate_limit_fidelity --scenario sms --seconds 60
    .venv/bin/python -m bench.rate_limit_fidelity --scenario telegram --seconds 60
"""

from __future__ import annotations

import argparse
import bisect
import multiprocessing as mp
import os
import time

from redis import Redis

from workers.rate_limit import HEADROOM, MAX_LATE_S, RedisRateLimiter, block_size, pace_slot

REDIS_URL = "redis://127.0.0.1:6379/9"
SCENARIOS = {
    # name: (limit per second, concurrent sender processes, key, chats with a 1/s limit each)
    "whatsapp": (20.0, 4, "wa:+14155238886", 0),
    "sms": (1.0, 2, "sms:+12025550100", 0),
    "telegram": (30.0, 8, "tg", 40),
}
CHAT_RATE = 1.0  # Telegram's per-chat limit


def sender(  # type: ignore[type-arg]
    key: str,
    rate: float,
    start: float,
    stop: float,
    out: mp.Queue,
    headroom: float = 1.0,
    chats: list[int] | None = None,
) -> None:
    """One worker process: pace, then record (slot, woke, chat, slots given up) until `stop`.

    Times are integer microseconds, as the limiter keeps them: the slot is exactly the instant
    the limiter booked, with no float rounding to blur a window's edge. With `chats`, each send
    goes to the next of them in turn and respects both `key` and that chat's 1/s."""
    limiter = RedisRateLimiter(Redis.from_url(REDIS_URL))
    # Connected, scripts loaded, before the clock starts, as in a worker that has sent before:
    # the first call's connection and script loading would otherwise make its slot late.
    limiter.reserve_all([(f"warm-up:{os.getpid()}", 1000.0, 1), (f"warm-up:{chats}", 1000.0, 1)])
    limiter.reserve_pooled(f"warm-up:{os.getpid()}", 1000.0)
    time.sleep(max(0.0, start - time.time()))
    records: list[tuple[int, int, int, int]] = []
    turn = 0
    while True:
        limits = [(key, rate * headroom, 1)]
        chat = -1
        if chats:
            chat = chats[turn % len(chats)]
            turn += 1
            limits.append((f"{key}:{chat}", CHAT_RATE * headroom, 1))
        _, slot, rebooks = pace_slot(limiter, limits)
        woke = time.time_ns() // 1000
        if slot >= stop * 1_000_000:
            break
        records.append((slot, woke, chat, rebooks))
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
        "--processes", type=int, default=0, help="sender processes (0: the scenario's)"
    )
    parser.add_argument(
        "--limit",
        type=float,
        default=0.0,
        help="L per second (0: the scenario's); from 1/MAX_LATE_S up, a single-key limit is "
        "served from blocks of slots (workers.rate_limit.block_size)",
    )
    parser.add_argument(
        "--headroom",
        type=float,
        default=HEADROOM,
        help="share of L the senders pace at (workers use workers.rate_limit.HEADROOM)",
    )
    args = parser.parse_args()
    rate, procs, key, chats = SCENARIOS[args.scenario]
    procs = args.processes or procs
    rate = args.limit or rate
    Redis.from_url(REDIS_URL).flushdb()

    start = time.time() + 1.0  # every process is up and waiting before the clock starts
    stop = start + args.seconds
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    workers = [
        mp.Process(
            target=sender,
            args=(key, rate, start, stop, out, args.headroom, list(range(p, chats, procs))),
        )
        for p in range(procs)
    ]
    for w in workers:
        w.start()
    records = [r for _ in workers for r in out.get()]
    for w in workers:
        w.join()

    timed = [r for r in records if r[0] >= start * 1_000_000]
    slots = [r[0] for r in timed]
    woke = [r[1] for r in timed]
    achieved = len(slots) / args.seconds
    lag = sorted(r[1] - r[0] for r in records)
    print(
        f"scenario={args.scenario} L={rate:g}/s senders={procs} processes, {args.seconds:g} s, "
        f"paced at {args.headroom:g} L"
        + (f", {chats} chats at {CHAT_RATE:g}/s each" if chats else "")
        + (f", blocks of {block_size(rate * args.headroom)}" if not chats else "")
    )
    print(f"sent={len(slots)}  achieved={achieved:.3f}/s  baseline L={rate:g}/s")
    print(f"RATIO achieved/L = {achieved / rate:.3f}   (target 0.9-1.0)")
    print(f"worst 1 s window, reserved slots = {worst_window(slots)}  (target <= {rate:g})")
    print(f"worst 1 s window, actual wake-ups = {worst_window(woke)}  (target <= {rate:g})")
    over = sum(n > rate for n in windows(woke))
    print(f"1 s windows (one per wake-up) over L at the sender: {over} of {len(woke)}")
    if chats:
        chat_over, chat_worst, chat_worst_slots = 0, 0, 0
        for chat in range(chats):
            mine = [r for r in timed if r[2] == chat]
            chat_over += sum(n > CHAT_RATE for n in windows([r[1] for r in mine]))
            chat_worst = max(chat_worst, worst_window([r[1] for r in mine]))
            chat_worst_slots = max(chat_worst_slots, worst_window([r[0] for r in mine]))
        per_chat = len(slots) / chats / args.seconds
        print(
            f"per chat: {per_chat:.3f}/s on average; worst 1 s window, reserved slots = "
            f"{chat_worst_slots}, actual wake-ups = {chat_worst}  (target <= {CHAT_RATE:g}); "
            f"windows over at the sender: {chat_over} of {len(slots)}"
        )
    given_up = sum(r[3] for r in records)
    print(f"slots given up (reached more than {MAX_LATE_S * 1000:g} ms late): {given_up}")
    if lag:
        p50, p99 = lag[len(lag) // 2], lag[min(len(lag) - 1, int(len(lag) * 0.99))]
        print(
            f"wake-up lag after slot: p50={p50 / 1000:.2f} ms p99={p99 / 1000:.2f} ms "
            f"max={lag[-1] / 1000:.2f} ms"
        )
    print(
        f"reproduce: .venv/bin/python -m bench.rate_limit_fidelity --scenario {args.scenario}"
        f" --seconds {args.seconds:g} --processes {procs} --limit {rate:g}"
        f" --headroom {args.headroom:g}"
    )


if __name__ == "__main__":
    main()
