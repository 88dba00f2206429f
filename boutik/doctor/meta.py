"""Meta's WhatsApp Cloud API, when it carries WhatsApp (`[whatsapp] provider = "meta"`): the
token reads the phone number, the webhook can be authenticated and reached, and the notice
templates are made, still at Meta and approved.

Why these: each fails without a sound. An expired token or a wrong phone-number id refuses
every send; without the app secret every webhook is refused (403), without the verify token
Meta cannot subscribe the URL; a notice template missing, deleted or still in review sends
buyers outside the 24 h window SMS instead of WhatsApp. Doctor reads only: it asks Meta for the
templates' review afresh (as `boutik meta templates status` does) but writes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from boutik.doctor.results import CALL_TIMEOUT_S, Result, Status, public_url
from boutik.doctor.reviews import Reviewer, approvals, presence
from boutik.doctor.routes import meta_whatsapp_path
from boutik.doctor.web import check_public_url
from boutik.runtime import Runtime
from channels_adapters.meta_template_sync import approval_of, ours_at_meta
from channels_adapters.meta_templates import meta_notice_specs
from channels_adapters.senders import SendError
from channels_adapters.senders.meta_sender import MetaSender
from commerce.messaging import templates as stored
from commerce.messaging.templates import META
from commerce.phones import mask_phone

SETTINGS = "Meta settings"
TOKEN = "Meta token"
NUMBER = "Meta phone number"
SECRETS = "Meta webhook secrets"
WEBHOOK = "Meta webhook URL"
SUBSCRIPTION = "Meta webhook subscription"
TEMPLATES = "Meta templates"
APPROVALS = "Meta template approvals"
SYNC = "run `boutik meta templates sync`"
_API_SETUP = "Meta App Dashboard > WhatsApp > API Setup"
_CONFIGURATION = "Meta App Dashboard > WhatsApp > Configuration"
_TOKEN_FIX = (
    "make a permanent token: Meta Business Suite > Business settings > System users > Generate "
    "token, with whatsapp_business_messaging and whatsapp_business_management, the WhatsApp "
    "account assigned to that user; set it as META_WHATSAPP_TOKEN"
)
_META = Reviewer("Meta", "still in Meta's review", "in WhatsApp Manager", "meta")


def uses_meta(rt: Runtime) -> bool:
    return rt.config.whatsapp.provider == "meta"


def check_meta(rt: Runtime) -> list[Result]:
    if not uses_meta(rt):
        return [
            Result.info(
                "WhatsApp Cloud API (Meta)",
                'not checked: [whatsapp] provider = "twilio" (WhatsApp goes through Twilio)',
            )
        ]
    settings = _settings(rt)
    results = [settings, _secrets(rt), *_webhook(rt)]
    if not rt.config.secrets.meta_whatsapp_token:
        return [
            *results,
            Result.problem(TOKEN, "META_WHATSAPP_TOKEN is not set", _TOKEN_FIX),
            Result.info(TEMPLATES, "not checked: the token comes first"),
        ]
    meta = rt.config.meta
    sender = MetaSender(
        rt.config.secrets.meta_whatsapp_token,
        meta.phone_number_id,
        api_base_url=meta.api_base_url,
        version=meta.graph_version,
        waba_id=meta.waba_id,
        timeout=CALL_TIMEOUT_S,
    )
    number = _number(sender)
    results.append(number)
    if number.status is Status.PROBLEM:
        return [*results, Result.info(TEMPLATES, "not checked: the token and number come first")]
    if settings.status is Status.PROBLEM:
        return [*results, Result.info(TEMPLATES, "not checked: [meta] waba_id comes first")]
    return [*results, *check_meta_templates(rt, sender)]


def _settings(rt: Runtime) -> Result:
    meta = rt.config.meta
    missing = [key for key in ("phone_number_id", "waba_id") if not getattr(meta, key)]
    if missing:
        return Result.problem(
            SETTINGS,
            f"[meta] {' and '.join(missing)} not set: "
            + (
                "the notice templates can be neither made nor checked"
                if missing == ["waba_id"]
                else "nothing can be sent"
            ),
            f"copy the Phone number ID and the WhatsApp Business Account ID from {_API_SETUP} "
            "into config.toml",
        )
    where = "graph.facebook.com" if not meta.api_base_url else "[meta] api_base_url"
    return Result.ok(
        SETTINGS, f"phone_number_id and waba_id set, Graph API {meta.graph_version} at {where}"
    )


def _secrets(rt: Runtime) -> Result:
    secrets = rt.config.secrets
    faults = []
    if not secrets.meta_app_secret:
        faults.append(
            "META_APP_SECRET is not set: no webhook from Meta can be authenticated, every one "
            "is refused (403)"
        )
    if not secrets.meta_verify_token:
        faults.append(
            "META_VERIFY_TOKEN is not set: Meta's subscription check of the webhook URL is "
            "refused, so Meta cannot be pointed at Boutik"
        )
    if faults:
        return Result.problem(
            SECRETS,
            "; ".join(faults),
            "set META_APP_SECRET to the App secret (Meta App Dashboard > App settings > Basic) "
            f"and META_VERIFY_TOKEN to the Verify token typed in {_CONFIGURATION}",
        )
    return Result.ok(SECRETS, "META_APP_SECRET and META_VERIFY_TOKEN are set")


def _webhook(rt: Runtime) -> list[Result]:
    url = public_url(rt, meta_whatsapp_path())
    if any(r.status is Status.PROBLEM for r in check_public_url(rt)):
        return [Result.info(WEBHOOK, "not checked: the public URL comes first")]
    return [
        Result.ok(WEBHOOK, f"{url} is https and public"),
        Result.info(
            SUBSCRIPTION,
            "not read back (the Graph API shows an app's callback URL only to an app token, "
            f"which Boutik does not hold): in {_CONFIGURATION} the Callback URL should be {url} "
            "with META_VERIFY_TOKEN as Verify token, and the `messages` field subscribed",
        ),
    ]


def _number(sender: MetaSender) -> Result:
    try:
        number = sender.phone_number()
    except SendError as exc:
        if exc.code in ("190", "102", "104", "401"):
            return Result.problem(TOKEN, "META_WHATSAPP_TOKEN is invalid or expired", _TOKEN_FIX)
        if exc.code in ("100", "803"):
            return Result.problem(
                NUMBER,
                f"[meta] phone_number_id {sender.phone_number_id} is not a phone number this "
                "token can read",
                f"copy the Phone number ID from {_API_SETUP} (not the phone number itself), and "
                "assign the WhatsApp account to the token's system user",
            )
        return Result.problem(
            NUMBER,
            f"the Graph API did not answer ({exc.code}: {exc.reason})",
            "check this machine's network, [meta] api_base_url and metastatus.com",
        )
    digits = "".join(c for c in number.display_phone_number if c.isdigit())
    shown = mask_phone(f"+{digits}") if digits else "(no number)"
    name = number.verified_name or "no verified name"
    if number.quality_rating.upper() == "RED":
        return Result.warn(
            NUMBER,
            f"{shown} ({name}): quality rating RED, Meta may lower its messaging limit",
            "see WhatsApp Manager > Insights for what buyers reported",
        )
    return Result.ok(NUMBER, f"{shown} ({name}), read with META_WHATSAPP_TOKEN")


def check_meta_templates(rt: Runtime, sender: MetaSender) -> list[Result]:
    try:
        with rt.session_factory() as session:
            rows = stored.by_friendly_name(session, provider=META)
            session.expunge_all()
    except SQLAlchemyError:
        return [Result.info(TEMPLATES, "not checked: the database answers first")]
    specs = meta_notice_specs()
    missing = [s for s in specs if s.name not in rows]
    if len(missing) == len(specs):
        return [
            Result.problem(
                TEMPLATES,
                "none was ever synced: buyers outside the 24 h window get SMS, not WhatsApp",
                SYNC,
            )
        ]
    try:
        at_meta = ours_at_meta(sender)
    except SendError as exc:
        return [Result.problem(TEMPLATES, f"Meta did not list them ({exc.code})", SYNC)]
    by_id = {str(t.get("id")): t for t in at_meta.values()}
    found: dict[str, dict[str, Any]] = {}
    gone: list[str] = []
    for row in rows.values():
        template = by_id.get(row.content_sid) or at_meta.get((row.friendly_name, row.language))
        if template is None:
            gone.append(row.friendly_name)
        else:
            found[row.friendly_name] = template
    reviews = [(name, *approval_of(template)) for name, template in sorted(found.items())]
    return [
        presence(TEMPLATES, len(specs), [s.name for s in missing], gone, provider="Meta", fix=SYNC),
        approvals(APPROVALS, reviews, _META),
    ]
