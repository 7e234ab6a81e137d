"""Acclaim ASF/AMC reader: forward kinematics pinned on hand-computed synthetic skeletons, the
rotation convention pinned against scipy and ramotion.rotations, one-line errors for bad
input, and real HDM05 clips (height, floor, constant bones, left is left)."""

from __future__ import annotations

import functools
import gzip
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ramotion.mocap.asf_amc import (
    INCH,
    ASFSkeleton,
    amc_to_source,
    fixed_axis_rotation,
    load_asf_amc,
    parse_amc,
    parse_asf,
    read_amc,
    read_asf,
)
from ramotion.mocap.source import MocapFormatError, SourceMotion

# ----------------------------------------------------------------------------- synthetic data

# root ─ a (along x, length 2, dof rz) ─ b (along z, length 1, axis rotated 90° about z, dof rx)
#      └ c (along z, length 1, dof rx rz) ─ d (along y, length 0.5, no dof)
BONES = {
    "a": ("1 0 0", 2, "0 0 0", "rz"),
    "b": ("0 0 1", 1, "0 0 90", "rx"),
    "c": ("0 0 1", 1, "0 0 0", "rx rz"),
    "d": ("0 1 0", 0.5, "0 0 0", ""),
}
HIERARCHY = "root a c\n    a b\n    c d"


def make_asf(
    bones: dict[str, tuple[str, float, str, str]] = BONES,
    hierarchy: str = HIERARCHY,
    length: str = "1.0",
    angle: str = "deg",
    order: str = "TX TY TZ RX RY RZ",
    orientation: str = "0 0 0",
) -> str:
    """An ASF text in the layout of the VICON files (limits on several lines included)."""
    blocks = []
    for i, (name, (direction, blen, axis, dof)) in enumerate(bones.items(), start=1):
        dof_lines = ""
        if dof:
            limits = "\n           ".join("(-180.0 180.0)" for _ in dof.split())
            dof_lines = f"\n    dof {dof}\n    limits {limits}"
        blocks.append(
            f"  begin\n     id {i}\n     name {name}\n     direction {direction}\n     length {blen}\n"
            f"     axis {axis}  XYZ{dof_lines}\n  end"
        )
    return (
        "# synthetic skeleton\n:version 1.10\n:name test\n:units\n  mass 1.0\n"
        f"  length {length}\n  angle {angle}\n:documentation\n   written by the tests\n"
        f":root\n   order {order}\n   axis XYZ\n   position 0 0 0\n   orientation {orientation}\n"
        ":bonedata\n" + "\n".join(blocks) + f"\n:hierarchy\n  begin\n    {hierarchy}\n  end\n"
    )


def make_amc(frames: list[dict[str, str]], header: str = ":FULLY-SPECIFIED\n:DEGREES", start: int = 1) -> str:
    """An AMC text: one dict of bone -> value string per frame."""
    out = ["#!OML:ASF test.asf", header]
    for t, frame in enumerate(frames):
        out.append(str(start + t))
        out.extend(f"{name} {values}" for name, values in frame.items())
    return "\n".join(out) + "\n"


POSE = {"root": "1 2 3 0 0 0", "a": "90", "b": "90", "c": "90 90"}
REST = {"root": "0 0 0 0 0 0", "a": "0", "b": "0", "c": "0 0"}
# Hand-computed bone ends (file units) for POSE, then for REST.
#  a: Rz(90) x = y                             -> (1,2,3) + 2y = (1,4,3)
#  b: C = Rz(90), M = Rx(90): C M C^-1 = Ry(90) turns z into x; then a's Rz(90) turns x into y
#                                              -> (1,4,3) + y = (1,5,3)
#     (C ignored would give (2,4,3); C^-1 M C would give (1,3,3))
#  c: dof "rx rz" = rx first, then rz, about fixed axes: Rz(90) Rx(90) z = Rz(90) (-y) = x
#                                              -> (1,2,3) + x = (2,2,3)
#  d: no dof, carried by c: Rz(90) Rx(90) y = z  -> (2,2,3) + 0.5z = (2,2,3.5)
POSE_ENDS = np.array([[1, 2, 3], [1, 4, 3], [1, 5, 3], [2, 2, 3], [2, 2, 3.5]], dtype=float)
REST_ENDS = np.array([[0, 0, 0], [2, 0, 0], [2, 0, 1], [0, 0, 1], [0, 0.5, 1]], dtype=float)


