"""Captions for labelled motion capture, in the HumanML3D style.

Real mocap arrives with terse labels, not sentences: Bandai-Namco gives a content and a style
("walk", "tired"), HDM05 a class name ("kickLFront1Reps"), CMU a short description
("playground - forward jumps, turn around"). This module turns a label into several distinct
captions that read like HumanML3D's: lower case, present tense, third person ("a person walks
forward wearily.", "an elderly man waves his left hand", "someone happily raises both hands").

How a caption is built (the same approach as `ramotion.synth.captions`, with a seeded rng):

- every action has several verb-phrase templates, written in the base form with the first word
  (and any word marked "^") a verb, so one template gives both "waves ..." and "waving ...";
- every style has a lexicon (adverbs, adjectives, "like ..." comparisons, "with ..." phrases,
  subjects it implies) used in several constructions: "a person happily waves ...",
  "... waves ... happily", "... like a tired person", "... in a proud manner",
  "... while looking sad", "a sad person walks ...", "an elderly man walks ...";
- the "normal" style mostly yields plain captions without a style word.

Sides: a label with a side ("wave-left-hand", "kickLFront1Reps") is always captioned with the
word of that side, and `MotionLabel.mirrored` swaps the side *in the label*, so the mirrored
motion is captioned from its own label ("wave-right-hand"), never by editing a caption.
Labels without a side ("bye", "punch") never name one, so they stay true when mirrored.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable, Iterable, Sequence, TypeVar, Union

import numpy as np

Rng = Union[random.Random, np.random.Generator]
T = TypeVar("T")

SOURCES = ("bandai-namco", "hdm05", "cmu")


# ----------------------------------------------------------------------------- random helpers


class _Draw:
    """One interface over `random.Random` and `np.random.Generator` (both seedable)."""

    def __init__(self, rng: Rng) -> None:
        if isinstance(rng, np.random.Generator):
            self._below = lambda n: int(rng.integers(n))
            self._unit = lambda: float(rng.random())
        elif isinstance(rng, random.Random):
            self._below = rng.randrange
            self._unit = rng.random
        else:
            raise TypeError(f"rng must be a random.Random or a numpy Generator, not {type(rng).__name__}")

    def below(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        return self._below(n)

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self._unit() < p

    def pick(self, options: Sequence[T]) -> T:
        """A uniform choice from a non-empty sequence."""
        return options[self._below(len(options))]


# ----------------------------------------------------------------------------- conjugation

# Verbs whose final consonant doubles before "-ing" (run -> running).
_DOUBLE = frozenset(
    "run jog step hop stop squat put sit skip drop trot clap grab tap nod get set spin dip drag pat "
    "slap chop stab trip flap wag jab rub grip hug strut swim shrug plod swap wrap scrub plan shop "
    "sip hit cut swat bat dab cup begin let mop".split()
)
_THIRD_IRREGULAR = {"be": "is", "have": "has", "do": "does", "go": "goes"}


def third_person(verb: str) -> str:
    """Present tense, third person singular of a base-form verb ("touch" -> "touches")."""
    if verb in _THIRD_IRREGULAR:
        return _THIRD_IRREGULAR[verb]
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and len(verb) > 1 and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def gerund(verb: str) -> str:
    """The -ing form of a base-form verb ("lie" -> "lying", "jog" -> "jogging")."""
    if verb == "be":
        return "being"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith(("ee", "ye", "oe")):
        return verb + "ing"
    if verb.endswith("e") and len(verb) > 2:
        return verb[:-1] + "ing"
    if verb in _DOUBLE:
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _render(template: str, form: str, pos: str, refl: str) -> str:
    """A base-form template as a finite ("walks") or gerund ("walking") verb phrase.

    The first word and every word marked "^" are verbs; {pos} and {refl} take the subject's
    possessive and reflexive pronouns.
    """
    conj = third_person if form == "finite" else gerund
    out = []
    for i, word in enumerate(template.split()):
        if i == 0 or word.startswith("^"):
            word = word.lstrip("^")
            core = word.rstrip(",.;")
            word = conj(core) + word[len(core):]
        out.append(word)
    return " ".join(out).replace("{pos}", pos).replace("{refl}", refl)


def _article(word: str) -> str:
    """'a' or 'an' for the word that follows."""
    w = word.lower()
    if w.startswith(("uni", "use", "usu", "one")):
        return "a"
    return "an" if w[:1] in "aeiou" else "a"


def _tidy(text: str) -> str:
    """One line, single spaces, no space before punctuation, lower case, no '#'."""
    text = text.replace("#", " ").lower()
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.;])", r"\1", text)


def _key(caption: str) -> str:
    """What two captions must differ in to count as distinct (not just a final period)."""
    return caption.rstrip(". ")


# ----------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class ActionSpec:
    """Paraphrases of one action.

    phrases: base-form verb-phrase templates (first word and "^"-marked words are verbs;
    {pos}/{refl} are the subject's pronouns). side: "left"/"right" when the label has one;
    then every phrase names it. locomotion: the action moves the body through space (style
    phrases about steps and gait fit it).
    """

    phrases: tuple[str, ...]
    side: str | None = None
    locomotion: bool = False


@dataclass(frozen=True)
class StyleSpec:
    """The lexicon of one style, and how often it stays unsaid.

    adverbs: single words or short adverbials ("wearily", "with a swagger"); single words may
    also go before the verb. manner: adjectives for "in a ___ manner/way". looks: adjectives for
    "while looking ___". likes: comparisons ("like a tired person", "as if exhausted").
    withs: "with ..." phrases for any action; step_withs: only for locomotion. subject_adjs:
    adjectives for "a ___ person". nouns: the nouns they qualify. subjects: (noun phrase,
    possessive, reflexive) the style implies ("an old man", "his", "himself"). plain: the
    probability of a caption without the style (for "normal"). keywords: word stems at least
    one of which every styled caption contains (for checks).
    """

    adverbs: tuple[str, ...] = ()
    manner: tuple[str, ...] = ()
    looks: tuple[str, ...] = ()
    likes: tuple[str, ...] = ()
    withs: tuple[str, ...] = ()
    step_withs: tuple[str, ...] = ()
    subject_adjs: tuple[str, ...] = ()
    nouns: tuple[tuple[str, str, str], ...] = (
        ("person", "their", "themselves"),
        ("person", "their", "themselves"),
        ("man", "his", "himself"),
        ("woman", "her", "herself"),
    )
    subjects: tuple[tuple[str, str, str], ...] = ()
    plain: float = 0.0
    keywords: tuple[str, ...] = ()


def _sided(d: str, *templates: str) -> tuple[str, ...]:
    """Templates with the side word filled in for {d}."""
    return tuple(t.replace("{d}", d) for t in templates)


def _bandai_namco_actions() -> dict[str, ActionSpec]:
    """The Bandai-Namco content table (both datasets; sided contents for both sides)."""
    t: dict[str, ActionSpec] = {
        "walk": ActionSpec(
            (
                "walk forward",
                "walk straight ahead",
                "walk forward in a straight line",
                "stroll forward",
                "take several steps forward",
                "walk ahead",
                "pace forward",
                "walk forward a few steps",
                "move forward at a walking pace",
            ),
            locomotion=True,
        ),
        "run": ActionSpec(
            (
                "run forward",
                "run straight ahead",
                "jog forward",
                "run forward in a straight line",
                "run ahead",
                "run a short distance forward",
                "run forward at a steady pace",
            ),
            locomotion=True,
        ),
        "dash": ActionSpec(
            (
                "dash forward",
                "sprint forward",
                "sprint straight ahead",
                "run forward fast",
                "dash ahead at full speed",
                "rush forward",
                "run forward at top speed",
            ),
            locomotion=True,
        ),
        "walk-back": ActionSpec(
            (
                "walk backward",
                "walk backwards",
                "step backward",
                "back up",
                "walk in reverse",
                "take several steps backward",
                "move backward step by step",
            ),
            locomotion=True,
        ),
        "bow": ActionSpec(
            (
                "bow",
                "take a bow",
                "bend forward at the waist in a bow",
                "bow {pos} head and upper body",
                "give a bow",
                "bow forward and then ^straighten up",
                "bend at the waist to bow",
                "make a bow",
            )
        ),
        # The clips wave one hand (the right one) to say goodbye; the label has no side.
        "bye": ActionSpec(
            (
                "wave goodbye",
                "wave goodbye with one hand",
                "raise one hand and ^wave goodbye",
                "wave farewell",
                "say goodbye with a wave of the hand",
                "wave bye with one hand",
                "lift a hand and ^wave goodbye",
                "wave one hand to say goodbye",
            )
        ),
        # Both hands up near the head, waving.
        "byebye": ActionSpec(
            (
                "wave goodbye with both hands",
                "wave both hands to say goodbye",
                "raise both hands and ^wave goodbye",
                "wave bye-bye with both hands",
                "wave farewell with both hands",
                "wave both arms goodbye",
                "say goodbye by waving both hands",
            )
        ),
        # One arm held out forward at chest height: showing someone the way.
        "guide": ActionSpec(
            (
                "gesture with one hand to show the way",
                "extend one arm to point the way",
                "motion with an open hand as if guiding someone",
                "hold out one hand to direct someone",
                "gesture to guide someone along",
                "show someone the way with a sweep of the hand",
                "point the way with an outstretched hand",
            )
        ),
        # One hand raised high above the head and held there: answering a call.
        "respond": ActionSpec(
            (
                "raise one hand high as if answering",
                "put one hand up to respond",
                "raise a hand in response",
                "lift one arm overhead as if to say here",
                "put a hand up as if answering a question",
                "raise one hand to reply",
                "hold one hand up high in response to a call",
            )
        ),
        # Both hands brought up to the mouth (calling out), then one hand waves.
        "call": ActionSpec(
            (
                "cup {pos} hands around {pos} mouth and ^call out",
                "call out to someone with {pos} hands around {pos} mouth",
                "shout to someone with {pos} hands cupped around {pos} mouth",
                "call out to someone and then ^wave one hand",
                "hold {pos} hands to {pos} mouth and ^shout, then ^wave",
                "call to someone far away",
                "call someone over with {pos} hands around {pos} mouth",
            )
        ),
        "punch": ActionSpec(
            (
                "throw punches",
                "punch the air several times",
                "throw a series of punches",
                "punch forward with {pos} fists",
                "throw a combination of punches",
                "box, throwing several punches",
                "jab and ^punch at the air",
            )
        ),
        "kick": ActionSpec(
            (
                "kick",
                "throw several kicks",
                "kick out with {pos} legs",
                "do a series of kicks",
                "perform martial arts kicks",
                "kick repeatedly at the air",
                "throw a few kicks in the air",
            )
        ),
        "slash": ActionSpec(
            (
                "slash with a sword",
                "swing a sword",
                "make slashing motions as if holding a sword",
                "slash the air with an imaginary sword",
                "swing an imaginary blade with both hands",
                "cut through the air with a sword",
                "perform sword slashes",
            )
        ),
        "dance-long": ActionSpec(
            (
                "dance",
                "perform a long dance routine",
                "do a long dance",
                "dance for a while",
                "perform an extended dance",
                "dance to music for a long time",
                "move to the music in a long dance",
            )
        ),
        "dance-short": ActionSpec(
            (
                "do a short dance",
                "dance briefly",
                "perform a short dance routine",
                "do a quick dance",
                "dance for a moment",
                "perform a brief dance",
                "break into a short dance",
            )
        ),
        "wave-both-hands": ActionSpec(
            (
                "wave both hands",
                "wave with both hands",
                "raise both hands and ^wave",
                "wave both arms in the air",
                "wave both hands above {pos} head",
                "wave with both arms raised",
                "wave hello with both hands",
            )
        ),
        "raise-up-both-hands": ActionSpec(
            (
                "raise both hands",
                "raise both arms above {pos} head",
                "lift both hands up high",
                "put both hands up",
                "raise both arms into the air",
                "reach up with both hands",
                "lift both arms overhead",
            )
        ),
    }
    for d in ("left", "right"):
        # The clips travel to that side, the body turned most of the way toward it.
        t[f"walk-{d}"] = ActionSpec(
            _sided(
                d,
                "walk to the {d}",
                "walk toward the {d}",
                "walk off to the {d}",
                "walk diagonally forward to the {d}",
                "walk forward and to the {d}",
                "walk over to {pos} {d}",
                "walk a few steps to the {d}",
            ),
            side=d,
            locomotion=True,
        )
        # Walks, turns 90 degrees to that side, and walks on.
        t[f"walk-turn-{d}"] = ActionSpec(
            _sided(
                d,
                "walk forward and then ^turn {d}",
                "walk and ^turn to the {d}",
                "walk forward, then ^turn 90 degrees to the {d}",
                "walk and ^make a {d} turn",
                "walk forward, ^turn {d}, and ^continue on",
                "make a {d} turn while walking",
                "walk forward, ^turn to the {d}, and ^walk on",
            ),
            side=d,
            locomotion=True,
        )
        t[f"wave-{d}-hand"] = ActionSpec(
            _sided(
                d,
                "wave {pos} {d} hand",
                "wave with the {d} hand",
                "raise {pos} {d} hand and ^wave",
                "wave hello with {pos} {d} hand",
                "wave {pos} {d} arm back and forth",
                "wave with {pos} {d} hand raised",
                "lift the {d} hand and ^wave it",
            ),
            side=d,
        )
        t[f"raise-up-{d}-hand"] = ActionSpec(
            _sided(
                d,
                "raise {pos} {d} hand",
                "raise the {d} hand above {pos} head",
                "lift {pos} {d} arm up high",
                "put {pos} {d} hand up",
                "raise {pos} {d} arm into the air",
                "reach up with the {d} hand",
                "hold {pos} {d} hand up high",
            ),
            side=d,
        )
    return t


def _hdm05_classes() -> dict[str, ActionSpec]:
    """The HDM05 class table: the 11 classes of the cut plus the mirrors of the sided ones."""
    t: dict[str, ActionSpec] = {
        "rotateArmsBothBackward1Reps": ActionSpec(
            (
                "circle both arms backward once",
                "rotate both arms backward",
                "make one backward circle with both arms",
                "swing both arms around backward in a full circle",
                "roll both arms backward once",
                "do a backward arm circle with both arms",
            )
        ),
        "hopBothLegs1hops": ActionSpec(
            (
                "hop once with both feet",
                "jump once on both legs",
                "do a small two-footed hop",
                "hop once with {pos} feet together",
                "make a single hop on both feet",
                "jump up once, landing on both feet",
            )
        ),
        "lieDownFloor": ActionSpec(
            (
                "lie down on the floor",
                "get down and ^lie on the ground",
                "lower {refl} to the floor and ^lie down",
                "lie down flat on the ground",
                "go from standing to lying on the floor",
                "get down onto the floor and ^lie there",
            )
        ),
        "squat1Reps": ActionSpec(
            (
                "do one squat",
                "squat down once and ^stand back up",
                "bend {pos} knees into a squat and ^rise again",
                "perform a single squat",
                "squat down and ^come back up",
                "do a squat",
            )
        ),
        "throwBasketball": ActionSpec(
            (
                "throw a basketball",
                "shoot a basketball",
                "throw a ball toward a hoop",
                "shoot a basketball at a hoop",
                "make a basketball shot",
                "throw a basketball as if shooting at the basket",
            )
        ),
    }
    for d, o in (("left", "right"), ("right", "left")):
        D, O = d[0].upper(), o[0].upper()
        t[f"kick{D}Front1Reps"] = ActionSpec(
            _sided(
                d,
                "kick forward once with the {d} leg",
                "do a front kick with {pos} {d} leg",
                "kick {pos} {d} foot forward once",
                "lift the {d} leg and ^kick forward",
                "perform a single front kick with the {d} foot",
                "kick straight ahead with {pos} {d} leg",
                "kick once to the front with the {d} foot",
            ),
            side=d,
        )
        t[f"depositFloor{D}"] = ActionSpec(
            _sided(
                d,
                "bend down and ^put something on the floor with {pos} {d} hand",
                "place an object on the ground with the {d} hand",
                "crouch and ^set something down on the floor using the {d} hand",
                "lower something to the floor with {pos} {d} hand",
                "put an item down on the floor with the {d} hand",
                "reach down with the {d} hand and ^leave something on the floor",
                "bend over to lay something on the ground with {pos} {d} hand",
            ),
            side=d,
        )
        t[f"grabHigh{D}"] = ActionSpec(
            _sided(
                d,
                "reach up high with {pos} {d} hand to grab something",
                "grab something from a high shelf with the {d} hand",
                "stretch the {d} arm up and ^take something from above",
                "reach overhead with the {d} hand and ^grab an object",
                "pick something up from up high with {pos} {d} hand",
                "reach up with the {d} hand and ^grasp something high up",
                "take something down from a high place with the {d} hand",
            ),
            side=d,
        )
        # Circle to side d, first step with the other foot (HDM05's own naming).
        spin = "counterclockwise" if d == "left" else "clockwise"
        t[f"jog{d.capitalize()}Circle4Steps{O}start"] = ActionSpec(
            tuple(
                p.replace("{d}", d).replace("{o}", o).replace("{spin}", spin)
                for p in (
                    "jog in a circle to the {d}, starting with the {o} foot",
                    "jog four steps in a circle to the {d}, leading with the {o} foot",
                    "jog around in a small circle to the {d}, {o} foot first",
                    "jog in a {spin} circle to the {d}, starting on the {o} foot",
                    "run slowly in a circle toward the {d}, beginning with the {o} foot",
                    "jog four steps around a curve to the {d}, starting with {pos} {o} foot",
                )
            ),
            side=d,
            locomotion=True,
        )
        t[f"sneak2Steps{D}Start"] = ActionSpec(
            _sided(
                d,
                "sneak forward two steps, starting with the {d} foot",
                "tiptoe forward two steps, leading with the {d} foot",
                "creep forward quietly for two steps, {d} foot first",
                "take two sneaking steps, starting with {pos} {d} foot",
                "sneak two steps ahead, beginning with the {d} foot",
                "move stealthily forward two steps, {d} foot first",
            ),
            side=d,
            locomotion=True,
        )
        # One repetition: the knee of side o comes up to meet the elbow of side d.
        t[f"elbowToKnee1Reps{D}elbowStart"] = ActionSpec(
            tuple(
                p.replace("{d}", d).replace("{o}", o)
                for p in (
                    "touch {pos} {d} elbow to {pos} {o} knee",
                    "raise the {o} knee and ^touch it with the {d} elbow",
                    "bring the {d} elbow down to the raised {o} knee",
                    "do an elbow-to-knee crunch, {d} elbow to {o} knee",
                    "lift {pos} {o} knee to meet {pos} {d} elbow",
                    "twist and ^touch the {o} knee with the {d} elbow once",
                )
            ),
            side=d,
        )
    return t


_PEOPLE = (
    ("person", "their", "themselves"),
    ("person", "their", "themselves"),
    ("man", "his", "himself"),
    ("woman", "her", "herself"),
    ("figure", "their", "themselves"),
)
_OLD = StyleSpec(
    adverbs=("stiffly, like an old person", "with the stiffness of old age", "like an elderly person"),
    manner=("elderly", "aged"),
    likes=(
        "like an old person",
        "like an elderly person",
        "like a senior citizen",
        "as if very old",
        "as an old person would",
    ),
    withs=("with the slowness of old age", "with the care of an elderly person"),
    step_withs=("with the shuffling steps of an old person",),
    subject_adjs=("old", "elderly", "aged"),
    nouns=_PEOPLE[:4],
    subjects=(
        ("an elderly person", "their", "themselves"),
        ("an old man", "his", "himself"),
        ("an old woman", "her", "herself"),
        ("an elderly man", "his", "himself"),
        ("an elderly woman", "her", "herself"),
        ("a senior citizen", "their", "themselves"),
        ("an old person", "their", "themselves"),
    ),
    keywords=("old", "elder", "aged", "senior"),
)
_TIRED = StyleSpec(
    adverbs=("tiredly", "wearily", "sluggishly", "lethargically"),
    manner=("tired", "weary", "exhausted", "sluggish"),
    looks=("tired", "exhausted", "worn out", "weary", "drained"),
    likes=(
        "like a tired person",
        "like someone who is worn out",
        "as if exhausted",
        "as if completely drained",
        "like an exhausted person",
    ),
    withs=("with drooping, tired shoulders", "with a weary posture", "with the heaviness of exhaustion"),
    step_withs=("with tired, heavy steps", "with weary, dragging feet"),
    subject_adjs=("tired", "weary", "exhausted", "worn-out", "fatigued"),
    keywords=("tired", "weary", "wearily", "exhaust", "worn", "sluggish", "letharg", "drained", "fatigue"),
)
_MASCULINE = StyleSpec(
    adverbs=("manfully", "in a macho way", "with a manly swagger"),
    manner=("masculine", "manly", "macho"),
    likes=("like a macho man", "like a tough guy", "with a masculine attitude"),
    withs=("with broad, masculine movements", "with a masculine posture", "with a tough, manly air"),
    step_withs=("with heavy, masculine strides",),
    subject_adjs=("masculine", "macho", "manly"),
    nouns=(("man", "his", "himself"), ("person", "their", "themselves"), ("guy", "his", "himself")),
    subjects=(("a macho man", "his", "himself"), ("a tough guy", "his", "himself"), ("a manly man", "his", "himself")),
    keywords=("mascul", "manly", "manful", "macho", "tough"),
)

BANDAI_NAMCO_STYLES: dict[str, StyleSpec] = {
    "normal": StyleSpec(
        adverbs=("normally", "casually", "naturally", "in a normal way"),
        manner=("normal", "ordinary", "casual", "relaxed"),
        plain=0.85,
        keywords=("normal", "casual", "natural", "ordinary", "relaxed"),
    ),
    "happy": StyleSpec(
        adverbs=("happily", "cheerfully", "joyfully", "gleefully"),
        manner=("happy", "cheerful", "joyful"),
        looks=("happy", "cheerful", "joyful", "delighted"),
        likes=("like a happy person", "as if in a cheerful mood", "like someone full of joy"),
        withs=("with a happy bounce", "with cheerful energy"),
        step_withs=("with happy, bouncy steps",),
        subject_adjs=("happy", "cheerful", "joyful", "glad"),
        keywords=("happ", "cheer", "joy", "glee", "glad", "delight"),
    ),
    "sad": StyleSpec(
        adverbs=("sadly", "gloomily", "sorrowfully", "dejectedly", "glumly"),
        manner=("sad", "gloomy", "sorrowful", "dejected"),
        looks=("sad", "gloomy", "downcast", "unhappy", "dejected"),
        likes=("like a sad person", "like someone who is feeling sad", "as if heartbroken and sad"),
        withs=("with sad, slumped shoulders", "with {pos} head hanging sadly"),
        step_withs=("with slow, sad steps",),
        subject_adjs=("sad", "gloomy", "unhappy", "sorrowful", "dejected"),
        keywords=("sad", "gloom", "sorrow", "deject", "glum", "downcast", "unhappy"),
    ),
    "angry": StyleSpec(
        adverbs=("angrily", "furiously", "irritably"),
        manner=("angry", "furious", "irritated", "aggressive"),
        looks=("angry", "furious", "irritated", "annoyed"),
        likes=("like an angry person", "as if furious", "like someone in a rage"),
        withs=("with angry, forceful movements", "with an angry look", "with furious energy"),
        step_withs=("with angry, stomping steps",),
        subject_adjs=("angry", "furious", "irritated", "annoyed"),
        keywords=("angr", "furi", "irrit", "rage", "annoy", "aggress"),
    ),
    "proud": StyleSpec(
        adverbs=("proudly", "haughtily", "boastfully"),
        manner=("proud", "haughty", "dignified"),
        looks=("proud", "pleased with {refl}", "haughty"),
        likes=("like a proud person", "as if very proud of {refl}", "with an air of pride"),
        withs=("with {pos} chest puffed out proudly", "with great pride", "with {pos} head held high in pride"),
        step_withs=("with proud, confident strides",),
        subject_adjs=("proud", "haughty", "dignified"),
        keywords=("proud", "pride", "haught", "boast", "dignified", "pleased"),
    ),
    "not-confident": StyleSpec(
        adverbs=("timidly", "hesitantly", "shyly", "nervously", "unsurely"),
        manner=("timid", "hesitant", "shy", "nervous", "insecure", "unconfident"),
        looks=("unsure", "nervous", "timid", "insecure", "unsure of {refl}"),
        likes=(
            "like someone who lacks confidence",
            "as if unsure of {refl}",
            "like a shy person",
            "without much confidence",
        ),
        withs=("with a timid, unconfident posture", "with hesitant, insecure movements"),
        step_withs=("with small, hesitant steps", "with timid steps"),
        subject_adjs=("timid", "hesitant", "shy", "nervous", "insecure", "unconfident"),
        keywords=("timid", "hesita", "shy", "nervous", "unsure", "insecure", "confiden"),
    ),
    "masculinity": _MASCULINE,
    "masculine": _MASCULINE,
    "feminine": StyleSpec(
        adverbs=("gracefully", "daintily", "elegantly"),
        manner=("feminine", "graceful", "dainty", "ladylike", "elegant"),
        likes=("like a graceful lady", "with feminine grace", "like an elegant woman"),
        withs=("with graceful, feminine movements", "with a feminine posture", "with dainty, elegant gestures"),
        step_withs=("with light, dainty steps", "with graceful steps"),
        subject_adjs=("feminine", "graceful", "elegant", "dainty"),
        nouns=(("woman", "her", "herself"), ("person", "their", "themselves"), ("lady", "her", "herself")),
        subjects=(
            ("a graceful woman", "her", "herself"),
            ("an elegant lady", "her", "herself"),
            ("an elegant woman", "her", "herself"),
        ),
        keywords=("femin", "grace", "dainti", "dainty", "elegan", "lady"),
    ),
    "childish": StyleSpec(
        adverbs=("childishly", "playfully", "like a child"),
        manner=("childish", "childlike", "playful"),
        likes=("like a child", "like a little kid", "like a small child", "as a child would"),
        withs=("with childlike energy", "with the playfulness of a child"),
        step_withs=("with bouncy, childlike steps",),
        subject_adjs=("childish", "childlike", "playful"),
        nouns=(("person", "their", "themselves"), ("person", "their", "themselves"), ("kid", "their", "themselves")),
        subjects=(
            ("a child", "their", "themselves"),
            ("a little kid", "their", "themselves"),
            ("a young child", "their", "themselves"),
            ("a small child", "their", "themselves"),
            ("a little boy", "his", "himself"),
            ("a little girl", "her", "herself"),
        ),
        keywords=("child", "kid", "playful", "boy", "girl"),
    ),
    "youthful": StyleSpec(
        adverbs=("youthfully", "spryly", "like a young person"),
        manner=("youthful", "young", "sprightly"),
        likes=("like a young person", "like a teenager", "with youthful energy", "like someone young"),
        withs=("with youthful energy", "with the liveliness of youth"),
        step_withs=("with light, youthful steps", "with a youthful spring in {pos} step"),
        subject_adjs=("youthful", "young", "sprightly"),
        subjects=(
            ("a young person", "their", "themselves"),
            ("a young man", "his", "himself"),
            ("a young woman", "her", "herself"),
            ("a teenager", "their", "themselves"),
            ("a youth", "their", "themselves"),
        ),
        keywords=("young", "youth", "teen", "spry", "sprightly"),
    ),
    "old": _OLD,
    "elderly": _OLD,
    "tired": _TIRED,
    "exhausted": _TIRED,
    "active": StyleSpec(
        adverbs=("energetically", "actively", "vigorously", "dynamically"),
        manner=("energetic", "active", "lively", "vigorous"),
        looks=("energetic", "lively", "full of energy"),
        likes=("like an energetic person", "as if full of energy", "like a very active person"),
        withs=("with lots of energy", "with big, energetic movements", "with vigorous energy"),
        step_withs=("with brisk, energetic steps",),
        subject_adjs=("energetic", "active", "lively", "spirited"),
        keywords=("energ", "activ", "vigor", "lively", "spirited", "dynamic", "brisk"),
    ),
    "musical": StyleSpec(
        adverbs=("theatrically", "rhythmically", "flamboyantly"),
        manner=("theatrical", "showy", "musical"),
        likes=(
            "like a performer in a musical",
            "as if performing in a musical",
            "as if on stage in a musical",
            "like a broadway performer",
        ),
        withs=("with theatrical flair", "with exaggerated, theatrical movements", "with musical rhythm"),
        step_withs=("with rhythmic, theatrical steps",),
        subject_adjs=("theatrical",),
        nouns=(("performer", "their", "themselves"), ("person", "their", "themselves")),
        subjects=(
            ("a stage performer", "their", "themselves"),
            ("a musical performer", "their", "themselves"),
            ("a broadway dancer", "their", "themselves"),
        ),
        keywords=("musical", "theatric", "rhythm", "flamboyant", "stage", "showy", "perform", "broadway"),
    ),
    "giant": StyleSpec(
        adverbs=("heavily, like a giant", "ponderously, like a giant", "like a huge giant"),
        manner=("giant-like", "lumbering", "ponderous"),
        likes=("like a giant", "like a huge, heavy giant", "as if they were a giant", "like a hulking giant"),
        withs=("with the heavy, lumbering movements of a giant", "with huge, ponderous movements"),
        step_withs=("with huge, heavy steps like a giant", "with lumbering giant strides"),
        subject_adjs=("huge", "hulking", "gigantic"),
        nouns=(("giant", "their", "themselves"), ("figure", "their", "themselves"), ("man", "his", "himself")),
        subjects=(
            ("a giant", "their", "themselves"),
            ("a huge giant", "their", "themselves"),
            ("a lumbering giant", "their", "themselves"),
            ("a heavy giant", "their", "themselves"),
        ),
        keywords=("giant", "huge", "hulk", "gigant", "heav", "lumber", "ponderous"),
    ),
    "chimpira": StyleSpec(
        adverbs=("menacingly", "cockily", "with a thuggish swagger", "with a swagger"),
        manner=("thuggish", "menacing", "cocky", "delinquent"),
        looks=("menacing", "cocky", "like a thug"),
        likes=("like a street thug", "like a punk", "like a delinquent", "like a gangster", "like a young hoodlum"),
        withs=("with a cocky swagger", "with a thuggish, menacing attitude", "with a street punk's swagger"),
        step_withs=("with a thug's swaggering strut",),
        subject_adjs=("cocky", "menacing", "thuggish"),
        nouns=(("man", "his", "himself"), ("guy", "his", "himself"), ("person", "their", "themselves")),
        subjects=(
            ("a street thug", "his", "himself"),
            ("a young punk", "his", "himself"),
            ("a delinquent", "their", "themselves"),
            ("a thug", "his", "himself"),
            ("a hoodlum", "his", "himself"),
        ),
        keywords=("thug", "punk", "delinquent", "gangster", "hoodlum", "swagger", "menac", "cock"),
    ),
}

BANDAI_NAMCO_ACTIONS: dict[str, ActionSpec] = _bandai_namco_actions()
"""Every content label of Bandai-Namco dataset-1 and dataset-2 (without the "dataset-N_" prefix)."""

HDM05_CLASSES: dict[str, ActionSpec] = _hdm05_classes()
"""The 11 HDM05 classes of the cut (`HDM05_DATASET_CLASSES`) and the mirror images of the six
sided ones (kickRFront1Reps, depositFloorL, ...), so that mirrored labels have captions too."""

HDM05_DATASET_CLASSES: tuple[str, ...] = (
    "depositFloorR",
    "elbowToKnee1RepsLelbowStart",
    "grabHighR",
    "hopBothLegs1hops",
    "jogLeftCircle4StepsRstart",
    "kickLFront1Reps",
    "lieDownFloor",
    "rotateArmsBothBackward1Reps",
    "sneak2StepsLStart",
    "squat1Reps",
    "throwBasketball",
)

# ----------------------------------------------------------------------------- labels

_LR_WORD = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def _swap_words(text: str) -> str:
    """Swap the words "left" and "right", keeping case (like `motion.mirror.mirror_caption`,
    repeated here so that captioning does not import torch)."""

    def swap(m: re.Match[str]) -> str:
        w = m.group(0)
        new = "right" if w.lower() == "left" else "left"
        if w.isupper():
            return new.upper()
        return new.capitalize() if w[0].isupper() else new

    return _LR_WORD.sub(swap, text)


_HDM_TOKEN = re.compile(r"[A-Z][a-z]*|[a-z]+|\d+")
_HDM_SIDE = re.compile(r"^([LR])(start|elbow|hand|foot|leg|knee|arm|)$", re.IGNORECASE)


def mirror_hdm05_class(name: str) -> str:
    """The HDM05 class of the mirrored motion: left and right swapped in the name.

    "kickLFront1Reps" -> "kickRFront1Reps", "depositFloorR" -> "depositFloorL",
    "jogLeftCircle4StepsRstart" -> "jogRightCircle4StepsLstart",
    "sneak2StepsLStart" -> "sneak2StepsRStart", "elbowToKnee1RepsLelbowStart" ->
    "elbowToKnee1RepsRelbowStart". Side tokens are a bare L/R, Left/Right, or L/R glued to
    start/elbow/hand/foot/leg/knee/arm; "Reps" and other words are left alone.
    """
    out = []
    for tok in _HDM_TOKEN.findall(name):
        if tok in ("Left", "Right"):
            tok = "Right" if tok == "Left" else "Left"
        else:
            m = _HDM_SIDE.match(tok)
            if m and tok[0].isupper():
                tok = ("R" if m.group(1) == "L" else "L") + tok[1:]
        out.append(tok)
    if "".join(_HDM_TOKEN.findall(name)) != name:  # characters outside the pattern: leave it
        return name
    return "".join(out)


@dataclass(frozen=True)
class MotionLabel:
    """What a motion-capture clip is labelled with.

    source: "bandai-namco", "hdm05" or "cmu". action: the content key ("walk",
    "wave-left-hand"), the HDM05 class ("kickLFront1Reps") or, for CMU, the trial description
    ("playground - forward jumps, turn around"). style: a Bandai-Namco style ("tired"), or None.
    Keys are checked when captions are made (`captions_for`), so unknown ones fail there.
    """

    source: str
    action: str
    style: str | None = None

    def mirrored(self) -> "MotionLabel":
        """The label of the left/right mirror image of the motion (the side swapped in the
        label itself); mirroring twice gives the label back."""
        if self.source == "bandai-namco":
            parts = self.action.split("-")
            action = "-".join({"left": "right", "right": "left"}.get(p, p) for p in parts)
        elif self.source == "hdm05":
            action = mirror_hdm05_class(self.action)
        elif self.source == "cmu":
            action = _swap_words(self.action)
        else:
            raise ValueError(f"unknown label source {self.source!r} (known: {', '.join(SOURCES)})")
        return MotionLabel(self.source, action, self.style)


def hdm05_class_from_filename(name: str) -> str:
    """The HDM05 class in a cut file's name: "HDM_bd_kickLFront1Reps_001_120.amc.gz" ->
    "kickLFront1Reps" (directories are ignored). ValueError for a name not of that form."""
    base = PurePath(name).name
    m = re.fullmatch(r"HDM_([A-Za-z0-9]+)_([A-Za-z0-9]+)_(\d+)(?:_(\d+))?\.amc(?:\.gz)?", base)
    if not m:
        raise ValueError(f"not an HDM05 cut file name: {base!r} (expected HDM_<actor>_<class>_<take>_120.amc[.gz])")
    return m.group(2)


def bandai_namco_key(label: str) -> str:
    """A Bandai-Namco label line ("dataset-1_walk-left", "dataset-2_youthful") without its
    "dataset-N_" prefix: the key of `BANDAI_NAMCO_ACTIONS` / `BANDAI_NAMCO_STYLES`."""
    return re.sub(r"^dataset-\d+_", "", label.strip())


def _unknown(kind: str, key: str, known: Iterable[str]) -> ValueError:
    """The error for an unknown key: names it and lists the known ones."""
    return ValueError(f"unknown {kind} {key!r} (known: {', '.join(sorted(known))})")


def _action_spec(label: MotionLabel) -> ActionSpec:
    """The paraphrase table entry of a Bandai-Namco or HDM05 label; ValueError when unknown."""
    if label.source == "bandai-namco":
        table, kind = BANDAI_NAMCO_ACTIONS, "Bandai-Namco action"
    elif label.source == "hdm05":
        table, kind = HDM05_CLASSES, "HDM05 class"
    else:
        raise _unknown("label source", label.source, SOURCES)
    if label.action not in table:
        raise _unknown(kind, label.action, table)
    return table[label.action]


def _style_spec(style: str | None) -> StyleSpec | None:
    """The lexicon of a style (None for no style); ValueError when unknown."""
    if style is None:
        return None
    if style not in BANDAI_NAMCO_STYLES:
        raise _unknown("style", style, BANDAI_NAMCO_STYLES)
    return BANDAI_NAMCO_STYLES[style]


# ----------------------------------------------------------------------------- sentences

# (noun phrase, possessive, reflexive); "a person" weighted as in HumanML3D.
_SUBJECTS = (
    ("a person", "their", "themselves"),
    ("a person", "their", "themselves"),
    ("a person", "their", "themselves"),
    ("someone", "their", "themselves"),
    ("a man", "his", "himself"),
    ("the man", "his", "himself"),
    ("a woman", "her", "herself"),
    ("the woman", "her", "herself"),
    ("the person", "their", "themselves"),
    ("a human", "their", "themselves"),
    ("a figure", "their", "themselves"),
)


def action_phrase(
    label: MotionLabel, rng: Rng, form: str = "finite", pos: str = "their", refl: str = "themselves"
) -> str:
    """One verb phrase for the label's action, without subject or style: "waves the left hand"
    (form="finite") or "waving the left hand" (form="gerund"). For CMU labels, the first
    segment of the description's rewrite. ValueError for unknown keys."""
    if form not in ("finite", "gerund"):
        raise ValueError(f"form must be 'finite' or 'gerund', not {form!r}")
    draw = _Draw(rng)
    if label.source == "cmu":
        segments, _ = _cmu_parse(label.action)
        if not segments:
            return _render(draw.pick(("move around", "move")), form, pos, refl)
        return _render(draw.pick(segments[0]), form, pos, refl)
    spec = _action_spec(label)
    return _render(draw.pick(spec.phrases), form, pos, refl)


def _constructions(style: StyleSpec, spec: ActionSpec) -> list[str]:
    """The ways the style can enter a caption of this action."""
    out = []
    if style.adverbs:
        out += ["post_adv", "post_adv"]
        if any(" " not in a and "," not in a for a in style.adverbs):
            out.append("pre_adv")
    if style.manner:
        out.append("manner")
    if style.looks:
        out.append("while")
    if style.likes:
        out += ["like", "like"]
    if style.withs or (spec.locomotion and style.step_withs):
        out.append("with")
    if style.subject_adjs:
        out += ["adj_subject", "adj_subject"]
    if style.subjects:
        out += ["style_subject", "style_subject"]
    return out


def _one_caption(spec: ActionSpec, style: StyleSpec | None, draw: _Draw) -> str:
    """One caption of an action in a style (None: no style)."""
    how = "plain"
    if style is not None and not draw.chance(style.plain):
        ways = _constructions(style, spec)
        how = draw.pick(ways) if ways else "plain"
    if how == "style_subject":
        subject, pos, refl = draw.pick(style.subjects)
    elif how == "adj_subject":
        adj = draw.pick(style.subject_adjs)
        noun, pos, refl = draw.pick(style.nouns)
        subject = f"{draw.pick(('a', 'a', 'the'))} {adj} {noun}"
        if subject.startswith("a "):
            subject = f"{_article(adj)} {adj} {noun}"
    else:
        subject, pos, refl = draw.pick(_SUBJECTS)
    template = draw.pick(spec.phrases)
    progressive = draw.chance(0.2)
    bare = how not in ("style_subject", "adj_subject", "pre_adv") and draw.chance(0.06)
    if bare:  # HumanML3D also has subjectless captions: "walking forward slowly."
        head = _render(template, "gerund", pos, refl)
    elif progressive:
        head = f"{subject} is " + ("{adv} " if how == "pre_adv" else "") + _render(template, "gerund", pos, refl)
    else:
        head = f"{subject} " + ("{adv} " if how == "pre_adv" else "") + _render(template, "finite", pos, refl)

    tail = ""
    if how == "pre_adv":
        head = head.replace("{adv}", draw.pick([a for a in style.adverbs if " " not in a and "," not in a]))
    elif how == "post_adv":
        tail = draw.pick(style.adverbs)
    elif how == "manner":
        adj = draw.pick(style.manner)
        tail = f"in {_article(adj)} {adj} {draw.pick(('manner', 'way', 'fashion'))}"
    elif how == "while":
        tail = f"while {draw.pick(('looking', 'looking', 'appearing', 'seeming'))} {draw.pick(style.looks)}"
    elif how == "like":
        tail = draw.pick(style.likes)
    elif how == "with":
        tail = draw.pick(style.withs + (style.step_withs if spec.locomotion else ()))
    text = f"{head} {tail}".replace("{pos}", pos).replace("{refl}", refl)
    if draw.chance(0.5):
        text += "."
    return _tidy(text)


def _distinct(make: Callable[[_Draw], str], n: int, draw: _Draw) -> list[str]:
    """Up to n captions from `make(draw)` that differ in more than a final period."""
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(40 * max(n, 1) + 60):
        if len(out) >= n:
            break
        c = make(draw)
        if c and _key(c) not in seen:
            seen.add(_key(c))
            out.append(c)
    return out


def captions_for(label: MotionLabel, n: int, rng: Rng) -> list[str]:
    """n distinct captions of a labelled motion (fewer only when the grammar runs out).

    Deterministic for a seeded rng (`random.Random` or `np.random.Generator`). Bandai-Namco and
    HDM05 labels use the action and style tables; CMU labels (style None) go through
    `cmu_captions`. ValueError naming the key and the known keys for an unknown source,
    action or style.
    """
    if n <= 0:
        return []
    if label.source == "cmu":
        if label.style is not None:
            raise ValueError(f"CMU labels carry no style (got {label.style!r})")
        return cmu_captions(label.action, n, rng)
    spec = _action_spec(label)
    style = _style_spec(label.style)
    draw = _Draw(rng)
    return _distinct(lambda d: _one_caption(spec, style, d), n, draw)


# ----------------------------------------------------------------------------- CMU descriptions

_BODY = frozenset(
    "arm arms leg legs hand hands head knee knees foot feet shoulders shoulder hips hip body fists fist elbow elbows "
    "torso".split()
)
_DETERMINERS = frozenset("a an the one both his her their its some each {pos} other".split())

# Verbs a description segment may start with (base form); gerunds of these are understood too.
_CMU_VERBS = frozenset(
    """walk run jog jump hop skip climb turn bend scoop rise lift sit stand dangle rock lower wash
    shoot dribble kick punch strike throw catch swing hang balance stretch reach pick put place carry
    push pull wave point fold raise step spin twist lean crouch squat kneel lie crawl roll march
    tiptoe sneak creep stumble fall drop shake nod clap wipe sweep scrub mop open close drink eat
    sweep look search dance leap sway shuffle veer stop start go get grab hold rub pat tap touch
    swim paddle row fly flap circle bounce bow salute wander limp hobble stomp stamp cartwheel
    skate slide duck dodge dive block yawn laugh cry shrug sneeze cough signal direct pace jump""".split()
)

# Activity nouns at the end of a segment ("forward jumps") and the verb they come from.
_NOUN_VERBS = {
    "jump": "jump", "jumps": "jump", "hop": "hop", "hops": "hop", "leap": "leap", "leaps": "leap",
    "turn": "turn", "turns": "turn", "step": "step", "steps": "step", "walk": "walk", "run": "run",
    "jog": "jog", "dribble": "dribble", "kick": "kick", "kicks": "kick", "punch": "punch",
    "punches": "punch", "spin": "spin", "spins": "spin", "strike": "strike", "strikes": "strike",
    "squat": "squat", "squats": "squat", "stretch": "stretch", "stretches": "stretch",
    "march": "march", "skip": "skip", "shuffle": "shuffle", "lunge": "lunge", "lunges": "lunge",
    "crawl": "crawl", "roll": "roll", "rolls": "roll", "swing": "swing", "swings": "swing",
    "throw": "throw", "throws": "throw", "bow": "bow", "bows": "bow", "wave": "wave",
}
_DIRECTIONS = frozenset("forward forwards backward backwards sideways left right around diagonally up down".split())
_SPEED = {
    "slow": "slowly",
    "brisk": "briskly",
    "fast": "quickly",
    "quick": "quickly",
    "normal": "normally",
    "casual": "casually",
}
_BALLET = frozenset(
    """jete jetes pirouette pirouettes arabesque arabesques attitude glissade glissades plie plies
    releve releves chasse chasses pas tendu tendue retire passe coupe rond jambe fouette fouettes
    sissonne assemble entrechat cou-de-pied quasi-cou-de-pied devant derriere dessous dessus
    tourant tournant pointe battement balance""".split()
)
# Phrases rewritten whole (base-form templates; several are paraphrases).
_CMU_PHRASES: dict[str, tuple[str, ...]] = {
    "swordplay": ("fight with a sword", "swing a sword around", "practice swordplay"),
    "wash self": ("wash {refl}", "scrub {pos} body as if washing"),
    "bend over": ("bend over", "bend forward at the waist"),
    "scoop up": ("scoop something up", "scoop up something from below"),
    "rise": ("rise", "stand back up", "straighten up"),
    "lift arm": ("lift one arm", "raise an arm"),
    "turn around": ("turn around", "turn to face the other way"),
    "turn": ("turn", "turn around"),
    "lower self to ground": ("lower {refl} to the ground", "get down onto the ground"),
    "expressive arms": ("move {pos} arms expressively", "make expressive arm movements"),
    "arms held high": ("hold {pos} arms up high", "raise {pos} arms high"),
    "upper body rotation": ("rotate {pos} upper body", "twist {pos} upper body"),
    "cartwheel-like start": ("start with a cartwheel-like move", "begin with a move like a cartwheel"),
    "raised leg above hip-height": ("raise one leg above hip height", "lift a leg higher than {pos} hip"),
    "folding arms": ("fold {pos} arms in", "fold {pos} arms"),
    "bending back": ("bend backward", "arch {pos} back"),
    "dangle legs": ("dangle {pos} legs", "let {pos} legs dangle"),
    "rock back": ("rock back", "rock backward"),
    "sit": ("sit down", "sit"),
    "climb": ("climb", "climb up"),
    "hang": ("hang", "hang from something"),
    "swing": ("swing", "swing back and forth"),
    "balance": ("balance", "keep {pos} balance"),
    "jump": ("jump", "jump up"),
    "walk": ("walk", "walk forward", "walk straight ahead"),
    "run": ("run", "run forward"),
    "jog": ("jog", "jog forward"),
    "shoot": ("shoot the ball", "take a shot at the basket", "shoot a basketball"),
    "punch": ("throw punches", "punch the air"),
    "strike": ("strike out", "strike out with {pos} fists"),
    "attitude": ("hold an attitude pose", "pose in an attitude"),
    "arabesque": ("do an arabesque", "hold an arabesque"),
    "dance": ("dance",),
    "stretch": ("stretch", "do some stretches"),
    "boxing": ("box", "throw boxing punches"),
    "wave": ("wave", "wave a hand"),
}
_CATEGORY_CONTEXT: dict[str, tuple[str, ...]] = {
    "playground": ("on a playground", "at the playground", "on the playground"),
    "dance": ("as part of a dance", "while dancing", "in a dance routine"),
    "basketball": ("while playing basketball", "on a basketball court"),
    "soccer": ("while playing soccer",),
    "football": ("while playing football",),
    "nursery rhyme": ("while acting out a nursery rhyme",),
    "conversation": ("during a conversation",),
}
_CATEGORY_SUBJECTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "dance": (("a dancer", "their", "themselves"), ("the dancer", "their", "themselves")),
    "basketball": (("a basketball player", "their", "themselves"),),
}
_NUMBER_WORDS = {"2": "two", "3": "three", "4": "four", "5": "five", "6": "six"}


