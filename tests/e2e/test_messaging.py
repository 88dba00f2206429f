"""Whole turns through the Flask app: signed payloads in, SDK sends out to the emulators."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, update

from commerce import clock
from commerce.messaging.models import ConversationState, InboundMessage, Outbox, OutboxStatus
from commerce.messaging.outbox import notify
from commerce.users import actions as users
from commerce.users.models import Channel, ChannelIdentity, User
from tests.e2e.conftest import Boutik
from tests.support import phone
from tests.timing import WAIT_S
from tests.webhooks import (
    AUTH_TOKEN,
    post_telegram,
    post_twilio,
    sms_form,
    telegram_callback,
    telegram_message,
    twilio_signature,
    whatsapp_form,
)

WA = "/webhooks/twilio/whatsapp"
SMS = "/webhooks/twilio/sms"


def _wa_bodies(boutik: Boutik, number: str) -> list[str]:
    return [m.body for m in boutik.store.twilio_messages(to=f"whatsapp:{number}")]


def test_a_new_whatsapp_user_is_greeted_by_name(boutik: Boutik) -> None:
    number = phone()
    response = post_twilio(boutik.client, WA, whatsapp_form(number, "Bonjour"))
    assert response.status_code == 200
    assert "<Response" in response.get_data(as_text=True)
    bodies = boutik.store.wait_for(lambda: _wa_bodies(boutik, number), timeout=WAIT_S)
    assert "Bonjour Mariama" in bodies[0]
    assert "Reply EN for English" in bodies[0]
    assert "1. Catalogue" in bodies[0]  # no Content API template configured: numbered menu
    with boutik.db.session() as s:
        user = s.scalar(select(User).where(User.phone == number))
        assert user is not None and user.name == "Mariama Diallo"
        ident = s.scalar(select(ChannelIdentity).where(ChannelIdentity.user_id == user.id))
        assert ident is not None and ident.last_inbound_at is not None


def test_a_forged_request_is_refused_and_nothing_happens(boutik: Boutik) -> None:
    number = phone()
    form = whatsapp_form(number, "Bonjour")
    forged = post_twilio(boutik.client, WA, form, token="someone-elses-token")
    unsigned = post_twilio(boutik.client, WA, form, signature="")
    assert forged.status_code == 403 and unsigned.status_code == 403
    with boutik.db.session() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 0
        assert s.scalar(select(func.count(Outbox.id))) == 0
    assert boutik.store.twilio_messages() == []


def test_telegram_requires_the_secret_token(boutik: Boutik) -> None:
    update = telegram_message(777001, "bonjour")
    assert post_telegram(boutik.client, update, secret="wrong").status_code == 403
    assert post_telegram(boutik.client, update, secret="").status_code == 403
    with boutik.db.session() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 0


def _concurrently(n: int, fn) -> list[int]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def run() -> None:
        barrier.wait()
        codes.append(fn())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_the_same_message_sid_five_times_at_once_has_one_effect(boutik: Boutik) -> None:
    number = phone()
    form = whatsapp_form(number, "Bonjour")
    app = boutik.client.application

    codes = _concurrently(5, lambda: post_twilio(app.test_client(), WA, form).status_code)

    assert codes == [200] * 5
    boutik.settle()
    with boutik.db.session() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 1
        assert s.scalar(select(func.count(ConversationState.id))) == 1
        assert s.scalar(select(func.count(Outbox.id))) == 1
    assert len(_wa_bodies(boutik, number)) == 1


def test_the_same_update_id_five_times_at_once_has_one_effect(boutik: Boutik) -> None:
    update = telegram_message(777002, "bonjour")
    app = boutik.client.application

    codes = _concurrently(5, lambda: post_telegram(app.test_client(), update).status_code)

    assert codes == [200] * 5
    boutik.settle()
    sent = boutik.store.telegram_calls(method="sendMessage", chat_id=777002)
    assert len(sent) == 1
    assert sent[0].params["reply_markup"]  # the menu as an inline keyboard


def test_odd_inputs_always_get_a_polite_reply(boutik: Boutik) -> None:
    number = phone()
    odd = [
        "",
        "🙂🛍️🔥",
        "x" * 5000,
        "<script>alert(1)</script> **gras** _it_",
        "a\x00b\x07c\x1b[31m",
    ]
    for text in odd:
        before = len(_wa_bodies(boutik, number))
        response = post_twilio(boutik.client, WA, whatsapp_form(number, text))
        assert response.status_code == 200
        boutik.store.wait_for(lambda b=before: len(_wa_bodies(boutik, number)) > b, timeout=WAIT_S)
        boutik.settle()
    bodies = _wa_bodies(boutik, number)
    assert all(body.strip() for body in bodies)
    assert all("\x00" not in body and "\x1b" not in body for body in bodies)
    assert all(len(body) <= 4096 for body in bodies)


def test_sms_replies_are_gsm7_numbered_menus(boutik: Boutik) -> None:
    number = phone()
    post_twilio(boutik.client, SMS, sms_form(number, "bonjour"))
    messages = boutik.store.wait_for(
        lambda: boutik.store.twilio_messages(to=number), timeout=WAIT_S
    )
    text = "".join(m.body for m in messages)
    assert "1. Catalogue" in text
    assert "🛍" not in text  # transliterated: no UCS-2 switch
    assert all(m.num_segments == 1 for m in messages)


def test_a_numbered_answer_picks_the_menu_choice(boutik: Boutik) -> None:
    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.settle()
    post_twilio(boutik.client, WA, whatsapp_form(number, "5"))  # 5. Aide
    boutik.store.wait_for(lambda: len(_wa_bodies(boutik, number)) >= 3, timeout=WAIT_S)
    assert any("STOP" in body for body in _wa_bodies(boutik, number))


def test_after_stop_no_non_essential_message_is_sent(boutik: Boutik) -> None:
    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    post_twilio(boutik.client, WA, whatsapp_form(number, "ARRÊT"))
    boutik.store.wait_for(lambda: len(_wa_bodies(boutik, number)) >= 2, timeout=WAIT_S)
    assert "plus de messages non essentiels" in _wa_bodies(boutik, number)[-1]
    with boutik.db.uow() as s:
        user = s.scalar(select(User).where(User.phone == number))
        assert user is not None and user.opted_out
        promo = notify(s, user_id=user.id, kind="new_review", params={"rating": 5})
        essential = notify(
            s, user_id=user.id, kind="order_accepted", params={"order_id": 7}, essential=True
        )
        ids = [promo.id, essential.id]
    boutik.rt.dispatcher.dispatch(ids)
    boutik.settle()
    by_id = {r.id: r for r in boutik.outbox()}
    assert by_id[ids[0]].status == OutboxStatus.SKIPPED
    assert by_id[ids[1]].status == OutboxStatus.SENT
    assert sum("commande 7" in b for b in _wa_bodies(boutik, number)) == 1
    # START brings them back in.
    post_twilio(boutik.client, WA, whatsapp_form(number, "start"))
    boutik.settle()
    with boutik.db.session() as s:
        assert not s.scalar(select(User.opted_out).where(User.phone == number))


def test_status_callbacks_move_the_row_forward_only(boutik: Boutik) -> None:
    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.settle()
    [row] = boutik.outbox()
    sid = row.provider_message_id
    assert sid and sid.startswith("SM")
    for state in ("delivered", "read", "sent"):  # a late "sent" must not undo "read"
        url, params = boutik.store.advance_status(sid, state)
        assert url is not None
        path = url.removeprefix("https://boutik.example.gn")
        response = post_twilio(boutik.client, path, params, token=AUTH_TOKEN)
        assert response.status_code == 204
    assert boutik.outbox()[0].status == OutboxStatus.READ


def test_outside_the_whatsapp_window_a_notification_falls_back_to_sms(boutik: Boutik) -> None:
    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.settle()
    clock.advance(dt.timedelta(hours=25))
    with boutik.db.uow() as s:
        user_id = s.scalar(select(User.id).where(User.phone == number))
        row = notify(
            s, user_id=user_id, kind="order_accepted", params={"order_id": 9}, essential=True
        )
    boutik.rt.dispatcher.dispatch([row.id])
    boutik.settle()
    sms = boutik.store.twilio_messages(to=number)
    assert len(sms) == 1 and "commande 9" in sms[0].body
    assert len(_wa_bodies(boutik, number)) == 1  # only the greeting went on WhatsApp
    assert boutik.outbox(id=row.id)[0].sent_channel == Channel.SMS


def test_outside_the_window_an_approved_template_is_used_when_configured(boutik: Boutik) -> None:
    boutik.store.register_content(
        "HX" + "a" * 32,
        "twilio/text",
        {"body": "Commande {{order_id}} acceptée."},
        approved_template=True,
    )
    boutik.rt.config = boutik.rt.config.replace(
        twilio__content_templates={"order_accepted": "HX" + "a" * 32}
    )
    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.settle()
    clock.advance(dt.timedelta(hours=30))
    with boutik.db.uow() as s:
        user_id = s.scalar(select(User.id).where(User.phone == number))
        row = notify(
            s, user_id=user_id, kind="order_accepted", params={"order_id": 5}, essential=True
        )
    boutik.rt.dispatcher.dispatch([row.id])
    boutik.settle()
    wa = boutik.store.twilio_messages(to=f"whatsapp:{number}")
    assert wa[-1].content_sid == "HX" + "a" * 32
    assert boutik.store.twilio_messages(to=number) == []


def test_a_429_is_retried_after_its_delay_and_then_sent(boutik: Boutik) -> None:
    boutik.store.fail_next(1, status=429, code=20429, retry_after=1, provider="twilio")
    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.store.wait_for(lambda: _wa_bodies(boutik, number), timeout=WAIT_S)
    boutik.settle()
    [row] = boutik.outbox()
    assert row.status == OutboxStatus.SENT and row.attempts == 2


def test_an_opted_out_number_at_twilio_ends_the_row_and_marks_the_user(boutik: Boutik) -> None:
    number = phone()
    boutik.store.opted_out.add(f"whatsapp:{number}")
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.settle()
    [row] = boutik.outbox()
    assert row.status == OutboxStatus.FAILED and row.error_code == "21610"
    assert row.attempts == 1  # terminal: never retried
    with boutik.db.session() as s:
        assert s.scalar(select(User.opted_out).where(User.phone == number))


def test_telegram_callback_is_answered_and_blocked_users_are_marked(boutik: Boutik) -> None:
    post_telegram(boutik.client, telegram_message(777003, "/start"))
    boutik.settle()
    post_telegram(boutik.client, telegram_callback(777003, "w:buy"))  # "I want to buy"
    boutik.settle()
    assert boutik.store.telegram_calls(method="answerCallbackQuery")
    post_telegram(boutik.client, telegram_message(777003, "AIDE"))
    boutik.settle()
    texts = [c.params.get("text", "") for c in boutik.store.telegram_calls(method="sendMessage")]
    assert any("STOP" in t for t in texts)
    boutik.store.blocked_chats.add(777003)
    post_telegram(boutik.client, telegram_message(777003, "menu"))
    boutik.settle()
    assert boutik.outbox()[-1].status == OutboxStatus.FAILED
    with boutik.db.session() as s:
        ident = s.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == Channel.TELEGRAM))
        assert ident is not None and ident.blocked


def test_a_dead_workers_row_is_recovered_without_sending_twice(boutik: Boutik) -> None:
    """A worker died after Twilio accepted the message but before recording it."""
    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.settle()
    assert len(_wa_bodies(boutik, number)) == 1
    with boutik.db.uow() as s:  # rewind the row to "sending", as the crash left it
        s.execute(
            update(Outbox).values(
                status=OutboxStatus.SENDING,
                provider_message_id=None,
                updated_at=clock.now() - dt.timedelta(minutes=5),
            )
        )
    from workers.outbox import deliver, sweep

    ids = sweep(boutik.rt)
    assert len(ids) == 1
    assert deliver(boutik.rt, ids[0]) == "sent"
    assert len(_wa_bodies(boutik, number)) == 1  # found at Twilio, not sent again
    assert boutik.outbox()[0].provider_message_id


def test_in_human_mode_the_bot_stays_silent_until_released(boutik: Boutik) -> None:
    from bot.handoff import hand_off, release

    number = phone()
    post_twilio(boutik.client, WA, whatsapp_form(number, "bonjour"))
    boutik.settle()
    with boutik.db.uow() as s:
        hand_off(s, channel=Channel.WHATSAPP, address=number, to_user_id=1)
    post_twilio(boutik.client, WA, whatsapp_form(number, "il y a quelqu'un ?"))
    boutik.settle()
    assert len(_wa_bodies(boutik, number)) == 1
    with boutik.db.session() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 2  # recorded all the same
    with boutik.db.uow() as s:
        release(s, channel=Channel.WHATSAPP, address=number)
    post_twilio(boutik.client, WA, whatsapp_form(number, "menu"))
    boutik.store.wait_for(lambda: len(_wa_bodies(boutik, number)) == 2, timeout=WAIT_S)


def test_forwarded_headers_are_ignored_unless_trusted(boutik: Boutik) -> None:
    form = whatsapp_form(phone(), "bonjour")
    proxy_url = "https://proxy.internal/webhooks/twilio/whatsapp"
    headers = {
        "X-Twilio-Signature": twilio_signature(proxy_url, form),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "proxy.internal",
    }
    assert boutik.client.post(WA, data=form, headers=headers).status_code == 403
    boutik.rt.config = boutik.rt.config.replace(web__trust_forwarded=True)
    assert boutik.client.post(WA, data=form, headers=headers).status_code == 200


def test_media_is_served_only_through_a_valid_signed_link(boutik: Boutik) -> None:
    from channels_adapters.media import signed_media_url
    from settings.config import signing_key

    key = signing_key(boutik.rt.config)

    media = boutik.rt.config.media_dir / "qr"
    media.mkdir(parents=True)
    (media / "1042.png").write_bytes(b"\x89PNG fake")
    url = signed_media_url("https://boutik.example.gn", "qr/1042.png", key=key, ttl_s=60)
    path = url.removeprefix("https://boutik.example.gn")
    ok = boutik.client.get(path)
    assert ok.status_code == 200 and ok.data == b"\x89PNG fake"
    assert boutik.client.get(path.replace("1042", "1043")).status_code == 403
    assert boutik.client.get("/media/qr/1042.png").status_code == 403
    escape = signed_media_url("https://boutik.example.gn", "../config.toml", key=key, ttl_s=60)
    assert boutik.client.get(escape.removeprefix("https://boutik.example.gn")).status_code == 404


def test_a_row_waiting_for_its_send_slot_keeps_itself_alive(
    boutik: Boutik, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long wait for the shared rate limit must not look like a dead worker to the sweeper."""
    import workers.outbox as outbox_worker
    from workers.outbox import lease

    monkeypatch.setattr(lease, "HEARTBEAT_S", 0.2)  # where heartbeat_s() reads it
    with boutik.db.uow() as s:
        user = users.get_or_create_by_phone(s, phone=phone(), name="Awa")
        row = notify(s, user_id=user.id, kind="order_accepted", params={"order_id": 1})
        row.status = OutboxStatus.SENDING
        row.updated_at = clock.now() - dt.timedelta(hours=1)
        row_id = row.id
    outbox_worker.pace(boutik.rt, row_id, [("test:heartbeat", 1.0, 1)])  # first slot: now
    waiting_since = clock.now()
    outbox_worker.pace(boutik.rt, row_id, [("test:heartbeat", 1.0, 1)])  # waits ~1 s
    [after] = boutik.outbox(id=row_id)
    # Touched during the wait (it was an hour old), whatever the time the machine took.
    assert after.updated_at >= waiting_since
    assert outbox_worker.sweep(boutik.rt, stale_after=dt.timedelta(seconds=5)) == []
