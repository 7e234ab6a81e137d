"""The procedural corpus: many motions with captions, programs and a compositional test split.

`generate_corpus(n, seed)` returns items (joints, program, captions, split); item i
depends only on (seed, i), so any subset, order or number of worker processes gives
the same motions. `write_corpus` passes them through the project's dataset builder
(`ramotion.data.build.build_dataset`: features, recovered joints, tagged captions,
mirrors, stats, splits) and writes the programs beside the captions:

    ROOT/programs/<id>.json, ROOT/programs/M<id>.json   ground truth (mirrored for M)
    ROOT/held_out_compositions.json                      the held-out action pairs
    ROOT/synth.json                                      how the corpus was made

Held-out compositions: a seeded tenth of the pairs of (non-"stand") action types
never occur together in a train or val motion; every motion containing such a pair
goes to the test split, so a model's success on them measures compositional
generalisation. The other motions are split 85 / 5 / 10 % (train / val / test).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io_utils import write_text
from .captions import captions as make_captions
from .compose import compose_motion
from .primitives import ACTIONS, FPS
from .program import Program

CORPUS_VERSION = 1
HELD_OUT_FRACTION = 0.1
SPLIT_FRACTIONS = (0.85, 0.05, 0.10)  # of the motions without a held-out pair
CAPTIONS_PER_MOTION = (3, 5)  # inclusive range


@dataclass
class SynthItem:
    """One generated motion."""

    id: str
    joints: np.ndarray  # (num_frames + 1, 22, 3) float64, metres, y up, floor at 0
    program: Program
    captions: list[str]
    split: str  # "train", "val" or "test"
    held_out: list[tuple[str, str]]  # held-out pairs this motion contains


def held_out_pairs(seed: int) -> list[tuple[str, str]]:
    """The action pairs (sorted names) kept out of training for this seed."""
    names = sorted(a for a in ACTIONS if a != "stand")
    pairs = list(itertools.combinations(names, 2))
    rng = np.random.default_rng([seed, 7919])
    k = max(1, int(round(HELD_OUT_FRACTION * len(pairs))))
    chosen = sorted(int(i) for i in rng.choice(len(pairs), size=k, replace=False))
    return [pairs[i] for i in chosen]


def pairs_in(program: Program) -> set[tuple[str, str]]:
    """Unordered pairs of distinct action types that occur together in a program."""
    names = sorted(set(program.names()))
    return set(itertools.combinations(names, 2))


def item_id(index: int) -> str:
    return f"{index:06d}"


def make_item(seed: int, index: int, held: list[tuple[str, str]] | None = None) -> SynthItem:
    """Motion `index` of the corpus with this seed (independent of every other item)."""
    held = held_out_pairs(seed) if held is None else held
    rng = np.random.default_rng([seed, index])
    joints, program = compose_motion(rng)
    lo, hi = CAPTIONS_PER_MOTION
    caps = make_captions(program, rng, n=int(rng.integers(lo, hi + 1)))
    inside = sorted(pairs_in(program) & set(held))
    if inside:
        split = "test"
    else:
        u = rng.random()
        split = "train" if u < SPLIT_FRACTIONS[0] else "val" if u < SPLIT_FRACTIONS[0] + SPLIT_FRACTIONS[1] else "test"
    return SynthItem(item_id(index), joints, program, caps, split, inside)


def iter_corpus(n: int, seed: int = 0, start: int = 0) -> Iterator[SynthItem]:
    """Items start .. n-1, one at a time."""
    if n < 1:
        raise ValueError(f"the number of motions must be at least 1, got {n}")
    held = held_out_pairs(seed)
    for i in range(start, n):
        yield make_item(seed, i, held)


def generate_corpus(n: int, seed: int = 0) -> list[SynthItem]:
    """All n items in memory (fine for small n; `write_corpus` streams)."""
    return list(iter_corpus(n, seed))


def write_corpus(
    root: str | os.PathLike,
    n: int,
    seed: int = 0,
    *,
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
):
    """Generate n motions and write the full HumanML3D layout plus programs under root.

    `workers` processes extract features (the builder's pool) while this process
    generates. Returns the builder's summary.
    """
    from ..data.build import BuildItem, CaptionSpec, build_dataset

    if n < 1:
        raise ValueError(f"the number of motions must be at least 1, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    root = Path(root)
    programs = root / "programs"
    if programs.exists() and any(programs.iterdir()) and not force:
        raise FileExistsError(f"{root} already holds a synthetic corpus; pass force=True (--force) to overwrite it")
    held = held_out_pairs(seed)
    index: dict[str, dict] = {}

    def items() -> Iterator[BuildItem]:
        # Generation (~30 ms a motion) runs here while the builder's workers extract
        # features (~70 ms a motion with its mirror): no second process pool needed.
        for i in range(n):
            yield _to_build(make_item(seed, i, held))

    def _to_build(it: SynthItem) -> BuildItem:
        programs.mkdir(parents=True, exist_ok=True)
        write_text(programs / f"{it.id}.json", it.program.to_json())
        write_text(programs / f"M{it.id}.json", it.program.mirror().to_json())
        index[it.id] = {"split": it.split, "held_out": [list(p) for p in it.held_out]}
        return BuildItem(id=it.id, joints=it.joints, fps=FPS, captions=[CaptionSpec(c) for c in it.captions], split=it.split)

    if force and programs.exists():
        for p in programs.glob("*.json"):
            p.unlink()
    # The joints are generated on the reference skeleton already: no retargeting needed.
    summary = build_dataset(root, items(), seed=seed, mirror=True, force=force, retarget=False,
                            workers=workers, progress=progress, total=n)
    by_pair: dict[str, list[str]] = {"+".join(p): [] for p in held}
    for mid, info in sorted(index.items()):
        for p in info["held_out"]:
            by_pair["+".join(p)] += [mid, f"M{mid}"]
    held_ids = sorted({i for ids in by_pair.values() for i in ids})
    in_dist_test = sorted(i for mid, info in index.items() if info["split"] == "test" and not info["held_out"] for i in (mid, f"M{mid}"))
    write_text(root / "held_out_compositions.json", json.dumps({
        "rule": "action pairs (by type, in any order, anywhere in a motion) that never occur together in train or val",
        "pairs": [list(p) for p in held],
        "test_ids_by_pair": by_pair,
        "held_out_test_ids": held_ids,
        "in_distribution_test_ids": in_dist_test,
    }, indent=1) + "\n")
    write_text(root / "synth.json", json.dumps({
        "generator": "ramotion.synth", "version": CORPUS_VERSION, "motions": n, "seed": seed, "fps": FPS,
        "actions": sorted(ACTIONS), "split_fractions": list(SPLIT_FRACTIONS), "held_out_fraction": HELD_OUT_FRACTION,
    }, indent=1) + "\n")
    return summary


def load_program(root: str | os.PathLike, motion_id: str) -> Program:
    """The program of a motion in a written corpus (ROOT/programs/<id>.json)."""
    path = Path(root) / "programs" / f"{motion_id}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no program for motion {motion_id!r}: {path} does not exist")
    return Program.from_json(path.read_text(encoding="utf-8"))


def semantic_accuracy(root: str | os.PathLike, joints_dir: str | os.PathLike | None = None, split: str = "test") -> dict:
    """Checker pass rates of motions against a written corpus's programs.

    joints_dir holds <id>.npy joint arrays (T, 22, 3), e.g. a model's samples for the
    ids of `split`; by default the corpus's own new_joints (the ceiling, ~100%).
    Motions of another length than the program are checked against the program
    with its spans stretched to fit. Ids missing from joints_dir are skipped.
    -> {"motions", "actions", "pass_rate", "held_out_pass_rate",
    "in_distribution_pass_rate", "per_action": {name: rate}}
    """
    from .check import check

    root = Path(root)
    jdir = Path(joints_dir) if joints_dir is not None else root / "new_joints"
    split_file = root / f"{split}.txt"
    if not split_file.is_file():
        raise FileNotFoundError(f"no split file {split_file}")
    if not jdir.is_dir():
        raise FileNotFoundError(f"no joints folder {jdir}")
    held_path = root / "held_out_compositions.json"
    held_ids = set(json.loads(held_path.read_text(encoding="utf-8"))["held_out_test_ids"]) if held_path.is_file() else set()
    results: dict[str, list[bool]] = {"all": [], "held": [], "in": []}
    per_action: dict[str, list[bool]] = {}
    motions = 0
    for mid in split_file.read_text(encoding="utf-8").split():
        path = jdir / f"{mid}.npy"
        if not path.is_file():
            continue
        joints = np.load(path)
        prog = load_program(root, mid)
        if len(joints) != prog.num_frames:
            prog = prog.rescaled(len(joints))
        motions += 1
        for r in check(prog, joints):
            results["all"].append(r.passed)
            results["held" if mid in held_ids else "in"].append(r.passed)
            per_action.setdefault(r.action, []).append(r.passed)
    if not motions:
        raise FileNotFoundError(f"none of the {split} motions of {root} are in {jdir}")

    def rate(v: list[bool]) -> float | None:
        return float(np.mean(v)) if v else None

    return {"motions": motions, "actions": len(results["all"]), "pass_rate": rate(results["all"]),
            "held_out_pass_rate": rate(results["held"]), "in_distribution_pass_rate": rate(results["in"]),
            "per_action": {k: rate(v) for k, v in sorted(per_action.items())}}
