"""Meta notice templates: made by the sync, followed by status — through the real MetaSender
over HTTP to the Graph API emulator, on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from boutik.cli import main
from boutik.runtime import Runtime
from channels_adapters.meta_template_sync import status, sync
from channels_adapters.meta_templates import meta_notice_spec, meta_notice_specs
from channels_adapters.twilio_templates import NOTICE_TEXTS
from commerce.messaging import templates as stored
from commerce.messaging.notices import Notice
from commerce.messaging.templates import ApprovalStatus, ContentTemplate, TemplatePurpose
from devtools.emulators.store import EmulatorStore
from settings import config as config_module
from tests.e2e.conftest import meta_config, provider_env
from tests.services import Emulator
from tests.support import PG_URL, Db
from tests.unit.flows import content_template, content_templates
from tests.webhooks import (
    META_PHONE_NUMBER_ID,
    META_TOKEN,
    META_WABA_ID,
)

NOTICES = 22  # 11 buyer notices × fr/en
TEMPLATES_PATH = f"/meta/v23.0/{META_WABA_ID}/message_templates"


@pytest.fixture
def store(store: EmulatorStore) -> Iterator[EmulatorStore]:
    yield store
    store.reset()


@pytest.fixture
def rt(pg: Db, emulator: Emulator, store: EmulatorStore, tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(meta_config(emulator, tmp_path / "media"))
    yield runtime
    runtime.dispose()


def _posts(store: EmulatorStore) -> list[str]:
    return [r.path for r in store.raw_requests() if r.method == "POST"]


def test_first_sync_creates_every_notice_and_a_second_sends_no_post(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    first = sync(rt.meta_sender, rt.session_factory)

    specs = meta_notice_specs()
    assert len(first.created) == len(specs) == NOTICES
    assert first.refused == [] and first.outdated == []
    assert _posts(store) == [TEMPLATES_PATH] * NOTICES
    at_meta = {(t.name, t.language): t for t in store.meta_templates()}
    assert set(at_meta) == {(s.name, s.language) for s in specs}
    refused = at_meta[("boutik_order_refused_en", "en")]
    assert refused.category == "UTILITY"
    assert list(refused.components) == [
        {
            "type": "BODY",
            "text": "Your order {{1}} was refused: {{2}}. The stock was released.",
            "example": {"body_text": [["1042", "out of stock"]]},
        }
    ]
    rows = content_templates(pg)
    assert {(r.provider, r.purpose) for r in rows} == {("meta", TemplatePurpose.NOTICE)}
    assert {(r.friendly_name, r.language, r.content_sid) for r in rows} == {
        (t.name, t.language, t.id) for t in at_meta.values()
    }
    assert {r.key for r in rows} == {kind.value for kind in NOTICE_TEXTS}
    assert {r.approval for r in rows} == {ApprovalStatus.PENDING}

    store.clear_raw_requests()
    second = sync(rt.meta_sender, rt.session_factory)

    assert second.created == [] and second.outdated == [] and second.refused == []
    assert len(second.existing) == NOTICES
    assert _posts(store) == []
    assert len(store.meta_templates()) == NOTICES
    assert {(r.friendly_name, r.content_sid) for r in content_templates(pg)} == {
        (r.friendly_name, r.content_sid) for r in rows
    }


def test_status_reads_back_meta_review_and_only_an_approved_template_is_sendable(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    sync(rt.meta_sender, rt.session_factory)
    store.decide_meta_template("boutik_order_accepted_fr", "fr", "APPROVED")
    store.decide_meta_template("boutik_order_refused_en", "en", "REJECTED", reason="INVALID_FORMAT")

    rows = {r.friendly_name: r for r in status(rt.meta_sender, rt.session_factory)}

    assert len(rows) == NOTICES
    assert rows["boutik_order_accepted_fr"].approval == ApprovalStatus.APPROVED
    assert rows["boutik_order_accepted_fr"].rejection_reason == ""  # Meta says "NONE"
    assert rows["boutik_order_refused_en"].approval == ApprovalStatus.REJECTED
    assert rows["boutik_order_refused_en"].rejection_reason == "INVALID_FORMAT"
    assert rows["boutik_order_accepted_en"].approval == ApprovalStatus.PENDING
    assert content_template(pg, "boutik_order_refused_en").checked_at is not None
    with pg.session() as s:
        approved = stored.approved_template(
            s, kind="order_accepted", language="fr", provider="meta"
        )
        assert approved is not None and approved.friendly_name == "boutik_order_accepted_fr"
        assert (
            stored.approved_template(s, kind="order_accepted", language="en", provider="meta")
            is None
        )
        assert stored.approved_sid(s, kind="order_accepted", language="fr") == ""  # not Twilio's


def test_a_template_under_our_name_with_another_text_is_reported_not_overwritten(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    old = "Commande {{1}} acceptée, merci."
    made = store.meta_add_template("boutik_order_accepted_fr", "fr", old, status="APPROVED")

    report = sync(rt.meta_sender, rt.session_factory)

    assert report.outdated == ["boutik_order_accepted_fr"]
    assert "boutik_order_accepted_fr" not in report.created
    assert len(report.created) == NOTICES - 1
    kept = store.meta_template("boutik_order_accepted_fr", "fr")
    assert kept is not None and kept.id == made.id and kept.components[0]["text"] == old
    row = content_template(pg, "boutik_order_accepted_fr")
    assert row.content_sid == made.id and row.approval == ApprovalStatus.APPROVED
    # The catalog's own sentence is the Meta one: nothing else is outdated.
    assert meta_notice_spec(Notice.ORDER_ACCEPTED, "fr").body != old


def test_a_refused_creation_is_reported_and_the_others_are_made(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    store.fail_next(1, status=400, code=100, provider="meta", description="Invalid parameter")

    report = sync(rt.meta_sender, rt.session_factory)

    assert len(report.refused) == 1 and "Invalid parameter" in report.refused[0][1]
    assert len(report.created) == NOTICES - 1
    assert len(content_templates(pg)) == NOTICES - 1
    again = sync(rt.meta_sender, rt.session_factory)  # the next run makes the missing one
    assert again.created == [report.refused[0][0]] and len(content_templates(pg)) == NOTICES


def test_the_commands_sync_then_show_each_review(
    pg: Db, emulator: Emulator, store: EmulatorStore, tmp_path: Path
) -> None:
    overlay = tmp_path / "boutik.toml"
    overlay.write_text(
        f"""
