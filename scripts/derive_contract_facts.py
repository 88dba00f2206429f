#!/usr/bin/env python3
"""Derive the provider facts Boutik relies on from the providers' own API descriptions.

Reads Twilio's OpenAPI (Messages API 2010-04-01, Content API v1), Meta's WhatsApp Business
Messaging OpenAPI (Graph API v23.0, YAML; allOf flattened, its webhook facts taken from its own
examples, `META_DOCS` hand-kept where it is silent) and the machine-readable Telegram Bot API
description in `../shared/specs/` (or the folder given), keeps only what our
code and our emulators rely on (the paths and methods we call, their parameters, types,
required flags, enums, and the limits the descriptions state; for the Twilio Messages API also
the response schemas, so the emulator's answers can be held to them), adds the hand-kept
`TWILIO_DOCS` (webhooks and error bodies, which no spec describes; marked as from the docs),
and writes them to
`devtools/contracts/provider_facts.json`. The tests read that file, so they run on a machine
without `../shared`.

Re-run it against a newer spec to see what changed: it prints every parameter added, removed
or changed for the calls we make, then rewrites the file (`--check` only prints, and exits 1
when anything differs).

    python scripts/derive_contract_facts.py [--specs ../shared/specs] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "devtools" / "contracts" / "provider_facts.json"

# The Twilio calls Boutik makes (senders, crash-recovery lookup, media download, templates,
# and `boutik doctor`'s reads), as "METHOD path" in the spec's own path syntax.
TWILIO_API_CALLS = (
    "POST /2010-04-01/Accounts/{AccountSid}/Messages.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Messages.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json",
    "GET /2010-04-01/Accounts/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
)
TWILIO_CONTENT_CALLS = (
    "POST /v1/Content",
    "GET /v1/Content",
    "GET /v1/Content/{Sid}",
    "POST /v1/Content/{ContentSid}/ApprovalRequests/whatsapp",
    "GET /v1/Content/{Sid}/ApprovalRequests",
)
# What Twilio's OpenAPI does not describe: the webhooks Twilio sends us (an inbound message, a
# status callback) and the body of an error. Hand-kept from Twilio's documentation pages named in
# "source" (not derived: no machine-readable description exists), and marked as such in the
# facts. Names only, plus the documented MessageStatus values: a simulated webhook may carry no
# other parameter (Twilio adds parameters without notice, so the application must accept more;
# our builders must not invent any). `{N}` stands for a media index 0-9.
TWILIO_DOCS: dict[str, Any] = {
    "from": "Twilio documentation, hand-kept (the OpenAPI does not describe webhooks)",
    "inbound": {
        "source": "https://www.twilio.com/docs/messaging/guides/webhook-request",
        "params": sorted(
            [
                # Request parameters
                "MessageSid",
                "SmsSid",
                "SmsMessageSid",
                "AccountSid",
                "MessagingServiceSid",
                "From",
                "To",
                "Body",
                "NumMedia",
                "NumSegments",
                # The same page's example requests also carry these two
                "SmsStatus",
                "ApiVersion",
                # Media
                "MediaContentType{N}",
                "MediaUrl{N}",
                # Geographic data
                "FromCity",
                "FromState",
                "FromZip",
                "FromCountry",
                "ToCity",
                "ToState",
                "ToZip",
                "ToCountry",
                # WhatsApp-specific parameters
                "ProfileName",
                "WaId",
                "Forwarded",
                "FrequentlyForwarded",
                "ButtonText",
                "ButtonPayload",
                "MessageType",
                "ListId",
                "ListTitle",
                "Latitude",
                "Longitude",
                "Address",
                "Label",
                "OriginalRepliedMessageSender",
                "OriginalRepliedMessageSid",
                "ReferralBody",
                "ReferralHeadline",
                "ReferralSourceId",
                "ReferralSourceType",
                "ReferralSourceUrl",
                "ReferralMediaId",
                "ReferralMediaContentType",
                "ReferralMediaUrl",
                "ReferralNumMedia",
                "ReferralCtwaClid",
            ]
        ),
    },
    "status_callback": {
        "source": "https://www.twilio.com/docs/messaging/guides/track-outbound-message-status",
        "params": sorted(
            [
                "MessageSid",
                "SmsSid",
                "MessageStatus",
                "SmsStatus",
                "AccountSid",
                "MessagingServiceSid",
                "From",
                "To",
                "ApiVersion",
                "ErrorCode",
                "ErrorMessage",
                "RawDlrDoneDate",
                "ChannelInstallSid",
                "ChannelPrefix",
                "ChannelStatusMessage",
                "ChannelToAddress",
                "EventType",
                "StructuredMessage",
            ]
        ),
        # https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
        # (no callback for the initial status: accepted, scheduled, or queued without a service)
        "message_status": sorted(
            ["queued", "sending", "sent", "delivered", "undelivered", "failed", "read", "canceled"]
        ),
    },
    "error": {
        "source": "https://www.twilio.com/docs/usage/twilios-response",
        "fields": {
            "code": "integer",
            "message": "string",
            "more_info": "string",
            "status": "integer",
        },
    },
}
# The Bot API methods our sender calls or the emulator serves (its answers are checked too).
TELEGRAM_METHODS = (
    "getMe",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendChatAction",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "getFile",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "getMyCommands",
)
# The types we send, the emulator answers with, or our builders put in an Update. Only these are
# kept (the description has hundreds): the checker reports a value of any other type as a gap in
# the facts, so a type we start producing cannot go unchecked. The methods' return types and the
# concrete types of an abstract one listed here are added by `derive`.
TELEGRAM_TYPES = (
    "InlineKeyboardMarkup",
    "InlineKeyboardButton",
    "ReplyKeyboardMarkup",
    "KeyboardButton",
    "ReplyKeyboardRemove",
    "ForceReply",
    "BotCommand",
    "BotCommandScope",
    "LinkPreviewOptions",
    "Update",
    "Message",
    "MaybeInaccessibleMessage",
    "MessageEntity",
    "CallbackQuery",
    "User",
    "Chat",
    "Contact",
    "Location",
    "PhotoSize",
    "Document",
    "File",
    "WebhookInfo",
    "ResponseParameters",
)
# "1-4096 characters", "0-1024 characters", "1-64 bytes", "at most 200 characters"…
_RANGE = re.compile(r"\b(\d+)-(\d+) (characters|bytes)\b")
_AT_MOST = re.compile(r"\bat most (\d+) (characters|bytes)\b", re.I)
_REF = re.compile(r'"\$ref": "([^"]+)"')
# "1-100. Defaults to 40" on a number (max_connections); only read on Integer and Float fields,
# where "ISO 639-1" cannot occur.
_NUMBER_RANGE = re.compile(r"\b(\d+)-(\d+)\b")
# 'Must be one of "danger" (red), "success" (green) or "primary" (blue)', 'either "private", …'
_ONE_OF = re.compile(
    r"(?:Must be one of|one of|either) ((?:\"[^\"]+\"(?: \([^)]*\))?(?:,? or |, )?)+)"
)
# A concrete type's discriminator: "Scope type, must be chat"; InaccessibleMessage's "Always 0".
_MUST_BE = re.compile(r"\bmust be ([a-z_]+)$")
_ALWAYS = re.compile(r"^Always (\d+)\.")
# "At most 100 commands can be specified."
_MAX_ITEMS = re.compile(r"\bAt most (\d+) \w+ can be specified\b")
# The character sets the description spells out in words, as the regular expression they mean.
_CHARSETS = {
    "Only characters A-Z, a-z, 0-9, _ and - are allowed": "[A-Za-z0-9_-]*",
    "Can contain only lowercase English letters, digits and underscores": "[a-z0-9_]*",
}
# Which of a type's fields go together, from its description:
# "Exactly one of the fields other than text, icon_custom_emoji_id, and style must be used",
# "At most one of the optional fields can be present", "Exactly one of the fields data or
# game_short_name will be present".
_OTHER_THAN = re.compile(r"(Exactly|At most) one of the fields other than (.+?) must be used")
_OPTIONAL = re.compile(r"(Exactly|At most) one of the optional fields")
_NAMED = re.compile(r"(Exactly|At most) one of the fields (\w+) or (\w+) (?:will|must)")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _schema_fact(schema: dict[str, Any]) -> dict[str, Any]:
    fact: dict[str, Any] = {"type": schema.get("type", "object")}
    if "format" in schema:
        fact["format"] = schema["format"]
    if "enum" in schema:
        fact["enum"] = sorted(map(str, schema["enum"]))
    if schema.get("type") == "array":
        fact["items"] = _schema_fact(schema.get("items") or {})
    return fact


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _response_field(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """One property of a response body: its type, and a named schema by reference."""
    if "$ref" in schema:
        named = _resolve(spec, schema)
        if "properties" in named:
            return {"$ref": schema["$ref"].rsplit("/", 1)[-1]}
        schema = {**named, "nullable": schema.get("nullable", named.get("nullable"))}
    fact: dict[str, Any] = {"type": schema.get("type", "object")}
    for key in ("format", "pattern"):
        if key in schema:
            fact[key] = schema[key]
    if "enum" in schema:
        fact["enum"] = sorted(map(str, schema["enum"]))
    if schema.get("nullable"):
        fact["nullable"] = True
    if fact["type"] == "array":
        fact["items"] = _response_field(spec, schema.get("items") or {})
    return fact


def _response_schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Every property a response body has (an emulator must send all of them, and no other)."""
    schema = _resolve(spec, schema)
    return {
        name: _response_field(spec, prop)
        for name, prop in sorted((schema.get("properties") or {}).items())
    }


