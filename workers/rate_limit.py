"""Per-sender rate limits shared by every worker process, with GCRA in one Redis Lua script.

Why: the providers throttle per sender (Telegram ~30 msg/s per bot and ~1 msg/s per chat, a
Twilio long code 1 SMS segment/s, WhatsApp 80 msg/s per number) and answer an excess with 429s,
failed messages or a banned bot. Boutik sends from several RQ worker processes, so a limit kept
in one process's memory would be multiplied by the number of workers. The state lives in Redis
and the check-and-reserve is one Lua script, which Redis runs atomically: two workers can never
both take the same slot.

Algorithm: GCRA (generic cell rate algorithm, the "virtual scheduling" form). Each key stores
one number, its TAT (theoretical arrival time): when the next cell would be due if traffic ran
exactly at the rate. With emission interval T = 1/rate and tolerance τ = (burst - 1)·T, a
message may start at ``max(now, TAT - τ)``, and reserving it advances TAT by ``cost·T`` from
there. Unlike a token bucket needing a refill timestamp and a count, one number per key is the
whole state, and unlike a sliding log it is O(1) in memory per key.

Reserve, don't just check: `reserve` returns the delay the caller must wait AND books that slot,
so a worker that waits the delay and then sends never exceeds the rate, and a queue of 300
messages for one chat gets 300 distinct, 1 s-spaced slots instead of 300 workers polling.

Cost: a message of cost c (SMS segments) starts at its slot and pushes the next one c·T later
("a 3-segment SMS at 1 segment/s delays the next by 3 s"). A message costlier than the burst is
therefore allowed — it cannot be split — and is paid for by the messages after it.

Several limits at once (`reserve_all`): the message leaves at the latest of the keys' earliest
times, and every key is reserved at that common time. Reserving each key at its own earliest
time would waste slots: a chat's 1/s slot booked for "now" while the global 30/s limit forces
the message to leave 2 s later would hold that chat for nothing.

Time is kept as integer microseconds: the interval is rounded *up* and the burst tolerance
*down* to a whole microsecond, and `now` is rounded down, so rounding can only make the limiter
stricter (by at most a microsecond), never let a message through early; integers also sidestep
Lua's 14-digit number-to-string conversion. Keys carry a TTL that ends shortly
after their TAT: once TAT is in the past the state is the same as no state, so idle keys vanish.

`now` is injectable (seconds, like `time.time()`) so tests simulate hours of traffic without
sleeping; it is passed into the script. With ``clock=None`` the Redis server's TIME is used
instead, which puts workers on several hosts on one clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from redis import Redis

__all__ = [
    "MemoryRateLimiter",
    "Pacer",
    "RateLimiter",
    "RedisRateLimiter",
    "pace",
]

KeyRate = tuple[str, float, int]
"""(key, rate per second, burst) — one limit a message must respect."""


_LUA_RESERVE = """
-- KEYS: the limit keys.  ARGV[1]: now in microseconds ('' = use Redis TIME);
-- ARGV[2]: cost; then per key: interval (us per unit), tolerance (us) = (burst - 1) * interval.
-- Returns the delay in microseconds before the message may start; all keys are reserved at it.
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local cost = tonumber(ARGV[2])
local tats = {}
local start = now
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  tats[i] = tat
  local earliest = tat - tonumber(ARGV[2 + 2 * i])
  if earliest > start then start = earliest end
