"""The outbox on `[whatsapp] provider = "meta"`: rows leave through the real MetaSender, over
real HTTP, to the Graph API emulator (which refuses what Meta refuses), on real PostgreSQL and
Redis, through the outbox worker (RQ's worker, or the job body `deliver`).

What is checked: each reply type as Meta receives it; the 24 h window (Meta's approved template,
else SMS through Twilio); 131047 at send time and in a `failed` status → template or SMS, and
never free-form again; 130429/131056 retried later; 131026/131051 failed for good with Meta's
words kept; one pacing key per business phone number in the shared Redis limiter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from rq import Queue

from bot.messages import AskLocation, Choice, Choices, Image, Reply, Text, reply_to_json
from boutik.runtime import Runtime
from channels_adapters.meta_templates import CONTENT_TYPE, meta_notice_spec
from channels_adapters.twilio_template_sync import refresh_status, sync
from channels_adapters.web import create_app
from commerce import clock
from commerce.messaging import templates
from commerce.messaging.models import OutboxStatus
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.messaging.templates import META, ApprovalStatus, TemplatePurpose
from commerce.users.models import Channel
from devtools.emulators.store import EmulatorStore
from settings.config import Config
from tests.e2e.conftest import meta_config
from tests.services import Emulator
from tests.support import REDIS_URL, Db, make_whatsapp_buyer
from tests.unit.flows import outbox_row
from tests.webhooks import META_PHONE_NUMBER_ID, PUBLIC, post_meta
from workers.dispatch import QUEUE
from workers.outbox import deliver, deliver_batch, sweep
from workers.outbox.plan import WINDOW_CLOSED
from workers.runner import RuntimeWorker


@pytest.fixture
def rt(
    pg: Db, redis_conn: redis.Redis, emulator: Emulator, store: EmulatorStore, tmp_path: Path
) -> Iterator[Runtime]:
    runtime = Runtime(_config(emulator, tmp_path / "media"))
    yield runtime
    runtime.dispose()


def _config(emulator: Emulator, media_dir: Path, **overrides: Any) -> Config:
    """Meta at the Graph emulator, on Redis, with pacing out of the way unless a test sets it."""
    fast = {"twilio__sms_segments_per_s": 500.0, "meta__rate_per_s": 500.0}
    return meta_config(emulator, media_dir, queue__redis_url=REDIS_URL, **{**fast, **overrides})


def _queue(pg: Db, user_id: int, kind: Notice, params: dict[str, Any]) -> int:
    with pg.uow() as s:
        return notify(s, user_id=user_id, kind=kind, params=params, essential=True).id


def _reply(pg: Db, user_id: int, reply: Reply) -> int:
    return _queue(pg, user_id, Notice.REPLY, {"reply": reply_to_json(reply)})


def _work(rt: Runtime, conn: redis.Redis, ids: list[int]) -> None:
    """Queue the rows' jobs and run RQ's worker until the queue is empty."""
    rt.dispatcher.dispatch(ids)
    RuntimeWorker([Queue(QUEUE, connection=conn)], connection=conn, runtime=rt).work(burst=True)


def _due_again(rt: Runtime) -> list[str]:
    """What the worker does with rows put back in line for now (the scheduled job's body)."""
    return deliver_batch(rt, sweep(rt))


def _meta_template(
    pg: Db, store: EmulatorStore, kind: Notice, lang: str, *, approved: bool = True
) -> str:
    """The notice template at Meta (the catalog's sentence, as `boutik meta templates sync`
    makes it) and its `content_templates` row, approved by Meta or still pending."""
    spec = meta_notice_spec(kind, lang)
    status = "APPROVED" if approved else "PENDING"
    made = store.meta_add_template(spec.name, lang, spec.body, status=status)
    with pg.uow() as s:
        templates.record(
            s,
            purpose=TemplatePurpose.NOTICE,
            key=kind.value,
            language=lang,
            friendly_name=spec.name,
            content_sid=made.id,
            content_type=CONTENT_TYPE,
            approval=ApprovalStatus.APPROVED if approved else ApprovalStatus.PENDING,
            provider=META,
        )
    return spec.name


# --------------------------------------------------------------------------- inside the window


def test_in_session_replies_reach_meta_as_text_buttons_list_image_and_location_request(
    rt: Runtime, pg: Db, store: EmulatorStore, redis_conn: redis.Redis
) -> None:
    user_id, number = make_whatsapp_buyer(pg)
    replies: list[Reply] = [
        Text("Bienvenue chez Boutik"),
        Choices("Payer à la livraison ?", (Choice("pay:cash", "Oui"), Choice("pay:no", "Non"))),
        Choices(
            "Catégories",
            tuple(Choice(f"cat:{i}", f"Catégorie {i}", f"Tout pour {i}") for i in range(6)),
        ),
        Image("products/robe.jpg", caption="Robe wax, 150 000 GNF"),
        AskLocation("Où faut-il livrer ?"),
    ]
    ids = [_reply(pg, user_id, r) for r in replies]

    _work(rt, redis_conn, ids)

    sent = store.meta_messages(to=number)
    assert [m.type for m in sent] == ["text", "interactive", "interactive", "image", "interactive"]
    text, buttons, listed, image, location = (m.payload for m in sent)
    assert text["text"]["body"] == "Bienvenue chez Boutik"
    assert buttons["interactive"]["type"] == "button"
    assert [b["reply"]["id"] for b in buttons["interactive"]["action"]["buttons"]] == [
        "pay:cash",
        "pay:no",
    ]
    assert listed["interactive"]["type"] == "list"
    rows = listed["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"cat:{i}" for i in range(6)]
    link = urlsplit(image["image"]["link"])
    assert f"{link.scheme}://{link.netloc}" == PUBLIC and "products/robe.jpg" in link.path
    assert link.query  # signed and expiring
    assert image["image"]["caption"] == "Robe wax, 150 000 GNF"
    assert location["interactive"]["type"] == "location_request_message"
    assert location["interactive"]["action"] == {"name": "send_location"}
    for row_id, message in zip(ids, sent, strict=True):
        row = outbox_row(pg, row_id)
        assert (row.status, row.provider_message_id) == (OutboxStatus.SENT, message.id)
        assert row.sent_channel == Channel.WHATSAPP
    assert store.twilio_messages() == []  # Twilio carries no WhatsApp on this deployment
    assert store.meta_rejections() == []


def test_sends_are_paced_under_one_key_per_business_phone_number(
    pg: Db, redis_conn: redis.Redis, emulator: Emulator, store: EmulatorStore, tmp_path: Path
) -> None:
    runtime = Runtime(_config(emulator, tmp_path / "media", meta__rate_per_s=4.0))
    try:
        ids = [_reply(pg, make_whatsapp_buyer(pg)[0], Text(f"Message {i}")) for i in range(5)]
        _work(runtime, redis_conn, ids)
    finally:
        runtime.dispose()

    sent = sorted(m.created_at for m in store.meta_messages())
    assert len(sent) == 5
    # 5 sends at 4 per second, whichever recipient: at least 4 intervals of 0.25 s
    assert (sent[-1] - sent[0]).total_seconds() >= 0.9
    keys = {k.decode() if isinstance(k, bytes) else k for k in redis_conn.keys("*")}
    assert any(k.endswith(f"meta:{META_PHONE_NUMBER_ID}") for k in keys), keys
    assert not any(k.endswith("wa:") or ":wa:" in k for k in keys)  # no Twilio WhatsApp slot


# --------------------------------------------------------------------------- outside the window


def test_outside_the_window_the_approved_meta_template_goes_else_sms(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    user_id, number = make_whatsapp_buyer(pg, in_window=False)
    store.closed_windows.add(number)
    _meta_template(pg, store, Notice.ORDER_ACCEPTED, "fr", approved=False)  # under review

    assert deliver(rt, _queue(pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 9})) == "sent"

    assert store.meta_messages(to=number) == []
    [sms] = store.twilio_messages(to=number)
    assert "commande 9" in sms.body

    name = meta_notice_spec(Notice.ORDER_ACCEPTED, "fr").name
    approved = store.decide_meta_template(name, "fr", "APPROVED")
    with pg.uow() as s:
        templates.set_approval(s, content_sid=approved.id, approval=ApprovalStatus.APPROVED)
    row_id = _queue(pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 10})
    assert deliver(rt, row_id) == "sent"

    [message] = store.meta_messages(to=number)
    template = message.payload["template"]
    assert (message.type, template["name"], template["language"]["code"]) == (
        "template",
        name,
        "fr",
    )
    assert template["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "10"}]}
    ]
    assert outbox_row(pg, row_id).sent_channel == Channel.WHATSAPP
    assert len(store.twilio_messages(to=number)) == 1  # no second SMS


def test_outside_the_window_a_reply_with_no_template_goes_by_sms(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    user_id, number = make_whatsapp_buyer(pg, in_window=False)

    assert deliver(rt, _reply(pg, user_id, Text("Votre panier vous attend"))) == "sent"

    assert store.meta_messages(to=number) == []
    assert [m.body for m in store.twilio_messages(to=number)] == ["Votre panier vous attend"]


# --------------------------------------------------------------------------- 131047


@pytest.mark.parametrize("approved", [True, False], ids=["template", "sms"])
def test_131047_at_send_time_means_template_or_sms_and_never_free_form_again(
    rt: Runtime, pg: Db, store: EmulatorStore, approved: bool
) -> None:
    user_id, number = make_whatsapp_buyer(pg)  # our books say in the window: Meta knows better
    name = _meta_template(pg, store, Notice.ORDER_ACCEPTED, "fr", approved=approved)
    store.fail_next(
        1, status=400, code=131047, provider="meta", description="Re-engagement message"
    )
    row_id = _queue(pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 31})

    assert deliver(rt, row_id) == "retry"  # back in line at once, marked
    row = outbox_row(pg, row_id)
    assert row.status == OutboxStatus.PENDING and row.payload[WINDOW_CLOSED] is True
    assert _due_again(rt) == ["sent"]

    row = outbox_row(pg, row_id)
    assert row.status == OutboxStatus.SENT
    if approved:
        [message] = store.meta_messages(to=number)
        assert message.type == "template" and message.payload["template"]["name"] == name
        assert row.sent_channel == Channel.WHATSAPP and store.twilio_messages(to=number) == []
    else:
        assert store.meta_messages(to=number) == []
        [sms] = store.twilio_messages(to=number)
        assert "commande 31" in sms.body and row.sent_channel == Channel.SMS
    assert _due_again(rt) == []  # nothing left going round


def test_131047_on_the_template_too_ends_in_one_sms_not_a_loop(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    user_id, number = make_whatsapp_buyer(pg)
    _meta_template(pg, store, Notice.ORDER_ACCEPTED, "fr")
    store.fail_next(2, status=400, code=131047, provider="meta")  # free-form, then the template
    row_id = _queue(pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 32})

    outcomes = [deliver(rt, row_id)]
    for _ in range(4):
        outcomes += _due_again(rt)

    assert outcomes == ["retry", "retry", "sent"]
    assert store.meta_messages(to=number) == []
    assert len(store.twilio_messages(to=number)) == 1
    assert outbox_row(pg, row_id).sent_channel == Channel.SMS


@pytest.mark.parametrize("approved", [True, False], ids=["template", "sms"])
def test_131047_in_a_failed_status_means_template_or_sms(
    rt: Runtime, pg: Db, store: EmulatorStore, redis_conn: redis.Redis, approved: bool
) -> None:
    user_id, number = make_whatsapp_buyer(pg)
    _meta_template(pg, store, Notice.ORDER_ACCEPTED, "fr", approved=approved)
    store.closed_windows.add(number)  # Meta accepts the text, then reports 131047
    row_id = _queue(pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 33})
    assert deliver(rt, row_id) == "sent"
    [free_form] = store.meta_messages(to=number)
    assert free_form.type == "text"

    # Meta's signed status webhook, {"status": "failed", "errors": [{"code": 131047, …}]},
    # through our route
    client = create_app(rt.config, runtime=rt).test_client()
    _, failed = store.advance_meta_status(free_form.id, "failed", 131047)
    assert post_meta(client, failed).status_code == 200

    row = outbox_row(pg, row_id)
    assert row.status == OutboxStatus.PENDING and row.provider_message_id is None
    assert row.payload[WINDOW_CLOSED] is True and row.error_code == "131047"
    assert row.last_error  # Meta's words for it
    RuntimeWorker([Queue(QUEUE, connection=redis_conn)], connection=redis_conn, runtime=rt).work(
        burst=True
    )  # the job record_status queued
    assert _due_again(rt) == []

    row = outbox_row(pg, row_id)
    assert row.status == OutboxStatus.SENT
    later = [m for m in store.meta_messages(to=number) if m.id != free_form.id]
    if approved:
        [template] = later
        assert template.type == "template" and row.provider_message_id == template.id
        assert store.twilio_messages(to=number) == []
    else:
        assert later == [] and row.sent_channel == Channel.SMS
        assert len(store.twilio_messages(to=number)) == 1
    # Meta redelivers the failed status: no row holds that wamid any more, nothing moves
    assert post_meta(client, failed).status_code == 200
    assert outbox_row(pg, row_id).status == OutboxStatus.SENT and _due_again(rt) == []


