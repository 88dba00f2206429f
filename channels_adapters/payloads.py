"""Authenticated but malformed webhook payloads: refused with a 400, never a 500.

Why at the edge: a signature or secret token proves who sent a request, not that its content
is sane — a bug at the provider, a replayed test payload or a leaked secret can deliver JSON
nested 50 000 deep or a NUL byte in a MessageSid. PostgreSQL refuses NUL in text (and in
jsonb), psycopg cannot encode a lone surrogate, Python's JSON parser recurses once per level:
each surfaced as a 500, and providers redeliver a 5xx again and again. So every field a route
reads is checked before anything is stored:

- free text a person typed (a Body, a name, a caption) loses its NUL characters (and lone
  surrogates) and carries on — the user meant the rest;
- anything used as an identifier, a number or a URL must be printable and of a sane length,
  else the whole request is a 400 and nothing is recorded;
- JSON must be valid UTF-8, nested at most MAX_JSON_DEPTH deep, and an object.

Fields a route never reads are not looked at: providers add parameters without notice.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

MAX_JSON_DEPTH = 64  # real Telegram updates nest ~10 deep
_JSON_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


class MalformedPayload(ValueError):
    """An authenticated request no provider would send; ``reason`` names the field only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_json_object(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """``raw`` as a JSON object, or MalformedPayload (bad UTF-8, bad JSON, too deep, not a dict).

    The depth is measured on the bytes before parsing (strings skipped), so nesting never
    reaches the recursive parser.
    """
    depth = 0
    for token in _JSON_NESTING.finditer(raw):
        first = token.group()[0]
        if first in _OPEN:
            depth += 1
            if depth > max_depth:
                raise MalformedPayload(f"JSON nested deeper than {max_depth}")
        elif first in _CLOSE:
            depth -= 1
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedPayload("body is not UTF-8") from None
    except (ValueError, RecursionError):  # RecursionError: a guard behind the guard
        raise MalformedPayload("body is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedPayload("JSON body is not an object")
    return value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, lone surrogates (JSON "\\ud800")


def text(value: Any, field: str) -> str:
    """Free text a person typed, without what PostgreSQL and psycopg cannot store."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"{field} is not a string")
    return _UNSTORABLE.sub("", value)


def token(value: Any, field: str, *, max_len: int, ascii_only: bool = False) -> str:
    """An identifier, number or URL: printable, at most ``max_len`` characters, else refused.

    ``None`` (absent) is "". Printable means no control character (Unicode category C*: NUL,
    DEL, C1 controls, surrogates, unassigned…); ``ascii_only`` narrows it to ! … ~ and space.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"{field} is not a string")
    if len(value) > max_len:
        raise MalformedPayload(f"{field} is longer than {max_len}")
    if ascii_only:
        if any(not (" " <= c <= "~") for c in value):
            raise MalformedPayload(f"{field} is not printable ASCII")
    elif any(unicodedata.category(c)[0] == "C" for c in value):
        raise MalformedPayload(f"{field} has a control character")
    return value
