"""Telegram (Bot API): do a method call, its answer and an Update fit the description's facts?

Three checks, one walker (`devtools.contracts.telegram_types`):
- `telegram_violations(request)`: a call our code made (parameters, types, limits);
- `telegram_response_violations(response)`: the emulator's answer — Telegram's envelope
  (`ok`, `result` | `error_code` + `description` [+ `parameters`]) and a `result` of the
  method's documented return type (`telegram_result_violations`);
- `telegram_update_violations(update)`: an Update our test builders or the simulator post to
  our webhook in Telegram's place.
An emulator that invents a field or leaves out a required one fails here, not in production.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from devtools.contracts.common import RawRequest, RawResponse, facts
from devtools.contracts.telegram_types import (
    fields_violations,
    object_violations,
    value_violations,
)

_BOT_METHOD = re.compile(r"/bot[^/]+/([A-Za-z]+)$")
# "Making requests" in the Bot API docs: the envelope every answer comes in.
_OK_KEYS = frozenset({"ok", "result", "description"})
_ERROR_KEYS = frozenset({"ok", "error_code", "description", "parameters"})


def telegram_method(path: str) -> str | None:
    m = _BOT_METHOD.search(path)
    return m[1] if m else None


@cache
def _method_names() -> dict[str, str]:
    """Bot API method names are case-insensitive: "sendmessage" is sendMessage."""
    return {name.lower(): name for name in facts()["telegram"]["methods"]}


def _known(method: str) -> str | None:
    return _method_names().get(method.lower())


def telegram_violations(request: RawRequest) -> list[str]:
    """Why this Bot API call is not one the Telegram description allows ([] when it fits)."""
    method = telegram_method(request.path)
    if method is None:
        return []  # a file download (/file/bot…/path), not a method call
    name = _known(method)
    if name is None:
        return [f"{method}: not a method the facts know (add it to the derive script)"]
    given: dict[str, Any] = {k: v[0] for k, v in {**request.query, **request.form}.items()}
    textual = set(given)  # form and query values are text: "42" is an Integer there
    if isinstance(request.json_body, dict):
        given.update(request.json_body)
        textual -= set(request.json_body)
    for part in request.files:
        given.setdefault(part, "<file>")
    return [str(v) for v in fields_violations(name, name, given, textual=textual)]


def telegram_result_violations(method: str, result: Any) -> list[str]:
    """Why `result` is not what `method` returns according to the description."""
    name = _known(method)
    if name is None:
        return [f"{method}: not a method the facts know (add it to the derive script)"]
    returns = facts()["telegram"]["methods"][name]["returns"]
    return [str(v) for v in value_violations(f"{name} result", returns, result)]


def telegram_update_violations(update: Any) -> list[str]:
    """Why `update` is not an Update Telegram could send ([] when it is one)."""
    return [str(v) for v in object_violations("Update", "Update", update)]


def telegram_response_violations(response: RawResponse) -> list[str]:
    """Why the emulator's answer to a Bot API call is not one Telegram could give."""
    method = telegram_method(response.path)
    if method is None:
        return []  # a file download: bytes, not an envelope
    body = response.json_body
    where = f"{method} answer"
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        return [f"{where}: not a JSON object with a Boolean 'ok': {body!r:.80}"]
    found = [f"{where}: unknown field {k!r}" for k in body.keys() - _OK_KEYS - _ERROR_KEYS]
    if "description" in body and not isinstance(body["description"], str):
        found.append(f"{where}: description is not a String")
    if body["ok"]:
        found += [f"{where}: {k!r} in a successful answer" for k in body.keys() - _OK_KEYS]
        if "result" not in body:
            return [*found, f"{where}: ok without a result"]
        return found + telegram_result_violations(method, body["result"])
    found += [f"{where}: {k!r} in an error" for k in body.keys() - _ERROR_KEYS]
    code = body.get("error_code")
    if not isinstance(code, int) or code != response.status:
        found.append(f"{where}: error_code {code!r} is not the HTTP status {response.status}")
    if not isinstance(body.get("description"), str):
        found.append(f"{where}: an error without a description")
    if "parameters" in body:
        found += [
            str(v) for v in object_violations(where, "ResponseParameters", body["parameters"])
        ]
    return found
