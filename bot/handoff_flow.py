"""Human hand-off as a mechanism: open a "handoff" thread, put the conversation in human mode,
relay what the buyer writes while a person holds it, and give it back to the bot at the end.

`hand_off_to_human` is the one entry point: the buyer flow calls it on "humain" / "agent",
the support assistant calls it when the model cannot help. The person (the seller of the
buyer's most recent open order, else the first admin) answers from Telegram through the thread's
Reply button; "Libérer" (or either side closing the thread) ends human mode.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy.orm import Session

from bot import handoff, i18n
from bot.messages import InboundMessage, Reply, Text
from commerce.db import action
from commerce.errors import CommerceError, NotFound
from commerce.messaging.models import ConversationState
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.text import fold
from commerce.threads import (
    SupportThread,
    ThreadKind,
    close_thread,
    open_thread,
    open_thread_of_buyer,
    post_message,
    staff_for_buyer,
)
from commerce.users.models import Channel, User

# What a buyer types to leave a thread (whole message, accents and case aside).
CLOSE_WORDS = frozenset({"fin", "fermer", "terminer", "terminé", "close", "end", "done"})
HUMAN_WORDS = (
    "humain",
    "un humain",
    "agent",
    "human",
    "a human",
    "parler a quelqu'un",
    "parler a quelqu un",
    "parler a un humain",
    "parler a un agent",
    "talk to a human",
    "talk to someone",
)


def order_in_context(data: dict[str, Any]) -> int | None:
    """The order the buyer last looked at, kept in the conversation data under "order" by
    `bot.buyer.orders.order_view`: a hand-off goes to that order's seller."""
    order_id = data.get("order")
    return order_id if isinstance(order_id, int) and not isinstance(order_id, bool) else None


def says_close(text: str) -> bool:
    return fold(text) in {fold(w) for w in CLOSE_WORDS}


def closes_a_thread(session: Session, *, conv: ConversationState, user: User, text: str) -> bool:
    """Is `text` FIN/END said inside a hand-off or an open question thread?

    END is both Twilio's opt-out word and a synonym of FIN. The rule: inside a hand-off (human
    mode) or while the buyer's question thread is open, FIN/END end that conversation and opt
    no one out; anywhere else END keeps its opt-out meaning (CHANNELS.md). The engine asks this
    before it reads END as an opt-out.
    """
    if not says_close(text):
        return False
    if conv.human_mode:
        return True
    return open_thread_of_buyer(session, user.id, ThreadKind.QUESTION) is not None


def _set_human_mode(
    session: Session, *, buyer_id: int, channel: Channel, address: str, staff_id: int
) -> None:
    try:
        handoff.hand_off(session, channel=channel, address=address, to_user_id=staff_id)
    except NotFound:
        # Called before the buyer ever wrote on this channel (the assistant, a worker): the
        # conversation starts in human mode.
        session.add(
            ConversationState(
                channel=channel,
                address=address,
                user_id=buyer_id,
                flow="buyer",
                state="",
                data={"human": staff_id},
                human_mode=True,
            )
        )
        session.flush()


@action
def hand_off_to_human(
    session: Session,
    *,
    buyer_id: int,
    channel: Channel,
    address: str,
    reason: str,
    tell_buyer: bool = True,
    order_id: int | None = None,
    to_admin: bool = False,
) -> SupportThread:
    """Give the buyer's conversation on (channel, address) to a person; returns the thread.

    Idempotent: a buyer already handed off keeps the same open thread (the new reason is
    posted to it, the buyer is not told twice). `tell_buyer` queues "a person will answer
    you" through the outbox; the buyer flow answers in its own turn instead and passes False.
    `order_id` is the order in context (the one the buyer just asked about): its seller answers,
    unless `to_admin` (the seller is the problem: the support assistant's silent seller).
    """
    reason_text = " ".join((reason or "").split()) or "—"
    thread = open_thread_of_buyer(session, buyer_id, ThreadKind.HANDOFF)
    if thread is not None:
        post_message(session, thread_id=thread.id, author_id=buyer_id, text=reason_text)
        tell_buyer = False  # already told when the thread opened
    else:
        staff_id, order_id = staff_for_buyer(session, buyer_id, order_id, to_admin=to_admin)
        thread = open_thread(
            session,
            buyer_id=buyer_id,
            staff_id=staff_id,
            kind=ThreadKind.HANDOFF,
            text=reason_text,
            order_id=order_id,
            buyer_channel=channel,
            buyer_address=address,
        )
    _set_human_mode(
        session, buyer_id=buyer_id, channel=channel, address=address, staff_id=thread.staff_id
    )
    if tell_buyer:
        notify(
            session,
            user_id=buyer_id,
            kind=Notice.THREAD_HANDOFF,
            params={"thread_id": thread.id},
            essential=True,
            channel=channel,
            address=address,
        )
    return thread


def end_thread(session: Session, *, thread_id: int, actor_id: int) -> SupportThread:
    """Close a thread (either side, or an admin); a hand-off also gives the bot back its turn."""
    thread = close_thread(session, thread_id=thread_id, actor_id=actor_id)
    if thread.kind == ThreadKind.HANDOFF and thread.buyer_channel is not None:
        with contextlib.suppress(NotFound):  # the buyer's conversation is gone: nothing to free
            handoff.release(session, channel=thread.buyer_channel, address=thread.buyer_address)
    return thread


def relay_in_human_mode(
    session: Session, *, conv: ConversationState, user: User, msg: InboundMessage
) -> list[Reply]:
    """What the engine does with a message while a person holds the conversation.

    The text goes to the open hand-off thread and the bot stays silent ([]); "FIN" closes the
    thread and gives the conversation back. Without an open hand-off thread (human mode set
    directly with bot.handoff.hand_off) the bot simply stays silent until released.
    """
    thread = open_thread_of_buyer(session, user.id, ThreadKind.HANDOFF)
    lang = user.language.value
    if thread is None:
        return []
    text = msg.text.strip()
    if says_close(text):
        end_thread(session, thread_id=thread.id, actor_id=user.id)
        return [Text(i18n.t(lang, "buyer.thread.closed_you"))]
    if not text:
        return []
    try:
        post_message(session, thread_id=thread.id, author_id=user.id, text=text)
    except CommerceError as exc:
        params = {k: v for k, v in exc.params.items() if isinstance(v, str | int | float)}
        return [Text(i18n.t(lang, f"error.{exc.code.value}", **params))]
    return []
