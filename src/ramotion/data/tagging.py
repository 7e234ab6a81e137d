"""Word/POS tokens for caption files (`a/DET man/NOUN kick/VERB ...`).

HumanML3D tagged its captions with spaCy (`en_core_web_sm`): words that are not purely
alphabetic are dropped, NOUN and VERB tokens are replaced by their lemma (except the
word "left", which spaCy lemmatises to "leave"), other words are kept, all lower-case,
with Universal POS tags. `get_tagger()` uses spaCy the same way when an English
pipeline is installed (`pip install ramotion[nlp]` plus a spaCy English model).

Otherwise it falls back to `RuleTagger`: a small closed-class lexicon, a motion-domain
vocabulary and suffix rules, with a little context (a word after a determiner,
possessive or adjective is a noun). It is written by hand because no tagger that runs
without downloading model data ships on PyPI; it tags typical motion captions the way
spaCy does for most tokens, but it is approximate. The tags only feed the T2M evaluator's
15-way POS one-hot, so datasets built with the fallback should also have their evaluator
trained on the fallback's tags (`ramotion data build` records which tagger it used).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Tagger = Callable[[str], list[str]]

# -- closed classes --------------------------------------------------------------------
_DET = set("a an the this that these those each every some any no another both all either neither".split())
_PRON = set(
    "i me you he him she her it we us they them myself yourself himself herself itself ourselves "
    "themselves someone somebody something anyone anything everyone everything nobody nothing one".split()
)
_POSS = set("his her its their my your our".split())  # spaCy tags these DET (PRON for 'her' object)
_ADP = set(
    "in on at to from with without into onto over under above below behind beside between through "
    "across along around about after before of off up down out upon toward towards against near "
    "by for during like than via past inside outside throughout among within underneath beneath".split()
)
_AUX = set("is are was were be been being am do does did has have had can could will would should may might must".split())
_CCONJ = set("and or but nor yet".split())
_SCONJ = set("while as if because until though although when whilst since so".split())
_PART = set("not to".split())
_NUM = set(
    "zero one two three four five six seven eight nine ten eleven twelve twenty thirty hundred "
    "once twice first second third fourth fifth half".split()
)
_ADV = set(
    "then back forward forwards backward backwards again away around very slightly quickly slowly "
    "together still here there also just too quite really almost briefly repeatedly up down out "
    "sideways upward upwards downward downwards straight twice once fast high low far apart "
    "diagonally clockwise counterclockwise anticlockwise overhead outward outwards inward inwards "
    "now later first finally continuously".split()
)
_ADJ = set(
    "left right other big small large little long short slow quick fast high low straight "
    "happy sad angry tired drunk old young careful wide narrow same few several many full "
    "front rear upper lower open closed heavy light steady circular original".split()
)

# -- open classes seen in motion captions (lemma forms) ----------------------------------
_VERBS = set(
    "walk run jog jump hop skip kick punch throw catch turn spin rotate raise lift lower bend squat "
    "sit stand lie crawl climb step stretch swing wave clap dance move stop start stumble fall "
    "push pull pick put place hold grab reach touch shake nod bow look stomp march sway lean "
    "twist rock bounce shuffle kneel crouch balance pace stride slide roll flip dodge block "
    "strike hit swim fly go come get take make perform do begin continue return bring carry "
    "drop open close point cross extend tilt stagger trip limp sprint tiptoe rise rest "
    "circle wipe rub scratch drink eat play use keep leave hang jab slap".split()
)
_NOUNS = set(
    "person man woman human figure someone body arm hand leg foot knee "
    "head shoulder elbow wrist hip waist chest back torso finger "
    "toe side ground floor circle step direction position stance motion "
    "ball object thing time way line place air front left right kick punch jump "
    "boxer guitar violin chair table wall stairs box door cup phone rope".split()
)
_IRREGULAR = {
    "ran": "run", "sat": "sit", "stood": "stand", "threw": "throw", "thrown": "throw", "went": "go",
    "gone": "go", "came": "come", "took": "take", "taken": "take", "made": "make", "fell": "fall",
    "fallen": "fall", "held": "hold", "swung": "swing", "spun": "spin", "knelt": "kneel", "flew": "fly",
    "got": "get", "began": "begin", "begun": "begin", "caught": "catch", "brought": "bring",
    "lay": "lie", "lain": "lie", "rose": "rise", "risen": "rise", "leapt": "leap", "kept": "keep",
    "feet": "foot", "men": "man", "women": "woman", "people": "person", "did": "do", "done": "do",
}
_NOUN_CONTEXT = {"DET", "ADJ", "NUM"}  # a word after these is a noun


def _lemma(word: str) -> str:
    """A verb/noun lemma by the irregular table and English suffix rules."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    known = _VERBS | _NOUNS
    if word in known:
        return word
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ying", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)] + repl
            if stem in known:
                return stem
            # doubled consonant: stepped -> step, running -> run
            if suffix in ("ed", "ing") and len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in known:
                return stem[:-1]
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def _guess(word: str, prev: str | None, next_word: str | None = None) -> str:
    """The Universal POS tag of one lower-case word given the previous word's tag and the next word."""
    if word in _PRON:
        return "PRON"
    if word in _POSS or word in _DET:
        return "DET"
    if word in _AUX:
        return "AUX"
    if word in _CCONJ:
        return "CCONJ"
    if word in _SCONJ:
        return "SCONJ"
    if word == "to":
        return "PART" if prev in (None, "VERB", "AUX") else "ADP"
    if word == "not":
        return "PART"
    if word in _NUM:
        return "NUM"
    if word in ("left", "right"):
        return "NOUN" if prev in ("ADP",) else "ADJ"
    lemma = _lemma(word)
    if prev in _NOUN_CONTEXT and (lemma in _NOUNS or word.endswith("s") or not word.endswith(("ly", "ing"))):
        if word not in _ADJ and word not in _ADP:
            return "NOUN"
    if word in _ADP:
        # "turns around" (ADV) vs "around the table" (ADP): look at the next word.
        if word in _ADV and (next_word is None or not (next_word in _DET or next_word in _POSS or next_word in _PRON or next_word in _NUM)):
            return "ADV"
        return "ADP"
    if word in _ADV or (word.endswith("ly") and len(word) > 4):
        return "ADV"
    if word in _ADJ:
        return "ADJ"
    if lemma in _VERBS and (prev in (None, "PRON", "NOUN", "AUX", "ADV", "CCONJ", "SCONJ", "PART") or word.endswith(("ing", "ed"))):
        return "VERB"
    if lemma in _NOUNS:
        return "NOUN"
    if lemma in _VERBS or word.endswith(("ing", "ed")):
        return "VERB"
    return "NOUN"


