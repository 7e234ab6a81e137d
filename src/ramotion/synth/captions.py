"""Natural-language captions of a program: varied templates, synonyms and orderings.

Every action has several phrasings (a finite verb phrase, "walks forward four steps",
and a gerund, "walking forward four steps"), counts appear in words or digits,
speeds and depths as adverbs, and sequences are joined with "then", "and then",
"before", "after that", "after ..." or "first ... finally ...". Sides are only ever
written as the words "left" and "right", so swapping those words (what mirroring
does to captions) stays true to the mirrored motion.
"""

from __future__ import annotations

import numpy as np

from .program import Program, ProgramAction

_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
# (subject, possessive, pronoun for "after that, ___ ..." with a singular verb)
_SUBJECTS = [
    ("a person", "their", "the person"), ("a person", "their", "the person"), ("someone", "their", "the person"),
    ("a man", "his", "he"), ("the man", "his", "he"), ("a woman", "her", "she"), ("the woman", "her", "she"),
    ("the person", "their", "the person"), ("a human", "their", "the person"), ("a figure", "their", "the figure"),
]


def number(n: int, rng: np.random.Generator) -> str:
    """A count as a word or (one time in three) as digits."""
    return str(n) if rng.random() < 0.33 or n >= len(_WORDS) else _WORDS[n]


def times(n: int, rng: np.random.Generator) -> str:
    """'once', 'twice', 'three times', '3 times'."""
    if n == 1:
        return str(rng.choice(["once", "one time"]))
    if n == 2 and rng.random() < 0.5:
        return "twice"
    return f"{number(n, rng)} times"


def _pick(options: list, rng: np.random.Generator):
    return options[int(rng.integers(len(options)))]


