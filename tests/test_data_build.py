"""Building datasets: `build_dataset` and `ramotion data build` on real joints, mirrors, splits, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ramotion.cli import main
from ramotion.data.build import MANIFEST, BuildItem, CaptionSpec, assign_splits, build_dataset, resample
from ramotion.data.check import check_dataset
from ramotion.data.dataset import MotionTextDataset
from ramotion.data.layout import read_captions, read_split
from ramotion.motion.features import features_to_joints, joints_to_features
from ramotion.motion.mirror import mirror_joints
from ramotion.motion.normalize import compute_stats

SAMPLE_IDS = ["000000", "007005", "009548", "011673", "012314", "M010655", "M010968"]


@pytest.fixture(scope="module")
def sample_inputs(h3d_samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A joints folder with the 7 real joint files and a captions CSV (real captions for 000000)."""
    d = tmp_path_factory.mktemp("inputs")
    shutil.copytree(h3d_samples / "new_joints", d / "joints", copy_function=shutil.copyfile)
    (d / "joints").chmod(0o755)  # the shared data is read-only; the copy must not be
    rows = ["id,caption,start,end"]
    for line in read_captions(h3d_samples / "texts" / "000000.txt"):
        rows.append(f'000000,"{line.caption}",,')
    for i in SAMPLE_IDS[1:]:
        rows.append(f"{i},a person waves the left hand,,")
    rows.append("007005,the person turns right,2.0,6.0")
    (d / "captions.csv").write_text("\n".join(rows) + "\n")
    return d


@pytest.fixture(scope="module")
def built(sample_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "ds"
    code = main(["data", "build", "--joints", str(sample_inputs / "joints"), "--captions", str(sample_inputs / "captions.csv"), "--out", str(out), "--fps", "20", "--seed", "7"])
    assert code == 0
    return out


def test_cli_build_on_real_joints_passes_check_and_loads(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(built)]) == 0
    out = capsys.readouterr().out
    assert "OK: 0 errors" in out and "train" in out
    report = check_dataset(built)
    assert report.ok and sum(s.motions for s in report.splits.values()) == 14
    all_ids = read_split(built / "all.txt")
    assert sorted(all_ids) == sorted(SAMPLE_IDS + ["M" + i for i in SAMPLE_IDS])
    for split in ("train", "val", "test"):
        ids = read_split(built / f"{split}.txt")
        assert ids, f"{split} is empty"
        assert all(("M" + i in ids) for i in ids if i in SAMPLE_IDS)  # mirrors follow their originals
        ds = MotionTextDataset(built, split)
        batch = ds.collate([ds[k] for k in range(len(ds))])
        assert batch["motion"].shape[1:] == (196, 263)
    assert sorted(read_split(built / "train_val.txt")) == sorted(read_split(built / "train.txt") + read_split(built / "val.txt"))


def test_built_files_follow_the_pipeline(built: Path, h3d_samples: Path) -> None:
    for i in ("000000", "012314"):
        joints = np.load(h3d_samples / "new_joints" / f"{i}.npy")
        feats = np.load(built / "new_joint_vecs" / f"{i}.npy")
        assert feats.dtype == np.float32 and feats.shape == (len(joints) - 1, 263)
        np.testing.assert_allclose(feats, joints_to_features(joints).astype(np.float32), atol=1e-6)
        # new_joints are the joints recovered from the features, as HumanML3D does.
        np.testing.assert_allclose(np.load(built / "new_joints" / f"{i}.npy"), features_to_joints(feats), atol=1e-6)
        # Mirrored features equal the features of the mirrored joints.
        mirrored = np.load(built / "new_joint_vecs" / f"M{i}.npy")
        np.testing.assert_allclose(mirrored, joints_to_features(mirror_joints(joints)).astype(np.float32), atol=1e-6)
        assert not np.allclose(mirrored, feats, atol=1e-3)
    original = read_captions(built / "texts" / "000000.txt")
    mirror = read_captions(built / "texts" / "M000000.txt")
    assert original[0].caption == "a man kicks something or someone with his left leg."
    assert mirror[0].caption == "a man kicks something or someone with his right leg."
    assert mirror[0].tokens[-2:] == ["right/ADJ", "leg/NOUN"]
    span = [c for c in read_captions(built / "texts" / "M007005.txt") if not c.whole]
    assert [(c.caption, c.start, c.end) for c in span] == [("the person turns left", 2.0, 6.0)]
    # Mean/Std: group-averaged stats over the train split and its mirrors.
    train = read_split(built / "train.txt")
    mean, std = compute_stats([np.load(built / "new_joint_vecs" / f"{i}.npy") for i in train])
    np.testing.assert_allclose(np.load(built / "Mean.npy"), mean, rtol=1e-6)
    np.testing.assert_allclose(np.load(built / "Std.npy"), std, rtol=1e-6)
    manifest = json.loads((built / MANIFEST).read_text())
    assert manifest["complete"] and manifest["config"]["seed"] == 7 and manifest["tagger"] == "rules"