def _with_pos(words: list[str]) -> list[str]:
    """Put {pos} before a bare body-part noun ("lift arm" -> "lift {pos} arm")."""
    out = []
    for i, w in enumerate(words):
        if w in _BODY and i > 0 and words[i - 1] not in _DETERMINERS:
            out.append("{pos}")
        out.append(w)
    return out


def _verb_base(word: str) -> str | None:
    """The base verb of a word that is a known verb or its gerund ("folding" -> "fold")."""
    if word in _CMU_VERBS:
        return word
    if word.endswith("ing") and len(word) > 5:
        stem = word[:-3]
        for cand in (stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else None):
            if cand and cand in _CMU_VERBS:
                return cand
    return None


def _segment_phrases(seg: str, category: str | None) -> tuple[str, ...] | None:
    """Base-form verb-phrase templates for one description segment, or None when unsure."""
    seg = seg.strip(" .;:-")
    if not seg:
        return None
    if "/" in seg:
        # "run/jog", "punch/strike", "attitude/arabesque": any alternative describes it.
        out: list[str] = []
        for alt in seg.split("/"):
            out += _segment_phrases(alt, category) or ()
        return tuple(dict.fromkeys(out)) or None
    if seg in _CMU_PHRASES:
        return _CMU_PHRASES[seg]
    words = seg.split()
    if any(w.strip(",") in _BALLET for w in words) or (category == "dance" and words[-1] in ("turn", "turns")):
        if words[-1].endswith("s") and words[-1] not in ("pas", "dessous", "derriere"):
            return (f"do {seg}", f"perform {seg}")
        return (f"do {_article(words[0])} {seg}", f"perform {_article(words[0])} {seg}")
    if re.fullmatch(r"(90|180|270|360)", seg):
        return (f"turn {seg} degrees", f"make a {seg}-degree turn")
    head = words[-1]
    if head in _NOUN_VERBS and len(words) <= 4:
        verb = _NOUN_VERBS[head]
        mods = words[:-1]
        plural = head.endswith("s") and head != verb
        dirs = [m for m in mods if m in _DIRECTIONS]
        speeds = [_SPEED[m] for m in mods if m in _SPEED]
        degrees = [m for m in mods if re.fullmatch(r"\d+-degree", m)]
        others = [m for m in mods if m not in _DIRECTIONS and m not in _SPEED and m not in degrees]
        obj = ""
        if verb == "dribble":
            obj = " a basketball" if category == "basketball" else " a ball"
        if verb == "turn" and degrees:
            deg = degrees[0].split("-")[0]
            side = " ".join(dirs)
            to = f" to the {side}" if side in ("left", "right") else (f" {side}" if side else "")
            rep = " repeatedly" if plural else ""
            made = f"make {deg}-degree turns{to}" if plural else f"make a {deg}-degree turn{to}"
            return (f"turn {deg} degrees{to}{rep}", made)
        if not others:
            tail = " ".join(dirs + speeds)
            tail = f" {tail}" if tail else ""
            rep = " repeatedly" if plural and verb not in ("step",) else ""
            out = [f"{verb}{obj}{tail}{rep}".replace("  ", " ")]
            if plural:
                out.append(f"do several {' '.join(dirs)} {head}".replace("  ", " "))
                out.append(f"{verb}{obj}{tail} several times")
            else:
                out.append(f"{verb}{obj}{tail}")
            return tuple(dict.fromkeys(o.strip() for o in out))
        noun_phrase = " ".join(mods + [head])
        if plural:
            return (f"do {noun_phrase}", f"perform {noun_phrase}")
        return (f"do {_article(noun_phrase)} {noun_phrase}", f"perform {_article(noun_phrase)} {noun_phrase}")
    verb = _verb_base(words[0])
    if verb is not None:
        rest = _with_pos(["{refl}" if w in ("self", "oneself") else w for w in words[1:]])
        rest = [_NUMBER_WORDS.get(w, w) for w in rest]
        for i in range(1, len(rest)):  # "stretch and yawn": the second verb is conjugated too
            second = _verb_base(rest[i]) if rest[i - 1] in ("and", "then") else None
            if second is not None:
                rest[i] = "^" + second
        phrase = " ".join([verb] + rest)
        if verb == "dribble" and len(words) == 1:
            phrase += " a basketball" if category == "basketball" else " a ball"
        return (phrase,)
    return None