def _phrases(act: ProgramAction, rng: np.random.Generator, pos: str) -> list[tuple[str, str]]:
    """Phrasings of one action: (finite verb phrase, gerund phrase) pairs, {pos} filled in."""
    p = act.params
    a = act.action
    if a == "walk":
        n, d, speed = p["steps"], p["direction"], p.get("speed", "normal")
        adv = {"slow": ["slowly", "at a slow pace", "leisurely"], "fast": ["quickly", "briskly", "at a fast pace"],
               "normal": ["", "", "steadily"]}[speed]
        ad = _pick(adv, rng)
        ad = f" {ad}" if ad else ""
        k = number(n, rng)
        if d == "forward":
            return [(f"walks forward {k} steps{ad}", f"walking forward {k} steps{ad}"),
                    (f"takes {k} steps forward{ad}", f"taking {k} steps forward{ad}"),
                    (f"walks ahead{ad}", f"walking ahead{ad}"), (f"walks straight forward{ad}", f"walking straight forward{ad}")]
        if d == "backward":
            return [(f"walks backwards {k} steps{ad}", f"walking backwards {k} steps{ad}"),
                    (f"takes {k} steps back{ad}", f"taking {k} steps back{ad}"),
                    (f"steps backward{ad}", f"stepping backward{ad}"), (f"walks backward{ad}", f"walking backward{ad}")]
        return [(f"walks sideways to the {d}{ad}", f"walking sideways to the {d}{ad}"),
                (f"sidesteps to the {d} {times(n, rng)}", f"sidestepping to the {d} {times(n, rng)}"),
                (f"takes {k} steps to the {d}{ad}", f"taking {k} steps to the {d}{ad}"),
                (f"shuffles to {pos} {d}{ad}", f"shuffling to {pos} {d}{ad}")]
    if a == "jog":
        return [("jogs forward", "jogging forward"), ("jogs ahead", "jogging ahead"),
                ("jogs a short distance", "jogging a short distance"), ("runs forward slowly", "running forward slowly"),
                (f"jogs {number(p['steps'], rng)} steps forward", f"jogging {number(p['steps'], rng)} steps forward")]
    if a == "run":
        return [("runs forward", "running forward"), ("sprints ahead", "sprinting ahead"),
                ("runs forward quickly", "running forward quickly"), ("dashes forward", "dashing forward"),
                ("runs fast in a straight line", "running fast in a straight line")]
    if a == "jump":
        n = p["count"]
        t = times(n, rng)
        if p.get("forward"):
            out = [(f"jumps forward {t}", f"jumping forward {t}"), (f"leaps forward {t}", f"leaping forward {t}")]
            if n == 1:
                out.append(("does a jump forward", "doing a jump forward"))
            else:
                out.append((f"does {number(n, rng)} forward jumps", f"doing {number(n, rng)} forward jumps"))
            return out
        out = [(f"jumps {t}", f"jumping {t}"), (f"jumps in place {t}", f"jumping in place {t}"),
               (f"jumps up and down {t}", f"jumping up and down {t}")]
        if n == 1:
            out.append(("jumps up once", "jumping up once"))
        else:
            out.append((f"does {number(n, rng)} jumps on the spot", f"doing {number(n, rng)} jumps on the spot"))
        return out
    if a == "hop":
        leg, t = p["leg"], times(p["count"], rng)
        return [(f"hops on {pos} {leg} leg {t}", f"hopping on {pos} {leg} leg {t}"),
                (f"hops {t} on the {leg} foot", f"hopping {t} on the {leg} foot"),
                (f"stands on {pos} {leg} leg and hops {t}", f"standing on {pos} {leg} leg and hopping {t}")]
    if a == "turn":
        d, ang = p["direction"], p["angle"]
        if ang == 180:
            return [(f"turns around to the {d}", f"turning around to the {d}"), ("turns around", "turning around"),
                    ("turns to face the other way", "turning to face the other way"),
                    (f"turns 180 degrees to {pos} {d}", f"turning 180 degrees to {pos} {d}")]
        return [(f"turns {d}", f"turning {d}"), (f"turns to the {d}", f"turning to the {d}"),
                (f"turns 90 degrees to the {d}", f"turning 90 degrees to the {d}"),
                (f"makes a quarter turn to {pos} {d}", f"making a quarter turn to {pos} {d}")]
    if a == "spin":
        d = p["direction"]
        return [(f"spins around to the {d}", f"spinning around to the {d}"), ("spins in a full circle", "spinning in a full circle"),
                ("turns all the way around", "turning all the way around"), (f"does a full spin to the {d}", f"doing a full spin to the {d}"),
                ("twirls around once", "twirling around once")]
    if a == "wave":
        h = p["hand"]
        if h == "both":
            return [("waves both hands", "waving both hands"), (f"waves with both arms above {pos} head", f"waving with both arms above {pos} head"),
                    (f"raises both hands and waves", "raising both hands and waving"), ("waves with both hands", "waving with both hands")]
        return [(f"waves {pos} {h} hand", f"waving {pos} {h} hand"), (f"waves with {pos} {h} hand", f"waving with {pos} {h} hand"),
                (f"raises {pos} {h} hand and waves", f"raising {pos} {h} hand and waving"),
                (f"waves hello with the {h} hand", f"waving hello with the {h} hand"),
                (f"waves {pos} {h} arm back and forth", f"waving {pos} {h} arm back and forth")]
    if a == "raise_arms":
        h, how = p["hand"], p.get("how", "up")
        if how == "up":
            if h == "both":
                return [(f"raises both arms above {pos} head", f"raising both arms above {pos} head"), (f"puts {pos} hands up", f"putting {pos} hands up"),
                        ("lifts both arms up", "lifting both arms up"), (f"raises {pos} arms overhead", f"raising {pos} arms overhead")]
            return [(f"raises {pos} {h} arm", f"raising {pos} {h} arm"), (f"lifts {pos} {h} hand above {pos} head", f"lifting {pos} {h} hand above {pos} head"),
                    (f"puts {pos} {h} hand up", f"putting {pos} {h} hand up"), (f"raises the {h} arm up high", f"raising the {h} arm up high")]
        if h == "both":
            return [(f"raises {pos} arms out to the sides", f"raising {pos} arms out to the sides"),
                    (f"stretches {pos} arms out sideways", f"stretching {pos} arms out sideways"),
                    ("holds both arms out to the side", "holding both arms out to the side"),
                    (f"lifts {pos} arms to shoulder height", f"lifting {pos} arms to shoulder height")]
        return [(f"raises {pos} {h} arm out to the side", f"raising {pos} {h} arm out to the side"),
                (f"holds {pos} {h} arm out sideways", f"holding {pos} {h} arm out sideways"),
                (f"lifts the {h} arm to shoulder height", f"lifting the {h} arm to shoulder height")]
    if a == "clap":
        t = times(p["count"], rng)
        return [(f"claps {t}", f"clapping {t}"), (f"claps {pos} hands {t}", f"clapping {pos} hands {t}"),
                (f"claps {pos} hands together {t}", f"clapping {pos} hands together {t}"),
                (f"claps {number(p['count'], rng)} times in front of {pos} chest", f"clapping {number(p['count'], rng)} times in front of {pos} chest")]
    if a == "punch":
        h, n = p["hand"], p["count"]
        out = [(f"punches with {pos} {h} hand {times(n, rng)}", f"punching with {pos} {h} hand {times(n, rng)}"),
               (f"punches forward with the {h} fist {times(n, rng)}", f"punching forward with the {h} fist {times(n, rng)}"),
               (f"jabs with {pos} {h} arm {times(n, rng)}", f"jabbing with {pos} {h} arm {times(n, rng)}")]
        if n == 1:
            out.append((f"throws a punch with {pos} {h} hand", f"throwing a punch with {pos} {h} hand"))
        else:
            out.append((f"throws {number(n, rng)} {h} punches", f"throwing {number(n, rng)} {h} punches"))
        return out
    if a == "kick":
        leg, n = p["leg"], p["count"]
        out = [(f"kicks with {pos} {leg} leg", f"kicking with {pos} {leg} leg"),
               (f"kicks {pos} {leg} foot forward {times(n, rng)}", f"kicking {pos} {leg} foot forward {times(n, rng)}"),
               (f"kicks forward with the {leg} leg {times(n, rng)}", f"kicking forward with the {leg} leg {times(n, rng)}")]
        out.append((f"does a kick with the {leg} leg", f"doing a kick with the {leg} leg") if n == 1 else
                   (f"does {number(n, rng)} kicks with the {leg} leg", f"doing {number(n, rng)} kicks with the {leg} leg"))
        return out
    if a == "squat":
        n, deep = p["count"], p.get("depth") == "deep"
        dd = _pick(["deep ", "low "], rng) if deep else ""
        dv = " deeply" if deep else ""
        out = [(f"squats down{dv} {times(n, rng)}", f"squatting down{dv} {times(n, rng)}"),
               (f"bends {pos} knees and squats{dv} {times(n, rng)}", f"bending {pos} knees and squatting{dv} {times(n, rng)}")]
        out.append((f"does a {dd}squat", f"doing a {dd}squat") if n == 1 else
                   (f"does {number(n, rng)} {dd}squats", f"doing {number(n, rng)} {dd}squats"))
        return out
    if a == "crouch":
        return [("crouches down and stands back up", "crouching down and standing back up"),
                ("crouches down for a moment, then gets back up", "crouching down for a moment and getting back up"),
                ("ducks down low and rises again", "ducking down low and rising again"),
                ("crouches low and stays there briefly before standing up", "crouching low for a moment and then standing up")]
    if a == "bow":
        deep = p.get("depth") == "deep"
        dv = " deeply" if deep else ""
        return [(f"bows{dv}", f"bowing{dv}"), (f"takes a{' deep' if deep else ''} bow", f"taking a{' deep' if deep else ''} bow"),
                (f"bows forward{dv}", f"bowing forward{dv}"),
                ("bends forward at the waist and straightens up", "bending forward at the waist and straightening up")]
    if a == "lean":
        d = p["direction"]
        return [(f"leans to the {d}", f"leaning to the {d}"), (f"leans {pos} upper body to the {d}", f"leaning {pos} upper body to the {d}"),
                (f"tilts {pos} body to the {d}", f"tilting {pos} body to the {d}"), (f"bends sideways to the {d}", f"bending sideways to the {d}")]
    if a == "stand":
        return [("stands still", "standing still"), ("stands in place", "standing in place"),
                ("waits for a moment", "waiting for a moment"), ("stays still for a moment", "staying still for a moment"),
                ("stands and waits", "standing and waiting")]
    raise ValueError(f"no captions for action {a!r}")