[web]
public_base_url = "https://boutik.example.gn"
[whatsapp]
provider = "meta"
[meta]
phone_number_id = "{META_PHONE_NUMBER_ID}"
waba_id = "{META_WABA_ID}"
api_base_url = "{emulator.base_url}/meta"
"""
    )
    env = {
        "BOUTIK_CONFIG": str(overlay),
        "DATABASE_URL": PG_URL,
        "REDIS_URL": "",
        **provider_env(meta=True),
    }

    def run(*args: str) -> str:
        config_module.get_config.cache_clear()
        try:
            result = CliRunner().invoke(main, ["meta", "templates", *args], env=env)
        finally:
            config_module.get_config.cache_clear()
        assert result.exit_code == 0, result.output
        assert META_TOKEN not in result.output
        return result.output

    assert "no templates recorded" in run("status")
    first = run("sync")
    assert f"{NOTICES} created, 0 already there" in first
    assert "  created boutik_order_accepted_fr" in first
    assert f"0 created, {NOTICES} already there" in run("sync")
    store.decide_meta_template("boutik_return_refused_fr", "fr", "REJECTED", reason="ABUSIVE")
    lines = {line.split()[0]: line for line in run("status").splitlines()}
    assert len(lines) == NOTICES
    assert lines["boutik_return_refused_fr"].split()[3:] == ["rejected", "(ABUSIVE)"]
    assert lines["boutik_order_accepted_en"].split()[3] == "pending"


def test_status_follows_a_template_made_again_and_drops_one_meta_no_longer_holds(
    rt: Runtime, pg: Db, store: EmulatorStore
) -> None:
    sync(rt.meta_sender, rt.session_factory)
    store.approve_all_meta_templates()
    real = content_template(pg, "boutik_order_accepted_fr").content_sid
    with pg.uow() as s:  # as if deleted in WhatsApp Manager and made again under a new id
        row = s.scalar(
            select(ContentTemplate).where(
                ContentTemplate.friendly_name == "boutik_order_accepted_fr"
            )
        )
        assert row is not None
        row.content_sid = "1234567890"

    rows = {r.friendly_name: r for r in status(rt.meta_sender, rt.session_factory)}

    assert rows["boutik_order_accepted_fr"].content_sid == real
    assert rows["boutik_order_accepted_fr"].approval == ApprovalStatus.APPROVED

    store.reset()  # the WABA holds none of them any more
    rows = {r.friendly_name: r for r in status(rt.meta_sender, rt.session_factory)}

    assert {r.approval for r in rows.values()} == {ApprovalStatus.UNSUBMITTED}
    assert "deleted at Meta" in rows["boutik_order_accepted_fr"].rejection_reason
    with pg.session() as s:  # the outbox stops sending through them: SMS instead
        assert (
            stored.approved_template(s, kind="order_accepted", language="fr", provider="meta")
            is None
        )
