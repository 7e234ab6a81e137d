"""`data check`: one test per kind of breakage, each with its exact message; warnings; the summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ramotion.cli import main
from ramotion.data.check import check_dataset
from ramotion.data.layout import CaptionLine, write_captions, write_split

SPLITS = {"train": ["a", "b", "Ma"], "val": ["c"], "test": ["d"]}


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A small valid root: 5 motions of 60..140 frames with joints, captions, splits and stats."""
    r = tmp_path / "ds"
    rng = np.random.default_rng(0)
    for sub in ("new_joint_vecs", "new_joints", "texts"):
        (r / sub).mkdir(parents=True)
    for k, i in enumerate(["a", "b", "Ma", "c", "d"]):
        T = 60 + 20 * k
        np.save(r / "new_joint_vecs" / f"{i}.npy", rng.normal(size=(T, 263)).astype(np.float32))
        np.save(r / "new_joints" / f"{i}.npy", rng.normal(size=(T, 22, 3)).astype(np.float32))
        write_captions(r / "texts" / f"{i}.txt", [CaptionLine("a person walks", ["a/DET", "person/NOUN", "walk/VERB"]), CaptionLine("walks", ["walk/VERB"], 0.5, 2.5)])
    for name, ids in SPLITS.items():
        write_split(r / f"{name}.txt", ids)
    np.save(r / "Mean.npy", np.zeros(263, np.float32))
    np.save(r / "Std.npy", np.ones(263, np.float32))
    return r


def only_error(root: Path) -> str:
    report = check_dataset(root)
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