def _join(subject: str, pron: str, finite: list[str], gerund: list[str], rng: np.random.Generator) -> str:
    """One sentence for a sequence of phrases, with a randomly chosen connective pattern."""
    k = len(finite)
    if k == 1:
        return f"{subject} {finite[0]}."
    if k == 2:
        style = int(rng.integers(6))
        if style == 0:
            return f"{subject} {finite[0]}, then {finite[1]}."
        if style == 1:
            return f"{subject} {finite[0]} and then {finite[1]}."
        if style == 2:
            return f"{subject} {finite[0]} before {gerund[1]}."
        if style == 3:
            return f"{subject} {finite[0]}. after that, {pron} {finite[1]}."
        if style == 4:
            return f"after {gerund[0]}, {subject} {finite[1]}."
        return f"{subject} {finite[0]} and {finite[1]}."
    style = int(rng.integers(5))
    if style == 0:
        return f"{subject} {finite[0]}, {finite[1]}, and then {finite[2]}."
    if style == 1:
        return f"first, {subject} {finite[0]}, then {pron} {finite[1]}, and finally {pron} {finite[2]}."
    if style == 2:
        return f"{subject} {finite[0]}, then {finite[1]} before {gerund[2]}."
    if style == 3:
        return f"after {gerund[0]}, {subject} {finite[1]} and then {finite[2]}."
    return f"{subject} {finite[0]}. after that, {pron} {finite[1]} and {finite[2]}."


def caption(program: Program, rng: np.random.Generator) -> str:
    """One caption of a program."""
    subject, pos, pron = _SUBJECTS[int(rng.integers(len(_SUBJECTS)))]
    finite, gerund = [], []
    for act in program.actions:
        f, g = _pick(_phrases(act, rng, pos), rng)
        finite.append(f)
        gerund.append(g)
    return " ".join(_join(subject, pron, finite, gerund, rng).split())


def captions(program: Program, rng: np.random.Generator, n: int = 3, max_tries: int = 40) -> list[str]:
    """`n` distinct captions of a program (fewer only if its phrasings run out)."""
    out: list[str] = []
    for _ in range(max_tries):
        c = caption(program, rng)
        if c not in out:
            out.append(c)
        if len(out) >= n:
            break
    return out
