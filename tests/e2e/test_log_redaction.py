"""No phone number, secret or live link in any log line, the third-party loggers' included.

A whole journey runs with every logger at DEBUG — a WhatsApp buyer orders, the seller accepts on
Telegram, a courier takes the job by SMS and delivers with the PIN, the QR page and a signed
media link are fetched, a row a crashed worker left "sending" is looked up at Twilio, and the
database refuses a write whose parameters hold a phone — and every captured line (message,
arguments, traceback) is searched for the numbers, the PIN, the QR token, the courier's link,
the media signatures and the credentials. The access logs (werkzeug's and gunicorn's formats)
are checked on their own: the Flask test client never writes one.

The redaction is installed as every process installs it (`configure_logging` at start calls
`settings.log_redaction.install`), not attached by hand to the capture handler.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from channels_adapters.media import signed_media_url
from commerce import clock
from commerce.db import unit_of_work
from commerce.messaging.models import Channel, Outbox, OutboxStatus
from commerce.messaging.notices import Notice
from commerce.orders.models import Order, OrderStatus
from commerce.users import actions as users
from commerce.users.models import User
from settings.config import signing_key
from settings.log_redaction import install
from tests.e2e.conftest import Boutik
from tests.support import make_buyer, make_courier, make_product, make_seller
from tests.timing import WAIT_S
from tests.unit import flows
from tests.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    post_telegram,
    post_twilio,
    sms_form,
    telegram_callback,
    whatsapp_form,
)
from workers.outbox import deliver, sweep

WA = "/webhooks/twilio/whatsapp"
SMS = "/webhooks/twilio/sms"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its request lines


class _Lines(logging.Handler):
    """Every record as a log file would get it, plus its message and arguments, by logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[tuple[str, str]] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        texts = [self.format(record), record.getMessage(), repr(record.args)]
        if record.exc_text:
            texts.append(record.exc_text)
        with self._guard:
            self.lines.extend((record.name, text) for text in texts)

    def snapshot(self) -> list[tuple[str, str]]:
        """(logger name, text) of everything captured so far."""
        with self._guard:
            return list(self.lines)

    def texts(self) -> list[str]:
        return [text for _name, text in self.snapshot()]


@pytest.fixture
def captured() -> Iterator[_Lines]:
    """Every logger that exists at DEBUG, and a handler on the root that keeps every line."""
    install()
    root = logging.getLogger()
    loggers = [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level) for lg in [root, *loggers]]
    for lg, _level in saved:
        lg.setLevel(logging.DEBUG)
    handler = _Lines()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg, level in saved:
            lg.setLevel(level)


@pytest.fixture
def app(boutik: Boutik) -> Iterator[Boutik]:
    # The real pacing (1 SMS segment/s, 1 Telegram message/s per chat) is tested elsewhere.
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )
    yield boutik


def _alone(digits: str) -> re.Pattern[str]:
    """`digits` not inside a longer run of letters and digits (a hex address, another id)."""
    return re.compile(rf"(?<![0-9A-Za-z]){digits}(?![0-9A-Za-z])")


def _forms(phone: str) -> list[re.Pattern[str]]:
    """A number as logs could carry it: +224…, whatsapp:+224…, %2B224…, 224… (WaId), 6…."""
    digits = phone.lstrip("+")
    national = digits.removeprefix("224")
    spaced = " ?".join([national[:3], national[3:5], national[5:7], national[7:]])
    return [re.compile(rf"(?<!\d){digits}(?!\d)"), _alone(national), _alone(spaced)]


def _leaks(lines: list[tuple[str, str]], secrets: dict[str, list[re.Pattern[str]]]) -> str:
    """One example per (what leaked, logger), and how many lines in all: '' when none."""
    first: dict[tuple[str, str], str] = {}
    count = 0
    for name, text in lines:
        for what, patterns in secrets.items():
            if any(p.search(text) for p in patterns):
                count += 1
                first.setdefault((what, name), text)
    if not count:
        return ""
    examples = [f"{what} in {name}: {text[:300]}" for (what, name), text in first.items()]
    return "\n".join([f"{count} leaking lines, first of each kind:", *examples])


def _literal(*values: str) -> list[re.Pattern[str]]:
    return [re.compile(re.escape(v)) for v in values if v]


def _phone(b: Boutik, user_id: int) -> str:
    with b.db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def _whatsapp(b: Boutik, number: str, body: str) -> None:
    assert post_twilio(b.client, WA, whatsapp_form(number, body)).status_code == 200
    b.flush()