def test_cli_build_refuses_to_overwrite_without_force(built: Path, sample_inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["data", "build", "--joints", str(sample_inputs / "joints"), "--captions", str(sample_inputs / "captions.csv"), "--out", str(built), "--fps", "20"]
    before = (built / "Mean.npy").read_bytes()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{built} already holds a dataset; pass --force to overwrite it or --resume to continue a build" in err
    assert (built / "Mean.npy").read_bytes() == before


def test_cli_build_errors(sample_inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["data", "build", "--joints", str(sample_inputs / "joints"), "--out", str(tmp_path / "o")]
    assert main(base + ["--captions", str(sample_inputs / "captions.csv")]) == 2
    assert "--fps is required for .npy and .amc files" in capsys.readouterr().err
    partial = tmp_path / "partial.csv"
    partial.write_text("id,caption\n000000,a kick\n")
    assert main(base + ["--captions", str(partial), "--fps", "20"]) == 2
    assert "6 motion files have no caption in" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,text\nx,y\n")
    assert main(base + ["--captions", str(bad), "--fps", "20"]) == 2
    assert "the CSV header must name the columns id and caption" in capsys.readouterr().err
    assert not (tmp_path / "o" / "Mean.npy").exists()


def _items(joints: dict[str, np.ndarray], fps: float = 20.0, **kw) -> list[BuildItem]:
    return [BuildItem(i, j, fps, [CaptionSpec(f"a person moves left ({i})")], **kw) for i, j in joints.items()]


@pytest.fixture(scope="module")
def few_joints(h3d_samples: Path) -> dict[str, np.ndarray]:
    return {f"s{k}": np.load(h3d_samples / "new_joints" / f"{i}.npy")[:80] for k, i in enumerate(SAMPLE_IDS[:4])}


def test_resume_finishes_an_interrupted_build_identically(few_joints: dict[str, np.ndarray], tmp_path: Path) -> None:
    clean = build_dataset(tmp_path / "clean", _items(few_joints), progress=False)
    assert clean.motions == 4 and clean.mirrors == 4 and clean.resumed == 0

    def interrupted():
        for k, item in enumerate(_items(few_joints)):
            if k == 2:
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        build_dataset(tmp_path / "res", interrupted(), progress=False)
    assert not (tmp_path / "res" / "Mean.npy").exists()
    assert not json.loads((tmp_path / "res" / MANIFEST).read_text())["complete"]
    with pytest.raises(FileExistsError):
        build_dataset(tmp_path / "res", _items(few_joints), progress=False)
    with pytest.raises(ValueError, match=r"its settings differ \(seed\)"):
        build_dataset(tmp_path / "res", _items(few_joints), progress=False, resume=True, seed=1)
    summary = build_dataset(tmp_path / "res", _items(few_joints), progress=False, resume=True)
    (tmp_path / "clean" / MANIFEST).rename(tmp_path / "manifest")
    with pytest.raises(ValueError, match="cannot resume: .* holds files but no build manifest"):
        build_dataset(tmp_path / "clean", _items(few_joints), progress=False, resume=True)
    assert summary.resumed == 2 and summary.motions == 4
    for f in sorted((tmp_path / "clean").rglob("*")):
        if f.is_file() and f.name != MANIFEST:
            assert f.read_bytes() == (tmp_path / "res" / f.relative_to(tmp_path / "clean")).read_bytes(), f.name


def test_force_rebuilds_and_workers_give_the_same_files(few_joints: dict[str, np.ndarray], tmp_path: Path) -> None:
    build_dataset(tmp_path / "a", _items(few_joints), progress=False, mirror=False)
    (tmp_path / "a" / "new_joint_vecs" / "stale.npy").write_bytes(b"x")
    summary = build_dataset(tmp_path / "a", _items(few_joints), progress=False, force=True, workers=2)
    assert summary.mirrors == 4 and not (tmp_path / "a" / "new_joint_vecs" / "stale.npy").exists()
    build_dataset(tmp_path / "b", iter(_items(few_joints)), progress=False)
    for f in sorted((tmp_path / "b").rglob("*.npy")):
        assert f.read_bytes() == (tmp_path / "a" / f.relative_to(tmp_path / "b")).read_bytes(), f.name


def test_splits_are_seeded_order_free_and_forced_splits_kept() -> None:
    records = [(f"{k:04d}", None) for k in range(50)] + [("held1", "test"), ("held2", "test")]
    a = assign_splits(records, 3, (0.8, 0.1, 0.1))
    assert a == assign_splits(list(reversed(records)), 3, (0.8, 0.1, 0.1))
    assert a != assign_splits(records, 4, (0.8, 0.1, 0.1))
    assert a["held1"] == a["held2"] == "test"
    counts = {s: sum(v == s for k, v in a.items() if not k.startswith("held")) for s in ("train", "val", "test")}
    assert counts == {"train": 40, "val": 5, "test": 5}
    with pytest.raises(ValueError, match="split_fractions must be three non-negative numbers summing to 1"):
        assign_splits(records, 0, (0.8, 0.3, 0.1))


def test_resample_to_20_fps() -> None:
    t = np.arange(61) / 30.0  # 2 s at 30 fps
    joints = np.stack([t, 2 * t, -t], -1)[:, None, :].repeat(22, 1)  # linear motion: interpolation is exact
    out = resample(joints, 30.0, 20.0)
    assert out.shape == (41, 22, 3)
    np.testing.assert_allclose(out[:, 0, 0], np.arange(41) / 20.0, atol=1e-12)
    assert resample(joints, 20.0, 20.0) is not None and resample(joints[:21], 20.0, 20.0).shape == (21, 22, 3)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(id="bad id"), "item id 'bad id' is not a valid file stem"),
        (dict(joints=np.zeros((50, 21, 3))), r"item x: joints must be \(frames, 22, 3\), got \(50, 21, 3\)"),
        (dict(joints=np.full((50, 22, 3), np.nan)), "item x: joints contain NaN or infinite values"),
        (dict(captions=[]), "item x: no captions"),
        (dict(captions=[CaptionSpec("a # b")]), "item x: caption 'a # b' contains '#'"),
        (dict(captions=[CaptionSpec("walks", 1.0, 30.0)]), r"item x: caption span ends at 30.0 s, after the motion \(2.450 s\)"),
        (dict(captions=[CaptionSpec("walks", 2.0, 1.0)]), r"item x: caption span 2.0..1.0 s needs 0 <= start < end"),
        (dict(split="holdout"), "item x: split must be 'train', 'val', 'test' or None, got 'holdout'"),
        (dict(fps=0.0), "item x: fps must be a positive number, got 0.0"),
        (dict(joints=np.zeros((3, 22, 3)), fps=60.0), "item x: 3 frames at 60 fps give fewer than 2 frames at 20 fps"),
    ],
)
def test_bad_items_are_refused_with_their_id(change: dict, message: str, tmp_path: Path) -> None:
    fields = dict(id="x", joints=np.zeros((50, 22, 3)), fps=20.0, captions=[CaptionSpec("walks")])
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        build_dataset(tmp_path / "o", [BuildItem(**fields)], progress=False)


