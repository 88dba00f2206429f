"""The page a smartphone courier opens by scanning the buyer's QR: `GET /q/<token>`.

Who may confirm, and why this way. The QR proves the courier stands in front of the buyer, but
anyone who scans it (a neighbour, a photo of the screen) reaches the same URL, so the page
alone cannot be the proof. The second factor is the one every courier already has: their
phone number, the identity the whole SMS flow trusts. So:

1. `GET /q/<token>` shows the order number only (no amount, no name, no phone) and one button.
2. `POST /q/<token>` texts the order's *assigned* courier (never whoever pressed the button) a
   short-lived link `/q/c/<order>.<courier>.<expiry>.<mac>`; the MAC is an HMAC-SHA256 under
   the server secret over the QR token, the courier and the expiry. At most one SMS per order
   every two minutes (`handover.send_confirm_link`), so the button cannot be used to spam a courier.
3. `GET` on that link shows "confirm the hand-over?"; only its `POST` proves the delivery
   (`commerce.delivery.handover.prove_with_qr`, which checks again that this user is the
   order's courier and that the code is still usable). Link previews that fetch URLs never
   confirm anything.

Forging a link needs the server secret; reusing one fails (the code is single use); a link
for another order fails (the MAC covers that order's QR token). No JavaScript, no CDN: the
page is a few hundred bytes of HTML that loads on any phone browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from html import escape

from flask import Blueprint, Response, current_app, request

from bot import i18n
from commerce import clock
from commerce.db import unit_of_work
from commerce.delivery import codes, handover
from commerce.errors import (
    CodeExpired,
    CodeLocked,
    CodeUsed,
    CommerceError,
    IllegalTransition,
    NotFound,
    PermissionDenied,
)
from commerce.messaging.outbox import take_pending_ids
from commerce.orders.models import Order
from commerce.users.models import User
from settings.config import signing_key

log = logging.getLogger(__name__)
bp = Blueprint("qr_page", __name__)
LINK_TTL_S = 15 * 60
# QR tokens are secrets.token_urlsafe and MACs urlsafe base64: anything else in a URL (a NUL,
# which PostgreSQL refuses; a non-ASCII MAC, which hmac.compare_digest refuses) is no link of
# ours, and answered as an unknown one instead of reaching the database.
_URLSAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _plausible(token: str) -> bool:
    return _URLSAFE.fullmatch(token) is not None


def _lang() -> str:
    best = request.accept_languages.best_match(["fr", "en"])
    return best or "fr"


def _page(lang: str, body: str, status: int = 200) -> Response:
    title = escape(i18n.t(lang, "courier.qr.title"))
    html = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>"
        "body{font-family:sans-serif;margin:0;padding:1.2em;max-width:30em;font-size:1.1em}"
        "h1{font-size:1.3em}.n{font-size:2em;font-weight:bold;margin:.4em 0}"
        "button{font-size:1.1em;padding:.8em 1.2em;width:100%;border:0;border-radius:.4em;"
        "background:#0a7d3b;color:#fff}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html")


def _message(lang: str, key: str, status: int = 200, **params: object) -> Response:
    return _page(lang, f"<p>{escape(i18n.t(lang, key, **params))}</p>", status)


def _form(lang: str, action: str, order_id: int, ask_key: str, button_key: str) -> Response:
    body = (
        f'<p class="n">{escape(i18n.t(lang, "courier.qr.order", order_id=order_id))}</p>'
        f"<p>{escape(i18n.t(lang, ask_key, order_id=order_id))}</p>"
        f'<form method="post" action="{escape(action)}">'
        f"<button>{escape(i18n.t(lang, button_key))}</button></form>"
    )
    return _page(lang, body)


def _code_error(lang: str, exc: CommerceError) -> Response:
    if isinstance(exc, CodeUsed):
        return _message(lang, "courier.qr.used", 410)
    if isinstance(exc, CodeExpired):
        return _message(lang, "courier.qr.expired", 410)
    if isinstance(exc, CodeLocked):
        return _message(lang, "courier.qr.locked", 423)
    return _message(lang, "courier.qr.unknown", 404)


# --- signed one-time links -----------------------------------------------------------------------


def _mac(key: bytes, token: str, order_id: int, user_id: int, expires: int) -> str:
    digest = hmac.new(
        key, f"qr|{token}|{order_id}|{user_id}|{expires}".encode(), hashlib.sha256
    ).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def confirm_link(
    base_url: str, key: bytes, token: str, order_id: int, user_id: int, expires: int
) -> str:
    signed = f"{order_id}.{user_id}.{expires}.{_mac(key, token, order_id, user_id, expires)}"
    return f"{base_url.rstrip('/')}/q/c/{signed}"


# --- routes --------------------------------------------------------------------------------------


@bp.get("/q/<token>")
def show(token: str) -> Response:
    lang = _lang()
    if not _plausible(token):
        return _message(lang, "courier.qr.unknown", 404)
    rt = current_app.extensions["boutik"]
    with unit_of_work(rt.session_factory) as session:
        try:
            order = handover.order_for_token(session, token=token)
        except CommerceError as exc:
            return _code_error(lang, exc)
        return _form(lang, f"/q/{token}", order.id, "courier.qr.ask", "courier.qr.send")


@bp.post("/q/<token>")
def send_link(token: str) -> Response:
    lang = _lang()
    if not _plausible(token):
        return _message(lang, "courier.qr.unknown", 404)
    rt = current_app.extensions["boutik"]
    with unit_of_work(rt.session_factory) as session:
        base_url, key = rt.config.web.public_base_url, signing_key(rt.config)

        def link_for(order_id: int, deliverer: int, now: int) -> str:
            return confirm_link(base_url, key, token, order_id, deliverer, now + LINK_TTL_S)

        try:
            handover.send_confirm_link(session, token=token, link_for=link_for)
        except IllegalTransition as exc:  # no deliverer yet, or the parcel is not at the door
            return _message(lang, "courier.qr.not_ready", 409, order_id=exc.params["order_id"])
        except CommerceError as exc:
            return _code_error(lang, exc)
        ids = take_pending_ids(session)
    rt.dispatcher.dispatch(ids)
    return _message(lang, "courier.qr.sent")


def _verify(session, key: bytes, signed: str) -> tuple[Order, int, str] | None:  # type: ignore[no-untyped-def]
    """(order, courier user id, QR token) for a genuine, unexpired link; else None."""
    parts = signed.split(".")
    # isdecimal and ≤ 10 digits: "①" or a 30-digit id would crash int() or the database.
    if len(parts) != 4 or not all(p.isdecimal() and len(p) <= 10 for p in parts[:3]):
        return None
    if not _plausible(parts[3]):
        return None
    order_id, user_id, expires = (int(p) for p in parts[:3])
    if max(order_id, user_id) >= 2**31:
        return None
    if expires < clock.now().timestamp():
        return None
    order = session.get(Order, order_id)
    if order is None:
        return None
    try:
        token = codes.code_for_order(session, order.id).token
    except NotFound:
        return None
    if not hmac.compare_digest(_mac(key, token, order_id, user_id, expires), parts[3]):
        return None
    return order, user_id, token


def _user_lang(session, user_id: int) -> str:  # type: ignore[no-untyped-def]
    user = session.get(User, user_id)
    return user.language.value if user is not None else "fr"


@bp.get("/q/c/<signed>")
def confirm_page(signed: str) -> Response:
    rt = current_app.extensions["boutik"]
    with unit_of_work(rt.session_factory) as session:
        found = _verify(session, signing_key(rt.config), signed)
        if found is None:
            return _message(_lang(), "courier.qr.bad_link", 403)
        order, user_id, token = found
        lang = _user_lang(session, user_id)
        try:
            codes.check_usable(session, codes.code_for_token(session, token))
        except CommerceError as exc:
            return _code_error(lang, exc)
        return _form(
            lang, f"/q/c/{signed}", order.id, "courier.qr.confirm_ask", "courier.qr.confirm"
        )


@bp.post("/q/c/<signed>")
def confirm(signed: str) -> Response:
    rt = current_app.extensions["boutik"]
    with unit_of_work(rt.session_factory) as session:
        found = _verify(session, signing_key(rt.config), signed)
        if found is None:
            return _message(_lang(), "courier.qr.bad_link", 403)
        order, user_id, token = found
        lang = _user_lang(session, user_id)
        try:
            handover.prove_with_qr(session, user_id=user_id, token=token)
        except (CodeUsed, CodeExpired, CodeLocked, NotFound) as exc:
            return _code_error(lang, exc)
        except (PermissionDenied, IllegalTransition):
            return _message(lang, "courier.qr.not_ready", 409, order_id=order.id)
        ids = take_pending_ids(session)
    rt.dispatcher.dispatch(ids)
    log.info("order %s proven by QR", order.id)
    return _message(lang, "courier.qr.confirmed", order_id=order.id)
