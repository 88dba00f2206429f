"""The buyer's side of support threads: a question's conversation with the seller, and the
hand-off to a person ("humain", "agent").

While a question thread is open the buyer's free words go to the seller instead of a search;
FIN / END closes it. A hand-off puts the conversation in human mode: the engine then relays
everything to the person (bot/handoff_flow.py) until either side ends it.
"""

from __future__ import annotations

from bot.buyer.common import to_menu
from bot.buyer.states import BuyerState
from bot.flow import Context, Intent, Result
from bot.handoff_flow import (
    HUMAN_WORDS,
    end_thread,
    hand_off_to_human,
    order_in_context,
    says_close,
)
from bot.messages import InboundKind, InboundMessage, Text
from bot.support.retrieval import HUMAN_PHRASES
from bot.threads import staff_name
from commerce.errors import NotFound
from commerce.text import fold
from commerce.threads import SupportThread, ThreadKind, open_thread_of_buyer, post_message


def _open_question(ctx: Context) -> SupportThread | None:
    return open_thread_of_buyer(ctx.session, ctx.user.id, ThreadKind.QUESTION)


def _typed(msg: InboundMessage) -> bool:
    return msg.kind == InboundKind.TEXT and bool(msg.text.strip())


_HUMAN = frozenset(fold(w) for w in HUMAN_WORDS)
SHORT_REQUEST = 8  # words: longer text naming a person is a question for the assistant first


def wants_human(text: str) -> bool:
    """ "humain", "un conseiller", "je veux parler à quelqu'un", "I want to talk to someone"."""
    folded = fold(text)
    if folded in _HUMAN:
        return True
    padded = f" {folded} "
    short = len(folded.split()) <= SHORT_REQUEST
    return short and any(f" {p} " in padded for p in HUMAN_PHRASES)


WANTS_HUMAN = Intent("wants_human", lambda m, _c: _typed(m) and wants_human(m.text))
CLOSES_THREAD = Intent(
    "closes_thread", lambda m, c: _typed(m) and says_close(m.text) and _open_question(c) is not None
)
IN_THREAD = Intent("in_thread", lambda m, c: _typed(m) and _open_question(c) is not None)


def to_thread(msg: InboundMessage, ctx: Context) -> Result:
    """Free words while a question thread is open: they go to the seller."""
    thread = _open_question(ctx)
    if thread is None:
        return to_menu(ctx, "buyer.stale")
    post_message(ctx.session, thread_id=thread.id, author_id=ctx.user.id, text=msg.text)
    return ctx.conv.state or BuyerState.MENU, [Text(ctx.t("buyer.thread.sent"))]


def close_thread(msg: InboundMessage, ctx: Context) -> Result:
    thread = _open_question(ctx)
    if thread is None:
        return to_menu(ctx, "buyer.stale")
    end_thread(ctx.session, thread_id=thread.id, actor_id=ctx.user.id)
    return BuyerState.MENU, [Text(ctx.t("buyer.thread.closed_you"))]


def ask_human(msg: InboundMessage, ctx: Context) -> Result:
    """ "humain" / "agent" in any state: a person (the seller of the open order, else an admin)."""
    try:
        thread = hand_off_to_human(
            ctx.session,
            buyer_id=ctx.user.id,
            channel=ctx.inbound.channel,
            address=ctx.inbound.address,
            reason=msg.text,
            tell_buyer=False,
            order_id=order_in_context(ctx.data),
        )
    except NotFound:
        return to_menu(ctx, "buyer.thread.no_one")
    # The engine saves this turn's data over the conversation's: keep who holds it.
    ctx.data["human"] = thread.staff_id
    who = staff_name(ctx.session, thread, ctx.lang)
    return BuyerState.MENU, [Text(ctx.t("buyer.thread.handoff", who=who))]