def _responses(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The JSON bodies an operation answers, by HTTP status: a schema name or its properties."""
    out: dict[str, Any] = {}
    for status, response in (operation.get("responses") or {}).items():
        schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
        if schema is None:
            continue
        if "$ref" in schema:
            out[status] = {"$ref": schema["$ref"].rsplit("/", 1)[-1]}
        else:
            out[status] = {"properties": _response_schema(spec, schema)}
    return out


def _named_schemas(spec: dict[str, Any], calls: dict[str, Any]) -> dict[str, Any]:
    """The named schemas the responses refer to (a Message, a Media), each written once."""
    wanted = sorted(set(_REF.findall(json.dumps(calls))))
    named: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        if name in named:
            continue
        named[name] = _response_schema(spec, spec["components"]["schemas"][name])
        wanted += _REF.findall(json.dumps(named[name]))
    return dict(sorted(named.items()))


def _openapi_call(
    spec: dict[str, Any], call: str, *, with_responses: bool = False
) -> dict[str, Any]:
    method, path = call.split(" ", 1)
    operation = spec["paths"][path][method.lower()]
    params: dict[str, Any] = {}
    required: list[str] = []
    for p in operation.get("parameters", []):
        if p.get("in") in ("query", "header") and p["in"] == "query":
            params[p["name"]] = _schema_fact(_resolve(spec, p.get("schema") or {}))
            if p.get("required"):
                required.append(p["name"])
    body = (operation.get("requestBody") or {}).get("content") or {}
    encoding = ""
    for media_type, content in body.items():
        encoding = media_type
        schema = _resolve(spec, content.get("schema") or {})
        for name, prop in (schema.get("properties") or {}).items():
            params[name] = _schema_fact(_resolve(spec, prop))
        required += list(schema.get("required") or [])
    fact: dict[str, Any] = {"params": dict(sorted(params.items())), "required": sorted(required)}
    if encoding:
        fact["encoding"] = encoding
    if with_responses and (responses := _responses(spec, operation)):
        fact["responses"] = responses
    return fact


def _limits(description: str, types: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if m := _RANGE.search(description):
        found = {"min": int(m[1]), "max": int(m[2]), "unit": m[3]}
        if description[m.end() :].startswith((" after entities parsing", " after entity parsing")):
            found["after_entities"] = True  # markup does not count (see contracts.telegram_text)
    elif m := _AT_MOST.search(description):
        found = {"max": int(m[1]), "unit": m[2].lower()}
    elif set(types) <= {"Integer", "Float"} and (m := _NUMBER_RANGE.search(description)):
        found = {"min": int(m[1]), "max": int(m[2]), "unit": "value"}
    if m := _ONE_OF.search(description):
        found["one_of"] = sorted(re.findall(r"\"([^\"]+)\"", m[1]))
    elif m := _MUST_BE.search(description):
        found["one_of"] = [m[1]]
    elif types == ["Integer"] and (m := _ALWAYS.search(description)):
        found["one_of"] = [int(m[1])]
    if m := _MAX_ITEMS.search(description):
        found["max_items"] = int(m[1])
    for words, pattern in _CHARSETS.items():
        if words in description:
            found["pattern"] = pattern
    return found


def _telegram_fields(fields: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        fact: dict[str, Any] = {"types": f["types"], "required": bool(f.get("required"))}
        if limits := _limits(f.get("description", ""), f["types"]):
            fact["limits"] = limits
        out[f["name"]] = fact
    return out


def _telegram_type(spec: dict[str, Any]) -> dict[str, Any]:
    """A type's fields, its concrete types when abstract, and which fields go together."""
    fields = spec.get("fields", [])
    fact: dict[str, Any] = {"fields": _telegram_fields(fields)}
    if "subtypes" in spec:
        fact["subtypes"] = spec["subtypes"]
    text = " ".join(spec.get("description", []))
    names: list[str] = []
    if m := _OTHER_THAN.search(text):
        excluded = set(re.findall(r"\w+", m[2])) - {"and"}
        names = [f["name"] for f in fields if f["name"] not in excluded]
    elif m := _OPTIONAL.search(text):
        names = [f["name"] for f in fields if not f.get("required")]
    elif m := _NAMED.search(text):
        names = [m[2], m[3]]
    if m:
        fact["exactly_one_of" if m[1] == "Exactly" else "at_most_one_of"] = names
    return fact


def _telegram_types(telegram: dict[str, Any]) -> dict[str, Any]:
    """TELEGRAM_TYPES, the return types of TELEGRAM_METHODS, and the subtypes of abstract ones."""
    wanted = list(TELEGRAM_TYPES)
    for name in TELEGRAM_METHODS:
        wanted += [kind.removeprefix("Array of ") for kind in telegram["methods"][name]["returns"]]
    out: dict[str, Any] = {}
    while wanted:
        name = wanted.pop(0)
        if name in out or name not in telegram["types"]:
            continue  # already kept, or a basic type (Boolean, String…)
        out[name] = _telegram_type(telegram["types"][name])
        wanted += out[name].get("subtypes", [])
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------- Meta
# The Graph API calls Boutik makes (the Meta sender, media download, `boutik doctor`, the
# templates it creates), in the spec's own path syntax. The download of a media file is the
# spec's "{Media-URL}" call: the URL the media metadata gives (our emulator serves it at
# /whatsapp_business/attachments/, as Meta's lookaside host does).
META_CALLS = (
    "POST /{Version}/{Phone-Number-ID}/messages",
    "GET /{Version}/{Phone-Number-ID}",
    "GET /{Version}/{Media-ID}",
    "GET /{Version}/{Media-URL}",
    "POST /{Version}/{WABA-ID}/message_templates",
    "GET /{Version}/{WABA-ID}/message_templates",
)
_META_CLOUD = "https://developers.facebook.com/docs/whatsapp/cloud-api"
# What Meta's OpenAPI leaves out or gets wrong, hand-kept from Meta's documentation pages named
# in each "source" (not derived), and marked as such in the facts ("source" on every node a
# patch touched). Each patch merges "set" into the compact schema at "path" (dotted property
# names; "[]" steps into array items; "oneOf+" appends an alternative).
META_DOCS: dict[str, Any] = {
    "from": "Meta's documentation, hand-kept where the OpenAPI is silent or provably incomplete",
    "patches": [
        {
            # The spec's InteractiveObject has no location request: its enum and ActionObject
            # lack it, yet Meta documents and serves it (Boutik sends it at checkout).
            "schema": "InteractiveObject",
            "path": "type",
            "add_enum": ["location_request_message"],
            "source": f"{_META_CLOUD}/messages/location-request-messages",
        },
        {
            "schema": "ActionObject",
            "path": "oneOf+",
            "set": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string", "enum": ["send_location"]}},
            },
            "source": f"{_META_CLOUD}/messages/location-request-messages",
        },
        {
            # TextMessage.text.body has no limit in the spec; the text object's is 4096.
            "schema": "TextMessage",
            "path": "text.body",
            "set": {"minLength": 1, "maxLength": 4096},
            "source": f"{_META_CLOUD}/reference/messages#text-object",
        },
        {
            # MediaObject lists only id/link; the media object also takes a caption (image,
            # document, video: at most 1024 characters) and a document's filename.
            "schema": "MediaObject",
            "path": "caption",
            "set": {"type": "string", "maxLength": 1024},
            "source": f"{_META_CLOUD}/reference/messages#media-object",
        },
        {
            "schema": "MediaObject",
            "path": "filename",
            "set": {"type": "string"},
            "source": f"{_META_CLOUD}/reference/messages#media-object",
        },
        {
            # The spec's pattern "^[2-6, 11-14]$" is a character class: it refuses "0", the
            # index of a template's first button (its own example sends index 0). Documented:
            # 0 to 9.
            "schema": "TemplateComponent",
            "path": "index",
            "set": {"pattern": "^[0-9]$"},
            "source": f"{_META_CLOUD}/reference/messages#button-parameter-object",
        },
        *(
            {
                # allOf copies of TemplateComponent carry the same pattern
                "schema": name,
                "path": "index",
                "set": {"pattern": "^[0-9]$"},
                "source": f"{_META_CLOUD}/reference/messages#button-parameter-object",
            }
            for name in ("ButtonComponent", "BodyComponent", "HeaderComponent")
        ),
        {
            # Every WhatsApp error carries error_data (messaging_product, details); the spec's
            # GraphAPIError does not list it.
            "schema": "GraphAPIError",
            "path": "error.error_data",
            "set": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "messaging_product": {"type": "string", "enum": ["whatsapp"]},
                    "details": {"type": "string"},
                },
            },
            "source": f"{_META_CLOUD}/support/error-codes",
        },
    ],
    # Limits the schemas cannot say (they span siblings), checked by devtools.contracts.meta.
    "interactive": {
        "source": f"{_META_CLOUD}/guides/send-message-types/interactive-list-messages",
        "list_rows_total_max": 10,
        "section_title_required_over": 1,
        # "An object with the body of the message. Optional for 'product' type, required for
        # other interactive message types" (BodyObject's description, not a schema rule).
        "body_required": ["button", "list", "location_request_message"],
        "unique": [
            "interactive.action.buttons[].reply.id",
            "interactive.action.buttons[].reply.title",
            "interactive.action.sections[].rows[].id",
        ],
    },
    # Graph API query parameters every GET accepts, which the spec lists on no call.
    "graph_query": {
        "source": "https://developers.facebook.com/docs/graph-api/results",
        "params": ["fields", "limit", "after", "before"],
    },
    # A list's paging also carries next/previous (URLs) besides the cursors.
    "paging": {
        "source": "https://developers.facebook.com/docs/graph-api/results",
        "properties": {"next": {"type": "string"}, "previous": {"type": "string"}},
    },
    # The template list's items: the spec lists six fields; the reference also documents
    # rejected_reason (why a review refused it), which `boutik doctor` reads.
    "template_fields": {
        "source": "https://developers.facebook.com/docs/graph-api/reference/"
        "whats-app-business-hsm/",
        "properties": {"rejected_reason": {"type": "string"}},
    },
    # Inbound media messages: the spec has no webhook example of these types (only image).
    "webhook_messages": {
        "source": f"{_META_CLOUD}/webhooks/reference/messages",
        "types": {
            "audio": ["audio", "audio.id", "audio.mime_type", "audio.sha256", "audio.voice"],
            "document": [
                "document",
                "document.caption",
                "document.filename",
                "document.id",
                "document.mime_type",
                "document.sha256",
            ],
            "video": ["video", "video.caption", "video.id", "video.mime_type", "video.sha256"],
            "sticker": [
                "sticker",
                "sticker.animated",
                "sticker.id",
                "sticker.mime_type",
                "sticker.sha256",
            ],
        },
    },
}
_KEEP = ("type", "enum", "format", "pattern", "minLength", "maxLength", "minItems", "maxItems")


