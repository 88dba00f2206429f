"""The Runtime as the web edge sees it: what a route may use, as a Protocol.

Why a Protocol: `boutik.runtime.Runtime` wires every layer together, so it sits above them all;
a route is handed one (`create_app(config, runtime=…)`) and needs only its shape. The two things
a turn asks of the job side after its commit (hand the outbox rows and events over; record a
provider's delivery status) are methods here, so the web edge imports nothing of `workers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from bot.engine import Engine as BotEngine
    from commerce.messaging.events import Event
    from settings.config import Config


class Dispatch(Protocol):
    def dispatch(self, ids: list[int]) -> None: ...


class WebRuntime(Protocol):
    config: Config

    @property
    def engine(self) -> Engine: ...

    @property
    def session_factory(self) -> sessionmaker[Session]: ...

    @property
    def bot_engine(self) -> BotEngine: ...

    @property
    def dispatcher(self) -> Dispatch: ...

    def after_commit(self, ids: list[int], events: list[Event]) -> None:
        """Send the outbox rows and start the events' jobs of a committed transaction."""
        ...

    def record_status(
        self, provider_id: str, state: str, error_code: str = "", reason: str = ""
    ) -> bool:
        """A provider's delivery status for one sent message (False: unknown message).

        ``reason``: the provider's words for a failure (Meta's error title), kept on the row."""
        ...
