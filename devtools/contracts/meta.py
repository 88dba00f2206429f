"""Meta's Graph API (WhatsApp Cloud API v23.0): does a request, an answer or a webhook fit?

The facts are `provider_facts.json` ``meta``: the calls Boutik makes with their query
parameters, request body and response schemas, derived from Meta's OpenAPI with its allOf
flattened, plus the hand-kept documented facts (``docs``, each node marked with its
``source``). Requests are held to the request schemas (unknown field where the spec says
additionalProperties false, missing required, wrong type or enum, past maxLength/maxItems,
and the list limits that span siblings); the emulator's answers to the response schemas,
strictly (a field the schema lacks is one the emulator invented); webhooks to the key paths of
the spec's own webhook examples, per message type and for statuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from devtools.contracts.common import RawRequest, RawResponse, facts

PREFIX = "/meta"
_VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
_DOWNLOAD = "GET /{Version}/{Media-URL}"
_DOWNLOAD_PATH = "/whatsapp_business/attachments/"
_PYTHON = {"string": str, "boolean": bool, "object": dict, "array": list}


def is_meta(path: str) -> bool:
    return path.startswith(PREFIX + "/")


def _meta() -> dict[str, Any]:
    return facts()["meta"]


@cache
def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    routes = []
    for call in _meta()["calls"]:
        if call == _DOWNLOAD:
            continue
        method, template = call.split(" ", 1)
        parts = re.split(r"\{[^}]+\}", template)
        pattern = "[^/]+".join(re.escape(part) for part in parts)
        routes.append((method, re.compile(pattern + "$"), call))
    return routes


def meta_calls(method: str, path: str) -> list[str]:
    """The spec's calls this request may be (``GET /{v}/{id}`` is a phone number or a media)."""
    path = path.removeprefix(PREFIX)
    if method == "GET" and path == _DOWNLOAD_PATH:
        return [_DOWNLOAD]
    parts = path.split("/")
    if len(parts) < 3 or not _VERSION.match(parts[1]):
        return []
    return [call for m, pattern, call in _routes() if m == method and pattern.match(path)]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", dict: "object", list: "array"}
    return names.get(type(value), "null")


def _wrong(schema: Mapping[str, Any], value: Any, where: str, strict: bool) -> list[str]:
    """Why ``value`` does not fit ``schema`` (a compact fact schema); [] when it does."""
    schemas = _meta()["schemas"]
    if "$ref" in schema:
        return _wrong(schemas[schema["$ref"]], value, where, strict)
    disc = schema.get("discriminator")
    if disc is not None and isinstance(value, dict):
        tag = value.get(disc["property"])
        if tag in disc["mapping"]:
            return _wrong(schemas[disc["mapping"][tag]], value, where, strict)
        if "properties" not in schema:
            return [f"{where}.{disc['property']}: {tag!r} is not one of {sorted(disc['mapping'])}"]
    kind = schema.get("type")
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: {value!r} is not an integer"]
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            return [f"{where}: {value!r} is not a number"]
    elif kind in _PYTHON and not isinstance(value, _PYTHON[kind]):
        return [f"{where}: {_kind(value)} where the spec says {kind}"]
    found: list[str] = []
    if "enum" in schema and str(value) not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            found.append(f"{where}: empty, the spec wants at least {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: {len(value)} characters, at most {schema['maxLength']}")
        if schema.get("format") in ("url", "uri") and not re.match(r"https?://[^/\s]", value):
            found.append(f"{where}: {value!r} is not an http(s) URL")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{where}: {len(value)} items, at least {schema['minItems']}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{where}: {len(value)} items, at most {schema['maxItems']}")
        items = schema.get("items")
        if items is not None:
            for i, item in enumerate(value):
                found += _wrong(items, item, f"{where}[{i}]", strict)
    if isinstance(value, dict):
        found += _object_wrong(schema, value, where, strict)
    return found


