"""Load a motion file as joint positions, whatever form it comes in.

A `.npy` holds either features, (T, 263) HumanML3D or (T, 251) KIT-ML, or joint
positions, (T, 22, 3) or (T, 21, 3); which one is decided by the shape. A `.bvh` is
read with `ramotion.mocap.importing.import_bvh` (ramotion's own joint names). Anything else is
refused with one line that names the problem.

`read_edit_source` reads a motion to edit (`ramotion edit` and the web server's uploads share
it): features as stored, or joints at the model's frame rate, from a path or from bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..io_utils import load_npy_bytes, load_npy_checked
from ..motion.features import features_to_joints
from ..motion.resample import resample
from ..skeleton import HUMANML3D, KIT, Skeleton
from .importing import import_bvh, import_bvh_text

MotionKind = Literal["features", "joints", "bvh"]


@dataclass(frozen=True)
class LoadedMotion:
    """Joint positions of a motion and where they came from."""

    joints: np.ndarray  # (T, J, 3) float64
    skeleton: Skeleton
    kind: MotionKind
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])


def motion_from_array(array: np.ndarray, source: str = "array") -> LoadedMotion:
    """Interpret an array as features or joints (see module docstring) -> LoadedMotion.

    Raises ValueError naming `source` and the problem: wrong shape or dtype, unknown
    feature size or joint count, fewer than 2 frames, NaN or infinite values.
    """
    arr = np.asarray(array)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{source}: expected a numeric array, got dtype {arr.dtype}")
    shape = tuple(arr.shape)
    if arr.ndim == 2:
        dim = shape[1]
        by_dim = {sk.feature_dim: sk for sk in (HUMANML3D, KIT)}
        if dim not in by_dim:
            hint = ""
            if dim % 3 == 0 and dim // 3 in (HUMANML3D.num_joints, KIT.num_joints):
                hint = f" (flattened joints? reshape to (T, {dim // 3}, 3))"
            raise ValueError(
                f"{source}: a (frames, dim) array must be HumanML3D features (dim 263) or KIT-ML features "
                f"(dim 251), got shape {shape}{hint}"
            )
        sk, kind = by_dim[dim], "features"
    elif arr.ndim == 3:
        if shape[2] != 3:
            raise ValueError(f"{source}: joints must have shape (frames, joints, 3), got {shape}")
        by_count = {sk.num_joints: sk for sk in (HUMANML3D, KIT)}
        if shape[1] not in by_count:
            raise ValueError(
                f"{source}: unknown joint count {shape[1]} in shape {shape}: expected 22 (HumanML3D) or 21 (KIT-ML)"
            )
        sk, kind = by_count[shape[1]], "joints"
    else:
        raise ValueError(
            f"{source}: expected features (frames, 263|251) or joints (frames, 22|21, 3), got shape {shape}"
        )
    frames = shape[0]
    if frames < 2:
        what = "no frames" if frames == 0 else "only 1 frame"
        raise ValueError(f"{source}: the motion has {what}; at least 2 are needed")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise ValueError(f"{source}: {int(bad.sum())} NaN or infinite values (first in frame {first})")
    arr = arr.astype(np.float64)
    joints = features_to_joints(arr, sk) if kind == "features" else arr
    return LoadedMotion(joints=np.asarray(joints, dtype=np.float64), skeleton=sk, kind=kind, fps=sk.fps)


def load_motion(path: str | os.PathLike) -> LoadedMotion:
    """Load a `.npy` (features or joints) or a ramotion `.bvh` as joint positions."""
    p = Path(path)
    if p.suffix.lower() == ".bvh":
        joints, fps = import_bvh(p)
        return LoadedMotion(joints=joints, skeleton=HUMANML3D, kind="bvh", fps=fps)
    if p.suffix.lower() not in (".npy", ""):
        raise ValueError(f"cannot read {p}: expected a .npy (features or joints) or a .bvh file")
    return motion_from_array(load_npy_checked(p), str(p))


def read_edit_source(
    name: str | os.PathLike,
    fps: float,
    *,
    data: bytes | str | None = None,
    joint_map: Any = None,
    source_fps: float | None = None,
    option_names: tuple[str, str] = ("joint_map", "source_fps"),
    max_seconds: float | None = None,
) -> np.ndarray:
    """A motion to edit, as `RAMPipeline`'s edit methods take it: features (T, D) as stored, or
    joint positions (T, J, 3) at `fps` (the model's frame rate).

    name: the file's path, or, with `data`, its name (the extension says the format: `.npy` for
    joints (T, 22, 3) or features (T, 263); `.bvh` / `.bvh.gz`, read as `ramotion import-bvh` reads
    it and resampled to `fps`). data: the file's contents in memory (a .npy's bytes, a BVH's text
    or UTF-8 bytes; not gzipped) instead of reading `name`. joint_map: a BVH's skeleton preset
    (`mocap.importing.JointMapArg`; None: ramotion's own joint names). source_fps: the frame rate
    of a .npy of joints, resampled to `fps` (None: already at `fps`). option_names: what the
    errors call joint_map and source_fps (the CLI's flags). max_seconds: refuse, before resampling,
    a .npy, or a BVH given as `data`, that lasts longer (for data from a client: resampling is what
    costs memory). A .npy is read with
    `io_utils.load_npy_checked` / `load_npy_bytes` (never a pickle); shapes, NaN and lengths are
    the pipeline's checks (`RAMPipeline.source_features`). ValueError names the problem.
    """

    label = str(name)
    lower = Path(label).name.lower()
    map_opt, fps_opt = option_names
    if lower.endswith((".bvh", ".bvh.gz")):
        if source_fps is not None:
            raise ValueError(f"{fps_opt} is for .npy joints; a BVH carries its own frame rate")
        if data is None:
            joints, _ = import_bvh(name, joint_map, fps=fps)  # (T, 22, 3) at `fps`
            return joints
        if lower.endswith(".gz"):  # decompressing a client's bytes unbounded is not worth it
            raise ValueError(f"{label}: send BVH text, not a gzip file")
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"bad BVH file {label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        joints, _ = import_bvh_text(data, joint_map, fps=fps, source=label, max_seconds=max_seconds)
        return joints
    if not lower.endswith(".npy"):
        raise ValueError(f"cannot read {label}: expected a .npy (joints or features) or a .bvh file")
    if joint_map is not None:
        raise ValueError(f"{map_opt} is for BVH sources")
    if data is None:
        arr = load_npy_checked(name)
    elif isinstance(data, bytes):
        arr = load_npy_bytes(data, label)
    else:
        raise ValueError(f"{label}: a .npy file's contents must be bytes, not text")
    if source_fps is not None and arr.ndim != 3:
        raise ValueError(f"{fps_opt} resamples joints (T, 22, 3); features are always at the model's frame rate")
    rate = fps if source_fps is None else source_fps
    if max_seconds is not None and arr.ndim and len(arr) / rate > max_seconds:  # a 0-d array: refused later, by shape
        raise ValueError(f"{label} lasts {len(arr) / rate:.1f} s ({len(arr)} frames at {rate:g} fps); at most {max_seconds:g} s is read")
    return arr if source_fps is None else resample(arr, source_fps, fps)