def _meta_ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _meta_compact(spec: dict[str, Any], schema: dict[str, Any], named: set[str]) -> dict[str, Any]:
    """A schema reduced to what the checker reads, allOf flattened, named schemas by reference.

    Why flatten: the spec writes each message as allOf [BaseMessageProperties, {… additional
    Properties: false}]; read literally, that second part forbids messaging_product and to, so
    no message could ever fit. Merged, additionalProperties: false means what Meta meant.
    """
    if "$ref" in schema:
        name = _meta_ref_name(schema["$ref"])
        named.add(name)
        return {"$ref": name}
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = _resolve(spec, part)
            flat = _meta_compact(
                spec, {k: v for k, v in part.items() if k != "discriminator"}, named
            )
            for key, value in flat.items():
                if key == "properties":
                    for prop, fact in value.items():
                        merged["properties"][prop] = {**merged["properties"].get(prop, {}), **fact}
                elif key == "required":
                    merged["required"] = sorted(set(merged["required"]) | set(value))
                elif key == "additionalProperties":
                    merged["additionalProperties"] = value
                else:
                    merged[key] = value
        if not merged["required"]:
            del merged["required"]
        return merged
    fact: dict[str, Any] = {k: schema[k] for k in _KEEP if k in schema}
    if "enum" in fact:
        fact["enum"] = [str(v) for v in fact["enum"]]
    if "properties" in schema:
        fact["type"] = "object"
        fact["properties"] = {
            name: _meta_compact(spec, prop, named) for name, prop in schema["properties"].items()
        }
        for name, prop in schema["properties"].items():
            text = prop.get("description", "")
            if "Cannot be empty" in text:
                fact["properties"][name]["minLength"] = 1
    if schema.get("required"):
        fact["required"] = sorted(schema["required"])
    if schema.get("additionalProperties") is False:
        fact["additionalProperties"] = False
    if "items" in schema:
        fact["items"] = _meta_compact(spec, schema["items"], named)
    if "oneOf" in schema:
        fact["oneOf"] = [_meta_compact(spec, alt, named) for alt in schema["oneOf"]]
    if "discriminator" in schema:
        disc = schema["discriminator"]
        fact["discriminator"] = {
            "property": disc["propertyName"],
            "mapping": {k: _meta_ref_name(v) for k, v in disc.get("mapping", {}).items()},
        }
        named.update(fact["discriminator"]["mapping"].values())
    return fact


