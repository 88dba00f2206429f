"""`boutik meta templates sync` and `status`: the notice templates at Meta, made and followed.

Why a sync: outside the 24 h window the Cloud API delivers only an approved template, and the
notices (11 kinds × 2 languages) are too many to type into WhatsApp Manager and keep in step
with the catalog. The sync is idempotent: it lists what the WhatsApp Business Account holds,
creates only the (name, language) pairs it lacks, and records each as a `content_templates`
row (provider "meta", friendly_name = Meta's name, content_sid = Meta's template id) with Meta's
review status, where the outbox worker reads it. A template under our name whose text is not
the catalog's any more is reported "outdated", never overwritten: an approved template that is
edited goes back to review, and buyers would get SMS meanwhile. `status` reads every review
status and rejection reason back, as Meta decides on its own schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from channels_adapters.meta_templates import (
    CONTENT_TYPE,
    MetaTemplateSpec,
    body_text,
    meta_notice_specs,
)
from channels_adapters.senders.meta_sender import MetaSender
from channels_adapters.senders.result import SendError
from channels_adapters.twilio_templates import PREFIX
from commerce.db import unit_of_work
from commerce.messaging import templates as stored
from commerce.messaging.templates import META, ApprovalStatus, ContentTemplate, TemplatePurpose

log = logging.getLogger(__name__)

# Meta's review states (message template `status`) as the statuses the outbox reads; only
# APPROVED is ever sent. IN_APPEAL is still under review; a state this code does not know
# counts as pending (`ApprovalStatus.parse`).
_STATUSES = {
    "APPROVED": ApprovalStatus.APPROVED,
    "PENDING": ApprovalStatus.PENDING,
    "IN_APPEAL": ApprovalStatus.PENDING,
    "REJECTED": ApprovalStatus.REJECTED,
    "PAUSED": ApprovalStatus.PAUSED,
    "DISABLED": ApprovalStatus.DISABLED,
}
GONE = "deleted at Meta: run `boutik meta templates sync`"


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # At Meta under our name, but with another text than the catalog's today: kept in use
    # until someone deletes it in WhatsApp Manager and syncs again.
    outdated: list[str] = field(default_factory=list)
    # Meta refused to create it: (name, Meta's reason). The others are made all the same.
    refused: list[tuple[str, str]] = field(default_factory=list)


def approval_of(template: dict[str, Any]) -> tuple[ApprovalStatus, str]:
    """A listed template's review status and rejection reason (Meta says "NONE" for none)."""
    raw = str(template.get("status") or "").upper()
    status = _STATUSES.get(raw) or ApprovalStatus.parse(raw)
    reason = str(template.get("rejected_reason") or "")
    return status, "" if reason.upper() == "NONE" else reason


def ours_at_meta(sender: MetaSender) -> dict[tuple[str, str], dict[str, Any]]:
    """Every template of the WABA under our prefix, by (name, language)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for template in sender.list_templates():
        name, language = str(template.get("name") or ""), str(template.get("language") or "")
        if name.startswith(PREFIX):
            found.setdefault((name, language), template)
    return found


def _record(
    session_factory: Callable[[], Session],
    spec: MetaTemplateSpec,
    template_id: str,
    approval: ApprovalStatus,
    reason: str,
) -> None:
    with unit_of_work(session_factory) as session:
        stored.record(
            session,
            provider=META,
            purpose=TemplatePurpose.NOTICE,
            key=spec.key,
            language=spec.language,
            friendly_name=spec.name,
            content_sid=template_id,
            content_type=CONTENT_TYPE,
            approval=approval,
        )
        stored.set_approval(
            session, content_sid=template_id, approval=approval, rejection_reason=reason
        )


def sync(sender: MetaSender, session_factory: Callable[[], Session]) -> SyncReport:
    """Create what the WABA lacks, record everything; a second run sends no POST."""
    report = SyncReport()
    at_meta = ours_at_meta(sender)
    specs = meta_notice_specs()
    for spec in specs:
        template = at_meta.get((spec.name, spec.language))
        if template is None:
            try:
                answer = sender.create_template(spec.create_request())
            except SendError as exc:
                if exc.retryable:
                    raise
                report.refused.append((spec.name, f"{exc.code}: {exc.reason}"))
                continue
            if not answer.get("id"):
                raise SendError(False, "answer", "Meta created a template but gave no id")
            template = {**answer, "status": answer.get("status") or "PENDING"}
            report.created.append(spec.name)
        else:
            report.existing.append(spec.name)
            if body_text(template) != spec.body:
                report.outdated.append(spec.name)
        approval, reason = approval_of(template)
        _record(session_factory, spec, str(template["id"]), approval, reason)
    with unit_of_work(session_factory) as session:  # notices the code no longer sends
        report.removed = stored.forget_all_but(session, {s.name for s in specs}, provider=META)
    log.info(
        "meta templates: %d created, %d already there, %d refused",
        len(report.created),
        len(report.existing),
        len(report.refused),
    )
    return report


def status(sender: MetaSender, session_factory: Callable[[], Session]) -> list[ContentTemplate]:
    """Read every recorded template's review status and reason back from Meta, store them.

    A template no longer at Meta is marked unsubmitted (the outbox stops sending through it:
    Meta would refuse it) with the reason "deleted at Meta".
    """
    at_meta = ours_at_meta(sender)
    by_id = {str(t.get("id")): t for t in at_meta.values()}
    with unit_of_work(session_factory) as session:
        rows = [
            (row.content_sid, row.friendly_name, row.language)
            for row in stored.all_templates(session, provider=META)
        ]
    for template_id, name, language in rows:
        template = by_id.get(template_id) or at_meta.get((name, language))
        with unit_of_work(session_factory) as session:
            if template is None:
                stored.set_approval(
                    session,
                    content_sid=template_id,
                    approval=ApprovalStatus.UNSUBMITTED,
                    rejection_reason=GONE,
                )
                continue
            approval, reason = approval_of(template)
            row = stored.set_approval(
                session, content_sid=template_id, approval=approval, rejection_reason=reason
            )
            if row is not None and str(template.get("id")) != template_id:
                row.content_sid = str(template["id"])  # deleted and made again by hand
    with unit_of_work(session_factory) as session:
        found = stored.all_templates(session, provider=META)
        session.expunge_all()
        return found
