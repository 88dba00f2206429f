"""The Twilio credentials and the bot token reach the provider's host and nobody else.

Why real servers: the defect was in what requests and urllib3 actually connect to, which only
a socket shows. Each server records every request it gets with its Authorization header; the
tests then assert who saw the credentials. One is a TLS server posing as the host hidden in
``https://127.0.0.1:PORT\\@api.twilio.com/…``, reached by a sender in production mode (no base
URL), exactly as the outside security test did.
"""

from __future__ import annotations

import base64
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, Response, request
from werkzeug.serving import make_server

from channels_adapters.senders import MEDIA_MAX_REDIRECTS, SendError, TelegramSender, TwilioSender
from devtools.emulators import EmulatorStore, create_emulator_app, serve_in_thread
from tests.timing import WAIT_S

ACCOUNT_SID = "AC" + "2e" * 16
AUTH_TOKEN = "media-credentials-token"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
BOT_TOKEN = "987654321:MEDIA-token_xyz"
MEDIA_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{'a' * 32}/Media/ME{'b' * 32}"
JPEG = b"\xff\xd8\xff\xe0jpeg"


@dataclass
class Recorder:
    """A local HTTP server: answers per path (bytes or a redirect), remembers every request."""

    root: str = ""
    routes: dict[str, tuple[str, str | bytes]] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("recorder")

        @app.route("/", defaults={"path": ""})
        @app.route("/<path:path>")
        def any_path(path: str) -> Response:
            with self.lock:
                self.seen.append(
                    (request.full_path.rstrip("?"), request.headers.get("Authorization"))
                )
            kind, value = self.routes.get(request.path, ("status", b"404"))
            if kind == "redirect":
                return Response("", status=302, headers={"Location": str(value)})
            if kind == "bytes":
                return Response(value, status=200, content_type="image/jpeg")
            return Response("", status=int(value))

        return app

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.seen.clear()

    def authorizations(self) -> list[str | None]:
        with self.lock:
            return [auth for _path, auth in self.seen]


def _serve(recorder: Recorder) -> Iterator[Recorder]:
    recorder.root, shutdown = serve_in_thread(recorder.app())
    yield recorder
    shutdown()


@pytest.fixture(scope="module")
def api() -> Iterator[Recorder]:
    """Stands for the trusted host (the configured Twilio base URL)."""
    yield from _serve(Recorder())


@pytest.fixture(scope="module")
def cdn() -> Iterator[Recorder]:
    """Stands for Twilio's media CDN: an allowed redirect target, never given credentials."""
    yield from _serve(Recorder())


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[Recorder]:
    """Any other host: must never be reached at all."""
    yield from _serve(Recorder())


@pytest.fixture(autouse=True)
def _clean(api: Recorder, cdn: Recorder, elsewhere: Recorder) -> None:
    for recorder in (api, cdn, elsewhere):
        recorder.reset()


@pytest.fixture(scope="module")
def sender(api: Recorder, cdn: Recorder) -> TwilioSender:
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, api.root, media_redirect_urls=[cdn.root])


# --------------------------------------------------------------------------- redirects


def test_a_redirect_to_the_cdn_is_followed_without_the_credentials(
    sender: TwilioSender, api: Recorder, cdn: Recorder, elsewhere: Recorder
) -> None:
    api.routes[MEDIA_PATH] = ("redirect", f"{cdn.root}/media/ME1?Expires=1&Signature=s")
    cdn.routes["/media/ME1"] = ("bytes", JPEG)

    assert sender.fetch_media(f"{api.root}{MEDIA_PATH}") == (JPEG, "image/jpeg")

    assert api.authorizations() == [BASIC]
    assert cdn.seen == [("/media/ME1?Expires=1&Signature=s", None)]
    assert elsewhere.seen == []


def test_a_relative_redirect_stays_on_the_api_host_with_the_credentials(
    sender: TwilioSender, api: Recorder
) -> None:
    api.routes[MEDIA_PATH] = ("redirect", "/files/ME1")
    api.routes["/files/ME1"] = ("bytes", JPEG)

    assert sender.fetch_media(f"{api.root}{MEDIA_PATH}")[0] == JPEG
    assert api.authorizations() == [BASIC, BASIC]