end
for i = 1, #KEYS do
  local tat = tats[i]
  if start > tat then tat = start end
  local new_tat = tat + cost * tonumber(ARGV[1 + 2 * i])
  local ttl_ms = math.ceil((new_tat - now) / 1000) + tonumber(ARGV[3 + 2 * #KEYS])
  redis.call('SET', KEYS[i], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl_ms))
end
return start - now
"""


class RateLimiter(Protocol):
    """What `pace` needs: the interface both limiters share."""

    def reserve(
        self,
        key: str,
        rate_per_s: float,
        burst: int = 1,
        cost: int = 1,
        now: float | None = None,
    ) -> float: ...

    def reserve_all(
        self,
        keys_rates: Sequence[KeyRate],
        cost: int = 1,
        now: float | None = None,
    ) -> float: ...


def _interval_us(rate_per_s: float) -> int:
    """Microseconds per unit, rounded up so rounding never lets traffic exceed the rate."""
    if not (isinstance(rate_per_s, int | float) and math.isfinite(rate_per_s) and rate_per_s > 0):
        raise ValueError(f"rate_per_s must be a positive finite number, got {rate_per_s!r}")
    return max(1, math.ceil(1_000_000 / rate_per_s - 1e-9))


def _params(keys_rates: Sequence[KeyRate], cost: int) -> list[tuple[str, int, int]]:
    """Validated (key, interval_us, tolerance_us) per limit."""
    if not isinstance(cost, int) or isinstance(cost, bool) or cost < 1:
        raise ValueError(f"cost must be an integer >= 1, got {cost!r}")
    seen: set[str] = set()
    out = []
    for key, rate, burst in keys_rates:
        if key in seen:
            raise ValueError(f"key {key!r} appears twice in one reservation")
        seen.add(key)
        if not isinstance(burst, int) or isinstance(burst, bool) or burst < 1:
            raise ValueError(f"burst must be an integer >= 1, got {burst!r}")
        interval = _interval_us(rate)
        # The tolerance rounds *down* (the interval rounds up): each rounding may only make the
        # limit stricter, by at most a microsecond, never more lenient.
        tolerance = math.floor((burst - 1) * 1_000_000 / rate + 1e-9)
        out.append((key, interval, tolerance))
    return out


def _to_us(seconds: float) -> int:
    """Whole microseconds, rounded down: the delay is then measured from no later than the
    caller's `now`, so `now + delay` never lands before the reserved slot."""
    return math.floor(seconds * 1_000_000)


class RedisRateLimiter:
    """GCRA limits shared by every process that talks to the same Redis.

    `clock` supplies `now` when a call does not pass one; ``clock=None`` uses the Redis server's
    TIME, the right choice when workers run on several hosts whose clocks may drift. A key
    expires `ttl_margin_s` after its TAT has passed.
    Keys are ``f"{prefix}:{key}"``; in Redis Cluster, give keys reserved together one hash tag.
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str = "boutik:rl",
        *,
        clock: Callable[[], float] | None = time.time,
        ttl_margin_s: float = 1.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        # Extra life for a key past its TAT: covers a little clock skew between workers, and
        # simulations whose `now` runs slower than real time. Past TAT the state equals no state.
        self._ttl_margin_ms = max(0, math.ceil(ttl_margin_s * 1000))
        self._script = redis.register_script(_LUA_RESERVE)

    def reserve(
        self,
        key: str,
        rate_per_s: float,
        burst: int = 1,
        cost: int = 1,
        now: float | None = None,
    ) -> float:
        """Book the next slot on one limit; return the seconds to wait before sending (0.0 = now).

        The slot is booked whether or not the caller then waits: a caller that gives up should
        simply not send (the slot is lost, which errs on the safe side).
        """
        return self.reserve_all([(key, rate_per_s, burst)], cost=cost, now=now)

    def reserve_all(
        self,
        keys_rates: Sequence[KeyRate],
        cost: int = 1,
        now: float | None = None,
    ) -> float:
        """Book one message on several limits atomically; return the delay (max over them).

        Every limit is reserved at the same final time, so none wastes a slot that another limit
        pushed later. One script call, so one round trip whatever the number of limits.
        """
        params = _params(keys_rates, cost)
        if not params:
            return 0.0
        if now is None and self.clock is not None:
            now = self.clock()
        args: list[int | str] = ["" if now is None else _to_us(now), cost]
        for _, interval, tolerance in params:
            args += [interval, tolerance]
        args.append(self._ttl_margin_ms)
        keys = [f"{self.prefix}:{key}" for key, _, _ in params]
        delay_us = int(self._script(keys=keys, args=args))
        return delay_us / 1_000_000


class MemoryRateLimiter:
    """The same GCRA in one process's memory, for the embedded mode that runs without Redis.

    Thread-safe (one lock; the critical section is a few dict operations). Idle keys are swept
    every `sweep_every` reservations so a long-running process does not keep one entry per chat
    it ever wrote to.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sweep_every: int = 4096,
    ) -> None:
        self.clock = clock
        self._tats: dict[str, int] = {}
        self._lock = threading.Lock()
        self._sweep_every = sweep_every
        self._calls = 0

    def reserve(
        self,
        key: str,
        rate_per_s: float,
        burst: int = 1,
        cost: int = 1,
        now: float | None = None,
    ) -> float:
        """Book the next slot on one limit; return the seconds to wait before sending."""
        return self.reserve_all([(key, rate_per_s, burst)], cost=cost, now=now)

    def reserve_all(
        self,
        keys_rates: Sequence[KeyRate],
        cost: int = 1,
        now: float | None = None,
    ) -> float:
        """Book one message on several limits at a common time; return the delay."""
        params = _params(keys_rates, cost)
        if not params:
            return 0.0
        now_us = _to_us(self.clock() if now is None else now)
        with self._lock:
            tats = [max(self._tats.get(key, 0), now_us) for key, _, _ in params]
            start = max(
                now_us,
                *(tat - tolerance for tat, (_, _, tolerance) in zip(tats, params, strict=True)),
            )
            for tat, (key, interval, _) in zip(tats, params, strict=True):
                self._tats[key] = max(tat, start) + cost * interval
            self._calls += 1
            if self._calls % self._sweep_every == 0:
                self._sweep(now_us)
        return (start - now_us) / 1_000_000

    def _sweep(self, now_us: int) -> None:
        """Forget keys whose TAT has passed: their state equals no state (the lock is held)."""
        for key in [k for k, tat in self._tats.items() if tat <= now_us]:
            del self._tats[key]

    def __len__(self) -> int:
        """Keys currently remembered (for tests and metrics)."""
        return len(self._tats)


