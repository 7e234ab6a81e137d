"""What every mocap reader returns: named points of the source skeleton over time.

A reader (BVH, ASF/AMC) turns a file into a `SourceMotion`: positions of the source's own
joints, in the file's units and axes. A preset (`mocap.presets`) then places the 22
HumanML3D joints from those points, converts units and the up axis, and the dataset
builder retargets the result as HumanML3D does. Keeping the readers ignorant of SMPL means
a user's own skeleton needs only a preset, never a new reader.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


# Bounds every reader enforces, so that a small file cannot declare an absurd motion (a frame
# time of 1e-320 s is infinite fps; 1e6 s per frame makes resampling to 20 fps allocate
# hundreds of GiB). MAX_FPS is the ceiling of `ramotion export --fps` (cli/export.py);
# MAX_FRAMES is over two hours at 120 fps, longer than any capture take. MAX_POINT_FRAMES
# bounds frames x points (joints and End Sites), what forward kinematics allocates (about
# 60-100 bytes each): a few-kB hierarchy of 1000 joints must not turn a 2 MB MOTION block
# into tens of GB. 5e7 is an hour at 120 fps of a 115-point skeleton.
MIN_FPS = 1.0
MAX_FPS = 1000.0
MAX_FRAMES = 1_000_000
MAX_POINT_FRAMES = 50_000_000


class MocapFormatError(ValueError):
    """A motion-capture file that cannot be read (corrupt, truncated or malformed)."""


def check_fps(fps: object, source: str) -> float:
    """fps as a float, or MocapFormatError (naming `source`) unless MIN_FPS <= fps <= MAX_FPS."""
    try:
        value = float(fps)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise MocapFormatError(f"{source}: fps must be a number, got {fps!r}") from None
    if not (math.isfinite(value) and MIN_FPS <= value <= MAX_FPS):
        raise MocapFormatError(f"{source}: fps must be between {MIN_FPS:g} and {MAX_FPS:g}, got {fps!r}")
    return value


def check_size(frames: int, points: int, source: str) -> None:
    """MocapFormatError (naming `source`) unless frames <= MAX_FRAMES and frames x points <=
    MAX_POINT_FRAMES: called by the readers before forward kinematics allocates."""
    if frames > MAX_FRAMES:
        raise MocapFormatError(f"{source}: {frames} frames is more than the {MAX_FRAMES} a motion may have")
    if frames * points > MAX_POINT_FRAMES:
        raise MocapFormatError(
            f"{source}: {frames} frames x {points} points is more than the {MAX_POINT_FRAMES} point-frames "
            "read at once; split the motion"
        )


@dataclass
class SourceMotion:
    """Positions of a source skeleton's named points.

    names: one per point (joint names; BVH End Sites are "<joint>_End").
    positions: (T, P, 3) float64 in the file's units and axes.
    fps: the motion's frame rate. source: where it came from, for messages.
    rest: (P, 3) the same points in the rest pose (all rotations zero), when the format has one.
    """

    names: list[str]
    positions: np.ndarray  # (T, P, 3)
    fps: float
    source: str = "<motion>"
    rest: np.ndarray | None = None  # (P, 3) the skeleton's rest pose where the format has one (BVH)

    def index(self, name: str) -> int:
        """Column of a point; KeyError naming the file and the known points when absent."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"{self.source} has no joint named {name!r} (it has: {', '.join(self.names)})") from None

    @property
    def num_frames(self) -> int:
        return int(self.positions.shape[0])


def read_text(path: str | os.PathLike, *, encoding: str = "utf-8", errors: str = "strict") -> str:
    """The text of a file, gunzipped when it ends in .gz.

    Raises FileNotFoundError for a missing file and MocapFormatError (one line naming the
    file) for a truncated or corrupt gzip stream or undecodable text.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}" if not p.exists() else f"not a file: {p}")
    try:
        raw = gzip.decompress(p.read_bytes()) if p.suffix.lower() == ".gz" else p.read_bytes()
    except (EOFError, OSError, zlib.error) as exc:  # gzip raises all three for damaged streams
        raise MocapFormatError(f"{p}: corrupt or truncated gzip file ({exc})") from None
    try:
        return raw.decode(encoding, errors=errors)
    except UnicodeDecodeError:
        raise MocapFormatError(f"{p}: not a text file (cannot decode as {encoding})") from None
