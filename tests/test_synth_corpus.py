"""The written corpus: builder integration, programs aligned with new_joints, determinism, CLI, real data."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ramotion.cli import main
from ramotion.synth import Program, ProgramAction, check, load_program, write_corpus

N = 10


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "ds"
    write_corpus(root, N, seed=3, workers=1, progress=False)
    return root


def test_layout_and_programs(corpus: Path) -> None:
    ids = [f"{i:06d}" for i in range(N)]
    for i in ids:
        for m in (i, f"M{i}"):
            assert (corpus / "new_joint_vecs" / f"{m}.npy").is_file()
            assert (corpus / "texts" / f"{m}.txt").is_file()
            assert (corpus / "programs" / f"{m}.json").is_file()
    for name in ("Mean.npy", "Std.npy", "train.txt", "val.txt", "test.txt", "held_out_compositions.json", "synth.json"):
        assert (corpus / name).is_file(), name
    lines = (corpus / "texts" / "000000.txt").read_text().splitlines()
    assert len(lines) >= 3 and all(len(x.split("#")) == 4 for x in lines)
    held = json.loads((corpus / "held_out_compositions.json").read_text())
    test_ids = set((corpus / "test.txt").read_text().split())
    train_ids = set((corpus / "train.txt").read_text().split()) | set((corpus / "val.txt").read_text().split())
    assert set(held["held_out_test_ids"]) <= test_ids
    pairs = {tuple(p) for p in held["pairs"]}
    for mid in train_ids:
        names = set(load_program(corpus, mid).names())
        assert not any(a in names and b in names for a, b in pairs), mid


def test_checker_on_recovered_joints(corpus: Path) -> None:
    # new_joints are recovered from the features (floored, re-oriented, one frame fewer):
    # the program's spans are aligned with them and the checker passes, mirrors included.
    results = []
    for path in sorted((corpus / "new_joints").glob("*.npy")):
        joints = np.load(path)
        prog = load_program(corpus, path.stem)
        assert len(joints) == prog.num_frames
        assert len(np.load(corpus / "new_joint_vecs" / path.name)) == prog.num_frames
        results += [r.passed for r in check(prog, joints)]
    assert np.mean(results) >= 0.95


def test_mirrored_captions_and_programs_agree(corpus: Path) -> None:
    for i in range(N):
        prog, mprog = load_program(corpus, f"{i:06d}"), load_program(corpus, f"M{i:06d}")
        assert mprog == prog.mirror()
        caps = (corpus / "texts" / f"{i:06d}.txt").read_text().splitlines()
        mcaps = (corpus / "texts" / f"M{i:06d}.txt").read_text().splitlines()
        for c, m in zip(caps, mcaps):
            a, b = c.split("#")[0], m.split("#")[0]
            swapped = re.sub(r"\b(left|right)\b", lambda w: {"left": "right", "right": "left"}[w.group(0)], a)
            assert swapped == b


def test_same_seed_same_bytes(corpus: Path, tmp_path: Path) -> None:
    # Same seed, another worker count: identical files, byte for byte.
    again = tmp_path / "again"
    write_corpus(again, N, seed=3, workers=2, progress=False)
    assert _digest(again) == _digest(corpus)
    other = tmp_path / "other"
    write_corpus(other, 3, seed=4, workers=1, progress=False)
    assert _digest(other)["programs/000000.json"] != _digest(corpus)["programs/000000.json"]


def test_cli_synth(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    assert main(["synth", "--motions", "2", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    assert "wrote 2 motions + 2 mirrors" in capsys.readouterr().out
    assert main(["synth", "--motions", "2", "--seed", "1", "--out", str(out), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["synth", "--motions", "2", "--seed", "2", "--out", str(out), "--quiet", "--force"]) == 0
    assert main(["synth", "--motions", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--motions must be at least 1" in capsys.readouterr().err


def test_checker_on_real_kick(h3d_samples: Path) -> None:
    # HumanML3D 000000: "a man kicks something or someone with his left leg".
    joints = np.load(h3d_samples / "new_joints" / "000000.npy")
    T = len(joints)

    def verdict(name: str, params: dict) -> bool:
        return check(Program([ProgramAction(name, params, 0, T)], T), joints)[0].passed

    assert verdict("kick", {"leg": "left", "count": 1})
    assert not verdict("kick", {"leg": "right", "count": 1})
    assert not verdict("walk", {"direction": "forward", "steps": 2, "speed": "normal"})
    assert not verdict("wave", {"hand": "left", "count": 2})


def test_semantic_accuracy(corpus: Path, tmp_path: Path) -> None:
    from ramotion.synth import semantic_accuracy

    ceiling = semantic_accuracy(corpus, split="all")
    assert ceiling["motions"] == 2 * N and ceiling["pass_rate"] >= 0.95
    # "Samples" that stand still pass almost nothing; shorter samples get stretched programs.
    samples = tmp_path / "samples"
    samples.mkdir()
    still = np.load(corpus / "new_joints" / "000000.npy")[:1].repeat(60, axis=0)
    for mid in (corpus / "all.txt").read_text().split():
        np.save(samples / f"{mid}.npy", still)
    floor = semantic_accuracy(corpus, samples, split="all")
    assert floor["motions"] == 2 * N and floor["pass_rate"] < 0.3
    with pytest.raises(FileNotFoundError, match="no joints folder"):
        semantic_accuracy(corpus, tmp_path / "missing")


def test_program_rescaled() -> None:
    prog = Program([ProgramAction("clap", {"count": 2}, 0, 50), ProgramAction("bow", {}, 50, 100)], 100)
    half = prog.rescaled(50)
    assert half.num_frames == 50 and [(a.start, a.end) for a in half.actions] == [(0, 25), (25, 50)]
