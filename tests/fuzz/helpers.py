"""What the fuzz tests share: hostile inputs, the world they poke at, and what they assert.

Why a module of its own: the payload fuzzer and the conversation state machine check the same
promises — every identified sender gets an answer, in their language, and nothing is logged
as an error — and must check them the same way.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import i18n
from bot.messages import reply_from_json
from bot.router import FLOW_NAMES, load
from commerce.messaging.models import ConversationState, Outbox
from commerce.messaging.models import InboundMessage as InboundRecord
from commerce.users.models import Channel, User
from tests.support import Db

# --- hostile text ---------------------------------------------------------------------------

# Words the flows act on, so random input also walks real paths (menus, PINs, opt-out…).
REAL_WORDS = (
    "bonjour",
    "menu",
    "1",
    "2",
    "3",
    "9",
    "0",
    "oui",
    "non",
    "plus",
    "panier",
    "mes commandes",
    "commande 1",
    "où est ma commande 2",
    "annuler 1",
    "samsung",
    "telefone samsng",
    "chaussures moins de 200000",
    "STOP",
    "ARRÊT",
    "START",
    "AIDE",
    "HELP",
    "english",
    "français",
    "langue",
    "humain",
    "fin",
    "ON",
    "OFF",
    "COURSES",
    "GAINS",
    "A1",
    "P1",
    "D1 123456",
    "D1",
    "R1",
    "INSCRIPTION",
    "INSCRIPTION Ibrahima Kaloum moto",
    "JOIN",
    "/start",
    "/nouveau",
    "/commandes",
    "/stats",
    "/produits",
    "/aide",
    "/start@BoutikBot extra",
    "/",
    "5",
    "Très bien",
)
ODD_STRINGS = (
    "",
    " ",
    "\x00",
    "bon\x00jour",
    "\r\n\r\n",
    "\t",
    "\u202eedocrab\u202c",  # right-to-left override
    "\u2067مرحبا\u2069",
    "שלום עולם",
    "مرحبا بالعالم",
    "😀" * 40,
    "👨‍👩‍👧‍👦🇬🇳",
    "\U0001d518\U0001d52b\U0001d526",  # mathematical fraktur (plane 1)
    "\U00020000\U0002a6d6",  # CJK extension B (plane 2)
    "\U000e0001\U000e0067",  # tag characters (plane 14)
    "\U000f0000\U0010fffd",  # private use planes 15 and 16
    "\ufeff\ufffe\uffff",
    "\u200b\u200c\u200d",
    "e\u0301" * 30,  # combining accents
    "{order_id}",
    "{0}{1}",
    "%s %d %n",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "99999999999999999999999",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "٣",  # an Arabic-Indic digit: str.isdigit() but not what int() of a menu expects
    "²",  # superscript two: isdigit() is True, int() fails
    "①",
)
_ANY_CHAR = st.characters(exclude_categories=("Cs",))  # every plane; no lone surrogates
_PLANE = st.integers(0, 16).flatmap(
    lambda p: st.text(
        st.characters(
            min_codepoint=p * 0x10000,
            max_codepoint=p * 0x10000 + 0xFFFF,
            exclude_categories=("Cs",),
        ),
        min_size=1,
        max_size=12,
    )
)
_CONTROL = st.text(
    st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u2029\u200e\u202e"),
    min_size=1,
    max_size=8,
)
_HUGE = st.sampled_from(("A", "é", "😀", "\x00", "1 ")).flatmap(
    lambda unit: st.sampled_from((3_000, 40_000)).map(lambda n: unit * n)
)

words = st.sampled_from(REAL_WORDS)
text = st.one_of(
    words,
    st.sampled_from(ODD_STRINGS),
    st.text(_ANY_CHAR, max_size=20),
    _PLANE,
    _CONTROL,
    st.tuples(words, _CONTROL | _PLANE, words).map(" ".join),
    _HUGE,
)


@cache
def payload_prefixes() -> tuple[str, ...]:
    """Every button payload prefix a flow routes on, read from the flow tables themselves."""
    found: set[str] = set()
    for name in FLOW_NAMES:
        flow = load(name)
        if flow is None:
            continue
        routes = [*flow.fallbacks, *(r for rs in flow.states.values() for r in rs)]
        for intent, _handler in routes:
            if intent.name.startswith("payload:"):
                found.add(intent.name.removeprefix("payload:"))
    return tuple(sorted(found))


_ID_PART = st.one_of(
    st.integers(1, 12).map(str),
    st.sampled_from(("0", "-1", "2147483648", "99999999999999999999", "x", "", "1:2", "²", "٣")),
    st.text(_ANY_CHAR, max_size=6),
)
# A forged, stale or foreign button: a real prefix with any suffix, or nothing we know.
payload = st.one_of(
    st.builds(
        lambda p, a, b: f"{p}{a}" + (f":{b}" if b else ""),
        st.sampled_from(payload_prefixes()),
        _ID_PART,
        st.sampled_from(("", "1", "x", "000000")),
    ),
    st.sampled_from(payload_prefixes()),
    st.text(_ANY_CHAR, max_size=70),
)


# --- language -------------------------------------------------------------------------------


@cache
def _distinctive_fragments() -> dict[str, frozenset[str]]:
    """For each language, the catalog phrases (≥ 14 chars) the other language never uses.

    A reply to a French user containing one of the English phrases (or the reverse) was
    written in the wrong language: that is what `assert_language` looks for.
    """
    pieces: dict[str, set[str]] = {}
    for lang in i18n.LANGUAGES:
        found: set[str] = set()
        for value in i18n.catalog(lang).values():
            for part in re.split(r"\{[^}]*\}", value):
                for line in part.split("\n"):
                    line = line.strip(" .,:;!?()«»\"'—-•*")
                    if len(line) >= 14:
                        found.add(line)
        pieces[lang] = found
    whole = {lang: "\n".join(i18n.catalog(lang).values()) for lang in i18n.LANGUAGES}
    return {
        lang: frozenset(
            p
            for p in pieces[lang]
            if not any(p in whole[other] for other in i18n.LANGUAGES if other != lang)
        )
        for lang in i18n.LANGUAGES
    }


def reply_texts(row: Outbox) -> str:
    """Everything the user reads in one reply row: text, caption, choice labels."""
    reply = reply_from_json(dict(row.payload["params"]["reply"]))
    parts = [getattr(reply, name, "") for name in ("text", "caption", "button", "filename")]
    for choice in getattr(reply, "choices", ()):
        parts += [choice.label, choice.description]
    return "\n".join(p for p in parts if p)


def assert_language(reply: str, lang: str) -> None:
    for other, phrases in _distinctive_fragments().items():
        if other == lang:
            continue
        wrong = [p for p in phrases if p in reply]
        assert not wrong, f"a reply to a {lang!r} user in {other!r}: {wrong[:3]} in {reply!r}"


# --- what a turn left behind ----------------------------------------------------------------


@dataclass
class Before:
    """The facts a turn is judged against, read just before the webhook is posted."""

    outbox_max: int
    seen: bool  # this provider id was already recorded: a redelivery, answered by silence
    human_mode: bool  # a person holds the conversation: the bot is silent by design


def before(db: Db, provider: str, external_id: str, channel: Channel, address: str) -> Before:
    with db.session() as s:
        top = s.scalar(select(func.max(Outbox.id))) or 0
        if "\x00" in external_id or "\x00" in address:
            # PostgreSQL stores no NUL (and refuses it even in a WHERE): nothing was ever
            # recorded under such an id or address, and the webhook refuses it with a 400.
            return Before(outbox_max=top, seen=False, human_mode=False)
        seen = s.scalar(
            select(InboundRecord.id).where(
                InboundRecord.provider == provider,
                InboundRecord.external_id == external_id[:64],
            )
        )
        conv = s.scalar(
            select(ConversationState).where(
                ConversationState.channel == channel, ConversationState.address == address
            )
        )
        return Before(
            outbox_max=top, seen=seen is not None, human_mode=bool(conv and conv.human_mode)
        )


@dataclass
class Answer:
    user_id: int | None
    lang: str = "fr"
    replies: list[str] = field(default_factory=list)


def answer_to(db: Db, provider: str, external_id: str, prior: Before) -> Answer:
    """Who the turn identified for this inbound message, and the replies written to them."""
    with db.session() as s:
        user_id = s.scalar(
            select(InboundRecord.user_id).where(
                InboundRecord.provider == provider,
                InboundRecord.external_id == external_id[:64],
            )
        )
        if user_id is None:
            return Answer(user_id=None)
        user = s.get(User, user_id)
        assert user is not None
        rows = s.scalars(
            select(Outbox)
            .where(Outbox.id > prior.outbox_max, Outbox.user_id == user_id, Outbox.kind == "reply")
            .order_by(Outbox.id)
        ).all()
        return Answer(user_id, user.language.value, [reply_texts(r) for r in rows])


def assert_answered(db: Db, provider: str, external_id: str, prior: Before) -> Answer:
    """A real, new sender got ≥ 1 reply, every one in their language."""
    got = answer_to(db, provider, external_id, prior)
    if got.user_id is None or prior.seen:
        return got  # no usable sender, or a redelivery: silence is the right answer
    if not prior.human_mode:
        assert got.replies, f"no reply to {provider} {external_id!r}"
    for reply in got.replies:
        assert_language(reply, got.lang)
    return got


def counts(db: Db) -> tuple[int, int, int]:
    """(inbound records, outbox rows, users): a refused request changes none of them."""
    with db.session() as s:
        return (
            s.scalar(select(func.count(InboundRecord.id))) or 0,
            s.scalar(select(func.count(Outbox.id))) or 0,
            s.scalar(select(func.count(User.id))) or 0,
        )


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def no_logged_errors() -> Iterator[None]:
    """Fail on any ERROR log: the engine turns a handler crash into a polite reply and a
    `log.exception`, and Flask logs an unhandled one — either is a bug a status code hides."""
    handler = _Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    if handler.records:
        first = handler.records[0]
        detail = logging.Formatter().format(first)
        raise AssertionError(f"{len(handler.records)} error(s) logged; first:\n{detail}")
