"""Stick-figure animations of a motion: matplotlib (Agg) frames written to MP4 or GIF.

One figure is built per motion and only its artists' data change from frame to frame
(bones, travelled root path, and the view window when the body walks out of it), so a
frame costs one canvas draw. MP4 goes through the ffmpeg binary that imageio-ffmpeg
ships (H.264, yuv420p, plays everywhere); GIF through Pillow.

Coordinates: motions are y-up (HumanML3D); matplotlib's 3D axes are z-up. A motion
point (x, y, z) is drawn at (x, -z, y), a proper rotation, so left stays left.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..io_utils import atomic_path
from ..skeleton import Skeleton, get_skeleton, skeleton_for_joint_count

LEFT_COLOR = "#1f77b4"  # blue: the body's left limbs
RIGHT_COLOR = "#d62728"  # red: the body's right limbs
CENTER_COLOR = "#333333"  # spine and head
TRAIL_COLOR = "#ff7f0e"  # root trajectory on the floor
FLOOR_COLOR = "#e8e8e8"
GRID_COLOR = "#bdbdbd"
FORMATS = (".mp4", ".gif")


def _to_plot(points: np.ndarray) -> np.ndarray:
    """y-up motion coordinates (..., 3) -> z-up plot coordinates (x, -z, y)."""
    return np.stack((points[..., 0], -points[..., 2], points[..., 1]), axis=-1)


def _grid_step(half: float) -> float:
    """Floor grid spacing: about half of the view's half-width, on a 1-2-5 scale (0.5 m for a
    human in metres; works for motions in other units too)."""
    target = half / 2.0
    base = 10.0 ** math.floor(math.log10(target))
    return base * min((1.0, 2.0, 5.0, 10.0), key=lambda m: abs(math.log(m * base / target)))


def _chain_color(chain: tuple[int, ...], skeleton: Skeleton) -> str:
    tail = set(chain[1:])
    if tail & set(skeleton.left):
        return LEFT_COLOR
    if tail & set(skeleton.right):
        return RIGHT_COLOR
    return CENTER_COLOR


def render_frames(
    joints: np.ndarray,
    caption: str | None = None,
    skeleton: str | Skeleton | None = None,
    *,
    size: int = 480,
    elev: float = 20.0,
    azim: float = -60.0,
) -> Iterator[np.ndarray]:
    """Yield one RGB image (size, size, 3) uint8 per frame of joints (T, J, 3), y up, metres."""
    # Imported here so that `import ramotion` does not pull in matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[-1] != 3:
        raise ValueError(f"joints must have shape (frames, joints, 3), got {joints.shape}")
    sk = get_skeleton(skeleton) if skeleton is not None else skeleton_for_joint_count(joints.shape[1])
    if joints.shape[1] != sk.num_joints:
        raise ValueError(f"{sk.name} needs {sk.num_joints} joints, got {joints.shape[1]}")
    if not np.isfinite(joints).all():
        raise ValueError("joints contain NaN or infinite values")
    if size < 64:
        raise ValueError(f"size must be at least 64 pixels, got {size}")

    pts = _to_plot(joints)  # (T, J, 3) plot coordinates, z up
    floor = float(pts[..., 2].min())
    root = pts[:, 0]  # (T, 3)
    height = float(pts[..., 2].max() - floor)
    half = max(1.0, 0.6 * height)  # half-width of the view window (metres)
    top = max(1.1 * height, 1.0)  # view window height above the floor (metres)
    lo, hi = root[:, :2].min(0), root[:, :2].max(0)
    follow = bool((hi - lo).max() > 1.5 * half)  # the path does not fit the view: follow the root
    centre = (lo + hi) / 2.0

    dpi = 100
    fig = Figure(figsize=(size / dpi, size / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 0.9 if caption else 1.0), projection="3d")
    ax.set_axis_off()
    ax.set_box_aspect((2.0 * half, 2.0 * half, top), zoom=1.2)  # equal metres on all axes
    # The floor is always below the body and the camera above the floor: draw in a fixed
    # order (matplotlib's depth sort by artist centroid would put the floor over the feet).
    ax.computed_zorder = False
    ax.view_init(elev=elev, azim=azim)
    if caption:
        fig.suptitle(textwrap.fill(caption, width=max(20, size // 9)), fontsize=9, y=0.985, va="top")

    # Static floor: a plane and a grid over the whole area the view window can reach.
    step = _grid_step(half)
    g_lo = np.floor((lo - half) / step) * step
    g_hi = np.ceil((hi + half) / step) * step
    corners = [
        (g_lo[0], g_lo[1], floor),
        (g_hi[0], g_lo[1], floor),
        (g_hi[0], g_hi[1], floor),
        (g_lo[0], g_hi[1], floor),
    ]
    ax.add_collection3d(Poly3DCollection([corners], facecolor=FLOOR_COLOR, edgecolor="none", zorder=0))
    segs = [((x, g_lo[1], floor), (x, g_hi[1], floor)) for x in np.arange(g_lo[0], g_hi[0] + step / 2, step)]
    segs += [((g_lo[0], y, floor), (g_hi[0], y, floor)) for y in np.arange(g_lo[1], g_hi[1] + step / 2, step)]
    ax.add_collection3d(Line3DCollection(segs, colors=GRID_COLOR, linewidths=0.6, zorder=1))

    # Root trajectory on the floor: the whole path faint, the travelled part bold.
    ax.plot(root[:, 0], root[:, 1], np.full(len(root), floor), color=TRAIL_COLOR, alpha=0.25, linewidth=1.0, zorder=2)
    (trail,) = ax.plot([], [], [], color=TRAIL_COLOR, linewidth=2.0, zorder=3)
    bones = []
    for chain in sk.chains:
        color = _chain_color(chain, sk)
        width = 3.0 if color == CENTER_COLOR else 2.5
        (line,) = ax.plot(
            [], [], [], color=color, linewidth=width, marker="o", markersize=2.5, solid_capstyle="round", zorder=4
        )
        bones.append((line, list(chain)))

    # Frame counter (also keeps every GIF frame distinct: Pillow merges identical ones).
    counter = fig.text(0.98, 0.015, "", ha="right", va="bottom", fontsize=7, color="#777777")

    def set_window(cx: float, cy: float) -> None:
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy - half, cy + half)
        ax.set_zlim(floor, floor + top)

    set_window(*centre)
    floor_z = np.full(len(root), floor)
    for t in range(len(pts)):
        for line, chain in bones:
            p = pts[t, chain]  # (len(chain), 3)
            line.set_data_3d(p[:, 0], p[:, 1], p[:, 2])
        trail.set_data_3d(root[: t + 1, 0], root[: t + 1, 1], floor_z[: t + 1])
        counter.set_text(f"{t + 1}/{len(pts)}")
        if follow:
            set_window(root[t, 0], root[t, 1])
        canvas.draw()
        yield np.asarray(canvas.buffer_rgba())[..., :3].copy()


def render_motion(
    joints: np.ndarray,
    path: str | os.PathLike,
    caption: str | None = None,
    fps: float | None = None,
    skeleton: str | Skeleton | None = None,
    *,
    size: int = 480,
) -> int:
    """Render joints (T, J, 3) to an .mp4 or .gif at `path`, atomically; returns the frame count.

    fps defaults to the skeleton's (20 for HumanML3D, 12.5 for KIT-ML). size is the
    square frame's width in pixels (rounded up to a multiple of 16 for the video codec).
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"unknown output format {suffix or '(none)'!r} for {out}: expected .mp4 or .gif")
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[-1] != 3:
        raise ValueError(f"joints must have shape (frames, joints, 3), got {joints.shape}")
    sk = get_skeleton(skeleton) if skeleton is not None else skeleton_for_joint_count(joints.shape[1])
    fps = float(sk.fps if fps is None else fps)
    if not (math.isfinite(fps) and 0 < fps <= 1000):
        raise ValueError(f"fps must be a positive number (at most 1000), got {fps}")
    size = int(math.ceil(size / 16) * 16)
    frames = render_frames(joints, caption, sk, size=size)
    with atomic_path(out) as tmp:
        if suffix == ".mp4":
            count = _write_mp4(frames, tmp, fps, size)
        else:
            count = _write_gif(frames, tmp, fps)
    return count


