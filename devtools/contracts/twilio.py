"""Twilio (Messages API 2010-04-01, Content API v1): does a request fit the OpenAPI facts?"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