def _meta_patch(schemas: dict[str, Any], patch: dict[str, Any]) -> None:
    node = schemas[patch["schema"]]
    steps = patch["path"].split(".")
    for step in steps[:-1]:
        node = node["properties"][step]
        if "$ref" in node:
            node = schemas[node["$ref"]]
    last = steps[-1]
    if last == "oneOf+":
        node["oneOf"].append({**patch["set"], "source": patch["source"]})
        return
    props = node.setdefault("properties", {})
    target = props.setdefault(last, {})
    if "add_enum" in patch:
        target["enum"] = [*target["enum"], *patch["add_enum"]]
    target.update(patch.get("set", {}))
    target["source"] = patch["source"]


def _meta_call(spec: dict[str, Any], call: str, named: set[str]) -> dict[str, Any]:
    method, path = call.split(" ", 1)
    item = spec["paths"][path]
    operation = item[method.lower()]
    query: dict[str, Any] = {}
    for p in [*item.get("parameters", []), *(operation.get("parameters") or [])]:
        p = _resolve_param(spec, p)
        if p.get("in") == "query":
            query[p["name"]] = _meta_compact(spec, p.get("schema") or {}, named)
    fact: dict[str, Any] = {"query": query}
    body = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json")
    if body is not None:
        fact["body"] = _meta_compact(spec, body["schema"], named)
    responses = {}
    for status, response in (operation.get("responses") or {}).items():
        content = (response.get("content") or {}).get("application/json")
        if content is not None and "schema" in content:
            responses[status] = _meta_compact(spec, content["schema"], named)
    fact["responses"] = responses
    return fact


