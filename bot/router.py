"""Which flow answers a message: by the sender's roles, the channel, and the conversation.

- Telegram: admins get the admin flow; otherwise the conversation keeps the flow it is in
  (buyer, seller, courier) — `/start` goes back to the seller flow, whose entry lets a newcomer
  open a shop, buy, or deliver; sellers land in the seller flow, couriers in the courier flow.
- SMS: couriers (and `INSCRIPTION` / `JOIN`) get the courier flow; anyone else the buyer flow.
- WhatsApp: the buyer flow.

Flows are loaded by name (`bot.<name>.flow.FLOW`); a flow not built yet falls back to buyer.
"""

from __future__ import annotations

import importlib
from functools import cache

from bot.buyer.flow import FLOW as BUYER
from bot.flow import Flow
from bot.messages import InboundKind, InboundMessage
from commerce.messaging.models import ConversationState
from commerce.text import fold
from commerce.users.models import Channel, Role, User

COURIER_JOIN_WORDS = frozenset({"inscription", "join"})
FLOW_NAMES = ("buyer", "seller", "admin", "courier")


@cache
def load(name: str) -> Flow | None:
    try:
        module = importlib.import_module(f"bot.{name}.flow")
    except ModuleNotFoundError as exc:
        if exc.name in (f"bot.{name}.flow", f"bot.{name}"):
            return None
        raise
    return getattr(module, "FLOW", None)


def owns(flow: Flow, payload: str) -> bool:
    """Does one of `flow`'s routes answer a button with this payload?

    A seller who is half-way through buying on Telegram still taps the Accept button of a new
    order alert: the tap must reach the flow that made the button, whatever flow the chat is in.
    """
    routes = [*flow.fallbacks, *(r for rs in flow.states.values() for r in rs)]
    return any(
        intent.name.startswith("payload:") and payload.startswith(intent.name[len("payload:") :])
        for intent, _handler in routes
    )


def _button_owner(user: User, msg: InboundMessage, conv: ConversationState) -> str | None:
    candidates = [conv.flow, "seller", "courier", "buyer"]
    if not user.has_role(Role.SELLER):
        candidates.remove("seller")
    if not user.has_role(Role.COURIER):
        candidates.remove("courier")
    for name in candidates:
        flow = load(name) if name in FLOW_NAMES else None
        if flow is not None and owns(flow, msg.payload):
            return name
    return None


def choose(user: User, msg: InboundMessage, conv: ConversationState) -> str:
    words = fold(msg.text).split()
    first = words[0] if words else ""
    if msg.channel == Channel.TELEGRAM:
        if user.has_role(Role.ADMIN):
            return "admin"
        is_start = msg.kind == InboundKind.COMMAND and msg.text.split()[0].split("@")[0] == "/start"
        if is_start:
            return "seller"
        if msg.kind == InboundKind.BUTTON and msg.payload:
            owner = _button_owner(user, msg, conv)
            if owner is not None:
                return owner
        if conv.flow in FLOW_NAMES and conv.state:
            return conv.flow
        if user.has_role(Role.SELLER):
            return "seller"
        if user.has_role(Role.COURIER):
            return "courier"
        return "seller"  # its entry offers: open a shop, buy, or deliver
    if msg.channel == Channel.SMS and (user.has_role(Role.COURIER) or first in COURIER_JOIN_WORDS):
        return "courier"
    return "buyer"


def pick_flow(user: User, msg: InboundMessage, conv: ConversationState) -> Flow:
    return load(choose(user, msg, conv)) or BUYER


def flow_named(name: str) -> Flow:
    return load(name) or BUYER
