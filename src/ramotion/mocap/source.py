"""What every mocap reader returns: named points of the source skeleton over time.

A reader (BVH, ASF/AMC) turns a file into a `SourceMotion`: positions of the source's own
joints, in the file's units and axes. A preset (`mocap.presets`) then places the 22
HumanML3D joints from those points, converts units and the up axis, and the dataset
builder retargets the result as HumanML3D does. Keeping the readers ignorant of SMPL means
a user's own skeleton needs only a preset, never a new reader.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class MocapFormatError(ValueError):
    """A motion-capture file that cannot be read (corrupt, truncated or malformed)."""


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
