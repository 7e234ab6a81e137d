"""Motion loading and the `render`, `export`, `import-bvh` verbs, good and bad input (issue 2)."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ramotion.mocap.bvh import read_bvh
from ramotion.mocap.export import rest_offsets
from ramotion.cli import main
from ramotion.motion import features_to_joints, joints_to_features
from ramotion.mocap.loading import load_motion, motion_from_array
from ramotion.skeleton import HUMANML3D, KIT


def reference_motion(T: int = 24) -> np.ndarray:
    """The reference rest pose walking forward while turning 90 degrees (rigidly), feet on the
    floor: (T, 22, 3). Built on the BVH rest skeleton, so a BVH round trip returns it unchanged."""
    from scipy.spatial.transform import Rotation

    rest = rest_offsets()
    pose = np.zeros((22, 3))
    for j, p in enumerate(HUMANML3D.parents):
        if p >= 0:
            pose[j] = pose[p] + rest[j]
    pose[:, 1] -= pose[:, 1].min()
    turn = Rotation.from_euler("y", np.linspace(0.0, np.pi / 2, T)[:, None])
    motion = np.stack([turn[t].apply(pose) for t in range(T)])
    motion[:, :, 2] += np.linspace(0, 0.5, T)[:, None]
    return motion


@pytest.fixture()
def joints_file(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "walk.npy"
    path.parent.mkdir()
    np.save(path, reference_motion().astype(np.float32))
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- loading


def test_load_motion_detects_features_and_joints(tmp_path: Path) -> None:
    joints = reference_motion(T=10)
    np.save(tmp_path / "j.npy", joints.astype(np.float32))
    m = load_motion(tmp_path / "j.npy")
    assert (m.kind, m.skeleton, m.fps, m.num_frames) == ("joints", HUMANML3D, 20.0, 10)
    np.testing.assert_allclose(m.joints, joints, atol=1e-6)

    rng = np.random.default_rng(0)
    feats = rng.normal(0, 0.05, (12, 263))
    np.save(tmp_path / "f.npy", feats)
    m = load_motion(tmp_path / "f.npy")
    assert (m.kind, m.skeleton.name, m.joints.shape) == ("features", "humanml3d", (12, 22, 3))
    np.testing.assert_allclose(m.joints, features_to_joints(feats), atol=1e-12)

    kit = motion_from_array(rng.normal(0, 0.05, (9, 251)).astype(np.float32))
    assert (kit.kind, kit.skeleton, kit.fps, kit.joints.shape) == ("features", KIT, 12.5, (9, 21, 3))
    assert motion_from_array(np.zeros((3, 21, 3), dtype=np.int16)).skeleton is KIT


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((10, 66)), r"must be HumanML3D features \(dim 263\).*flattened joints"),
        (np.zeros((10, 100)), r"got shape \(10, 100\)"),
        (np.zeros((10, 23, 3)), "unknown joint count 23"),
        (np.zeros((10, 22, 2)), r"joints must have shape \(frames, joints, 3\)"),
        (np.zeros(263), r"expected features \(frames, 263\|251\) or joints"),
        (np.zeros((2, 10, 22, 3)), "got shape"),
        (np.zeros((0, 263)), "has no frames"),
        (np.zeros((1, 22, 3)), "has only 1 frame"),
        (np.full((5, 263), np.nan), "1315 NaN or infinite values"),
        (
            np.where(np.arange(66).reshape(1, 22, 3) == 7, np.inf, np.zeros((4, 22, 3))),
            r"infinite values \(first in frame 0\)",
        ),
        (np.zeros((5, 263), dtype=bool), "expected a numeric array"),
        (np.zeros((5, 263), dtype=complex), "expected a numeric array"),
    ],
)
def test_motion_from_array_refuses(array: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        motion_from_array(array, "x.npy")


def test_load_motion_refuses_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "text.npy").write_text("not numpy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "archive.npz", a=np.zeros((3, 263)))
    with open(tmp_path / "archive.npy", "wb") as f:  # an archive under a .npy name
        np.savez(f, a=np.zeros((3, 263)))
    (tmp_path / "pickle.npy").write_bytes(pickle.dumps(np.zeros((3, 263))))
    np.save(tmp_path / "short.npy", np.zeros((40, 263)))  # truncated: valid header, missing data
    (tmp_path / "short.npy").write_bytes((tmp_path / "short.npy").read_bytes()[:500])
    cases = {
        "text.npy": "not a .npy file",
        "objects.npy": "holds Python objects",
        "archive.npz": "expected a .npy",
        "archive.npy": "an .npz archive",
        "pickle.npy": "not a .npy file",
        "short.npy": "damaged .npy file",
    }
    for name, message in cases.items():
        with pytest.raises(ValueError, match=message):
            load_motion(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_motion(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="not a file"):
        load_motion(tmp_path)


# ----------------------------------------------------------------------------- verbs


def test_render_export_import_through_main(
    joints_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = run_cli(
        ["render", joints_file, "-o", out / "walk.gif", "--caption", "a step", "--size", "96"], capsys
    )
    assert (code, err) == (0, "") and "24 frames at 20 fps" in stdout
    assert (out / "walk.gif").stat().st_size > 0

    code, stdout, err = run_cli(["export", joints_file, "-o", out / "walk.bvh"], capsys)
    assert code == 0 and "24 frames at 20 fps, 22 joints" in stdout
    motion = read_bvh(out / "walk.bvh")
    assert (motion.num_frames, len(motion.names), motion.fps) == (24, 22, pytest.approx(20.0))

    code, stdout, err = run_cli(["import-bvh", out / "walk.bvh", "-o", out / "back.npy"], capsys)
    assert code == 0 and "shape (24, 22, 3)" in stdout
    back = np.load(out / "back.npy")
    assert back.dtype == np.float32
    # The motion was built on the reference skeleton: it comes back unchanged.
    np.testing.assert_allclose(back, np.load(joints_file), atol=1e-4)

    # Features in: the BVH holds the joints they recover (the motion is rigid on the reference skeleton).
    feats = joints_to_features(np.load(joints_file).astype(np.float64))
    np.save(out / "feats.npy", feats.astype(np.float32))
    assert run_cli(["export", out / "feats.npy", "-o", out / "feats.bvh"], capsys)[0] == 0
    assert run_cli(["import-bvh", out / "feats.bvh", "-o", out / "feats_back.npy"], capsys)[0] == 0
    recovered = features_to_joints(feats.astype(np.float32))
    np.testing.assert_allclose(np.load(out / "feats_back.npy"), recovered, atol=1e-4)
    for name in ("feats.npy", "feats.bvh", "feats_back.npy"):
        (out / name).unlink()

    # Export in centimetres at 30 fps: resampled (same duration, so it plays at the same
    # speed), not relabelled; re-import resampled to 15 fps.
    from ramotion.motion.resample import resample

    source = np.load(joints_file).astype(np.float64)
    code, stdout, _ = run_cli(["export", joints_file, "-o", out / "cm.bvh", "--scale", "100", "--fps", "30"], capsys)
    bvh = read_bvh(out / "cm.bvh")
    assert code == 0 and bvh.fps == pytest.approx(30.0) and f"resampled from {len(source)} frames at 20 fps" in stdout
    assert (bvh.num_frames - 1) / 30.0 == pytest.approx((len(source) - 1) / 20.0, abs=1 / 30)
    code, _, _ = run_cli(["import-bvh", out / "cm.bvh", "-o", out / "cm.npy", "--scale", "0.01", "--fps", "15"], capsys)
    assert code == 0
    # Within 1 mm: frames interpolated between two poses shorten bones slightly, which the
    # BVH's fixed offsets restore.
    np.testing.assert_allclose(np.load(out / "cm.npy"), resample(source, 20.0, 15.0), atol=1e-3)
    assert sorted(p.name for p in out.iterdir()) == ["back.npy", "cm.bvh", "cm.npy", "walk.bvh", "walk.gif"]


def test_render_takes_the_dataset_caption(
    h3d_samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """INPUT inside a HumanML3D tree: the first caption of texts/<id>.txt is the default title."""
    from ramotion.cli.render import dataset_caption

    src = h3d_samples / "new_joint_vecs" / "000000.npy"
    assert dataset_caption(src) == "a man kicks something or someone with his left leg."
    assert dataset_caption(tmp_path / "x.npy") is None
    # Only a few frames, to keep this quick: the same tree layout in tmp_path.
    (tmp_path / "new_joint_vecs").mkdir()
    (tmp_path / "texts").mkdir()
    np.save(tmp_path / "new_joint_vecs" / "k.npy", np.load(src)[:10])
    shutil.copy(h3d_samples / "texts" / "000000.txt", tmp_path / "texts" / "k.txt")
    code, stdout, _ = run_cli(
        ["render", tmp_path / "new_joint_vecs" / "k.npy", "-o", tmp_path / "k.mp4", "--size", "64"], capsys
    )
    assert code == 0 and "10 frames at 20 fps (features, humanml3d)" in stdout


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "bad"
    d.mkdir()
    arrays = {
        "wide.npy": np.zeros((10, 66)),
        "joints23.npy": np.zeros((10, 23, 3)),
        "nan.npy": np.full((10, 263), np.nan),
        "inf.npy": np.full((10, 22, 3), np.inf),
        "empty.npy": np.zeros((0, 22, 3)),
        "single.npy": np.zeros((1, 263)),
    }
    for name, arr in arrays.items():
        np.save(d / name, arr)
    (d / "junk.npy").write_bytes(b"\x00\x01garbage")
    (d / "junk.bvh").write_text("HIERARCHY\nROOT a\n{\n")
    np.save(d / "kit.npy", np.zeros((10, 21, 3)))
    return {p.name: p for p in d.iterdir()}


@pytest.mark.parametrize(
    ("verb", "src", "dest", "extra", "message"),
    [
        ("render", "wide.npy", "o.mp4", [], "must be HumanML3D features"),
        ("render", "joints23.npy", "o.gif", [], "unknown joint count 23"),
        ("render", "nan.npy", "o.mp4", [], "NaN or infinite"),
        ("render", "inf.npy", "o.mp4", [], "NaN or infinite"),
        ("render", "empty.npy", "o.mp4", [], "no frames"),
        ("render", "single.npy", "o.mp4", [], "only 1 frame"),
        ("render", "junk.npy", "o.mp4", [], "not a .npy file"),
        ("render", "missing.npy", "o.mp4", [], "no such file"),
        ("render", "GOOD", "o.avi", [], "unknown output extension '.avi'"),
        ("render", "GOOD", "nowhere/o.mp4", [], "does not exist"),
        ("render", "GOOD", "folder.mp4", [], "it is a folder"),
        ("render", "GOOD", "o.mp4", ["--fps", "0"], "--fps must be above 0"),
        ("render", "GOOD", "o.mp4", ["--fps", "nan"], "--fps must be above 0"),
        ("render", "GOOD", "o.mp4", ["--size", "8"], "--size must be between"),
        ("export", "wide.npy", "o.bvh", [], "must be HumanML3D features"),
        ("export", "nan.npy", "o.bvh", [], "NaN or infinite"),
        ("export", "single.npy", "o.bvh", [], "only 1 frame"),
        ("export", "kit.npy", "o.bvh", [], "needs a HumanML3D motion"),
        ("export", "junk.npy", "o.bvh", [], "not a .npy file"),
        ("export", "GOOD", "o.mp4", [], "expected one of .bvh"),
        ("export", "GOOD", "nowhere/o.bvh", [], "does not exist"),
        ("export", "GOOD", "o.bvh", ["--scale", "-1"], "--scale must be a positive number"),
        ("export", "GOOD", "o.bvh", ["--fps", "0"], "--fps must be between 1 and 1000"),
        ("export", "GOOD", "o.bvh", ["--fps", "0.5"], "--fps must be between 1 and 1000"),
        ("export", "GOOD", "o.bvh", ["--fps", "-20"], "--fps must be between 1 and 1000"),
        ("import-bvh", "junk.bvh", "o.npy", [], "bad BVH file"),
        ("import-bvh", "junk.npy", "o.npy", [], "expected a .bvh or .bvh.gz input file"),
        ("import-bvh", "missing.bvh", "o.npy", [], "no such file"),
        ("import-bvh", "GOODBVH", "o.txt", [], "expected one of .npy"),
        ("import-bvh", "GOODBVH", "o.npy", ["--joint-map", "missing.json"], "no such file"),
        ("import-bvh", "GOODBVH", "nowhere/o.npy", [], "does not exist"),
    ],
)
def test_bad_input_one_line_exit_2_no_output(
    verb: str,
    src: str,
    dest: str,
    extra: list[str],
    message: str,
    joints_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _bad_files(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "folder.mp4").mkdir()
    if src == "GOOD":
        source = joints_file
    elif src == "GOODBVH":
        source = tmp_path / "good.bvh"
        assert main(["export", str(joints_file), "-o", str(source)]) == 0
        capsys.readouterr()
    else:
        source = files.get(src, tmp_path / "bad" / src)
    extra = [str(tmp_path / e) if e.endswith(".json") else e for e in extra]
    code, stdout, err = run_cli([verb, source, "-o", out_dir / dest, *extra], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ramotion {verb}: error:"), err
    assert message in lines[0]
    assert sorted(p.name for p in out_dir.iterdir()) == ["folder.mp4"]  # nothing written, no temporaries


def test_console_script_subprocess(joints_file: Path, tmp_path: Path) -> None:
    """The installed `ramotion` command: a good export, then a bad input with one error line and exit 2."""
    exe = shutil.which("ramotion", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    assert exe is not None, "the ramotion console script is not installed"
    out = tmp_path / "walk.bvh"
    done = subprocess.run(
        [exe, "export", str(joints_file), "-o", str(out)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert out.is_file() and "22 joints" in done.stdout
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 24, 3)))
    done = subprocess.run(
        [exe, "render", str(bad), "-o", str(tmp_path / "bad.mp4")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ramotion render: error: {bad}: unknown joint count 24 in shape (5, 24, 3): "
        "expected 22 (HumanML3D) or 21 (KIT-ML)"
    ]
    assert not (tmp_path / "bad.mp4").exists()
