"""Which media URL may receive the Twilio credentials, and where a download may be redirected.

Why a table: the defect was a URL two parsers read differently (urlsplit saw api.twilio.com in
``https://127.0.0.1:PORT\\@api.twilio.com/…``, urllib3 connected to 127.0.0.1). Every URL here
is judged as requests will connect with it; nothing opens a socket.
"""

from __future__ import annotations

import pytest
import requests
from urllib3.util import parse_url

from channels_adapters.senders import TwilioSender
from channels_adapters.trusted_urls import (
    TWILIO_MEDIA_REDIRECT_HOSTS,
    Origin,
    UntrustedUrl,
    check,
    parse_strict,
    telegram_file_url,
)

SID = "AC" + "1f" * 16
MEDIA_PATH = f"/2010-04-01/Accounts/{SID}/Messages/MM{'a' * 32}/Media/ME{'b' * 32}"
API = f"https://api.twilio.com{MEDIA_PATH}"
PRODUCTION = TwilioSender(SID, "auth-token")  # api_base_url "": the real Twilio
EMULATOR_ROOT = "http://127.0.0.1:5001/emu/twilio"
EMULATED = TwilioSender(SID, "auth-token", EMULATOR_ROOT)
REDIRECT_TARGETS = (
    Origin.https("api.twilio.com"),
    *(Origin.https(h) for h in TWILIO_MEDIA_REDIRECT_HOSTS),
)

# May receive the credentials: the same host and port once parsed, as requests connects.
CREDENTIALED = [
    API,
    f"https://API.TWILIO.COM{MEDIA_PATH}",  # one host: DNS and both parsers lower-case it
    f"HTTPS://api.twilio.com{MEDIA_PATH}",
    f"https://api.twilio.com:443{MEDIA_PATH}",
    f"{API}?x=1",
]

# Never: each is a URL someone could put in MediaUrl0 to collect the SID and token.
REFUSED = [
    f"https://127.0.0.1:8443\\@api.twilio.com{MEDIA_PATH}",  # the reported one
    f"https://evil.example\\@api.twilio.com{MEDIA_PATH}",
    f"https://api.twilio.com\\@evil.example{MEDIA_PATH}",
    f"https:\\\\api.twilio.com{MEDIA_PATH}",
    f"https://api.twilio.com\\{MEDIA_PATH}",
    f"https://user:pass@api.twilio.com{MEDIA_PATH}",
    f"https://evil.example@api.twilio.com{MEDIA_PATH}",
    f"https://api.twilio.com@evil.example{MEDIA_PATH}",
    f"https://api.twilio.com:443@evil.example{MEDIA_PATH}",
    f"https://api.twilio.com%40evil.example{MEDIA_PATH}",
    f"https://evil.example%40api.twilio.com{MEDIA_PATH}",
    f"https://evil.example%2f@api.twilio.com{MEDIA_PATH}",
    f"https://api.twilio.com%2eevil.example{MEDIA_PATH}",
    f"http://api.twilio.com{MEDIA_PATH}",  # no TLS: the token in clear
    f"https://api.twilio.com.evil.com{MEDIA_PATH}",
    f"https://evilapi.twilio.com{MEDIA_PATH}",
    f"https://media.twilio.com{MEDIA_PATH}",  # Twilio's, but not the API host
    f"https://mms.twiliocdn.com{MEDIA_PATH}",  # a redirect target, never a credentialed hop
    f"https://api.twilio.com.{MEDIA_PATH}",  # trailing dot
    f"https://api.twilio.com:8443{MEDIA_PATH}",
    f"https://api.twilio.com:0443{MEDIA_PATH}",
    f"https://api.twilio.com:{MEDIA_PATH}",
    f"https://api.twilio.com:99999{MEDIA_PATH}",
    f"https://[::1]{MEDIA_PATH}",
    f"https://[::1]:443{MEDIA_PATH}",
    f"https://[::ffff:127.0.0.1]{MEDIA_PATH}",
    f"https://127.0.0.1{MEDIA_PATH}",
    f"https://2130706433{MEDIA_PATH}",  # 127.0.0.1 as one number
    f"https://169.254.169.254/latest/meta-data/{MEDIA_PATH}",
    f"https://api.twilio.com /x{MEDIA_PATH}",
    f"https://api.twilio.com\t{MEDIA_PATH}",
    f"https://api.twilio.com{MEDIA_PATH}\x00",
    f"https://api.twilio.com{MEDIA_PATH}\r\nHost: evil.example",
    f"https://\u0430pi.twilio.com{MEDIA_PATH}",  # Cyrillic а
    f"https://api.twilio.com\u3002evil.example{MEDIA_PATH}",  # ideographic full stop
    f"//api.twilio.com{MEDIA_PATH}",
    f"api.twilio.com{MEDIA_PATH}",
    f"https:/api.twilio.com{MEDIA_PATH}",
    f"https:api.twilio.com{MEDIA_PATH}",
    f"ftp://api.twilio.com{MEDIA_PATH}",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "",
    f"https://api.twilio.com{MEDIA_PATH}/" + "a" * 3000,
]


@pytest.mark.parametrize("url", CREDENTIALED)
def test_twilio_api_urls_may_carry_the_credentials(url: str) -> None:
    target = PRODUCTION._media_target(url)

    # And requests, preparing it, connects to exactly that host and port.
    prepared = parse_url(requests.Request("GET", target).prepare().url)
    assert (prepared.scheme, prepared.host, prepared.port or 443) == (
        "https",
        "api.twilio.com",
        443,
    )
    assert prepared.auth is None


