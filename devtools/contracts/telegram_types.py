"""Does a value fit a Bot API type, as the machine-readable description defines it?

One walker for both directions: what we send (method parameters) and what Telegram sends us
(method results, Updates — which our emulator and our test builders produce in its place).
A field the type does not have, a missing required one, a value of the wrong type, past a
limit the description states, or off its character set, a concrete type an abstract one does
not list, two fields of which at most one may be present: each is a `Violation`.

A value of a type the facts do not hold is a violation too ("gap"): the facts keep only the
types we use, so the day we start producing a new one the check says so instead of waving it
through. Each violation has a `kind`, so the emulator can refuse on some kinds (a wrong type,
a scope of no known type) while Telegram's own tolerance (it ignores unknown parameters) stays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from devtools.contracts.common import facts
from devtools.contracts.telegram_text import visible_text

Kind = Literal["unknown", "missing", "type", "gap", "limit", "one_of", "pattern", "together"]
_BASIC = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})


@dataclass(frozen=True)
class Violation:
    """One way a value does not fit the description; `str()` is the readable reason."""

    kind: Kind
    text: str

    def __str__(self) -> str:
        return self.text


def type_fact(name: str) -> Mapping[str, Any] | None:
    """The facts about one Bot API type (fields, subtypes, exactly_one_of…), None if not kept."""
    found: Mapping[str, Any] | None = facts()["telegram"]["types"].get(name)
    return found


def field_fact(owner: str, name: str) -> Mapping[str, Any]:
    """A method parameter's or a type field's facts; KeyError if the facts do not have it.

    The emulator reads its limits here, so a number stated in the description is written once.
    """
    telegram = facts()["telegram"]
    owner_fact = telegram["methods"].get(owner) or telegram["types"][owner]
    found: Mapping[str, Any] = owner_fact["fields"][name]
    return found


def field_limits(owner: str, name: str) -> Mapping[str, Any]:
    limits: Mapping[str, Any] = field_fact(owner, name).get("limits", {})
    return limits


def decoded(value: Any) -> Any:
    """A JSON-serialized parameter (form-encoded requests carry objects as JSON text)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def value_violations(
    where: str, types: Iterable[str], value: Any, *, textual: bool = False
) -> list[Violation]:
    """[] when `value` fits one of the Bot API `types`, else why not (for the closest fit).

    `textual`: the value came as form text ("42", "true"), as a request's top-level parameters
    do; inside a JSON object, and anywhere in a result or an Update, 42 must be a number.
    """
    reasons: list[Violation] = []
    for kind in types:
        found = _one_type(where, kind, value, textual=textual)
        if not found:
            return []
        reasons.extend(found)
    return reasons[:3] or [Violation("type", f"{where}: {value!r} fits none of {list(types)}")]


def object_violations(where: str, type_name: str, value: Any) -> list[Violation]:
    """Why `value` is not a `type_name` ([] when it is one)."""
    return _one_type(where, type_name, value)


def _basic(where: str, kind: str, value: Any, textual: bool) -> list[Violation]:
    if kind == "Integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok or (
            textual and isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
        )
    elif kind == "Float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if textual and isinstance(value, str):
            try:
                float(value)
                ok = True
            except ValueError:
                ok = False
    elif kind == "Boolean":
        ok = isinstance(value, bool) or (textual and str(value).lower() in ("true", "false"))
    else:  # String, or InputFile (a file part, "attach://…", a file_id or a URL)
        ok = isinstance(value, str) or kind == "InputFile"
    got = repr(value) if kind != "String" else type(value).__name__
    return [] if ok else [Violation("type", f"{where}: expected {kind}, got {got}")]


def _one_type(where: str, kind: str, value: Any, *, textual: bool = False) -> list[Violation]:
    if kind.startswith("Array of "):
        value = decoded(value)
        if not isinstance(value, list):
            return [Violation("type", f"{where}: expected {kind}, got {type(value).__name__}")]
        inner = kind.removeprefix("Array of ")
        return [v for i, item in enumerate(value) for v in _one_type(f"{where}[{i}]", inner, item)]
    if kind in _BASIC:
        return _basic(where, kind, value, textual)
    spec = type_fact(kind)
    if spec is None:
        return [Violation("gap", f"{where}: a {kind}, a type the facts do not hold (derive it)")]
    value = decoded(value)
    if not isinstance(value, dict):
        return [Violation("type", f"{where}: expected {kind} object, got {type(value).__name__}")]
    if "subtypes" in spec:
        return _abstract_violations(where, kind, spec["subtypes"], value)
    return fields_violations(f"{where}<{kind}>", kind, value)


