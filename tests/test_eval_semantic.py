"""Semantic accuracy: per-action and held-out-composition bookkeeping around the synth checker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ramotion.evaluation.report import semantic_table
from ramotion.evaluation.semantic import held_out_ids, semantic_accuracy

from ._eval_toy import make_toy_root


def _with_programs(root: Path) -> Path:
    """Give every toy test motion a two-action program; motions 'xx0000'.. of action 0-3 are held out."""
    (root / "programs").mkdir()
    held = []
    for mid in (root / "test.txt").read_text().split():
        action = int(mid[:2])
        names = ["walk", "wave"] if action < 4 else ["jump", "kick"]
        n = len(np.load(root / "new_joint_vecs" / f"{mid}.npy"))
        prog = {"version": 1, "fps": 20.0, "num_frames": n, "actions": [
            {"action": names[0], "params": {}, "start": 0, "end": n // 2},
            {"action": names[1], "params": {"hand": "left"}, "start": n // 2, "end": n}]}  # fmt: skip
        (root / "programs" / f"{mid}.json").write_text(json.dumps(prog))
        if action < 4:
            held.append(mid)
    (root / "test_heldout.txt").write_text("".join(f"{m}\n" for m in held))
    return root


def test_semantic_accuracy_counts_per_action_and_held_out(tmp_path):
    root = _with_programs(make_toy_root(tmp_path / "root", per_action=5))
    assert held_out_ids(root) and all(int(m[:2]) < 4 for m in held_out_ids(root))
    seen_lengths = []

    def check(program, joints):
        # A stand-in checker: "wave" and "kick" fail, everything else passes. It must get
        # joints of the program's length recovered from the features.
        assert joints.shape == (program.num_frames, 22, 3)
        return [{"action": a.action, "passed": a.action not in ("wave", "kick")} for a in program.actions]

    def generator(captions, lengths, seeds):
        seen_lengths.extend(lengths)
        return [np.zeros((n, 263), np.float32) for n in lengths]

    res = semantic_accuracy(root, generator, check=check, progress=False)
    n = len((root / "test.txt").read_text().split())
    assert res["motions"] == n and res["overall"]["checked"] == 2 * n
    assert res["overall"]["accuracy"] == pytest.approx(0.5)
    assert res["per_action"]["walk"]["accuracy"] == 1.0 and res["per_action"]["wave"]["accuracy"] == 0.0
    assert res["held_out"]["checked"] + res["seen"]["checked"] == 2 * n
    assert res["held_out"]["accuracy"] == pytest.approx(0.5)
    assert sorted(seen_lengths) == sorted(len(np.load(root / "new_joint_vecs" / f"{m}.npy")) for m in (root / "test.txt").read_text().split())
    table = semantic_table(res)
    assert "| wave | 0.000 (0/" in table and "held-out compositions" in table
    # The dataset's own motions (generator None) go through the same path; a limit samples motions.
    own = semantic_accuracy(root, None, check=check, max_motions=3, progress=False)
    assert own["motions"] == 3


def test_semantic_accuracy_needs_programs(tmp_path):
    root = make_toy_root(tmp_path / "root", per_action=3)
    with pytest.raises(FileNotFoundError, match="no programs/ folder"):
        semantic_accuracy(root, None, check=lambda p, j: [], progress=False)


def test_semantic_accuracy_with_the_synth_checker(tmp_path):
    from ramotion.synth import write_corpus

    root = tmp_path / "synth"
    write_corpus(root, 30, seed=3, progress=False)
    own = semantic_accuracy(root, None, progress=False)  # the corpus's own test motions pass their programs
    assert own["motions"] >= 4 and own["overall"]["accuracy"] >= 0.9
    assert set(own["per_action"]) <= set(__import__("ramotion.synth", fromlist=["ACTIONS"]).ACTIONS)

    standing = np.load(root / "new_joint_vecs" / f"{(root / 'test.txt').read_text().split()[0]}.npy")

    def frozen(captions, lengths, seeds):
        # Negative control: every caption gets the first frame of a real motion, held still.
        return [np.repeat(standing[:1], n, axis=0) for n in lengths]

    still = semantic_accuracy(root, frozen, progress=False)
    assert still["overall"]["accuracy"] < own["overall"]["accuracy"] - 0.3
