"""Stick-figure rendering (issue 2, item 5): frames, MP4 and GIF files, real sample 000000."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from ramotion.mocap.loading import load_motion
from ramotion.skeleton import HUMANML3D, KIT
from ramotion.viz import render as R
from ramotion.viz import render_frames, render_motion


def standing_motion(T: int = 24, joints: int = 22, walk: float = 0.0) -> np.ndarray:
    """A body that stands on the floor and raises its left arm (joints on the reference offsets)."""
    sk = HUMANML3D if joints == 22 else KIT
    if sk is HUMANML3D:
        offsets = sk.offsets()
    else:  # KIT has no built-in lengths: 15 cm bones along the raw directions
        offsets = np.asarray(sk.raw_offsets, dtype=float) * 0.15
    pose = np.zeros((sk.num_joints, 3))
    for j, p in enumerate(sk.parents):
        if p >= 0:
            pose[j] = pose[p] + offsets[j]
    pose[:, 1] -= pose[:, 1].min()
    motion = np.repeat(pose[None], T, axis=0)
    motion[:, :, 2] += np.linspace(0.0, walk, T)[:, None]
    hand = sk.chains[-1][-1]
    motion[:, hand, 1] += np.linspace(0.0, 0.5, T)
    return motion


def color_pixels(frame: np.ndarray, hex_color: str) -> int:
    """How many pixels are close to a colour."""
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(frame.astype(int) - rgb).sum(-1) < 40).sum())


def decoded_mp4_frames(path: Path) -> tuple[int, tuple[int, int]]:
    """Decode every frame of an MP4 with ffmpeg; return (count, (width, height))."""
    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    return sum(1 for _ in gen), tuple(meta["size"])


def test_frames_show_floor_figure_and_both_sides() -> None:
    frames = list(render_frames(standing_motion(T=6), caption="raises the left arm", size=160))
    assert len(frames) == 6
    assert all(f.shape == (160, 160, 3) and f.dtype == np.uint8 for f in frames)
    first, last = frames[0], frames[-1]
    assert color_pixels(first, R.LEFT_COLOR) > 20 and color_pixels(first, R.RIGHT_COLOR) > 20
    assert color_pixels(first, R.CENTER_COLOR) > 10 and color_pixels(first, R.FLOOR_COLOR) > 500
    assert not np.array_equal(first, last)  # the arm moved


def test_left_is_drawn_on_the_viewers_right_for_a_body_facing_the_camera() -> None:
    """A proper rotation from y-up to z-up: no mirror image. The body faces +z; the camera looks
    at it from the front (azim -90), so its left side (+x) must appear on the image's right."""
    frame = next(render_frames(standing_motion(T=2), size=160, azim=-90.0, elev=0.0))
    cols_left = np.nonzero((np.abs(frame.astype(int) - [0x1F, 0x77, 0xB4]).sum(-1) < 40).any(0))[0]
    cols_right = np.nonzero((np.abs(frame.astype(int) - [0xD6, 0x27, 0x28]).sum(-1) < 40).any(0))[0]
    assert cols_left.mean() > 80 > cols_right.mean()


def test_mp4_and_gif_decode_with_the_right_frame_count(tmp_path: Path) -> None:
    motion = standing_motion(T=30)
    n = render_motion(motion, tmp_path / "a.mp4", caption="test", size=128)
    assert n == 30
    assert decoded_mp4_frames(tmp_path / "a.mp4") == (30, (128, 128))
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "a.mp4"))[1] == pytest.approx(1.5, abs=0.06)
    n = render_motion(motion, tmp_path / "a.gif", size=100, fps=12.5)  # size rounds up to 112
    with Image.open(tmp_path / "a.gif") as gif:
        assert (n, gif.n_frames, gif.size, gif.info["duration"]) == (30, 30, (112, 112), 80)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif", "a.mp4"]  # no temporaries left


