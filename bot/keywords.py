"""Opt-out, opt-in and help keywords, in both languages, as whole-message words.

A keyword counts only when it is the whole message (punctuation and case aside, accents
folded): "STOP", "Arrêt !" opt out; "stop la commande 1042" does not, so an ordinary sentence
never unsubscribes someone by accident. A sentence that asks to stop the messages is one too
(`asks_to_stop`). One exception, decided by the engine: END (also a
synonym of FIN) said inside a hand-off or an open question thread ends that thread instead
(`bot.handoff_flow.closes_a_thread`).
"""

from __future__ import annotations

from enum import StrEnum

from commerce.text import fold


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT = frozenset({"stop", "arret", "stopall", "unsubscribe", "cancel", "end", "quit"})
OPT_IN = frozenset({"start", "reprendre", "unstop"})
HELP = frozenset({"aide", "help", "info"})


# A sentence that asks to stop messages is an opt-out too ("je ne veux plus recevoir de
# messages", "arrêtez de m'écrire"): it must name the messages and say stop. A sentence about an
# order ("je ne veux plus cette commande") names no messages and stays what it is.
COURTESY = frozenset({"merci", "svp", "stp", "please", "thanks", "thank", "you", "bien"})
_STOP_SAYING = (
    "ne veux plus",
    "veux plus",
    "veut plus",
    "arretez",
    "arrete",
    "arreter",
    "stop",
    "cessez",
    "plus de message",
    "don t want",
    "do not want",
    "no more",
    "unsubscribe",
    "desabonne",
)
_MESSAGES = (
    "message",
    "sms",
    "notification",
    "m ecrire",
    "m envoyer",
    "me contacter",
    "texting me",
    "writing to me",
    "sending me",
    "contacting me",
)


def _has(padded: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {p}" in padded for p in phrases)


def asks_to_stop(folded: str) -> bool:
    """ "stop merci", "arrêtez de m'écrire", "please stop sending me messages"."""
    words = folded.split()
    if words and words[0] in OPT_OUT and all(w in COURTESY for w in words[1:]):
        return True
    padded = f" {folded} "
    return len(words) <= 12 and _has(padded, _STOP_SAYING) and _has(padded, _MESSAGES)


def keyword_of(text: str) -> Keyword | None:
    folded = fold(text)
    if folded and " " in folded and asks_to_stop(folded):
        return Keyword.OPT_OUT
    if not folded or " " in folded:
        return None
    if folded in OPT_OUT:
        return Keyword.OPT_OUT
    if folded in OPT_IN:
        return Keyword.OPT_IN
    if folded in HELP:
        return Keyword.HELP
    return None
