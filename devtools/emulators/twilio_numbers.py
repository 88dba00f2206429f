"""A local stand-in for Twilio's account reads: the Account and its IncomingPhoneNumbers.

Why: `boutik doctor` checks a deployment against Twilio — the credentials (fetch the Account)
and the numbers in the config (list the IncomingPhoneNumbers with a PhoneNumber filter, then
read each one's incoming-message webhook). Those reads must run through the real ``twilio`` SDK
against something that answers as Twilio does (same paths, Basic auth, list pages, resource
fields as the 2010-04-01 OpenAPI describes them), or a doctor that passes here could still
misread Twilio. The numbers live in the shared store (``EmulatorStore.set_incoming_number``), so
a test configures them as a Twilio customer would in the Console. Production never mounts this.
"""

from __future__ import annotations

import hmac
import re
from email.utils import format_datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from devtools.emulators.store import EmulatorStore, IncomingNumber
from devtools.emulators.twilio_api import API_VERSION, twilio_error

PAGE_SIZE_MAX = 1000


def _number_filter(given: str) -> re.Pattern[str]:
    """Twilio's PhoneNumber filter: a partial number matches anywhere, ``*`` is any digit."""
    return re.compile("".join(r"\d" if ch == "*" else re.escape(ch) for ch in given))


def _account_json(account_sid: str, auth_token: str) -> dict[str, Any]:
    """The Account resource (schema ``api.v2010.account``): its auth token included, as
    Twilio returns it — which is why nothing may print what this answers."""
    base = f"/{API_VERSION}/Accounts/{account_sid}"
    stamp = "Mon, 02 Nov 2026 10:00:00 +0000"
    return {
        "auth_token": auth_token,
        "date_created": stamp,
        "date_updated": stamp,
        "friendly_name": "Boutik (emulated account)",
        "owner_account_sid": account_sid,
        "sid": account_sid,
        "status": "active",
        "subresource_uris": {
            "incoming_phone_numbers": f"{base}/IncomingPhoneNumbers.json",
            "messages": f"{base}/Messages.json",
        },
        "type": "Full",
        "uri": f"{base}.json",
    }


def _number_json(account_sid: str, number: IncomingNumber) -> dict[str, Any]:
    """An IncomingPhoneNumber (schema ``api.v2010.account.incoming_phone_number``).

    The spec, not the live API, is the contract: no `subresource_uris` (the schema has none),
    and an unset application SID is null (the schema's pattern refuses "").
    """
    stamp = format_datetime(number.created_at)
    return {
        "account_sid": account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": API_VERSION,
        "beta": False,
        "bundle_sid": None,
        "capabilities": dict(number.capabilities),
        "date_created": stamp,
        "date_updated": stamp,
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Inactive",
        "friendly_name": number.friendly_name,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": number.phone_number,
        "sid": number.sid,
        "sms_application_sid": number.sms_application_sid or None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": number.sms_fallback_url,
        "sms_method": number.sms_method,
        "sms_url": number.sms_url,
        "status": "in-use",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": None,
        "type": "local",
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{number.sid}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": None,
    }


def make_twilio_numbers_blueprint(
    store: EmulatorStore, *, account_sid: str, auth_token: str
) -> Blueprint:
    """The Account fetch and the IncomingPhoneNumbers list, behind the account's Basic auth."""
    bp = Blueprint("twilio_numbers_emulator", __name__)

    def authenticated(path_sid: str) -> bool:
        auth = request.authorization
        if auth is None or auth.username is None or auth.password is None:
            return False
        return (
            hmac.compare_digest(auth.username.encode(), account_sid.encode())
            and hmac.compare_digest(auth.password.encode(), auth_token.encode())
            and hmac.compare_digest(path_sid.encode(), account_sid.encode())
        )

    def refused() -> Response | None:
        """Twilio's 401 for bad credentials, else a failure the test programmed, else None."""
        if not authenticated(request.view_args["path_sid"] if request.view_args else ""):
            return twilio_error(401, 20003, "Authenticate")
        failure = store.take_failure("twilio")
        if failure is None:
            return None
        code = failure.code or (20429 if failure.status == 429 else 20500)
        default = "Too Many Requests" if failure.status == 429 else "Internal Server Error"
        return twilio_error(failure.status, code, failure.description or default)

    @bp.get(f"/{API_VERSION}/Accounts/<path_sid>.json")
    def fetch_account(path_sid: str) -> Response:
        return refused() or jsonify(_account_json(account_sid, auth_token))

    @bp.get(f"/{API_VERSION}/Accounts/<path_sid>/IncomingPhoneNumbers.json")
    def list_numbers(path_sid: str) -> Response:
        """One page of the account's numbers, with the PhoneNumber and FriendlyName filters."""
        failed = refused()
        if failed is not None:
            return failed
        numbers = store.incoming_numbers()
        if wanted := request.args.get("PhoneNumber"):
            pattern = _number_filter(wanted)
            numbers = [n for n in numbers if pattern.search(n.phone_number)]
        if name := request.args.get("FriendlyName"):
            numbers = [n for n in numbers if n.friendly_name == name]
        try:
            size = max(1, min(PAGE_SIZE_MAX, int(request.args.get("PageSize", "50"))))
        except ValueError:
            return twilio_error(400, 20001, "Invalid PageSize")
        page = numbers[:size]
        base = f"/{API_VERSION}/Accounts/{path_sid}/IncomingPhoneNumbers.json"
        return jsonify(
            {
                "incoming_phone_numbers": [_number_json(account_sid, n) for n in page],
                "page": 0,
                "page_size": size,
                "first_page_uri": f"{base}?PageSize={size}&Page=0",
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": f"{base}?PageSize={size}&Page=0",
                "start": 0,
                "end": max(0, len(page) - 1),
            }
        )

    return bp
