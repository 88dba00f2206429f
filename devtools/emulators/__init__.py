"""Local emulators of the Twilio Messages and Content APIs, the Telegram Bot API and Meta's
Graph API (WhatsApp Cloud API), for tests and the browser simulator. Production never mounts
them.

Why a real HTTP server rather than mocks: the official SDKs (``twilio``, ``python-telegram-bot``)
then run unmodified — URL building, auth, encoding, error parsing — so what passes here fails
only where the real providers would behave differently, not because a mock was too kind.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler, make_server

from devtools.contracts import RawRequest, RawResponse
from devtools.emulators.meta_graph import make_meta_blueprint
from devtools.emulators.store import EmulatorStore
from devtools.emulators.telegram_api import make_telegram_blueprint
from devtools.emulators.twilio_api import make_twilio_blueprint, sms_segments
from devtools.emulators.twilio_content import make_content_blueprint
from devtools.emulators.twilio_numbers import make_twilio_numbers_blueprint
from devtools.testkit.meta_webhooks import (
    META_APP_SECRET,
    META_DISPLAY_NUMBER,
    META_PHONE_NUMBER_ID,
    META_TOKEN,
    META_WABA_ID,
)

_TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+")

__all__ = ["EmulatorStore", "create_emulator_app", "serve_in_thread", "sms_segments"]


def create_emulator_app(
    store: EmulatorStore,
    *,
    twilio_account_sid: str,
    twilio_auth_token: str,
    telegram_token: str,
    meta_token: str = META_TOKEN,
    meta_app_secret: str = META_APP_SECRET,
    meta_phone_number_id: str = META_PHONE_NUMBER_ID,
    meta_waba_id: str = META_WABA_ID,
    meta_display_number: str = META_DISPLAY_NUMBER,
) -> Flask:
    """All emulators in one app: Twilio (Messages and Content APIs) at its own root paths,
    Telegram under ``/telegram``, Meta's Graph API under ``/meta``.

    So for a server at ``root``: TwilioSender(api_base_url=root),
    TelegramSender(api_base_url=f"{root}/telegram/bot") whose files live at
    f"{root}/telegram/file/bot", and a Meta sender with api_base_url=f"{root}/meta" (it calls
    f"{root}/meta/v23.0/{phone_number_id}/messages"). Meta's status webhooks are signed with
    ``meta_app_secret`` and posted to ``store.meta_webhook_url``.
    """
    app = Flask("boutik_emulators")
    app.config["MAX_CONTENT_LENGTH"] = 60 * 1024 * 1024  # Telegram accepts 50 MB uploads
    app.extensions["emulator_store"] = store

    @app.before_request
    def record_raw() -> None:
        """Keep the request as received, for the contract tests (`devtools.contracts`)."""
        store.record_raw_request(
            RawRequest(
                method=request.method,
                path=request.path,
                form={k: request.form.getlist(k) for k in request.form},
                query={k: request.args.getlist(k) for k in request.args},
                json_body=request.get_json(silent=True) if request.is_json else None,
                files=tuple(request.files),
            )
        )

    @app.after_request
    def record_answer(response: Response) -> Response:
        """Keep the answer as sent, so an emulator inventing a field fails a contract test.

        The Messages blueprint records its own (it is also mounted by the simulator).
        """
        if request.blueprint == "twilio_emulator":
            return response
        store.record_raw_response(
            RawResponse(
                method=request.method,
                path=request.path,
                status=response.status_code,
                json_body=response.get_json(silent=True) if response.is_json else None,
            )
        )
        return response

    app.register_blueprint(
        make_twilio_blueprint(store, account_sid=twilio_account_sid, auth_token=twilio_auth_token)
    )
    app.register_blueprint(
        make_twilio_numbers_blueprint(
            store, account_sid=twilio_account_sid, auth_token=twilio_auth_token
        )
    )
    app.register_blueprint(
        make_content_blueprint(store, account_sid=twilio_account_sid, auth_token=twilio_auth_token)
    )
    app.register_blueprint(
        make_telegram_blueprint(store, token=telegram_token), url_prefix="/telegram"
    )
    store.configure_meta(
        app_secret=meta_app_secret,
        phone_number_id=meta_phone_number_id,
        waba_id=meta_waba_id,
        display_number=meta_display_number,
    )
    app.register_blueprint(
        make_meta_blueprint(
            store,
            token=meta_token,
            phone_number_id=meta_phone_number_id,
            waba_id=meta_waba_id,
            display_number=meta_display_number,
        ),
        url_prefix="/meta",
    )
    return app


class _QuietHandler(WSGIRequestHandler):
    """No access log: Bot API paths carry the bot token, which must never reach a log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            text = _TOKEN_IN_PATH.sub("/bot***", message % args if args else message)
            logging.getLogger("boutik.emulators").error("%s", text)


def serve_in_thread(app: Flask) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on 127.0.0.1 on a free port in a daemon thread.

    Returns ``(base_url, shutdown)``; ``shutdown()`` stops the server and waits for the thread.
    Threaded, because a sender and a status-callback receiver may talk to it at the same time.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="emulator-http", daemon=True)
    thread.start()

    def shutdown() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}", shutdown
