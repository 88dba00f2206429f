"""The public URL: the address Twilio and Telegram call, so it must be one they can reach.

Why it matters first: every webhook URL doctor compares later is built from it, and both
providers refuse or cannot reach a plain-http, local or private address.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from boutik.doctor.results import Result
from boutik.runtime import Runtime

SUBJECT = "Public URL"
# The only ports Telegram delivers webhooks to (Bot API, setWebhook).
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)
_FIX_URL = "set [web] public_base_url to the https:// address the internet reaches Boutik at"


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host  # a bare machine name resolves only on the local network
    return address.is_loopback or address.is_private or address.is_link_local


def check_public_url(rt: Runtime) -> list[Result]:
    url = rt.config.web.public_base_url
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    if parts.scheme != "https":
        return [
            Result.problem(
                SUBJECT,
                f"{shown} is not https: Telegram refuses such a webhook and Twilio's requests "
                "(and their signatures) would cross the internet in clear",
                f"serve Boutik behind HTTPS (a reverse proxy with a certificate) and {_FIX_URL}",
            )
        ]
    if _is_local(host):
        return [
            Result.problem(
                SUBJECT,
                f"{shown} is a local or private address: Twilio and Telegram cannot reach it",
                _FIX_URL,
            )
        ]
    if (parts.port or 443) not in TELEGRAM_WEBHOOK_PORTS:
        return [
            Result.problem(
                SUBJECT,
                f"{shown}: Telegram delivers webhooks only to ports 443, 80, 88 or 8443",
                "serve the public address on port 443",
            )
        ]
    return [Result.ok(SUBJECT, f"{shown} (https)")]