def _cmu_parse(description: str) -> tuple[list[tuple[str, ...]], str | None]:
    """(templates per segment, category) of a CMU description; segments that could not be
    rewritten get a generic "do <segment>" template."""
    text = description.strip().strip('"').strip()
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)  # "WalkStraight" -> "Walk Straight"
    text = re.sub(r"(?<=[A-Za-z])\d+\b", "", text.replace("_", " "))  # "Left_Lunges001"
    text = re.sub(r"[#{}^|]", " ", text.lower())
    text = re.sub(r"\(repeated\)", " repeatedly ", text)
    text = re.sub(r"\([^)]*\)?", " ", text)  # notes such as "(2 subjects)" or "(human subject)"
    text = re.sub(r"\s+", " ", text).strip()
    category = None
    if " - " in text:
        category, text = (p.strip() for p in text.split(" - ", 1))
    segments: list[tuple[str, ...]] = []
    for seg in re.split(r"[,;]", text):
        seg = re.sub(r"^(and|then|and then) ", "", seg.strip())
        if not seg or re.fullmatch(r"(subjects?|a|b)( [ab])?\)?", seg):
            continue
        got = _segment_phrases(seg, category)
        if got is None and " and " in seg:  # "stretch and yawn": two steps if both are clear
            parts = [_segment_phrases(p, category) for p in seg.split(" and ")]
            if all(parts):
                segments.extend(parts)  # type: ignore[arg-type]
                continue
        if got is None:
            got = (f"do {seg}", f"perform {seg}", f"act out {seg}")
        segments.append(got)
    return segments, category


