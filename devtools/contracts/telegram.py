"""Telegram (Bot API): does a method call fit the machine-readable description's facts?"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from devtools.contracts.common import RawRequest, facts

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
