"""Chaos, scaled down: SIGKILLed workers, a Redis restart and a PostgreSQL restart together.

The full run (1 000 notifications) is `bench/chaos_notifications.py`; this is the same code on
200 notifications: two real `boutik worker` processes, four SIGKILL-and-restart rounds, Redis
restarted without persistence after 2 s and PostgreSQL (`pg_ctl restart -m fast`) after 4 s.
Both services are private (a cluster of its own on port 5441, a redis-server on 6391) so the
shared ones are never restarted; if they cannot be started the test fails with the reason,
it never skips. About 30 s.
"""

from __future__ import annotations

from bench.chaos_notifications import run
from tests.timing import START_S


def test_every_notification_is_sent_once_through_kills_and_restarts() -> None:
    result = run(
        n=200,
        workers=2,
        kills=4,
        redis_at=2.0,
        pg_at=4.0,
        rate=12.0,
        timeout=START_S,  # the drain deadline: workers restarting under load take their time
        seed=3,
        pg_port=5441,
        redis_port=6391,
        log=False,
    )
    assert (result.kills, result.redis_restarts, result.pg_restarts) == (4, 1, 1), result.events
    assert result.all_sent, result.statuses
    assert result.missing == 0
    assert result.duplicates == 0, f"{result.duplicates} messages sent twice"
    assert result.retried_rows > 0, "no send was interrupted: the test proved nothing"
