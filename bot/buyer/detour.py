"""Free words at a step that waits for something else are never swallowed.

Inside a step (how many, where to deliver…), words that are not the step's answer have first
been offered to the global commands (the flow's KEYWORDS: menu, panier, commandes, aide,
humain; STOP and HELP in the engine). What is left is a support question or a search: `aside`
answers it without leaving the step, and the step's handler then asks its question again with
its choices, so nothing she typed is lost and the step still waits for its answer.
"""

from __future__ import annotations

from bot.buyer.common import main_menu
from bot.buyer.states import BuyerState
from bot.flow import Context, Handler, Result
from bot.messages import InboundKind, InboundMessage, Reply, Text
from bot.support.handlers import ask as support_ask
from bot.support.handlers import looks_like_support_question
from commerce.text import fold


def aside(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """The answer to words typed at a step — a support answer or search results — without the
    main menu those end with elsewhere: the step's own question follows them. A search that
    finds nothing says "not understood" instead: the choices that follow are the way on."""
    if msg.kind != InboundKind.TEXT or not fold(msg.text):
        return [Text(ctx.t("buyer.not_understood"))]
    if looks_like_support_question(msg.text):
        _state, replies = support_ask(msg, ctx)
    else:
        from bot.buyer.handlers import search  # handlers import this module's users

        state, replies = search(msg, ctx)
        if state == BuyerState.SEARCH:  # nothing found: most likely an answer gone wrong
            return [Text(ctx.t("buyer.not_understood"))]
    menu = main_menu(ctx)
    return [r for r in replies if r != menu]


def aside_then(msg: InboundMessage, ctx: Context, again: Result) -> Result:
    """`aside`'s answer, then `again`: the step's question asked again with its choices (the
    last menu shown, so a number still answers the step)."""
    state, replies = again
    return state, [*aside(msg, ctx), *replies]


def then_again(ask: Handler) -> Handler:
    """The handler for words typed at a step with choices: `aside`, then `ask` again."""

    def detour(msg: InboundMessage, ctx: Context) -> Result:
        return aside_then(msg, ctx, ask(msg, ctx))

    detour.__name__ = f"then_again_{getattr(ask, '__name__', 'ask')}"
    return detour
