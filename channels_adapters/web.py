"""The Flask application factory: the one HTTP entry point of Boutik.

Routes stay thin (authenticate, record, translate, hand over); the provider blueprints are
registered here as they are built.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError

from channels_adapters.payloads import MalformedPayload
from channels_adapters.ports import WebRuntime
from settings.config import Config

log = logging.getLogger(__name__)


def create_app(config: Config, *, runtime: WebRuntime) -> Flask:
    """The production app for `runtime` (built by the caller: `boutik.app.build_app`, tests)."""
    app = Flask("boutik")
    rt = runtime
    app.extensions["boutik"] = rt
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # provider payloads are small

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness plus a database round trip: a web node that cannot reach its DB is down."""
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return jsonify(status="error", database=type(exc).__name__), 503
        return jsonify(status="ok", database=rt.engine.dialect.name)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(exc: Exception) -> Any:
        """The database is unreachable: 503, so Twilio and Telegram deliver again later.

        Never a 200 for a turn that was not committed: the provider's retry is what keeps the
        message from being lost.
        """
        log.warning("database unavailable: %s", type(exc).__name__)
        return jsonify(status="unavailable"), 503

    @app.errorhandler(MalformedPayload)
    def malformed(exc: MalformedPayload) -> Any:
        """Authenticated, but no provider would send it: 400, and nothing was stored.

        Not a 5xx: Twilio and Telegram deliver a 5xx again and again, and this payload would
        fail the same way every time. The reason names the field, never its content.
        """
        log.warning("malformed payload refused: %s", exc.reason)
        return jsonify(status="malformed", reason=exc.reason), 400

    from channels_adapters import media, meta_inbound, qr_page, telegram_inbound, twilio_inbound

    app.register_blueprint(twilio_inbound.bp)
    app.register_blueprint(meta_inbound.bp)  # GET and POST /webhooks/meta/whatsapp
    app.register_blueprint(telegram_inbound.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(qr_page.bp)  # GET /q/<token>: the buyer's QR, scanned by the courier
    return app


def runtime_of(app: Flask) -> WebRuntime:
    return app.extensions["boutik"]
