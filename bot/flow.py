"""How a flow is declared: states → [(intent, handler)], plus entry and fallbacks.

Modelled on python-telegram-bot's `ConversationHandler(states=...)`: the table is the flow;
handlers are small functions `(message, context) -> (next_state, [Reply])` that call commerce
actions and never a channel API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot import i18n
from bot.messages import InboundKind, InboundMessage, Reply
from commerce.errors import InvalidInput
from commerce.messaging.models import ConversationState
from commerce.text import fold
from commerce.users.models import User


@dataclass
class Context:
    session: Session
    user: User
    conv: ConversationState
    inbound: InboundMessage
    data: dict[str, Any]
    public_base_url: str = ""
    # Where generated images (QR codes, charts, downloaded photos) are written.
    media_dir: Path = field(default_factory=lambda: Path("var/media"))
    # Whether a language model answers support questions (`[llm]` names a server and a model):
    # the turn then parks the question for the worker instead of answering offline.
    assistant_model: bool = False
    # The first message of a number never heard before (bot/engine.py): the buyer's greeting
    # may then answer in the language that message is written in (bot/language.py).
    first_contact: bool = False

    @property
    def lang(self) -> str:
        return self.user.language.value

    def t(self, key: str, **params: Any) -> str:
        return i18n.t(self.lang, key, **params)


Result = tuple[str, list[Reply]]
Handler = Callable[[InboundMessage, Context], Result]


@dataclass(frozen=True)
class Intent:
    name: str
    test: Callable[[InboundMessage, Context], bool]

    def __call__(self, msg: InboundMessage, ctx: Context) -> bool:
        return self.test(msg, ctx)


def payload(prefix: str) -> Intent:
    """A tap (or numbered answer) on a choice whose id starts with `prefix`."""
    return Intent(
        f"payload:{prefix}",
        lambda m, _c: m.kind == InboundKind.BUTTON and m.payload.startswith(prefix),
    )


def words(*accepted: str) -> Intent:
    """Text whose first word (case- and accent-insensitive) is one of `accepted`."""
    folded = {fold(w) for w in accepted}

    def test(m: InboundMessage, _c: Context) -> bool:
        text = fold(m.text)
        return bool(text) and (text in folded or text.split()[0] in folded)

    return Intent(f"words:{'|'.join(sorted(folded))}", test)


def kind(*kinds: InboundKind) -> Intent:
    return Intent(f"kind:{','.join(kinds)}", lambda m, _c: m.kind in kinds)


def command(*names: str) -> Intent:
    wanted = {n.lstrip("/").lower() for n in names}

    def test(m: InboundMessage, _c: Context) -> bool:
        if m.kind != InboundKind.COMMAND:
            return False
        return m.text.split()[0].lstrip("/").split("@")[0].lower() in wanted

    return Intent(f"command:{'|'.join(sorted(wanted))}", test)


def payload_id(msg: InboundMessage, index: int = -1) -> int:
    """The id at `index` of a button payload ("o:a:1042" → 1042).

    Callback data come back from buttons kept for days, or forged: anything that is not a
    positive 32-bit id is refused as InvalidInput (a polite reply), never a crash.
    """
    parts = msg.payload.split(":")
    try:
        value = int(parts[index])
    except (IndexError, ValueError):
        raise InvalidInput("bad button", payload=msg.payload[:64]) from None
    if value <= 0 or value >= 2**31:  # ids are 32-bit columns on PostgreSQL
        raise InvalidInput("bad button", payload=msg.payload[:64])
    return value


ANY_TEXT = Intent("any_text", lambda m, _c: m.kind == InboundKind.TEXT and bool(m.text.strip()))
ANYTHING = Intent("anything", lambda _m, _c: True)

Route = tuple[Intent, Handler]


@dataclass(frozen=True)
class Flow:
    name: str
    entry: Handler
    states: dict[str, Sequence[Route]]
    fallbacks: Sequence[Route] = field(default_factory=tuple)
    # Last resort for input nothing matched: must answer helpfully, never stay silent.
    unknown: Handler | None = None
    # The catalog key the engine answers a bare AIDE/HELP/INFO with for this flow's users.
    help_key: str = "engine.help"
    # The catalog keys the engine confirms STOP and START with (a courier's are about jobs).
    opted_out_key: str = "engine.opted_out"
    opted_in_key: str = "engine.opted_in"
    # Payload prefixes of the buttons that finish a step (accept, refuse, approve, a choice made):
    # once tapped, the message they were on loses its buttons, so nothing stale stays to tap.
    # Browsing buttons (menus, lists, pages) are left where they are.
    final_taps: tuple[str, ...] = ()

    def closes(self, payload: str) -> bool:
        return bool(payload) and payload.startswith(self.final_taps)

    def route(self, state: str, msg: InboundMessage, ctx: Context) -> Handler | None:
        for intent, handler in list(self.states.get(state, ())) + list(self.fallbacks):
            if intent(msg, ctx):
                return handler
        return self.unknown
