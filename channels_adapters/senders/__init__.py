"""Thin synchronous wrappers of the official Twilio and Telegram SDKs, and of the Graph API.

Why wrappers at all: workers are synchronous and need one small, uniform contract — a
``SendResult`` or a ``SendError`` that says whether retrying can help — instead of two SDKs'
exception trees. Why the official SDKs and not hand-written HTTP: their request building,
auth and error parsing are what production runs, so tests against the local emulators
(``devtools.emulators``) exercise the same code. The only thing configurable is the
base URL, which points the SDKs at an emulator in tests and at the providers in production.

No secret is ever put in a log line or an error message: the bot token is registered with
``settings.log_redaction``, which masks it in every log record (httpx logs every URL, and the
token is in the URL) and in the errors built here.
"""

from channels_adapters.senders.meta_sender import MetaSender
from channels_adapters.senders.result import SendError, SendResult
from channels_adapters.senders.telegram_sender import (
    TelegramSender,
    reply_markup_from_dict,
    telegram_urls,
)
from channels_adapters.senders.twilio_sender import (
    MEDIA_MAX_BYTES,
    MEDIA_MAX_REDIRECTS,
    TwilioSender,
)

__all__ = [
    "MEDIA_MAX_BYTES",
    "MEDIA_MAX_REDIRECTS",
    "MetaSender",
    "SendError",
    "SendResult",
    "TelegramSender",
    "TwilioSender",
    "reply_markup_from_dict",
    "telegram_urls",
]
