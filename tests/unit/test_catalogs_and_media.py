"""Message catalogs agree across languages; courier SMS fit one segment; media links expire."""

from __future__ import annotations

import re
import string

import pytest

from bot import i18n
from bot.keywords import Keyword, keyword_of
from bot.messages import Text
from channels_adapters import render
from channels_adapters.media import signed_media_url, verify
from commerce.messaging.sms_text import segments

FIELDS = re.compile(r"{(\w+)}")


def test_french_and_english_have_the_same_keys_and_placeholders() -> None:
    fr, en = i18n.catalog("fr"), i18n.catalog("en")
    assert set(fr) == set(en)
    for key in fr:
        assert set(FIELDS.findall(fr[key])) == set(FIELDS.findall(en[key])), key
        list(string.Formatter().parse(fr[key]))  # well-formed braces


def test_no_sentence_hedges_its_plural_with_s_in_brackets() -> None:
    """ "1 vendeur(s)" reads as a machine's sentence: a count picks its form (plural tables)."""
    hedged = [
        (lang, key)
        for lang in ("fr", "en")
        for key, text in i18n.catalog(lang).items()
        if re.search(r"\w\(s\)", text)
    ]
    assert hedged == []


def test_every_error_code_has_a_sentence() -> None:
    from commerce.errors import ErrorCode

    for code in ErrorCode:
        assert i18n.has("fr", f"error.{code.value}") and i18n.has("en", f"error.{code.value}")


COURIER_KINDS = ("job_assigned", "job_cancelled", "delivery_closed", "courier_approved")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", COURIER_KINDS)
def test_courier_notifications_fit_one_gsm7_segment(kind: str, lang: str) -> None:
    longest = {
        "order_id": 9_999_999,
        "commission_gnf": 9_999_999,
        "job_id": 9_999_999,
        "reason": "",
    }
    text = i18n.t(lang, f"notify.{kind}", **longest)
    [part] = render.render_sms(Text(text), lang=lang)
    assert segments(part) == ("GSM-7", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", Keyword.OPT_OUT),
        ("arrêt", Keyword.OPT_OUT),
        ("Arret !", Keyword.OPT_OUT),
        ("unsubscribe", Keyword.OPT_OUT),
        ("START", Keyword.OPT_IN),
        ("reprendre", Keyword.OPT_IN),
        ("Aide", Keyword.HELP),
        ("HELP", Keyword.HELP),
        ("info", Keyword.HELP),
        ("stop la commande 1042", None),
        ("stopper", None),
        ("", None),
    ],
)
def test_keywords_are_whole_messages_in_both_languages(text: str, expected: Keyword | None) -> None:
    assert keyword_of(text) == expected


def test_media_links_are_signed_and_expire() -> None:
    key = b"unit-media-key"
    url = signed_media_url("https://b.gn", "qr/1042.png", key=key, ttl_s=60, now=1000.0)
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    assert verify("qr/1042.png", query["e"], query["s"], key=key, now=1030.0)
    assert not verify("qr/1042.png", query["e"], query["s"], key=key, now=1061.0)  # expired
    assert not verify("qr/1043.png", query["e"], query["s"], key=key, now=1030.0)  # another file
    assert not verify("qr/1042.png", query["e"], query["s"], key=b"other", now=1030.0)
    assert not verify("qr/1042.png", str(int(query["e"]) + 1000), query["s"], key=key, now=1030.0)
