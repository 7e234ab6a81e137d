"""`merge_datasets` and `ramotion data merge`: ids, weights, stats, links, atomicity, errors."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ramotion.cli import main
from ramotion.data import merge as merge_mod
from ramotion.data.build import BuildItem, CaptionSpec, build_dataset
from ramotion.data.check import check_dataset
from ramotion.data.dataset import MotionTextDataset
from ramotion.data.layout import read_split
from ramotion.data.merge import MANIFEST, merge_datasets, repeat_counts
from ramotion.motion.normalize import compute_stats
from ramotion.skeleton import get_skeleton

SPLITS_A = {"000": "train", "001": "train", "002": "train", "003": "val", "004": "test"}
SPLITS_B = {"000": "train", "001": "train", "002": "val", "003": "test"}


def _rest_pose() -> np.ndarray:
    """(22, 3) reference pose of the HumanML3D skeleton, feet on the floor."""
    sk = get_skeleton("humanml3d")
    off = sk.offsets()
    pose = np.zeros((sk.num_joints, 3))
    for j, p in enumerate(sk.parents):
        if p >= 0:
            pose[j] = pose[p] + off[j]
    pose[:, 1] -= pose[:, 1].min()
    return pose


def _motion(seed: int, frames: int) -> np.ndarray:
    """A tiny synthetic motion: the rest pose walking forward with small joint wobbles."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 20.0
    joints = np.repeat(_rest_pose()[None], frames, 0)
    joints[:, :, 0] += rng.uniform(0.3, 1.0) * t[:, None]
    joints += 0.03 * np.sin(2 * np.pi * t[:, None, None] * rng.uniform(0.5, 2.0, (1, 22, 3)))
    return joints


