"""Change a motion's frame rate (the one place that decides how)."""

from __future__ import annotations

import math

import numpy as np


def resample(joints: np.ndarray, fps: float, target_fps: float) -> np.ndarray:
    """Resample (T, ...) positions from `fps` to `target_fps` by linear interpolation (scipy).

    The output covers the same duration: frames at k / target_fps for k = 0 .. floor((T-1) *
    target_fps / fps). Linear rather than cubic so that resting feet do not overshoot.
    """
    for name, value in (("fps", fps), ("target fps", target_fps)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value}")
    joints = np.asarray(joints, dtype=np.float64)
    if abs(fps - target_fps) < 1e-9:
        return joints
    from scipy.interpolate import make_interp_spline

    t_src = np.arange(len(joints)) / fps
    # 1e-4 of a frame: a BVH frame time of 0.0333333 s must still count as 30 fps.
    n = int(np.floor((len(joints) - 1) * target_fps / fps + 1e-4)) + 1
    if len(joints) < 2 or n < 2:
        raise ValueError(f"motion of {len(joints)} frames at {fps:g} fps is too short to resample to {target_fps:g} fps")
    t_dst = np.arange(n) / target_fps
    return make_interp_spline(t_src, joints, k=1, axis=0)(t_dst)
