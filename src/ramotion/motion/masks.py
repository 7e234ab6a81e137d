"""Boolean masks over frames: where they hold, as runs of frames (feet planted, airborne, kept)."""

from __future__ import annotations

import numpy as np


def runs(mask: np.ndarray, min_len: int = 1) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of True at least min_len long."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_len]