# --------------------------------------------------------------------------- other errors


@pytest.mark.parametrize("code", [130429, 131056])
def test_rate_limits_are_retried_later(
    rt: Runtime, pg: Db, store: EmulatorStore, code: int
) -> None:
    user_id, number = make_whatsapp_buyer(pg)
    store.fail_next(1, status=400, code=code, provider="meta")
    row_id = _reply(pg, user_id, Text("Votre commande est prête"))

    assert deliver(rt, row_id) == "retry"
    row = outbox_row(pg, row_id)
    assert (row.status, row.error_code, row.attempts) == (OutboxStatus.PENDING, str(code), 1)
    assert row.next_attempt_at > clock.now()
    assert _due_again(rt) == []  # not before its backoff
    assert store.meta_messages(to=number) == []

    clock.advance(dt.timedelta(seconds=10))
    assert _due_again(rt) == ["sent"]
    [message] = store.meta_messages(to=number)
    row = outbox_row(pg, row_id)
    assert (row.status, row.attempts, row.provider_message_id) == (
        OutboxStatus.SENT,
        2,
        message.id,
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [(131026, "Message undeliverable"), (131051, "Unsupported message type")],
)
def test_undeliverable_and_unsupported_fail_for_good_with_meta_s_words(
    rt: Runtime, pg: Db, store: EmulatorStore, code: int, words: str
) -> None:
    user_id, number = make_whatsapp_buyer(pg)
    store.fail_next(1, status=400, code=code, provider="meta", description=words)
    row_id = _reply(pg, user_id, Text("Bonjour"))

    assert deliver(rt, row_id) == "failed"

    row = outbox_row(pg, row_id)
    assert (row.status, row.error_code) == (OutboxStatus.FAILED, str(code))
    assert words in row.last_error
    clock.advance(dt.timedelta(hours=1))
    assert _due_again(rt) == []
    assert store.meta_messages(to=number) == [] and store.twilio_messages(to=number) == []


