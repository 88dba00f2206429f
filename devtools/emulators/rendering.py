"""What a Content API template plus its variables becomes: one function for emulator and simulator.

Twilio fills each `{{name}}` placeholder with the variable given at send time, and a variable not
given with the template's own sample (default) value (Messages `ContentVariables` in Twilio's
OpenAPI; /work/shared/CHANNELS.md): nothing disappears. The emulator renders the body it records
with this, and the simulator draws the buttons and rows with it, so the phone screen shows exactly
what the buyer would get, never a kinder or a different reading of the same template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def unfilled(value: Any) -> list[str]:
    """The `{{name}}` placeholders still in ``value`` (neither a value nor a sample filled them)."""
    if isinstance(value, str):
        return sorted({m.group(1) for m in _PLACEHOLDER.finditer(value)})
    if isinstance(value, list):
        return sorted({n for v in value for n in unfilled(v)})
    if isinstance(value, dict):
        return sorted({n for v in value.values() for n in unfilled(v)})
    return []


def fill(value: Any, variables: Mapping[str, str]) -> Any:
    """``value`` (a string, or lists and dicts of them) with every known placeholder replaced.

    A placeholder with neither a value nor a sample stays as written, as Twilio has nothing to
    put there either.
    """
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, variables) for k, v in value.items()}
    return value


def variables_for(definition: Mapping[str, Any], given: Mapping[str, str] | None) -> dict[str, str]:
    """The template's sample values, overridden by the variables given at send time."""
    samples = definition.get("variables") or {}
    return {str(k): str(v) for k, v in samples.items()} | dict(given or {})


def render_content(
    definition: Mapping[str, Any], given: Mapping[str, str] | None
) -> dict[str, Any]:
    """The template as sent: every field filled, the samples' own field dropped."""
    body = {k: v for k, v in definition.items() if k != "variables"}
    return fill(body, variables_for(definition, given))
