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
from boutik.doctor.reviews import Reviewer, approvals, presence
from boutik.runtime import Runtime
from channels_adapters.senders import TwilioSender
from channels_adapters.twilio_template_sync import fetch_approval
from channels_adapters.twilio_templates import TemplateSpec, all_specs
from commerce.messaging import templates as stored
from commerce.messaging.templates import ContentTemplate

SUBJECT = "WhatsApp templates"
SYNC = "run `boutik twilio templates sync`"
_WHATSAPP = Reviewer("WhatsApp", "still waiting for WhatsApp", "at Twilio", "twilio")


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
    gone = [row.friendly_name for row in rows.values() if row.content_sid not in at_twilio]
    lost_overrides = sorted(key for key, sid in overrides.items() if sid not in at_twilio)
    lost = Result.problem(
        SUBJECT,
        f"[twilio] content_templates names SIDs Twilio does not have: {lost_overrides}",
        "correct or remove those keys in config.toml",
    )
    return presence(
        SUBJECT,
        len(specs),
        [s.friendly_name for s in missing],
        gone,
        provider="Twilio",
        fix=SYNC,
        otherwise=lost if lost_overrides else None,
    )


def _approvals(client: object, notices: list[ContentTemplate]) -> Result:
    subject = "WhatsApp template approvals"
    try:
        reviews = [
            (row.friendly_name, *fetch_approval(client, row.content_sid))  # type: ignore[arg-type]
            for row in notices
        ]
    except Exception as exc:
        return Result.problem(
            subject, f"Twilio did not answer ({type(exc).__name__})", "run doctor again later"
        )
    return approvals(subject, reviews, _WHATSAPP)
