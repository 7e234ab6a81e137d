"""Root-trajectory anchoring for in-betweening: kept frames after a generated gap stay put.

HumanML3D's root features are velocities in the body's heading frame (dims 0-2: rotation
velocity, linear velocity x/z); `recover_root` integrates them from frame 0. A kept segment
that follows generated frames therefore keeps its pose but lands wherever the generated
velocities lead. `anchor_root` corrects the generated frames' root velocities so that the
integrated heading and ground position at the first frame after each gap equal given targets
(the source's own), spreading the correction evenly over the gap:

1. heading: the missing angle is added in equal parts to the gap's rotation velocities;
2. position: with those headings, the missing ground displacement Δ is added in equal parts,
   each turned into its frame's heading frame, to the gap's linear velocities, so that the
   integrated steps sum to exactly Δ more.

Only generated frames are changed; the root height (dim 3) and every other feature are left
alone. The sampler applies it to every step's estimate (`sampling.inpaint`), so the model
re-denoises around the corrected trajectory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..rotations import qrot
from .features import recover_root


@dataclass(frozen=True)
class RootAnchor:
    """A generated gap [start, stop) of frames whose root is free, and where frame `stop` must
    be: its heading angle (recover_root's angle, radians) and its ground position (x, z)."""

    start: int
    stop: int
    angle: float
    x: float
    z: float


def heading_angles(features: Tensor) -> Tensor:
    """Root heading angles (..., T) as `recover_root` integrates them: angle_j = sum of rv_i, i < j."""
    vel = features[..., 0]
    return torch.cumsum(torch.cat((torch.zeros_like(vel[..., :1]), vel[..., :-1]), dim=-1), dim=-1)


def _heading_quats(angle: Tensor) -> Tensor:
    """(..., T) angles -> the heading quaternions (..., T, 4) of `recover_root`."""
    zero = torch.zeros_like(angle)
    return torch.stack((torch.cos(angle), zero, torch.sin(angle), zero), dim=-1)


def root_gaps(root_kept: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [start, stop) of frames whose root is generated (root_kept (T,) bool False)
    with kept frames on both sides: the gaps `anchor_root` can pin down."""
    gaps, t, n = [], 0, len(root_kept)
    while t < n:
        if root_kept[t]:
            t += 1
            continue
        start = t
        while t < n and not root_kept[t]:
            t += 1
        if start > 0 and t < n:
            gaps.append((start, t))
    return gaps


def source_anchors(source: np.ndarray, gaps: Sequence[tuple[int, int]], source_frames: Sequence[int]) -> list[RootAnchor]:
    """Anchors for `gaps` of a result: gap i's end frame must be where source frame
    `source_frames[i]` is in the source's own world (source: raw features (T_src, D))."""
    feats = torch.as_tensor(np.asarray(source, dtype=np.float64))  # (T_src, D)
    angle = heading_angles(feats)  # (T_src,)
    _, root = recover_root(feats)  # (T_src, 3)
    return [
        RootAnchor(a, b, float(angle[s]), float(root[s, 0]), float(root[s, 2])) for (a, b), s in zip(gaps, source_frames)
    ]


def anchor_root(features: Tensor, anchors: Sequence[RootAnchor]) -> Tensor:
    """Raw features (B, T, D>=3) with each anchor's gap root velocities corrected (see module doc).

    Gaps are handled in order, each on the trajectory the earlier ones left. Returns a new tensor;
    frames outside the gaps and dims other than 0-2 are returned unchanged.
    """
    x = features.clone()
    for anc in anchors:
        a, b = anc.start, anc.stop
        n = b - a
        # 1. heading: angle_b = sum of rv_i for i < b; rv_a..rv_{b-1} are free.
        angle_b = x[..., :b, 0].sum(-1)  # (B,)
        x[..., a:b, 0] = x[..., a:b, 0] + ((anc.angle - angle_b) / n)[..., None]
        # 2. position: the step of v_i (i in a..b-1) is turned by the heading of frame i+1.
        _, root = recover_root(x[..., : b + 1, :4])  # (B, b+1, 3)
        miss = torch.stack((anc.x - root[..., b, 0], torch.zeros_like(root[..., b, 0]), anc.z - root[..., b, 2]), dim=-1)  # (B, 3) world
        quats = _heading_quats(heading_angles(x[..., : b + 1, :]))[..., a + 1 : b + 1, :]  # (B, n, 4): headings of frames a+1..b
        # recover_root turns a step into the world with qinv(r_rot); qrot(r_rot, ·) is its inverse.
        local = qrot(quats, (miss / n)[..., None, :].expand(quats.shape[:-1] + (3,)))  # (B, n, 3): world Δ/n in each frame's heading frame
        x[..., a:b, 1] = x[..., a:b, 1] + local[..., 0]
        x[..., a:b, 2] = x[..., a:b, 2] + local[..., 2]
    return x

