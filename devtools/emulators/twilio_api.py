"""A local stand-in for Twilio's Messages REST API (2010-04-01), as a Flask blueprint.

Why: tests and the browser simulator must drive the real ``twilio`` SDK end to end — form
encoding, Basic auth, error parsing — without the network, and must meet Twilio's refusals
(opt-out, bad number, closed WhatsApp window, unknown template, oversize body) exactly where
production would, loudly, instead of an all-accepting mock that lets bugs through. Production
never mounts this blueprint.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from devtools.contracts import RawResponse
from devtools.emulators.message_list import ListRefused, list_page
from devtools.emulators.rendering import render_content
from devtools.emulators.store import EmulatorStore, TwilioMessage

API_VERSION = "2010-04-01"
SMS_BODY_MAX = 1600
WHATSAPP_BODY_MAX = 4096

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_RATE_EXCEEDED = "Rate limit exceeded for Channel"  # 63018: the sender outran its throughput

# GSM 03.38 default alphabet (ESC excluded) and the extension table, whose characters cost two
# septets (ESC + char). Anything else forces UCS-2 for the whole message.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` fits the GSM-7 alphabet (basic or extension)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(widths: list[int], single: int, multi: int) -> int:
    if sum(widths) <= single:
        return 1
    parts, used = 1, 0
    for width in widths:  # an escape pair or a surrogate pair is never split across parts
        if used + width > multi:
            parts += 1
            used = 0
        used += width
    return parts


def sms_segments(text: str) -> int:
    """Segments a carrier bills for ``text``: GSM-7 160/153 septets, else UCS-2 70/67 units.

    Extension characters (€ ^ { } [ ] ~ \\ |) take two septets; characters outside the Basic
    Multilingual Plane (emoji) take two UTF-16 units. An empty body still costs one segment.
    """
    if is_gsm7(text):
        return _pack([2 if ch in GSM7_EXTENSION else 1 for ch in text], 160, 153)
    return _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)


class _Rejected(Exception):
    """A request Twilio would refuse; carries the Twilio error code and HTTP status."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error body shaped like Twilio's, which the SDK turns into TwilioRestException."""
    response = jsonify(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _bare(address: str) -> str:
    return address.split(":", 1)[1] if address.startswith("whatsapp:") else address


def _gmt(stamp: datetime) -> str:
    """RFC 2822 in GMT, as Twilio writes every date: ``Thu, 24 Aug 2023 05:01:45 +0000``."""
    return format_datetime(stamp.astimezone(UTC))


def message_json(message: TwilioMessage) -> dict[str, Any]:
    """The Message resource exactly as the spec's ``api.v2010.account.message`` has it.

    date_sent stays null until the message has left Twilio (still queued or accepted: no date),
    and a message sent through a Messaging Service reports 0 segments until a sender is chosen,
    as Twilio documents.
    """
    uri = f"/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}"
    segments = 0 if message.status == "accepted" else message.num_segments
    return {
        "account_sid": message.account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": _gmt(message.created_at),
        "date_sent": _gmt(message.sent_at) if message.sent_at else None,
        "date_updated": _gmt(message.updated_at or message.created_at),
        "direction": "outbound-api",
        "error_code": message.error_code,
        "error_message": None,
        "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": str(len(message.media_urls)),
        "num_segments": str(segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": message.to,
        "uri": f"{uri}.json",
    }


def make_twilio_blueprint(store: EmulatorStore, *, account_sid: str, auth_token: str) -> Blueprint:
    """The Messages API under Twilio's own paths, checking Basic auth against these values."""
    bp = Blueprint("twilio_emulator", __name__)

    @bp.after_request
    def record_answer(response: Response) -> Response:
        """Keep each JSON answer beside its request: answers are held to the spec too
        (`devtools.contracts.response_violations`), wherever this blueprint is mounted."""
        if response.is_json:
            store.record_raw_response(
                RawResponse(
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    json_body=response.get_json(silent=True),
                )
            )
        return response

    def authenticated(path_sid: str) -> bool:
        auth = request.authorization
        if auth is None or auth.username is None or auth.password is None:
            return False
        return (
            hmac.compare_digest(auth.username.encode(), account_sid.encode())
            and hmac.compare_digest(auth.password.encode(), auth_token.encode())
            and hmac.compare_digest(path_sid.encode(), account_sid.encode())
        )

    def unauthenticated() -> Response:
        return twilio_error(401, 20003, "Authenticate")

    def injected_failure() -> Response | None:
        failure = store.take_failure("twilio", to=request.form.get("To"))
        if failure is None:
            return None
        if failure.stall is not None:
            failure.stall.hold()
        code = failure.code or (20429 if failure.status == 429 else 20500)
        default = "Too Many Requests" if failure.status == 429 else "Internal Server Error"
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = f"{failure.retry_after:g}"
        return twilio_error(failure.status, code, failure.description or default, headers)

    def validate(form: Any) -> TwilioMessage:
        to = form.get("To", "").strip()
        from_ = form.get("From", "").strip() or None
        service = form.get("MessagingServiceSid", "").strip() or None
        body = form.get("Body", "")
        media_urls = tuple(u for u in form.getlist("MediaUrl") if u)
        content_sid = form.get("ContentSid", "").strip() or None
        raw_variables = form.get("ContentVariables")
        status_callback = form.get("StatusCallback", "").strip() or None

        if not to:
            raise _Rejected(400, 21604, "A 'To' phone number is required.")
        channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
        if not _E164.match(_bare(to)):
            raise _Rejected(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if from_ is None and service is None:
            raise _Rejected(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if from_ is not None:
            if from_.startswith("whatsapp:") != (channel == "whatsapp"):
                raise _Rejected(
                    400,
                    21910,
                    "Invalid From and To pair. From and To should be of the same channel",
                )
            bare_from = _bare(from_)
            if not (
                _E164.match(bare_from)
                or (channel == "sms" and _ALPHANUMERIC_SENDER.match(bare_from))
            ):
                raise _Rejected(400, 21212, f"Invalid 'From' Phone Number: {from_}")
        if status_callback is not None:
            parts = urlsplit(status_callback)
            if parts.scheme not in ("http", "https") or not parts.hostname or "_" in parts.netloc:
                raise _Rejected(400, 21609, "Invalid 'StatusCallback'")
        if not body and not media_urls and content_sid is None:
            raise _Rejected(400, 21619, "A text message body or media URL must be specified.")

        variables: dict[str, str] | None = None
        if raw_variables is not None and raw_variables != "":
            try:
                parsed = json.loads(raw_variables)
            except json.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                raise _Rejected(400, 21656, "The ContentVariables Parameter is invalid.")
            variables = {str(k): str(v) for k, v in parsed.items()}
            if any(v.strip() == "" for v in variables.values()):
                # Twilio refuses an empty variable value rather than sending it (21656).
                raise _Rejected(400, 21656, "The ContentVariables Parameter is invalid.")

        template = None
        if content_sid is not None:
            template = store.content(content_sid)
            if template is None:
                raise _Rejected(400, 21655, "The ContentSid is Invalid.")
            body = str(render_content(template.definition, variables).get("body", ""))

        limit = WHATSAPP_BODY_MAX if channel == "whatsapp" else SMS_BODY_MAX
        if len(body) > limit:
            raise _Rejected(
                400, 21617, f"The concatenated message body exceeds the {limit} character limit."
            )
        if store.is_opted_out(to):
            raise _Rejected(400, 21610, "Attempt to send to unsubscribed recipient")
        if (
            channel == "whatsapp"
            and store.is_window_closed(to)
            and (template is None or not template.approved_template)
        ):
            raise _Rejected(
                400,
                63016,
                "Failed to send freeform message because you are outside the allowed window. "
                "If you are using WhatsApp, please use a Message Template.",
            )

        segments = sms_segments(body) if channel == "sms" and not media_urls else 1
        return TwilioMessage(
            sid="SM" + uuid.uuid4().hex,
            account_sid=account_sid,
            channel=channel,
            to=to,
            from_=from_,
            body=body,
            media_urls=media_urls,
            content_sid=content_sid,
            content_variables=variables,
            messaging_service_sid=service,
            status_callback=status_callback,
            status="queued" if from_ is not None else "accepted",
            num_segments=segments,
            created_at=datetime.now(UTC).replace(microsecond=0),
        )

    @bp.post(f"/{API_VERSION}/Accounts/<path_sid>/Messages.json")
    def create_message(path_sid: str) -> Response:
        if not authenticated(path_sid):
            return unauthenticated()
        failed = injected_failure()
        if failed is not None:
            return failed
        try:
            message = validate(request.form)
        except _Rejected as exc:
            store.record_twilio_rejection(request.form.get("To"), exc.status, exc.code, exc.message)
            return twilio_error(exc.status, exc.code, exc.message)
        if message.channel == "whatsapp" and not store.admit_whatsapp(
            message.from_ or message.messaging_service_sid or ""
        ):
            store.record_twilio_rejection(message.to, 429, 63018, _RATE_EXCEEDED)
            return twilio_error(429, 63018, _RATE_EXCEEDED, {"Retry-After": "1"})
        store.record_twilio(message)
        response = jsonify(message_json(message))
        response.status_code = 201
        return response

    @bp.get(f"/{API_VERSION}/Accounts/<path_sid>/Messages.json")
    def list_messages(path_sid: str) -> Response:
        """Twilio's Messages list: To, From and DateSent filters, newest first, in pages.

        Boutik uses it after a worker crash to learn whether a send it could not record
        reached Twilio before re-sending it. The semantics are Twilio's (`message_list`).
        """
        if not authenticated(path_sid):
            return unauthenticated()
        base = f"/{API_VERSION}/Accounts/{path_sid}/Messages.json"
        try:
            page = list_page(store.twilio_messages(), request.args, base=base)
        except ListRefused as exc:
            return twilio_error(400, exc.code, exc.message)
        page["messages"] = [message_json(m) for m in page["messages"]]
        return jsonify(page)

    @bp.get(f"/{API_VERSION}/Accounts/<path_sid>/Messages/<message_sid>.json")
    def fetch_message(path_sid: str, message_sid: str) -> Response:
        if not authenticated(path_sid):
            return unauthenticated()
        message = store.twilio_message(message_sid)
        if message is None:
            return twilio_error(
                404,
                20404,
                f"The requested resource /{API_VERSION}/Accounts/{path_sid}/Messages/"
                f"{message_sid}.json was not found",
            )
        return jsonify(message_json(message))

    @bp.get(f"/{API_VERSION}/Accounts/<path_sid>/Messages/<message_sid>/Media/<media_sid>")
    def fetch_media(path_sid: str, message_sid: str, media_sid: str) -> Response:
        """Inbound media bytes (``store.add_media``), behind the account's Basic auth."""
        if not authenticated(path_sid):
            return unauthenticated()
        media = store.twilio_media(media_sid)
        if media is None:
            return twilio_error(404, 20404, "The requested resource was not found")
        data, content_type = media
        return Response(data, status=200, content_type=content_type)

    return bp
