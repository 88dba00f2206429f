"""No phone number, secret or live link in any log line, the third-party loggers' included.

Why at the making of each record (`logging.setLogRecordFactory`) and not with filters: a filter
on a logger never sees what its child loggers propagate, and a filter on handlers misses every
handler added later — werkzeug, RQ and gunicorn add their own, and gunicorn's access and error
loggers do not even propagate to the root. Every record of every logger is made by the factory,
so the SDKs are covered too: the Twilio SDK prints the query of its crash-recovery lookups
(`To=whatsapp%3A%2B224…`), urllib3 and httpx print URLs (the bot token is in Telegram's),
SQLAlchemy prints parameters and rows, werkzeug and gunicorn print request lines (`/q/<token>`,
signed `/media/…?e=…&s=…`).

The message is formatted with its arguments, redacted, and kept as the record's message (the
arguments are dropped: nothing can format them again); a traceback is formatted, redacted and
kept as `exc_text` (`exc_info` is dropped for the same reason; every `logging.Formatter`
prints `exc_text`).

Masked:
- phone numbers in every form they travel in — ``+224621000065``, ``whatsapp:+224…``,
  ``%2B224…`` (URL-encoded), ``224621000065`` (Twilio's WaId), ``00224…``, ``621 00 00 65`` —
  with `commerce.phones.mask_phone`, as every log line of Boutik masks them;
- the configured secrets (`add_secret`, `add_config_secrets`), raw and URL-encoded, and by
  their shape the Twilio account SIDs, Telegram bot tokens, OpenAI keys, credentials in URLs
  and Authorization headers that were never registered;
- the QR links: what follows ``/q/`` (the delivery token) and ``/q/c/`` (a courier's link);
- the query of ``/media/…`` links (expiry and signature);
- SQLAlchemy's result rows at DEBUG (tokens, PINs, addresses), hidden as `hide_parameters`
  (commerce.db.make_engine) hides the parameters.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import phonenumbers

from commerce.phones import DEFAULT_REGION, mask_phone

if TYPE_CHECKING:
    from settings.config import Secrets

_COUNTRY = str(phonenumbers.country_code_for_region(DEFAULT_REGION))  # "224"
MIN_SECRET_LENGTH = 8  # shorter values would mask ordinary words; no real secret is this short

# The label each configured secret is replaced with.
_SECRET_LABELS = {
    "twilio_account_sid": "twilio-account-sid",
    "twilio_auth_token": "twilio-auth-token",
    "telegram_bot_token": "bot-token",
    "telegram_webhook_secret": "webhook-secret",
    "openai_api_key": "openai-key",
    "meta_whatsapp_token": "meta-token",
    "meta_app_secret": "meta-app-secret",
    "meta_verify_token": "meta-verify-token",
    "secret_key": "secret-key",  # BOUTIK_SECRET_KEY: it signs media and QR links
}

# (gates, pattern, replacement), applied in this order after the registered secrets; a rule runs
# only on a text holding one of its gates (a substring test costs nothing, a regex scan does).
_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    ((":",), re.compile(r"(?<![0-9])\d{5,12}:[A-Za-z0-9_-]{30,}"), "<bot-token>"),
    (("AC",), re.compile(r"\bAC[0-9a-fA-F]{32}\b"), "<twilio-account-sid>"),
    (("sk-",), re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "<openai-key>"),
    (("@",), re.compile(r"\b([a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+@"), r"\1***@"),
    (
        ("uthorization", "UTHORIZATION", "ecret-token", "ecret-Token", "ECRET-TOKEN"),
        re.compile(
            r"(?i)\b(authorization|x-telegram-bot-api-secret-token)(['\"]?\s*[:=]\s*['\"]?)"
            r"(?:(?:basic|bearer|token)\s+)?[^\s'\",}]+"
        ),
        r"\1\2***",
    ),
    (("/q/",), re.compile(r"(/q/(?:c/)?)[^\s/?#'\"<>\\]+"), r"\1***"),
    (("q%2",), re.compile(r"(%2[Ff]q%2[Ff](?:c%2[Ff])?)[A-Za-z0-9_.~-]+"), r"\1***"),
    (("/media/",), re.compile(r"(/media/[^\s?#'\"<>]*)\?[^\s#'\"<>]*"), r"\1?***"),
    (("media%2",), re.compile(r"(%2[Ff]media%2[Ff][^\s&'\"<>?]*?)%3[Ff][^\s&'\"<>]*"), r"\1%3F***"),
    (("s=",), re.compile(r"([?&]s=)[0-9a-f]{32}(?![0-9a-f])"), r"\1***"),  # a query on its own
)
# Phone numbers: international (+ or %2B), with the country code but no + (WaId, 00…), national.
_PHONE = re.compile(
    r"(?P<intl>(?:\+|%2[Bb])\d(?:[ .-]?\d){7,14})(?!\d)"
    rf"|(?<![0-9A-Za-z])(?:00)?(?P<cc>{_COUNTRY}\d{{9}})(?!\d)"
    r"|(?<![0-9A-Za-z.,])(?P<nat>6\d{2}(?:[ .-]?\d{2}){3})(?!\d)"
)


def _mask(match: re.Match[str]) -> str:
    """The number in `match` masked by mask_phone, in the form it was written."""
    if number := match.group("intl"):
        sign = "%2B" if number.startswith("%") else "+"
        return sign + mask_phone("+" + "".join(filter(str.isdigit, number[len(sign) :])))[1:]
    if number := match.group("cc"):
        return mask_phone("+" + number)[1:]
    national = "".join(filter(str.isdigit, match.group("nat")))
    return mask_phone(f"+{_COUNTRY}{national}")[1 + len(_COUNTRY) :]


class _Secrets:
    """The registered secret values, matched by one pattern rebuilt when one is added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._labels: dict[str, str] = {}
        self.pattern: re.Pattern[str] | None = None

    def add(self, value: str, label: str) -> None:
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            forms = {value, quote(value, safe="")}
            if all(f in self._labels for f in forms):
                return
            for form in forms:
                self._labels.setdefault(form, label)
            alternatives = sorted(self._labels, key=len, reverse=True)
            self.pattern = re.compile("|".join(map(re.escape, alternatives)))

    def sub(self, text: str) -> str:
        pattern = self.pattern
        if pattern is None:
            return text
        return pattern.sub(lambda m: f"<{self._labels.get(m.group(0), 'secret')}>", text)


