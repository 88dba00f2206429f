"""Which URL may be fetched, and which may receive provider credentials, decided with the
parser the fetch itself uses.

Why this module: a Twilio ``MediaUrl0`` comes from the webhook form, so a buyer's client (or
anyone who can get a form signed) chooses it, and fetching it sends the account SID and auth
token as Basic auth. ``urllib.parse.urlsplit`` and urllib3's ``parse_url`` (what requests
prepares and connects with) disagree on URLs such as ``https://evil:1\\@api.twilio.com/``:
urlsplit reads the host as api.twilio.com, urllib3 stops the authority at the backslash and
connects to ``evil:1``. So the check parses with urllib3 only, refuses anything the two could
read differently (a backslash, user-info, ``%`` or anything but printable ASCII in the
authority, an authority that does not read back as the host and port the parser found), and
then compares scheme, host and port exactly against a short list of origins.

Twilio's media: ``https://api.twilio.com/2010-04-01/Accounts/…/Media/ME…`` answers with a
redirect to its CDN — ``mms.twiliocdn.com`` when "Enforce HTTP Auth on Media URLs" is on,
``s3-external-1.amazonaws.com`` for older public media (Twilio support article 223183748,
"Protect Media Access with HTTP Basic Authentication"). Credentials go to api.twilio.com only;
the CDN hosts are acceptable redirect targets, fetched without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_DNS_LABELS = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
# What Telegram's getFile answers as file_path: "photos/file_12.jpg", "documents/file_3.pdf".
_TELEGRAM_FILE_PATH = re.compile(
    r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*"
)

# Where api.twilio.com redirects media downloads (fetched without credentials).
TWILIO_MEDIA_REDIRECT_HOSTS = (".twiliocdn.com", "s3-external-1.amazonaws.com")


class UntrustedUrl(ValueError):
    """A URL refused before any connection is made; ``reason`` never contains the URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port a URL must have exactly, and the path it must start with.

    ``host`` starting with a dot means "any subdomain of": ``.twiliocdn.com`` matches
    ``mms.twiliocdn.com``, never ``twiliocdn.com.evil.com`` nor ``eviltwiliocdn.com``.
    """

    scheme: str
    host: str
    port: int
    path_prefix: str = "/"

    @classmethod
    def https(cls, host: str) -> Origin:
        return cls("https", host, 443)

    @classmethod
    def of(cls, base_url: str) -> Origin:
        """The origin of a configured base URL (an emulator root such as http://127.0.0.1:5001)."""
        url = parse_strict(base_url)
        prefix = (url.path or "").rstrip("/") + "/"
        return cls(str(url.scheme), str(url.host), _port(url), prefix)

    def matches(self, url: Url) -> bool:
        if url.scheme != self.scheme or _port(url) != self.port:
            return False
        host = url.host or ""
        if self.host.startswith("."):
            if not (host.endswith(self.host) and _DNS_LABELS.fullmatch(host)):
                return False
        elif host != self.host:
            return False
        path = (url.path or "/").rstrip("/") + "/"
        return path.startswith(self.path_prefix)


def _port(url: Url) -> int:
    return url.port if url.port is not None else _DEFAULT_PORTS.get(str(url.scheme), -1)


def parse_strict(url: str) -> Url:
    """``url`` parsed as urllib3 (and so requests) will connect with it, or UntrustedUrl.

    Refused: anything longer than MAX_URL_LENGTH or not printable ASCII (spaces, control
    characters, NUL, non-ASCII hosts), a backslash anywhere, a scheme other than http(s),
    user-info, ``%`` in the authority, and an authority that does not read back as exactly
    ``host`` or ``host:port`` (``:0443``, an empty port, ``a@b``…).
    """
    if not isinstance(url, str) or not url:
        raise UntrustedUrl("empty URL")
    if len(url) > MAX_URL_LENGTH:
        raise UntrustedUrl("URL too long")
    if not _PRINTABLE_ASCII.fullmatch(url):
        raise UntrustedUrl("URL has spaces, control or non-ASCII characters")
    if "\\" in url:
        raise UntrustedUrl("URL has a backslash")
    try:
        parsed = parse_url(url)
    except LocationParseError:
        raise UntrustedUrl("URL does not parse") from None
    if parsed.scheme not in _DEFAULT_PORTS:
        raise UntrustedUrl("URL is not http(s)")
    scheme_end = url.find("://")
    if scheme_end < 0:
        raise UntrustedUrl("URL has no authority")
    rest = url[scheme_end + 3 :]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].lower()
    if parsed.auth is not None or "@" in authority:
        raise UntrustedUrl("URL has user-info")
    if "%" in authority or not parsed.host:
        raise UntrustedUrl("URL has no plain host")
    readable = {parsed.host} if parsed.port is None else {f"{parsed.host}:{parsed.port}"}
    if authority not in readable:
        raise UntrustedUrl("URL authority is ambiguous")
    return parsed


def check(url: str, origins: Iterable[Origin]) -> tuple[Url, Origin]:
    """``url`` parsed, and the first of ``origins`` it belongs to; else UntrustedUrl."""
    parsed = parse_strict(url)
    for origin in origins:
        if origin.matches(parsed):
            return parsed, origin
    raise UntrustedUrl("URL host is not one of the provider's")


def telegram_file_url(file_path: object, base_file_url: str) -> str:
    """The download URL PTB built from getFile's ``file_path``, if it stays under the file base.

    ``base_file_url`` is the Bot's (``…/file/bot<token>``). PTB reads ``file_path`` from the
    local disk when it names an existing local file, and otherwise appends it to the base; a
    path that is not a plain relative one (``/etc/passwd``, ``../x``, ``x?y``, ``@host``) is
    refused, so the token never leaves the configured host and no local file is read.
    """
    prefix = base_file_url.rstrip("/") + "/"
    if not isinstance(file_path, str) or not file_path.startswith(prefix):
        raise UntrustedUrl("file path is not under the Bot API file URL")
    relative = file_path[len(prefix) :]
    if len(relative) > 512 or not _TELEGRAM_FILE_PATH.fullmatch(relative):
        raise UntrustedUrl("file path is not a plain relative path")
    return file_path
