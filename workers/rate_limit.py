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
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from redis import Redis

__all__ = [
    "BLOCK_MAX",
    "MAX_LATE_S",
    "MemoryRateLimiter",
    "Pacer",
    "RateLimiter",
    "RedisRateLimiter",
    "pace",
    "pace_slot",
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


_LUA_RESERVE_BLOCK = """
-- One key, n messages of cost 1 booked at once: what n back-to-back reservations at the same
-- `now` would book, in one round trip. KEYS[1]: the limit key.  ARGV[1]: now in microseconds
-- ('' = use Redis TIME); ARGV[2]: n; ARGV[3]: interval (us); ARGV[4]: TTL margin (ms).
-- Returns {tat - now, now}: message i (from 0) may start at
-- max(now, tat + i * interval - tolerance).
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + tonumber(ARGV[2]) * tonumber(ARGV[3])
local ttl_ms = math.ceil((new_tat - now) / 1000) + tonumber(ARGV[4])
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl_ms))
return {string.format('%.0f', tat - now), string.format('%.0f', now)}
"""


_LUA_GIVE_BACK = """
-- Undo a booking nobody booked after: per key, if its TAT is still ARGV[2i-1] (what the booking
-- left), set it back to ARGV[2i] (the booked slot's instant, >= the TAT before the booking).
-- ARGV[#ARGV]: TTL margin (ms). Returns how many keys were given back.
local given = 0
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '-1')
  if tat == tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 1 then ttl = tonumber(ARGV[#ARGV]) end
    redis.call('SET', KEYS[i], ARGV[2 * i], 'PX', ttl)
    given = given + 1
  end
end
return given
"""


def _given_back(keys_rates: Sequence[KeyRate], slot_us: int, cost: int) -> list[tuple[str, int]]:
    """(key, the TAT a booking at `slot_us` left on it) for each key it can be undone on: with a
    burst of 1 the booking started at the slot on every key, so it left slot + cost·interval."""
    if any(burst != 1 for _, _, burst in keys_rates):
        return []
    return [(key, slot_us + cost * interval) for key, interval, _ in _params(keys_rates, cost)]


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

    def reserve_pooled(
        self, key: str, rate_per_s: float, burst: int = 1, now: float | None = None
    ) -> float: ...

    def give_back(self, keys_rates: Sequence[KeyRate], slot_us: int, cost: int = 1) -> int: ...


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


# A slot may be used at most this long after its instant; an older one is dropped and a new one
# booked (`late`). Why: windows are counted at the real send instants, and GCRA's slots are at
# least 1/(HEADROOM·L) apart, so a send that lags its slot by at most D shares a 1-second window
# only with slots less than 1 + D apart: at most ⌈HEADROOM·L·(1 + D)⌉ sends, which is <= L while
# D <= 1/HEADROOM - 1 (7.0 ms at 0.993). 3 ms here leaves 4 ms for what comes between the check
# and the send; a sender descheduled well past its slot (a busy machine, a database call) would
# otherwise spend the whole margin alone (bench/rate_limit_fidelity.py).
MAX_LATE_S = 0.003
_MAX_LATE_US = round(MAX_LATE_S * 1_000_000)

# Slots booked at once on one single-key limit (`reserve_pooled`): at most this many, and no more
# than fit in MAX_LATE_S, so a block nobody uses soon wastes under MAX_LATE_S of the limit (at
# WhatsApp's 80/s that is 1: every message books its own slot, as before).
BLOCK_MAX = 8


def block_size(rate_per_s: float) -> int:
    """Slots to book at once on a limit of `rate_per_s`: the ones that fit in MAX_LATE_S."""
    return max(1, min(BLOCK_MAX, math.floor(rate_per_s * MAX_LATE_S)))


def late(slot_us: int, now_us: int) -> bool:
    """Whether a slot is too old to send on (see MAX_LATE_S)."""
    return now_us - slot_us > _MAX_LATE_US


class _SlotPool:
    """Slots one process booked in blocks and has not handed out yet, per single-key limit.

    Shared by the process's sending threads: the first thread that finds no usable slot books a
    block while holding the lock, the next ones take the following slots. A booked slot is this
    process's in Redis whether or not it is used, so nothing here can let a limit go over: an
    unused slot is a slot lost (dropped once `late`), as when a caller gives up.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[tuple[str, int, int], deque[int]] = {}
        self.booked = 0  # slots booked in blocks since start (tests, benchmarks)
        self.dropped = 0  # of which dropped unused

    def take(
        self, limit: tuple[str, int, int], now_us: int, book: Callable[[int], list[int]], n: int
    ) -> int:
        """The earliest usable slot of `limit` (µs), booking `n` more when none is left."""
        with self.lock:
            held = self.held.setdefault(limit, deque())
            while held and late(held[0], now_us):
                held.popleft()
                self.dropped += 1
            if not held:
                held.extend(book(n))
                self.booked += n
            return held.popleft()


class _Blocks:
    """Block bookings on one key and the process's pool of them (both limiters share this)."""

    clock: Callable[[], float] | None
    _pool: _SlotPool

    def _book_us(self, key: str, interval: int, n: int, now_us: int | None) -> tuple[int, int]:
        """Book n unit slots on `key`; return (tat, now) in µs (see `_LUA_RESERVE_BLOCK`)."""
        raise NotImplementedError

    def reserve(
        self,
        key: str,
        rate_per_s: float,
        burst: int = 1,
        cost: int = 1,
        now: float | None = None,
    ) -> float:
        raise NotImplementedError

    def _block(
        self, key: str, rate_per_s: float, burst: int, n: int, now_us: int | None
    ) -> tuple[list[int], int]:
        """Book n unit slots on one limit: (their instants, the `now` they were booked at), µs."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        ((_, interval, tolerance),) = _params([(key, rate_per_s, burst)], 1)
        tat, now = self._book_us(key, interval, n, now_us)
        return [max(now, tat + i * interval - tolerance) for i in range(n)], now

    def reserve_block(
        self, key: str, rate_per_s: float, burst: int = 1, n: int = 1, now: float | None = None
    ) -> list[float]:
        """Book n messages of cost 1 on one limit at once; return each one's delay from `now`.

        The same slots, and the same state left behind, as n `reserve` calls at the same `now`,
        in one step (one Redis round trip): whoever books next gets the slot after the last.
        """
        if now is None and self.clock is not None:
            now = self.clock()
        now_us = None if now is None else _to_us(now)
        slots, booked_at = self._block(key, rate_per_s, burst, n, now_us)
        return [(slot - booked_at) / 1_000_000 for slot in slots]

    def reserve_pooled(
        self, key: str, rate_per_s: float, burst: int = 1, now: float | None = None
    ) -> float:
        """`reserve` on one single-key limit, served from slots this process booked in blocks.

        A run of sends on one sender (WhatsApp, SMS) then costs one booking per `block_size`
        messages rather than one per message, at rates where that many fit in MAX_LATE_S. A slot
        is handed out only while not `late`, so it is sent on within MAX_LATE_S of its instant
        or never. The delay is negative when the slot handed out began that long ago (at most
        MAX_LATE_S): the caller's own lateness check then counts from the slot's instant.
        Without a client clock (Redis TIME) each call books its own slot.
        """
        if now is None and self.clock is not None:
            now = self.clock()
        n = block_size(rate_per_s)
        if now is None or n == 1:
            return self.reserve(key, rate_per_s, burst, now=now)
        ((_, interval, tolerance),) = _params([(key, rate_per_s, burst)], 1)
        now_us = _to_us(now)

        def book(k: int) -> list[int]:
            return self._block(key, rate_per_s, burst, k, now_us)[0]

        slot = self._pool.take((key, interval, tolerance), now_us, book, n)
        return (slot - now_us) / 1_000_000  # < 0: a slot of the block already began

    @property
    def pooled(self) -> tuple[int, int]:
        """(slots booked in blocks, of which dropped unused) since this limiter was made."""
        return self._pool.booked, self._pool.dropped


class RedisRateLimiter(_Blocks):
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
        self._block_script = redis.register_script(_LUA_RESERVE_BLOCK)
        self._give_back_script = redis.register_script(_LUA_GIVE_BACK)
        self._pool = _SlotPool()

    def give_back(self, keys_rates: Sequence[KeyRate], slot_us: int, cost: int = 1) -> int:
        """Undo an unused booking at `slot_us` on the keys nobody booked after it (a sender that
        reached its slot late and books again: Telegram's 1/s chat would otherwise wait a
        second more, and hold the bot's 30/s with it). Returns the keys given back."""
        left = _given_back(keys_rates, slot_us, cost)
        if not left:
            return 0
        args: list[int] = []
        for _, tat in left:
            args += [tat, slot_us]
        args.append(self._ttl_margin_ms)
        keys = [f"{self.prefix}:{key}" for key, _ in left]
        return int(self._give_back_script(keys=keys, args=args))

    def _book_us(self, key: str, interval: int, n: int, now_us: int | None) -> tuple[int, int]:
        args: list[int | str] = ["" if now_us is None else now_us, n, interval, self._ttl_margin_ms]
        tat_rel, now = self._block_script(keys=[f"{self.prefix}:{key}"], args=args)
        return int(now) + int(tat_rel), int(now)

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


class MemoryRateLimiter(_Blocks):
    """The same GCRA in one process's memory, for the embedded mode that runs without Redis.

    Thread-safe (one lock; the critical section is a few dict operations). Idle keys are swept
    every `sweep_every` reservations so a long-running process does not keep one entry per chat
    it ever wrote to.
    """

    clock: Callable[[], float]

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
        self._pool = _SlotPool()

    def give_back(self, keys_rates: Sequence[KeyRate], slot_us: int, cost: int = 1) -> int:
        """Undo an unused booking on the keys nobody booked after it (see RedisRateLimiter)."""
        given = 0
        with self._lock:
            for key, tat in _given_back(keys_rates, slot_us, cost):
                if self._tats.get(key) == tat:
                    self._tats[key] = slot_us
                    given += 1
        return given

    def _book_us(self, key: str, interval: int, n: int, now_us: int | None) -> tuple[int, int]:
        now = _to_us(self.clock()) if now_us is None else now_us
        with self._lock:
            tat = max(self._tats.get(key, 0), now)
            self._tats[key] = tat + n * interval
        return tat, now

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
# scheduling hiccup over 10 ms), which is why it was 0.98 until senders gave up late slots. Now a
# slot reached more than MAX_LATE_S late is booked again, so the margin only has to cover
# MAX_LATE_S and the instant between the check and the send: 0.7 % (7 ms a second).
HEADROOM = 0.993


def with_headroom(keys_rates: Sequence[KeyRate]) -> list[KeyRate]:
    return [(key, rate * HEADROOM, burst) for key, rate, burst in keys_rates]


# A sender that reaches its slot more than MAX_LATE_S late gives it up and books another, at most
# this many times; after that it sends late rather than never (a machine that always wakes late).
REBOOK_MAX = 2


def pace_slot(
    limiter: RateLimiter,
    keys_rates: Sequence[KeyRate],
    cost: int = 1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> tuple[int, int, int]:
    """Reserve a slot on every limit in `keys_rates` and sleep until it, booking another one
    when woken more than MAX_LATE_S after it (REBOOK_MAX times at most; the late one is given
    back on every key nobody booked after it, so a chat's 1/s does not wait a second more).

    Returns (the `now` of the first reservation, the slot finally used, the slots given up),
    instants in whole µs as the limiter keeps them. One single-key limit is served from the
    process's blocks (`reserve_pooled`), several are booked together (`reserve_all`).
    """
    first: int | None = None
    for rebooks in range(REBOOK_MAX + 1):
        now = clock()
        now_us = _to_us(now)
        if len(keys_rates) == 1 and cost == 1:
            key, rate, burst = keys_rates[0]
            delay = limiter.reserve_pooled(key, rate, burst, now=now)
        else:
            delay = limiter.reserve_all(keys_rates, cost=cost, now=now)
        slot_us = now_us + round(delay * 1_000_000)
        first = now_us if first is None else first
        remaining = slot_us / 1_000_000 - clock()
        if remaining > 0:
            sleep(remaining)
        if rebooks == REBOOK_MAX or not late(slot_us, _to_us(clock())):
            return first, slot_us, rebooks
        limiter.give_back(keys_rates, slot_us, cost)
    raise AssertionError("unreachable")


def pace(
    limiter: RateLimiter,
    keys_rates: Sequence[KeyRate],
    cost: int = 1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] | None = time.time,
) -> float:
    """Reserve a slot on every limit in `keys_rates`, sleep until it, return the delay waited.

    The sleep targets the reserved instant rather than sleeping the raw delay, so the time the
    reservation took (a Redis round trip) is not added on top, and a slot reached late is
    exchanged for a new one (`pace_slot`). ``clock=None`` lets the limiter pick the time (Redis
    TIME for a RedisRateLimiter built with ``clock=None``); the sleep is then the raw delay.
    """
    if clock is not None:
        first, slot, _ = pace_slot(limiter, keys_rates, cost, sleep, clock)
        return max(0, slot - first) / 1_000_000
    delay = limiter.reserve_all(keys_rates, cost=cost)
    if delay > 0:
        sleep(delay)
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