_SECRETS = _Secrets()


def redact(text: str) -> str:
    """`text` with every registered secret, credential, live link and phone number masked."""
    text = _SECRETS.sub(text)
    for gates, pattern, replacement in _RULES:
        for gate in gates:  # a loop, not any(): this runs for every record (~1 µs vs ~5 µs)
            if gate in text:
                text = pattern.sub(replacement, text)
                break
    return _PHONE.sub(_mask, text)


def add_secret(value: str, label: str = "secret") -> None:
    """Mask `value` (and its URL-encoded form) as ``<label>`` in every log record from now on.

    Installs the redaction if nothing did yet: a registered secret is never logged, whoever
    forgot to call `install`.
    """
    _SECRETS.add(value, label)
    install()


def add_config_secrets(secrets: Secrets) -> None:
    """Every secret of the configuration, BOUTIK_SECRET_KEY included."""
    for attr, label in _SECRET_LABELS.items():
        add_secret(getattr(secrets, attr), label)


_ROWS = "Row %r"  # SQLAlchemy's result-row line at DEBUG
_FORMATTER = logging.Formatter()


def redact_record(record: logging.LogRecord) -> None:
    """Redact `record` in place: message with its arguments, traceback, stack."""
    if type(record.msg) is str and record.msg == _ROWS and record.name.startswith("sqlalchemy."):
        record.msg, record.args = "Row [hidden]", ()
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what it was made of, redacted
        try:
            message = f"{record.msg!s} {record.args!r}"
        except Exception:
            message = "<a log record that cannot be formatted>"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Redact every log record this process makes, whoever logs it (idempotent).

    Called at every process start (`boutik.runtime.configure_logging`: the `boutik` commands,
    `boutik serve` with or without the simulator, `boutik worker`, gunicorn's
    `boutik.wsgi`), before any handler exists; and again, harmlessly, by every
    `Runtime` as it registers the configuration's secrets.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            try:
                redact_record(record)
            except Exception:  # never fail the caller's log call, never pass the text through
                record.msg, record.args = "<log record dropped: it could not be redacted>", ()
                record.exc_info = record.exc_text = record.stack_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
