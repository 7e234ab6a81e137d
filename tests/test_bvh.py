"""BVH export and import (issue 2, item 6): round trips, an independent parser, foreign files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from ramotion.mocap import bvh as BF
from ramotion.mocap import export as BE
from ramotion.mocap import importing as BI
from ramotion.mocap import presets as BP
from ramotion.motion.kinematics import forward_direction
from ramotion.motion.rigid import fit_rotation
from ramotion.rotations import qbetween, qrot
from ramotion.skeleton import HUMANML3D, KIT

SAMPLES = ("000000", "007005", "009548", "011673", "012314", "M010655", "M010968")


def rigid_motion(T: int = 40, seed: int = 0) -> np.ndarray:
    """A motion built by forward kinematics on the BVH rest skeleton, written here with scipy
    (independently of ramotion's FK): smooth random joint rotations, a full turn of the root,
    and a walk. (T, 22, 3)."""
    rng = np.random.default_rng(seed)
    rest = BE.rest_offsets()
    t = np.linspace(0.0, 1.0, T)[:, None]
    # Smooth local rotation vectors: a random start plus a random drift, up to ~50 degrees.
    rotvec = rng.normal(0, 0.35, (1, 22, 3)) + t[:, :, None] * rng.normal(0, 0.5, (1, 22, 3))
    rotvec[:, 0] = 0.0
    local = [Rotation.from_rotvec(rotvec[:, j]) for j in range(22)]
    local[0] = Rotation.from_euler("y", 2 * np.pi * t) * Rotation.from_rotvec(0.2 * rotvec[:, 3])
    glob: list[Rotation] = [None] * 22  # type: ignore[list-item]
    pos = np.zeros((T, 22, 3))
    pos[:, 0] = np.concatenate((1.5 * t, 0.95 + 0.05 * np.sin(6 * t), 0.8 * t), axis=1)
    for j, p in enumerate(HUMANML3D.parents):
        if p < 0:
            glob[j] = local[j]
        else:
            glob[j] = glob[p] * local[j]
            pos[:, j] = pos[:, p] + glob[p].apply(rest[j])
    return pos


def test_rest_offsets_are_the_reference_pose(shared_data: Path) -> None:
    """The baked rest pose is HumanML3D's reference pose turned to face +z, arms in a T-pose,
    with the reference bone lengths."""
    ref = torch.as_tensor(np.load(shared_data / "reference" / "skeleton_example_h3d.npy")[:22])
    face = qbetween(forward_direction(ref[None], HUMANML3D)[0], ref.new_tensor((0.0, 0.0, 1.0)))
    posed = qrot(face.expand(22, 4), ref).numpy()
    bones = np.array([posed[j] - posed[p] if p >= 0 else np.zeros(3) for j, p in enumerate(HUMANML3D.parents)])
    rest = BE.rest_offsets()
    arms = sorted(BE.T_POSE_ARMS)
    body = [j for j in range(22) if j not in arms]
    np.testing.assert_allclose(rest[body], bones[body], atol=2e-6)
    np.testing.assert_allclose(np.linalg.norm(rest, axis=1), HUMANML3D.bone_lengths, atol=1e-12)
    # T-pose: left arm bones along +x, right along -x.
    for j in arms:
        side = 1.0 if j in HUMANML3D.left else -1.0
        np.testing.assert_allclose(rest[j] / np.linalg.norm(rest[j]), (side, 0.0, 0.0))


def test_arms_overhead_keep_continuous_rotations() -> None:
    """Jumping-jack arms (down -> overhead through the side): each frame the arm moves 4.5 degrees
    and so do the shoulder's BVH rotations (no twist flip, unlike a rest pose with hanging arms)."""
    rest = BE.rest_offsets()
    pose = np.zeros((22, 3))
    for j, p in enumerate(HUMANML3D.parents):
        if p >= 0:
            pose[j] = pose[p] + rest[j]
    T = 40
    angle = np.linspace(0.0, np.radians(175.0), T)
    motion = np.repeat(pose[None], T, axis=0)
    for side, (sh, el, wr) in ((1.0, (16, 18, 20)), (-1.0, (17, 19, 21))):
        d = np.stack((side * np.sin(angle), -np.cos(angle), 0.05 * np.sin(angle)), axis=1)
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        motion[:, el] = motion[:, sh] + d * HUMANML3D.bone_lengths[el]
        motion[:, wr] = motion[:, el] + d * HUMANML3D.bone_lengths[wr]
    bvh = BE.motion_to_bvh(motion)
    local_q, _ = bvh.local_transforms()
    for name in ("left_shoulder", "right_shoulder"):
        q = local_q[:, bvh.names.index(name)].numpy()[:, [1, 2, 3, 0]]
        r = Rotation.from_quat(q)
        step = np.degrees((r[1:] * r[:-1].inv()).magnitude())
        assert step.max() < 6.0, (name, step.max())
    np.testing.assert_allclose(BI.bvh_to_joints(bvh)[:, 16:], motion[:, 16:], atol=1e-9)


def test_best_fit_rotation_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    rest = rng.normal(size=(3, 3))
    truth = Rotation.random(5, random_state=2)
    posed = np.stack([truth[i].apply(rest) for i in range(5)]) + rng.normal(0, 0.05, (5, 3, 3))
    ours = fit_rotation(rest, posed)
    for i in range(5):
        ref, _ = Rotation.align_vectors(posed[i], rest)
        np.testing.assert_allclose(ours[i], ref.as_matrix(), atol=1e-9)
        assert np.linalg.det(ours[i]) == pytest.approx(1.0)


def test_rigid_motion_round_trips_exactly(tmp_path: Path) -> None:
    """A motion built by FK on the reference skeleton comes back from export -> file -> import unchanged."""
    joints = rigid_motion()
    path = tmp_path / "rigid.bvh"
    BE.export_bvh(joints, path)
    back, fps = BI.import_bvh(path)
    err = np.abs(back - joints).max()
    print(f"rigid FK motion: export -> import max error {err:.2e} m")
    assert fps == pytest.approx(20.0)
    assert back.shape == joints.shape
    assert err <= 1e-4
    # In centimetres: the file's numbers scale, the motion does not.
    BE.export_bvh(joints, tmp_path / "cm.bvh", scale=100.0)
    back_cm, _ = BI.import_bvh(tmp_path / "cm.bvh", scale=0.01)
    assert np.abs(back_cm - joints).max() <= 1e-4


def test_export_is_read_by_the_independent_bvh_package(tmp_path: Path) -> None:
    bvh_pkg = pytest.importorskip("bvh", reason="the `bvh` test dependency is not installed")
    joints = rigid_motion(T=33)
    path = tmp_path / "m.bvh"
    motion = BE.export_bvh(joints, path, fps=20)
    mocap = bvh_pkg.Bvh(path.read_text())
    names = mocap.get_joints_names()
    assert len(names) == 22 and sorted(names) == sorted(HUMANML3D.joint_names)
    assert mocap.nframes == 33
    assert mocap.frame_time == pytest.approx(0.05, abs=1e-9)
    assert mocap.joint_channels("pelvis") == [
        "Xposition",
        "Yposition",
        "Zposition",
        "Zrotation",
        "Xrotation",
        "Yrotation",
    ]
    assert mocap.joint_channels("left_knee") == ["Zrotation", "Xrotation", "Yrotation"]
    assert mocap.joint_parent("left_knee").name == "left_hip"
    assert mocap.joint_parent("left_collar").name == "spine3"
    np.testing.assert_allclose(mocap.joint_offset("left_elbow"), BE.rest_offsets()[18], atol=1e-6)
    # Its frame values are the root position and the rotations that our importer reads.
    root = np.array(mocap.frames_joint_channels("pelvis", ["Xposition", "Yposition", "Zposition"]), dtype=float)
    np.testing.assert_allclose(root, BI.bvh_to_joints(motion)[:, 0], atol=1e-6)
    knee = np.array(mocap.frames_joint_channels("left_knee", ["Zrotation", "Xrotation", "Yrotation"]), dtype=float)
    k = motion.names.index("left_knee")
    np.testing.assert_allclose(knee, motion.values[:, 3 + 3 * k : 6 + 3 * k], atol=1e-6)


def test_real_samples_round_trip(h3d_samples: Path, tmp_path: Path) -> None:
    """export -> text -> import equals the joints the exporter meant to encode (<= 1e-4), and those
    are the original joints to within issue 17's targets (mean < 0.5 cm, max < 2 cm): the file's
    skeleton is the motion's own. The reference skeleton (rest="reference") stays a few cm off."""
    for sid in SAMPLES:
        joints = np.load(h3d_samples / "new_joints" / f"{sid}.npy").astype(np.float64)
        path = tmp_path / f"{sid}.bvh"
        motion = BE.export_bvh(joints, path)
        meant = BI.bvh_to_joints(motion)
        back, _ = BI.import_bvh(path)
        err_file = np.abs(back - meant).max()
        dev = np.linalg.norm(back - joints, axis=-1)
        ref = BE.deviation(BE.motion_to_bvh(joints, rest="reference"), joints)
        print(
            f"{sid}: file round trip {err_file:.1e} m; vs original joints mean {dev.mean() * 100:.3f} cm, "
            f"max {dev.max() * 100:.3f} cm; reference skeleton mean {ref.mean() * 100:.2f} cm, max {ref.max() * 100:.2f} cm"
        )
        assert err_file <= 1e-4
        assert dev.mean() < 0.005 and dev.max() < 0.02
        np.testing.assert_allclose(BE.deviation(motion, joints), dev, atol=1e-4)
        assert ref.mean() > 2 * dev.mean()
        # Each bone direction below a single-child joint is kept exactly.
        for j, p in enumerate(HUMANML3D.parents):
            if p >= 0 and sum(q == p for q in HUMANML3D.parents) == 1:
                a = meant[:, j] - meant[:, p]
                b = joints[:, j] - joints[:, p]
                cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
                assert cos.min() > 1 - 1e-9, HUMANML3D.joint_names[j]


def _foreign_bvh(motion: BF.BVHMotion) -> BF.BVHMotion:
    """The same motion as another tool might write it: other names, XYZ Euler order, centimetres,
    position channels written before the rotations, an extra finger joint and 60 fps."""
    names = [f"mix:{n.title().replace('_', '')}" for n in motion.names]
    local_q, _ = motion.local_transforms()
    channels, cols = [], []
    for j in range(len(motion.channels)):
        rot = Rotation.from_quat(local_q[:, j].numpy()[:, [1, 2, 3, 0]]).as_euler("XYZ", degrees=True)
        if j == 0:
            channels.append(("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation"))
            cols.append(np.concatenate((motion.values[:, :3] * 100.0, rot), axis=1))
        else:
            channels.append(("Xrotation", "Yrotation", "Zrotation"))
            cols.append(rot)
    wrist = motion.names.index("left_wrist")
    names.append("mix:LeftHandIndex1")
    channels.append(("Zrotation", "Xrotation", "Yrotation"))
    cols.append(np.full((motion.num_frames, 3), 10.0))
    offsets = np.concatenate((motion.offsets * 100.0, [[0.0, -5.0, 2.0]]))
    return BF.BVHMotion(
        names=names,
        parents=motion.parents + [wrist],
        offsets=offsets,
        channels=channels,
        values=np.concatenate(cols, axis=1),
        frame_time=1.0 / 60.0,
        end_sites={len(names) - 1: np.array([0.0, -2.0, 0.0])},
    )


def test_foreign_bvh_with_joint_map(tmp_path: Path) -> None:
    joints = rigid_motion(T=31)
    ours = BE.motion_to_bvh(joints)
    foreign = _foreign_bvh(ours)
    path = tmp_path / "foreign.bvh"
    path.write_text(foreign.to_text())
    mapping = {ours_name: theirs for ours_name, theirs in zip(ours.names, foreign.names)}
    map_path = tmp_path / "map.json"
    map_path.write_text(json.dumps({"joints": mapping, "scale": 0.01}))

    back, fps = BI.import_bvh(path, map_path)
    assert fps == pytest.approx(60.0)
    np.testing.assert_allclose(back, joints, atol=1e-4)
    # A plain map plus an explicit scale; resampled from 60 to 20 fps (every third frame).
    map_path.write_text(json.dumps(mapping))
    back20, fps20 = BI.import_bvh(path, map_path, scale=0.01, fps=20.0)
    assert fps20 == 20.0 and back20.shape == (11, 22, 3)
    np.testing.assert_allclose(back20, joints[::3], atol=1e-4)
    # Without a map the names are unknown: one clear error.
    with pytest.raises(ValueError, match="lacks: pelvis.*Pass a joint map"):
        BI.import_bvh(path)
    # End Sites can be mapped as "<joint>_End".
    positions, names = foreign.joint_positions(include_end_sites=True)
    assert names[-1] == "mix:LeftHandIndex1_End"
    assert np.linalg.norm(positions[:, -1] - positions[:, -2], axis=-1) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("[1, 2]", "must be a JSON object"),
        ("{not json", "not valid JSON"),
        ('{"pelvis": "Hips"}', "missing ramotion joints"),
        ('{"pelvis": "Hips", "tail": "Tail"}', "unknown ramotion joint names"),
        ('{"joints": {}, "scale": -1}', "'scale' must be a positive number"),
    ],
)
def test_bad_joint_maps(tmp_path: Path, mapping: str, message: str) -> None:
    path = tmp_path / "map.json"
    path.write_text(mapping)
    with pytest.raises(ValueError, match=message):
        BP.load_joint_map(path)