@pytest.mark.parametrize("url", REFUSED)
def test_nasty_media_urls_are_refused_before_any_connection(url: str) -> None:
    with pytest.raises(UntrustedUrl):
        PRODUCTION._media_target(url)


@pytest.mark.parametrize("url", [u for u in REFUSED if "twiliocdn" not in u])
def test_nasty_urls_are_no_redirect_target_either(url: str) -> None:
    with pytest.raises(UntrustedUrl):
        check(url, REDIRECT_TARGETS)


@pytest.mark.parametrize(
    "url",
    [
        "https://mms.twiliocdn.com/AC1/abc?Expires=1&Signature=x",
        "https://media.twiliocdn.com/AC1/abc",
        "https://MMS.twiliocdn.com/AC1/abc",
        "https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/abc",
        API,
    ],
)
def test_twilio_cdn_hosts_are_redirect_targets(url: str) -> None:
    _, origin = check(url, REDIRECT_TARGETS)
    assert origin.scheme == "https"


@pytest.mark.parametrize(
    "url",
    [
        "https://twiliocdn.com/x",
        "https://eviltwiliocdn.com/x",
        "https://mms.twiliocdn.com.evil.example/x",
        "https://mms.twiliocdn.com./x",
        "https://-x.twiliocdn.com/x",
        "https://a..twiliocdn.com/x",
        "https://mms_x.twiliocdn.com/x",
        "http://mms.twiliocdn.com/x",
        "https://mms.twiliocdn.com:8443/x",
        "https://x@mms.twiliocdn.com/x",
        "https://s3.amazonaws.com/any-bucket/x",
        "https://evil-bucket.s3-external-1.amazonaws.com/x",
    ],
)
def test_lookalike_cdn_hosts_are_refused(url: str) -> None:
    with pytest.raises(UntrustedUrl):
        check(url, REDIRECT_TARGETS)


@pytest.mark.parametrize(
    ("url", "fetched"),
    [
        (f"{EMULATOR_ROOT}{MEDIA_PATH}", f"{EMULATOR_ROOT}{MEDIA_PATH}"),
        (API, f"{EMULATOR_ROOT}{MEDIA_PATH}"),  # the simulator's MediaUrl0, rewritten
        (f"{API}?a=1", f"{EMULATOR_ROOT}{MEDIA_PATH}?a=1"),
    ],
)
def test_with_an_emulator_its_base_url_is_the_trusted_origin(url: str, fetched: str) -> None:
    assert EMULATED._media_target(url) == fetched


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:5002/emu/twilio{MEDIA_PATH}",
        f"http://127.0.0.1:5001/other{MEDIA_PATH}",
        f"http://127.0.0.1:5001/emu/twilioX{MEDIA_PATH}",
        f"http://localhost:5001/emu/twilio{MEDIA_PATH}",
        f"https://127.0.0.1:5001/emu/twilio{MEDIA_PATH}",
        f"http://127.0.0.1:5002\\@127.0.0.1:5001/emu/twilio{MEDIA_PATH}",
        f"https://127.0.0.1:5002\\@api.twilio.com{MEDIA_PATH}",
        f"http://x@127.0.0.1:5001/emu/twilio{MEDIA_PATH}",
        f"https://api.twilio.com.evil.com{MEDIA_PATH}",
    ],
)
def test_with_an_emulator_other_origins_are_refused(url: str) -> None:
    with pytest.raises(UntrustedUrl):
        EMULATED._media_target(url)


def test_an_origin_reads_its_base_url_strictly() -> None:
    assert Origin.of("http://127.0.0.1:5001") == Origin("http", "127.0.0.1", 5001, "/")
    assert Origin.of("https://x.example/a/b/") == Origin("https", "x.example", 443, "/a/b/")
    with pytest.raises(UntrustedUrl):
        Origin.of("http://u@127.0.0.1:5001")
    assert parse_strict("http://127.0.0.1:5001/x").port == 5001


TOKEN = "123456:TEST-token"
FILE_BASE = f"https://api.telegram.org/file/bot{TOKEN}"


def test_telegram_file_paths_stay_under_the_file_url() -> None:
    url = f"{FILE_BASE}/photos/file_12.jpg"
    assert telegram_file_url(url, FILE_BASE) == url


@pytest.mark.parametrize(
    "file_path",
    [
        None,
        "",
        "/etc/passwd",  # PTB reads an existing local file instead of downloading
        "pyproject.toml",
        f"{FILE_BASE}/",
        f"{FILE_BASE}/../x",
        f"{FILE_BASE}/photos/../../bot{TOKEN}/getMe",
        f"{FILE_BASE}/photos//x.jpg",
        f"{FILE_BASE}/photos/x.jpg?y=1",
        f"{FILE_BASE}/photos/x.jpg#y",
        f"{FILE_BASE}/@evil.example/x",
        f"{FILE_BASE}/photos\\x.jpg",
        f"{FILE_BASE}/photos/x%2f..%2fy",
        f"{FILE_BASE}/photos/x\x00.jpg",
        f"{FILE_BASE}x/photos/x.jpg",
        f"https://evil.example/file/bot{TOKEN}/photos/x.jpg",
        f"{FILE_BASE}/" + "a" * 600,
    ],
)
def test_telegram_file_paths_leaving_the_file_url_are_refused(file_path: object) -> None:
    with pytest.raises(UntrustedUrl):
        telegram_file_url(file_path, FILE_BASE)