def _write_mp4(frames: Iterator[np.ndarray], path: Path, fps: float, size: int) -> int:
    """Encode RGB frames (size, size, 3) uint8 with the ffmpeg binary of imageio-ffmpeg; raise
    OSError when ffmpeg fails (a full disk, a read-only folder), with its own message.

    Hand-written around the binary: imageio-ffmpeg's `write_frames` never reports ffmpeg's
    exit status, so a failed write (an unplayable file) would pass as a success."""
    import subprocess

    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-vcodec", "rawvideo",
        "-s", f"{size}x{size}", "-pix_fmt", "rgb24", "-r", f"{fps:.6f}", "-i", "-",
        "-an", "-vcodec", "libx264", "-pix_fmt", "yuv420p", "-crf", "15", "-movflags", "+faststart", "-f", "mp4", str(path),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    count = 0
    try:
        for frame in frames:
            proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
            count += 1
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped early: its exit status and message say why
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = proc.stderr.read().decode("utf-8", "replace").strip()
    if proc.wait() != 0 or count == 0:
        last = err.splitlines()[-1] if err else f"exit status {proc.returncode}"
        raise OSError(f"ffmpeg could not write {path.name}: {last}")
    return count


def _write_gif(frames: Iterator[np.ndarray], path: Path, fps: float) -> int:
    from PIL import Image

    # Palette images (1 byte per pixel) keep memory low for long motions.
    images = [Image.fromarray(f).quantize(colors=64, method=Image.Quantize.FASTOCTREE) for f in frames]
    images[0].save(
        path, format="GIF", save_all=True, append_images=images[1:], duration=1000.0 / fps, loop=0, optimize=False
    )
    return len(images)
