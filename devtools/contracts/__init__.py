"""Provider contracts: does a request we make (or a payload an emulator makes) fit the spec?

The facts come from the providers' own API descriptions (`scripts/derive_contract_facts.py`
writes `provider_facts.json` beside this file). Why not trust the emulators: they were written
here, from our reading of the docs, and a test that only talks to them can stay green while
production breaks. The emulators record every request they receive (`EmulatorStore.raw_requests`)
and the contract tests check each one here: an unknown parameter, a missing required one, a
value of the wrong type or past a documented limit is a violation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

FACTS_PATH = Path(__file__).with_name("provider_facts.json")


@cache
def facts() -> dict[str, Any]:
    return json.loads(FACTS_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RawRequest:
    """One HTTP request as an emulator received it: form fields as lists, a JSON body as is."""

    method: str
    path: str
    form: Mapping[str, list[str]]
    json_body: Any = None
    query: Mapping[str, list[str]] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # names of multipart file parts


# --- Twilio ---------------------------------------------------------------------------------


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


# --- Telegram -------------------------------------------------------------------------------

_BOT_METHOD = re.compile(r"/bot[^/]+/([A-Za-z]+)$")


def telegram_method(path: str) -> str | None:
    m = _BOT_METHOD.search(path)
    return m[1] if m else None


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _type_violations(where: str, types: Iterable[str], value: Any) -> list[str]:
    """[] when `value` fits one of the Bot API `types`, else why not (for the closest fit)."""
    reasons: list[str] = []
    for kind in types:
        found = _one_type(where, kind, value)
        if not found:
            return []
        reasons.extend(found)
    return reasons[:3] or [f"{where}: {value!r} fits none of {list(types)}"]


def _one_type(where: str, kind: str, value: Any) -> list[str]:
    if kind.startswith("Array of "):
        value = _decoded(value)
        if not isinstance(value, list):
            return [f"{where}: expected {kind}, got {type(value).__name__}"]
        inner = kind.removeprefix("Array of ")
        return [v for i, item in enumerate(value) for v in _one_type(f"{where}[{i}]", inner, item)]
    if kind == "Integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok or (isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None)
        return [] if ok else [f"{where}: expected Integer, got {value!r}"]
    if kind == "Float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if isinstance(value, str):
            try:
                float(value)
                ok = True
            except ValueError:
                ok = False
        return [] if ok else [f"{where}: expected Float, got {value!r}"]
    if kind == "Boolean":
        ok = isinstance(value, bool) or str(value).lower() in ("true", "false")
        return [] if ok else [f"{where}: expected Boolean, got {value!r}"]
    if kind in ("String", "InputFile"):
        return (
            []
            if isinstance(value, str) or kind == "InputFile"
            else [f"{where}: expected String, got {type(value).__name__}"]
        )
    spec = facts()["telegram"]["types"].get(kind)
    if spec is None:
        return []  # a type we do not send: not checked (the facts list the ones we rely on)
    value = _decoded(value)
    if not isinstance(value, dict):
        return [f"{where}: expected {kind} object, got {type(value).__name__}"]
    return _fields_violations(f"{where}<{kind}>", spec["fields"], value)


def _limit_violation(where: str, limits: Mapping[str, Any], value: Any) -> str | None:
    if not isinstance(value, str) or "unit" not in limits:
        return None
    size = len(value.encode()) if limits["unit"] == "bytes" else len(value)
    low, high = limits.get("min", 0), limits["max"]
    if not low <= size <= high:
        return f"{where}: {size} {limits['unit']}, allowed {low}-{high}"
    if "one_of" in limits and value not in limits["one_of"]:
        return f"{where}: {value!r} is not one of {limits['one_of']}"
    return None


def _fields_violations(
    where: str, fields: Mapping[str, Any], given: Mapping[str, Any]
) -> list[str]:
    found = []
    for name, value in given.items():
        field = fields.get(name)
        if field is None:
            found.append(f"{where}: unknown field {name!r}")
            continue
        found += _type_violations(f"{where}.{name}", field["types"], value)
        if (
            limit := _limit_violation(f"{where}.{name}", field.get("limits", {}), value)
        ) is not None:
            found.append(limit)
    for name, field in fields.items():
        if field["required"] and name not in given:
            found.append(f"{where}: required field {name!r} missing")
    return found


def telegram_violations(request: RawRequest) -> list[str]:
    """Why this Bot API call is not one the Telegram description allows ([] when it fits)."""
    method = telegram_method(request.path)
    if method is None:
        return []  # a file download (/file/bot…/path), not a method call
    spec = facts()["telegram"]["methods"].get(method)
    if spec is None:
        return [f"{method}: not a method the facts know (add it to the derive script)"]
    given: dict[str, Any] = {k: v[0] for k, v in {**request.query, **request.form}.items()}
    if isinstance(request.json_body, dict):
        given.update(request.json_body)
    for name in request.files:
        given.setdefault(name, "<file>")
    return _fields_violations(method, spec["fields"], given)


def violations(requests: Iterable[RawRequest]) -> list[str]:
    """Every contract violation among an emulator's recorded requests."""
    found = []
    for request in requests:
        if "/telegram/" in request.path or request.path.startswith("/bot"):
            found += telegram_violations(request)
        else:
            found += twilio_violations(request)
    return found
