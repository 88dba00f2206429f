"""The free-text reason some decisions require (a refusal, a return, a report)."""

from __future__ import annotations

from commerce.errors import InvalidInput, ReasonRequired

MAX_REASON = 500


def reason_text(reason: str | None, *, required: bool = True, max_len: int = MAX_REASON) -> str:
    """The trimmed reason; ReasonRequired when it is needed and empty, InvalidInput if too long."""
    text = (reason or "").strip()
    if required and not text:
        raise ReasonRequired("a reason is required")
    if len(text) > max_len:
        raise InvalidInput("reason too long", max=max_len)
    return text