@pytest.mark.parametrize(
    "location",
    [
        "{elsewhere}/steal",
        "//{elsewhere_netloc}/steal",
        "{cdn_scheme}://{elsewhere_netloc}\\@{cdn_netloc}/steal",
        "{cdn_scheme}://x@{elsewhere_netloc}/steal",
        "{cdn_scheme}://{cdn_netloc}@{elsewhere_netloc}/steal",
    ],
)
def test_a_redirect_anywhere_else_is_never_followed(
    sender: TwilioSender, api: Recorder, cdn: Recorder, elsewhere: Recorder, location: str
) -> None:
    api.routes[MEDIA_PATH] = (
        "redirect",
        location.format(
            elsewhere=elsewhere.root,
            elsewhere_netloc=elsewhere.root.removeprefix("http://"),
            cdn_scheme="http",
            cdn_netloc=cdn.root.removeprefix("http://"),
        ),
    )

    with pytest.raises(SendError) as refused:
        sender.fetch_media(f"{api.root}{MEDIA_PATH}")

    assert (refused.value.code, refused.value.retryable) == ("untrusted_url", False)
    assert api.authorizations() == [BASIC]
    assert elsewhere.seen == [] and cdn.seen == []


def test_the_cdn_cannot_bounce_the_download_elsewhere(
    sender: TwilioSender, api: Recorder, cdn: Recorder, elsewhere: Recorder
) -> None:
    api.routes[MEDIA_PATH] = ("redirect", f"{cdn.root}/hop")
    cdn.routes["/hop"] = ("redirect", f"{elsewhere.root}/steal")

    with pytest.raises(SendError) as refused:
        sender.fetch_media(f"{api.root}{MEDIA_PATH}")

    assert refused.value.code == "untrusted_url"
    assert cdn.authorizations() == [None]
    assert elsewhere.seen == []


def test_redirects_are_capped(sender: TwilioSender, api: Recorder) -> None:
    api.routes[MEDIA_PATH] = ("redirect", MEDIA_PATH)

    with pytest.raises(SendError) as looped:
        sender.fetch_media(f"{api.root}{MEDIA_PATH}")

    assert (looped.value.code, looped.value.retryable) == ("too_many_redirects", False)
    assert len(api.seen) == MEDIA_MAX_REDIRECTS + 1


# --------------------------------------------------------------------------- the reported URL


@dataclass
class TlsRecorder:
    recorder: Recorder
    port: int
    ca_file: Path


@pytest.fixture(scope="module")
def tls_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRecorder]:
    """An HTTPS server on 127.0.0.1 with a certificate the sender under test will trust."""
    if shutil.which("openssl") is None:
        pytest.fail("this test needs the openssl command to make a local certificate")
    tmp_path = tmp_path_factory.mktemp("tls")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    server = make_server("127.0.0.1", 0, recorder.app(), threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield TlsRecorder(recorder, server.server_port, cert)
    server.shutdown()
    thread.join(timeout=WAIT_S)
    server.server_close()


@pytest.mark.parametrize(
    "template",
    [
        "https://127.0.0.1:{port}\\@api.twilio.com{path}",  # what the security test sent
        "https://127.0.0.1:{port}\\\\@api.twilio.com{path}",
        "https://127.0.0.1:{port}\\api.twilio.com{path}",
        "https://127.0.0.1:{port}/\\@api.twilio.com{path}",
    ],
)
def test_production_never_sends_the_credentials_to_a_host_hidden_before_a_backslash(
    tls_host: TlsRecorder, template: str
) -> None:
    tls_host.recorder.reset()
    tls_host.recorder.routes[MEDIA_PATH] = ("bytes", JPEG)
    sender = TwilioSender(ACCOUNT_SID, AUTH_TOKEN)  # production: no base URL
    session = sender._http.session
    assert session is not None
    session.verify = str(tls_host.ca_file)  # so that TLS alone would not stop the leak

    with pytest.raises(SendError) as refused:
        sender.fetch_media(template.format(port=tls_host.port, path=MEDIA_PATH))

    assert refused.value.code == "untrusted_url"
    assert tls_host.recorder.seen == []  # not one request, so no Authorization header


# --------------------------------------------------------------------------- Telegram files


@pytest.fixture
def telegram_emulator() -> Iterator[tuple[EmulatorStore, str]]:
    store = EmulatorStore()
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=BOT_TOKEN,
    )
    root, shutdown = serve_in_thread(app)
    yield store, root
    shutdown()


def test_telegram_downloads_only_under_the_file_url(
    telegram_emulator: tuple[EmulatorStore, str], tmp_path: Path
) -> None:
    store, root = telegram_emulator
    store.add_file("GOOD", b"seller photo", file_path="photos/file_1.jpg")
    secret = tmp_path / "server-secret.txt"
    secret.write_bytes(b"never a photo")
    store.add_file("LOCAL", b"unused", file_path=str(secret))
    store.add_file("CLIMB", b"unused", file_path="../../bot/getMe")

    with TelegramSender(BOT_TOKEN, f"{root}/telegram/bot") as sender:
        assert sender.get_file_bytes("GOOD") == b"seller photo"
        for file_id in ("LOCAL", "CLIMB"):
            with pytest.raises(SendError) as refused:
                sender.get_file_bytes(file_id)
            assert (refused.value.code, refused.value.retryable) == ("untrusted_url", False)
            assert BOT_TOKEN not in str(refused.value)
