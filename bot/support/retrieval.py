"""Offline answers: retrieval over the shipped FAQ, and recognised intents on the user's orders.

Why not a model here: the measured local model (Gemma 3 270M) invented facts, so the offline
assistant only ever says what the FAQ or the user's own orders say. Matching folds case and
accents (`commerce.text.fold`), forgives typos and word endings (rapidfuzz per word, shared
prefixes), and weighs rare words above common ones, so "je peux payer avec orange money ?"
finds the payment entry in either language without any download.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal

from rapidfuzz import fuzz

from bot import i18n, numbers
from commerce import rules
from commerce.money import format_gnf
from commerce.text import fold, tokens

FAQ_DIR = Path(__file__).resolve().parent / "faq"
# Best score below this: no FAQ entry is a safe answer.
THRESHOLD = 0.34
WORD_MATCH = 84.0

# Words that carry no meaning for matching, in both languages (split at load).
_STOPWORDS_TEXT = """
a au aux avec ce cet cette ces c ca de des du d en et est etre la le les l un une pour par
sur dans que qui quoi quel quelle quels quelles je j tu il elle on nous vous ils me m te t
se s ma mon mes ta ton tes sa son ses votre vos notre nos y ne n pas plus ou si comment
pourquoi est-ce estce qu puis peux peut pouvez faut fait faire bonjour salut svp merci ai
as avez suis the an of for with and in to is are be do does did i you we my your me it
this that what how why when where which can could will would should please hello hi thanks
am have has on at by from or
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
# Folded phrases that mean "let me talk to a person".
HUMAN_PHRASES = (
    "humain",
    "human",
    "agent",
    "parler a quelqu un",
    "parler a une personne",
    "parler a un conseiller",
    "vraie personne",
    "conseiller",
    "operateur",
    "contacter le service client",
    "talk to someone",
    "speak to someone",
    "talk to a person",
    "speak to a person",
    "real person",
    "contact customer service",
)
_LATE = (
    "pas arrive",
    "pas encore arrive",
    "toujours pas",
    "pas recu",
    "jamais recu",
    "en retard",
    "retard",
    "pas livre",
    "not arrived",
    "hasn t arrived",
    "has not arrived",
    "not received",
    "never received",
    "didn t receive",
    "did not receive",
    "not delivered",
    "still waiting",
    "late",
    "j attends",
    "j attend",
    "attends toujours",
    "en attente",
    "waiting for",
)
_WHERE = (
    "ou est",
    "ou en est",
    "suivi",
    "suivre",
    "statut",
    "where is",
    "where s",
    "track",
    "status of",
    "status",
)
_MY_ORDERS = ("mes commandes", "my orders", "liste de mes commandes", "list my orders")
_RETURN = ("retourner", "retour", "rembours", "return", "refund", "renvoyer", "echanger")
_OWN = ("ma commande", "my order", "commande", "order", "mon colis", "my parcel", "cet article")


# --- FAQ --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaqEntry:
    id: str
    questions: tuple[str, ...]
    answer: str
    words: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class FaqHit:
    entry: FaqEntry
    score: float
    answer: str  # with today's figures filled in


