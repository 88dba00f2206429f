"""The buyer flow's hook into the support assistant.

`looks_like_support_question` tells a question ("pourquoi ma commande n'est pas arrivée ?")
from a product search ("chaussures noires"); `ask` answers it. Offline, retrieval is fast and
answers inside the webhook turn. With a model configured the call never runs in the webhook:
the question is parked in the conversation data and an after-commit event starts
`workers.assistant.answer_support_question`, while the buyer reads "je regarde…".

The answer is in the question's language (`answer_language`): a clearly English question gets
English, a clearly French one French, anything else her stored language, which one message
never changes.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bot import i18n, language
from bot.flow import Context, Result
from bot.handoff_flow import hand_off_to_human
from bot.messages import Choice, Choices, InboundKind, InboundMessage, Reply, Text
from bot.support.agent import model_configured
from bot.support.retrieval import (
    HUMAN_PHRASES,
    IntentKind,
    SupportAnswer,
    detect_intent,
    faq_language,
    offline_answer,
)
from bot.support.scoped import ScopedReader
from commerce.errors import NotFound
from commerce.messaging import events
from commerce.text import fold
from settings.config import Config

EVENT = "support_question"
MAX_QUESTION = 500
# Folded words that start a question, or that only support questions use.
_QUESTION_STARTS = (
    "pourquoi",
    "comment",
    "quand",
    "combien",
    "ou",
    "est ce",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "puis je",
    "peut on",
    "je peux",
    "on peut",
    "c est quoi",
    "qu est ce",
    "why",
    "how",
    "when",
    "where",
    "what",
    "which",
    "can i",
    "could i",
    "do you",
    "does",
    "is it",
    "are you",
    "will",
)
_SUPPORT_STEMS = (
    "retour",
    "retourn",
    "rembours",
    "livraison",
    "livrer",
    "livreur",
    "livrez",
    "payer",
    "paiement",
    "pay",
    "refund",
    "return",
    "deliver",
    "courier",
    "orange money",
    "momo",
    "mtn",
    "qr",
    "pin",
    "annul",
    "cancel",
    "horaire",
    "ouvert",
    "open",
    "vendeur",
    "seller",
    "frais",
    "fee",
    "politique",
    "policy",
    "fidelite",
    "loyalty",
    "pas arrive",
    "pas recu",
    "retard",
    "late",
    "ma commande",
    "my order",
    "aide moi",
    "help me",
    "probleme",
    "problem",
    "renvoyer",
    "garantie",
    "plus recevoir",
    "il manque",
    "on m a livre",
    "stop sending",
    "unsubscribe",
    "warranty",
    "devenir vendeur",
    "vendre sur",
    "vendre mes",
    "sell on",
    "sell my",
    "broken",
    "damaged",
    "abime",
    "fake",
    "contrefa",
    "facture",
    "invoice",
    "repond",
    "answer",
    "reply",
    "respond",
)
_WORD_BOUNDARY = re.compile(r"\s+")


def looks_like_support_question(text: str) -> bool:
    """True for a question to the assistant, False for what reads like a product search.

    A question mark, a question word at the start, a request for a person, or a word only
    support questions use (retour, livraison, payer, Orange Money…) makes a question; plain
    nouns and adjectives ("chaussures noires", "telefone samsng") stay a search.
    """
    stripped = (text or "").strip()
    if not stripped:
        return False
    folded = fold(stripped)
    padded = f" {folded} "
    if stripped.endswith("?") and len(folded.split()) >= 2:
        return True
    if any(padded.startswith(f" {w} ") for w in _QUESTION_STARTS):
        return True
    if any(f" {p}" in padded for p in HUMAN_PHRASES):
        return True
    if any(f" {s}" in padded for s in _SUPPORT_STEMS):
        return True
    # "toujours rien", "j'ai perdu mon code": her own situations are questions too.
    return detect_intent(stripped).kind != IntentKind.FAQ


def answer_language(text: str, stored: str) -> str:
    """The language to answer `text` in: the question's when it is clearly French or English
    (`bot.language.detect`, then the shop's own words: `retrieval.faq_language` — "stop
    sending me promos"), else the person's stored language. Nothing is saved: a known
    person's language changes only when she says so (EN / FR / LANGUE)."""
    return language.detect(text) or faq_language(text) or stored


def ask(msg: InboundMessage, ctx: Context, *, config: Config | None = None) -> Result:
    """Answer a support question; stays in the current state.

    Offline: the retrieval answer, now. Model configured: "je regarde…" now and the answer from
    the worker after commit. A hand-off to the seller (asked for, a second miss in a row, an
    address to change after pickup) also goes through the worker, because `human_mode` must be
    set after this turn saves its state; a hand-off to an admin (a silent seller, a courier
    asking more) is made in this turn, as "humain" is (`bot.buyer.threads.ask_human`).
    """
    use_model = model_configured(config) if config is not None else ctx.assistant_model
    text = msg.text.strip()[:MAX_QUESTION]
    lang = answer_language(text, ctx.lang)
    support: dict[str, Any] = dict(ctx.data.get("support") or {})
    state = ctx.conv.state
    if use_model and detect_intent(text).kind != IntentKind.HUMAN:
        _park(ctx, support, text, handoff=False, lang=lang)
        return state, [Text(i18n.t(lang, "support.looking"))]
    reader = ScopedReader(ctx.session, ctx.user.id, lang=lang)
    found = offline_answer(reader, text, lang, misses=int(support.get("misses", 0)))
    support["misses"] = int(support.get("misses", 0)) + 1 if found.missed else 0
    if found.order_id is not None:
        ctx.data["order"] = found.order_id  # the order in context: a hand-off goes to its seller
    replies: list[Reply] = [Text(found.text)]
    if found.handoff and found.to_admin:
        support["misses"] = 0
        ctx.data["support"] = support
        replies = [Text(_to_admin(ctx, found, text, lang))]
    elif found.handoff:
        support["misses"] = 0
        _park(ctx, support, text, handoff=True, lang=lang)
    else:
        ctx.data["support"] = support
    return state, with_codes(ctx, replies, found, lang)


def with_codes(ctx: Context, replies: list[Reply], found: SupportAnswer, lang: str) -> list[Reply]:
    """`replies`, then her QR and PIN again when the answer says so: one order's code at once,
    several as a choice of orders. The turn and the worker (`workers.assistant`, when the
    model path fell back offline) both send codes this way."""
    if len(found.resend_codes) == 1:
        return replies + _resend(ctx, found.resend_codes[0])
    if found.resend_codes:
        rows = [
            Choice(f"qr:{order_id}", i18n.t(lang, "support.code.row", order_id=order_id))
            for order_id in found.resend_codes
        ]
        return [Choices(found.text, tuple(rows))]
    return replies


def _to_admin(ctx: Context, found: SupportAnswer, text: str, lang: str) -> str:
    """Hand the conversation to an admin now: the seller is the one she has trouble with."""
    try:
        thread = hand_off_to_human(
            ctx.session,
            buyer_id=ctx.user.id,
            channel=ctx.inbound.channel,
            address=ctx.inbound.address,
            reason=text,
            tell_buyer=False,  # this turn's answer tells her
            order_id=found.order_id,
            to_admin=True,
        )
    except NotFound:
        return i18n.t(lang, "support.admin_no_one")
    # The engine saves this turn's data over the conversation's: keep who holds it.
    ctx.data["human"] = thread.staff_id
    return found.text


def _resend(ctx: Context, order_id: int) -> list[Reply]:
    """The QR and PIN again through "mes commandes"' own path (its "QR et PIN" button), so the
    rules of when a code may be shown again live in one place (`bot.buyer.orders`)."""
    from bot.buyer.orders import resend_code  # the buyer flow imports this module

    tap = dataclasses.replace(ctx.inbound, kind=InboundKind.BUTTON, payload=f"qr:{order_id}")
    _state, replies = resend_code(tap, ctx)
    return [r for r in replies if not isinstance(r, Choices)]  # her step's menu stays hers


def _park(ctx: Context, support: dict[str, Any], text: str, *, handoff: bool, lang: str) -> None:
    """Keep the question in the conversation and ask for the worker job after commit.

    `lang` is the answer's language (`answer_language`); the worker reads `pending["lang"]`.
    """
    ref = int(support.get("ref", 0)) + 1
    support["ref"] = ref
    support["pending"] = {"ref": ref, "text": text, "handoff": handoff, "lang": lang}
    ctx.data["support"] = support
    ctx.session.flush()  # the conversation row has its id before the event names it
    events.record(ctx.session, EVENT, ctx.user.id, ctx.conv.id, ref)