GOOD = BE.motion_to_bvh(rigid_motion(T=3)).to_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected 'HIERARCHY'"),
        (GOOD.replace("HIERARCHY", "HIERARCHIE"), "expected 'HIERARCHY'"),
        (GOOD.replace("CHANNELS 3 Zrotation Xrotation Yrotation", "CHANNELS 3 Zrotation Xrotation", 1), "bad CHANNELS"),
        (GOOD.replace("CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation", 1), "bad CHANNELS"),
        (GOOD.replace("OFFSET", "OFFSET x", 2), "OFFSET needs 3 numbers"),
        (GOOD.split("MOTION")[0], "no MOTION section"),
        (GOOD.rsplit("\n", 2)[0], "the MOTION block has"),
        (GOOD.replace("Frames: 3", "Frames: three"), "'Frames:' needs an integer"),
        (GOOD.replace("Frame Time: 0.05", "Frame Time: 0"), "Frame Time must be positive"),
        (GOOD[: GOOD.rindex(" ")] + " nan\n", "NaN or infinite"),
        (GOOD.replace("\t}\n}\nMOTION", "\t}\nMOTION"), "missing '}'"),
        (GOOD.replace("JOINT right_hip", "JOINT left_hip"), "duplicate joint name"),
    ],
)
def test_bad_bvh_text(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BF.parse_bvh(text, "x.bvh")


def test_export_refuses_bad_input_and_leaves_no_file(tmp_path: Path) -> None:
    joints = rigid_motion(T=5)
    bad = joints.copy()
    bad[2, 3, 1] = np.nan
    out = tmp_path / "out.bvh"
    with pytest.raises(ValueError, match="NaN or infinite"):
        BE.export_bvh(bad, out)
    with pytest.raises(ValueError, match="at least 2 frames"):
        BE.export_bvh(joints[:1], out)
    with pytest.raises(ValueError, match="HumanML3D 22-joint skeleton only"):
        BE.export_bvh(np.zeros((5, 21, 3)), out, skeleton=KIT)
    with pytest.raises(ValueError, match="fps must be a positive number"):
        BE.export_bvh(joints, out, fps=0.0)
    collapsed = joints.copy()
    collapsed[3, 4] = collapsed[3, 1]
    with pytest.raises(ValueError, match="joints left_hip and left_knee coincide in frame 3"):
        BE.export_bvh(collapsed, out)
    no_facing = joints.copy()  # both hips in one place, both shoulders in one place: no left-right axis
    no_facing[2, 2], no_facing[2, 17] = no_facing[2, 1], no_facing[2, 16]
    with pytest.raises(ValueError, match="facing direction is undefined in frame 2"):
        BE.export_bvh(no_facing, out, rest="reference")  # only the retarget needs a facing
    with pytest.raises(ValueError, match="rest must be 'motion' or 'reference'"):
        BE.export_bvh(joints, out, rest="smpl")
    with pytest.raises(FileNotFoundError):
        BE.export_bvh(joints, tmp_path / "missing" / "out.bvh")
    assert list(tmp_path.iterdir()) == []
