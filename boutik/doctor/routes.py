"""The webhook paths, read from the blueprints that serve them.

Why not written out again here: a route renamed in channels_adapters would leave doctor
approving the old URL on Twilio and Telegram; reading the blueprint keeps the two in step.
"""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Flask


@cache
def route_of(bp: Blueprint, view: str) -> str:
    """The URL rule of `view` (a function name) in `bp`, e.g. "/webhooks/twilio/sms"."""
    app = Flask("boutik-doctor-routes")
    app.register_blueprint(bp)
    endpoint = f"{bp.name}.{view}"
    for rule in app.url_map.iter_rules():
        if rule.endpoint == endpoint:
            return rule.rule
    raise LookupError(f"{endpoint} has no route")


def twilio_sms_path() -> str:
    from channels_adapters import twilio_inbound

    return route_of(twilio_inbound.bp, "sms")


def twilio_whatsapp_path() -> str:
    from channels_adapters import twilio_inbound

    return route_of(twilio_inbound.bp, "whatsapp")


def telegram_path() -> str:
    from channels_adapters import telegram_inbound

    return route_of(telegram_inbound.bp, "webhook")


def meta_whatsapp_path() -> str:
    from channels_adapters import meta_inbound

    return route_of(meta_inbound.bp, "webhook")