def _content_words(text: str) -> list[str]:
    return [w for w in tokens(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


@cache
def load_faq(lang: str) -> tuple[FaqEntry, ...]:
    """The shipped FAQ of `lang` (French when unknown)."""
    lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
    table = tomllib.loads((FAQ_DIR / f"{lang}.toml").read_text(encoding="utf-8"))
    return tuple(
        FaqEntry(
            id=e["id"],
            questions=tuple(e["questions"]),
            answer=e["answer"],
            words=frozenset(w for q in e["questions"] for w in _content_words(q)),
        )
        for e in table["entry"]
    )


@cache
def _idf(lang: str) -> dict[str, float]:
    entries = load_faq(lang)
    df = Counter(w for e in entries for w in e.words)
    n = len(entries)
    return {w: math.log(1 + n / c) for w, c in df.items()}


def facts(r: rules.Rules) -> dict[str, Any]:
    """The figures the FAQ quotes, from the rules the core enforces (themselves from config)."""
    return {
        "rate_per_km_gnf": format_gnf(r.rate_per_km),
        "minimum_gnf": format_gnf(r.minimum_commission),
        "code_validity_days": r.code_validity_days,
        "pin_max_attempts": r.pin_max_attempts,
        "return_window_days": r.return_window_days,
        "gnf_per_point_gnf": format_gnf(r.gnf_per_point),
    }


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True  # retour/retourner, rembourse/remboursement, pay/payer
    return len(a) > 3 and len(b) > 3 and fuzz.ratio(a, b) >= WORD_MATCH


def _score(query: list[str], question: list[str], idf: dict[str, float]) -> float:
    """Weighted overlap, both ways: how much of the query is covered, and of the question."""
    if not query or not question:
        return 0.0

    def weight(w: str) -> float:
        return idf.get(w, 1.5)

    covered_q = sum(weight(w) for w in query if any(_same_word(w, x) for x in question))
    covered_x = sum(weight(x) for x in question if any(_same_word(x, w) for w in query))
    total_q = sum(weight(w) for w in query)
    total_x = sum(weight(x) for x in question)
    return 0.6 * covered_q / total_q + 0.4 * covered_x / total_x


def search_faq(text: str, lang: str, r: rules.Rules) -> list[FaqHit]:
    """FAQ entries ranked by relevance to `text`, best first (scores 0..1)."""
    query = _content_words(text)
    if not query:
        return []
    idf = _idf(lang if lang in i18n.LANGUAGES else i18n.DEFAULT)
    figures = facts(r)
    hits: list[FaqHit] = []
    for entry in load_faq(lang):
        best = max(_score(query, _content_words(q), idf) for q in entry.questions)
        # Words anywhere in the entry's phrasings help a little (a question mixing two of them).
        spread = _score(query, sorted(entry.words), idf) * 0.5
        score = max(best, spread)
        if score > 0:
            hits.append(FaqHit(entry, round(score, 3), entry.answer.format(**figures)))
    hits.sort(key=lambda h: -h.score)
    return hits


# --- intents on the user's own data -------------------------------------------------------


class IntentKind(StrEnum):
    HUMAN = "human"
    MY_ORDERS = "my_orders"
    ORDER_STATUS = "order_status"  # where is it / why has it not arrived
    RETURN_ELIGIBILITY = "return_eligibility"
    FAQ = "faq"


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    order_id: int | None = None


def _has(folded: str, phrases: tuple[str, ...]) -> bool:
    """A phrase starting at a word boundary: "pas arrive" also finds "pas arrivee"."""
    padded = f" {folded} "
    return any(f" {p}" in padded for p in phrases)


def _has_prefix(folded: str, stems: tuple[str, ...]) -> bool:
    return any(w.startswith(stems) for w in folded.split())


def order_number(text: str) -> int | None:
    """ "commande 19", "#19", "n° 19"; never the 5 of "ça fait 5 jours" (`bot.numbers`)."""
    return numbers.order_number(text)


def detect_intent(text: str) -> Intent:
    """What the question is about: a person, the user's orders, a return, or the FAQ."""
    folded = fold(text)
    if _has(folded, HUMAN_PHRASES):
        return Intent(IntentKind.HUMAN)
    number = order_number(text)
    orderish = number is not None or _has(folded, _OWN)
    if _has_prefix(folded, _RETURN) and orderish and not _has(folded, ("politique", "policy")):
        return Intent(IntentKind.RETURN_ELIGIBILITY, number)
    if _has(folded, _LATE) and (orderish or "colis" in folded or "parcel" in folded):
        return Intent(IntentKind.ORDER_STATUS, number)
    if _has(folded, _WHERE) and orderish:
        return Intent(IntentKind.ORDER_STATUS, number)
    if _has(folded, _MY_ORDERS):
        return Intent(IntentKind.MY_ORDERS)
    return Intent(IntentKind.FAQ)


# --- the offline answer -----------------------------------------------------------------------


@dataclass(frozen=True)
class SupportAnswer:
    """What the assistant says, whether a person should take over, and which mode answered."""

    text: str
    handoff: bool = False
    source: Literal["model", "offline"] = "offline"
    # Plain {"role", "content"} turns to remember for the next question of this exchange.
    history: tuple[dict[str, str], ...] = ()
    # True when nothing useful was found (the caller counts repeated failures).
    missed: bool = False


def _order_text(lang: str, fact: dict[str, Any]) -> str:
    status = fact["status"]
    name = fact["courier_first_name"] or "-"
    head = i18n.t(
        lang,
        "support.order_status",
        order_id=fact["order_id"],
        total_gnf=fact["total_gnf"],
        status=i18n.t(lang, f"buyer.short.{status}"),
    )
    why = i18n.t(
        lang,
        f"support.why.{status}",
        order_id=fact["order_id"],
        name=name,
        reason=fact["refusal_reason"] or "-",
    )
    return f"{head}\n{why}"


def _orders_text(lang: str, orders: list[dict[str, Any]]) -> str:
    if not orders:
        return i18n.t(lang, "support.no_orders")
    lines = [i18n.t(lang, "support.orders_header")]
    for o in orders:
        lines.append(
            i18n.t(
                lang,
                "support.order_line",
                order_id=o["order_id"],
                status=i18n.t(lang, f"buyer.short.{o['status']}"),
                total_gnf=o["total_gnf"],
            )
        )
    return "\n".join(lines)


def _return_text(lang: str, verdict: dict[str, Any]) -> str:
    return i18n.t(
        lang,
        f"support.returns.{verdict['verdict']}",
        order_id=verdict["order_id"],
        days=verdict["window_days"],
        deadline=verdict["deadline"],
    )


def offline_answer(reader: Any, text: str, lang: str, *, misses: int = 0) -> SupportAnswer:
    """Answer from the user's orders (recognised intents) or the FAQ; else offer a person.

    `reader` is a `bot.support.scoped.ScopedReader`; `misses` counts the previous questions of
    this exchange that found nothing — a second miss in a row hands the user to a human.
    """
    intent = detect_intent(text)
    if intent.kind == IntentKind.HUMAN:
        return SupportAnswer(i18n.t(lang, "support.handoff"), handoff=True)
    if intent.kind == IntentKind.MY_ORDERS:
        return SupportAnswer(_orders_text(lang, reader.my_orders()))
    if intent.kind in (IntentKind.ORDER_STATUS, IntentKind.RETURN_ELIGIBILITY):
        order_id = intent.order_id or reader.latest_order_id()
        if order_id is None:
            return SupportAnswer(i18n.t(lang, "support.no_orders"))
        if intent.kind == IntentKind.ORDER_STATUS:
            fact = reader.order(order_id)
            if fact is not None:
                return SupportAnswer(_order_text(lang, fact))
        else:
            verdict = reader.return_eligibility(order_id)
            if verdict is not None:
                return SupportAnswer(_return_text(lang, verdict))
        return SupportAnswer(i18n.t(lang, "support.order_unknown", order_id=order_id))
    hits = reader.faq(text, lang=lang, limit=1)
    if hits and hits[0]["score"] >= THRESHOLD:
        return SupportAnswer(hits[0]["answer"])
    if misses >= 1:
        return SupportAnswer(i18n.t(lang, "support.handoff"), handoff=True, missed=True)
    return SupportAnswer(i18n.t(lang, "support.not_found"), missed=True)
