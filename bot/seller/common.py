"""What every seller handler shares: the main menu, the welcome, answers that are gone, label
cutting, amounts and skipped answers typed by hand.

Kept apart from the handlers so onboarding, products, promotions and orders can use them without
importing each other. Callback data are short ("o:a:1042"): ids only, never trusted; every
action goes through the commerce core, which checks the seller owns what the id names. Wording
comes from bot/locales/*/seller.toml.
"""

from __future__ import annotations

import re
from typing import Any

from bot.flow import Context, Result
from bot.messages import Choice, Choices, Text
from bot.seller.charts import CHART_PENDING_KEY
from bot.seller.states import SellerState as S
from commerce import backoffice
from commerce.catalog.models import Shop
from commerce.text import fold
from commerce.users.models import Role

LABEL_MAX = 40
SKIP_WORDS = {"-", "passer", "skip", "aucun", "aucune", "none", "non", "no"}
LIMITS = {"name": 120, "description": 2000, "brand": 60, "colour": 40}


def label(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def amount(text: str) -> int | None:
    """ "250 000", "250000 GNF", "250.000" → 250000; anything else None."""
    cleaned = re.sub(r"(?i)gnf|fg|[\s.,'_]", "", text or "")
    return int(cleaned) if cleaned.isdecimal() and len(cleaned) <= 12 else None


def skipped(text: str) -> bool:
    return text.strip() in {"-", "—", "."} or fold(text).strip() in SKIP_WORDS


def own_shop(ctx: Context) -> Shop | None:
    return backoffice.shop_of(ctx.session, ctx.user.id)


def reset(ctx: Context, *keep: str) -> None:
    """Forget the previous dialogue's answers (keep the engine's own keys and the marker of a
    chart still being drawn, which is not an answer: /stats must keep seeing it)."""
    for key in list(ctx.data):
        if key not in keep and key not in ("menu", CHART_PENDING_KEY):
            ctx.data.pop(key)


def main_menu(ctx: Context, text: str = "") -> Choices:
    return Choices(
        text=text or ctx.t("seller.menu.title"),
        choices=(
            Choice("m:new", ctx.t("seller.menu.new")),
            Choice("m:products", ctx.t("seller.menu.products")),
            Choice("m:orders", ctx.t("seller.menu.orders")),
            Choice("m:promo", ctx.t("seller.menu.promo")),
            Choice("m:stats", ctx.t("seller.menu.stats")),
        ),
    )


def need_shop(ctx: Context) -> Result | None:
    """A command that needs a shop, from someone without one: offer to open it."""
    if own_shop(ctx) is None or not ctx.user.has_role(Role.SELLER):
        return S.WELCOME, [Text(ctx.t("seller.no_shop")), welcome(ctx)]
    return None


def welcome(ctx: Context) -> Choices:
    return Choices(
        text=ctx.t("seller.welcome.text"),
        choices=(
            Choice("w:shop", ctx.t("seller.welcome.shop")),
            Choice("w:buy", ctx.t("seller.welcome.buy")),
            Choice("w:courier", ctx.t("seller.welcome.courier")),
        ),
    )


def copied(ctx: Context, key: str) -> dict[str, Any] | None:
    """A fresh copy of a nested answer dict, put back in ctx.data.

    Why a copy: the engine copies `conv.data` one level deep, and a JSON column only saves a
    value that compares different; a nested dict changed in place would be silently lost.
    """
    value = ctx.data.get(key)
    if not isinstance(value, dict):
        return None
    ctx.data[key] = dict(value)
    return ctx.data[key]


def lost(ctx: Context) -> Result:
    """An answer arrived for a dialogue that is gone (stale state): start it again."""
    return S.MENU, [Text(ctx.t("seller.new.lost")), main_menu(ctx)]


def categories_menu(ctx: Context, prefix: str) -> Choices:
    name = "name_en" if ctx.lang == "en" else "name_fr"
    cats = backoffice.categories(ctx.session)
    return Choices(
        text=ctx.t("seller.new.category"),
        choices=tuple(Choice(f"{prefix}{c.id}", label(getattr(c, name))) for c in cats[:30]),
    )
