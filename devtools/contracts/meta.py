"""Meta's Graph API (WhatsApp Cloud API v23.0): does a request, an answer or a webhook fit?

First version: only the calls are recognised; the facts-based checks follow.
"""

from __future__ import annotations

import re
from typing import Any

from devtools.contracts.common import RawRequest, RawResponse

_CALLS = (
    ("POST", re.compile(r"^/meta/v[0-9]+\.[0-9]+/[0-9]+/messages$")),
    ("GET", re.compile(r"^/meta/v[0-9]+\.[0-9]+/[0-9]+$")),
    ("GET", re.compile(r"^/meta/whatsapp_business/attachments/$")),
    ("POST", re.compile(r"^/meta/v[0-9]+\.[0-9]+/[0-9]+/message_templates$")),
    ("GET", re.compile(r"^/meta/v[0-9]+\.[0-9]+/[0-9]+/message_templates$")),
)


def is_meta(path: str) -> bool:
    return path.startswith("/meta/")


def meta_violations(request: RawRequest) -> list[str]:
    if any(m == request.method and p.match(request.path) for m, p in _CALLS):
        return []
    return [f"{request.method} {request.path}: no such call in the facts"]


def meta_response_violations(response: RawResponse) -> list[str]:
    return []


def meta_webhook_violations(payload: dict[str, Any]) -> list[str]:
    return []
