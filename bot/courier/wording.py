"""Courier wording that must fit one SMS: places, distances, and shrinking free-text fields.

Why shrink at render time rather than trust the templates: landmarks, shop names and refusal
reasons are free text (a landmark may hold 300 characters), so a courier text is made to fit
one GSM-7 segment by cutting those fields — never the order number, the amount or the phone.
The check uses the same GSM-7 transliteration and segment count the SMS sender applies
(`commerce.messaging.sms_text`, pure functions, no provider).
"""

from __future__ import annotations

from typing import Any

from bot import i18n
from commerce.messaging.sms_text import fits_one_segment, septets, to_gsm7

SMS_SINGLE = 160
# A maps link any smartphone opens (Google Maps URLs: "search" with api=1, cross-platform).
MAPS_URL = "https://www.google.com/maps/search/?api=1&query={lat:.5f},{lng:.5f}"
# Fair shares of one SMS for free-text fields, before any is cut further.
CAPS = {"shop": 24, "landmark": 36, "place": 32, "name": 24, "reason": 90}


def place(quartier: str, prefecture: str) -> str:
    """ "Kipé, Ratoma", or the prefecture alone when no quartier is known."""
    quartier, prefecture = (quartier or "").strip(), (prefecture or "").strip()
    if quartier and prefecture and quartier != prefecture:
        return f"{quartier}, {prefecture}"
    return quartier or prefecture


def km(lang: str, distance: float) -> str:
    """6.24 → "6,2" in French, "6.2" in English."""
    text = f"{distance:.1f}"
    return text.replace(".", ",") if lang == "fr" else text


def _over(text: str) -> int:
    return septets(to_gsm7(text)) - SMS_SINGLE


def fit(lang: str, key: str, *, shrink: tuple[str, ...] = (), **params: Any) -> str:
    """The catalog text `key`, cutting the `shrink` fields (in order) until it is one SMS."""
    text = i18n.t(lang, key, **params)
    if fits_one_segment(to_gsm7(text)):
        return text
    values = dict(params)
    for name in shrink:  # first every free-text field to a fair share, so none vanishes
        value = str(values.get(name, ""))
        cap = CAPS.get(name, 40)
        if len(value) > cap:
            values[name] = value[:cap].rstrip(" ,.;-")
    text = i18n.t(lang, key, **values)
    for name in shrink:
        value = str(values.get(name, ""))
        while value and not fits_one_segment(to_gsm7(text)):
            keep = max(0, len(value) - max(1, _over(text)) - 1)
            value = value[:keep].rstrip(" ,.;-") if keep > 1 else ""
            values[name] = value
            text = i18n.t(lang, key, **values)
        if fits_one_segment(to_gsm7(text)):
            break
    return text


def maps_link(lat: float | None, lng: float | None) -> str:
    """A maps link to a shared GPS pin; "" when there is none."""
    if lat is None or lng is None:
        return ""
    return MAPS_URL.format(lat=lat, lng=lng)


def door(
    lang: str,
    key: str,
    *,
    shrink: tuple[str, ...],
    landmark: str,
    lat: float | None = None,
    lng: float | None = None,
    **params: Any,
) -> list[str]:
    """The texts that send a courier to a door, with its whole landmark and its pin.

    One SMS when the landmark fits in it whole. Otherwise the first SMS says the landmark
    follows, and the next one carries it uncut (the SMS renderer splits a landmark of up to
    300 characters into one-segment parts). A shared GPS pin comes last, as a maps link.
    """
    order_id = params.get("order_id", "")
    landmark = (landmark or "").strip()
    whole = i18n.t(lang, key, landmark=landmark, **params)
    if not landmark or fits_one_segment(to_gsm7(whole)):
        texts = [fit(lang, key, shrink=shrink, landmark=landmark, **params)]
    else:
        next_sms = i18n.t(lang, "courier.job.landmark_next")
        others = tuple(name for name in shrink if name != "landmark")  # "see next SMS" stays
        texts = [
            fit(lang, key, shrink=others, landmark=next_sms, **params),
            i18n.t(lang, "courier.job.landmark", order_id=order_id, landmark=landmark),
        ]
    url = maps_link(lat, lng)
    if not url:
        return texts
    if len(texts) == 2:  # landmark and link in one SMS when they fit together
        key = "courier.job.landmark_map"
        both = i18n.t(lang, key, order_id=order_id, landmark=landmark, url=url)
        if fits_one_segment(to_gsm7(both)):
            return [texts[0], both]
    return [*texts, i18n.t(lang, "courier.job.map", order_id=order_id, url=url)]