def _cmu_one(segments: list[tuple[str, ...]], category: str | None, draw: _Draw) -> str:
    """One caption of a parsed CMU description: its segments in order, joined."""
    subjects = _SUBJECTS + _CATEGORY_SUBJECTS.get(category or "", ())
    subject, pos, refl = draw.pick(subjects)
    templates = [draw.pick(s) for s in segments]
    fin = [_render(t, "finite", pos, refl) for t in templates]
    ger = [_render(t, "gerund", pos, refl) for t in templates]
    k = len(fin)
    if k == 1:
        text = f"{subject} is {ger[0]}" if draw.chance(0.25) else f"{subject} {fin[0]}"
    elif k == 2:
        style = draw.below(5)
        if style == 0:
            text = f"{subject} {fin[0]}, then {fin[1]}"
        elif style == 1:
            text = f"{subject} {fin[0]} and then {fin[1]}"
        elif style == 2:
            text = f"{subject} {fin[0]} and {fin[1]}"
        elif style == 3:
            text = f"{subject} {fin[0]} before {ger[1]}"
        else:
            text = f"after {ger[0]}, {subject} {fin[1]}"
    else:
        style = draw.below(4)
        if style == 0:
            text = f"{subject} " + ", ".join(fin[:-1]) + f", and then {fin[-1]}"
        elif style == 1:
            text = f"{subject} " + ", then ".join(fin)
        elif style == 2:
            text = f"first {subject} {fin[0]}, then " + ", then ".join(fin[1:-1]) + f", and finally {fin[-1]}"
        else:
            text = f"{subject} " + ", ".join(fin[:-1]) + f" and {fin[-1]}"
    context = _CATEGORY_CONTEXT.get(category or "")
    if context and draw.chance(0.45):
        phrase = draw.pick(context)
        if not any(w in text for w in phrase.split()[-1:]):
            text = f"{text} {phrase}"
    if draw.chance(0.5):
        text += "."
    return _tidy(text)


def cmu_captions(description: str, n: int, rng: Rng) -> list[str]:
    """n distinct captions paraphrasing a CMU trial description (fewer when it runs out).

    A light rule-based rewrite: the "category - " prefix becomes context ("on a playground")
    or a subject ("a dancer"), comma-separated segments become a sequence joined with "then",
    "and then", "before ...", and each segment is conjugated when its form is recognised
    ("forward jumps" -> "jumps forward", "turn around" -> "turns around", "slow walk" ->
    "walks slowly"); anything else falls back to "does <segment>". Deterministic for a
    seeded rng; sides are kept as written, so a mirrored label's description names the other.
    """
    if n <= 0:
        return []
    segments, category = _cmu_parse(description)
    draw = _Draw(rng)
    if not segments:
        moves = ("moves around", "moves", "is moving around")
        return _distinct(lambda d: _tidy(f"{d.pick(_SUBJECTS)[0]} {d.pick(moves)}"), n, draw)
    return _distinct(lambda d: _cmu_one(segments, category, d), n, draw)
