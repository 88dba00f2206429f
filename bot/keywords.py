"""Opt-out, opt-in and help keywords, in both languages, as whole-message words.

A keyword counts only when it is the whole message (punctuation and case aside, accents
folded): "STOP", "Arrêt !" opt out; "stop la commande 1042" does not, so an ordinary sentence
never unsubscribes someone by accident. One exception, decided by the engine: END (also a
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


def keyword_of(text: str) -> Keyword | None:
    folded = fold(text)
    if not folded or " " in folded:
        return None
    if folded in OPT_OUT:
        return Keyword.OPT_OUT
    if folded in OPT_IN:
        return Keyword.OPT_IN
    if folded in HELP:
        return Keyword.HELP
    return None
