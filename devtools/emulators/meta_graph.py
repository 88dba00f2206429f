"""A local stand-in for Meta's Graph API (WhatsApp Cloud API v23.0), as a Flask blueprint.

Why: the Meta sender, `boutik doctor` and the simulator must speak the real HTTP contract —
Bearer token, JSON bodies, Graph error bodies, media by id behind the token, templates through
the Business Management API, signed status webhooks — without the network, and meet Meta's
refusals (a 4th button, a 25-character row, a template not approved, free text outside the
24 h window) exactly where production would. Held to Meta's published description
(`devtools.contracts.meta`), never to our convenience. Mounted under ``/meta`` by
`create_emulator_app`; production never mounts it.

Served calls (``{v}`` any ``vNN.N``):
- ``POST /{v}/{phone_number_id}/messages`` — send (`meta_send` validates);
- ``GET /{v}/{phone_number_id}`` — the phone number (``fields`` optional);
- ``GET /{v}/{media_id}`` — a media file's metadata and download URL;
- ``GET /whatsapp_business/attachments/?mid=…`` — the bytes, behind the token as well;
- ``POST|GET /{v}/{waba_id}/message_templates`` — create and list templates.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from devtools.emulators.meta_send import Refused, validate_send
from devtools.emulators.meta_state import MetaMessage, body_parameter_count
from devtools.emulators.store import EmulatorStore
from devtools.testkit.meta_webhooks import new_wamid

_VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
TEMPLATE_CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
# What GET /{phone_number_id} may be asked for: the spec's PhoneNumberInfo properties.
PHONE_FIELDS = (
    "id",
    "display_phone_number",
    "verified_name",
    "quality_rating",
    "code_verification_status",
    "name_status",
)
PHONE_DEFAULT_FIELDS = ("id", "display_phone_number", "verified_name", "quality_rating")
# The template fields the list may be asked for: the spec's list item properties.
TEMPLATE_FIELDS = ("id", "name", "language", "status", "category", "components")
# Asked for by name only (documented, hand-kept in the facts: META_DOCS template_fields).
TEMPLATE_EXTRA_FIELDS = ("rejected_reason",)
TEMPLATES_PAGE = 25


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    details: str | None = None,
    kind: str = "OAuthException",
) -> Response:
    """A Graph API error body: the spec's GraphAPIError, plus the documented ``error_data``
    Meta adds to WhatsApp errors."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
    response = jsonify({"error": error})
    response.status_code = status
    return response


def _refused(exc: Refused) -> Response:
    return graph_error(exc.status, exc.code, exc.message, subcode=exc.subcode, details=exc.details)


def _display(number: str) -> str:
    """``15550783881`` → ``+1 555-078-3881`` (how Graph writes display_phone_number)."""
    if len(number) == 11 and number.startswith("1"):
        return f"+1 {number[1:4]}-{number[4:7]}-{number[7:]}"
    return f"+{number}"


def _unsupported(method: str, object_id: str) -> Response:
    return graph_error(
        400,
        100,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        kind="GraphMethodException",
    )


def _fields(allowed: tuple[str, ...], default: tuple[str, ...]) -> list[str] | Response:
    raw = request.args.get("fields")
    if raw is None or not raw.strip():
        return list(default)
    asked = [f.strip() for f in raw.split(",") if f.strip()]
    for name in asked:
        if name not in allowed:
            return graph_error(400, 100, f"(#100) Tried accessing nonexisting field ({name})")
    return ["id", *(f for f in asked if f != "id")]


