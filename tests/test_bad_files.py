"""Bad motion files and bad features_to_joints input: one clear error naming the problem, never
an IndexError, a MemoryError, a multi-GB allocation or garbage passed on silently ("Never lie
about success"). Each test reproduces a defect found in the parsers; the comment says what
happened before."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.data.layout import load_npy as layout_load_npy
from ramotion.io_utils import load_npy_checked
from ramotion.mocap import bvh as BF
from ramotion.mocap import export as BE
from ramotion.mocap.asf_amc import amc_to_source, load_asf_amc, parse_amc, parse_asf
from ramotion.mocap.source import MAX_FPS, MAX_FRAMES, MAX_POINT_FRAMES, MIN_FPS, MocapFormatError
from ramotion.motion.features import features_to_joints, joints_to_features
from ramotion.mocap.loading import load_motion

from .test_asf_amc import BONES, POSE, REST, make_amc, make_asf
from .test_bvh import rigid_motion

GOOD = BE.motion_to_bvh(rigid_motion(T=3)).to_text()

# ----------------------------------------------------------------------------- BVH


def test_bvh_ending_right_after_motion() -> None:
    """Before: IndexError (the 'Frames:' error was caught as a ValueError and re-raised with a
    missing line)."""
    text = GOOD.split("MOTION")[0] + "MOTION\n"
    with pytest.raises(BF.BVHFormatError, match=r"x\.bvh: line \d+: expected 'Frames:' after MOTION$"):
        BF.parse_bvh(text, "x.bvh")
    with pytest.raises(BF.BVHFormatError, match="expected 'Frame Time:' after MOTION"):
        BF.parse_bvh(text + "Frames: 3\n", "x.bvh")


def tiny_bvh(frames: str, frame_time: str = "0.05", channels: str = "0") -> str:
    """A one-joint BVH with no MOTION rows."""
    return (
        f"HIERARCHY\nROOT Hips\n{{\n\tOFFSET 0 0 0\n\tCHANNELS {channels}\n\tEnd Site\n\t{{\n\t\tOFFSET 0 1 0\n\t}}\n}}\n"
        f"MOTION\nFrames: {frames}\nFrame Time: {frame_time}\n"
    )


def test_bvh_declaring_a_huge_motion_in_a_few_bytes(tmp_path: Path) -> None:
    """Before: a 94-byte file with 0 channels and 'Frames: 100000000' parsed (0 numbers = 1e8 x 0)
    and forward kinematics allocated 5.6 GB. Now the frame count is bounded (MAX_FRAMES), a file
    with frames but no channels is refused, and frames x joints is bounded before FK."""
    path = tmp_path / "huge.bvh"
    path.write_text("HIERARCHY\nROOT Hips\n{\n\tOFFSET 0 0 0\n\tCHANNELS 0\n}\nMOTION\nFrames: 100000000\nFrame Time: 0.0333333\n")
    assert path.stat().st_size < 100
    with pytest.raises(BF.BVHFormatError, match=rf"huge\.bvh: line 8: 'Frames: 100000000' is more than the {MAX_FRAMES} frames a BVH may have$"):
        BF.read_bvh(path)
    with pytest.raises(BF.BVHFormatError, match="'Frames: 5' but the hierarchy declares no channels, so no frame holds any value"):
        BF.parse_bvh(tiny_bvh("5"), "x.bvh")
    with pytest.raises(BF.BVHFormatError, match="more than the 1000000 frames"):
        BF.parse_bvh(tiny_bvh("9" * 5000), "x.bvh")  # not int()'s digit-limit error
    with pytest.raises(BF.BVHFormatError, match="'Frames:' needs an integer, got '1_000'"):
        BF.parse_bvh(tiny_bvh("1_000"), "x.bvh")
    # Many joints with one channel: frames x points is bounded before any number is read.
    joints = "".join(f"\tJOINT j{k}\n\t{{\n\t\tOFFSET 0 1 0\n\t\tCHANNELS 0\n\t}}\n" for k in range(60))
    text = tiny_bvh(str(MAX_FRAMES), channels="1 Xposition").replace("\tEnd Site", joints + "\tEnd Site")
    with pytest.raises(BF.BVHFormatError, match=rf"{MAX_FRAMES} frames x 62 joints and End Sites is more than the {MAX_POINT_FRAMES} point-frames"):
        BF.parse_bvh(text, "x.bvh")
    # A count that the numbers do not match is still refused (the numbers are read first).
    with pytest.raises(BF.BVHFormatError, match="the MOTION block has 0 numbers; 1000 frames x 1 channels needs 1000"):
        BF.parse_bvh(tiny_bvh("1000", channels="1 Xposition"), "x.bvh")
    # Zero frames of a zero-channel skeleton is an empty motion, as before.
    assert BF.parse_bvh(tiny_bvh("0"), "x.bvh").num_frames == 0


@pytest.mark.parametrize("frame_time", ["1e-320", "1e6", "0.0005", "2", "1e-5"])
def test_bvh_absurd_frame_time(frame_time: str) -> None:
    """Before: 1e-320 gave fps = inf and 1e6 gave 1e-6 fps (resampling to 20 fps then allocated
    291 GiB). Now the frame time must be 1/MAX_FPS .. 1/MIN_FPS s (1 to 1000 fps; 1000 is
    `ramotion export --fps`'s ceiling)."""
    with pytest.raises(BF.BVHFormatError, match=rf"line 13: Frame Time {frame_time} s is outside 0\.001\.\.1 s \(1 to 1000 fps\)$"):
        BF.parse_bvh(tiny_bvh("0", frame_time), "x.bvh")


@pytest.mark.parametrize("fps", [MIN_FPS, 20.0, 120.0, MAX_FPS])
def test_bvh_fps_bounds_are_readable(tmp_path: Path, fps: float) -> None:
    """What `ramotion export` writes at the bounds reads back with the same fps."""
    path = tmp_path / "m.bvh"
    BE.export_bvh(rigid_motion(T=4), path, fps=fps)
    assert BF.read_bvh(path).fps == pytest.approx(fps, rel=1e-6)


def test_bvh_overflowing_offsets() -> None:
    """Finite offsets whose forward kinematics overflows: refused instead of inf positions."""
    motion = BF.parse_bvh(re.sub(r"OFFSET [^\n]*", "OFFSET 1e308 1e308 1e308", GOOD), "x.bvh")
    with pytest.raises(BF.BVHFormatError, match="x.bvh: its offsets and positions are too large"):
        BF.bvh_source(motion, "x.bvh")


def test_valid_bvh_unchanged() -> None:
    """A valid file parses as before: same values, frame time and text."""
    motion = BF.parse_bvh(GOOD, "x.bvh")
    assert motion.num_frames == 3 and motion.fps == pytest.approx(20.0)
    assert motion.to_text() == GOOD


# ----------------------------------------------------------------------------- .npy


def huge_npy(path: Path, shape: tuple[int, ...] = (10**6, 10**6), dtype: str = "<f8") -> None:
    """A .npy whose header declares `shape` followed by 64 bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    path.write_bytes(buf.getvalue() + bytes(64))


@pytest.mark.parametrize("loader", [load_motion, layout_load_npy, load_npy_checked])
def test_npy_header_declaring_a_huge_shape(tmp_path: Path, loader) -> None:
    """Before: a 192-byte file declaring (1e6, 1e6) float64 raised MemoryError (np.load sized
    the array from the header). Now the declared bytes are checked against the file first."""
    path = tmp_path / "huge.npy"
    huge_npy(path)
    assert path.stat().st_size == 192
    with pytest.raises(
        ValueError,
        match=r"huge\.npy: a damaged \.npy file \(its header declares shape \(1000000, 1000000\) of float64, "
        r"8000000000000 bytes, but only 64 bytes of data follow\)$",
    ):
        loader(path)


def test_npy_refuses_pickles_and_bad_headers(tmp_path: Path) -> None:
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="objects.npy: it holds Python objects"):
        layout_load_npy(tmp_path / "objects.npy")
    (tmp_path / "header.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}\n" + bytes(16))
    with pytest.raises(ValueError, match="header.npy: a damaged .npy file"):
        layout_load_npy(tmp_path / "header.npy")
    with pytest.raises(FileNotFoundError, match="no such file"):
        layout_load_npy(tmp_path / "missing.npy")


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_npy_valid_files_load_as_before(tmp_path: Path, version: tuple[int, int]) -> None:
    """C and Fortran order, both header versions, an empty array: the same array as np.load."""
    for k, arr in enumerate([np.arange(40.0).reshape(5, 8), np.asfortranarray(np.ones((4, 263), np.float32)), np.zeros((0, 22, 3))]):
        path = tmp_path / f"a{k}.npy"
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
        back = layout_load_npy(path)
        np.testing.assert_array_equal(back, np.load(path))
        assert back.dtype == arr.dtype and back.shape == arr.shape


# ----------------------------------------------------------------------------- features_to_joints

FEATURES = joints_to_features(rigid_motion(T=6)).astype(np.float32)  # (5, 263)


def test_features_lengths_must_match_the_batch() -> None:
    """Before: lengths of the wrong size broadcast (RuntimeError, or a silently wrong shape
    when one length was given for a batch of several)."""
    batch = np.stack([FEATURES, FEATURES, FEATURES])
    with pytest.raises(ValueError, match=r"lengths must have shape \(3,\), one per motion of the batch, got \(2,\)$"):
        features_to_joints(batch, lengths=[5, 4])
    with pytest.raises(ValueError, match=r"lengths must have shape \(3,\), one per motion of the batch, got \(1,\)$"):
        features_to_joints(batch, lengths=[5])
    with pytest.raises(ValueError, match=r"got \(3, 1\)"):
        features_to_joints(batch, lengths=np.full((3, 1), 5))
    with pytest.raises(ValueError, match=r"lengths must be between 0 and 5 frames, got -1\.\.6$"):
        features_to_joints(batch, lengths=[6, -1, 3])
    with pytest.raises(TypeError, match="lengths must be integers \\(frames per motion\\), got dtype torch.float32"):
        features_to_joints(torch.as_tensor(batch), lengths=torch.tensor([5.0, 4.0, 3.0]))
    with pytest.raises(ValueError, match="lengths needs batched features"):
        features_to_joints(FEATURES, lengths=[5])
    out = features_to_joints(batch, lengths=np.array([5, 2, 0]))
    assert out.shape == (3, 5, 22, 3) and not out[1, 2:].any() and not out[2].any()
    np.testing.assert_array_equal(out[0], features_to_joints(FEATURES))


def test_features_skeleton_must_be_a_name_or_a_skeleton() -> None:
    """Before: AttributeError ('int' object has no attribute 'lower')."""
    with pytest.raises(TypeError, match=r"skeleton must be a name \('humanml3d', 'kit'\) or a Skeleton, got int 22$"):
        features_to_joints(FEATURES, 22)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown skeleton 'smpl'"):
        features_to_joints(FEATURES, "smpl")


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (FEATURES.astype(np.complex64), r"features must be a real-valued array \(float or int\), got dtype complex64"),
        (FEATURES > 0, r"features must be a real-valued array \(float or int\), got dtype bool"),
        (FEATURES.astype(str), r"features must be a real-valued array \(float or int\), got dtype <U"),
        (FEATURES.astype(object), r"features must be a real-valued array \(float or int\), got dtype object"),
        (torch.as_tensor(FEATURES).to(torch.complex64), "got a tensor of dtype torch.complex64"),
        (torch.as_tensor(FEATURES) > 0, "got a tensor of dtype torch.bool"),
    ],
)
def test_features_must_be_real_numbers(features: object, message: str) -> None:
    """Before: complex (imaginary part dropped), bool and numeric strings were converted and
    recovered as if they were features."""
    with pytest.raises(TypeError, match=message):
        features_to_joints(features)  # type: ignore[arg-type]


def test_features_with_nan_or_overflow() -> None:
    """Before: NaN passed through to the joints (or vanished, in the columns recovery does not
    read) silently."""
    bad = FEATURES.copy()
    bad[2, 5] = np.nan
    with pytest.raises(ValueError, match=r"^features contain 1 NaN or infinite values \(first at frame 2, dim 5\)$"):
        features_to_joints(bad)
    unread = FEATURES.copy()
    unread[3, 200] = np.inf  # a 6D-rotation column: recovery ignores it, the check does not
    with pytest.raises(ValueError, match=r"first at frame 3, dim 200"):
        features_to_joints(unread)
    batch = torch.as_tensor(np.stack([FEATURES, bad]))
    with pytest.raises(ValueError, match=r"first at motion 1, frame 2, dim 5"):
        features_to_joints(batch)
    huge = FEATURES.copy()
    huge[:, 1] = 3e38  # finite float32, but the integrated root overflows
    with pytest.raises(ValueError, match=r"^features too large for torch.float32: the recovered joint positions overflow$"):
        features_to_joints(huge)


def test_features_to_joints_keeps_ints_and_gradients() -> None:
    """Integer features are still converted; tensors stay differentiable."""
    assert features_to_joints(np.zeros((3, 263), dtype=np.int32)).shape == (3, 22, 3)
    x = torch.as_tensor(FEATURES).clone().requires_grad_(True)
    features_to_joints(x).sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


# ----------------------------------------------------------------------------- ASF/AMC


def test_amc_frame_numbers_that_int_refuses() -> None:
    """Before: ValueError from int() ('invalid literal ... '²'' for a non-ASCII digit that
    str.isdigit accepts; 'Exceeds the limit (4300 digits)' for a huge frame number)."""
    skel = parse_asf(make_asf())
    amc = make_amc([POSE, REST])
    with pytest.raises(MocapFormatError, match=r"^x\.amc: line 9: frame 1: unknown bone '²'$"):
        parse_amc(amc.replace("\n2\n", "\n\u00b2\n"), skel, "x.amc")
    with pytest.raises(MocapFormatError, match=r"^x\.amc: line 4: frame number 99999999999999999999\.\.\. is too large$"):
        parse_amc(amc.replace("\n1\n", "\n" + "9" * 5000 + "\n"), skel, "x.amc")


def test_amc_overflowing_positions() -> None:
    """Before: a `:units length 1e-320` skeleton gave infinite positions silently."""
    skel = parse_asf(make_asf(length="1e-320"), "x.asf")
    with pytest.raises(MocapFormatError, match=r"^x\.amc: lengths, positions or translations too large for x\.asf \(bone end points overflow\)$"):
        amc_to_source(skel, parse_amc(make_amc([POSE]), skel), 120.0, "x.amc")


def test_asf_direction_whose_square_overflows() -> None:
    """Before: direction '1e200 0 0' (norm inf) became a zero vector, the bone vanished
    silently. Now it is normalised like '1 0 0'."""
    huge = make_asf(bones={**BONES, "a": ("1e200 0 0", 2, "0 0 0", "rz")})
    tiny = make_asf(bones={**BONES, "a": ("1e-200 0 0", 2, "0 0 0", "rz")})
    ref = parse_asf(make_asf()).bones["a"].direction
    np.testing.assert_array_equal(parse_asf(huge).bones["a"].direction, ref)
    np.testing.assert_array_equal(parse_asf(tiny).bones["a"].direction, ref)


def test_asf_amc_truncated_anywhere() -> None:
    """Every truncation of the ASF and of the AMC parses or is a one-line MocapFormatError."""
    asf, amc = make_asf(), make_amc([POSE, REST])
    for which, text in (("asf", asf), ("amc", amc)):
        for k in range(len(text) + 1):
            a, m = (text[:k], amc) if which == "asf" else (asf, text[:k])
            try:
                skel = parse_asf(a, "x.asf")
                amc_to_source(skel, parse_amc(m, skel, "x.amc"), 120.0, "x.amc")
            except MocapFormatError as exc:
                assert "\n" not in str(exc)


@pytest.mark.parametrize("fps", [0.5, 1e-6, 1001.0, 1e300])
def test_amc_fps_bounds(tmp_path: Path, fps: float) -> None:
    """The caller's AMC frame rate has the same bounds as a BVH's (1 to 1000 fps)."""
    with pytest.raises(MocapFormatError, match=rf"fps must be between 1 and 1000, got {re.escape(repr(fps))}$"):
        load_asf_amc(tmp_path / "none.asf", tmp_path / "none.amc", fps=fps)