def fk(asf_text: str, amc_text: str, fps: float = 120.0) -> np.ndarray:
    """Positions (T, 5, 3) in metres of root, a, b, c, d."""
    skel = parse_asf(asf_text)
    motion = amc_to_source(skel, parse_amc(amc_text, skel), fps)
    assert motion.names == ["root", "a", "b", "c", "d"]
    return motion.positions


# ----------------------------------------------------------------------------- the convention


def test_fixed_axis_rotation_convention() -> None:
    """Letters are rotations about fixed axes in the order written: "XYZ" = Rz @ Ry @ Rx, i.e.
    scipy's extrinsic "xyz", i.e. ramotion's intrinsic euler_to_quat with order and angles
    reversed."""
    import torch

    from ramotion.rotations import euler_to_quat, quat_to_matrix

    rng = np.random.default_rng(0)
    deg = rng.uniform(-170, 170, (6, 3))
    ours = fixed_axis_rotation(np.radians(deg), "XYZ")
    np.testing.assert_allclose(ours, Rotation.from_euler("xyz", deg, degrees=True).as_matrix(), atol=1e-12)
    rx, ry, rz = (Rotation.from_euler(a, deg[:, i : i + 1], degrees=True).as_matrix() for i, a in enumerate("xyz"))
    np.testing.assert_allclose(ours, rz @ ry @ rx, atol=1e-12)
    theirs = quat_to_matrix(euler_to_quat(torch.as_tensor(deg[:, ::-1].copy()), "ZYX")).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    # Two letters and other orders.
    np.testing.assert_allclose(
        fixed_axis_rotation(np.radians(deg[:, :2]), "zx"), Rotation.from_euler("zx", deg[:, :2], degrees=True).as_matrix(), atol=1e-12
    )
    np.testing.assert_allclose(fixed_axis_rotation(np.zeros((4, 0)), ""), np.broadcast_to(np.eye(3), (4, 3, 3)))


def test_fk_pinned_on_hand_computed_pose() -> None:
    """Root translation, a bone's dof, a bone with a non-zero axis (so C matters), a two-dof
    bone (dof order) and a bone without dofs land where worked out by hand."""
    pos = fk(make_asf(), make_amc([POSE, REST]))
    assert pos.shape == (2, 5, 3)
    np.testing.assert_allclose(pos[0], POSE_ENDS * INCH, atol=1e-12)
    np.testing.assert_allclose(pos[1], REST_ENDS * INCH, atol=1e-12)


def test_dof_order_is_the_rotation_order() -> None:
    """`dof rz rx` (values rz then rx): rz applied first, then rx. Rx(90) Rz(90) z = -y."""
    bones = dict(BONES, c=("0 0 1", 1, "0 0 0", "rz rx"))
    pos = fk(make_asf(bones), make_amc([POSE]))
    # c: (1,2,3) - y = (1,1,3); d: Rx(90) Rz(90) y = Rx(90)(-x) = -x -> (0.5,1,3)
    np.testing.assert_allclose(pos[0, 3:], np.array([[1, 1, 3], [0.5, 1, 3]]) * INCH, atol=1e-12)


