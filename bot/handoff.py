"""Human hand-off: a person (the seller, else an admin) takes a conversation over.

While `human_mode` is set the engine records what the user writes but the bot stays silent;
releasing gives the conversation back to the bot where it left off.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.errors import NotFound
from commerce.messaging.models import ConversationState
from commerce.users.models import Channel


def _conversation(session: Session, channel: Channel, address: str) -> ConversationState:
    conv = session.scalar(
        select(ConversationState).where(
            ConversationState.channel == channel, ConversationState.address == address
        )
    )
    if conv is None:
        raise NotFound("no such conversation", entity="conversation")
    return conv


def hand_off(session: Session, *, channel: Channel, address: str, to_user_id: int) -> None:
    conv = _conversation(session, channel, address)
    conv.human_mode = True
    conv.data = {**conv.data, "human": to_user_id}


def release(session: Session, *, channel: Channel, address: str) -> None:
    conv = _conversation(session, channel, address)
    conv.human_mode = False
    data = dict(conv.data)
    data.pop("human", None)
    conv.data = data
