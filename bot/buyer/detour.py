"""Free words at a step that waits for something else are never swallowed.

Inside a step (how many, where to deliver…), words that are not the step's answer have first
been offered to the global commands (the flow's KEYWORDS: menu, panier, commandes, aide,
humain; STOP and HELP in the engine). What is left is a support question or a search: `aside`
answers it without leaving the step, and the step's handler then asks its question again with
its choices, so nothing she typed is lost and the step still waits for its answer.
"""

from __future__ import annotations

from bot.buyer.common import main_menu
from bot.flow import Context
from bot.messages import InboundKind, InboundMessage, Reply, Text
from bot.support.handlers import ask as support_ask
from bot.support.handlers import looks_like_support_question
from commerce.text import fold


def aside(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """The answer to words typed at a step — a support answer or search results — without the
    main menu those end with elsewhere: the step's own question follows them."""
    if msg.kind != InboundKind.TEXT or not fold(msg.text):
        return [Text(ctx.t("buyer.not_understood"))]
    if looks_like_support_question(msg.text):
        _state, replies = support_ask(msg, ctx)
    else:
        from bot.buyer.handlers import search  # handlers import this module's users

        _state, replies = search(msg, ctx)
    menu = main_menu(ctx)
    return [r for r in replies if r != menu]
