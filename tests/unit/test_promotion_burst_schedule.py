"""The promotion burst's open-loop schedule (bench/promotion_burst.py) and the emulator's
WhatsApp per-sender limit it runs against: the figures mean something only if the schedule is
the one BENCHMARKS.md states (2 000 requests in 20 s, a ramp to 150/s and back) and the
emulator refuses exactly what a sender sends over its limit."""

from __future__ import annotations

import pytest

from bench.promotion_burst import per_second, planned_rate, ramp_schedule
from devtools.emulators.store import EmulatorStore


def test_the_burst_is_2000_requests_in_20_s_peaking_at_150_per_s() -> None:
    dues = ramp_schedule(2000, 20.0, 150.0)
    counts = per_second(dues, 20)

    assert len(dues) == 2000
    assert sum(counts) == 2000  # every request due within the 20 s
    assert dues == sorted(dues)
    assert max(counts) == 150
    assert counts[7:13] == [150] * 6  # the middle third holds the peak
    assert counts[0] < 20 and counts[-1] < 20  # it ramps: no cliff at either end
    assert counts == counts[::-1]  # up and back down the same way


def test_the_rate_rises_holds_and_falls() -> None:
    rates = [planned_rate(t / 2, 2000, 20.0, 150.0) for t in range(41)]

    assert rates[0] == 0 and rates[-1] == 0
    assert max(rates) == 150
    assert rates[:15] == sorted(rates[:15])
    assert rates[26:] == sorted(rates[26:], reverse=True)


def test_a_constant_rate_and_an_impossible_peak() -> None:
    assert per_second(ramp_schedule(100, 10.0, 10.0), 10) == [10] * 10
    with pytest.raises(ValueError):
        ramp_schedule(2000, 20.0, 90.0)  # below the mean rate of 100/s
    with pytest.raises(ValueError):
        ramp_schedule(2000, 20.0, 250.0)  # above a triangle's peak of 200/s


def test_the_emulator_refuses_a_whatsapp_sender_over_its_limit_per_second() -> None:
    store = EmulatorStore()
    sender = "whatsapp:+14155238886"
    assert all(store.admit_whatsapp(sender, now=0.0) for _ in range(500))  # no limit: default

    store.limit_whatsapp_senders(80)
    admitted = [store.admit_whatsapp(sender, now=10 + i / 100) for i in range(100)]  # 100/s
    assert admitted.count(True) == 80 and admitted[80:] == [False] * 20
    assert store.admit_whatsapp("whatsapp:+14155230000", now=10.9)  # another number: its own
    assert store.admit_whatsapp(sender, now=11.0001)  # the first of the window has left it

    store.reset()
    assert all(store.admit_whatsapp(sender, now=20.0) for _ in range(200))  # reset: no limit


def test_the_twilio_api_answers_429_63018_with_retry_after_over_the_limit() -> None:
    import base64

    from devtools.emulators import create_emulator_app
    from devtools.testkit.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN

    store = EmulatorStore()
    store.limit_whatsapp_senders(2)
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )
    auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    client = app.test_client()

    def send(
        to: str, from_: str = "whatsapp:+14155238886"
    ) -> tuple[int, dict[str, object], str | None]:
        answer = client.post(
            f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data={"To": to, "From": from_, "Body": "Bonjour"},
            headers={"Authorization": f"Basic {auth}"},
        )
        return answer.status_code, answer.get_json(), answer.headers.get("Retry-After")

    assert [send("whatsapp:+224620000001")[0] for _ in range(2)] == [201, 201]
    status, body, retry_after = send("whatsapp:+224620000002")
    assert (status, body["code"], retry_after) == (429, 63018, "1")
    assert len(store.twilio_messages()) == 2  # the refused one was not sent
    assert send("+224620000003", "+12025550100")[0] == 201  # SMS: segments, not this limit
