"""WhatsApp templates: every shape and notice the renderer needs is synced, still at Twilio, and
the notices are approved by WhatsApp.

Why: a missing menu template silently turns a WhatsApp menu into numbered text, and a notice
template still pending (or rejected) means buyers outside the 24 h window get an SMS instead of
WhatsApp. Neither fails loudly; both are worth a line before customers notice. Doctor reads
only: it asks Twilio for the approvals afresh (as `boutik twilio templates status` does) but
writes nothing.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from boutik.doctor.results import CALL_TIMEOUT_S, Result
from boutik.runtime import Runtime
from channels_adapters.senders import TwilioSender
from channels_adapters.twilio_template_sync import fetch_approval
from channels_adapters.twilio_templates import TemplateSpec, all_specs
from commerce.messaging import templates as stored
from commerce.messaging.templates import ApprovalStatus, ContentTemplate

SUBJECT = "WhatsApp templates"
SYNC = "run `boutik twilio templates sync`"
_REFUSED = (ApprovalStatus.REJECTED, ApprovalStatus.PAUSED, ApprovalStatus.DISABLED)


def _names(specs: list[TemplateSpec] | list[ContentTemplate], limit: int = 3) -> str:
    shown = ", ".join(s.friendly_name for s in specs[:limit])
    return shown + (f" and {len(specs) - limit} more" if len(specs) > limit else "")


def check_templates(rt: Runtime) -> list[Result]:
    secrets = rt.config.secrets
    if not secrets.twilio_account_sid or not secrets.twilio_auth_token:
        return [Result.info(SUBJECT, "not checked: the Twilio credentials come first")]
    try:
        with rt.session_factory() as session:
            rows = stored.by_friendly_name(session)
    except SQLAlchemyError:
        return [Result.info(SUBJECT, "not checked: the database answers first")]
    specs = all_specs()
    overrides = rt.config.twilio.content_templates
    missing = [s for s in specs if s.friendly_name not in rows and not overrides.get(s.key)]
    if len(missing) == len(specs):
        return [
            Result.problem(SUBJECT, "none was ever synced: menus go out as numbered text", SYNC)
        ]
    client = TwilioSender(
        secrets.twilio_account_sid,
        secrets.twilio_auth_token,
        rt.config.twilio.api_base_url,
        timeout=CALL_TIMEOUT_S,
    ).client
    try:
        at_twilio = {c.sid for c in client.content.v1.contents.stream(page_size=100)}
    except Exception as exc:  # the SDK raises its own and requests' errors alike
        return [Result.problem(SUBJECT, f"Twilio did not list them ({type(exc).__name__})", SYNC)]
    results = [_presence(specs, missing, rows, at_twilio, overrides)]
    notices = [row for row in rows.values() if row.purpose == stored.TemplatePurpose.NOTICE]
    results.append(_approvals(client, notices))
    return results


def _presence(
    specs: list[TemplateSpec],
    missing: list[TemplateSpec],
    rows: dict[str, ContentTemplate],
    at_twilio: set[str],
    overrides: dict[str, str],
) -> Result:
    gone = [row for row in rows.values() if row.content_sid not in at_twilio]
    lost_overrides = sorted(key for key, sid in overrides.items() if sid not in at_twilio)
    if missing:
        return Result.problem(
            SUBJECT, f"{len(missing)} of {len(specs)} never synced ({_names(missing)})", SYNC
        )
    if gone:
        return Result.problem(
            SUBJECT, f"{len(gone)} recorded but deleted at Twilio ({_names(gone)})", SYNC
        )
    if lost_overrides:
        return Result.problem(
            SUBJECT,
            f"[twilio] content_templates names SIDs Twilio does not have: {lost_overrides}",
            "correct or remove those keys in config.toml",
        )
    return Result.ok(SUBJECT, f"all {len(specs)} synced and present at Twilio")


def _approvals(client: object, notices: list[ContentTemplate]) -> Result:
    subject = "WhatsApp template approvals"
    waiting: list[ContentTemplate] = []
    refused: list[tuple[ContentTemplate, str]] = []
    try:
        for row in notices:
            status, reason = fetch_approval(client, row.content_sid)  # type: ignore[arg-type]
            if status in _REFUSED:
                refused.append((row, f"{status.value}{': ' + reason if reason else ''}"))
            elif status != ApprovalStatus.APPROVED:
                waiting.append(row)
    except Exception as exc:
        return Result.problem(
            subject, f"Twilio did not answer ({type(exc).__name__})", "run doctor again later"
        )
    if refused:
        row, why = refused[0]
        return Result.problem(
            subject,
            f"{len(refused)} refused by WhatsApp ({row.friendly_name}: {why})",
            "reword the sentence in bot/locales, delete the template at Twilio and sync again; "
            "meanwhile those buyers get SMS outside the 24 h window",
        )
    if waiting:
        return Result.warn(
            subject,
            f"{len(waiting)} of {len(notices)} still waiting for WhatsApp ({_names(waiting)}): "
            "until then buyers outside the 24 h window get SMS",
            "wait for WhatsApp's review, then `boutik twilio templates status`",
        )
    return Result.ok(subject, f"all {len(notices)} notices approved by WhatsApp")