# ------------------------------------------------------------------------ the same rule on Twilio


def test_on_twilio_63016_at_send_time_means_its_approved_template_then_never_free_form(
    pg: Db, redis_conn: redis.Redis, emulator: Emulator, store: EmulatorStore, tmp_path: Path
) -> None:
    runtime = Runtime(_config(emulator, tmp_path / "media", whatsapp__provider="twilio"))
    try:
        sync(runtime.twilio_sender.client, runtime.session_factory)
        sid = next(c.sid for c in store.contents() if c.friendly_name == "boutik_order_accepted_fr")
        store.decide_approval(sid, "approved")
        refresh_status(runtime.twilio_sender.client, runtime.session_factory)
        user_id, number = make_whatsapp_buyer(pg)
        store.fail_next(1, status=400, code=63016, provider="twilio")
        row_id = _queue(pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 34})

        assert deliver(runtime, row_id) == "retry"
        assert outbox_row(pg, row_id).payload[WINDOW_CLOSED] is True
        assert _due_again(runtime) == ["sent"]
    finally:
        runtime.dispose()

    [message] = store.twilio_messages(to=f"whatsapp:{number}")
    assert (message.content_sid, message.content_variables) == (sid, {"1": "34"})
    assert store.twilio_messages(to=number) == [] and store.meta_messages() == []