def test_kit_motion_and_a_long_walk_render(tmp_path: Path) -> None:
    """21-joint KIT-ML motions render at their 12.5 fps; a walk longer than the view is followed."""
    n = render_motion(standing_motion(T=20, joints=21), tmp_path / "kit.gif", size=96)
    with Image.open(tmp_path / "kit.gif") as gif:
        assert n == gif.n_frames == 20 and gif.info["duration"] == 80
    walk = standing_motion(T=12, walk=8.0)
    frames = list(render_frames(walk, size=128))
    # Followed: the body is on screen in the last frame as in the first.
    for f in (frames[0], frames[-1]):
        assert color_pixels(f, R.CENTER_COLOR) > 10


def test_real_sample_000000_to_mp4_and_gif(h3d_samples: Path, tmp_path: Path) -> None:
    """The real left-leg kick, full length, from its features: both files decode with 116 frames."""
    motion = load_motion(h3d_samples / "new_joint_vecs" / "000000.npy")
    assert motion.kind == "features" and motion.joints.shape == (116, 22, 3)
    caption = "a man kicks something or someone with his left leg."
    assert render_motion(motion.joints, tmp_path / "kick.mp4", caption=caption) == 116
    count, size = decoded_mp4_frames(tmp_path / "kick.mp4")
    assert count == 116 and size == (480, 480)
    assert render_motion(motion.joints, tmp_path / "kick.gif", caption=caption, size=240) == 116
    with Image.open(tmp_path / "kick.gif") as gif:
        assert gif.n_frames == 116 and gif.info["duration"] == 50


def test_bad_input_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    good = standing_motion(T=4)
    nan = good.copy()
    nan[1, 2, 0] = np.inf
    cases = [
        (lambda: render_motion(good, tmp_path / "a.avi"), "unknown output format '.avi'"),
        (lambda: render_motion(nan, tmp_path / "a.mp4"), "NaN or infinite"),
        (lambda: render_motion(good, tmp_path / "a.mp4", fps=0), "fps must be a positive number"),
        (lambda: render_motion(good[:, :20], tmp_path / "a.gif"), "unknown joint count 20"),
        (lambda: list(render_frames(good[..., :2])), r"shape \(frames, joints, 3\)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(FileNotFoundError):
        render_motion(good, tmp_path / "missing" / "a.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_mid_render_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = R.render_frames

    def failing(*args, **kwargs):
        for k, frame in enumerate(real(*args, **kwargs)):
            if k == 3:
                raise RuntimeError("boom")
            yield frame

    monkeypatch.setattr(R, "render_frames", failing)
    for name in ("a.mp4", "a.gif"):
        with pytest.raises(RuntimeError, match="boom"):
            render_motion(standing_motion(T=8), tmp_path / name, size=64)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to stand in for a full disk")
def test_a_failed_mp4_write_is_an_error_not_a_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """ffmpeg's exit status is checked: on a full disk (/dev/full) `ramotion render` and
    `generate` print one line, exit non-zero and leave no file (issue 21)."""
    from contextlib import contextmanager

    from ramotion.cli import main

    @contextmanager
    def full_disk(path):  # noqa: ANN001, ANN202 - stands in for io_utils.atomic_path
        yield Path("/dev/full")

    with pytest.raises(OSError, match="ffmpeg could not write"):
        R._write_mp4(iter([np.zeros((64, 64, 3), np.uint8)] * 3), Path("/dev/full"), 20.0, 64)
    monkeypatch.setattr(R, "atomic_path", full_disk)
    src = tmp_path / "m.npy"
    np.save(src, standing_motion(T=8).astype(np.float32))
    out = tmp_path / "out.mp4"
    assert main(["render", str(src), "-o", str(out), "--size", "64"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ffmpeg could not write" in err[0], err
    assert not out.exists()


def test_motions_in_other_units_look_the_same() -> None:
    """Nothing assumes metres beyond a minimum view size: millimetres render like metres."""
    metres = standing_motion(T=2, walk=0.3) * 1.2  # tall enough to be above the minimum view
    a = next(render_frames(metres, size=96))
    b = next(render_frames(metres * 1000.0, size=96))
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 1.0