def _sms(b: Boutik, number: str, body: str) -> None:
    assert post_twilio(b.client, SMS, sms_form(number, body)).status_code == 200
    b.flush()


def _tap(b: Boutik, tg: int, data: str) -> None:
    assert post_telegram(b.client, telegram_callback(tg, data)).status_code == 200
    b.flush()


def test_a_whole_journey_at_debug_logs_no_number_pin_token_signature_or_credential(
    app: Boutik, captured: _Lines
) -> None:
    db = app.db
    seller_id, _shop = make_seller(db)
    make_product(db, seller_id=seller_id, stock=5)
    courier_id = make_courier(db, prefecture="Kaloum")
    buyer_id, _address = make_buyer(db)
    buyer, courier, seller = (_phone(app, u) for u in (buyer_id, courier_id, seller_id))
    with db.session() as s:
        seller_tg = s.get(User, seller_id).telegram_id  # type: ignore[union-attr]
    app.flush()

    # The buyer orders on WhatsApp: search, product, buy, saved address, confirm.
    for body in ("Bonjour", "telefone samsng", "1", "1", "1", "1"):
        _whatsapp(app, buyer, body)
    with db.session() as s:
        order = s.scalars(select(Order).where(Order.buyer_id == buyer_id)).one()
    code = flows.code(db, order.id)

    # The seller accepts and publishes on Telegram; the offer reaches the courier by SMS.
    _tap(app, seller_tg, f"o:a:{order.id}")
    _tap(app, seller_tg, f"d:p:{order.id}")
    _tap(app, seller_tg, f"d:b:{order.id}:0")
    app.store.wait_for(lambda: app.store.twilio_messages(to=courier), timeout=WAIT_S)
    _sms(app, courier, f"A{order.id}")
    assert flows.order(db, order.id).status == OrderStatus.COURIER_ASSIGNED
    _sms(app, courier, f"P{order.id}")
    assert flows.order(db, order.id).status == OrderStatus.PICKED_UP

    # The buyer's QR, scanned: the page, and the courier's confirmation link it texts.
    assert app.client.get(f"/q/{code.token}").status_code == 200
    assert app.client.post(f"/q/{code.token}").status_code == 200
    app.flush()
    [link] = [
        found.group(0)
        for m in app.store.twilio_messages(to=courier)
        if (found := re.search(r"/q/c/\S+", m.body))
    ]
    assert app.client.get(link).status_code == 200  # a GET never confirms

    # The courier delivers with the PIN; the buyer confirms the cash.
    _sms(app, courier, f"D{order.id} {code.pin}")
    assert flows.code(db, order.id).proof == "pin"
    _whatsapp(app, buyer, "1")
    assert flows.order(db, order.id).status == OrderStatus.DELIVERED

    # The signed link of the buyer's QR image, fetched as Twilio fetches it.
    media_urls = [u for m in app.store.twilio_messages() for u in m.media_urls]
    [qr_url] = [u for u in media_urls if "/media/qr/" in u]
    assert app.client.get(qr_url.removeprefix(PUBLIC)).status_code == 200

    # A worker died while sending to the buyer: the retry asks Twilio before sending again
    # (the order_accepted she already got is put back "sending", as a dead worker leaves it;
    # the lookup finds it at Twilio, so nothing is sent twice).
    sent_before = len(app.store.twilio_messages())
    with db.uow() as s:
        row = s.scalar(
            select(Outbox).where(Outbox.user_id == buyer_id, Outbox.kind == Notice.ORDER_ACCEPTED)
        )
        assert row is not None and row.status != OutboxStatus.PENDING
        row.status = OutboxStatus.SENDING
        row.updated_at = clock.now() - dt.timedelta(hours=1)
        row_id = row.id
    assert row_id in sweep(app.rt)
    deliver(app.rt, row_id)
    [after] = app.outbox(id=row_id)
    assert after.status == OutboxStatus.SENT
    assert len(app.store.twilio_messages()) == sent_before

    # The database refuses a write whose parameters hold the buyer's number.
    with pytest.raises(IntegrityError) as refused, unit_of_work(app.rt.session_factory) as s:
        users.touch_identity(s, user_id=10**9, channel=Channel.WHATSAPP, address=buyer)
    logging.getLogger("boutik.e2e").error("the write failed", exc_info=refused.value)

    signatures = [parse_qs(urlsplit(u).query)["s"][0] for u in media_urls]
    secrets = {
        "buyer's number": _forms(buyer),
        "courier's number": _forms(courier),
        "seller's number": _forms(seller),
        "PIN": [_alone(code.pin)],
        "QR token": _literal(code.token),
        "courier's link": _literal(link.removeprefix("/q/c/"), link.rsplit(".", 1)[1]),
        "media signature": _literal(*signatures),
        "Twilio credentials": _literal(AUTH_TOKEN, ACCOUNT_SID),
        "Telegram credentials": _literal(TELEGRAM_TOKEN, TELEGRAM_SECRET),
    }
    lines = captured.snapshot()
    # The capture saw the journey, the third-party loggers included.
    names = {name for name, _text in lines}
    for seen in ("twilio.http_client", "urllib3", "httpx", "sqlalchemy.engine", "boutik.e2e"):
        assert any(n.startswith(seen) for n in names), (seen, sorted(names))
    leaks = _leaks(lines, secrets)
    assert not leaks, leaks
    # Exceptions travel beyond logs (RQ keeps a failed job's in Redis): no parameters in them.
    assert buyer not in str(refused.value)


