"""The conversation engine: one inbound message in, one transaction, replies to the outbox.

Order of work inside the caller's transaction:
1. record the provider's message id (UNIQUE): a redelivery stops here with no effect;
2. identify the user on this channel and remember the inbound time (WhatsApp window);
3. opt-out / opt-in / help keywords, handled the same on every channel;
4. human hand-off: the bot stays silent while a person holds the conversation, and what the
   user writes is relayed to that person (bot/handoff_flow.py);
5. the role's flow table picks a handler for (state, message); its replies and the new state
   are written with the business change. A refusal from the core becomes a polite reply; an
   unexpected error rolls back the handler's work only and still answers.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import i18n
from bot.flow import Context, Flow
from bot.handoff_flow import relay_in_human_mode
from bot.keywords import Keyword, keyword_of
from bot.messages import (
    Choices,
    InboundKind,
    InboundMessage,
    Reply,
    Text,
    Turn,
    reply_to_json,
)
from commerce import clock
from commerce.errors import CommerceError
from commerce.messaging.models import ConversationState
from commerce.messaging.models import InboundMessage as InboundRecord
from commerce.messaging.outbox import notify
from commerce.phones import mask_phone
from commerce.text import fold
from commerce.users import actions as users
from commerce.users.models import Channel, Role, User

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # longer inbound text is cut before any flow sees it
FlowPicker = Callable[[User, InboundMessage, ConversationState], Flow]


def _clean_text(text: str) -> str:
    """Drop control characters (keep newlines), trim, bound the length."""
    kept = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    return kept.strip()[:MAX_TEXT]


def _identify(session: Session, msg: InboundMessage) -> User:
    if msg.channel == Channel.TELEGRAM:
        if msg.telegram_user_id is None:
            raise ValueError("telegram message without a user id")
        return users.get_or_create_by_telegram(
            session, telegram_id=msg.telegram_user_id, name=msg.profile_name
        )
    return users.get_or_create_by_phone(session, phone=msg.address, name=msg.profile_name)


def _conversation(session: Session, msg: InboundMessage, user: User) -> ConversationState:
    stmt = select(ConversationState).where(
        ConversationState.channel == msg.channel, ConversationState.address == msg.address
    )
    conv = session.scalar(stmt.with_for_update())
    if conv is None:
        conv = ConversationState(
            channel=msg.channel, address=msg.address, user_id=user.id, state="", data={}
        )
        session.add(conv)
        session.flush()
    conv.user_id = user.id
    return conv


def _resolve_choice(msg: InboundMessage, conv: ConversationState) -> InboundMessage:
    """A number ("2") or a button's label answering the last menu becomes that choice's id."""
    menu: list[list[str]] = conv.data.get("menu") or []
    if msg.kind == InboundKind.BUTTON and msg.payload:
        return msg
    text = msg.text.strip().rstrip(".)")
    if text.isdigit() and menu and 1 <= int(text) <= len(menu):
        return dataclasses.replace(msg, kind=InboundKind.BUTTON, payload=menu[int(text) - 1][0])
    folded = fold(msg.text)
    for choice_id, label in menu:
        if folded and folded == fold(label):
            return dataclasses.replace(msg, kind=InboundKind.BUTTON, payload=choice_id)
    return msg


class Engine:
    def __init__(
        self,
        pick_flow: FlowPicker,
        *,
        public_base_url: str = "",
        media_dir: Path | None = None,
        admin_telegram_ids: tuple[int, ...] = (),
        flow_named: Callable[[str], Flow] | None = None,
    ) -> None:
        self.pick_flow = pick_flow
        self.public_base_url = public_base_url
        self.media_dir = media_dir or Path("var/media")
        self.admin_telegram_ids = frozenset(admin_telegram_ids)
        self.flow_named = flow_named

    def handle(self, session: Session, msg: InboundMessage) -> Turn:
        if not self._record(session, msg):
            log.info("duplicate %s %s ignored", msg.provider, msg.external_id)
            return Turn(duplicate=True)
        msg = dataclasses.replace(msg, text=_clean_text(msg.text))
        try:
            user = _identify(session, msg)
        except (CommerceError, ValueError) as exc:
            # An unusable sender (no valid number, no Telegram user): nothing to answer to.
            log.warning("unidentifiable sender on %s: %s", msg.channel, exc)
            return Turn()
        users.touch_identity(session, user_id=user.id, channel=msg.channel, address=msg.address)
        if msg.telegram_user_id in self.admin_telegram_ids and not user.has_role(Role.ADMIN):
            users.grant_role(session, user_id=user.id, role=Role.ADMIN)  # [telegram] admin_ids
        session.execute(
            InboundRecord.__table__.update()
            .where(
                InboundRecord.provider == msg.provider,
                InboundRecord.external_id == msg.external_id,
            )
            .values(user_id=user.id)
        )
        conv = _conversation(session, msg, user)
        replies = self._replies(session, msg, user, conv)
        turn = Turn(replies=replies)
        for index, reply in enumerate(replies):
            params: dict[str, object] = {"reply": reply_to_json(reply)}
            if index == 0 and msg.callback_query_id:
                params["callback_query_id"] = msg.callback_query_id  # stop the button spinner
            row = notify(
                session,
                user_id=user.id,
                kind="reply",
                params=params,
                essential=True,  # the user asked: answers go even after STOP
                channel=msg.channel,
                address=msg.address,
            )
            turn.outbox_ids.append(row.id)
        conv.updated_at = clock.now()
        session.flush()
        log.info(
            "turn %s from %s state=%s replies=%d",
            msg.channel,
            mask_phone(msg.address) if msg.channel != Channel.TELEGRAM else "tg",
            conv.state,
            len(replies),
        )
        return turn

    def _record(self, session: Session, msg: InboundMessage) -> bool:
        """Insert the provider id; False when it was already there (a redelivery)."""
        savepoint = session.begin_nested()
        try:
            session.add(
                InboundRecord(
                    provider=msg.provider,
                    external_id=msg.external_id[:64],
                    channel=msg.channel,
                    address=msg.address,
                    kind=msg.kind.value,
                )
            )
            session.flush()
        except IntegrityError:
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    def _replies(
        self, session: Session, msg: InboundMessage, user: User, conv: ConversationState
    ) -> list[Reply]:
        lang = user.language.value
        if not user.is_active:
            return [i18n_text(lang, "engine.account_inactive")]
        keyword = keyword_of(msg.text) if msg.kind == InboundKind.TEXT else None
        if keyword == Keyword.OPT_OUT:
            users.set_opt_out(session, user_id=user.id, opted_out=True)
            return [i18n_text(lang, "engine.opted_out")]
        if keyword == Keyword.OPT_IN:
            users.set_opt_out(session, user_id=user.id, opted_out=False)
            return [i18n_text(lang, "engine.opted_in")]
        if keyword == Keyword.HELP:
            return [i18n_text(lang, self.pick_flow(user, msg, conv).help_key)]
        if conv.human_mode:
            # A person is answering: the words go to them through the hand-off thread, and the
            # bot keeps quiet until released.
            return relay_in_human_mode(session, conv=conv, user=user, msg=msg)
        flow = self.pick_flow(user, msg, conv)
        if conv.flow != flow.name:
            conv.flow, conv.state, conv.data = flow.name, "", {}
        msg = _resolve_choice(msg, conv)
        # A deep copy: handlers may change nested values in place, and the JSON column only
        # saves a value that compares different from the one loaded.
        data = copy.deepcopy(conv.data)
        ctx = Context(
            session=session,
            user=user,
            conv=conv,
            inbound=msg,
            data=data,
            public_base_url=self.public_base_url,
            media_dir=self.media_dir,
        )
        handler = flow.entry if not conv.state else flow.route(conv.state, msg, ctx)
        if handler is None:
            return [i18n_text(lang, "engine.unknown")]
        savepoint = session.begin_nested()
        try:
            next_state, replies = handler(msg, ctx)
        except CommerceError as exc:
            if exc.keeps_changes:
                savepoint.commit()  # a wrong PIN stays counted, as in commerce.db.action
            else:
                savepoint.rollback()
            return [i18n_text(lang, f"error.{exc.code.value}", **_safe(exc.params))]
        except Exception:
            savepoint.rollback()
            log.exception("handler failed in flow %s state %s", flow.name, conv.state)
            return [i18n_text(lang, "engine.error")]
        savepoint.commit()
        if next_state.startswith("@") and self.flow_named is not None:
            # A handler hands the conversation to another flow ("@buyer"): run its entry now.
            target = self.flow_named(next_state[1:])
            conv.flow, conv.state, conv.data = target.name, "", {}
            data = {}
            ctx.data = data
            next_state, more = target.entry(msg, ctx)
            replies = [*replies, *more]
        menus = [r for r in replies if isinstance(r, Choices)]
        if menus:
            data["menu"] = [[c.id, c.label] for c in menus[-1].choices]
        elif replies:
            data.pop("menu", None)
        conv.state = next_state
        conv.data = data
        return replies


def _safe(params: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in params.items() if isinstance(v, str | int | float)}


def i18n_text(lang: str, key: str, **params: object) -> Reply:
    return Text(i18n.t(lang, key, **params))
