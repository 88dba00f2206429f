"""Which of Boutik's two languages a short chat message is written in: French, English, or
neither clearly.

Used once per person: on a new number's first message (bot/engine.py sets
`Context.first_contact`), so "How long do I have to return something?" is answered in English.

Why a word list rather than a language-identification library: the messages are a few words
("hi", "merci", "do you deliver to Kaloum?"), where general detectors trained on sentences
guess (langdetect gives "hello" and "hi" no answer and "do you have iphone 13" as French), and
the one that does well on short text (lingua, restricted to French and English) ships a 96 MB
wheel and adds about 100 MB to each process for a choice between two languages. The words
below are the ones buyers write — greetings, function words, the shop's own verbs — and a
word found in both languages ("a", "on", "menu", "samsung") counts for neither. A message with
no word of either, or as many of each, is undecided: the caller keeps the default.
"""

from __future__ import annotations

import re
import unicodedata

from commerce.text import fold

_ENGLISH_WORDS = """
    hi hello hey hiya morning evening afternoon good thanks thank thx ty please pls plz yes
    yeah yep no nope sorry
    i im my mine you your youre we our us they their it its is are am was were be been
    the an this that these those there here of and or but not dont doesnt didnt cant cannot
    wont isnt arent to in for with from at by about into do does did have has had will would
    should could can may might get got how what where when why which who whose much many
    some something anything any all
    want need looking look like buy sell sold send deliver delivered delivery shipping ship
    return returns refund cancel pay paid payment order orders ordered arrive arrived
    come coming help someone anyone person price cheap expensive free size color colour
    black white red blue green shoes shoe bag phone phones dress shirt fridge watch new used
    show see find store shop open close closed today tomorrow yesterday week day days time
    still yet just only also very too more less than then now soon already again
"""
_FRENCH_WORDS = """
    bonjour bonsoir salut slt bjr bsr cc coucou merci mrc svp stp oui ouais non nan
    je j tu vous nous il elle ils elles moi toi lui leur leurs mon ma mes ton tes
    votre vos notre nos sa ses le la les l un une des du de d au aux ce cet cette ces
    c qu que qui quoi quel quelle quels quelles est sont suis es etes ai avez avons ont
    et ou mais donc ni ne n pas rien jamais pour avec sans chez dans sur sous par
    comment combien quand pourquoi ca cela voici voila aussi tres trop encore deja
    veux veut voudrais voulez cherche cherchais besoin acheter achete vendre vendez
    livrer livrez livraison livre livreur retour retourner rembourser remboursement annuler
    payer paie paiement commande commandes commander arrivee recu aide aidez aider
    prix cher chere gratuit taille couleur noir noire noires noirs blanc blanche rouge bleu
    chaussure chaussures sac robe chemise frigo montre neuf neuve
    colis quelqu quelque chose temps jour jours semaine aujourd hui demain
    hier maintenant bientot ouvert ouverte ferme fermee vendeur vendeuse
    bien beaucoup bcp bon bonne nuit cv peux peut pouvez puis faire fait fais avoir etre
"""
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
_FRENCH = frozenset(_FRENCH_WORDS.split())
# English contractions ("don't", "I'm", "it's") and French elisions ("c'est", "j'ai", "n'est")
# are read before folding drops the apostrophe.
_EN_CONTRACTION = re.compile(r"[a-z]+['’](?:t|m|s|re|ve|ll|d)\b", re.IGNORECASE)
_FR_ELISION = re.compile(r"\b(?:c|j|l|d|n|m|t|s|qu|jusqu|lorsqu)['’][a-zà-ÿ]", re.IGNORECASE)
_FRENCH_LETTERS = frozenset("éèêëàâîïôûùüçœÉÈÊÀÂÎÔÛÇŒ")


def detect(text: str) -> str | None:
    """ "en" or "fr" when the message leans clearly one way, else None.

    "How long do I have to return something?" → "en"; "je veux un téléphone" → "fr";
    "samsung a15", "ok", "👍" → None.
    """
    english = french = 0
    for word in fold(_drop_apostrophes(text)).split():
        english += word in _ENGLISH
        french += word in _FRENCH
    english += len(_EN_CONTRACTION.findall(text))
    french += len(_FR_ELISION.findall(text))
    french += sum(1 for word in text.split() if _FRENCH_LETTERS.intersection(word))
    if english > french:
        return "en"
    if french > english:
        return "fr"
    return None


def _drop_apostrophes(text: str) -> str:
    """ "don't" → "dont", "I'm" → "im", "c'est" → "c est": one word in English, two in French,
    as each language's list spells them."""
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"(?<=[a-zA-Z])['’](?=(?:t|m|s|re|ve|ll|d)\b)", "", text)