# --- the access logs ------------------------------------------------------------------------


def _links(app: Boutik) -> tuple[str, str, str]:
    """(a live QR path, a courier's link path, a signed media path)."""
    p = flows.place(app.db)
    media = app.rt.config.media_dir / "qr"
    media.mkdir(parents=True, exist_ok=True)
    (media / f"{p.order_id}.png").write_bytes(b"\x89PNG fake")
    signed = signed_media_url(
        PUBLIC, f"qr/{p.order_id}.png", key=signing_key(app.rt.config), ttl_s=600
    )
    courier_link = f"/q/c/{p.order_id}.7.{int(clock.now().timestamp()) + 900}.{'M' * 43}"
    return f"/q/{p.token}", courier_link, signed.removeprefix(PUBLIC)


def _secret_parts(qr: str, courier_link: str, media: str) -> list[str]:
    return [
        qr.removeprefix("/q/"),
        courier_link.removeprefix("/q/c/"),
        parse_qs(urlsplit(media).query)["s"][0],
        urlsplit(media).query,
    ]


def test_werkzeug_access_log_hides_qr_tokens_and_media_signatures(
    app: Boutik, captured: _Lines
) -> None:
    """`boutik serve` is threaded Werkzeug: its request log is werkzeug's `_log`."""
    qr, courier_link, media = _links(app)
    server = make_server("127.0.0.1", 0, app.client.application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert requests.get(base + qr, timeout=WAIT_S).status_code == 200
        assert requests.get(base + courier_link, timeout=WAIT_S).status_code == 403
        assert requests.get(base + media, timeout=WAIT_S).status_code == 200
    finally:
        server.shutdown()
        thread.join(timeout=WAIT_S)
        server.server_close()

    texts = [_ANSI.sub("", t) for t in captured.texts()]
    access = [t for t in texts if t.startswith("INFO werkzeug:")]
    assert len([t for t in access if '"GET /q/' in t]) == 2, access
    assert len([t for t in access if '"GET /media/qr/' in t]) == 1, access
    parts = _secret_parts(qr, courier_link, media)
    assert not [(part, t) for t in texts for part in parts if part in t]


def test_gunicorn_access_log_hides_qr_tokens_and_media_signatures(
    app: Boutik, captured: _Lines, tmp_path: Path
) -> None:
    """Production runs gunicorn: its access logger has its own handler and does not propagate,
    so what reaches its file is checked there, with the request line, path, query and referer."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    qr, courier_link, media = _links(app)
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s path=%(U)s query=%(q)s "%(f)s"')
    glog = Logger(cfg)
    try:
        for target, referer in ((qr, ""), (courier_link, PUBLIC + qr), (media, PUBLIC + qr)):
            path, _, query = target.partition("?")
            environ = {
                "REMOTE_ADDR": "127.0.0.1",
                "REQUEST_METHOD": "GET",
                "RAW_URI": target,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_REFERER": referer or "-",
            }
            response = SimpleNamespace(status="200 OK", sent=10, headers=[])
            request = SimpleNamespace(headers=[])
            glog.access(response, request, environ, dt.timedelta(milliseconds=3))
    finally:
        for lg in (glog.access_log, glog.error_log):
            for h in list(lg.handlers):
                lg.removeHandler(h)
                h.close()
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert len(lines) == 3 and all('"GET /' in line for line in lines), lines
    parts = _secret_parts(qr, courier_link, media)
    assert not [(part, line) for line in lines for part in parts if part in line]
