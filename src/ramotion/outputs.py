"""Generated motions and the files they are written to.

`Motion` is one generated motion (its features, what made it, its foot cleanup) and
`Motion.joints` is what every output shows and writes; `MotionBatch` holds the motions of
one pipeline call. `Motion.save` writes .npy / .bvh / .mp4 / .gif by extension.

`check_output_path` is the one check of an output path (a known extension, an existing
writable folder, not a folder itself): the pipeline and every CLI verb that writes a file
use it, so its rules and messages live here only.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .skeleton import Skeleton

if TYPE_CHECKING:  # motion/ imports torch: it is imported where a motion's joints are computed
    from .motion.cleanup import CleanupConfig

OUTPUT_FORMATS = (".npy", ".bvh", ".mp4", ".gif")
BVH_MEAN_TOLERANCE, BVH_MAX_TOLERANCE = 0.005, 0.02  # m: a BVH further than this from its motion gets a warning


def check_output_path(path: str | os.PathLike, formats: Sequence[str] = OUTPUT_FORMATS) -> Path:
    """A known extension (`formats`, default .npy/.bvh/.mp4/.gif) and an existing, writable folder, or a one-line error."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in formats:
        raise ValueError(f"unknown output extension {suffix or '(none)'!r} for {out}: expected one of {', '.join(formats)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        what = "is a file, not a folder" if parent.exists() else "does not exist"
        raise FileNotFoundError(f"cannot write {out}: folder {parent} {what}")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"cannot write {out}: folder {parent} is not writable")
    if out.is_dir():
        raise IsADirectoryError(f"cannot write {out}: it is a folder")
    return out


@dataclass
class Motion:
    """One generated motion: raw (de-normalised) features (L, D), what made it, and the foot
    cleanup its joints get (None: the joints are the features' own)."""

    prompt: str
    features: np.ndarray  # (L, D) float32, the dataset's feature space (not normalised)
    seed: int
    skeleton: Skeleton
    cleanup: CleanupConfig | None = None
    _joints: np.ndarray | None = field(default=None, repr=False)

    @property
    def fps(self) -> float:
        return float(self.skeleton.fps)

    @property
    def num_frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps

    @property
    def raw_joints(self) -> np.ndarray:
        """(L, J, 3) float32 joint positions recovered from the features (y up, metres), uncleaned."""
        from .motion.features import features_to_joints

        return np.asarray(features_to_joints(self.features, self.skeleton), dtype=np.float32)

    @property
    def joints(self) -> np.ndarray:
        """(L, J, 3) float32 joint positions (y up, metres): what every output shows and writes
        (video, web viewer, .npy, BVH) -- the features' joints, after `cleanup` when it is set
        (`ramotion.motion.cleanup`: jitter filtered, rigid bones, on the floor, planted feet held)."""
        if self._joints is None:
            from .motion.cleanup import clean_motion

            raw = self.raw_joints
            self._joints = raw if self.cleanup is None else clean_motion(raw, self.skeleton, config=self.cleanup).astype(np.float32)
        return self._joints

    def save(self, path: str | os.PathLike, *, npy: str = "joints", size: int = 480, fps: float | None = None) -> Path:
        """Write the motion by extension, atomically: .npy (joints (L, J, 3), or the features
        with npy="features"), .bvh (animation file), .mp4 / .gif (stick-figure video).

        fps: resample the joints to this frame rate first (same duration); None keeps the
        model's. Features are the model's representation and are never resampled.
        """
        out = check_output_path(path)
        suffix = out.suffix.lower()
        if npy not in ("joints", "features"):
            raise ValueError(f"npy content must be 'joints' or 'features', got {npy!r}")
        if fps is not None and suffix == ".npy" and npy == "features":
            raise ValueError("fps resamples joints; features keep the model's frame rate (save joints, or leave fps out)")
        joints, rate = self.joints, self.fps
        if fps is not None and abs(fps - self.fps) > 1e-9:
            from .motion.resample import resample

            joints, rate = resample(self.joints, self.fps, fps).astype(np.float32), float(fps)  # (L', J, 3)
        if suffix == ".npy":
            from .io_utils import save_npy

            save_npy(out, joints if npy == "joints" else self.features.astype(np.float32))
        elif suffix == ".bvh":
            from .mocap.export import deviation, export_bvh

            dev = deviation(export_bvh(joints, out, self.skeleton, fps=rate), joints)
            if dev.mean() > BVH_MEAN_TOLERANCE or dev.max() > BVH_MAX_TOLERANCE:
                warnings.warn(
                    f"{out}: the BVH differs from the motion by {dev.mean() * 100:.2f} cm on average (max {dev.max() * 100:.2f} cm): "
                    "its bones stretch from frame to frame and a BVH has one length per bone (the foot cleanup makes them rigid)",
                    stacklevel=2,
                )
        else:
            from .viz.render import render_motion

            render_motion(joints, out, caption=self.prompt, fps=rate, skeleton=self.skeleton, size=size)
        return out


class MotionBatch(Sequence[Motion]):
    """The motions of one pipeline call, in prompt order."""

    def __init__(self, motions: list[Motion]) -> None:
        self.motions = motions

    def __getitem__(self, index):  # noqa: ANN001, ANN204 - int or slice, like a list
        return self.motions[index]

    def __len__(self) -> int:
        return len(self.motions)

    def __repr__(self) -> str:
        return f"MotionBatch({len(self)} motions: {[(m.prompt, m.num_frames) for m in self.motions]})"

    @property
    def features(self) -> list[np.ndarray]:
        """Each motion's raw features (L_i, D)."""
        return [m.features for m in self.motions]

    @property
    def joints(self) -> list[np.ndarray]:
        """Each motion's joint positions (L_i, J, 3)."""
        return [m.joints for m in self.motions]

    def save(self, path: str | os.PathLike, **kwargs: Any) -> list[Path]:
        """One motion -> `path`; several -> `stem_00.ext`, `stem_01.ext`, ... beside it."""
        out = check_output_path(path)
        return [m.save(numbered_path(out, i, len(self)), **kwargs) for i, m in enumerate(self.motions)]


def numbered_path(path: Path, index: int, total: int) -> Path:
    """Where motion `index` of `total` saved to `path` goes: `path` itself for one motion, else
    `stem_00.ext`, `stem_01.ext`, ... (as wide as the largest index, at least two digits)."""
    if total == 1:
        return path
    width = max(2, len(str(total - 1)))
    return path.with_name(f"{path.stem}_{index:0{width}d}{path.suffix}")

