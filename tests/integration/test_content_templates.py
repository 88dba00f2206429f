"""WhatsApp content templates: made by the sync, followed by status, chosen by the worker.

Everything runs through the real twilio SDK against the emulators' Content and Messages APIs,
on the real PostgreSQL; messages leave through the outbox worker path (`deliver`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from twilio.base.exceptions import TwilioRestException
from twilio.rest.content.v1.content import ContentList
from twilio.rest.content.v1.content.approval_create import ApprovalCreateList

from bot.messages import Choice, Choices, reply_to_json
from boutik.cli import main
from boutik.runtime import Runtime
from channels_adapters.twilio_template_sync import refresh_status, sync
from channels_adapters.twilio_templates import all_specs
from commerce.messaging.models import Outbox
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.messaging.templates import ApprovalStatus, TemplatePurpose
from commerce.users.models import Channel
from devtools.emulators.store import EmulatorStore
from settings import config as config_module
from tests.e2e.conftest import boutik_config
from tests.services import Emulator
from tests.support import PG_URL, Db, make_whatsapp_buyer
from tests.unit.flows import content_template, content_templates
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN
from workers.outbox import deliver

MENUS, NOTICES = 23, 22  # 3 quick replies + 20 list pickers; 11 buyer notices × fr/en


@pytest.fixture
def rt(pg: Db, emulator: Emulator, store: EmulatorStore, tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(boutik_config(emulator, tmp_path / "media"))
    yield runtime
    runtime.dispose()


def _send(rt: Runtime, pg: Db, user_id: int, kind: Notice, params: dict[str, object]) -> Outbox:
    with pg.uow() as s:
        row_id = notify(s, user_id=user_id, kind=kind, params=params, essential=True).id
    deliver(rt, row_id)
    with pg.session() as s:
        row = s.get(Outbox, row_id)
        assert row is not None
        return row


def test_sync_creates_the_full_set_once_and_a_second_run_creates_nothing(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    first = sync(rt.twilio_sender.client, rt.session_factory)

    assert len(first.created) == len(all_specs()) == MENUS + NOTICES
    assert len(first.submitted) == NOTICES
    contents = store.contents()
    assert sorted(c.friendly_name for c in contents) == sorted(first.created)
    rows = content_templates(pg)
    assert {r.content_sid for r in rows} == {c.sid for c in contents}
    menus = {r.key for r in rows if r.purpose == TemplatePurpose.MENU}
    assert menus == {f"quick_reply_{n}" for n in (1, 2, 3)} | {
        f"list_picker_{n}{d}" for n in range(1, 11) for d in ("", "_described")
    }
    assert {r.language for r in rows if r.purpose == TemplatePurpose.MENU} == {"fr"}
    notices = [r for r in rows if r.purpose == TemplatePurpose.NOTICE]
    assert {r.approval for r in notices} == {ApprovalStatus.RECEIVED}
    assert {r.approval for r in rows if r.purpose == TemplatePurpose.MENU} == {
        ApprovalStatus.UNSUBMITTED
    }
    two = store.content(content_template(pg, "boutik_menu_quick_reply_2").content_sid)
    assert two is not None and len(two.definition["actions"]) == 2
    accepted = store.content(content_template(pg, "boutik_order_accepted_en").content_sid)
    assert accepted is not None and accepted.approval is not None
    assert accepted.approval["category"] == "UTILITY"
    assert accepted.types["twilio/text"]["body"] == (
        "Good news: your order {{1}} was accepted by the seller."
    )

    store.clear_raw_requests()
    second = sync(rt.twilio_sender.client, rt.session_factory)

    assert second.created == [] and second.submitted == [] and second.outdated == []
    assert len(store.contents()) == MENUS + NOTICES
    assert [r.method for r in store.raw_requests() if r.method != "GET"] == []
    assert {(r.friendly_name, r.content_sid) for r in content_templates(pg)} == {
        (r.friendly_name, r.content_sid) for r in rows
    }


def test_status_refreshes_an_approval_from_twilio(
    rt: Runtime, pg: Db, store: EmulatorStore, emulator: Emulator, tmp_path: Path
) -> None:
    overlay = tmp_path / "boutik.toml"
    overlay.write_text(f'[twilio]\napi_base_url = "{emulator.base_url}"\n')
    env = {
        "BOUTIK_CONFIG": str(overlay),
        "DATABASE_URL": PG_URL,
        "REDIS_URL": "",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }
    runner = CliRunner()
    config_module.get_config.cache_clear()
    try:
        synced = runner.invoke(main, ["twilio", "templates", "sync"], env=env)
        assert synced.exit_code == 0, synced.output
        assert f"{MENUS + NOTICES} created" in synced.output
        sid = content_template(pg, "boutik_order_accepted_fr").content_sid
        assert content_template(pg, "boutik_order_accepted_fr").approval == ApprovalStatus.RECEIVED

        store.decide_approval(sid, "approved")
        store.decide_approval(
            content_template(pg, "boutik_order_refused_fr").content_sid, "rejected", "TAG"
        )
        shown = runner.invoke(main, ["twilio", "templates", "status"], env=env)
    finally:
        config_module.get_config.cache_clear()

    assert shown.exit_code == 0, shown.output
    assert content_template(pg, "boutik_order_accepted_fr").approval == ApprovalStatus.APPROVED
    refused = content_template(pg, "boutik_order_refused_fr")
    assert (refused.approval, refused.rejection_reason) == (ApprovalStatus.REJECTED, "TAG")
    assert content_template(pg, "boutik_order_accepted_en").approval == ApprovalStatus.RECEIVED
    [line] = [ln for ln in shown.output.splitlines() if "boutik_order_accepted_fr" in ln]
    assert sid in line and line.endswith("approved")
    assert "rejected  (TAG)" in shown.output


def test_a_two_choice_menu_goes_out_through_the_two_button_template(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    sync(rt.twilio_sender.client, rt.session_factory)
    user_id, number = make_whatsapp_buyer(pg, in_window=True)
    menu = Choices(
        text="Payer à la livraison ?",
        choices=(Choice("pay:cash", "Oui, en espèces"), Choice("pay:no", "Non")),
    )

    _send(rt, pg, user_id, Notice.REPLY, {"reply": reply_to_json(menu)})

    [message] = store.twilio_messages(to=f"whatsapp:{number}")
    assert message.content_sid == content_template(pg, "boutik_menu_quick_reply_2").content_sid
    assert message.content_variables == {
        "1": "Payer à la livraison ?",
        "2": "Oui, en espèces",
        "3": "pay:cash",
        "4": "Non",
        "5": "pay:no",
    }
    template = store.content(message.content_sid)
    assert template is not None and set(template.variables) == set(message.content_variables)


def test_outside_the_window_only_an_approved_template_goes_else_sms(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    sync(rt.twilio_sender.client, rt.session_factory)
    user_id, number = make_whatsapp_buyer(pg, in_window=False)
    store.closed_windows.add(f"whatsapp:{number}")  # Twilio, too, knows the window is closed

    pending = _send(rt, pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 9})

    assert pending.sent_channel == Channel.SMS
    assert store.twilio_messages(to=f"whatsapp:{number}") == []
    [sms] = store.twilio_messages(to=number)
    assert "commande 9" in sms.body

    sid = content_template(pg, "boutik_order_accepted_fr").content_sid
    store.decide_approval(sid, "approved")
    refresh_status(rt.twilio_sender.client, rt.session_factory)
    approved = _send(rt, pg, user_id, Notice.ORDER_ACCEPTED, {"order_id": 10})

    assert approved.sent_channel == Channel.WHATSAPP
    [message] = store.twilio_messages(to=f"whatsapp:{number}")
    assert (message.content_sid, message.content_variables) == (sid, {"1": "10"})
    assert "commande 10 est acceptée" in message.body
    assert len(store.twilio_messages(to=number)) == 1  # no second SMS


def test_a_rejected_template_is_not_sent_either(rt: Runtime, pg: Db, store: EmulatorStore) -> None:
    sync(rt.twilio_sender.client, rt.session_factory)
    user_id, number = make_whatsapp_buyer(pg, in_window=False)
    store.decide_approval(
        content_template(pg, "boutik_order_picked_up_fr").content_sid, "rejected", "x"
    )
    refresh_status(rt.twilio_sender.client, rt.session_factory)

    row = _send(rt, pg, user_id, Notice.ORDER_PICKED_UP, {"order_id": 4})

    assert row.sent_channel == Channel.SMS
    assert store.twilio_messages(to=f"whatsapp:{number}") == []


def test_the_config_override_still_wins(rt: Runtime, pg: Db, store: EmulatorStore) -> None:
    sync(rt.twilio_sender.client, rt.session_factory)
    mine = "HX" + "e" * 32
    store.register_content(
        mine,
        "twilio/quick-reply",
        {
            "body": "{{1}}",
            "actions": [{"title": "{{2}}", "id": "{{3}}"}, {"title": "{{4}}", "id": "{{5}}"}],
        },
    )
    rt.config = rt.config.replace(twilio__content_templates={"quick_reply_2": mine})
    user_id, number = make_whatsapp_buyer(pg, in_window=True)
    menu = Choices(text="Continuer ?", choices=(Choice("go:yes", "Oui"), Choice("go:no", "Non")))

    _send(rt, pg, user_id, Notice.REPLY, {"reply": reply_to_json(menu)})

    [message] = store.twilio_messages(to=f"whatsapp:{number}")
    assert message.content_sid == mine
    assert message.content_variables == {
        "1": "Continuer ?",
        "2": "Oui",
        "3": "go:yes",
        "4": "Non",
        "5": "go:no",
    }


def _refusal(call: Callable[[], object]) -> tuple[int, int]:
    with pytest.raises(TwilioRestException) as caught:
        call()
    return caught.value.status, int(caught.value.code)


@pytest.mark.bad_provider_requests  # a request without `types`, on purpose
def test_the_content_api_refuses_what_twilio_and_whatsapp_refuse(
    rt: Runtime, store: EmulatorStore, emulator: Emulator
) -> None:
    contents = rt.twilio_sender.client.content.v1.contents

    def create(**payload: object) -> Any:
        body = {"friendly_name": "t", "language": "fr", **payload}
        return contents.create(ContentList.ContentCreateRequest(body))

    text = {"twilio/text": {"body": "Bonjour {{1}}, merci."}}
    made = create(variables={"1": "Awa"}, types=text)
    twin = create(variables={"1": "Awa"}, types=text)  # Twilio has no unique friendly_name
    assert made.sid != twin.sid and made.types == text and made.language == "fr"
    assert contents(made.sid).fetch().friendly_name == "t"

    assert _refusal(lambda: create(variables={"1": "Awa"}, types=None)) == (400, 20001)
    assert _refusal(lambda: create(variables={}, types=text)) == (400, 20001)  # no sample
    assert _refusal(
        lambda: create(variables={"1": "x"}, types={"twilio/text": {"body": "A {{a b}} b"}})
    ) == (400, 20001)
    four = [{"title": f"B{i}", "id": f"b{i}"} for i in range(4)]
    assert _refusal(
        lambda: create(types={"twilio/quick-reply": {"body": "Choisir", "actions": four}})
    ) == (400, 20001)
    unknown = requests.post(  # the SDK itself cannot send a type it does not know
        f"{emulator.base_url}/v1/Content",
        json={"language": "fr", "types": {"twilio/hologram": {"body": "x"}}},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=10,
    )
    assert unknown.status_code == 400 and "unknown content type" in unknown.json()["message"]
    assert _refusal(lambda: contents("HX" + "0" * 32).fetch())[0] == 404

    def submit(sid: str, name: str = "boutik_t", category: str = "UTILITY") -> Any:
        request = ApprovalCreateList.ContentApprovalRequest({"name": name, "category": category})
        return contents(sid).approval_create.create(request)

    assert submit(made.sid).status == "received"
    assert _refusal(lambda: submit(made.sid)) == (400, 92009)
    assert _refusal(lambda: submit(twin.sid, name="Boutik T")) == (400, 20001)
    assert _refusal(lambda: submit(twin.sid, category="PROMO")) == (400, 20001)
    picker = create(
        variables={"1": "x"},
        types={
            "twilio/list-picker": {
                "body": "Choisir",
                "button": "Voir",
                "items": [{"item": "{{1}}", "id": "a"}],
            }
        },
    )
    assert _refusal(lambda: submit(picker.sid)) == (400, 20001)
    starts = create(variables={"1": "Awa"}, types={"twilio/text": {"body": "{{1}}, merci."}})
    assert submit(starts.sid).status == "rejected"  # WhatsApp: no variable at the start
    fetched = contents(made.sid).approval_fetch().fetch().whatsapp
    assert fetched["status"] == "received" and fetched["category"] == "UTILITY"
    store.decide_approval(made.sid, "approved")
    assert contents(made.sid).approval_fetch().fetch().whatsapp["status"] == "approved"
    assert contents(twin.sid).approval_fetch().fetch().whatsapp["status"] == "unsubmitted"


def test_a_template_made_elsewhere_under_our_name_is_kept_and_flagged_if_its_text_differs(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    request = ContentList.ContentCreateRequest(
        {
            "friendly_name": "boutik_order_accepted_fr",
            "language": "fr",
            "variables": {"1": "1042"},
            "types": {"twilio/text": {"body": "Commande {{1}} acceptée."}},
        }
    )
    theirs = rt.twilio_sender.client.content.v1.contents.create(request)

    report = sync(rt.twilio_sender.client, rt.session_factory)

    assert "boutik_order_accepted_fr" not in report.created
    assert report.outdated == ["boutik_order_accepted_fr"]
    assert content_template(pg, "boutik_order_accepted_fr").content_sid == theirs.sid
    assert len(store.contents()) == MENUS + NOTICES
