"""The simulator makes its WhatsApp templates as production does: the real sync, in-process.

Why not register contents by hand: the simulator then shows exactly the templates
`boutik twilio templates sync` would create at Twilio, and `boutik meta templates sync` at
Meta, made by the same code through the same SDK or HTTP calls. At start-up the server is not
listening yet, so those requests go to the emulators (Twilio's Content API, Meta's Graph API)
through a Flask test client (a WSGI call, no socket) instead of HTTP: on an app of its own over
the same store, because a Flask app that served a request accepts no more blueprints, and the
server's is still being assembled.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from sqlalchemy.exc import SQLAlchemyError
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from channels_adapters.senders import MetaSender
from channels_adapters.senders.result import SendError

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


class WsgiAdapter(BaseAdapter):
    """A `requests` transport answered in-process by a Flask app (the Graph emulator)."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self._client = app.test_client()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        answer = self._client.open(
            parts.path,
            method=request.method or "GET",
            query_string=parts.query,
            headers=dict(request.headers),
            data=request.body,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(dict(answer.headers))
        response._content = answer.get_data()  # how requests' own adapter fills it
        response.encoding = answer.mimetype_params.get("charset", "utf-8")
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        return None


class InProcessMetaSender(MetaSender):
    """The production MetaSender, its requests answered by `app` instead of the network."""

    def __init__(self, app: Flask, token: str, phone_number_id: str, **kwargs: Any) -> None:
        super().__init__(token, phone_number_id, **kwargs)
        root = str(kwargs["api_base_url"]).rstrip("/") + "/"
        self._session.mount(root, WsgiAdapter(app))  # requests picks the longest prefix


def sync_meta_templates(store: EmulatorStore, rt: Runtime) -> int:
    """Run the production Meta sync against the Graph emulator on `store`; how many made.

    The emulator leaves each new template PENDING, as Meta does until its review: outside the
    24 h window buyers get SMS until someone approves them (`store.approve_all_meta_templates`).
    """
    from flask import Flask

    from channels_adapters.meta_template_sync import sync
    from devtools.emulators.meta_graph import make_meta_blueprint
    from devtools.simulator.setup import DEV_META_DISPLAY_NUMBER, EMU_META

    config = rt.config
    meta = config.meta
    app = Flask("boutik_simulator_meta_templates")
    app.register_blueprint(
        make_meta_blueprint(
            store,
            token=config.secrets.meta_whatsapp_token,
            phone_number_id=meta.phone_number_id,
            waba_id=meta.waba_id,
            display_number=DEV_META_DISPLAY_NUMBER,
        ),
        url_prefix=EMU_META,
    )
    sender = InProcessMetaSender(
        app,
        config.secrets.meta_whatsapp_token,
        meta.phone_number_id,
        api_base_url=meta.api_base_url,
        version=meta.graph_version,
        waba_id=meta.waba_id,
    )
    try:
        report = sync(sender, rt.session_factory)
    except SQLAlchemyError as exc:  # an unmigrated database: notices go by SMS
        log.warning("simulator: Meta templates not recorded (run `boutik db upgrade`): %s", exc)
        return 0
    except SendError as exc:
        log.warning("simulator: Meta templates not made: %s", exc.reason)
        return 0
    if report.refused:
        log.warning("simulator: the Graph emulator refused %d template(s)", len(report.refused))
    return len(report.created)
