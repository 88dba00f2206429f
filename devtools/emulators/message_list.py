"""The Messages list (`GET …/Messages.json`) with the semantics Twilio documents, not ours.

Why a module of its own: Boutik's crash recovery (`TwilioSender.find_sent`) relies on this list,
so the emulator must answer as Twilio does or the recovery is only tested against our wishes.
From the spec's parameters (specs/twilio/twilio_api_v2010.json):

- `To`, `From`: exact match on the message's addresses.
- `DateSent`, `DateSent<`, `DateSent>`: filter on the message's *date_sent*, in GMT. A bare date
  `YYYY-MM-DD` means that whole day: `DateSent>` is "on and after", `DateSent<` "on and before".
  A date with a time (the SDK sends `YYYY-MM-DDThh:mm:ssZ`; the spec's examples also show
  `2019-06-11 22:05:25.000`, `Wed, 19 Jun 2019 22:04:00 -0000` and `06/11/2019 22:05:25 MST`)
  compares to the second, inclusively. A message with no date_sent (still queued or accepted)
  matches no DateSent filter at all. An unreadable date is refused with HTTP 400.
- Newest first; `PageSize` 1–1000 (default 50), `Page` from 0, `PageToken` from the previous
  page's `next_page_uri`; the page's paging fields are the spec's (`ListMessageResponse`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from devtools.emulators.store import TwilioMessage

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_US_STAMP = re.compile(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([A-Z]{3})")
_US_ZONES = {"GMT": 0, "UTC": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
             "MDT": -6, "PST": -8, "PDT": -7}  # fmt: skip
_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 1000


class ListRefused(Exception):
    """A list request Twilio answers with HTTP 400: ``code`` is Twilio's error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_date_filter(name: str, value: str) -> tuple[datetime, bool]:
    """``(instant in UTC, whole day?)`` for a DateSent value; ListRefused when unreadable."""
    text = value.strip()
    stamp: datetime | None = None
    if _DATE.fullmatch(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC), True
        except ValueError:
            stamp = None
    elif m := _US_STAMP.fullmatch(text):
        month, day, year, hour, minute, second, zone = m.groups()
        try:
            tz = timezone(timedelta(hours=_US_ZONES[zone]))
            stamp = datetime(int(year), int(month), int(day), int(hour), int(minute),
                             int(second), tzinfo=tz)  # fmt: skip
        except (KeyError, ValueError):
            stamp = None
    else:
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                stamp = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                stamp = None
    if stamp is None:
        raise ListRefused(20001, f"Invalid {name} value: {value!r}")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)  # Twilio reads dates as GMT
    return stamp.astimezone(UTC).replace(microsecond=0), False


def _matches(message: TwilioMessage, name: str, when: datetime, whole_day: bool) -> bool:
    sent = message.sent_at
    if sent is None:
        return False
    sent = sent.astimezone(UTC)
    if whole_day:
        start, end = when, when + timedelta(days=1)
        if name == "DateSent>":
            return sent >= start
        if name == "DateSent<":
            return sent < end
        return start <= sent < end
    if name == "DateSent>":
        return sent >= when
    if name == "DateSent<":
        return sent <= when
    return sent.replace(microsecond=0) == when


def _int(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ListRefused(20001, f"Invalid {name}: {raw!r}") from None
    if not low <= value <= high:
        raise ListRefused(20001, f"{name} must be between {low} and {high}")
    return value


def _newest_first(message: TwilioMessage) -> tuple[int, datetime, datetime]:
    # Not yet sent (no date_sent) are the newest of all; then by date_sent, then creation.
    unsent = message.sent_at is None
    sent = message.sent_at or message.created_at
    return (1 if unsent else 0, sent, message.created_at)


def list_page(
    messages: list[TwilioMessage], args: Mapping[str, str], *, base: str
) -> dict[str, Any]:
    """One page of the list as Twilio's ``ListMessageResponse`` (messages still as records)."""
    found = list(messages)
    if to := args.get("To"):
        found = [m for m in found if m.to == to]
    if from_ := args.get("From"):
        found = [m for m in found if m.from_ == from_]
    for name in ("DateSent", "DateSent<", "DateSent>"):
        if value := args.get(name):
            when, whole_day = parse_date_filter(name, value)
            found = [m for m in found if _matches(m, name, when, whole_day)]
    found.sort(key=_newest_first, reverse=True)
    size = _int(args, "PageSize", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX)
    page = _int(args, "Page", 0, 0, 10**9)
    token = args.get("PageToken")
    offset = page * size
    if token:
        if not re.fullmatch(r"PA\d+", token):
            raise ListRefused(20001, f"Invalid PageToken: {token!r}")
        offset = int(token[2:])
    shown = found[offset : offset + size]
    filters = [(k, args[k]) for k in _FILTERS if args.get(k)]

    def uri(number: int, at: int | None = None) -> str:
        query = [*filters, ("PageSize", str(size)), ("Page", str(number))]
        if at is not None:
            query.append(("PageToken", f"PA{at}"))
        return f"{base}?{urlencode(query)}"

    more = offset + size < len(found)
    return {
        "messages": shown,
        "page": page,
        "page_size": size,
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1, offset + size) if more else None,
        "previous_page_uri": uri(page - 1, max(0, offset - size)) if page > 0 else None,
        "uri": uri(page, offset if token else None),
        "start": offset,
        "end": offset + max(0, len(shown) - 1),
    }
