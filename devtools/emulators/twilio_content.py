"""A local stand-in for Twilio's Content API v1 (`content.twilio.com/v1/Content`), as a blueprint.

Why: `boutik twilio templates sync` must run through the real ``twilio`` SDK, as production
does, and meet the refusals Twilio and WhatsApp would give — an unknown content type, a badly
formed or sample-less variable, a button or row past WhatsApp's limits, a second approval
request — in a test, not in the console on the day of a launch. Shapes follow
specs/twilio/twilio_content_v1.json (`content.v1.content`, `approval_create`,
`approval_fetch`). The SDK's HTTP client rewrites every *.twilio.com host onto one base URL,
so this blueprint sits beside the Messages API at the same root.

What is not Twilio's: Meta's review. An approval request starts "received" and stays there
until a test (or the simulator) decides it with `EmulatorStore.decide_approval`; a text body
WhatsApp would refuse (a variable at its start or end, two side by side) is rejected at once.
Twilio documents no error codes for the Content API's validation: those refusals are HTTP 400
with code 20001 and a message saying what is wrong; a second approval request is 92009.
Twilio documents no unique friendly_name either, so two templates may share one (as there).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from devtools.emulators.store import ContentTemplate, EmulatorStore, validate_content
from devtools.emulators.twilio_api import twilio_error

HOST = "https://content.twilio.com"
INVALID = 20001
ALREADY_SUBMITTED = 92009
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 50, 1000
VARIABLE_KEY_MAX = 16
VARIABLES_MAX = 100
CATEGORIES = frozenset({"UTILITY", "MARKETING", "AUTHENTICATION"})
# Every content type the API description knows (`types`); each one's required fields.
TYPES_REQUIRED: dict[str, tuple[str, ...]] = {
    "twilio/text": ("body",),
    "twilio/media": ("media",),
    "twilio/location": ("latitude", "longitude"),
    "twilio/list-picker": ("body", "button", "items"),
    "twilio/call-to-action": ("body",),
    "twilio/quick-reply": ("body", "actions"),
    "twilio/card": ("title",),
    "twilio/catalog": ("body",),
    "twilio/carousel": ("body", "cards"),
    "twilio/flows": ("body", "button_text", "subtitle", "pages", "type"),
    "twilio/schedule": ("id", "title", "time_slots"),
    "whatsapp/card": ("body",),
    "whatsapp/authentication": ("add_copy_code",),
    "whatsapp/flows": ("body", "flow_id"),
}
# Out of the window WhatsApp sends approved templates only, and never these.
NEVER_APPROVED = frozenset({"twilio/list-picker"})
_MUSTACHE = re.compile(r"\{\{(.*?)\}\}")
_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")


class _Refused(Exception):
    def __init__(self, message: str, code: int = INVALID, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _content_json(t: ContentTemplate) -> dict[str, Any]:
    url = f"{HOST}/v1/Content/{t.sid}"
    return {
        "sid": t.sid,
        "account_sid": t.account_sid,
        "friendly_name": t.friendly_name,
        "language": t.language,
        "variables": dict(t.variables),
        "types": dict(t.types),
        "url": url,
        "date_created": _iso(t.created_at),
        "date_updated": _iso(t.created_at),
        "links": {
            "approval_create": f"{url}/ApprovalRequests/whatsapp",
            "approval_fetch": f"{url}/ApprovalRequests",
        },
    }


def _without_nulls(value: Any) -> Any:
    """The SDK's request objects send every field they know, unset ones as null."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check_variables(variables: Any, types: Mapping[str, Any]) -> dict[str, str]:
    if variables is None:
        variables = {}
    if not isinstance(variables, Mapping):
        raise _Refused("variables: must be an object of variable name to sample value")
    if len(variables) > VARIABLES_MAX:
        raise _Refused(f"variables: at most {VARIABLES_MAX}")
    for key, sample in variables.items():
        if not _KEY.match(str(key)) or len(str(key)) > VARIABLE_KEY_MAX:
            raise _Refused(
                f"variables: {key!r} is not a variable name (letters, digits, _; "
                f"at most {VARIABLE_KEY_MAX})"
            )
        if not isinstance(sample, str) or not sample.strip():
            raise _Refused(f"variables: the sample of {key!r} must be a non-empty string")
    for text in _strings(types):
        for match in _MUSTACHE.finditer(text):
            key = match.group(1).strip()
            if not _KEY.match(key):
                raise _Refused(f"invalid variable placeholder {match.group(0)!r}")
            if key not in variables:
                raise _Refused(f"variable {{{{{key}}}}} has no sample value in variables")
        if text.count("{{") != text.count("}}"):
            raise _Refused(f"malformed variable placeholder in {text!r}")
    return {str(k): str(v) for k, v in variables.items()}


def _check_create(body: Any) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    if not isinstance(body, Mapping):
        raise _Refused("the request body must be a JSON object (ContentCreateRequest)")
    body = _without_nulls(body)
    language = body.get("language")
    if not isinstance(language, str) or not language.strip():
        raise _Refused("language: required (an ISO 639-1 code such as 'fr')")
    friendly_name = body.get("friendly_name", "")
    if not isinstance(friendly_name, str):
        raise _Refused("friendly_name: must be a string")
    types = body.get("types")
    if not isinstance(types, Mapping) or not types:
        raise _Refused("types: required, at least one content type")
    for kind, definition in types.items():
        if kind not in TYPES_REQUIRED:
            raise _Refused(f"types: unknown content type {kind!r}")
        if not isinstance(definition, Mapping):
            raise _Refused(f"types.{kind}: must be an object")
        missing = [name for name in TYPES_REQUIRED[kind] if name not in definition]
        if missing:
            raise _Refused(f"types.{kind}: missing {', '.join(missing)}")
        if kind in ("twilio/text", "twilio/quick-reply", "twilio/list-picker"):
            try:
                validate_content(kind, definition)
            except ValueError as exc:
                raise _Refused(f"types.{kind}: {exc}") from exc
    variables = _check_variables(body.get("variables"), types)
    return friendly_name, language, variables, dict(types)