def test_root_order_sets_value_order_and_rotation_sequence() -> None:
    """Root values follow `order`, and its R tokens are the fixed-axis rotation sequence."""
    asf = make_asf(order="RZ RX TX TY TZ RY")
    pos = fk(asf, make_amc([{"root": "90 90 1 2 3 0", "a": "0", "b": "0", "c": "0 0"}]))
    # W_root = Ry(0) Rx(90) Rz(90): a: x -> y -> z: (1,2,3) + 2z = (1,2,5);
    # b (zero dof): z -> z -> -y: (1,2,5) - y = (1,1,5). (An XYZ sequence would put a at (1,4,3).)
    np.testing.assert_allclose(pos[0, :3], np.array([[1, 2, 3], [1, 2, 5], [1, 1, 5]]) * INCH, atol=1e-12)


def test_root_orientation_is_the_roots_axis_frame() -> None:
    """`orientation` is the root's C: no effect at rest; RX then acts about C's x axis (= y)."""
    asf = make_asf(orientation="0 0 90")
    pos = fk(asf, make_amc([REST, {"root": "0 0 0 90 0 0", "a": "0", "b": "0", "c": "0 0"}]))
    np.testing.assert_allclose(pos[0], REST_ENDS * INCH, atol=1e-12)
    # Rz(90) Rx(90) Rz(-90) = Ry(90): a along x -> -z.
    np.testing.assert_allclose(pos[1, 1], np.array([0, 0, -2]) * INCH, atol=1e-12)


def test_radians_in_asf_and_in_amc_header() -> None:
    """`angle rad` (axis in radians, AMC in radians) and an AMC `:RADIANS` header on a degree
    skeleton give the same pose as degrees."""
    half_pi = repr(math.pi / 2)
    pose_rad = {"root": "1 2 3 0 0 0", "a": half_pi, "b": half_pi, "c": f"{half_pi} {half_pi}"}
    bones_rad = dict(BONES, b=("0 0 1", 1, f"0 0 {half_pi}", "rx"))
    skel = parse_asf(make_asf(bones_rad, angle="rad"))
    assert skel.angle_unit == "rad"
    np.testing.assert_allclose(skel.bones["b"].axis, [0, 0, math.pi / 2])
    pos = fk(make_asf(bones_rad, angle="rad"), make_amc([pose_rad], header=":FULLY-SPECIFIED"))
    np.testing.assert_allclose(pos[0], POSE_ENDS * INCH, atol=1e-12)
    # Degree skeleton, radian motion: converted to the skeleton's unit by parse_amc.
    skel = parse_asf(make_asf())
    np.testing.assert_allclose(skel.bones["b"].axis, [0, 0, math.pi / 2])  # stored in radians
    frames = parse_amc(make_amc([pose_rad], header=":FULLY-SPECIFIED\n:RADIANS"), skel)
    np.testing.assert_allclose(frames["c"], [[90, 90]])
    np.testing.assert_allclose(frames["root"], [[1, 2, 3, 0, 0, 0]])  # translations untouched
    np.testing.assert_allclose(amc_to_source(skel, frames, 30).positions[0], POSE_ENDS * INCH, atol=1e-12)


def test_length_units() -> None:
    """`:units length 0.45`: file lengths / 0.45 are inches; the result is metres."""
    skel = parse_asf(make_asf(length="0.45"))
    assert skel.length_scale == 0.45
    pos = fk(make_asf(length="0.45"), make_amc([POSE]))
    np.testing.assert_allclose(pos[0], POSE_ENDS / 0.45 * INCH, atol=1e-12)
    assert parse_asf(make_asf().replace("  length 1.0\n", "")).length_scale == 1.0  # default


def test_translation_dofs_move_the_bone_along_its_axes() -> None:
    """`dof tx rz` on a bone with axis Rz(90): tx moves its start along C's x (= world y)."""
    bones = dict(BONES, e=("1 0 0", 1, "0 0 90", "tx rz"))
    asf = make_asf(bones, hierarchy=HIERARCHY + "\n    root e")
    skel = parse_asf(asf)
    motion = amc_to_source(skel, parse_amc(make_amc([dict(POSE, e="2 90")]), skel), 120)
    # start = (1,2,3) + Rz(90)(2,0,0) = (1,4,3); rz about C's z (= z): x -> y: end (1,5,3).
    np.testing.assert_allclose(motion.positions[0, motion.index("e")], np.array([1, 5, 3]) * INCH, atol=1e-12)


