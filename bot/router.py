"""Which flow answers a message: by the sender's roles and the channel."""

from __future__ import annotations

from bot.buyer.flow import FLOW as BUYER
from bot.flow import Flow
from bot.messages import InboundMessage
from commerce.messaging.models import ConversationState
from commerce.users.models import User


def pick_flow(user: User, msg: InboundMessage, conv: ConversationState) -> Flow:
    return BUYER
