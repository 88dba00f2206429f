"""Phone numbers: parsed and stored as E.164 with `phonenumbers`, masked in logs.

Why the library: Guinean numbers arrive as "622 12 34 56", "00224622123456", "+224 622…" or
"whatsapp:+224…"; hand-written regexes get the edge cases wrong, libphonenumber does not.
"""

from __future__ import annotations

import phonenumbers

from commerce.errors import InvalidPhone

DEFAULT_REGION = "GN"


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of `raw`, or raise InvalidPhone."""
    text = (raw or "").strip()
    for prefix in ("whatsapp:", "sms:", "tel:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number", raw=raw) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid phone number", raw=raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str:
    """+224622123456 → +224******456: enough to tell numbers apart in logs, no more."""
    if not phone:
        return ""
    text = phone.removeprefix("whatsapp:")
    if len(text) <= 6:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 7) + text[-3:]
