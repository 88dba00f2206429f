"""Signed, expiring links to generated media (QR codes, product photos, charts).

Providers fetch images by URL (Twilio MediaUrl), so the files must be reachable without a
login — but not guessable or valid forever. A link carries its expiry and an HMAC-SHA256 of
path + expiry under the server's key (`settings.config.signing_key`: BOUTIK_SECRET_KEY, else
one kept per machine), which callers pass in from their configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, abort, current_app, request, send_from_directory
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from settings.config import signing_key

bp = Blueprint("media", __name__)


def _sign(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def signed_media_url(
    base_url: str, path: str, *, key: bytes, ttl_s: int, now: float | None = None
) -> str:
    expires = int((now or time.time()) + ttl_s)
    return f"{base_url.rstrip('/')}/media/{quote(path)}?e={expires}&s={_sign(key, path, expires)}"


def verify(
    path: str, expires: str, signature: str, *, key: bytes, now: float | None = None
) -> bool:
    try:
        exp = int(expires)
    except ValueError:
        return False
    if exp < (now or time.time()):
        return False
    return hmac.compare_digest(_sign(key, path, exp), signature)


@bp.get("/media/<path:path>")
def serve(path: str) -> Response:
    config = current_app.extensions["boutik"].config
    if not verify(
        path, request.args.get("e", ""), request.args.get("s", ""), key=signing_key(config)
    ):
        abort(403)
    media_dir: Path = config.media_dir
    if safe_join(str(media_dir), path) is None:
        abort(404)
    response = send_from_directory(media_dir, path, max_age=300)
    return response
