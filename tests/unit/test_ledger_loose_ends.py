"""Ledger loose ends (issue 19): /caisse in the sellers' Telegram menu."""

from __future__ import annotations

from bot.command_menu import seller_menu


def test_the_sellers_menu_offers_caisse_in_french_and_cash_in_english() -> None:
    fr = dict(seller_menu("fr"))
    en = dict(seller_menu("en"))
    assert "caisse" in fr and "livreurs" in fr["caisse"]
    assert "cash" in en and "couriers" in en["cash"]