# Senders pace at this share of a provider's limit. The limiter books slots exactly 1/L apart,
# and senders wake 0.2–6 ms after their slot by varying amounts (bench/rate_limit_fidelity.py):
# at exactly L, one 1-second window in two then saw L+1 real sends; at 0.99 L, 2 in 1 188 (a
# scheduling hiccup over 10 ms). 2 % (20 ms a second): 0 in 1 176, rate still 0.98 of L.
HEADROOM = 0.98


def with_headroom(keys_rates: Sequence[KeyRate]) -> list[KeyRate]:
    return [(key, rate * HEADROOM, burst) for key, rate, burst in keys_rates]


def pace(
    limiter: RateLimiter,
    keys_rates: Sequence[KeyRate],
    cost: int = 1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] | None = time.time,
) -> float:
    """Reserve a slot on every limit in `keys_rates`, sleep until it, return the delay waited.

    The sleep targets the reserved instant rather than sleeping the raw delay, so the time the
    reservation took (a Redis round trip) is not added on top. ``clock=None`` lets the limiter
    pick the time (Redis TIME for a RedisRateLimiter built with ``clock=None``); the sleep is
    then the raw delay.
    """
    now = clock() if clock is not None else None
    delay = limiter.reserve_all(keys_rates, cost=cost, now=now)
    if delay > 0:
        remaining = delay if now is None or clock is None else now + delay - clock()
        if remaining > 0:
            sleep(remaining)
    return delay


class Pacer:
    """`pace` bound to one limiter, sleep and clock: what a sending worker holds on to."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] | None = time.time,
    ) -> None:
        self.limiter = limiter
        self.sleep = sleep
        self.clock = clock

    def pace(self, keys_rates: Sequence[KeyRate], cost: int = 1) -> float:
        """Reserve on every limit and sleep until the slot; return the delay."""
        return pace(self.limiter, keys_rates, cost=cost, sleep=self.sleep, clock=self.clock)