def _discriminator(subtype: str) -> Any:
    """The value a concrete type's `type` field must have ("chat" for BotCommandScopeChat)."""
    spec = type_fact(subtype) or {}
    one_of = spec.get("fields", {}).get("type", {}).get("limits", {}).get("one_of", [])
    return one_of[0] if len(one_of) == 1 else None


def _abstract_violations(
    where: str, kind: str, subtypes: list[str], value: Mapping[str, Any]
) -> list[Violation]:
    """An abstract type is one of its concrete types: by its `type` field when they have one
    (BotCommandScope), else whichever fits (MaybeInaccessibleMessage: Message or, dated 0,
    InaccessibleMessage)."""
    by_type = {_discriminator(s): s for s in subtypes}
    if None not in by_type:
        concrete = by_type.get(value.get("type"))
        if concrete is None:
            known = sorted(by_type)
            return [
                Violation("type", f"{where}<{kind}>: type {value.get('type')!r} not in {known}")
            ]
        return fields_violations(f"{where}<{concrete}>", concrete, value)
    reasons: list[Violation] = []
    for concrete in subtypes:
        found = fields_violations(f"{where}<{concrete}>", concrete, value)
        if not found:
            return []
        reasons.extend(found)
    return reasons[:3]


def limit_violation(where: str, limits: Mapping[str, Any], value: Any) -> Violation | None:
    """A value past the length, range, set or character set the description states."""
    if "one_of" in limits and value not in limits["one_of"]:
        return Violation("one_of", f"{where}: {value!r} is not one of {limits['one_of']}")
    unit = limits.get("unit")
    if unit == "value" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        value = int(value)  # a form-encoded number
    if unit == "value" and isinstance(value, int | float) and not isinstance(value, bool):
        size: float = value
    elif unit in ("characters", "bytes") and isinstance(value, str):
        size = len(value.encode()) if unit == "bytes" else len(value)
    else:
        size = -1
    if size >= 0 and not limits.get("min", 0) <= size <= limits["max"]:
        allowed = f"{limits.get('min', 0)}-{limits['max']}"
        return Violation("limit", f"{where}: {size} {unit}, allowed {allowed}")
    pattern = limits.get("pattern")
    if pattern and isinstance(value, str) and re.fullmatch(pattern, value) is None:
        return Violation("pattern", f"{where}: {value!r} has characters outside {pattern}")
    items = decoded(value)
    if "max_items" in limits and isinstance(items, list) and len(items) > limits["max_items"]:
        return Violation("limit", f"{where}: {len(items)} items, at most {limits['max_items']}")
    return None


def _together_violations(
    where: str, spec: Mapping[str, Any], given: Mapping[str, Any]
) -> list[Violation]:
    found = []
    if "exactly_one_of" in spec:
        used = [name for name in spec["exactly_one_of"] if name in given]
        if len(used) != 1:
            found.append(
                Violation(
                    "together", f"{where}: exactly one of {spec['exactly_one_of']}, got {used}"
                )
            )
    if "at_most_one_of" in spec:
        used = [name for name in spec["at_most_one_of"] if name in given]
        if len(used) > 1:
            found.append(Violation("together", f"{where}: at most one of these, got {used}"))
    return found


def fields_violations(
    where: str, owner: str, given: Mapping[str, Any], *, textual: Collection[str] = ()
) -> list[Violation]:
    """`given` against the fields of a method (`owner` = its name) or of a type; the fields
    named in `textual` came as form text (see `value_violations`)."""
    telegram = facts()["telegram"]
    spec: Mapping[str, Any] = telegram["methods"].get(owner) or telegram["types"][owner]
    fields = spec["fields"]
    found: list[Violation] = []
    for name, value in given.items():
        field = fields.get(name)
        if field is None:
            found.append(Violation("unknown", f"{where}: unknown field {name!r}"))
            continue
        wrong = value_violations(f"{where}.{name}", field["types"], value, textual=name in textual)
        found += wrong
        limits = field.get("limits", {})
        if limits.get("after_entities") and isinstance(value, str):
            value = visible_text(value, given.get("parse_mode"))  # "<b>" does not count
        limit = limit_violation(f"{where}.{name}", limits, value)
        if not wrong and limit is not None:
            found.append(limit)
    for name, field in fields.items():
        if field["required"] and name not in given:
            found.append(Violation("missing", f"{where}: required field {name!r} missing"))
    return found + _together_violations(where, spec, given)
