"""Twilio (Messages API 2010-04-01, Content API v1): does a request, or an emulator's answer,
fit the OpenAPI facts?

Answers are held to the response schemas of the calls Boutik makes (`twilio_schemas`): every
property the schema has is present, none it lacks, each of its type, enum, pattern and format.
Error bodies, which the OpenAPI does not describe, are held to Twilio's documented error shape.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

from devtools.contracts.common import RawRequest, facts


@cache
def _twilio_routes() -> list[tuple[str, re.Pattern[str], str, str]]:
    routes = []
    for group in ("twilio", "twilio_content"):
        for call in facts()[group]:
            method, template = call.split(" ", 1)
            pattern = re.escape(template)
            pattern = re.sub(r"\\\{[A-Za-z]+\\\}", "[^/]+", pattern)
            routes.append((method, re.compile(pattern + "$"), group, call))
    return routes


def twilio_call(method: str, path: str) -> str | None:
    """The spec's name of this call ("POST /2010-04-01/…/Messages.json"), None if unknown.

    A media file is fetched at its resource URI without `.json` (Twilio serves the content
    there, the spec describes the `.json` metadata): both are the same call here.
    """
    if "/Media/" in path and not path.endswith(".json"):
        path += ".json"
    for m, pattern, _group, call in _twilio_routes():
        if m == method and pattern.search(path):
            return call
    return None


def _fits(schema: Mapping[str, Any], value: Any) -> bool:
    kind = schema.get("type")
    if kind == "array":
        values = value if isinstance(value, list) else [value]
        return all(_fits(schema.get("items") or {}, v) for v in values)
    if "enum" in schema and str(value) not in schema["enum"]:
        return False
    if kind == "integer":
        return re.fullmatch(r"-?\d+", str(value)) is not None
    if kind == "number":
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True
    if kind == "boolean":
        return str(value).lower() in ("true", "false")
    if kind == "string" and schema.get("format") == "uri":
        return re.match(r"https?://", str(value)) is not None
    return True


def twilio_violations(request: RawRequest) -> list[str]:
    """Why this request is not one the Twilio spec describes ([] when it fits)."""
    call = twilio_call(request.method, request.path)
    if call is None:
        return [f"{request.method} {request.path}: no such call in the facts"]
    group = "twilio_content" if call.split(" ", 1)[1].startswith("/v1/") else "twilio"
    fact = facts()[group][call]
    params = fact["params"]
    fields = {**request.query, **request.form}
    given: dict[str, Any] = {k: v if len(v) > 1 else v[0] for k, v in fields.items()}
    if isinstance(request.json_body, dict):
        given.update(request.json_body)
    found = []
    for name, value in given.items():
        if name not in params:
            found.append(f"{call}: unknown parameter {name!r}")
        elif not _fits(params[name], value):
            found.append(f"{call}: {name}={value!r} does not fit {params[name]}")
        elif params[name].get("type") != "array" and isinstance(value, list):
            found.append(f"{call}: {name} given {len(value)} times")
    for name in fact["required"]:
        if name not in given:
            found.append(f"{call}: required parameter {name!r} missing")
    return found


def _wrong(where: str, schema: Mapping[str, Any], value: Any) -> list[str]:
    """Why ``value`` does not fit one response property's ``schema`` ([] when it does)."""
    if "$ref" in schema:
        return _object_wrong(where, facts()["twilio_schemas"][schema["$ref"]], value)
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null, the spec says never"]
    kind = schema.get("type")
    python = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}
    expected = python.get(str(kind))
    if expected is not None and (
        not isinstance(value, expected) or (kind == "integer" and isinstance(value, bool))
    ):
        return [f"{where}: {value!r} is not of type {kind}"]
    if kind == "array":
        items = schema.get("items") or {}
        return [w for i, v in enumerate(value) for w in _wrong(f"{where}[{i}]", items, v)]
    if "enum" in schema and str(value) not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    if "pattern" in schema and not re.search(schema["pattern"], str(value)):
        return [f"{where}: {value!r} does not match {schema['pattern']}"]
    if schema.get("format") == "date-time":  # the Content API's: ISO 8601
        try:
            dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return [f"{where}: {value!r} is not an ISO 8601 date-time"]
    if schema.get("format") == "date-time-rfc-2822":
        try:
            stamp = parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            stamp = None
        if stamp is None or not str(value).endswith("+0000"):
            return [f"{where}: {value!r} is not an RFC 2822 date in GMT"]
    return []


def _object_wrong(where: str, properties: Mapping[str, Any], value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {type(value).__name__}, the spec says an object"]
    found = [f"{where}: field {k!r} the spec does not have" for k in value if k not in properties]
    found += [f"{where}: field {k!r} missing" for k in properties if k not in value]
    for name, schema in properties.items():
        if name in value:
            found += _wrong(f"{where}.{name}", schema, value[name])
    return found


def twilio_response_violations(call: str, status: int, body: Any) -> list[str]:
    """Why this answer to ``call`` is not one Twilio's spec (or, for errors, docs) describes.

    ``call`` is the spec's name (`twilio_call`), of the Messages API or the Content API.
    """
    fact = facts()["twilio"].get(call) or facts()["twilio_content"].get(call)
    if fact is None:
        return []
    where = f"{call} -> {status}"
    if status >= 400:
        error = facts()["twilio_docs"]["error"]
        python = {"integer": int, "string": str}
        shape = {k: python[v] for k, v in error["fields"].items()}
        if not isinstance(body, dict):
            return [f"{where}: error body is not a JSON object ({error['source']})"]
        found = [
            f"{where}: error field {k!r} not in {error['source']}" for k in body if k not in shape
        ]
        found += [f"{where}: error field {k!r} missing" for k in shape if k not in body]
        found += [
            f"{where}: error {k}={body[k]!r} is not {error['fields'][k]}"
            for k, kind in shape.items()
            if k in body and not isinstance(body[k], kind)
        ]
        if body.get("status") not in (None, status):
            found.append(f"{where}: error body says status {body.get('status')}")
        return found
    response = (fact.get("responses") or {}).get(str(status))
    if response is None:
        return [f"{where}: the spec describes no {status} answer to this call"]
    if "$ref" in response:
        return _wrong(where, response, body)
    return _object_wrong(where, response["properties"], body)
