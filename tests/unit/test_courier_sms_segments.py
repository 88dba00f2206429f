"""Every courier-facing SMS fits one GSM-7 segment with the longest values it can hold."""

from __future__ import annotations

import pytest

from bot import i18n
from bot.courier import wording
from bot.courier.handlers import SHRINK
from channels_adapters.qr_page import confirm_link
from commerce import geo
from commerce.messaging.sms_text import segments, to_gsm7

# Texts a courier never receives by SMS: Telegram labels, the QR web page, seller notices.
NOT_SMS = (
    "courier.menu.",
    "courier.qr.",
    "courier.offer.accept",
    "courier.job.picked_button",
    "courier.job.delivered_button",
    "courier.job.returned_button",
    "courier.notify.unclaimed",
    "courier.notify.bonus",
)
ORDER = 9_999_999  # 7 digits
MONEY = 10_000_000  # "10 000 000 GNF"


def _longest_place() -> str:
    g = geo.guinea()
    places = [wording.place(q.name, p.name) for p, q in g.all_quartiers()]
    places += [p.name for p in g.all_prefectures()]
    return max(places, key=len)


def _longest_prefecture() -> str:
    return max((p.name for p in geo.guinea().all_prefectures()), key=len)


def longest_values(lang: str) -> dict[str, object]:
    item = max(
        (
            i18n.t(lang, k, order_id=ORDER)
            for k in (
                "courier.job_to_pick",
                "courier.job_to_deliver",
                "courier.return_to_pick",
                "courier.return_to_drop",
            )
        ),
        key=len,
    )
    return {
        "order_id": ORDER,
        "origin": _longest_prefecture(),
        "destination": _longest_prefecture(),
        "km": wording.km(lang, 999.94),
        "commission_gnf": MONEY,
        "total_gnf": MONEY,
        "refund_gnf": MONEY,
        "today_gnf": MONEY,
        "week_gnf": MONEY,
        "unpaid_gnf": MONEY,
        "done_today": 99,
        "place": _longest_place(),
        "landmark": "Derrière la grande mosquée Fayçal, deuxième ruelle à gauche " * 5,
        "shop": "Boutique Électronique et Téléphones Mamadou Bailo Diallo & Frères Nzérékoré"[:80],
        "phone": "+224622123456",
        "name": "Mamadou Bailo Alpha Oumar Abdoulaye Thierno Diallo de Dar-es-Salam " * 2,
        "vehicle": max((i18n.t(lang, f"courier.menu.{v}") for v in ("moto", "voiture")), key=len),
        "reason": "Pièce d'identité illisible, merci de renvoyer une photo nette " * 8,
        "attempts_left": 4,
        "max": 5,
        "count": 5,
        "items": ", ".join([item] * 5),
        "url": confirm_link(
            "https://boutik.example.gn", b"k" * 32, "t" * 43, ORDER, ORDER, 1_999_999_999
        ),
        "amount_gnf": MONEY,
        "held_gnf": MONEY,
        "owed_gnf": MONEY,
        "earned_gnf": MONEY,
        "sellers": 99,
        "hours": 9999,
        "avg": 4.5,
        "minutes": 1440,  # a PIN pause of a whole day ([delivery] courier_pin_window_s)
    }


def sms_keys(lang: str) -> list[str]:
    return sorted(
        k for k in i18n.catalog(lang) if k.startswith("courier.") and not k.startswith(NOT_SMS)
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_courier_sms_is_one_gsm7_segment_at_maximum_lengths(lang: str) -> None:
    values = longest_values(lang)
    too_long = {}
    for key in sms_keys(lang):
        text = to_gsm7(wording.fit(lang, key, shrink=SHRINK, **values))
        assert "{" not in text, f"{key}: unfilled placeholder in {text!r}"
        if segments(text) != ("GSM-7", 1):
            too_long[key] = (len(text), text)
    assert not too_long
    assert len(sms_keys(lang)) > 40  # the catalog is really covered


def test_shrinking_keeps_the_numbers_a_courier_needs() -> None:
    values = longest_values("fr")
    text = wording.fit("fr", "courier.job.accepted", shrink=SHRINK, **values)
    assert str(ORDER) in text and "+224622123456" in text and f"P{ORDER}" in text
    assert "Derrière la grande" in text  # the landmark is cut, not dropped


def test_both_catalogs_have_the_same_courier_keys_and_placeholders() -> None:
    import string

    fr, en = i18n.catalog("fr"), i18n.catalog("en")
    keys = {k for k in fr if k.startswith("courier.")}
    assert keys == {k for k in en if k.startswith("courier.")}
    for key in keys:
        names_fr = {f for _, f, _, _ in string.Formatter().parse(fr[key]) if f}
        names_en = {f for _, f, _, _ in string.Formatter().parse(en[key]) if f}
        assert names_fr == names_en, key
