"""Twilio: the credentials open an active account, the SMS number is the account's and texts
to it reach Boutik; what cannot be read of the WhatsApp sender is said, not assumed.

Why these reads: a wrong auth token, a number bought on another account or a webhook left on
an old address all fail silently on Twilio's side (messages are refused or answered by nobody),
so they are worth checking before the first customer writes.
"""

from __future__ import annotations

from boutik.doctor.results import CALL_TIMEOUT_S, Result, Status, public_url, shown_url
from boutik.doctor.routes import twilio_sms_path, twilio_whatsapp_path
from boutik.doctor.templates import check_templates
from boutik.runtime import Runtime
from channels_adapters.senders import SendError, TwilioSender
from channels_adapters.senders.twilio_sender import NumberWebhook
from commerce.phones import mask_phone

# Twilio's shared WhatsApp sandbox number: it belongs to Twilio, not to any account.
WHATSAPP_SANDBOX = "+14155238886"
_CONSOLE_NUMBER = "Twilio Console > Phone Numbers > Active numbers > the number > Messaging"


def check_twilio(rt: Runtime) -> list[Result]:
    secrets = rt.config.secrets
    if not secrets.twilio_account_sid or not secrets.twilio_auth_token:
        return [
            Result.problem(
                "Twilio credentials",
                "TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set",
                "set both from the Twilio Console (Account > API keys & tokens)",
            )
        ]
    sender = TwilioSender(
        secrets.twilio_account_sid,
        secrets.twilio_auth_token,
        rt.config.twilio.api_base_url,
        timeout=CALL_TIMEOUT_S,
    )
    account = _account(sender)
    if account.status is Status.PROBLEM:
        return [
            account,
            Result.info("Twilio numbers and templates", "not checked: the account answers first"),
        ]
    if rt.config.whatsapp.provider == "meta":
        whatsapp = [
            Result.info(
                "Twilio WhatsApp sender and templates",
                'not checked: [whatsapp] provider = "meta" (WhatsApp goes through Meta\'s Cloud '
                "API, checked below; SMS stays with Twilio)",
            )
        ]
        return [account, _sms_number(rt, sender), _messaging_service(), *whatsapp]
    return [
        account,
        _sms_number(rt, sender),
        _whatsapp_sender(rt),
        _messaging_service(),
        *check_templates(rt),
    ]


def _account(sender: TwilioSender) -> Result:
    subject = "Twilio credentials"
    try:
        account = sender.fetch_account()
    except SendError as exc:
        if exc.code in ("20003", "401", "403"):
            return Result.problem(
                subject,
                "Twilio refused TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN",
                "copy the Account SID and the current Auth Token from the Twilio Console "
                "(a rotated token invalidates the old one)",
            )
        return Result.problem(
            subject,
            f"Twilio did not answer ({exc.code}: {exc.reason})",
            "check this machine's network, [twilio] api_base_url and status.twilio.com",
        )
    if account.status != "active":
        return Result.problem(
            subject,
            f"the account is {account.status or 'in an unknown state'}",
            "reactivate it in the Twilio Console (billing) or use an active account",
        )
    if account.type == "Trial":
        return Result.warn(
            subject,
            "a trial account: it sends only to verified numbers, with a trial notice",
            "upgrade the account in the Twilio Console before going live",
        )
    return Result.ok(subject, "the account is active")


def _sms_number(rt: Runtime, sender: TwilioSender) -> Result:
    number = rt.config.twilio.sms_from
    subject = f"SMS number {mask_phone(number)}"
    expected = public_url(rt, twilio_sms_path())
    try:
        found = sender.incoming_number(number)
    except SendError as exc:
        return Result.problem(
            subject,
            f"Twilio did not list the account's numbers ({exc.code}: {exc.reason})",
            "run doctor again; if it persists, check status.twilio.com",
        )
    if found is None:
        return Result.problem(
            subject,
            "not a number of this Twilio account: texts to it never reach Boutik and sending "
            "from it is refused",
            "buy or port the number on this account, or set [twilio] sms_from to one of its "
            "numbers",
        )
    wrong = _webhook_faults(found, expected)
    if wrong:
        return Result.problem(
            subject,
            "; ".join(wrong),
            f"in the {_CONSOLE_NUMBER}, set 'A message comes in' to Webhook {expected}, HTTP POST",
        )
    return Result.ok(subject, f"on the account, texts go to {expected} (POST)")


def _webhook_faults(number: NumberWebhook, expected: str) -> list[str]:
    faults = []
    if not number.receives_sms:
        faults.append("the number cannot receive SMS")
    if number.sms_application_sid:
        faults.append("texts go to a TwiML App, not to the number's webhook")
    if number.sms_url != expected:
        faults.append(
            f"its incoming-message webhook is {shown_url(number.sms_url)}, not {expected}"
        )
    if number.sms_method.upper() != "POST":
        faults.append(f"its webhook method is {number.sms_method or 'unset'}, not POST")
    return faults


def _whatsapp_sender(rt: Runtime) -> Result:
    sender = rt.config.twilio.whatsapp_from
    bare = sender.removeprefix("whatsapp:")
    expected = public_url(rt, twilio_whatsapp_path())
    subject = f"WhatsApp sender {mask_phone(bare)}"
    if bare == WHATSAPP_SANDBOX:
        return Result.info(
            subject,
            "Twilio's WhatsApp sandbox (testing only; users must join it first). No API reads "
            "its inbound URL: in the Twilio Console (Messaging > Try it out > WhatsApp sandbox "
            f"settings), 'When a message comes in' should be {expected} (POST)",
        )
    return Result.info(
        subject,
        "not checked: a WhatsApp sender is not an IncomingPhoneNumber; its webhook lives in "
        "Twilio's Senders API (Messaging v2) or on its Messaging Service, neither of which is "
        "in the provider specs Boutik is tested against. In the Twilio Console (Messaging > "
        f"Senders > WhatsApp senders) its webhook should be {expected} (POST)",
    )


def _messaging_service() -> Result:
    return Result.info(
        "Twilio Messaging Service",
        "none in the config (Boutik sends From the numbers). Not checked: if a number belongs "
        "to a Messaging Service whose 'use inbound webhook on number' is off, that service's "
        "inbound URL wins over the number's; Messaging v1 is not in Boutik's provider specs",
    )
