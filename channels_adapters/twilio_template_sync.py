"""`boutik twilio templates sync` and `status`: the Content API through the twilio SDK.

Why a sync and not hand-copied ContentSids: 45 templates (every menu shape, every buyer notice
in two languages) are too many to click together in the console and keep in step with the
renderer. The sync is idempotent: it lists what the account holds, finds each template by its
friendly_name, creates only the missing ones, submits a notice for WhatsApp approval only if it
never was, and records every SID, shape/kind, language and approval status in the database,
where the outbox worker reads them. `status` asks Twilio again for each approval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList
from twilio.rest.content.v1.content.approval_create import ApprovalCreateList

from channels_adapters.twilio_templates import CATEGORY, PREFIX, TemplateSpec, all_specs
from commerce.db import unit_of_work
from commerce.messaging import templates as stored
from commerce.messaging.templates import ApprovalStatus, ContentTemplate

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # At Twilio under our name, but with another text than the catalog's today: an approved
    # template cannot be edited, so it stays in use until someone deletes it and syncs again.
    outdated: list[str] = field(default_factory=list)


def _approval_of(whatsapp: Any) -> tuple[ApprovalStatus, str]:
    """The `whatsapp` part of `GET /v1/Content/{Sid}/ApprovalRequests`: status and reason."""
    if not isinstance(whatsapp, dict) or not whatsapp.get("status"):
        return ApprovalStatus.UNSUBMITTED, ""
    return ApprovalStatus.parse(whatsapp["status"]), str(whatsapp.get("rejection_reason") or "")


def fetch_approval(client: Client, sid: str) -> tuple[ApprovalStatus, str]:
    return _approval_of(client.content.v1.contents(sid).approval_fetch().fetch().whatsapp)


def _submit(client: Client, spec: TemplateSpec, sid: str) -> ApprovalStatus:
    request = ApprovalCreateList.ContentApprovalRequest(
        {"name": spec.friendly_name, "category": CATEGORY}
    )
    answer = client.content.v1.contents(sid).approval_create.create(request)
    return ApprovalStatus.parse(answer.status or ApprovalStatus.RECEIVED)


def _text_of(content: Any) -> str | None:
    text = (content.types or {}).get("twilio/text")
    return str(text.get("body")) if isinstance(text, dict) else None


def _text_of_spec(spec: TemplateSpec) -> str | None:
    return str(spec.definition["body"]) if spec.content_type == "twilio/text" else None


def sync(client: Client, session_factory: Callable[[], Session]) -> SyncReport:
    """Create what is missing at Twilio, submit what never was, record everything."""
    report = SyncReport()
    at_twilio: dict[str, Any] = {}
    for content in client.content.v1.contents.stream():
        name = content.friendly_name or ""
        if name.startswith(PREFIX) and name not in at_twilio:
            at_twilio[name] = content  # the first of two same-named ones; Twilio allows both
    specs = all_specs()
    for spec in specs:
        content = at_twilio.get(spec.friendly_name)
        if content is None:
            request = ContentList.ContentCreateRequest(spec.create_request())
            content = client.content.v1.contents.create(request)
            report.created.append(spec.friendly_name)
        else:
            report.existing.append(spec.friendly_name)
            if _text_of(content) not in (None, _text_of_spec(spec)):
                report.outdated.append(spec.friendly_name)
        sid = str(content.sid)
        approval, _reason = (
            fetch_approval(client, sid) if spec.needs_approval else (ApprovalStatus.UNSUBMITTED, "")
        )
        if spec.needs_approval and approval == ApprovalStatus.UNSUBMITTED:
            approval = _submit(client, spec, sid)
            report.submitted.append(spec.friendly_name)
        with unit_of_work(session_factory) as session:
            stored.record(
                session,
                purpose=spec.purpose,
                key=spec.key,
                language=spec.language,
                friendly_name=spec.friendly_name,
                content_sid=sid,
                content_type=spec.content_type,
                approval=approval,
            )
    with unit_of_work(session_factory) as session:  # templates the code no longer sends through
        report.removed = stored.forget_all_but(session, {s.friendly_name for s in specs})
    log.info(
        "templates: %d created, %d submitted, %d already there",
        len(report.created),
        len(report.submitted),
        len(report.existing),
    )
    return report


def refresh_status(client: Client, session_factory: Callable[[], Session]) -> list[ContentTemplate]:
    """Ask Twilio for every submitted template's approval and store the answer."""
    with unit_of_work(session_factory) as session:
        sids = [
            row.content_sid
            for row in stored.all_templates(session)
            if row.purpose == stored.TemplatePurpose.NOTICE
        ]
    for sid in sids:
        approval, reason = fetch_approval(client, sid)
        with unit_of_work(session_factory) as session:
            stored.set_approval(
                session, content_sid=sid, approval=approval, rejection_reason=reason
            )
    with unit_of_work(session_factory) as session:
        rows = stored.all_templates(session)
        session.expunge_all()
        return rows
