"""Wiring the simulator into one process: configuration, emulators, blueprint, status pump.

Why everything in the one `boutik serve` app: a newcomer runs `make run` and nothing else — no
second process, no account, no internet. The provider emulators are mounted under `/emu/…` of
the same server, the SDK senders are pointed at them through the ordinary `api_base_url` keys,
and the webhooks stay the production routes with the production signature checks: the
simulator is only one more client of them, holding the same secrets a provider would hold.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from devtools.testkit.meta_webhooks import (
    META_DISPLAY_NUMBER,
    META_PHONE_NUMBER_ID,
    META_WABA_ID,
)
from settings.config import Config, ConfigError, Secrets

if TYPE_CHECKING:
    from flask import Flask

    from workers.ports import Runtime

log = logging.getLogger(__name__)

EMU_TWILIO = "/emu/twilio"
EMU_TELEGRAM = "/emu/telegram"
EMU_META = "/emu/meta"
META_WEBHOOK_PATH = "/webhooks/meta/whatsapp"
# The business number the Graph emulator stands for when `[meta]` names none: ids, not secrets.
DEV_META_PHONE_NUMBER_ID = META_PHONE_NUMBER_ID
DEV_META_WABA_ID = META_WABA_ID
DEV_META_DISPLAY_NUMBER = META_DISPLAY_NUMBER


def dev_secrets(environ: Mapping[str, str]) -> Secrets:
    """The environment's provider secrets, and random per-process values for the unset ones.

    Why random and never written anywhere: the simulator signs what the page sends with these
    values and the real webhooks validate with them, so they only need to agree inside this
    process. A fixed development token in the repository would sooner or later be tried
    against a production deployment that forgot to set its own.
    """
    sid = environ.get("TWILIO_ACCOUNT_SID") or "AC" + secrets.token_hex(16)
    token = environ.get("TWILIO_AUTH_TOKEN") or secrets.token_hex(16)
    bot_token = environ.get("TELEGRAM_BOT_TOKEN") or (
        f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"
    )
    webhook_secret = environ.get("TELEGRAM_WEBHOOK_SECRET") or secrets.token_urlsafe(32)
    return Secrets(
        twilio_account_sid=sid,
        twilio_auth_token=token,
        telegram_bot_token=bot_token,
        telegram_webhook_secret=webhook_secret,
        meta_whatsapp_token=environ.get("META_WHATSAPP_TOKEN")
        or "EAAG" + secrets.token_urlsafe(48),
        meta_app_secret=environ.get("META_APP_SECRET") or secrets.token_hex(16),
        meta_verify_token=environ.get("META_VERIFY_TOKEN") or secrets.token_urlsafe(24),
        openai_api_key=environ.get("OPENAI_API_KEY", ""),
        secret_key=environ.get("BOUTIK_SECRET_KEY", ""),  # else the machine's (signing_key)
    )


def prepare_config(config: Config, *, port: int, environ: Mapping[str, str]) -> Config:
    """The configuration `serve --simulator` runs with.

    The server calls itself at http://127.0.0.1:<port> (whatever interface it listens on):
    the senders reach the emulators there, Twilio status callbacks and media links point
    there, and Twilio signatures are computed over it. Meta's Cloud API is wired too, whichever
    provider `[whatsapp] provider` names: the page switches between the two at run time, and
    starts on the configured one.
    """
    base = f"http://127.0.0.1:{port}"
    return config.replace(
        simulator__enabled=True,
        web__public_base_url=base,
        web__trust_forwarded=False,
        # Jobs run in this process, where the emulators and the simulated clock are: a
        # separate `boutik worker` would know neither.
        queue__redis_url="",
        twilio__api_base_url=base + EMU_TWILIO,
        telegram__api_base_url=base + EMU_TELEGRAM,
        meta__api_base_url=base + EMU_META,
        meta__phone_number_id=config.meta.phone_number_id or DEV_META_PHONE_NUMBER_ID,
        meta__waba_id=config.meta.waba_id or DEV_META_WABA_ID,
        secrets=dev_secrets(environ),
    )


def _check_wired(config: Config) -> None:
    base = config.web.public_base_url.rstrip("/")
    if (
        config.twilio.api_base_url != base + EMU_TWILIO
        or not config.telegram.api_base_url.startswith(base + EMU_TELEGRAM)
        or config.meta.api_base_url != base + EMU_META
        or not config.meta.phone_number_id
        or not config.meta.waba_id
    ):
        raise ConfigError(
            "simulator.enabled: the senders must point at the in-app emulators; "
            "start it with `boutik serve --simulator`"
        )
    missing = [
        name
        for name in (
            "twilio_account_sid",
            "twilio_auth_token",
            "telegram_bot_token",
            "meta_whatsapp_token",
            "meta_app_secret",
            "meta_verify_token",
        )
        if not getattr(config.secrets, name)
    ]
    if missing or not config.secrets.telegram_webhook_secret:
        raise ConfigError("simulator.enabled: provider secrets missing (use prepare_config)")


def install(app: Flask, rt: Runtime) -> None:
    """Mount the emulators and the simulator on `app`, and start the delivery-tick pump."""
    from devtools.emulators.meta_graph import make_meta_blueprint
    from devtools.emulators.store import EmulatorStore
    from devtools.emulators.telegram_api import make_telegram_blueprint
    from devtools.emulators.twilio_api import make_twilio_blueprint
    from devtools.emulators.twilio_content import make_content_blueprint
    from devtools.simulator.pump import StatusPump
    from devtools.simulator.routes import Simulator, make_blueprint
    from devtools.simulator.templates import sync_meta_templates, sync_templates
    from devtools.simulator.timers import ClockAwareDispatcher

    config = rt.config
    _check_wired(config)
    if rt.uses_redis:
        raise ConfigError("simulator.enabled: jobs must run in-process ([queue] redis_url empty)")
    rt.dispatcher = ClockAwareDispatcher(rt.dispatcher)  # delayed jobs follow clock jumps
    store = EmulatorStore()
    s = config.secrets
    app.register_blueprint(
        make_twilio_blueprint(
            store, account_sid=s.twilio_account_sid, auth_token=s.twilio_auth_token
        ),
        url_prefix=EMU_TWILIO,
    )
    app.register_blueprint(
        make_content_blueprint(
            store, account_sid=s.twilio_account_sid, auth_token=s.twilio_auth_token
        ),
        url_prefix=EMU_TWILIO,
    )
    # The templates `boutik twilio templates sync` would make, made by it: menus of every
    # shape, and the buyer notices, left pending as Meta leaves them at first.
    sync_templates(store, rt)
    app.register_blueprint(
        make_telegram_blueprint(store, token=s.telegram_bot_token), url_prefix=EMU_TELEGRAM
    )
    # Meta's Graph API for the same business number the webhook expects; its signed status
    # webhooks go to our own production route, as Meta posts them to the subscribed URL.
    meta = config.meta
    store.configure_meta(
        app_secret=s.meta_app_secret,
        phone_number_id=meta.phone_number_id,
        waba_id=meta.waba_id,
        display_number=DEV_META_DISPLAY_NUMBER,
    )
    app.register_blueprint(
        make_meta_blueprint(
            store,
            token=s.meta_whatsapp_token,
            phone_number_id=meta.phone_number_id,
            waba_id=meta.waba_id,
            display_number=DEV_META_DISPLAY_NUMBER,
        ),
        url_prefix=EMU_META,
    )
    store.set_meta_webhook(config.web.public_base_url.rstrip("/") + META_WEBHOOK_PATH)
    # The notice templates `boutik meta templates sync` would make, made by it: pending at
    # first, as Meta leaves them until its review.
    sync_meta_templates(store, rt)
    # Telegram accepts 10 MB photos from the bot; the provider webhooks stay small anyway.
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    sim = Simulator(app=app, rt=rt, store=store)
    sim.pump = StatusPump(sim)
    app.extensions["simulator"] = sim
    app.register_blueprint(make_blueprint(sim), url_prefix="/simulator")
    sim.pump.start()
    # The SDK logs every request it makes at INFO: here they all go to this same server.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    log.warning(
        "simulator mode: provider emulators mounted at %s, %s and %s; WhatsApp through %s; "
        "nothing leaves this machine",
        EMU_TWILIO,
        EMU_TELEGRAM,
        EMU_META,
        config.whatsapp.provider,
    )


def simulator_of(app: Flask) -> Any:
    """The app's Simulator (tests read its store and journal)."""
    return app.extensions["simulator"]