def test_skeleton_fields() -> None:
    """What parse_asf keeps: file order, parents, children (root included), dofs, root data."""
    skel = parse_asf(make_asf(orientation="10 0 0"))
    assert list(skel.bones) == ["a", "b", "c", "d"]
    assert skel.children == {"root": ["a", "c"], "a": ["b"], "b": [], "c": ["d"], "d": []}
    assert [skel.bones[n].parent for n in "abcd"] == ["root", "a", "root", "c"]
    assert skel.bones["c"].dof == ("rx", "rz") and skel.bones["d"].dof == ()
    assert skel.bones["b"].axis_order == "XYZ" and skel.bones["a"].length == 2.0
    assert skel.root_order == ("TX", "TY", "TZ", "RX", "RY", "RZ") and skel.root_axis == "XYZ"
    np.testing.assert_allclose(skel.root_orientation, [math.radians(10), 0, 0])
    assert skel.name == "test" and skel.angle_unit == "deg"


def test_files_plain_and_gz(tmp_path: Path) -> None:
    """read_asf/read_amc/load_asf_amc on plain and gzip files, with a Latin-1 header byte."""
    (tmp_path / "s.asf").write_text(make_asf())
    amc = make_amc([POSE, REST]).replace("test.asf", "f\xfcr Bonn.asf").encode("latin-1")
    (tmp_path / "m.amc").write_bytes(amc)
    (tmp_path / "m.amc.gz").write_bytes(gzip.compress(amc))
    for name in ("m.amc", "m.amc.gz"):
        motion = load_asf_amc(tmp_path / "s.asf", tmp_path / name, fps=120)
        assert motion.fps == 120.0 and motion.num_frames == 2 and motion.source.endswith(name)
        np.testing.assert_allclose(motion.positions[0], POSE_ENDS * INCH, atol=1e-12)
    skel = read_asf(tmp_path / "s.asf")
    assert read_amc(tmp_path / "m.amc.gz", skel)["c"].shape == (2, 2)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("asf", "match"),
    [
        (make_asf(hierarchy="root a c\n    a b\n    c d\n    b d"), "two parents"),
        (make_asf(hierarchy="root a\n    b c\n    c d\n    d b"), r"cycle in :hierarchy.*b, c, d"),
        (make_asf(hierarchy="root a c\n    a b zz\n    c d"), "unknown bone 'zz'"),
        (make_asf(hierarchy="root a c\n    a b"), r"no parent in :hierarchy: d"),
        (make_asf(hierarchy="root a c\n    a b\n    c d root"), "the root as a child"),
        (make_asf().replace(":bonedata", ":bonestuff"), "missing :bonedata"),
        (make_asf().replace(":root", ":base"), "missing :root"),
        (make_asf().split(":hierarchy")[0], "missing :hierarchy"),
        (make_asf().replace("length 2", "length two"), r"line \d+: bad number in bone length"),
        (make_asf().replace("direction 1 0 0", "direction nan 0 0"), "non-finite value in bone direction"),
        (make_asf().replace("axis 0 0 90", "axis 0 0 inf"), "non-finite value in bone axis"),
        (make_asf().replace("direction 1 0 0", "direction 1 0"), "bone direction needs 3"),
        (make_asf().replace("dof rz", "dof rz l"), "'l' .* not supported"),
        (make_asf().replace("dof rz", "dof rq"), "dof must be"),
        (make_asf().replace("name b", "name a"), "duplicate bone name 'a'"),
        (make_asf().replace("length 1.0", "length -1"), "must be positive"),
        (make_asf().replace("angle deg", "angle grad"), "deg or rad"),
        (make_asf().replace("XYZ", "XXZ", 2), "permutation of XYZ"),
        (make_asf()[: make_asf().index("  end")], "not closed"),  # truncated in :bonedata
    ],
)
def test_bad_asf(asf: str, match: str) -> None:
    """Every malformed skeleton gives one MocapFormatError line naming the problem."""
    with pytest.raises(MocapFormatError, match=match) as info:
        parse_asf(asf, source="bad.asf")
    assert str(info.value).startswith("bad.asf: ") and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("amc", "match"),
    [
        (make_amc([POSE, {k: v for k, v in POSE.items() if k != "b"}]), r"line 9: frame 2: missing bone\(s\) b"),
        (make_amc([POSE, {k: v for k, v in POSE.items() if k != "root"}]), r"frame 2: missing bone\(s\) root"),
        (make_amc([dict(POSE, zz="1")]), "frame 1: unknown bone 'zz'"),
        (make_amc([dict(POSE, d="1")]), "bone 'd' has no dofs but was given values"),
        (make_amc([dict(POSE, c="90")]), r"line 8: frame 1: bone 'c' has 1 value\(s\), expected 2"),
        (make_amc([dict(POSE, root="1 2 3 4 5 6 7")]), "bone 'root' has 7 value"),
        (make_amc([POSE]) + "b 1\n", "frame 1: bone 'b' given twice"),
        (make_amc([POSE]) + make_amc([POSE], header="", start=3).split("\n", 2)[2], "not consecutive: 3 after 1"),
        (make_amc([]), "no frames"),
        (":FULLY-SPECIFIED\n:DEGREES\n", "no frames"),
        ("a 1\n1\n", "data before the first frame"),
        (make_amc([REST, dict(POSE, c="90 nan")]), r"line \d+: frame 2: non-finite value for bone 'c'"),
        (make_amc([dict(POSE, a="inf")]), "frame 1: non-finite value for bone 'a'"),
        (make_amc([dict(POSE, a="9O")]), r"line \d+: frame 1: bad number for bone 'a': '9O'"),
    ],
)
def test_bad_amc(amc: str, match: str) -> None:
    """Every malformed motion gives one MocapFormatError line naming the problem and frame."""
    skel = parse_asf(make_asf())
    with pytest.raises(MocapFormatError, match=match) as info:
        parse_amc(amc, skel, source="bad.amc")
    assert str(info.value).startswith("bad.amc: ") and "\n" not in str(info.value)


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    """A gzip cut in half, a corrupt gzip and a truncated ASF: MocapFormatError naming the file."""
    (tmp_path / "s.asf").write_text(make_asf())
    packed = gzip.compress(make_amc([POSE] * 50).encode())
    (tmp_path / "half.amc.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "junk.amc.gz").write_bytes(b"\x1f\x8bnot really gzip")
    text = make_asf()
    (tmp_path / "cut.asf").write_text(text[: len(text) // 2])
    skel = read_asf(tmp_path / "s.asf")
    for name in ("half.amc.gz", "junk.amc.gz"):
        with pytest.raises(MocapFormatError, match=f"{name}: corrupt or truncated gzip"):
            read_amc(tmp_path / name, skel)
    with pytest.raises(MocapFormatError, match="cut.asf: "):
        read_asf(tmp_path / "cut.asf")
    with pytest.raises(FileNotFoundError):
        read_asf(tmp_path / "absent.asf")


@pytest.mark.parametrize("fps", [0, -1, float("nan"), float("inf"), "x"])
def test_bad_fps(tmp_path: Path, fps: object) -> None:
    """fps must be finite and positive (checked before reading anything)."""
    with pytest.raises(MocapFormatError, match="fps must be"):
        load_asf_amc(tmp_path / "none.asf", tmp_path / "none.amc", fps=fps)  # type: ignore[arg-type]
    skel = parse_asf(make_asf())
    with pytest.raises(MocapFormatError, match="fps must be"):
        amc_to_source(skel, parse_amc(make_amc([POSE]), skel), fps)  # type: ignore[arg-type]


def test_amc_to_source_checks_frames() -> None:
    """Frames built by hand are checked too: missing bones, wrong shapes, no frames."""
    skel = parse_asf(make_asf())
    frames = parse_amc(make_amc([POSE, REST]), skel)
    with pytest.raises(MocapFormatError, match="no values for 'b'"):
        amc_to_source(skel, {k: v for k, v in frames.items() if k != "b"}, 30)
    with pytest.raises(MocapFormatError, match="expected"):
        amc_to_source(skel, dict(frames, c=frames["c"][:, :1]), 30)
    with pytest.raises(MocapFormatError, match="different frame counts"):
        amc_to_source(skel, dict(frames, c=frames["c"][:1]), 30)
    with pytest.raises(MocapFormatError, match="no frames"):
        amc_to_source(skel, {k: v[:0] for k, v in frames.items()}, 30)


# ----------------------------------------------------------------------------- real HDM05 data

ACTORS = ("bd", "bk", "dg", "mm", "tr")
FEET = ("lfoot", "ltoes", "rfoot", "rtoes")
UP = np.array([0.0, 1.0, 0.0])  # HDM05 (VICON) files are Y up


@pytest.fixture(scope="module")
def hdm05(mocap_root: Path) -> Path:
    """../shared/data/mocap/hdm05; skips when absent."""
    root = mocap_root / "hdm05"
    if not (root / "asf").is_dir():
        pytest.skip(f"HDM05 not found at {root} (set RAMOTION_SHARED_DATA to the shared data folder)")
    return root


@functools.lru_cache(maxsize=None)
def _kick(root: Path, actor: str) -> tuple[ASFSkeleton, SourceMotion, Path]:
    """The actor's first kickLFront clip, read once per session."""
    clips = sorted((root / "amc").glob(f"*/HDM_{actor}_kickLFront1Reps_*_120.amc.gz"))
    assert clips, f"no kickLFront clip for {actor} under {root}"
    skel = read_asf(root / "asf" / f"HDM_{actor}.asf")
    return skel, load_asf_amc(root / "asf" / f"HDM_{actor}.asf", clips[0], fps=120), clips[0]


def _height(p: np.ndarray, names: list[str]) -> float:
    """Head end minus the lowest foot point, one frame (P, 3)."""
    y = p[:, 1]
    return float(y[names.index("head")] - min(y[names.index(f)] for f in FEET))


@pytest.mark.shared
@pytest.mark.parametrize("actor", ACTORS)
def test_hdm05_body(hdm05: Path, actor: str) -> None:
    """Constant bone lengths, a human height, feet on the floor, left on the left, and the
    left foot doing the kicking in kickLFront."""
    skel, motion, clip = _kick(hdm05, actor)
    names, pos = motion.names, motion.positions  # (T, 31, 3) metres
    assert names[0] == "root" and len(names) == 31 and motion.fps == 120.0 and motion.num_frames > 100
    assert np.all(np.isfinite(pos))
    # Bone lengths: constant over frames and equal to the ASF's, in metres.
    for name, bone in skel.bones.items():
        seg = np.linalg.norm(pos[:, names.index(name)] - pos[:, names.index(bone.parent)], axis=-1)
        expected = bone.length / skel.length_scale * INCH
        np.testing.assert_allclose(seg, expected, rtol=1e-6, atol=1e-12, err_msg=f"{actor} {name}")
    # Height: the rest pose (all dofs 0) and the first (standing) frame of the clip.
    rest = amc_to_source(skel, {k: np.zeros((1, n)) for k, n in skel.dof_counts().items()}, 120)
    assert 1.5 < _height(rest.positions[0], names) < 2.0
    assert 1.4 < _height(pos[0], names) < 2.0  # mm starts the kick slightly crouched (1.48 m)
    # Floor: y = 0 is the floor, and the clip starts standing on it.
    feet_y = pos[:, [names.index(f) for f in FEET], 1]  # (T, 4)
    assert abs(feet_y.min()) < 0.1
    assert feet_y[0].min() - feet_y.min() < 0.08
    # Left is left: facing the way the feet point, the left arm and hip are on the left.
    p0 = pos[0]
    forward = sum(p0[names.index(f"{s}toes")] - p0[names.index(f"{s}tibia")] for s in "lr")
    forward = forward - (forward @ UP) * UP
    forward /= np.linalg.norm(forward)
    left = np.cross(UP, forward)
    mid = p0[names.index("lowerback")]
    for side, sign in (("l", 1.0), ("r", -1.0)):
        assert sign * (p0[names.index(f"{side}humerus")] - mid) @ left > 0.1, f"{actor} {side}humerus"
        assert sign * (p0[names.index(f"{side}hipjoint")] - p0[0]) @ left > 0.03, f"{actor} {side}hipjoint"
    # Hips agree with the feet on where forward is (lhip -> rhip crossed with up... = forward).
    hips = p0[names.index("lhipjoint")] - p0[names.index("rhipjoint")]
    assert np.cross(hips, UP) @ forward > 0.5 * np.linalg.norm(hips)
    # kickLFront: the left toes rise far higher than the right ones, and kick forward.
    ly, ry = pos[:, names.index("ltoes"), 1], pos[:, names.index("rtoes"), 1]
    assert ly.max() > ry.max() + 0.3, f"{clip.name}: ltoes {ly.max():.2f} rtoes {ry.max():.2f}"
    t = int(ly.argmax())
    assert (pos[t, names.index("ltoes")] - pos[0, names.index("ltoes")]) @ forward > 0.3


@pytest.mark.shared
def test_hdm05_matches_an_independent_frame_chain(hdm05: Path) -> None:
    """The same frames through a differently written FK (scipy, chaining local frames as the CMU
    viewer does: G_child = G_parent C_parent^-1 C_child M_child, bone = G_child C_child^-1 d)."""
    skel, motion, _ = _kick(hdm05, "bd")
    frames = read_amc(_kick(hdm05, "bd")[2], skel)
    T = 20
    c = {n: Rotation.from_euler(b.axis_order.lower(), b.axis) for n, b in skel.bones.items()}
    c["root"] = Rotation.from_euler(skel.root_axis.lower(), skel.root_orientation)
    root = frames["root"][:T]
    assert skel.root_order == ("TX", "TY", "TZ", "RX", "RY", "RZ")
    g = {"root": c["root"] * Rotation.from_euler("xyz", root[:, 3:], degrees=True)}
    end = {"root": root[:, :3]}
    todo = list(skel.children["root"])
    while todo:
        name = todo.pop()
        bone = skel.bones[name]
        m = (
            Rotation.from_euler("".join(d[1] for d in bone.dof), frames[name][:T], degrees=True)
            if bone.dof
            else Rotation.identity(T)
        )
        g[name] = g[bone.parent] * c[bone.parent].inv() * c[name] * m
        end[name] = end[bone.parent] + (g[name] * c[name].inv()).apply(bone.direction * bone.length)
        todo.extend(skel.children[name])
    expected = np.stack([end[n] for n in motion.names], axis=1) * INCH / skel.length_scale
    np.testing.assert_allclose(motion.positions[:T], expected, atol=1e-9)


@pytest.mark.shared
def test_hdm05_truncated_gzip(hdm05: Path, tmp_path: Path) -> None:
    """A real clip cut in half (in tmp_path) is a one-line MocapFormatError, not an EOFError."""
    skel, _, clip = _kick(hdm05, "tr")
    cut = tmp_path / clip.name
    data = clip.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MocapFormatError, match="corrupt or truncated gzip"):
        read_amc(cut, skel)