def test_valid_root_passes_with_a_summary(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = check_dataset(root)
    assert report.ok and report.warnings == []
    train = report.splits["train"]
    assert (train.motions, train.usable, train.captions, train.frames) == (3, 3, 6, 60 + 80 + 100)
    assert train.histogram == [0, 1, 2, 0, 0, 0]
    assert abs(train.hours(20.0) - 240 / 20 / 3600) < 1e-12
    assert main(["data", "check", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == ["split", "motions", "usable", "captions", "hours", "0-39", "40-79", "80-119", "120-159", "160-199", ">=200"]
    assert out.splitlines()[3].split() == ["train", "3", "3", "6", "0.00", "0", "1", "2", "0", "0", "0"]
    assert "OK: 0 errors, 0 warnings" in out


def test_split_ids_without_files(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_split(root / "val.txt", ["c", "ghost1", "ghost2"])
    assert only_error(root) == "val.txt lists 2 ids without new_joint_vecs/<id>.npy: ghost1, ghost2"
    assert main(["data", "check", str(root)]) == 1
    err = capsys.readouterr().err
    assert "error: val.txt lists 2 ids without new_joint_vecs/<id>.npy: ghost1, ghost2" in err
    assert "FAILED: 1 errors" in err


def test_missing_split_file(root: Path) -> None:
    (root / "test.txt").unlink()
    assert only_error(root) == "split file test.txt is missing"


def test_files_without_captions(root: Path) -> None:
    (root / "texts" / "b.txt").unlink()
    assert only_error(root) == "1 motions have no caption file in texts/: b"


def test_wrong_feature_shape(root: Path) -> None:
    np.save(root / "new_joint_vecs" / "b.npy", np.zeros((80, 251), np.float32))
    assert only_error(root) == "new_joint_vecs/b.npy has shape (80, 251), expected (frames, 263)"


def test_wrong_joint_shape_and_frame_count(root: Path) -> None:
    np.save(root / "new_joints" / "b.npy", np.zeros((80, 21, 3), np.float32))
    assert only_error(root) == "new_joints/b.npy has shape (80, 21, 3), expected (frames, 22, 3)"
    np.save(root / "new_joints" / "b.npy", np.zeros((81, 22, 3), np.float32))
    assert only_error(root) == "new_joints/b.npy has 81 frames, new_joint_vecs/b.npy has 80"


def test_nan_values(root: Path) -> None:
    x = np.load(root / "new_joint_vecs" / "c.npy")
    x[17, 5] = np.nan
    np.save(root / "new_joint_vecs" / "c.npy", x)
    assert only_error(root) == "new_joint_vecs/c.npy contains NaN or infinite values (first at frame 17)"
    np.save(root / "new_joint_vecs" / "c.npy", np.nan_to_num(x))
    j = np.load(root / "new_joints" / "c.npy")
    j[0, 0, 0] = np.inf
    np.save(root / "new_joints" / "c.npy", j)
    assert only_error(root) == "new_joints/c.npy contains NaN or infinite values"


def test_lengths_out_of_range(root: Path) -> None:
    np.save(root / "new_joint_vecs" / "d.npy", np.zeros((30, 263), np.float32))
    np.save(root / "new_joints" / "d.npy", np.zeros((30, 22, 3), np.float32))
    # A whole split the loader cannot use is an error; single motions out of range are a warning.
    assert only_error(root) == "test.txt: no motion has a usable length (40..199 frames) with captions"
    report = check_dataset(root)
    assert "test.txt: 1 motions outside the loader's 40..199 frames are skipped: d (30)" in report.warnings
    write_split(root / "test.txt", ["d", "c"])
    report = check_dataset(root)
    assert report.ok and report.splits["test"].usable == 1 and report.splits["test"].histogram[0] == 1


def test_stats_of_the_wrong_size(root: Path) -> None:
    np.save(root / "Mean.npy", np.zeros(251, np.float32))
    report = check_dataset(root, skeleton="humanml3d")
    assert report.errors == ["Mean.npy has shape (251,), expected (263,) for humanml3d features"]


def test_bad_stats_values(root: Path) -> None:
    std = np.ones(263, np.float32)
    std[[4, 9]] = 0
    np.save(root / "Std.npy", std)
    assert only_error(root) == "Std.npy has 2 zero or negative entries (dims [4, 9])"
    (root / "Std.npy").unlink()
    assert only_error(root) == f"Std.npy is missing (run `ramotion data stats {root}`)"


def test_malformed_caption_line_names_file_and_line(root: Path) -> None:
    (root / "texts" / "a.txt").write_text("a person walks#a/DET person/NOUN walk/VERB#0.0#0.0\nbroken line#0.0#0.0\n")
    assert only_error(root) == "texts/a.txt:2: expected 4 '#'-separated fields (caption#tokens#start#end), got 3"


def test_oddities_are_warnings(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(root / "new_joint_vecs" / "a.npy", np.load(root / "new_joint_vecs" / "a.npy").astype(np.float64))
    write_captions(root / "texts" / "b.txt", [CaptionLine("walks", ["walk/VERB"], 1.0, 9.0), CaptionLine("runs", [])])
    write_split(root / "val.txt", ["c", "d"])
    np.save(root / "new_joint_vecs" / "stray.npy", np.zeros((50, 263), np.float32))
    report = check_dataset(root)
    assert report.ok
    assert set(report.warnings) == {
        "id d is in both val.txt and test.txt",
        "1 caption spans end after their motion: texts/b.txt caption 1 (1..9 s, motion 4.00 s)",
        "1 arrays are not float32 (the loader converts them): new_joint_vecs/a.npy",
        "1 motions in new_joint_vecs/ are in no split: stray",
        "1 captions have no word/POS tokens: texts/b.txt caption 2",
    }
    assert main(["data", "check", str(root), "--quiet"]) == 0
    assert "warning: id d is in both val.txt and test.txt" in capsys.readouterr().err


def test_real_samples_check(h3d_samples: Path, shared_data: Path, tmp_path: Path) -> None:
    """The real samples as a root: passes, with 000000's float64 features flagged as an oddity."""
    import shutil

    r = tmp_path / "real"
    shutil.copytree(h3d_samples, r, copy_function=shutil.copyfile)
    for p in [r, *r.rglob("*")]:  # the shared data is read-only; the copy must not be
        p.chmod(0o755 if p.is_dir() else 0o644)
    ids = sorted(p.stem for p in (r / "new_joint_vecs").glob("*.npy"))
    for i in ids[1:]:
        write_captions(r / "texts" / f"{i}.txt", [CaptionLine("a person moves", ["a/DET", "person/NOUN", "move/VERB"])])
    write_split(r / "train.txt", ids[:5])
    write_split(r / "val.txt", ids[5:6])
    write_split(r / "test.txt", ids[6:])
    for n in ("Mean.npy", "Std.npy"):
        shutil.copy(shared_data / "humanml3d" / n, r / n)
    report = check_dataset(r)
    assert report.ok, report.errors
    assert report.warnings == ["1 arrays are not float32 (the loader converts them): new_joint_vecs/000000.npy"]
    assert sum(s.motions for s in report.splits.values()) == 7


def test_data_stats_writes_group_averaged_mean_std(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ramotion.motion.normalize import EVALUATOR_DIVISORS, compute_stats

    feats = {i: np.load(root / "new_joint_vecs" / f"{i}.npy") for i in ("a", "b", "Ma", "c", "d")}
    assert main(["data", "stats", str(root)]) == 0
    assert "wrote" in capsys.readouterr().out
    mean, std = compute_stats([feats[i] for i in SPLITS["train"]])
    np.testing.assert_array_equal(np.load(root / "Mean.npy"), mean)
    np.testing.assert_array_equal(np.load(root / "Std.npy"), std)
    assert np.unique(np.load(root / "Std.npy")[4:67]).size == 1  # one Std per group
    assert main(["data", "stats", str(root), "--split", "*", "--evaluator"]) == 0
    emean, estd = compute_stats(list(feats.values()), divisors=EVALUATOR_DIVISORS)
    np.testing.assert_array_equal(np.load(root / "eval_std.npy"), estd)
    np.testing.assert_array_equal(np.load(root / "eval_mean.npy"), emean)
    write_split(root / "val.txt", ["c", "ghost"])
    assert main(["data", "stats", str(root), "--split", "val"]) == 2
    assert "val.txt lists 1 ids without feature files, e.g. ghost" in capsys.readouterr().err


def test_non_finite_or_negative_spans_are_errors(root: Path) -> None:
    # `data check` used to pass `nan#inf`; training then died with an OverflowError.
    (root / "texts" / "a.txt").write_text("a person walks#a/DET#0.0#0.0\nwalks#walk/VERB#nan#inf\n")
    assert only_error(root) == "texts/a.txt:2: bad span nan..inf seconds (start and end must be finite; 0#0 is the whole motion)"
    (root / "texts" / "a.txt").write_text("walks#walk/VERB#-1.0#2.0\n")
    assert only_error(root) == "texts/a.txt:1: bad span -1.0..2.0 seconds (need 0 <= start < end, or 0#0)"
    (root / "texts" / "a.txt").write_text("walks#walk/VERB#1e400#1e401\n")  # floats that overflow to inf
    assert only_error(root).startswith("texts/a.txt:1: bad span 1e400..1e401 seconds (start and end must be finite")


def test_files_that_are_not_utf8_are_named(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "texts" / "b.txt").write_bytes("a person walks#a/DET#0.0#0.0\na caf\xe9#caf\xe9/NOUN#0.0#0.0\n".encode("latin-1"))
    assert only_error(root) == "texts/b.txt:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    write_captions(root / "texts" / "b.txt", [CaptionLine("a person walks", ["a/DET"])])
    (root / "val.txt").write_bytes(b"c\n\xff\xfe\n")
    report = check_dataset(root)
    assert report.errors == ["val.txt:2: not UTF-8 text (byte 0xff); save the file as UTF-8"]
    assert main(["data", "check", str(root)]) == 1
    assert "error: val.txt:2: not UTF-8 text (byte 0xff); save the file as UTF-8" in capsys.readouterr().err
