"""Routing an outbox row when Meta's Cloud API carries WhatsApp: the same 24 h window rule as on
Twilio, Meta's approved template outside it, and a row the window closed on never free-form
again. No sockets: the plan is what is checked, on the unit SQLite database."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.messages import Choice, Choices, reply_to_json
from commerce.messaging import templates
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.messaging.templates import ApprovalStatus, TemplatePurpose
from commerce.users.models import Channel, User
from settings.config import load_config
from tests.support import Db, make_whatsapp_buyer
from workers.outbox import providers
from workers.outbox.plan import WINDOW_CLOSED, Plan
from workers.outbox.providers.meta import MetaWhatsApp, e164
from workers.outbox.providers.telegram import TelegramBot
from workers.outbox.providers.twilio import TwilioMessaging
from workers.outbox.routing import plan_for, reroute_window_closed

MENU = Choices("Payer ?", (Choice("pay:cash", "Espèces"), Choice("pay:no", "Non")))


def _rt(provider: str) -> Any:
    config = load_config(environ={}).replace(
        whatsapp__provider=provider, meta__phone_number_id="106540352242922"
    )
    return SimpleNamespace(config=config)


def _buyer(db: Db, *, in_window: bool, with_phone: bool = True) -> int:
    user_id, _number = make_whatsapp_buyer(db, in_window=in_window)
    if not with_phone:
        with db.uow() as s:
            user = s.get(User, user_id)
            assert user is not None
            user.phone = None
    return user_id


def _template(db: Db, provider: str, kind: str, language: str, approval: ApprovalStatus) -> None:
    with db.uow() as s:
        templates.record(
            s,
            purpose=TemplatePurpose.NOTICE,
            key=kind,
            language=language,
            friendly_name=f"boutik_{kind}_{language}",
            content_sid=("HX" + "b" * 32) if provider == "twilio" else "778899",
            content_type="twilio/text" if provider == "twilio" else "BODY",
            approval=approval,
            provider=provider,
        )


def _plan(
    db: Db, rt: Any, user_id: int, kind: Notice, params: dict[str, Any], **payload: Any
) -> Plan:
    with db.uow() as s:
        row = notify(s, user_id=user_id, kind=kind, params=params, essential=True)
        row.payload = {**row.payload, **payload}
        s.flush()
        return plan_for(s, rt, row)


def test_inside_the_window_a_menu_needs_no_template_on_meta(db: Db) -> None:
    user_id = _buyer(db, in_window=True)
    with db.uow() as s:  # a synced Twilio menu template must not leak into a Meta plan
        templates.record(
            s,
            purpose=TemplatePurpose.MENU,
            key="quick_reply_2",
            language="fr",
            friendly_name="boutik_menu_quick_reply_2",
            content_sid="HX" + "c" * 32,
            content_type="twilio/quick-reply",
            approval=ApprovalStatus.UNSUBMITTED,
        )

    plan = _plan(db, _rt("meta"), user_id, Notice.REPLY, {"reply": reply_to_json(MENU)})

    assert plan.channel == Channel.WHATSAPP and plan.reply == MENU
    assert plan.menu_templates == {} and not plan.template_name and not plan.template_sid
    twilio = _plan(db, _rt("twilio"), user_id, Notice.REPLY, {"reply": reply_to_json(MENU)})
    assert twilio.menu_templates == {"quick_reply_2": "HX" + "c" * 32}


def test_outside_the_window_meta_sends_its_approved_template_with_numbered_params(db: Db) -> None:
    user_id = _buyer(db, in_window=False)
    _template(db, "meta", "order_accepted", "fr", ApprovalStatus.APPROVED)

    plan = _plan(db, _rt("meta"), user_id, Notice.ORDER_ACCEPTED, {"order_id": 42})

    assert plan.channel == Channel.WHATSAPP
    assert (plan.template_name, plan.template_language) == ("boutik_order_accepted_fr", "fr")
    assert plan.template_params == ("42",)
    assert plan.template_sid == ""


def test_outside_the_window_a_twilio_template_is_no_meta_template(db: Db) -> None:
    user_id = _buyer(db, in_window=False)
    _template(db, "twilio", "order_accepted", "fr", ApprovalStatus.APPROVED)
    _template(db, "meta", "order_accepted", "en", ApprovalStatus.APPROVED)  # not her language

    plan = _plan(db, _rt("meta"), user_id, Notice.ORDER_ACCEPTED, {"order_id": 7})

    assert plan.channel == Channel.SMS and not plan.template_name and not plan.template_sid


@pytest.mark.parametrize("approval", [ApprovalStatus.PENDING, ApprovalStatus.REJECTED])
def test_outside_the_window_an_unapproved_meta_template_means_sms(
    db: Db, approval: ApprovalStatus
) -> None:
    user_id = _buyer(db, in_window=False)
    _template(db, "meta", "order_picked_up", "fr", approval)

    plan = _plan(db, _rt("meta"), user_id, Notice.ORDER_PICKED_UP, {"order_id": 3})

    assert plan.channel == Channel.SMS and not plan.template_name


def test_outside_the_window_without_template_nor_phone_nothing_is_sent(db: Db) -> None:
    user_id = _buyer(db, in_window=False, with_phone=False)
    with db.uow() as s:
        row = notify(
            s,
            user_id=user_id,
            kind=Notice.ORDER_ACCEPTED,
            params={"order_id": 1},
            essential=True,
            channel=Channel.WHATSAPP,
            address="+224620000001",
        )
        plan = plan_for(s, _rt("meta"), row)
    assert plan.skip_reason == "outside_window"


def test_a_row_the_window_closed_on_never_goes_free_form_again(db: Db) -> None:
    user_id = _buyer(db, in_window=True)  # the buyer's last message looks recent to us…
    _template(db, "meta", "order_accepted", "fr", ApprovalStatus.APPROVED)

    plan = _plan(
        db, _rt("meta"), user_id, Notice.ORDER_ACCEPTED, {"order_id": 5}, **{WINDOW_CLOSED: True}
    )
    assert plan.template_name == "boutik_order_accepted_fr"  # …but WhatsApp said otherwise

    reply = _plan(
        db,
        _rt("meta"),
        user_id,
        Notice.REPLY,
        {"reply": reply_to_json(MENU)},
        **{WINDOW_CLOSED: True},
    )
    assert reply.channel == Channel.SMS  # a reply has no template


def test_reroute_marks_first_then_sms_then_gives_up(db: Db) -> None:
    user_id = _buyer(db, in_window=True)
    with db.uow() as s:
        user = s.get(User, user_id)
        assert user is not None
        row = notify(s, user_id=user_id, kind=Notice.ORDER_ACCEPTED, params={"order_id": 1})
        row.status = OutboxStatus.FAILED

        assert reroute_window_closed(row, user)  # 1: template or SMS, as routing decides
        assert row.payload[WINDOW_CLOSED] is True and row.status == OutboxStatus.PENDING
        assert row.channel is None

        row.status = OutboxStatus.FAILED
        assert reroute_window_closed(row, user)  # 2: the template was refused too: SMS
        assert (row.channel, row.address) == (Channel.SMS, user.phone)

        row.status = OutboxStatus.FAILED
        assert not reroute_window_closed(row, user)  # 3: nothing left: never a loop
        assert row.status == OutboxStatus.FAILED
        assert not reroute_window_closed(Outbox(payload={}), None)


def test_the_whatsapp_carrier_is_the_configured_one_and_sms_stays_twilio() -> None:
    assert isinstance(providers.sender_for(Channel.WHATSAPP, "meta"), MetaWhatsApp)
    assert isinstance(providers.sender_for(Channel.WHATSAPP, "twilio"), TwilioMessaging)
    assert isinstance(providers.sender_for(Channel.WHATSAPP), TwilioMessaging)
    for provider in ("meta", "twilio"):
        assert isinstance(providers.sender_for(Channel.SMS, provider), TwilioMessaging)
        assert isinstance(providers.sender_for(Channel.TELEGRAM, provider), TelegramBot)


def test_the_graph_api_gets_e164() -> None:
    assert e164("+224620000001") == e164("whatsapp:+224620000001") == "+224620000001"
    assert e164("224 620 00 00 01") == "+224620000001"