def make_meta_blueprint(
    store: EmulatorStore,
    *,
    token: str,
    phone_number_id: str,
    waba_id: str,
    display_number: str,
    verified_name: str = "Boutik",
) -> Blueprint:
    """The Graph API calls Boutik makes, checking the Bearer token against ``token``."""
    bp = Blueprint("meta_emulator", __name__)

    def authenticated() -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return graph_error(401, 104, "An access token is required to request this resource.")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        return None

    @bp.before_request
    def check_token() -> Response | None:
        refused = authenticated()
        if refused is not None:
            return refused
        version = (request.view_args or {}).get("version")
        if version is not None and not _VERSION.match(version):
            return graph_error(400, 100, "Unknown path components: /" + version)
        return None

    def injected_failure() -> Response | None:
        failure = store.take_failure("meta")
        if failure is None:
            return None
        if failure.stall is not None:
            failure.stall.hold()
        if failure.code is not None:
            code = failure.code
        elif failure.status == 429:
            code = 130429
        else:
            code = 131000 if failure.status >= 500 else 100
        message = failure.description or f"(#{code}) Programmed failure"
        return graph_error(
            failure.status, code, message, subcode=failure.error_subcode, details=message
        )

    def refused_post(object_id: str, ours: str) -> Response | None:
        """A POST to an object other than ours is unsupported; else a failure a test set."""
        if object_id != ours:
            return _unsupported("post", object_id)
        return injected_failure()

    @bp.post("/<version>/<phone_id>/messages")
    def send_message(version: str, phone_id: str) -> Response:
        failed = refused_post(phone_id, phone_number_id)
        if failed is not None:
            return failed
        body = request.get_json(silent=True)
        try:
            to, digits = validate_send(body, store.meta_template)
        except Refused as exc:
            given = body.get("to") if isinstance(body, dict) else None
            store.record_meta_rejection(
                str(given) if given else None, exc.status, exc.code, exc.message
            )
            return _refused(exc)
        assert isinstance(body, dict)  # validate_send refused anything else
        message = MetaMessage(
            id=new_wamid(),
            to=f"+{digits}",
            type=body["type"],
            payload=dict(body),
            phone_number_id=phone_id,
        )
        store.record_meta_message(message)
        return jsonify(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": digits}],
                "messages": [{"id": message.id, "message_status": "accepted"}],
            }
        )

    @bp.get("/<version>/<object_id>")
    def get_object(version: str, object_id: str) -> Response:
        if object_id == phone_number_id:
            fields = _fields(PHONE_FIELDS, PHONE_DEFAULT_FIELDS)
            if isinstance(fields, Response):
                return fields
            number = {
                "id": phone_number_id,
                "display_phone_number": _display(display_number),
                "verified_name": verified_name,
                "quality_rating": "GREEN",
                "code_verification_status": "VERIFIED",
                "name_status": "APPROVED",
            }
            return jsonify({name: number[name] for name in fields})
        media = store.meta_media(object_id)
        if media is None:
            return _unsupported("get", object_id)
        owner = request.args.get("phone_number_id")
        if owner is not None and owner != phone_number_id:
            return _unsupported("get", object_id)
        url = url_for(
            "meta_emulator.download_media",
            mid=media.id,
            ext=str(len(media.data)),
            hash=base64.urlsafe_b64encode(bytes.fromhex(media.sha256)[:9]).decode(),
            _external=True,
        )
        return jsonify(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": str(len(media.data)),
                "id": media.id,
            }
        )

    @bp.get("/whatsapp_business/attachments/")
    def download_media() -> Response:
        media = store.meta_media(request.args.get("mid", ""))
        if media is None:
            return graph_error(404, 100, "(#100) Media not found", kind="GraphMethodException")
        return Response(media.data, status=200, content_type=media.mime_type)

    @bp.post("/<version>/<account_id>/message_templates")
    def create_template(version: str, account_id: str) -> Response:
        failed = refused_post(account_id, waba_id)
        if failed is not None:
            return failed
        body = request.get_json(silent=True)
        try:
            name, language, category, components = _template_request(body)
            template = store.create_meta_template(name, language, category, components)
        except Refused as exc:
            return _refused(exc)
        except ValueError:
            return graph_error(
                400,
                100,
                "Invalid parameter",
                subcode=2388024,
                details=f"Content in this language already exists: {name} ({language})",
            )
        return jsonify(
            {"id": template.id, "status": template.status, "category": template.category}
        )

    @bp.get("/<version>/<account_id>/message_templates")
    def list_templates(version: str, account_id: str) -> Response:
        if account_id != waba_id:
            return _unsupported("get", account_id)
        fields = _fields(TEMPLATE_FIELDS + TEMPLATE_EXTRA_FIELDS, TEMPLATE_FIELDS)
        if isinstance(fields, Response):
            return fields
        name = request.args.get("name")
        templates = [t for t in store.meta_templates() if name is None or t.name == name]
        try:
            limit = int(request.args.get("limit", TEMPLATES_PAGE))
            start = int(base64.b64decode(request.args.get("after", "") or "MA==").decode())
        except ValueError:
            return graph_error(400, 100, "(#100) Param limit and after must be valid")
        limit = max(1, min(limit, 1000))
        page = templates[start : start + limit]
        data = []
        for t in page:
            item = {
                "id": t.id,
                "name": t.name,
                "language": t.language,
                "status": t.status,
                "category": t.category,
                "components": [dict(c) for c in t.components],
                "rejected_reason": t.rejected_reason or "NONE",
            }
            data.append({k: item[k] for k in fields})
        result: dict[str, Any] = {"data": data}
        if page:
            after = base64.b64encode(str(start + len(page)).encode()).decode()
            result["paging"] = {
                "cursors": {
                    "before": base64.b64encode(str(start).encode()).decode(),
                    "after": after,
                }
            }
            if start + len(page) < len(templates):
                args = {**request.args.to_dict(), "after": after, "limit": str(limit)}
                result["paging"]["next"] = url_for(
                    "meta_emulator.list_templates",
                    version=version,
                    account_id=account_id,
                    _external=True,
                    **args,
                )
        return jsonify(result)

    return bp


