"""What every buyer handler shares: the main menu, label cutting, payload parsing, replies.

Kept apart from the handlers so the checkout and order modules can use them without importing
each other.
"""

from __future__ import annotations

from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import Choice, Choices, InboundMessage, Reply, Text
from commerce.users.models import Channel

LABEL_MAX = 24  # WhatsApp list rows; a menu of ≤ 3 choices uses buttons: keep those ≤ 20
BUTTON_MAX = 20
MAX_CHOICES = 10  # WhatsApp list picker rows


def cut(text: str, limit: int = LABEL_MAX) -> str:
    """Shorten a label to the channel limit, ending with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def choices(text: str, options: list[Choice], *, button: str = "") -> Choices:
    """A menu within WhatsApp's limits: ≤ 10 rows, labels cut to 20 (buttons) or 24 (rows)."""
    options = options[:MAX_CHOICES]
    limit = BUTTON_MAX if len(options) <= 3 else LABEL_MAX
    return Choices(
        text=text,
        choices=tuple(Choice(c.id, cut(c.label, limit), c.description) for c in options),
        button=cut(button, BUTTON_MAX),
    )


def arg(msg: InboundMessage, index: int) -> int | None:
    """The integer at position `index` of a payload like "cash:yes:1042" (None if absent/bad).

    Payloads come back from buttons the user may have kept for days, or typed by hand: a
    malformed one is a stale button, never a crash.
    """
    parts = msg.payload.split(":")
    if len(parts) <= index:
        return None
    try:
        value = int(parts[index])
    except ValueError:
        return None
    return value if 0 <= value < 2**31 else None


def is_sms(ctx: Context) -> bool:
    return ctx.inbound.channel == Channel.SMS


def main_menu(ctx: Context, *, greeting: str = "") -> Choices:
    text = greeting or ctx.t("buyer.menu.title")
    return choices(
        text,
        [
            Choice("menu:catalog", ctx.t("buyer.menu.catalog")),
            Choice("menu:search", ctx.t("buyer.menu.search")),
            Choice("menu:cart", ctx.t("buyer.menu.cart")),
            Choice("menu:orders", ctx.t("buyer.menu.orders")),
            Choice("menu:help", ctx.t("buyer.menu.help")),
            Choice("menu:lang", ctx.t("buyer.menu.language")),
        ],
        button=ctx.t("buyer.menu.button"),
    )


def to_menu(ctx: Context, key: str, **params: object) -> Result:
    """A sentence, then the main menu: the answer to anything that ends a path."""
    replies: list[Reply] = [Text(ctx.t(key, **params)), main_menu(ctx)]
    return BuyerState.MENU, replies


def first_name(name: str) -> str:
    return (name or "").strip().split(" ")[0]
