"""Signed, expiring links to generated media (QR codes, product photos, charts).

Providers fetch images by URL (Twilio MediaUrl), so the files must be reachable without a
login — but not guessable or valid forever. A link carries its expiry and an HMAC-SHA256 of
path + expiry under a server secret (`BOUTIK_SECRET_KEY`, else a random key kept in
var/secret_key so every process of one machine agrees).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from functools import cache
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, abort, current_app, request, send_from_directory
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from boutik.config import PROJECT_ROOT

bp = Blueprint("media", __name__)


@cache
def _key() -> bytes:
    env = os.environ.get("BOUTIK_SECRET_KEY", "")
    if env:
        return env.encode()
    path = PROJECT_ROOT / "var" / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _sign(path: str, expires: int) -> str:
    return hmac.new(_key(), f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def signed_media_url(base_url: str, path: str, *, ttl_s: int, now: float | None = None) -> str:
    expires = int((now or time.time()) + ttl_s)
    return f"{base_url.rstrip('/')}/media/{quote(path)}?e={expires}&s={_sign(path, expires)}"


def verify(path: str, expires: str, signature: str, *, now: float | None = None) -> bool:
    try:
        exp = int(expires)
    except ValueError:
        return False
    if exp < (now or time.time()):
        return False
    return hmac.compare_digest(_sign(path, exp), signature)


@bp.get("/media/<path:path>")
def serve(path: str) -> Response:
    if not verify(path, request.args.get("e", ""), request.args.get("s", "")):
        abort(403)
    media_dir: Path = current_app.extensions["boutik"].config.media_dir
    if safe_join(str(media_dir), path) is None:
        abort(404)
    response = send_from_directory(media_dir, path, max_age=300)
    return response