def test_mirror_name_clash_is_refused(few_joints: dict[str, np.ndarray], tmp_path: Path) -> None:
    j = next(iter(few_joints.values()))
    with pytest.raises(ValueError, match="item Ma: id Ma is used twice"):
        build_dataset(tmp_path / "o", _items({"a": j, "Ma": j}), progress=False)


def test_cli_build_from_bvh_and_json_lines(h3d_samples: Path, tmp_path: Path) -> None:
    from ramotion.mocap.export import export_bvh
    from ramotion.mocap.importing import import_bvh

    src = tmp_path / "bvh"
    src.mkdir()
    joints = np.load(h3d_samples / "new_joints" / "012314.npy")
    export_bvh(joints, src / "clip1.bvh", fps=20.0)
    caps = tmp_path / "caps.jsonl"
    caps.write_text(json.dumps({"id": "clip1", "caption": "a person walks to the left", "split": "train"}) + "\n")
    assert main(["data", "build", "--joints", str(src), "--captions", str(caps), "--out", str(tmp_path / "o")]) == 0
    feats = np.load(tmp_path / "o" / "new_joint_vecs" / "clip1.npy")
    assert feats.shape == (len(joints) - 1, 263)
    assert read_split(tmp_path / "o" / "train.txt") == ["Mclip1", "clip1"]
    # The BVH goes through ramotion.bvh's importer; the motion stays close to the original.
    imported, fps = import_bvh(src / "clip1.bvh")
    assert fps == 20.0
    np.testing.assert_allclose(feats, joints_to_features(imported).astype(np.float32), atol=1e-6)
    assert np.abs(feats[:, 3] - joints_to_features(joints)[:, 3]).max() < 0.05  # root height within 5 cm


def test_mirror_captions_given_by_the_item_replace_word_swapping(few_joints: dict[str, np.ndarray], tmp_path: Path) -> None:
    """A labelled source captions its mirror from the mirrored label; without one, words are swapped."""
    (first, joints), (second, other) = list(few_joints.items())[:2]
    items = [
        BuildItem(first, joints, 20.0, [CaptionSpec("someone kicks with the left leg")], mirror_captions=[CaptionSpec("someone kicks with the right foot")]),
        BuildItem(second, other, 20.0, [CaptionSpec("a person waves the left hand")]),
    ]
    build_dataset(tmp_path / "d", items, progress=False, tagger="rules")
    texts = lambda i: [c.caption for c in read_captions(tmp_path / "d" / "texts" / f"{i}.txt")]  # noqa: E731
    assert texts(f"M{first}") == ["someone kicks with the right foot"]
    assert texts(f"M{second}") == ["a person waves the right hand"]
    with pytest.raises(ValueError, match="no captions"):
        build_dataset(tmp_path / "e", [BuildItem(first, joints, 20.0, [CaptionSpec("x")], mirror_captions=[])], progress=False)
