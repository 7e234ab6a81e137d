"""Comparing two joint sequences up to what the representation does not keep (one yaw about y)."""

from __future__ import annotations

import numpy as np


def yaw_aligned_error(a: np.ndarray, b: np.ndarray) -> float:
    """Max abs difference between joint sequences a and b (T, J, 3) after the best single
    rotation of a about the vertical axis plus a translation (2D Kabsch on x, z)."""
    pa, pb = a.reshape(-1, 3), b.reshape(-1, 3)
    ca, cb = pa.mean(0), pb.mean(0)
    xa, xb = (pa - ca)[:, [0, 2]], (pb - cb)[:, [0, 2]]
    u, _, vt = np.linalg.svd(xa.T @ xb)
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1.0, d]) @ vt  # proper 2D rotation
    out = np.empty_like(pa)
    out[:, [0, 2]] = xa @ rot + cb[[0, 2]]
    out[:, 1] = pa[:, 1] - ca[1] + cb[1]
    return float(np.abs(out - pb).max())
