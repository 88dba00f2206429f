"""What every sender answers: a SendResult, or a SendError that says whether retrying helps.

Why one contract: workers are synchronous and must decide retry-or-not the same way for every
provider, instead of learning each SDK's exception tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SendResult:
    """What the provider answered: its id of the message and, for SMS, the billed segments.

    For Telegram, ``provider_id`` is the ``message_id`` as a string (unique per chat only).
    """

    provider_id: str
    segments: int = 1


class SendError(Exception):
    """A send (or fetch) the provider refused or that never got an answer.

    ``retryable`` is the one thing a worker must look at: True for throttling (429, Twilio
    20429/63018, Telegram RetryAfter), provider 5xx, timeouts and connection errors — retry
    after ``retry_after`` seconds when given, else with backoff; False for everything the same
    request would hit again (bad number, opted out, outside the 24 h window, blocked, too
    long…) — never retry those. The flags let callers update the recipient's state.
    ``code`` is the provider's error code as a string ("21610", "400", "429"…) or one of
    "timeout", "network", "http" for transport failures.
    """

    def __init__(
        self,
        retryable: bool,
        code: str,
        reason: str,
        retry_after: float | None = None,
        opted_out: bool = False,
        blocked: bool = False,
        outside_window: bool = False,
    ) -> None:
        super().__init__(f"[{code}] {reason}")
        self.retryable = retryable
        self.code = code
        self.reason = reason
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.blocked = blocked
        self.outside_window = outside_window

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep every field through pickling (job queues store exceptions)."""
        return (
            SendError,
            (
                self.retryable,
                self.code,
                self.reason,
                self.retry_after,
                self.opted_out,
                self.blocked,
                self.outside_window,
            ),
        )

    def __repr__(self) -> str:
        return (
            f"SendError(retryable={self.retryable}, code={self.code!r}, reason={self.reason!r}, "
            f"retry_after={self.retry_after!r}, opted_out={self.opted_out}, "
            f"blocked={self.blocked}, outside_window={self.outside_window})"
        )


def is_retryable(
    status: int, code: int | None, *, terminal: frozenset[int], transient: frozenset[int]
) -> bool:
    """The one retry rule every provider's error follows: a code the same request would hit
    again never retries; otherwise throttling (429), a provider 5xx or a code the provider
    documents as temporary does."""
    if code in terminal:
        return False
    return status == 429 or status >= 500 or code in transient