def _alternative_keys(schema: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for alt in schema.get("oneOf", []):
        keys |= set(alt.get("properties", {}))
    return keys


def _object_wrong(
    schema: Mapping[str, Any], value: Mapping[str, Any], where: str, strict: bool
) -> list[str]:
    properties = schema.get("properties", {})
    found = [
        f"{where}.{k}: required, missing" for k in schema.get("required", []) if k not in value
    ]
    closed = schema.get("additionalProperties") is False or (strict and properties)
    if closed:
        known = set(properties) | _alternative_keys(schema)
        found += [f"{where}.{k}: a field the spec does not have" for k in value if k not in known]
    for name, sub in properties.items():
        if name in value:
            found += _wrong(sub, value[name], f"{where}.{name}", strict)
    alternatives = schema.get("oneOf")
    if alternatives and "discriminator" not in schema:
        results = [_wrong(alt, value, where, strict) for alt in alternatives]
        fitting = [r for r in results if not r]
        if len(fitting) > 1 and not strict:
            found.append(f"{where}: fits {len(fitting)} of the spec's oneOf alternatives")
        elif not fitting:
            # Report the alternative the value meant: the one whose required keys it has.
            meant = [
                (len(alt.get("required", [])), r)
                for alt, r in zip(alternatives, results, strict=True)
                if all(k in value for k in alt.get("required", []))
            ]
            if meant:
                found += max(meant, key=lambda m: m[0])[1]
            else:
                found.append(f"{where}: fits none of the spec's oneOf alternatives")
    return found


def _get(value: Any, path: str) -> list[Any]:
    """The values at a dotted path, ``[]`` stepping into every item of an array."""
    current = [value]
    for step in path.split("."):
        name, many = (step[:-2], True) if step.endswith("[]") else (step, False)
        nxt = []
        for item in current:
            if isinstance(item, dict) and name in item:
                got = item[name]
                if many:
                    nxt += got if isinstance(got, list) else []
                else:
                    nxt.append(got)
        current = nxt
    return current


def _interactive_wrong(body: Any) -> list[str]:
    """The documented limits that span siblings (META_DOCS ``interactive``)."""
    interactive = body.get("interactive") if isinstance(body, dict) else None
    if not isinstance(interactive, dict):
        return []
    rules = _meta()["docs"]["interactive"]
    where = f"message.interactive ({rules['source']})"
    found = []
    kind = interactive.get("type")
    if kind in rules["body_required"] and "body" not in interactive:
        found.append(f"{where}: a {kind} message needs a body")
    sections = _get(body, "interactive.action.sections")
    sections = sections[0] if sections and isinstance(sections[0], list) else []
    rows = sum(len(s.get("rows") or []) for s in sections if isinstance(s, dict))
    if rows > rules["list_rows_total_max"]:
        found.append(f"{where}: {rows} rows in all, at most {rules['list_rows_total_max']}")
    if len(sections) > rules["section_title_required_over"]:
        for i, section in enumerate(sections):
            if isinstance(section, dict) and "title" not in section:
                found.append(f"{where}: section {i} needs a title when there are several")
    for path in rules["unique"]:
        values = _get(body, path)
        if len(values) != len({repr(v) for v in values}):
            found.append(f"{where}: {path} must be unique")
    return found


def meta_violations(request: RawRequest) -> list[str]:
    """Why this request is not one Meta's spec (and documented facts) describes; []: it fits."""
    calls = meta_calls(request.method, request.path)
    if not calls:
        return [f"{request.method} {request.path}: no such call in the facts"]
    graph_query = set(_meta()["docs"]["graph_query"]["params"])
    results = []
    for call in calls:
        fact = _meta()["calls"][call]
        found: list[str] = []
        if call != _DOWNLOAD:  # the download URL is Meta's, opaque: its query is Meta's too
            for name, values in request.query.items():
                if name not in fact["query"] and name not in graph_query:
                    found.append(f"{call}: unknown query parameter {name!r}")
                elif name in fact["query"]:
                    found += _wrong(fact["query"][name], values[-1], f"{call} ?{name}", False)
        if "body" in fact:
            if request.json_body is None:
                found.append(f"{call}: no JSON body")
            else:
                found += _wrong(fact["body"], request.json_body, f"{call} body", False)
                if call.endswith("/messages"):
                    found += _interactive_wrong(request.json_body)
        elif request.json_body is not None or request.form:
            found.append(f"{call}: a body the spec does not describe")
        if not found:
            return []
        results.append(found)
    return results[0]


def meta_response_violations(response: RawResponse) -> list[str]:
    """Why this answer of the emulator is not one Meta's spec describes (strictly: no field the
    schema lacks); errors against GraphAPIError (+ the documented error_data)."""
    calls = meta_calls(response.method, response.path)
    if not calls:
        return []  # the request itself is reported by meta_violations
    results = []
    for call in calls:
        responses = _meta()["calls"][call]["responses"]
        where = f"{call} -> {response.status}"
        schema = responses.get(str(response.status))
        if schema is None and response.status >= 400:
            schema = {"$ref": "GraphAPIError"}
        if schema is None:
            if call == _DOWNLOAD and response.json_body is None:
                return []
            results.append([f"{where}: the spec describes no such answer"])
            continue
        if response.json_body is None:
            results.append([f"{where}: not a JSON body"])
            continue
        found = _wrong(schema, response.json_body, where, True)
        if not found:
            return []
        results.append(found)
    return results[0]


def _paths(value: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out[path] = sub
            out.update(_paths(sub, path))
    elif isinstance(value, list):
        for sub in value:
            out.update(_paths(sub, f"{prefix}[]"))
    return out


def _kinds_wrong(paths: Mapping[str, Any], known: Mapping[str, str], where: str) -> list[str]:
    found = []
    for path, value in paths.items():
        if path not in known:
            found.append(f"{where}: key {path!r} that no example of the spec has")
        elif _kind(value) != known[path]:
            found.append(
                f"{where}: {path} is {_kind(value)}, the spec's examples have {known[path]}"
            )
    return found


def meta_webhook_violations(payload: Any) -> list[str]:
    """Why this webhook is not one Meta could send (the key paths of the spec's examples for
    that message type, the Statuses schema for statuses, and the top-level shape)."""
    hooks = _meta()["webhooks"]
    if not isinstance(payload, dict):
        return ["webhook: not a JSON object"]
    found = [f"webhook: top-level key {k!r}" for k in payload if k not in ("object", "entry")]
    if payload.get("object") not in hooks["object"]:
        found.append(f"webhook: object={payload.get('object')!r}, not {hooks['object']}")
    entries = payload.get("entry")
    if not isinstance(entries, list) or not entries:
        return [*found, "webhook: entry must be a non-empty array"]
    for e, entry in enumerate(entries):
        at = f"entry[{e}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            found.append(f"{at}: an object with a string id")
            continue
        found += [f"{at}: key {k!r}" for k in entry if k not in ("id", "changes")]
        changes = entry.get("changes")
        if not isinstance(changes, list) or not changes:
            found.append(f"{at}.changes must be a non-empty array")
            continue
        for c, change in enumerate(changes):
            found += _change_wrong(change, f"{at}.changes[{c}]", hooks)
    return found


def _change_wrong(change: Any, at: str, hooks: Mapping[str, Any]) -> list[str]:
    if not isinstance(change, dict):
        return [f"{at}: not an object"]
    found = [f"{at}: key {k!r}" for k in change if k not in ("value", "field")]
    field = change.get("field")
    value = change.get("value")
    if field not in hooks["fields"]:
        return [*found, f"{at}.field={field!r}, not one of {hooks['fields']}"]
    if not isinstance(value, dict):
        return [*found, f"{at}.value: must be an object"]
    paths = {
        p: v for p, v in _paths(value).items() if not p.startswith(("messages[].", "statuses[]."))
    }
    found += _kinds_wrong(paths, hooks["values"].get(field, {}), f"{at}.value")
    if field != "messages":
        return found
    for name in ("messaging_product", "metadata"):
        if name not in value:
            found.append(f"{at}.value.{name}: required, missing")
    for name in hooks["metadata_required"]:
        if name not in (value.get("metadata") or {}):
            found.append(f"{at}.value.metadata.{name}: required, missing")
    if ("messages" in value) == ("statuses" in value):
        found.append(f"{at}.value: exactly one of messages or statuses")
    if "contacts" in value and "messages" not in value:
        found.append(f"{at}.value: contacts come only with messages")
    for m, message in enumerate(value.get("messages") or []):
        where = f"{at}.value.messages[{m}]"
        if not isinstance(message, dict):
            found.append(f"{where}: not an object")
            continue
        kind = message.get("type")
        known = hooks["message_types"].get(kind)
        documented = _meta()["docs"]["webhook_messages"]["types"].get(kind)
        if known is None and documented is not None:
            known = {"from": "string", "id": "string", "timestamp": "string", "type": "string"}
            known |= {p: _kind(v) for p, v in _paths(message).items() if p in documented}
            known |= {"context": "object", "context.from": "string", "context.id": "string"}
        if known is None:
            found.append(f"{where}: type {kind!r} has no example in the spec")
            continue
        found += [
            f"{where}.{k}: required, missing" for k in hooks["message_required"] if k not in message
        ]
        found += _kinds_wrong(_paths(message), known, where)
    for s, status in enumerate(value.get("statuses") or []):
        where = f"{at}.value.statuses[{s}]"
        if not isinstance(status, dict):
            found.append(f"{where}: not an object")
            continue
        found += [
            f"{where}.{k}: required, missing" for k in hooks["status_required"] if k not in status
        ]
        if status.get("status") not in hooks["status_enum"]:
            found.append(
                f"{where}.status={status.get('status')!r}, not one of {hooks['status_enum']}"
            )
        found += _kinds_wrong(_paths(status), hooks["statuses"], where)
    return found