def _resolve_param(spec: dict[str, Any], param: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in param:
        return spec["components"]["parameters"][_meta_ref_name(param["$ref"])]
    return param


def _key_paths(value: Any, prefix: str = "") -> dict[str, str]:
    """Every key path in a JSON value ("a.b", "a[].c") and the JSON type found there."""
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean"}
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out[path] = kinds.get(type(sub), "number")
            out.update(_key_paths(sub, path))
    elif isinstance(value, list):
        for sub in value:
            out.update(_key_paths(sub, f"{prefix}[]"))
    return out


def _schema_paths(spec: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> dict[str, str]:
    schema = _resolve(spec, schema)
    out: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        prop = _resolve(spec, prop)
        path = f"{prefix}.{name}" if prefix else name
        kind = prop.get("type", "object")
        out[path] = "number" if kind == "integer" else kind
        if kind == "array":
            out.update(_schema_paths(spec, prop.get("items") or {}, f"{path}[]"))
        else:
            out.update(_schema_paths(spec, prop, path))
    return out


def _meta_webhooks(spec: dict[str, Any]) -> dict[str, Any]:
    """Webhook facts from the spec's own examples (its inbound schemas reuse the outbound ones,
    which require `to`): per change field, the value's key paths; per message type, the
    message's; statuses from the spec's Statuses schema (it has no status example)."""
    operation = spec["paths"]["/whatsapp/webhooks"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    values: dict[str, dict[str, str]] = {}
    types: dict[str, dict[str, str]] = {}
    required: set[str] | None = None
    for example in content["examples"].values():
        for entry in example["value"]["entry"]:
            for change in entry["changes"]:
                paths = values.setdefault(change["field"], {})
                value = change["value"]
                for path, kind in _key_paths(value).items():
                    if not path.startswith("messages[]."):
                        paths[path] = kind
                for message in value.get("messages", []):
                    found = _key_paths(message)
                    types.setdefault(message["type"], {}).update(found)
                    required = set(message) if required is None else required & set(message)
    schemas = spec["components"]["schemas"]
    status_paths = _schema_paths(spec, schemas["Statuses"])
    statuses_value = _schema_paths(spec, schemas["StatusMessageValue"])
    values["messages"].update(
        {p: k for p, k in statuses_value.items() if not p.startswith("statuses[].")}
    )
    change = schemas["Change"]["properties"]["field"]
    return {
        "source": "the spec's examples of POST /whatsapp/webhooks; statuses: schema Statuses",
        "object": [schemas["WebhookPayload"]["properties"]["object"]["example"]],
        "fields": sorted(set(change["enum"]) | set(values)),
        "values": {f: dict(sorted(p.items())) for f, p in sorted(values.items())},
        "value_required": sorted(schemas["IncomingMessageValueGeneral"]["required"]),
        "metadata_required": sorted(schemas["Metadata"]["required"]),
        "message_types": {t: dict(sorted(p.items())) for t, p in sorted(types.items())},
        "message_required": sorted(required or ()),
        "statuses": dict(sorted(status_paths.items())),
        "status_enum": schemas["Statuses"]["properties"]["status"]["enum"],
        "status_required": sorted(schemas["Statuses"]["required"]),
    }


def derive_meta(path: Path) -> dict[str, Any]:
    import yaml  # the Meta description is YAML; only this script reads it

    spec = yaml.load(
        path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    named: set[str] = {"GraphAPIError"}
    calls = {call: _meta_call(spec, call, named) for call in META_CALLS}
    schemas: dict[str, Any] = {}
    while pending := sorted(named - schemas.keys()):
        for name in pending:
            raw = spec["components"]["schemas"][name]
            if "discriminator" in raw and "allOf" in raw:
                raw = {k: v for k, v in raw.items() if k != "discriminator"}
            schemas[name] = _meta_compact(spec, raw, named)
    for patch in META_DOCS["patches"]:
        _meta_patch(schemas, patch)
    paging = META_DOCS["paging"]
    for fact in calls.values():
        for response in fact["responses"].values():
            if "paging" in response.get("properties", {}):
                extra = {
                    k: {**v, "source": paging["source"]} for k, v in paging["properties"].items()
                }
                response["properties"]["paging"]["properties"].update(extra)
    listed = calls["GET /{Version}/{WABA-ID}/message_templates"]["responses"]["200"]
    documented = META_DOCS["template_fields"]
    listed["properties"]["data"]["items"]["properties"].update(
        {k: {**v, "source": documented["source"]} for k, v in documented["properties"].items()}
    )
    return {
        "version": spec["info"]["version"],
        "calls": calls,
        "schemas": dict(sorted(schemas.items())),
        "docs": {k: v for k, v in META_DOCS.items() if k != "patches"}
        | {"patched": [f"{p['schema']}.{p['path']}: {p['source']}" for p in META_DOCS["patches"]]},
        "webhooks": _meta_webhooks(spec),
    }


def derive(specs: Path) -> dict[str, Any]:
    api_path = specs / "twilio" / "twilio_api_v2010.json"
    content_path = specs / "twilio" / "twilio_content_v1.json"
    telegram_path = specs / "telegram" / "api.json"
    api = json.loads(api_path.read_text())
    content = json.loads(content_path.read_text())
    telegram = json.loads(telegram_path.read_text())
    meta_path = specs / "meta" / "business-messaging-api_v23.0.yaml"
    # Meta's source stays inside its own section ("sources" lists the first three specs).
    meta = derive_meta(meta_path) | {"sha256": _sha256(meta_path)}
    twilio_calls = {
        call: _openapi_call(api, call, with_responses=True) for call in TWILIO_API_CALLS
    }
    content_calls = {
        call: _openapi_call(content, call, with_responses=True) for call in TWILIO_CONTENT_CALLS
    }
    return {
        "sources": {
            "twilio_api_v2010": {"version": api["info"]["version"], "sha256": _sha256(api_path)},
            "twilio_content_v1": {
                "version": content["info"]["version"],
                "sha256": _sha256(content_path),
            },
            "telegram_bot_api": {"version": telegram["version"], "sha256": _sha256(telegram_path)},
        },
        "meta": meta,
        "twilio": twilio_calls,
        # Both specs' named schemas in one map: their names do not overlap ("api.v2010.…",
        # "content.v1.…").
        "twilio_schemas": {
            **_named_schemas(api, twilio_calls),
            **_named_schemas(content, content_calls),
        },
        "twilio_docs": TWILIO_DOCS,
        "twilio_content": content_calls,
        "telegram": {
            "methods": {
                name: {
                    "fields": _telegram_fields(telegram["methods"][name].get("fields", [])),
                    "returns": telegram["methods"][name]["returns"],
                }
                for name in TELEGRAM_METHODS
            },
            "types": _telegram_types(telegram),
        },
    }


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}/{key}" if prefix else str(key)))
        return out
    return {prefix: tree}


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What a new spec changed in the facts we rely on, one line per leaf."""
    a, b = _flatten(old), _flatten(new)
    lines = [f"- {k}: {a[k]!r}" for k in sorted(a.keys() - b.keys())]
    lines += [f"+ {k}: {b[k]!r}" for k in sorted(b.keys() - a.keys())]
    lines += [f"~ {k}: {a[k]!r} -> {b[k]!r}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--specs", type=Path, default=ROOT.parent / "shared" / "specs")
    parser.add_argument("--check", action="store_true", help="print the changes, write nothing")
    args = parser.parse_args(argv)
    new = derive(args.specs)
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    diff = changes(old, new)
    for line in diff:
        print(line)
    print(f"{len(diff)} change(s) against {OUT.relative_to(ROOT)}")
    if args.check:
        return 1 if diff else 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(new, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