def _whatsapp_refuses(template: ContentTemplate) -> str:
    """Why WhatsApp's review would reject this body, "" when it would not on its format."""
    body = str(template.definition.get("body", "")).strip()
    if body.startswith("{{") or body.endswith("}}"):
        return "INVALID_FORMAT: a variable at the start or end of the body"
    if re.search(r"\}\}\s*\{\{", body):
        return "INVALID_FORMAT: two variables side by side"
    return ""


def make_content_blueprint(store: EmulatorStore, *, account_sid: str, auth_token: str) -> Blueprint:
    """The Content API under Twilio's own paths, checking Basic auth against these values."""
    bp = Blueprint("twilio_content_emulator", __name__)

    @bp.before_request
    def guard() -> Response | None:
        auth = request.authorization
        if (
            auth is None
            or not hmac.compare_digest((auth.username or "").encode(), account_sid.encode())
            or not hmac.compare_digest((auth.password or "").encode(), auth_token.encode())
        ):
            return twilio_error(401, 20003, "Authenticate")
        failure = store.take_failure("twilio")
        if failure is not None:
            code = failure.code or (20429 if failure.status == 429 else 20500)
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = f"{failure.retry_after:g}"
            return twilio_error(failure.status, code, failure.description or "Error", headers)
        return None

    @bp.errorhandler(_Refused)
    def refused(exc: _Refused) -> Response:
        return twilio_error(exc.status, exc.code, exc.message)

    def found(sid: str) -> ContentTemplate:
        template = store.content(sid)
        if template is None:
            raise _Refused(f"The requested resource /v1/Content/{sid} was not found", 20404, 404)
        return template

    @bp.post("/v1/Content")
    def create() -> Response:
        friendly_name, language, variables, types = _check_create(request.get_json(silent=True))
        template = store.create_content(
            account_sid=account_sid,
            friendly_name=friendly_name,
            language=language,
            variables=variables,
            types=types,
        )
        response = jsonify(_content_json(template))
        response.status_code = 201
        return response

    @bp.get("/v1/Content")
    def list_contents() -> Response:
        try:
            size = int(request.args.get("PageSize", PAGE_SIZE_DEFAULT))
            page = int(request.args.get("Page", 0))
        except ValueError as exc:
            raise _Refused("PageSize and Page must be integers") from exc
        if not 1 <= size <= PAGE_SIZE_MAX or page < 0:
            raise _Refused(f"PageSize must be 1..{PAGE_SIZE_MAX}, Page 0 or more")
        everything = store.contents()
        chunk = everything[page * size : (page + 1) * size]

        def url(n: int) -> str:
            token = f"&PageToken=PT{n}" if n else ""
            return f"{HOST}/v1/Content?PageSize={size}&Page={n}{token}"

        more = (page + 1) * size < len(everything)
        return jsonify(
            {
                "contents": [_content_json(t) for t in chunk],
                "meta": {
                    "page": page,
                    "page_size": size,
                    "first_page_url": url(0),
                    "previous_page_url": url(page - 1) if page else None,
                    "url": url(page),
                    "next_page_url": url(page + 1) if more else None,
                    "key": "contents",
                },
            }
        )

    @bp.get("/v1/Content/<sid>")
    def fetch(sid: str) -> Response:
        return jsonify(_content_json(found(sid)))

    @bp.post("/v1/Content/<sid>/ApprovalRequests/whatsapp")
    def approval_create(sid: str) -> Response:
        template = found(sid)
        body = _without_nulls(request.get_json(silent=True))
        if not isinstance(body, Mapping):
            raise _Refused("the request body must be a JSON object (ContentApprovalRequest)")
        name, category = body.get("name"), body.get("category")
        if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
            raise _Refused("name: required, lowercase letters, digits and underscores only")
        if category not in CATEGORIES:
            raise _Refused(f"category: one of {', '.join(sorted(CATEGORIES))}")
        if template.kind in NEVER_APPROVED:
            raise _Refused(f"{template.kind} cannot be submitted for WhatsApp approval")
        try:
            template = store.request_approval(sid, name=name, category=category)
        except ValueError as exc:
            raise _Refused(
                "The template associated with this SID has already been submitted for approval.",
                ALREADY_SUBMITTED,
            ) from exc
        reason = _whatsapp_refuses(template)
        if reason:
            store.decide_approval(sid, "rejected", reason)
            template = found(sid)
        assert template.approval is not None
        response = jsonify(dict(template.approval))
        response.status_code = 201
        return response

    @bp.get("/v1/Content/<sid>/ApprovalRequests")
    def approval_fetch(sid: str) -> Response:
        template = found(sid)
        whatsapp = (
            dict(template.approval)
            if template.approval
            else {
                "name": "",
                "category": "",
                "content_type": template.kind,
                "status": "unsubmitted",
                "rejection_reason": "",
                "allow_category_change": True,
            }
        )
        return jsonify(
            {
                "sid": template.sid,
                "account_sid": template.account_sid or account_sid,
                "whatsapp": {"type": "whatsapp", **whatsapp},
                "url": f"{HOST}/v1/Content/{template.sid}/ApprovalRequests",
            }
        )

    return bp
