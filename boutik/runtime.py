"""The process's wiring: config → rules, engine, session factory, job dispatcher.

Built once per process (web server, worker, CLI command) and passed explicitly; nothing reads a
global "current app" (rq: "global variables are evil").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from commerce import rules
from commerce.db import make_engine, make_session_factory
from commerce.messaging.events import Event
from settings import log_redaction
from settings.config import PROJECT_ROOT, Config


def rules_from_config(config: Config) -> rules.Rules:
    return rules.Rules(
        rate_per_km=config.delivery.rate_per_km,
        minimum_commission=config.delivery.minimum,
        code_validity_days=config.delivery.code_validity_days,
        pin_max_attempts=config.delivery.pin_max_attempts,
        courier_pin_max_failures=config.delivery.courier_pin_max_failures,
        courier_pin_window_s=config.delivery.courier_pin_window_s,
        max_active_jobs=config.delivery.max_active_jobs,
        return_window_days=config.returns.window_days,
        gnf_per_point=config.loyalty.gnf_per_point,
        gnf_per_point_spent=config.loyalty.gnf_per_point_spent,
        max_share_of_order_pct=config.loyalty.max_share_of_order_pct,
        min_points_to_spend=config.loyalty.min_points_to_spend,
        reports_to_deactivate=config.moderation.reports_to_deactivate,
        max_cash_held_gnf=config.ledger.max_cash_held_gnf,
        max_cash_age_hours=config.ledger.max_cash_age_hours,
    )


@dataclass
class Runtime:
    config: Config

    def __post_init__(self) -> None:
        log_redaction.add_config_secrets(self.config.secrets)

    @property
    def database_url(self) -> str:
        """The configured URL, a relative SQLite path taken from the project root."""
        url = self.config.database.url
        prefix = "sqlite:///"
        if (
            url.startswith(prefix)
            and not url.startswith(prefix + "/")
            and url != prefix + ":memory:"
        ):
            return prefix + str(PROJECT_ROOT / url.removeprefix(prefix))
        return url

    @cached_property
    def engine(self) -> Engine:
        return make_engine(
            self.database_url,
            sqlite_busy_timeout_ms=self.config.database.sqlite_busy_timeout_ms,
        )

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine, rules=rules_from_config(self.config))

    @property
    def uses_redis(self) -> bool:
        return bool(self.config.queue.redis_url)

    @cached_property
    def bot_engine(self):  # type: ignore[no-untyped-def]
        from bot.engine import Engine
        from bot.router import flow_named, pick_flow
        from bot.support.agent import model_configured

        return Engine(
            pick_flow,
            public_base_url=self.config.web.public_base_url,
            media_dir=self.config.media_dir,
            admin_telegram_ids=self.config.telegram.admin_ids,
            flow_named=flow_named,
            assistant_model=model_configured(self.config),
        )

    @cached_property
    def dispatcher(self):  # type: ignore[no-untyped-def]
        from workers.dispatch import InProcessDispatcher, RQDispatcher

        if self.uses_redis:
            return RQDispatcher(self.config.queue.redis_url)
        return InProcessDispatcher(self)

    @cached_property
    def limiter(self):  # type: ignore[no-untyped-def]
        from workers.rate_limit import MemoryRateLimiter, RedisRateLimiter

        if self.uses_redis:
            from redis import Redis

            return RedisRateLimiter(Redis.from_url(self.config.queue.redis_url))
        return MemoryRateLimiter()

    @cached_property
    def twilio_sender(self):  # type: ignore[no-untyped-def]
        from channels_adapters.senders import TwilioSender

        s = self.config.secrets
        return TwilioSender(
            s.twilio_account_sid, s.twilio_auth_token, self.config.twilio.api_base_url
        )

    @cached_property
    def meta_sender(self):  # type: ignore[no-untyped-def]
        from channels_adapters.senders import MetaSender

        meta = self.config.meta
        return MetaSender(
            self.config.secrets.meta_whatsapp_token,
            meta.phone_number_id,
            api_base_url=meta.api_base_url,
            version=meta.graph_version,
            waba_id=meta.waba_id,
        )

    @cached_property
    def telegram_sender(self):  # type: ignore[no-untyped-def]
        from channels_adapters.senders import TelegramSender

        return TelegramSender(
            self.config.secrets.telegram_bot_token, self.config.telegram.api_base_url
        )

    def after_commit(self, ids: list[int], events: list[Event]) -> None:
        """What every edge does after its commit: send the rows, start the events' jobs."""
        from workers.events import start

        self.dispatcher.dispatch(ids)
        start(self, events)

    def record_status(
        self, provider_id: str, state: str, error_code: str = "", reason: str = ""
    ) -> bool:
        from workers.outbox import record_status

        return record_status(self, provider_id, state, error_code, reason)

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def configure_logging(level: int = logging.INFO) -> None:
    """Every process's logging, first thing: redacted records (no phone number, secret or live
    link in any line, whoever logs it), then the root handler."""
    log_redaction.install()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
