"""Procedural text-motion corpus with ground-truth programs and a semantic checker.

    >>> from ramotion.synth import generate, check
    >>> items = generate(10, seed=0)           # joints, program, captions, split
    >>> results = check(items[0].program, items[0].joints)
    >>> all(r.passed for r in results)
    True

`generate` / `generate_corpus` make motions in memory, `write_corpus` (the `ramotion
synth` verb) writes a full HumanML3D-layout dataset with programs, `check` judges a
motion against a program from joint geometry alone, `semantic_accuracy` gives the
pass rates of a folder of motions (e.g. a model's samples) on a written corpus's
test split, held-out compositions apart, and `plausibility.report` measures bone
lengths, ground contact, foot sliding and joint angles.
"""

from .check import ActionResult, check, pass_rate
from .corpus import (
    SynthItem,
    generate_corpus,
    held_out_pairs,
    iter_corpus,
    load_program,
    make_item,
    semantic_accuracy,
    write_corpus,
)
from .primitives import ACTIONS
from .program import Program, ProgramAction

generate = generate_corpus

__all__ = [
    "ACTIONS", "ActionResult", "Program", "ProgramAction", "SynthItem", "check", "generate", "generate_corpus",
    "held_out_pairs", "iter_corpus", "load_program", "make_item", "pass_rate", "semantic_accuracy", "write_corpus",
]