def _build(root: Path, splits: dict[str, str], seed: int) -> Path:
    items = [
        BuildItem(i, _motion(seed * 10 + k, 60 + 10 * k), 20.0, [CaptionSpec(f"a person walks to the left ({k})")], split=s)
        for k, (i, s) in enumerate(splits.items())
    ]
    build_dataset(root, items, progress=False, tagger="rules")
    return root


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two small built datasets, alpha (5 motions) and beta (4 motions, with extra JSON and programs)."""
    base = tmp_path_factory.mktemp("sources")
    alpha = _build(base / "alpha", SPLITS_A, 1)
    beta = _build(base / "beta", SPLITS_B, 2)
    (beta / "summary.json").write_text(json.dumps({"kind": "procedural"}))
    (beta / "programs").mkdir()
    for i in ("000", "M000"):
        (beta / "programs" / f"{i}.json").write_text(json.dumps({"id": i}))
    return alpha, beta


@pytest.fixture(scope="module")
def merged(sources: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, merge_mod.MergeSummary]:
    alpha, beta = sources
    out = tmp_path_factory.mktemp("merged") / "mix"
    return out, merge_datasets(out, [(alpha, 1.0, None), (beta, 3.0, None)])


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def test_merged_dataset_passes_check_with_prefixed_ids(sources: tuple[Path, Path], merged: tuple[Path, merge_mod.MergeSummary]) -> None:
    (alpha, beta), (out, summary) = sources, merged
    report = check_dataset(out)
    assert report.errors == []
    assert [w for w in report.warnings if "more than once" not in w] == []  # only the repeats of train.txt
    all_ids = read_split(out / "all.txt")
    want = sorted([f"alpha_{i}" for i in SPLITS_A] + [f"Malpha_{i}" for i in SPLITS_A] + [f"beta_{i}" for i in SPLITS_B] + [f"Mbeta_{i}" for i in SPLITS_B])
    assert all_ids == want
    for split in ("train", "val", "test"):
        ids = set(read_split(out / f"{split}.txt"))
        originals = {i for i in ids if not i.startswith("M")}
        assert {f"M{i}" for i in originals} == ids - originals  # each mirror M<prefix><id> sits with its original
        for prefix, splits in (("alpha_", SPLITS_A), ("beta_", SPLITS_B)):
            assert {i for i in originals if i.startswith(prefix)} == {prefix + i for i, s in splits.items() if s == split}
    for split in ("val", "test", "all", "train_val"):
        ids = read_split(out / f"{split}.txt")
        assert len(ids) == len(set(ids)), split
    assert set(read_split(out / "train_val.txt")) == set(read_split(out / "train.txt")) | set(read_split(out / "val.txt"))
    # The files are the sources' (hard links on one filesystem) under the new names.
    assert os.path.samefile(out / "new_joint_vecs" / "Mbeta_001.npy", beta / "new_joint_vecs" / "M001.npy")
    assert (out / "texts" / "alpha_003.txt").read_bytes() == (alpha / "texts" / "003.txt").read_bytes()
    assert (out / "new_joints" / "Malpha_004.npy").is_file()
    assert summary.linked > 0 and summary.copied == 0


def test_train_repeats_follow_the_weights(merged: tuple[Path, merge_mod.MergeSummary]) -> None:
    out, summary = merged
    counts = Counter(read_split(out / "train.txt"))
    n_a = 2 * sum(s == "train" for s in SPLITS_A.values())  # with mirrors
    n_b = 2 * sum(s == "train" for s in SPLITS_B.values())
    assert {c for i, c in counts.items() if "alpha_" in i} == {1} and sum("alpha_" in i for i in counts) == n_a
    assert {c for i, c in counts.items() if "beta_" in i} == {3} and sum("beta_" in i for i in counts) == n_b
    assert summary.splits["train"] == n_a + 3 * n_b and summary.unique_train == n_a + n_b
    a, b = summary.sources
    assert (a.prefix, a.repeat, b.prefix, b.repeat) == ("alpha_", 1, "beta_", 3)
    assert b.train_share == pytest.approx(3 * n_b / (n_a + 3 * n_b)) and a.train_share + b.train_share == pytest.approx(1.0)
    assert (a.motions, a.mirrors, b.motions, b.mirrors) == (5, 5, 4, 4)
    # The loader keeps repeated lines: each beta motion is drawn 3x as often as each alpha motion.
    ds = MotionTextDataset(out, "train")
    per_motion = {}
    for prefix in ("alpha_", "beta_"):
        entries = [e.file_id for e in ds.entries if e.file_id.removeprefix("M").startswith(prefix)]
        per_motion[prefix] = len(entries) / len(set(entries))
    assert per_motion["beta_"] == pytest.approx(3 * per_motion["alpha_"])


def test_stats_over_unique_train_motions_and_manifest(sources: tuple[Path, Path], merged: tuple[Path, merge_mod.MergeSummary]) -> None:
    (alpha, beta), (out, summary) = sources, merged
    train = _unique(read_split(out / "train.txt"))
    mean, std = compute_stats([np.load(out / "new_joint_vecs" / f"{i}.npy") for i in sorted(train)])
    np.testing.assert_allclose(np.load(out / "Mean.npy"), mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.load(out / "Std.npy"), std, rtol=1e-6, atol=1e-7)
    assert summary.stats_motions == len(train) and summary.stats_split == "train"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is True and manifest["feature_dim"] == 263
    src_a, src_b = manifest["sources"]
    assert (src_a["path"], src_a["weight"], src_a["repeat"]) == (str(alpha), 1.0, 1)
    assert (src_b["path"], src_b["weight"], src_b["repeat"]) == (str(beta), 3.0, 3)
    assert src_b["train_share"] == pytest.approx(summary.sources[1].train_share)
    assert sorted(src_a["ids"] + src_b["ids"]) == read_split(out / "all.txt")
    assert all(i.removeprefix("M").startswith("beta_") for i in src_b["ids"])
    # Extras: top-level JSON verbatim under sources/<prefix>/, programs under the merged ids.
    assert json.loads((out / "sources" / "beta_" / "summary.json").read_text()) == {"kind": "procedural"}
    assert (out / "sources" / "alpha_" / ".ramotion_build.json").is_file()
    assert sorted(p.name for p in (out / "programs").iterdir()) == ["Mbeta_000.json", "beta_000.json"]
    assert json.loads((out / "programs" / "Mbeta_000.json").read_text()) == {"id": "M000"}
    assert not list(out.parent.glob(".mix.*"))  # no temporary folder left behind


def test_repeat_counts_round_half_up_and_refuse_bad_weights() -> None:
    assert repeat_counts([1, 3]) == [1, 3]
    assert repeat_counts([0.1, 0.3, 0.25]) == [1, 3, 3]
    assert repeat_counts([2.0, 2.9]) == [1, 1]
    for bad in ([1, 0], [1, -2], [1, float("nan")], [1, "x"]):
        with pytest.raises(ValueError, match="weights must be positive numbers"):
            repeat_counts(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeat count over 1000"):
        repeat_counts([1, 5000])


def test_rounding_note_and_copy_mode(sources: tuple[Path, Path], tmp_path: Path) -> None:
    alpha, beta = sources
    summary = merge_datasets(tmp_path / "o", [(alpha, 1.0, "a_"), (beta, 1.4, "b_")], link=False)
    assert [s.repeat for s in summary.sources] == [1, 1]
    assert any("weight 1.4" in w and "rounds to repeat 1" in w for w in summary.warnings)
    assert summary.linked == 0 and summary.copied > 0
    assert not os.path.samefile(tmp_path / "o" / "new_joint_vecs" / "b_000.npy", beta / "new_joint_vecs" / "000.npy")
    assert check_dataset(tmp_path / "o").ok


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_mismatched_or_incomplete_sources_are_refused(sources: tuple[Path, Path], tmp_path: Path) -> None:
    alpha, beta = sources
    fake = _copy(beta, tmp_path / "fake")
    np.save(fake / "Mean.npy", np.zeros(251, np.float32))
    np.save(fake / "Std.npy", np.ones(251, np.float32))
    with pytest.raises(ValueError, match=rf"source {fake} has 251-dim features \(Mean.npy\) but the merge needs 263 \(like {alpha}\)"):
        merge_datasets(tmp_path / "o", [(alpha, 1, None), (fake, 1, None)], skeleton=None)
    with pytest.raises(ValueError, match=r"has 251-dim features \(Mean.npy\) but the merge needs 263 \(humanml3d features\)"):
        merge_datasets(tmp_path / "o", [(fake, 1, None), (alpha, 1, None)])
    bad_file = _copy(beta, tmp_path / "badfile")
    np.save(bad_file / "new_joint_vecs" / "001.npy", np.zeros((50, 251), np.float32))
    with pytest.raises(ValueError, match=r"new_joint_vecs/001.npy has shape \(50, 251\), expected \(frames, 263\)"):
        merge_datasets(tmp_path / "o", [(alpha, 1, None), (bad_file, 1, None)])
    no_val = _copy(beta, tmp_path / "noval")
    (no_val / "val.txt").unlink()
    with pytest.raises(ValueError, match=f"source {no_val} is not a complete dataset: split file val.txt is missing"):
        merge_datasets(tmp_path / "o", [(alpha, 1, None), (no_val, 1, None)])
    no_stats = _copy(beta, tmp_path / "nostats")
    (no_stats / "Std.npy").unlink()
    with pytest.raises(ValueError, match="Std.npy is missing"):
        merge_datasets(tmp_path / "o", [(alpha, 1, None), (no_stats, 1, None)])
    with pytest.raises(FileNotFoundError, match="source dataset not found: .*nowhere"):
        merge_datasets(tmp_path / "o", [(alpha, 1, None), (tmp_path / "nowhere", 1, None)])
    assert not (tmp_path / "o").exists()


def test_prefix_problems_are_refused(sources: tuple[Path, Path], tmp_path: Path) -> None:
    alpha, beta = sources
    with pytest.raises(ValueError, match="both get the prefix 'x_'"):
        merge_datasets(tmp_path / "o", [(alpha, 1, "x_"), (beta, 1, "x_")])
    with pytest.raises(ValueError, match="id clash after prefixing: 000 comes from"):
        merge_datasets(tmp_path / "o", [(alpha, 1, ""), (beta, 1, "")])
    with pytest.raises(ValueError, match="prefix 'bad prefix' of source .* is not a valid file stem"):
        merge_datasets(tmp_path / "o", [(alpha, 1, "bad prefix"), (beta, 1, None)])
    with pytest.raises(ValueError, match="is given twice"):
        merge_datasets(tmp_path / "o", [(alpha, 1, None), (alpha, 2, "b_")])
    # Disjoint ids may be merged without prefixes: mirrors stay M<id>.
    other = tmp_path / "other"
    _build(other, {"100": "train", "101": "val", "102": "test"}, 3)
    merge_datasets(tmp_path / "o", [(alpha, 1, ""), (other, 2, "")])
    assert {"000", "M000", "100", "M100"} <= set(read_split(tmp_path / "o" / "all.txt"))
    assert check_dataset(tmp_path / "o").ok


def test_occupied_out_needs_force(sources: tuple[Path, Path], tmp_path: Path) -> None:
    alpha, beta = sources
    out = tmp_path / "o"
    merge_datasets(out, [(alpha, 1, None), (beta, 1, None)])
    with pytest.raises(FileExistsError, match=f"{out} is not empty; pass force=True"):
        merge_datasets(out, [(alpha, 1, None), (beta, 3, None)])
    summary = merge_datasets(out, [(alpha, 1, None), (beta, 3, None)], force=True)
    assert summary.sources[1].repeat == 3 and json.loads((out / MANIFEST).read_text())["sources"][1]["repeat"] == 3
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine")
    with pytest.raises(ValueError, match="refusing to replace .* does not look like a dataset"):
        merge_datasets(other, [(alpha, 1, None)], force=True)
    assert (other / "todo.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="must not be or contain a source"):
        merge_datasets(alpha.parent, [(alpha, 1, None)], force=True)


def test_interrupted_merge_leaves_nothing_complete(sources: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alpha, beta = sources
    out = tmp_path / "o"
    real = merge_mod._transfer
    calls = {"n": 0}

    def flaky(src: Path, dst: Path, link: bool) -> bool:
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return real(src, dst, link)

    monkeypatch.setattr(merge_mod, "_transfer", flaky)
    with pytest.raises(KeyboardInterrupt):
        merge_datasets(out, [(alpha, 1, None), (beta, 3, None)])
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no half dataset, no temporary folder
    monkeypatch.setattr(merge_mod, "_transfer", real)
    merge_datasets(out, [(alpha, 1, None), (beta, 1, None)])
    before = (out / "train.txt").read_text()
    # An interrupted --force merge keeps the previous complete dataset as it was.
    calls["n"] = 0
    monkeypatch.setattr(merge_mod, "_transfer", flaky)
    with pytest.raises(KeyboardInterrupt):
        merge_datasets(out, [(alpha, 1, None), (beta, 3, None)], force=True)
    assert (out / "train.txt").read_text() == before and json.loads((out / MANIFEST).read_text())["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    monkeypatch.setattr(merge_mod, "_transfer", real)
    merge_datasets(out, [(alpha, 1, None), (beta, 3, None)], force=True)
    assert (out / "train.txt").read_text() != before and check_dataset(out).ok


def test_cli_merge(sources: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alpha, beta = sources
    out = tmp_path / "o"
    assert main(["data", "merge", "--out", str(out), f"{alpha}:1", f"{beta}:3"]) == 0
    text = capsys.readouterr().out
    assert f"merged 2 datasets into {out}" in text
    assert "66.7%" in text and "33.3%" in text
    assert "train 18 lines (10 motions)" in text and "Mean/Std over the 10 unique motions of train" in text
    assert main(["data", "check", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["data", "merge", "--out", str(out), str(alpha), str(beta)]) == 2
    assert f"{out} is not empty; pass --force to replace it" in capsys.readouterr().err
    assert main(["data", "merge", "--out", str(out), str(alpha), f"{beta}:2", "--force", "--copy", "--prefix", "a_", "--prefix", "b_"]) == 0
    assert Counter(read_split(out / "train.txt"))["b_000"] == 2
    assert not os.path.samefile(out / "new_joint_vecs" / "a_000.npy", alpha / "new_joint_vecs" / "000.npy")
    capsys.readouterr()
    assert main(["data", "merge", "--out", str(out), str(alpha), str(beta), "--prefix", "a_"]) == 2
    assert "--prefix was given 1 times for 2 sources" in capsys.readouterr().err
    assert main(["data", "merge", "--out", str(tmp_path / "p"), f"{alpha}:heavy", str(beta)]) == 2
    assert "the weight after ':' must be a number, got 'heavy'" in capsys.readouterr().err
    assert main(["data", "merge", "--out", str(tmp_path / "p"), f"{alpha}:0", str(beta)]) == 2
    assert "weights must be positive numbers" in capsys.readouterr().err
