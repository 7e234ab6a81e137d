"""Real mocap in: each shared source through its reader and preset gives a plausible,
correctly sided human on the HumanML3D skeleton; bad files and presets fail in one line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from ramotion.cli import main as cli_main
from ramotion.mocap.bvh import BVHFormatError, bvh_source, read_bvh
from ramotion.mocap.export import export_bvh
from ramotion.mocap.importing import import_bvh, import_motion
from ramotion.mocap.presets import PRESETS, SkeletonPreset, load_joint_map, to_y_up
from ramotion.mocap.source import MocapFormatError, SourceMotion
from ramotion.skeleton import HUMANML3D as SK

J = {n: k for k, n in enumerate(SK.joint_names)}

# One labelled clip per source: (relative path, preset, asf for AMC).
CLIPS = {
    "bandai-namco": ("bandai-namco/dataset-2/data/dataset-2_walk_normal_001.bvh.gz", "bandai-namco", None),
    "hdm05": ("hdm05/amc/train/HDM_bd_sneak2StepsLStart_001_120.amc.gz", "hdm05", "hdm05/asf/HDM_bd.asf"),
    "cmu": ("cmu/bvh/002_01.bvh.gz", "cmu-bvh", None),
}


def _load(mocap_root: Path, source: str) -> tuple[np.ndarray, float]:
    rel, preset, asf = CLIPS[source]
    return import_motion(mocap_root / rel, preset, asf=mocap_root / asf if asf else None, source_fps=120.0 if asf else None)


def _forward_from_feet(joints: np.ndarray) -> np.ndarray:
    """Body forward from where the feet point (ankle -> toe base), independent of left/right labels."""
    toes = joints[:, [J["left_foot"], J["right_foot"]]] - joints[:, [J["left_ankle"], J["right_ankle"]]]
    f = toes.mean(axis=(0, 1)) * np.array([1.0, 0.0, 1.0])
    return f / np.linalg.norm(f)


@pytest.mark.shared
@pytest.mark.parametrize("source", sorted(CLIPS))
def test_real_clip_is_a_plausible_human(mocap_root: Path, source: str) -> None:
    joints, fps = _load(mocap_root, source)
    assert joints.shape[1:] == (22, 3) and len(joints) > 60 and np.isfinite(joints).all()
    assert fps == pytest.approx({"bandai-namco": 30.0, "hdm05": 120.0, "cmu": 60.0}[source], rel=1e-4)
    # Bones between joints taken directly from source joints are rigid (blended ones may flex a little).
    bones = np.linalg.norm(joints[:, 1:] - joints[:, list(SK.parents[1:])], axis=-1)  # (T, 21)
    rigid = [J[n] - 1 for n in ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_elbow", "right_elbow", "left_wrist", "right_wrist")]
    assert (bones[:, rigid].std(axis=0) / bones[:, rigid].mean(axis=0)).max() < 1e-5
    # Standing: the SMPL head joint (about 15 cm under the top of the head; HumanML3D's
    # reference stands it at 1.56 m) is 1.3-1.8 m above the lowest foot, y is up.
    floor = joints[..., 1].min()
    head = joints[0, J["head"], 1] - floor
    assert 1.3 < head < 1.8, head
    assert joints[0, J["head"], 1] > joints[0, J["pelvis"], 1] > joints[0, J["left_ankle"], 1]
    # Feet on the floor while in contact: the slowest 20% of foot frames are within 6 cm of the floor.
    feet = joints[:, [J["left_foot"], J["right_foot"], J["left_ankle"], J["right_ankle"]]]
    speed = np.linalg.norm(np.diff(feet, axis=0), axis=-1) * fps  # (T-1, 4) m/s
    slow = speed < np.quantile(speed, 0.2)
    height = feet[1:, :, 1] - floor
    assert np.median(height[slow]) < 0.15
    assert height[slow].min() < 0.06
    # Left is left: seen from behind, facing where the feet point, the left shoulder and hip are on the left.
    fwd = _forward_from_feet(joints)
    left_dir = np.cross([0.0, 1.0, 0.0], fwd)  # y up, facing fwd
    for a, b in (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")):
        assert float(np.mean((joints[:, J[a]] - joints[:, J[b]]) @ left_dir)) > 0.05, (source, a)


@pytest.mark.shared
def test_wave_left_hand_raises_the_left_wrist(mocap_root: Path) -> None:
    for side in ("left", "right"):
        path = mocap_root / f"bandai-namco/dataset-2/data/dataset-2_wave-{side}-hand_normal_001.bvh.gz"
        joints, _ = import_motion(path, "bandai-namco")
        floor = joints[..., 1].min()
        lift = {s: joints[:, J[f"{s}_wrist"], 1].max() - floor for s in ("left", "right")}
        other = "right" if side == "left" else "left"
        assert lift[side] > joints[0, J["head"], 1] - floor - 0.2  # the waving hand goes up near the head
        assert lift[side] > lift[other] + 0.4, lift


@pytest.mark.shared
def test_amc_and_bvh_agree_on_the_same_motion(mocap_root: Path, tmp_path: Path) -> None:
    """An HDM05 clip read from AMC, exported with `ramotion export`, read back by the BVH reader."""
    joints, fps = _load(mocap_root, "hdm05")
    joints = joints[::6]  # 20 fps
    np.save(tmp_path / "clip.npy", joints.astype(np.float32))
    assert cli_main(["export", str(tmp_path / "clip.npy"), "-o", str(tmp_path / "clip.bvh")]) == 0
    back, back_fps = import_bvh(tmp_path / "clip.bvh")
    assert back_fps == pytest.approx(20.0) and back.shape == joints.shape
    # The BVH is the motion on its own skeleton: issue 17's targets (mean < 0.5 cm, max < 2 cm),
    # every bone below a single-child joint keeps its direction exactly through AMC -> joints
    # -> BVH -> joints, and the root follows its own path.
    dev = np.linalg.norm(back - joints, axis=-1)
    assert dev.mean() < 0.005 and dev.max() < 0.02, (dev.mean(), dev.max())
    exact = ["left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot", "spine2", "spine3",
             "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"]  # fmt: skip
    idx = [J[n] for n in exact]
    par = [SK.parents[j] for j in idx]

    def unit(x: np.ndarray) -> np.ndarray:
        d = x[:, idx] - x[:, par]
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    cos = (unit(back) * unit(joints.astype(np.float32).astype(np.float64))).sum(-1)
    assert cos.min() > 1 - 1e-6, cos.min()
    np.testing.assert_allclose(back[:, 0], joints[:, 0], atol=1e-4)


def test_presets_are_complete_and_name_real_joints() -> None:
    for name, preset in PRESETS.items():
        assert set(preset.joints) == set(SK.joint_names), name
        assert preset.source_points()
    assert PRESETS["cmu-bvh"].skip_frames == 1  # the converter's T-pose


def test_preset_blends_units_and_up_axis() -> None:
    names = ["a", "b", "c"]
    pos = np.random.default_rng(0).normal(size=(3, 3, 3))
    src = SourceMotion(names, pos, 30.0, "mem")
    joints = {n: "a" for n in SK.joint_names} | {"spine2": {"b": 0.25, "c": 0.75}}
    out = SkeletonPreset("t", joints, scale=0.01, up="z", skip_frames=1).place(src)
    assert out.shape == (2, 22, 3)
    want = to_y_up((0.25 * pos[1:, 1] + 0.75 * pos[1:, 2]) * 0.01, "z")
    np.testing.assert_allclose(out[:, J["spine2"]], want)
    # z up -> y up is a rotation: +z becomes +y, handedness kept.
    np.testing.assert_allclose(to_y_up(np.array([[0.0, 0.0, 1.0]]), "z"), [[0.0, 1.0, 0.0]], atol=1e-12)
    for up in ("y", "z", "-y", "-z", "x", "-x"):
        r = np.stack([to_y_up(np.eye(3)[i], up) for i in range(3)])
        assert np.linalg.det(r) == pytest.approx(1.0), up


def test_preset_naming_a_missing_joint_is_one_clear_error() -> None:
    src = SourceMotion(["Hips"], np.zeros((5, 1, 3)), 30.0, "my.bvh")
    with pytest.raises(ValueError, match=r"my.bvh: joint map 'bandai-namco' names joints the file lacks: .*Spine"):
        PRESETS["bandai-namco"].place(src)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ({"joints": {n: "a" for n in SK.joint_names}, "up": "w"}, "'up' must be one of"),
        ({"joints": {n: "a" for n in SK.joint_names} | {"spine2": {"a": 0.5, "b": 0.2}}}, "sum to 0.7"),
        ({"joints": {n: "a" for n in SK.joint_names}, "skip_frames": -1}, "skip_frames"),
        ({"joints": {n: "a" for n in SK.joint_names}, "colour": 1}, "unknown keys"),
    ],
)
def test_bad_user_presets(tmp_path: Path, text: dict, message: str) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps(text))
    with pytest.raises(ValueError, match=message):
        load_joint_map(path)


def _walking(T: int = 12) -> np.ndarray:
    """A rest pose gliding forward: enough for the BVH writer and reader."""
    off = SK.offsets()
    pose = np.zeros((22, 3))
    for j, p in enumerate(SK.parents):
        if p >= 0:
            pose[j] = pose[p] + off[j]
    pose[:, 1] -= pose[:, 1].min()
    return pose[None] + np.linspace(0, 0.5, T)[:, None, None] * np.array([0.0, 0.0, 1.0])


def test_bvh_gz_reads_and_bad_gz_fails_cleanly(tmp_path: Path) -> None:
    plain = tmp_path / "walk.bvh"
    export_bvh(_walking(), plain)
    gz = tmp_path / "walk.bvh.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    np.testing.assert_array_equal(import_bvh(gz)[0], import_bvh(plain)[0])
    cut = tmp_path / "cut.bvh.gz"
    cut.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    with pytest.raises(BVHFormatError, match="cut.bvh.gz: corrupt or truncated gzip"):
        read_bvh(cut)
    junk = tmp_path / "junk.bvh.gz"
    junk.write_bytes(b"not gzip at all")
    with pytest.raises(MocapFormatError, match="junk.bvh.gz"):
        read_bvh(junk)


def test_bvh_with_too_few_values_or_nan(tmp_path: Path) -> None:
    plain = tmp_path / "walk.bvh"
    export_bvh(_walking(), plain)
    lines = plain.read_text().splitlines()
    short = tmp_path / "short.bvh"
    short.write_text("\n".join(lines[:-1] + [" ".join(lines[-1].split()[:-2])]) + "\n")
    with pytest.raises(BVHFormatError, match="frames x .* channels needs"):
        read_bvh(short)
    nan = tmp_path / "nan.bvh"
    nan.write_text("\n".join(lines[:-1] + [" ".join(["nan"] + lines[-1].split()[1:])]) + "\n")
    with pytest.raises(BVHFormatError, match="NaN"):
        read_bvh(nan)


def test_import_bvh_cli_bad_gz_one_line_and_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.bvh.gz"
    bad.write_bytes(gzip.compress(b"HIERARCHY\nROOT a\n{\n")[:-6])
    out = tmp_path / "out.npy"
    assert cli_main(["import-bvh", str(bad), "-o", str(out), "--joint-map", "bandai-namco"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corrupt or truncated gzip" in err[0]
    assert not out.exists()


@pytest.mark.shared
def test_import_bvh_cli_with_a_preset(mocap_root: Path, tmp_path: Path) -> None:
    src = mocap_root / CLIPS["cmu"][0]
    out = tmp_path / "cmu.npy"
    assert cli_main(["import-bvh", str(src), "-o", str(out), "--joint-map", "cmu-bvh", "--fps", "20"]) == 0
    joints = np.load(out)
    full = bvh_source(read_bvh(src))
    assert joints.shape == (int(np.floor((full.num_frames - 2) * 20 / full.fps + 1e-9)) + 1, 22, 3)


def _z_up_copy(motion):  # noqa: ANN001, ANN202 - BVHMotion in, BVHMotion out
    """The same motion as Blender writes it: every offset and every joint's rotation turned by
    +90 degrees about x (y up -> z up), so the rest pose itself is Z-up."""
    import torch

    from ramotion.mocap.bvh import BVHMotion
    from ramotion.rotations import qinv, qmul, quat_to_euler

    half = np.sqrt(0.5)
    r = torch.tensor([half, half, 0.0, 0.0], dtype=torch.float64)  # +90 degrees about x: y -> z
    rot = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    quats, _ = motion.local_transforms()  # (T, J, 4)
    conj = qmul(qmul(r.expand_as(quats), quats), qinv(r).expand_as(quats))
    values = motion.values.copy()
    cols = motion.channel_columns()
    for j, chans in enumerate(motion.channels):
        order = "".join(c[0] for c in chans if c.endswith("rotation"))
        values[:, [c for c, n in zip(cols[j], chans) if n.endswith("rotation")]] = quat_to_euler(conj[:, j], order).numpy()
        pos = [c for c, n in zip(cols[j], chans) if n.endswith("position")]
        if pos:
            values[:, pos] = values[:, pos] @ rot.T
    return BVHMotion(motion.names, motion.parents, motion.offsets @ rot.T, motion.channels, values, motion.frame_time,
                     {j: np.asarray(o) @ rot.T for j, o in motion.end_sites.items()})  # fmt: skip


def test_z_up_bvh_is_detected_and_comes_in_standing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Blender round trip (Z-up file with ramotion's names) needs no manual axis fix."""
    y_up = tmp_path / "y.bvh"
    export_bvh(_walking(), y_up)
    z_up = tmp_path / "z.bvh"
    z_up.write_text(_z_up_copy(read_bvh(y_up)).to_text())
    upright, names = read_bvh(z_up).joint_positions()
    head, pelvis = names.index("head"), names.index("pelvis")
    assert upright[0, head, 2] - upright[0, pelvis, 2] > 0.4 and abs(upright[0, head, 1] - upright[0, pelvis, 1]) < 0.2  # really Z-up
    want, _ = import_bvh(y_up)
    np.testing.assert_allclose(import_bvh(z_up)[0], want, atol=1e-6)  # detected
    np.testing.assert_allclose(import_bvh(z_up, up="z")[0], want, atol=1e-6)  # or given
    assert cli_main(["import-bvh", str(z_up), "-o", str(tmp_path / "z.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), want, atol=1e-5)
    # Forcing the wrong axis lays the body down: the override really overrides.
    assert np.abs(import_bvh(z_up, up="y")[0] - want).max() > 0.5


def test_undetectable_up_axis_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rest pose with no clear vertical (a body tilted 45 degrees) cannot say which way is up."""
    from ramotion.mocap.presets import detect_up_axis

    pose = _walking(2)[0]
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    tilted = pose @ np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]).T
    assert detect_up_axis(pose) == "y" and detect_up_axis(-pose) == "-y"
    with pytest.raises(ValueError, match="cannot detect the up axis .*--up-axis"):
        detect_up_axis(tilted, "lying.bvh")
    motion = read_bvh(export_bvh(_walking(), tmp_path / "w.bvh") and tmp_path / "w.bvh")
    motion.offsets = motion.offsets @ np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]).T
    (tmp_path / "tilted.bvh").write_text(motion.to_text())
    assert cli_main(["import-bvh", str(tmp_path / "tilted.bvh"), "-o", str(tmp_path / "t.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot detect the up axis" in err[0] and not (tmp_path / "t.npy").exists()
    assert cli_main(["import-bvh", str(tmp_path / "tilted.bvh"), "-o", str(tmp_path / "t.npy"), "--up-axis", "y"]) == 0
