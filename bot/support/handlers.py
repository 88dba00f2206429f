"""The buyer flow's hook into the support assistant.

`looks_like_support_question` tells a question ("pourquoi ma commande n'est pas arrivée ?")
from a product search ("chaussures noires"); `ask` answers it. Offline, retrieval is fast and
answers inside the webhook turn. With a model configured the call never runs in the webhook:
the question is parked in the conversation data and an after-commit event starts
`workers.assistant.answer_support_question`, while the buyer reads "je regarde…".
"""

from __future__ import annotations

import re
from typing import Any

from bot.flow import Context, Result
from bot.messages import InboundMessage, Text
from bot.support.agent import model_configured
from bot.support.retrieval import (
    HUMAN_PHRASES,
    IntentKind,
    detect_intent,
    offline_answer,
)
from bot.support.scoped import ScopedReader
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
    return any(f" {s}" in padded for s in _SUPPORT_STEMS)


def ask(msg: InboundMessage, ctx: Context, *, config: Config | None = None) -> Result:
    """Answer a support question; stays in the current state.

    Offline: the retrieval answer, now. Model configured: "je regarde…" now and the answer from
    the worker after commit. A hand-off (asked for, or a second miss in a row) also goes
    through the worker, because `human_mode` must be set after this turn saves its state.
    """
    use_model = model_configured(config) if config is not None else ctx.assistant_model
    text = msg.text.strip()[:MAX_QUESTION]
    support: dict[str, Any] = dict(ctx.data.get("support") or {})
    state = ctx.conv.state
    if use_model and detect_intent(text).kind != IntentKind.HUMAN:
        _park(ctx, support, text, handoff=False)
        return state, [Text(ctx.t("support.looking"))]
    reader = ScopedReader(ctx.session, ctx.user.id, lang=ctx.lang)
    found = offline_answer(reader, text, ctx.lang, misses=int(support.get("misses", 0)))
    support["misses"] = int(support.get("misses", 0)) + 1 if found.missed else 0
    if found.handoff:
        support["misses"] = 0
        _park(ctx, support, text, handoff=True)
    else:
        ctx.data["support"] = support
    return state, [Text(found.text)]


def _park(ctx: Context, support: dict[str, Any], text: str, *, handoff: bool) -> None:
    """Keep the question in the conversation and ask for the worker job after commit."""
    ref = int(support.get("ref", 0)) + 1
    support["ref"] = ref
    support["pending"] = {"ref": ref, "text": text, "handoff": handoff}
    ctx.data["support"] = support
    ctx.session.flush()  # the conversation row has its id before the event names it
    events.record(ctx.session, EVENT, ctx.user.id, ctx.conv.id, ref)
