"""The simulator makes its WhatsApp templates as production does: the real sync, in-process.

Why not register contents by hand: the simulator then shows exactly the templates
`boutik twilio templates sync` would create at Twilio, made by the same code through the same
SDK calls. At start-up the server is not listening yet, so the SDK's requests go to the
emulator's Content API through a Flask test client (a WSGI call, no socket) instead of HTTP:
on an app of its own over the same store, because a Flask app that served a request accepts
no more blueprints, and the server's is still being assembled.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

if TYPE_CHECKING:
    from flask import Flask

    from devtools.emulators.store import EmulatorStore
    from workers.ports import Runtime

log = logging.getLogger(__name__)


class WsgiHttpClient(HttpClient):
    """The twilio SDK's HTTP interface, answered in-process by a Flask app (the emulator)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(logger=log, is_async=False, timeout=None)
        self._client = app.test_client()

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        parts = urlsplit(uri)
        sent = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            sent["Authorization"] = f"Basic {token}"
        kwargs: dict[str, Any] = {"headers": sent, "query_string": params or parts.query}
        if sent.get("Content-Type") == "application/json":
            kwargs["json"] = data
        elif data:
            kwargs["data"] = data
        answer = self._client.open(parts.path, method=method, **kwargs)
        return Response(answer.status_code, answer.get_data(as_text=True), answer.headers)


def sync_templates(store: EmulatorStore, rt: Runtime) -> int:
    """Run the production sync against the emulator's Content API on `store`; how many made."""
    from flask import Flask

    from channels_adapters.twilio_template_sync import sync
    from devtools.emulators.twilio_content import make_content_blueprint

    s = rt.config.secrets
    app = Flask("boutik_simulator_templates")
    app.register_blueprint(
        make_content_blueprint(
            store, account_sid=s.twilio_account_sid, auth_token=s.twilio_auth_token
        )
    )
    client = Client(s.twilio_account_sid, s.twilio_auth_token, http_client=WsgiHttpClient(app))
    try:
        report = sync(client, rt.session_factory)
    except SQLAlchemyError as exc:  # an unmigrated database: menus go as numbered text
        log.warning("simulator: templates not recorded (run `boutik db upgrade`): %s", exc)
        return 0
    return len(report.created)