_WORD = re.compile(r"[^\s]+")


def rule_tag(text: str) -> list[str]:
    """Fallback tagger: caption -> ["word/POS", ...] following HumanML3D's token rules."""
    out: list[str] = []
    prev: str | None = None
    words = [w.strip(".,;:!?\"'()[]{}") for w in _WORD.findall(text.replace("-", "").lower())]
    words = [w for w in words if w.isalpha()]
    for i, word in enumerate(words):
        pos = _guess(word, prev, words[i + 1] if i + 1 < len(words) else None)
        out.append(f"{_lemma(word) if pos in ('NOUN', 'VERB') else word}/{pos}")
        prev = pos
    return out


def _spacy_tagger(nlp) -> Tagger:  # noqa: ANN001 - spaCy Language
    def tag(text: str) -> list[str]:
        out = []
        for token in nlp(text.replace("-", "")):
            word = token.text.lower()
            if not word.isalpha():
                continue
            if token.pos_ in ("NOUN", "VERB") and word != "left":
                word = token.lemma_.lower()
            out.append(f"{word}/{token.pos_}")
        return out

    return tag


@lru_cache(maxsize=4)
def get_tagger(prefer: str = "auto") -> tuple[str, Tagger]:
    """(name, tagger): spaCy's `en_core_web_sm` when installed ("auto"/"spacy"), else the rule tagger.

    prefer="rules" forces the fallback; prefer="spacy" raises when spaCy or its English
    model is missing.
    """
    if prefer not in ("auto", "spacy", "rules"):
        raise ValueError(f"unknown tagger {prefer!r}: expected 'auto', 'spacy' or 'rules'")
    if prefer != "rules":
        try:
            import spacy

            nlp = spacy.load("en_core_web_sm", disable=["ner", "parser"])
            return "spacy:en_core_web_sm", _spacy_tagger(nlp)
        except (ImportError, OSError) as exc:
            if prefer == "spacy":
                raise ValueError(f"spaCy with the en_core_web_sm model is not available: {exc}") from None
    return "rules", rule_tag
