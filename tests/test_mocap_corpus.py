"""`ramotion data build-mocap`: the shared mocap in the HumanML3D layout, captioned from labels,
split by take and actor, with held-out compositions, resumable and never half-written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ramotion.cli import main as cli_main
from ramotion.data.check import check_dataset
from ramotion.data.layout import Layout, read_captions
from ramotion.mocap import corpus as C
from ramotion.motion.features import features_to_joints


def _ids(root: Path, split: str) -> list[str]:
    return (root / f"{split}.txt").read_text().split()


def test_windows_cut_and_pad() -> None:
    long = np.zeros((500, 22, 3))
    parts = C.windows(long)
    assert all(C.MIN_FRAMES + 1 <= len(p) <= C.MAX_WINDOW + 1 for p in parts) and len(parts) == 3
    assert sum(len(p) - 1 for p in parts) == 499  # consecutive, no frame lost or repeated
    short = np.arange(20 * 66, dtype=float).reshape(20, 22, 3)
    (padded,) = C.windows(short)
    assert len(padded) == C.MIN_FRAMES + 1
    k = (C.MIN_FRAMES + 1 - 20) // 2
    np.testing.assert_array_equal(padded[k : k + 20], short)  # held first and last poses around the clip
    assert (padded[:k] == short[0]).all() and (padded[k + 20 :] == short[-1]).all()


@pytest.fixture(scope="module")
def small_corpus(mocap_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mocap") / "corpus"
    assert cli_main(["data", "build-mocap", "--mocap", str(mocap_root), "--out", str(out), "--limit", "6", "--tagger", "rules"]) == 0
    return out


@pytest.mark.shared
def test_small_corpus_checks_and_round_trips(small_corpus: Path) -> None:
    report = check_dataset(small_corpus)
    assert not report.errors, report.errors
    layout = Layout.of(small_corpus)
    ids = _ids(small_corpus, "all")
    assert {i.split("_")[0] for i in ids if not i.startswith("M")} == {"bn1", "hdm", "cmu"}
    for i in ids[:: max(1, len(ids) // 12)]:
        feats = np.load(layout.features(i))
        joints = np.load(layout.joints(i))
        np.testing.assert_allclose(features_to_joints(feats), joints, atol=1e-5)
    # Mirrors share their original's split.
    for split in ("train", "val", "test"):
        s = set(_ids(small_corpus, split))
        assert all((i[1:] if i.startswith("M") else "M" + i) in s for i in s)
    summary = json.loads((small_corpus / "mocap_summary.json").read_text())
    assert {r["source"] for r in summary["rows"]} == {"bandai-namco", "hdm05", "cmu"}
    assert (small_corpus / "mocap_summary.md").read_text().startswith("# Mocap corpus")
    meta = json.loads((small_corpus / "mocap.json").read_text())
    assert "CC BY-NC 4.0" in meta["attribution"]["bandai-namco"]
    assert not small_corpus.with_name("corpus.partial").exists()


@pytest.mark.shared
def test_splits_follow_actors_and_humanml3d(small_corpus: Path, mocap_root: Path) -> None:
    test_ids = set(_ids(small_corpus, "test"))
    train_val = set(_ids(small_corpus, "train")) | set(_ids(small_corpus, "val"))
    for i in train_val | test_ids:
        if i.startswith("hdm_"):
            actor = i.split("_")[1]
            assert (i in test_ids) == (actor not in C.HDM05_TRAIN_ACTORS), i
    rows = {f"cmu_{r['humanml3d_id']}": r["split"] for r in __import__("csv").DictReader((mocap_root / "cmu/humanml3d_rows.csv").open())}
    for split in ("train", "val", "test"):
        for i in _ids(small_corpus, split):
            if i.startswith("cmu_"):
                assert rows[i.split("_w")[0]] == split


@pytest.mark.shared
def test_mirror_captions_come_from_the_mirrored_label(mocap_root: Path) -> None:
    clips = [c for c in C.list_clips(mocap_root, ("bandai-namco",)) if c.label.action == "wave-left-hand"][:3]
    assert clips
    for clip in clips:
        caps, mirror = C.clip_captions(clip, 3)
        assert all("left" in c and "right" not in c for c in caps), caps
        assert mirror is not None and all("right" in c and "left" not in c for c in mirror), mirror
    kick = next(c for c in C.list_clips(mocap_root, ("hdm05",)) if "kickLFront" in c.id)
    caps, mirror = C.clip_captions(kick, 3)
    assert all("left" in c for c in caps) and all("right" in c for c in mirror)


@pytest.mark.shared
def test_verbatim_humanml3d_captions_are_kept(mocap_root: Path) -> None:
    clips = [c for c in C.list_clips(mocap_root, ("cmu",)) if c.verbatim]
    assert len(clips) == 15
    caps, mirror = C.clip_captions(clips[0], 3)
    assert caps == clips[0].verbatim and mirror is None


@pytest.mark.shared
def test_held_out_pairs_are_only_in_test(mocap_root: Path) -> None:
    clips = C.list_clips(mocap_root, ("bandai-namco",))
    splits = C.assign_take_splits(clips, seed=0)
    held = [c for c in clips if C.is_held_out(c.id.split("_")[0], c.label)]
    # Each dataset-2 pair has ~40 takes, dataset-1 pairs one; sided pairs come with their mirror image.
    assert len(held) >= 5 * 40 - 80
    pairs = {(c.label.action, c.label.style) for c in held}
    assert ("raise-up-right-hand", "elderly") in pairs and ("walk-turn-left", "youthful") in pairs
    # No training take, mirrored, becomes a held-out pair.
    train = [c for c in clips if c.split is None and splits[c.take] != "test"]
    assert not any(C.is_held_out(c.id.split("_")[0], c.label.mirrored()) for c in train)
    assert all(c.split == "test" for c in held)
    rest = [splits[c.take] for c in clips if c.split is None]
    shares = {s: rest.count(s) / len(rest) for s in ("train", "val", "test")}
    assert 0.75 < shares["train"] < 0.85 and 0.07 < shares["val"] < 0.13


@pytest.mark.shared
def test_resume_after_a_crash_gives_the_same_corpus(mocap_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "c"
    real = C.clip_joints
    calls = {"n": 0}

    def crashing(clip: C.Clip) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("simulated crash")
        return real(clip)

    monkeypatch.setattr(C, "clip_joints", crashing)
    with pytest.raises(KeyboardInterrupt):
        C.build_mocap_corpus(mocap_root, out, limit=2, progress=False, tagger="rules")
    assert not out.exists() and (tmp_path / "c.partial").is_dir()  # nothing half-written at OUT
    monkeypatch.setattr(C, "clip_joints", real)
    with pytest.raises(FileExistsError, match="resume"):
        C.build_mocap_corpus(mocap_root, out, limit=2, progress=False, tagger="rules")
    resumed = C.build_mocap_corpus(mocap_root, out, limit=2, progress=False, tagger="rules", resume=True)
    assert resumed.build.resumed >= 1
    fresh = C.build_mocap_corpus(mocap_root, tmp_path / "d", limit=2, progress=False, tagger="rules")
    assert _ids(out, "all") == _ids(tmp_path / "d", "all")
    for i in _ids(out, "all"):
        np.testing.assert_array_equal(np.load(Layout.of(out).features(i)), np.load(Layout.of(tmp_path / "d").features(i)))
        assert read_captions(Layout.of(out).text(i)) == read_captions(Layout.of(tmp_path / "d").text(i))
    assert fresh.build.motions == resumed.build.motions


def test_missing_mocap_folder_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["data", "build-mocap", "--mocap", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no mocap folder" in err[0]
    (tmp_path / "m" / "hdm05").mkdir(parents=True)
    assert cli_main(["data", "build-mocap", "--mocap", str(tmp_path / "m"), "--out", str(tmp_path / "o"), "--sources", "hdm05"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no clips" in err[0], err
    assert not (tmp_path / "o").exists()


def test_corrupt_clip_fails_the_build_without_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fake HDM05 folder with a truncated AMC: one line naming the file; OUT is never created."""
    root = tmp_path / "mocap" / "hdm05"
    (root / "asf").mkdir(parents=True)
    (root / "amc" / "train").mkdir(parents=True)
    (root / "asf" / "HDM_bd.asf").write_text(":version 1.10\n:name x\n:units\n  length 0.45\n  angle deg\n:root\n  order TX TY TZ RX RY RZ\n  axis XYZ\n  position 0 0 0\n  orientation 0 0 0\n:bonedata\n:hierarchy\n  begin\n  end\n")
    (root / "amc" / "train" / "HDM_bd_squat1Reps_001_120.amc.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = tmp_path / "o"
    assert cli_main(["data", "build-mocap", "--mocap", str(tmp_path / "mocap"), "--out", str(out), "--sources", "hdm05"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "HDM_bd_squat1Reps_001_120.amc.gz" in err[0], err
    assert not out.exists()
