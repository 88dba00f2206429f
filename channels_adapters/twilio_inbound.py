"""Twilio (WhatsApp and SMS) webhooks: authenticate, parse, de-duplicate via the engine.

Why the SDK's RequestValidator over `[web] public_base_url` + path: behind a proxy or a tunnel
the URL Flask sees is not the one Twilio signed; forwarded headers are trusted only when
`[web] trust_forwarded` says so. A missing or wrong signature is a 403 — never a 500 — and
nothing is stored or sent. A signed form whose identifiers are unprintable or absurdly long
(`checked_form`) is a 400, also with nothing stored: Twilio never sends one.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from bot.messages import InboundKind, InboundMessage, Media
from channels_adapters import payloads
from channels_adapters.turns import run_turn, update_delivery_status
from commerce.phones import mask_phone
from commerce.users.models import Channel

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signed_url(config: Any) -> str:
    """The URL Twilio signed: the public base URL plus the path and query it called."""
    path = request.full_path if request.query_string else request.path
    if config.web.trust_forwarded:
        proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
        return f"{proto}://{host}{path}"
    return config.web.public_base_url.rstrip("/") + path


def authenticate() -> None:
    rt = current_app.extensions["boutik"]
    token = rt.config.secrets.twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        abort(403)
    validator = RequestValidator(token)
    if not validator.validate(signed_url(rt.config), request.form, signature):
        log.warning("twilio signature refused for %s", request.path)
        abort(403)


# What a person typed: NUL dropped (PostgreSQL cannot store it), the rest kept.
TEXT_FIELDS = ("Body", "ProfileName", "Address", "Label", "ButtonText", "ListTitle")
# What is used as an identifier, a number or a URL: (field, longest, ASCII only). Twilio's SIDs
# are 34 characters; a MediaUrl of Twilio's ~140 (it is stored as the return's photo
# reference, 255 at most).
TOKEN_FIELDS = (
    ("MessageSid", 64, True),
    ("SmsMessageSid", 64, True),
    ("From", 64, False),
    ("NumMedia", 8, True),
    ("ButtonPayload", 256, False),
    ("ListId", 256, False),
    ("Latitude", 64, True),
    ("Longitude", 64, True),
    *((f"MediaUrl{i}", 240, True) for i in range(10)),
    *((f"MediaContentType{i}", 128, True) for i in range(10)),
)
STATUS_FIELDS = (
    ("MessageSid", 64, True),
    ("SmsSid", 64, True),
    ("MessageStatus", 32, True),
    ("SmsStatus", 32, True),
    ("ErrorCode", 16, True),
)


def checked_form(
    form: MultiDict[str, str], tokens: tuple[tuple[str, int, bool], ...] = TOKEN_FIELDS
) -> MultiDict[str, str]:
    """The form with NUL dropped from the text fields; MalformedPayload if a token field is
    unprintable or too long. Only the first value of a field is read (``form.get``), so only
    that one is checked; fields we never read are left alone."""
    for field, longest, ascii_only in tokens:
        payloads.token(form.get(field), field, max_len=longest, ascii_only=ascii_only)
    cleaned = MultiDict(form)
    for field in TEXT_FIELDS:
        if field in form:
            cleaned[field] = payloads.text(form.get(field), field)
    return cleaned


def _float(value: str | None, bound: float) -> float | None:
    """A coordinate within ±bound; "nan", "inf", "1e400" or words are no coordinate at all."""
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    if number is None or not math.isfinite(number) or abs(number) > bound:
        return None
    return number


def parse_form(form: MultiDict[str, str], channel: Channel) -> InboundMessage:
    """Every payload kind a Twilio user can send, as one channel-neutral message."""
    sender = form.get("From", "").removeprefix("whatsapp:")
    body = form.get("Body", "")
    button_payload = form.get("ButtonPayload") or form.get("ListId") or ""
    button_text = form.get("ButtonText") or form.get("ListTitle") or ""
    try:
        num_media = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        num_media = 0
    media = tuple(
        Media(url=form.get(f"MediaUrl{i}", ""), content_type=form.get(f"MediaContentType{i}", ""))
        for i in range(min(num_media, 10))
        if form.get(f"MediaUrl{i}")
    )
    lat, lng = _float(form.get("Latitude"), 90.0), _float(form.get("Longitude"), 180.0)
    if lat is None or lng is None:
        lat = lng = None  # half a pin is no pin: handlers may rely on both or neither
    if button_payload or button_text:
        kind, text = InboundKind.BUTTON, button_text or body
    elif lat is not None and lng is not None:
        kind, text = InboundKind.LOCATION, body
    elif media:
        kind, text = InboundKind.MEDIA, body
    else:
        kind, text = InboundKind.TEXT, body
    return InboundMessage(
        provider="twilio",
        external_id=form.get("MessageSid") or form.get("SmsMessageSid") or "",
        channel=channel,
        address=sender,
        kind=kind,
        text=text,
        payload=button_payload,
        profile_name=form.get("ProfileName", ""),
        latitude=lat,
        longitude=lng,
        location_label=form.get("Label") or form.get("Address") or "",
        media=media,
    )


def _inbound(channel: Channel) -> Response:
    authenticate()
    msg = parse_form(checked_form(request.form), channel)
    if not msg.external_id or not msg.address:
        log.warning("twilio %s payload without MessageSid/From", channel)
        return Response(EMPTY_TWIML, mimetype="text/xml")
    run_turn(msg)
    log.info("twilio %s from %s acknowledged", channel, mask_phone(msg.address))
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/webhooks/twilio/whatsapp")
def whatsapp() -> Response:
    return _inbound(Channel.WHATSAPP)


@bp.post("/webhooks/twilio/sms")
def sms() -> Response:
    return _inbound(Channel.SMS)


@bp.post("/webhooks/twilio/status")
def status() -> Response:
    """Delivery status callbacks: queued → sent → delivered/read, or failed/undelivered."""
    authenticate()
    form = checked_form(request.form, STATUS_FIELDS)
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    state = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if sid and state:
        update_delivery_status(sid, state, form.get("ErrorCode") or "")
    return Response("", status=204)
