"""The Runtime as the workers and the web edge see it: a Protocol, not the class.

Why: `boutik.runtime.Runtime` wires every layer together (settings, database, dispatcher,
senders, the bot engine), so it sits above them all. The jobs and the routes need only its
shape, passed to them explicitly, never its import: with this Protocol (and the web edge's,
`channels_adapters.ports.WebRuntime`, which it extends) no module below `boutik` imports
`boutik`, and the top-level packages have no import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from channels_adapters.ports import WebRuntime

if TYPE_CHECKING:
    from channels_adapters.senders import MetaSender, TelegramSender, TwilioSender
    from workers.dispatch import Dispatcher
    from workers.rate_limit import RateLimiter


class Runtime(WebRuntime, Protocol):
    """The web edge's runtime, plus what jobs use: queues, rate limits, senders."""

    @property
    def uses_redis(self) -> bool: ...

    @property
    def dispatcher(self) -> Dispatcher: ...

    @property
    def limiter(self) -> RateLimiter: ...

    @property
    def twilio_sender(self) -> TwilioSender: ...

    @property
    def meta_sender(self) -> MetaSender: ...

    @property
    def telegram_sender(self) -> TelegramSender: ...

    def dispose(self) -> None: ...
