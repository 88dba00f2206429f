"""The conversation engine: one inbound message in, one transaction, replies to the outbox.

Order of work inside the caller's transaction:
1. record the provider's message id (UNIQUE): a redelivery stops here with no effect;
2. identify the user on this channel and remember the inbound time (WhatsApp window);
3. opt-out / opt-in / help keywords, handled the same on every channel (END said inside a
   hand-off or a question thread ends that thread instead: `closes_a_thread`);
4. human hand-off: the bot stays silent while a person holds the conversation, and what the
   user writes is relayed to that person (bot/handoff_flow.py);
5. the role's flow table picks a handler for (state, message); its replies and the new state
   are written with the business change. A refusal from the core becomes a polite reply; an
   unexpected error rolls back the handler's work only and still answers.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import cast

from sqlalchemy import String, Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from bot import i18n
from bot.flow import Context, Flow
from bot.handoff_flow import closes_a_thread, relay_in_human_mode
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
from bot.numbers import number_of
from commerce import clock
from commerce.db import on_conflict_insert
from commerce.errors import CommerceError, IllegalTransition
from commerce.messaging.models import ConversationState
from commerce.messaging.models import InboundMessage as InboundRecord
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.phones import mask_phone
from commerce.text import fold
from commerce.users import actions as users
from commerce.users.models import Channel, Role, User

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # longer inbound text is cut before any flow sees it
# The de-duplication key's column width (a Meta "wamid.…" passes Twilio's 64): never cut
# shorter, or two long ids sharing a prefix would read as one redelivered message.
EXTERNAL_ID_MAX: int = cast(String, InboundRecord.__table__.c.external_id.type).length or 128
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


# The statements every turn runs, built once with bound parameters: building a statement and
# its cache key costs more CPU than PostgreSQL spends running it (bench/turn_cpu.py).
_LOCK_CONVERSATION = (
    select(ConversationState)
    .where(
        ConversationState.channel == bindparam("b_channel"),
        ConversationState.address == bindparam("b_address"),
    )
    .with_for_update()
)
_INBOUND_USER = (
    cast(Table, InboundRecord.__table__)
    .update()
    .where(
        InboundRecord.provider == bindparam("b_provider"),
        InboundRecord.external_id == bindparam("b_external_id"),
    )
    .values(user_id=bindparam("b_user_id"))
)


@functools.cache
def _record_statement(dialect: str) -> Insert | None:
    """Engine._record's INSERT … ON CONFLICT DO NOTHING for `dialect`, built once; None where
    the dialect has none."""
    upsert = on_conflict_insert(dialect)
    if upsert is None:
        return None
    table = InboundRecord.__table__
    return (
        upsert(table)
        .values(
            provider=bindparam("b_provider"),
            external_id=bindparam("b_external_id"),
            channel=bindparam("b_channel"),
            address=bindparam("b_address"),
            kind=bindparam("b_kind"),
        )
        .on_conflict_do_nothing(index_elements=["provider", "external_id"])
        .returning(table.c.id)
    )


def _conversation(
    session: Session, msg: InboundMessage, user: User
) -> tuple[ConversationState, bool]:
    """The sender's conversation row, locked for this turn (created on their first message),
    and whether this turn created it.

    Two first messages on one channel can arrive together. Today the sender's identity upsert
    (users.touch_identity) already makes the second turn wait for the first's commit, so both
    cannot miss the row; the savepoint keeps that true if the order of steps ever changes:
    a losing INSERT then reads and locks the winner's row instead of answering 500.
    """
    key = {"b_channel": msg.channel, "b_address": msg.address}
    conv = session.scalar(_LOCK_CONVERSATION, key)
    created = False
    if conv is None:
        fresh = ConversationState(
            channel=msg.channel, address=msg.address, user_id=user.id, state="", data={}
        )
        try:
            with session.begin_nested():
                session.add(fresh)
                session.flush()
            conv, created = fresh, True
        except IntegrityError:
            conv = session.scalar(_LOCK_CONVERSATION, key)
            if conv is None:
                raise
    conv.user_id = user.id
    return conv, created


def _first_contact(session: Session, user: User, conv: ConversationState, created: bool) -> bool:
    """A number never heard before: this turn opened its conversation and the person has no
    other (on another channel). Only then may the first message choose the language."""
    if not created:
        return False
    other = select(ConversationState.id).where(
        ConversationState.user_id == user.id, ConversationState.id != conv.id
    )
    return session.scalar(other.limit(1)) is None


def _resolve_choice(msg: InboundMessage, conv: ConversationState) -> InboundMessage:
    """A number ("2", "deux", "two") or a button's label answering the last menu becomes that
    choice's id."""
    menu: list[list[str]] = conv.data.get("menu") or []
    if msg.kind == InboundKind.BUTTON and msg.payload:
        return msg
    text = msg.text.strip().rstrip(".)")
    # isdecimal, not isdigit: "①" and "²" are digits to Python that int() refuses.
    if text.isdecimal() and menu and 1 <= int(text) <= len(menu):
        return dataclasses.replace(msg, kind=InboundKind.BUTTON, payload=menu[int(text) - 1][0])
    said = number_of(text) if menu and not text.isdecimal() else None
    if said is not None and 1 <= said <= len(menu):
        return dataclasses.replace(msg, kind=InboundKind.BUTTON, payload=menu[said - 1][0])
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
        assistant_model: bool = False,
    ) -> None:
        self.pick_flow = pick_flow
        self.assistant_model = assistant_model
        self.public_base_url = public_base_url
        self.media_dir = media_dir or Path("var/media")
        self.admin_telegram_ids = frozenset(admin_telegram_ids)
        self.flow_named = flow_named

    def handle(self, session: Session, msg: InboundMessage) -> Turn:
        if len(msg.address) > 64:
            # No phone number or chat id is that long, and the column would refuse it.
            log.warning("%s message from an impossible address ignored", msg.provider)
            return Turn()
        if not self._record(session, msg):
            log.info("duplicate %s %s ignored", msg.provider, msg.external_id)
            return Turn(duplicate=True)
        text = _clean_text(msg.text)
        kind = msg.kind
        if kind == InboundKind.COMMAND and not text.startswith("/"):
            kind = InboundKind.TEXT  # a command is "/word…": routers split it without checking
        msg = dataclasses.replace(
            msg,
            text=text,
            kind=kind,
            # Whatever a provider forwards gets the text's cleaning: PostgreSQL refuses NUL.
            profile_name=_clean_text(msg.profile_name)[:120],
            location_label=_clean_text(msg.location_label)[:200],
            payload=_clean_text(msg.payload)[:256],
            contact_phone=_clean_text(msg.contact_phone)[:40],
        )
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
            _INBOUND_USER,
            {
                "b_provider": msg.provider,
                "b_external_id": msg.external_id,
                "b_user_id": user.id,
            },
        )
        conv, created = _conversation(session, msg, user)
        closes = self._closes(msg, user, conv)  # before the turn moves the conversation on
        first_contact = _first_contact(session, user, conv, created)
        replies = self._replies(session, msg, user, conv, first_contact=first_contact)
        turn = Turn(replies=replies)
        for index, reply in enumerate(replies):
            params: dict[str, object] = {"reply": reply_to_json(reply)}
            if index == 0 and msg.callback_query_id:
                params["callback_query_id"] = msg.callback_query_id  # stop the button spinner
            if index == 0 and closes is not None:
                params["close_message_id"] = closes  # the finished step's buttons go
            row = notify(
                session,
                user_id=user.id,
                kind=Notice.REPLY,
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
        """Insert the provider id; False when it was already there (a redelivery).

        On PostgreSQL and SQLite this is one `INSERT … ON CONFLICT DO NOTHING RETURNING id`
        rather than an INSERT inside a savepoint: two round trips fewer on every turn
        (bench/inbound_turn.py), with the same outcome — a redelivery racing its original
        waits for it on the unique key and inserts nothing once it commits. It is built on
        the table, not the mapped class: the ORM's bulk-insert path costs more CPU than the
        statement itself (bench/turn_cpu.py), and no object is wanted back.
        """
        stmt = _record_statement(session.get_bind().dialect.name)
        if stmt is not None:
            params = {
                "b_provider": msg.provider,
                "b_external_id": msg.external_id[:EXTERNAL_ID_MAX],
                "b_channel": msg.channel,
                "b_address": msg.address,
                "b_kind": msg.kind.value,
            }
            return session.scalar(stmt, params) is not None
        savepoint = session.begin_nested()
        try:
            session.add(
                InboundRecord(
                    provider=msg.provider,
                    external_id=msg.external_id[:EXTERNAL_ID_MAX],
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

    def _closes(self, msg: InboundMessage, user: User, conv: ConversationState) -> int | None:
        """The tapped message whose buttons this tap finishes (see Flow.final_taps), if any."""
        if msg.kind != InboundKind.BUTTON or msg.source_message_id is None:
            return None
        if not self.pick_flow(user, msg, conv).closes(msg.payload):
            return None
        return msg.source_message_id

    def _replies(
        self,
        session: Session,
        msg: InboundMessage,
        user: User,
        conv: ConversationState,
        *,
        first_contact: bool = False,
    ) -> list[Reply]:
        lang = user.language.value
        if not user.is_active:
            return [i18n_text(lang, "engine.account_inactive")]
        keyword = keyword_of(msg.text) if msg.kind == InboundKind.TEXT else None
        if keyword == Keyword.OPT_OUT and closes_a_thread(
            session, conv=conv, user=user, text=msg.text
        ):
            keyword = None  # END inside a hand-off or a thread ends it, below
        if keyword == Keyword.OPT_OUT:
            users.set_opt_out(session, user_id=user.id, opted_out=True)
            return [i18n_text(lang, self.pick_flow(user, msg, conv).opted_out_key)]
        if keyword == Keyword.OPT_IN:
            users.set_opt_out(session, user_id=user.id, opted_out=False)
            return [i18n_text(lang, self.pick_flow(user, msg, conv).opted_in_key)]
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
            assistant_model=self.assistant_model,
            first_contact=first_contact,
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
            return [error_reply(lang, exc)]
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


def error_reply(lang: str, exc: CommerceError) -> Reply:
    """The refusal in the user's words; a stale tap on an order says where the order is now."""
    params = exc.params
    if isinstance(exc, IllegalTransition) and {"order_id", "from_status"} <= params.keys():
        status = i18n.t(lang, f"status.{params['from_status']}")
        return Text(i18n.t(lang, "error.too_late", order_id=params["order_id"], status=status))
    return i18n_text(lang, f"error.{exc.code.value}", **_safe(params))


def _safe(params: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in params.items() if isinstance(v, str | int | float)}


def i18n_text(lang: str, key: str, **params: object) -> Reply:
    return Text(i18n.t(lang, key, **params))
