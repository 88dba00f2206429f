"""What the Cloud API refuses in ``POST /{version}/{phone_number_id}/messages``, as it refuses it.

Limits are Meta's (the spec's schemas, and the documented ones the spec leaves out, see
`scripts/derive_contract_facts.py` META_DOCS): a menu that breaks one must fail the test that
built it, with the Graph error Meta would give — HTTP 400, code 100 (invalid parameter) or
131009 (parameter value not valid), a message naming the field — not pass because the
emulator was kind. Template sends are checked against the WABA's templates (132001: no such
template in that language, or not approved; 132000: wrong number of body parameters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from devtools.emulators.meta_state import MetaTemplate

TEXT_BODY_MAX = 4096
CAPTION_MAX = 1024
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MESSAGE_TYPES = (
    *MEDIA_TYPES,
    "text",
    "interactive",
    "template",
    "location",
    "contacts",
    "reaction",
)
_BASE_KEYS = {
    "messaging_product",
    "recipient_type",
    "to",
    "type",
    "context",
    "biz_opaque_callback_data",
}
_MEDIA_KEYS = {
    "image": {"id", "link", "caption"},
    "document": {"id", "link", "caption", "filename"},
    "audio": {"id", "link"},
    "video": {"id", "link", "caption"},
    "sticker": {"id", "link"},
}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{5,22}$")


class Refused(Exception):
    """A request Meta would refuse: HTTP status, Graph error code, message, subcode."""

    def __init__(
        self, status: int, code: int, message: str, *, subcode: int | None = None, details: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.details = details or message


def _invalid(message: str) -> Refused:
    return Refused(400, 100, f"(#100) {message}", details=message)


def _not_valid(message: str) -> Refused:
    return Refused(400, 131009, "(#131009) Parameter value is not valid", details=message)


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _invalid(f"The parameter {where} is required and must be an object.")
    return value


def _text(value: Any, where: str, limit: int, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"The parameter {where} is required and must be a non-empty string.")
    if len(value) > limit:
        raise _invalid(f"Param {where} must be at most {limit} characters long.")
    return value


def _unknown(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise _invalid(f'Unexpected key "{key}" on param "{where}".')


def recipient_digits(to: Any) -> str:
    """The wa_id for ``to`` (digits only); refuses what is not a phone number."""
    if not isinstance(to, str) or not _PHONE.match(to.strip()):
        raise _invalid("The parameter to is required and must be a phone number.")
    digits = "".join(ch for ch in to if ch.isdigit())
    if not 7 <= len(digits) <= 15:
        raise _invalid(f"Param to: {to!r} is not a valid phone number.")
    return digits


def _media(kind: str, media: Any) -> None:
    media = _obj(media, kind)
    _unknown(media, _MEDIA_KEYS[kind], kind)
    if ("id" in media) == ("link" in media):
        raise _invalid(f"Param {kind} must have exactly one of id or link.")
    if "link" in media:
        link = media["link"]
        parts = urlsplit(link) if isinstance(link, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise _invalid(f"Param {kind}['link'] must be an http(s) URL.")
    elif not isinstance(media["id"], str) or not media["id"]:
        raise _invalid(f"Param {kind}['id'] must be a non-empty string.")
    if "caption" in media:
        _text(media["caption"], f"{kind}['caption']", CAPTION_MAX)
    if "filename" in media and not isinstance(media["filename"], str):
        raise _invalid(f"Param {kind}['filename'] must be a string.")


def _unique(values: list[str], where: str) -> None:
    if len(set(values)) != len(values):
        raise _not_valid(f"{where} must be unique.")


def _buttons(action: Mapping[str, Any]) -> None:
    _unknown(action, {"buttons"}, "interactive['action']")
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise _invalid("The parameter interactive['action']['buttons'] is required.")
    if len(buttons) > BUTTONS_MAX:
        raise _invalid(
            f"Param interactive['action']['buttons'] must contain at most {BUTTONS_MAX} "
            f"elements ({len(buttons)} given)."
        )
    titles, ids = [], []
    for i, button in enumerate(buttons):
        where = f"interactive['action']['buttons'][{i}]"
        button = _obj(button, where)
        _unknown(button, {"type", "reply"}, where)
        if button.get("type") != "reply":
            raise _invalid(f"Param {where}['type'] must be reply.")
        reply = _obj(button.get("reply"), f"{where}['reply']")
        _unknown(reply, {"id", "title"}, f"{where}['reply']")
        ids.append(_text(reply.get("id"), f"{where}['reply']['id']", BUTTON_ID_MAX) or "")
        titles.append(
            _text(reply.get("title"), f"{where}['reply']['title']", BUTTON_TITLE_MAX) or ""
        )
    _unique(titles, "Button titles")
    _unique(ids, "Button ids")


def _list(action: Mapping[str, Any]) -> None:
    _unknown(action, {"button", "sections"}, "interactive['action']")
    _text(action.get("button"), "interactive['action']['button']", LIST_BUTTON_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise _invalid("The parameter interactive['action']['sections'] is required.")
    if len(sections) > LIST_SECTIONS_MAX:
        raise _invalid(
            f"Param interactive['action']['sections'] allows at most {LIST_SECTIONS_MAX}."
        )
    ids, total = [], 0
    for s, section in enumerate(sections):
        where = f"interactive['action']['sections'][{s}]"
        section = _obj(section, where)
        _unknown(section, {"title", "rows"}, where)
        _text(
            section.get("title"), f"{where}['title']", SECTION_TITLE_MAX, required=len(sections) > 1
        )
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise _invalid(f"The parameter {where}['rows'] is required.")
        total += len(rows)
        for r, row in enumerate(rows):
            at = f"{where}['rows'][{r}]"
            row = _obj(row, at)
            _unknown(row, {"id", "title", "description"}, at)
            ids.append(_text(row.get("id"), f"{at}['id']", ROW_ID_MAX) or "")
            _text(row.get("title"), f"{at}['title']", ROW_TITLE_MAX)
            _text(
                row.get("description"), f"{at}['description']", ROW_DESCRIPTION_MAX, required=False
            )
    if total > LIST_ROWS_MAX:
        raise _not_valid(
            f"Total row count exceed max allowed count: {LIST_ROWS_MAX} ({total} given)."
        )
    _unique(ids, "Row ids")


def _interactive(interactive: Any) -> None:
    interactive = _obj(interactive, "interactive")
    kind = interactive.get("type")
    _unknown(interactive, {"type", "header", "body", "footer", "action"}, "interactive")
    if kind not in ("button", "list", "location_request_message"):
        raise _not_valid(f"interactive['type'] {kind!r} is not supported here.")
    body = _obj(interactive.get("body"), "interactive['body']")
    _unknown(body, {"text"}, "interactive['body']")
    _text(body.get("text"), "interactive['body']['text']", INTERACTIVE_BODY_MAX)
    if "footer" in interactive:
        footer = _obj(interactive["footer"], "interactive['footer']")
        _text(footer.get("text"), "interactive['footer']['text']", FOOTER_TEXT_MAX)
    if "header" in interactive:
        if kind == "location_request_message":
            raise _invalid("Param interactive['header'] is not allowed for location requests.")
        header = _obj(interactive["header"], "interactive['header']")
        if header.get("type") == "text":
            _text(header.get("text"), "interactive['header']['text']", HEADER_TEXT_MAX)
        elif header.get("type") in ("image", "document", "video"):
            _media(header["type"], header.get(header["type"]))
        else:
            raise _invalid(
                "Param interactive['header']['type'] must be text, image, video or document."
            )
    action = _obj(interactive.get("action"), "interactive['action']")
    if kind == "button":
        _buttons(action)
    elif kind == "list":
        _list(action)
    elif dict(action) != {"name": "send_location"}:
        raise _invalid('Param interactive[\'action\'] must be {"name": "send_location"}.')


def _template(template: Any, find: Any) -> MetaTemplate:
    template = _obj(template, "template")
    _unknown(template, {"name", "language", "components"}, "template")
    name = _text(template.get("name"), "template['name']", 512)
    language = _obj(template.get("language"), "template['language']")
    _unknown(language, {"code", "policy"}, "template['language']")
    code = _text(language.get("code"), "template['language']['code']", 15)
    if language.get("policy", "deterministic") != "deterministic":
        raise _invalid("Param template['language']['policy'] must be deterministic.")
    found: MetaTemplate | None = find(name, code)
    if found is None or found.status != "APPROVED":
        why = "does not exist" if found is None else f"is {found.status}, not APPROVED"
        raise Refused(
            404,
            132001,
            "(#132001) Template name does not exist in the translation",
            details=f"template name ({name}) {why} in {code}",
        )
    components = template.get("components", [])
    if not isinstance(components, list):
        raise _invalid("Param template['components'] must be an array.")
    given = 0
    for i, component in enumerate(components):
        component = _obj(component, f"template['components'][{i}]")
        if component.get("type") == "body":
            for j, parameter in enumerate(component.get("parameters") or []):
                parameter = _obj(parameter, f"template['components'][{i}]['parameters'][{j}]")
                text = str(parameter.get("text", ""))
                if parameter.get("type") == "text" and not text.strip():
                    raise _not_valid(f"template body parameter {j + 1} is empty.")
                if parameter.get("type") == "text" and re.search(r"[\n\t]| {5,}", text):
                    raise Refused(
                        400,
                        132018,
                        "(#132018) There was an issue with the parameters in your template.",
                        details="Param text cannot have new-line/tab characters or more than 4 "
                        "consecutive spaces",
                    )
                given += 1
    if given != found.body_parameters:
        raise Refused(
            400,
            132000,
            "(#132000) Number of parameters does not match the expected number of params",
            details=f"body: number of localizable_params ({given}) does not match the "
            f"expected number of params ({found.body_parameters})",
        )
    return found


def validate_send(body: Any, find_template: Any) -> tuple[str, str]:
    """Check a send; return (to as given, wa_id digits). Raises `Refused` as Meta would."""
    if not isinstance(body, Mapping):
        raise _invalid("The parameter messaging_product is required.")
    if body.get("messaging_product") != "whatsapp":
        raise _invalid("The parameter messaging_product is required and must be whatsapp.")
    if body.get("recipient_type", "individual") != "individual":
        raise _invalid("Param recipient_type must be individual.")
    digits = recipient_digits(body.get("to"))
    kind = body.get("type")
    if kind not in MESSAGE_TYPES:
        raise _invalid(f"Param type must be one of {{{', '.join(MESSAGE_TYPES)}}}.")
    _unknown(body, _BASE_KEYS | {kind}, "message")
    if kind not in body:
        raise _invalid(f"The parameter {kind} is required.")
    if "context" in body:
        context = _obj(body["context"], "context")
        _text(context.get("message_id"), "context['message_id']", 512)
    if kind == "text":
        text = _obj(body["text"], "text")
        _unknown(text, {"body", "preview_url"}, "text")
        _text(text.get("body"), "text['body']", TEXT_BODY_MAX)
    elif kind in MEDIA_TYPES:
        _media(kind, body[kind])
    elif kind == "interactive":
        _interactive(body["interactive"])
    elif kind == "template":
        _template(body["template"], find_template)
    elif kind == "location":
        location = _obj(body["location"], "location")
        for key in ("latitude", "longitude"):
            if not isinstance(location.get(key), int | float | str):
                raise _invalid(f"The parameter location['{key}'] is required.")
    elif kind == "contacts" and not isinstance(body["contacts"], list):
        raise _invalid("Param contacts must be an array.")
    elif kind == "reaction":
        reaction = _obj(body["reaction"], "reaction")
        _text(reaction.get("message_id"), "reaction['message_id']", 512)
    return str(body["to"]), digits
