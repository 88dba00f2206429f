"""Rate limits across worker processes: GCRA in Redis (real server, db 14) and in memory.

Most tests run on simulated time: `now` starts at 1000.0 and is advanced by the delays the
limiter returns, never by sleeping, so 300 s of Telegram traffic take milliseconds. The same
tests run against `MemoryRateLimiter`. One test uses real time and real sleeping, with two
limiters on two Redis connections standing for two worker processes.

Scheduled times are compared with a 1 µs slack: the limiter keeps time in whole microseconds
(`now` rounded down, so a send lands at its slot or < 1 µs after it, never before) and rounds
every interval *up* to a whole microsecond; any real violation is far larger than that.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.timing import WAIT_S
from workers.rate_limit import (
    BLOCK_MAX,
    HEADROOM,
    MAX_LATE_S,
    REBOOK_MAX,
    MemoryRateLimiter,
    Pacer,
    RateLimiter,
    RedisRateLimiter,
    block_size,
    pace,
    pace_slot,
)

REDIS_URL = os.environ.get("TEST_RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379/14")
EPS = 1e-6
T0 = 1000.0

TG_GLOBAL = ("tg:global", 30.0, 1)


def tg_chat(chat: int) -> tuple[str, float, int]:
    return (f"tg:chat:{chat}", 1.0, 1)


def _connect() -> redis.Redis:
    conn = redis.Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is required (run `make services`): {exc}")
    return conn


@pytest.fixture
def redis14() -> Iterator[redis.Redis]:
    conn = _connect()
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture(scope="module")
def redis14_module() -> Iterator[redis.Redis]:
    """One connection for the hypothesis test (each example uses a fresh key prefix)."""
    conn = _connect()
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "memory"])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    if request.param == "memory":
        return MemoryRateLimiter()
    return RedisRateLimiter(request.getfixturevalue("redis14"))


# --- checks -------------------------------------------------------------------------------


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open window [a, a + window)."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window - EPS:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def assert_gcra_bound(starts: list[float], costs: list[int], rate: float, burst: int) -> None:
    """In reservation order, start_j >= start_i + (cost of i..j-1 - (burst - 1)) / rate.

    This is the whole contract of a GCRA limiter with cost, stated pairwise: whatever the
    arrival pattern, no stretch of messages goes out faster than the rate plus the burst.
    """
    for i, j in itertools.combinations(range(len(starts)), 2):
        owed = (sum(costs[i:j]) - (burst - 1)) / rate
        assert starts[j] - starts[i] >= owed - EPS, (i, j, starts[i], starts[j])


def simulate(
    limiter: RateLimiter,
    messages: list[list[tuple[str, float, int]]],
    *,
    advance: bool,
    cost: int = 1,
) -> list[float]:
    """Scheduled send times: `now` advanced by each returned delay, or all asked at once."""
    now, sends = T0, []
    for keys_rates in messages:
        delay = limiter.reserve_all(keys_rates, cost=cost, now=now)
        assert delay >= 0.0
        sends.append(now + delay)
        if advance:
            now += delay
    return sends


# --- Telegram-shaped traffic on simulated time -------------------------------------------


@pytest.mark.parametrize("advance", [True, False], ids=["advancing", "queue-dump"])
def test_300_messages_to_one_chat_are_one_second_apart(limiter: RateLimiter, advance: bool) -> None:
    sends = simulate(limiter, [[TG_GLOBAL, tg_chat(42)]] * 300, advance=advance)
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) >= 1.0 - EPS
    assert sends[0] == T0  # the first goes at once
    assert sends[-1] - sends[0] == pytest.approx(299.0, abs=1e-3)  # and no slower than needed
    assert max_in_window(sends) == 1


@pytest.mark.parametrize("advance", [True, False], ids=["advancing", "queue-dump"])
def test_300_messages_to_300_chats_stay_under_30_per_second(
    limiter: RateLimiter, advance: bool
) -> None:
    sends = simulate(limiter, [[TG_GLOBAL, tg_chat(i)] for i in range(300)], advance=advance)
    assert max_in_window(sends) == 30
    assert sends[-1] - sends[0] == pytest.approx(299 / 30, abs=1e-3)
    assert_gcra_bound(sends, [1] * 300, 30.0, 1)


def test_interleaved_chats_respect_both_limits(limiter: RateLimiter) -> None:
    """10 chats x 40 messages, round-robin: each chat 1/s, all together 30/s, no slot wasted."""
    order = [i % 10 for i in range(400)]
    sends = simulate(limiter, [[TG_GLOBAL, tg_chat(c)] for c in order], advance=False)
    assert max_in_window(sends) <= 30
    for chat in range(10):
        mine = [s for s, c in zip(sends, order, strict=True) if c == chat]
        assert min(b - a for a, b in itertools.pairwise(mine)) >= 1.0 - EPS
    # 10 chats at 1/s each is the binding limit: 40 rounds take ~39 s, not more.
    assert sends[-1] - sends[0] == pytest.approx(39.3, abs=0.05)


def test_reserve_all_books_every_key_at_the_common_time(limiter: RateLimiter) -> None:
    busy = ("global", 1.0, 1)
    for _ in range(5):
        limiter.reserve(*busy, now=T0)  # the global limit is booked until T0 + 5
    delay = limiter.reserve_all([busy, ("chat:7", 1.0, 1)], now=T0)
    assert delay == pytest.approx(5.0)
    # The chat's slot was taken at T0 + 5 (when the message really leaves), not at T0: its
    # next slot is T0 + 6. Booking it at T0 would have wasted T0..T0+5 for nothing.
    assert limiter.reserve("chat:7", 1.0, now=T0) == pytest.approx(6.0)
    # And a chat that was not involved is free.
    assert limiter.reserve("chat:8", 1.0, now=T0) == 0.0


def test_empty_reservation_is_free(limiter: RateLimiter) -> None:
    assert limiter.reserve_all([], now=T0) == 0.0


# --- cost, burst, idleness ----------------------------------------------------------------


def test_a_three_segment_sms_delays_the_next_by_three_seconds(limiter: RateLimiter) -> None:
    number = ("sms:+224620000001", 1.0, 1)
    assert limiter.reserve(*number, cost=3, now=T0) == 0.0
    assert limiter.reserve(*number, cost=1, now=T0) == pytest.approx(3.0)
    assert limiter.reserve(*number, cost=2, now=T0 + 3.5) == pytest.approx(0.5)
    assert limiter.reserve(*number, cost=1, now=T0 + 3.5) == pytest.approx(2.5)


def test_costs_add_up_under_simulated_time(limiter: RateLimiter) -> None:
    costs = [1, 3, 2, 1, 1, 4, 1, 2] * 10
    now, sends = T0, []
    for cost in costs:
        delay = limiter.reserve("sms:long-code", 1.0, cost=cost, now=now)
        sends.append(now + delay)
        now += delay
    assert_gcra_bound(sends, costs, 1.0, 1)
    assert sends[-1] - sends[0] == pytest.approx(sum(costs[:-1]), abs=1e-3)


def test_burst_goes_at_once_then_the_rate_applies(limiter: RateLimiter) -> None:
    delays = [limiter.reserve("wa:+224", 10.0, burst=5, now=T0) for _ in range(8)]
    assert delays[:5] == [0.0] * 5
    assert delays[5:] == pytest.approx([0.1, 0.2, 0.3])


def test_idle_time_does_not_bank_more_than_the_burst(limiter: RateLimiter) -> None:
    limiter.reserve("k", 2.0, burst=3, now=T0)
    later = T0 + 3600
    delays = [limiter.reserve("k", 2.0, burst=3, now=later) for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.0, 0.0, 0.5, 1.0])


def test_rounding_never_exceeds_the_rate(limiter: RateLimiter) -> None:
    """1/3 s is not a whole number of microseconds: the interval rounds up, never down."""
    sends = simulate(limiter, [[("k", 3.0, 1)]] * 301, advance=True)
    assert sends[-1] - sends[0] >= 100.0
    assert max_in_window(sends, 100.0) == 300


@pytest.mark.parametrize(
    ("keys_rates", "cost"),
    [
        ([("k", 0.0, 1)], 1),
        ([("k", -1.0, 1)], 1),
        ([("k", float("inf"), 1)], 1),
        ([("k", 1.0, 0)], 1),
        ([("k", 1.0, 1)], 0),
        ([("k", 1.0, 1), ("k", 2.0, 1)], 1),
    ],
    ids=["zero-rate", "negative-rate", "infinite-rate", "zero-burst", "zero-cost", "dup-key"],
)
def test_invalid_limits_are_refused(
    limiter: RateLimiter, keys_rates: list[tuple[str, float, int]], cost: int
) -> None:
    with pytest.raises(ValueError):
        limiter.reserve_all(keys_rates, cost=cost, now=T0)


# --- pacing -------------------------------------------------------------------------------


def test_pacer_sleeps_until_each_slot(limiter: RateLimiter) -> None:
    sim = [T0]
    slept: list[float] = []

    def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        sim[0] += seconds

    pacer = Pacer(limiter, sleep=fake_sleep, clock=lambda: sim[0])
    sent = []
    for _ in range(10):
        pacer.pace([TG_GLOBAL, tg_chat(1)])
        sent.append(sim[0])
    assert slept == pytest.approx([1.0] * 9)
    assert [b - a for a, b in itertools.pairwise(sent)] == pytest.approx([1.0] * 9)
    # The free function does the same; cost is passed through.
    assert pace(limiter, [("sms:x", 1.0, 1)], cost=3, sleep=fake_sleep, clock=lambda: sim[0]) == 0
    assert pace(limiter, [("sms:x", 1.0, 1)], sleep=fake_sleep, clock=lambda: sim[0]) == 3.0


# --- Redis specifics ----------------------------------------------------------------------


@pytest.mark.redis
def test_keys_expire_once_idle(redis14: redis.Redis) -> None:
    rl = RedisRateLimiter(redis14, prefix="t")
    rl.reserve("sms:y", 1.0, cost=3, now=time.time())
    ttl = redis14.pttl("t:sms:y")
    assert 3000 < ttl <= 4000  # 3 s of TAT ahead + 1 s margin
    rl.reserve("fast", 1000.0, now=time.time())
    assert 0 < redis14.pttl("t:fast") <= 1001
    # With no margin, a key is gone as soon as its TAT has passed: idle chats leave no trace.
    # (A 100 ms TAT, not 10 ms: on a busy machine the next command may come 10 ms later.)
    brief = RedisRateLimiter(redis14, prefix="t", ttl_margin_s=0)
    brief.reserve("chat:1", 10.0, now=time.time())
    assert 0 < redis14.pttl("t:chat:1") <= 100  # alive, and for its TAT only
    time.sleep(0.13)  # past the TAT, counted from after the script set it
    assert not redis14.exists("t:chat:1")


@pytest.mark.redis
def test_redis_server_clock_when_no_clock_is_given(redis14: redis.Redis) -> None:
    rl = RedisRateLimiter(redis14, clock=None)
    started = time.monotonic()
    assert rl.reserve("k", 10.0) == 0.0
    delay = rl.reserve("k", 10.0)
    between = time.monotonic() - started  # >= the server time between the two scripts
    # The slot 0.1 s after the first, measured on the server's clock: less whatever time
    # passed between the two calls (a few µs here, more on a busy machine), never more.
    assert max(0.0, 0.1 - between) - EPS <= delay <= 0.1


def test_memory_limiter_forgets_idle_keys() -> None:
    rl = MemoryRateLimiter(sweep_every=1)
    for chat in range(100):
        rl.reserve(f"chat:{chat}", 1.0, now=T0)
    assert len(rl) == 100
    rl.reserve("other", 1.0, now=T0 + 10)
    assert len(rl) == 1


def test_memory_limiter_is_thread_safe() -> None:
    rl = MemoryRateLimiter()
    delays: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [rl.reserve("k", 100.0, now=T0) for _ in range(250)]
        with lock:
            delays.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(delays) == pytest.approx([i / 100 for i in range(1000)])


@pytest.mark.redis
def test_two_processes_share_the_limit_in_real_time() -> None:
    """Two limiters on two connections, two threads each, 200/s burst 5 for 1.5 s of real time.

    Scheduled times (what the limiter promised) must never exceed 200 + 5 in any second. The
    actual send instants (after real sleeping) get a slack of one message per sending thread:
    the OS may wake a sleeper late (measured here: 0.1 ms typical, up to ~15 ms), which carries
    that thread's one pending message over a window boundary; a thread has only one pending
    message at a time, since it reserves its next slot only after sending.
    """
    rate, burst, duration = 200.0, 5, 1.5
    conns = [_connect(), _connect()]
    conns[0].flushdb()
    limiters = [RedisRateLimiter(c) for c in conns]
    scheduled: list[float] = []
    actual: list[float] = []
    asked: list[tuple[float, float]] = []  # (when a slot was asked for, the slot granted)
    lock = threading.Lock()
    start = time.time()

    def worker(rl: RedisRateLimiter) -> None:
        while True:
            now = time.time()
            delay = rl.reserve("wa:+224620000000", rate, burst=burst, now=now)
            if now + delay > start + duration:
                return  # the slot is past the test: do not send
            remaining = now + delay - time.time()
            if remaining > 0:
                time.sleep(remaining)
            sent = time.time()
            with lock:
                scheduled.append(now + delay)
                asked.append((now, now + delay))
                actual.append(sent)

    threads = [threading.Thread(target=worker, args=(rl,)) for rl in limiters for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + WAIT_S)
    assert not any(t.is_alive() for t in threads), "a sending thread did not finish"
    conns[0].flushdb()
    for c in conns:
        c.close()

    assert max_in_window(scheduled) <= rate + burst
    assert max_in_window(actual) <= rate + burst + len(threads)
    # And the limit is reached, not just respected: nobody waited longer than the rate asks.
    # Counted on the limiter's own answers, not on how many sends a starved machine managed
    # (a loaded 2-core box fell short of rate x duration by one message): each slot is at most
    # one interval after the later of its request and the slot before it.
    interval, slack = 1 / rate, 1e-3
    ordered = sorted(asked, key=lambda pair: pair[1])
    late = [
        (round(slot - max(when, before[1]), 4))
        for before, (when, slot) in itertools.pairwise(ordered)
        if slot - max(when, before[1]) > interval + slack
    ]
    assert late == [], f"slots granted later than the rate requires: {late[:5]}"
    assert len(scheduled) > burst
    lateness = sorted(a - s for a, s in zip(actual, scheduled, strict=True))
    print(
        f"\n{len(scheduled)} sent in {duration} s; max/1 s window scheduled="
        f"{max_in_window(scheduled)} actual={max_in_window(actual)}; sleep lateness "
        f"p50={lateness[len(lateness) // 2] * 1e3:.2f} ms max={lateness[-1] * 1e3:.2f} ms"
    )


# --- Redis and memory agree, and both satisfy the GCRA bound ------------------------------

_POOL = [("a", 1.0, 1), ("b", 30.0, 3), ("c", 2.5, 2)]
_ops = st.lists(
    st.tuples(
        st.sets(st.sampled_from(range(len(_POOL))), min_size=1),
        st.integers(min_value=1, max_value=4),
        st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=3.0)),
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.redis
@given(ops=_ops)
@settings(max_examples=60, deadline=None)
def test_redis_and_memory_agree_and_obey_gcra(redis14_module: redis.Redis, ops: list) -> None:
    redis_rl = RedisRateLimiter(redis14_module, prefix=f"prop:{uuid.uuid4().hex}")
    memory_rl = MemoryRateLimiter()
    now = T0
    per_key: dict[int, tuple[list[float], list[int]]] = {i: ([], []) for i in range(len(_POOL))}
    for indexes, cost, dt in ops:
        now += dt
        keys_rates = [_POOL[i] for i in sorted(indexes)]
        delay = redis_rl.reserve_all(keys_rates, cost=cost, now=now)
        assert memory_rl.reserve_all(keys_rates, cost=cost, now=now) == delay
        for i in indexes:
            per_key[i][0].append(now + delay)
            per_key[i][1].append(cost)
    for i, (starts, costs) in per_key.items():
        _, rate, burst = _POOL[i]
        assert_gcra_bound(starts, costs, rate, burst)


# --- Slots booked in blocks (one round trip for several sends on one single-key limit) ----


@pytest.mark.parametrize(("rate", "burst"), [(20.0, 1), (1000.0, 1), (30.0, 3), (2.5, 2)])
def test_a_block_books_what_n_reservations_at_once_would(
    limiter: RateLimiter, rate: float, burst: int
) -> None:
    """reserve_block(n) = n `reserve` calls at the same instant: the same slots, and whoever
    books after it gets the same next slot."""
    assert isinstance(limiter, MemoryRateLimiter | RedisRateLimiter)
    limiter.reserve("k", rate, burst, now=T0)  # the key is partly booked already
    block = limiter.reserve_block("k", rate, burst, n=7, now=T0 + 0.01)
    after = limiter.reserve("k", rate, burst, now=T0 + 0.02)

    reference = MemoryRateLimiter()
    reference.reserve("k", rate, burst, now=T0)
    one_by_one = [reference.reserve("k", rate, burst, now=T0 + 0.01) for _ in range(7)]
    assert block == pytest.approx(one_by_one, abs=EPS)
    assert after == pytest.approx(reference.reserve("k", rate, burst, now=T0 + 0.02), abs=EPS)


def test_a_pooled_slot_is_never_handed_out_late() -> None:
    """Slots of a block nobody asked for in time are dropped, never used late."""
    limiter = MemoryRateLimiter()
    rate = 100_000.0  # blocks of BLOCK_MAX slots, 10 µs apart
    first = limiter.reserve_pooled("wa", rate, now=T0)
    assert first == 0.0 and limiter.pooled == (BLOCK_MAX, 0)
    second = limiter.reserve_pooled("wa", rate, now=T0 + MAX_LATE_S / 2)
    assert -MAX_LATE_S <= second < 0  # the block's second slot, begun 2 ms ago
    assert limiter.pooled == (BLOCK_MAX, 0)  # no round trip
    third = limiter.reserve_pooled("wa", rate, now=T0 + 1.0)  # the rest of the block is stale
    assert third == 0.0
    assert limiter.pooled == (2 * BLOCK_MAX, BLOCK_MAX - 2)
    assert block_size(80.0) == 1  # WhatsApp's 80/s: 12.5 ms apart, one slot per booking


def _pooled_sends(
    limiters: list[RedisRateLimiter], rate: float, seconds: float, seed: int
) -> tuple[list[float], list[float]]:
    """Simulated senders on several limiters (processes), each asking for its next slot at
    random times; returns (slot instants, send instants) for every slot handed out.

    A sender sends at its slot, or at once when the slot handed out began already (a pooled
    slot, at most MAX_LATE_S old): the send instant is never before the slot."""
    rng = random.Random(seed)
    senders = [(rl, T0 + rng.random() * 0.01) for rl in limiters for _ in range(3)]
    slots: list[float] = []
    sends: list[float] = []
    while senders:
        senders.sort(key=lambda pair: pair[1])
        rl, now = senders.pop(0)
        delay = rl.reserve_pooled("wa:+14155238886", rate, now=now)
        assert delay >= -MAX_LATE_S - EPS
        slot, sent = now + delay, now + max(delay, 0.0)
        if slot > T0 + seconds:
            continue
        slots.append(slot)
        sends.append(sent)
        # The next ask: mostly right away (a backlog, so the limit is what holds the senders
        # back), sometimes after a short or a long idle while (a run of rows ended).
        # Each sender idles ~10 % of its time in short pauses and ~10 % in long ones.
        per_sender = rate / (3 * len(limiters))
        short, long = min(0.3, 0.1 / (0.0015 * per_sender)), min(0.3, 0.1 / (0.15 * per_sender))
        pause = rng.choices(
            [0.0, rng.random() * 0.003, rng.random() * 0.3], [1 - short - long, short, long]
        )[0]
        senders.append((rl, sent + pause))
    return slots, sends


SECONDS = 1.5


@pytest.mark.redis
@pytest.mark.parametrize("limit", [20, 1000, 5000, 20_000])
def test_blocks_booked_by_several_processes_never_put_a_window_over_the_limit(
    redis14: redis.Redis, limit: int
) -> None:
    """Four limiters on four connections stand for four worker processes, three senders each,
    all on one WhatsApp sender paced at HEADROOM of its limit L and served from blocks.

    Every slot handed out is one Redis booked for nobody else (distinct, 1/rate apart, in
    every process together), and no 1-second window holds more than L sends, counted at the
    send instants, which lag a pooled slot by up to MAX_LATE_S."""
    rate = limit * HEADROOM
    conns = [_connect() for _ in range(4)]
    limiters = [RedisRateLimiter(c) for c in conns]
    try:
        slots, sends = _pooled_sends(limiters, rate, seconds=SECONDS, seed=limit)
    finally:
        for c in conns:
            c.close()
    ordered = sorted(slots)
    assert min(b - a for a, b in itertools.pairwise(ordered)) >= 1 / rate - EPS
    assert max_in_window(sends) <= limit
    if block_size(rate) > 1:
        assert sum(rl.pooled[0] for rl in limiters) >= len(slots)  # served from blocks
    assert len(slots) > 0.8 * rate * SECONDS  # the limit held the senders back, and was used


def test_a_slot_reached_late_is_given_up_for_a_new_one(limiter: RateLimiter) -> None:
    """A sender woken more than MAX_LATE_S after its slot books another (the late one is lost,
    never used), at most REBOOK_MAX times; then it sends late rather than never."""
    sim = [T0]
    oversleep = [0.010, 0.0]  # the first wake-up is 10 ms late, the next on time

    def sleep(seconds: float) -> None:
        sim[0] += seconds + (oversleep.pop(0) if oversleep else 0.0)

    chat = [TG_GLOBAL, tg_chat(5)]
    limiter.reserve_all(chat, now=T0)  # the chat's next slot is at T0 + 1
    first, slot, rebooks = pace_slot(limiter, chat, sleep=sleep, clock=lambda: sim[0])
    assert rebooks == 1
    assert first == T0 * 1_000_000
    assert slot == pytest.approx((T0 + 1.010) * 1_000_000, abs=2)  # the lost slot was given back
    assert sim[0] * 1_000_000 - slot <= MAX_LATE_S * 1_000_000

    def slow_clock() -> float:  # a machine so busy that every step takes 6 ms
        sim[0] += 0.006
        return sim[0]

    _, slot, rebooks = pace_slot(limiter, chat, sleep=sleep, clock=slow_clock)
    assert rebooks == REBOOK_MAX  # always late: REBOOK_MAX new slots, then it goes anyway


def test_a_late_slot_is_given_back_when_nobody_booked_after_it(limiter: RateLimiter) -> None:
    """Giving back an unused booking restores each key nobody booked after it, and only those:
    a chat's 1/s is free again at once, while the bot's 30/s, booked since, keeps its order."""
    chat = [TG_GLOBAL, tg_chat(9)]
    delay = limiter.reserve_all(chat, now=T0)
    slot = math.floor(T0 * 1_000_000) + round(delay * 1_000_000)
    limiter.reserve_all([TG_GLOBAL, tg_chat(10)], now=T0)  # someone books the bot after us
    assert limiter.give_back(chat, slot) == 1  # the chat only
    assert limiter.reserve_all(chat, now=T0 + 0.01) == pytest.approx(2 / 30 - 0.01, abs=1e-5)
    assert limiter.give_back(chat, slot) == 0  # booked again since: nothing to undo
    assert limiter.give_back([("b", 30.0, 3)], slot) == 0  # a burst: never guessed


def test_pace_slot_gives_back_the_late_slot(limiter: RateLimiter) -> None:
    sim = [T0]
    oversleep = [0.010]

    def sleep(seconds: float) -> None:
        sim[0] += seconds + (oversleep.pop(0) if oversleep else 0.0)

    chat = [TG_GLOBAL, tg_chat(5)]
    limiter.reserve_all(chat, now=T0)  # the chat's next slot is at T0 + 1
    _, slot, rebooks = pace_slot(limiter, chat, sleep=sleep, clock=lambda: sim[0])
    assert rebooks == 1
    # The late slot (T0 + 1) went back: the new one is right away, not a second later.
    assert slot == pytest.approx((T0 + 1.010) * 1_000_000, abs=2)