def _template_request(body: Any) -> tuple[str, str, str, list[dict[str, Any]]]:
    """Check a template creation as Meta does; (name, language, category, components)."""

    def invalid(message: str) -> Refused:
        return Refused(400, 100, "Invalid parameter", details=message)

    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    name, language, category = body.get("name"), body.get("language"), body.get("category")
    components = body.get("components")
    if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
        raise invalid("name: lowercase letters, digits and underscores, at most 512 characters")
    if not isinstance(language, str) or not re.match(r"^[a-z]{2,3}(_[A-Z]{2})?$", language):
        raise invalid("language: a language code such as fr or en_US")
    if category not in TEMPLATE_CATEGORIES:
        raise invalid(f"category: one of {', '.join(TEMPLATE_CATEGORIES)}")
    if not isinstance(components, list) or not components:
        raise invalid("components: a non-empty array")
    bodies = [
        c for c in components if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY"
    ]
    if len(bodies) != 1 or not isinstance(bodies[0].get("text"), str) or not bodies[0]["text"]:
        raise invalid("components: exactly one BODY component with a text")
    if len(bodies[0]["text"]) > 1024:
        raise invalid("components: BODY text at most 1024 characters")
    wanted = body_parameter_count(bodies)
    placeholders = sorted({int(n) for n in re.findall(r"\{\{\s*(\d+)\s*\}\}", bodies[0]["text"])})
    if placeholders != list(range(1, len(placeholders) + 1)):
        raise invalid("components: BODY variables must be {{1}}, {{2}}, … in sequence")
    if wanted:
        example = bodies[0].get("example") or {}
        samples = example.get("body_text") if isinstance(example, dict) else None
        if (
            not isinstance(samples, list)
            or not samples
            or not isinstance(samples[0], list)
            or len(samples[0]) != wanted
        ):
            raise invalid(f"components: BODY example.body_text must give {wanted} sample value(s)")
    return name, language, str(category), [dict(c) for c in components]
