"""Normalisation statistics (with HumanML3D's group averaging) and z-normalisation."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

from ..skeleton import Skeleton, get_skeleton

# Divisors per feature group: training stats use 1 everywhere; the T2M evaluator's
# own stats divide the root groups and the contacts by 25 (spec §1).
TRAIN_DIVISORS = {"root_rot_vel": 1.0, "root_lin_vel": 1.0, "root_y": 1.0, "ric": 1.0, "rot6d": 1.0, "local_vel": 1.0, "contacts": 1.0}
EVALUATOR_DIVISORS = {**TRAIN_DIVISORS, "root_rot_vel": 25.0, "root_lin_vel": 25.0, "root_y": 25.0, "contacts": 25.0}


def compute_stats(
    motions: Iterable[np.ndarray],
    skeleton: str | Skeleton = "humanml3d",
    divisors: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Std (D,) float32 over all frames of all motions, Std averaged per group.

    Each group's Std is replaced by its mean over the group's dims, divided by the
    group's divisor (`TRAIN_DIVISORS` by default).
    """
    sk = get_skeleton(skeleton)
    divisors = divisors or TRAIN_DIVISORS
    count = 0
    total = np.zeros(sk.feature_dim, dtype=np.float64)
    total_sq = np.zeros(sk.feature_dim, dtype=np.float64)
    for m in motions:
        m = np.asarray(m, dtype=np.float64)
        if m.ndim != 2 or m.shape[1] != sk.feature_dim:
            raise ValueError(f"motion features must be (frames, {sk.feature_dim}), got {m.shape}")
        count += len(m)
        total += m.sum(0)
        total_sq += (m * m).sum(0)
    if count == 0:
        raise ValueError("no frames to compute statistics from")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0))
    for name, sl in sk.feature_slices().items():
        std[sl] = std[sl].mean() / divisors[name]
    return mean.astype(np.float32), std.astype(np.float32)


class Normalizer(torch.nn.Module):
    """z-normalisation with fixed Mean/Std buffers; moves with the model's device."""

    def __init__(self, mean: np.ndarray | Tensor, std: np.ndarray | Tensor, eps: float = 1e-8) -> None:
        super().__init__()
        mean_t = torch.as_tensor(np.asarray(mean) if not isinstance(mean, Tensor) else mean, dtype=torch.float32)
        std_t = torch.as_tensor(np.asarray(std) if not isinstance(std, Tensor) else std, dtype=torch.float32)
        if mean_t.shape != std_t.shape or mean_t.dim() != 1:
            raise ValueError(f"Mean and Std must be vectors of one size, got {tuple(mean_t.shape)} and {tuple(std_t.shape)}")
        if not bool(torch.isfinite(mean_t).all() and torch.isfinite(std_t).all()):
            raise ValueError("Mean/Std contain NaN or infinite values")
        self.register_buffer("mean", mean_t)
        self.register_buffer("std", std_t.clamp_min(eps))

    def normalize(self, x: Tensor) -> Tensor:
        """(..., D) raw features -> normalised."""
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def denormalize(self, x: Tensor) -> Tensor:
        """(..., D) normalised features -> raw."""
        return x * self.std.to(x.dtype) + self.mean.to(x.dtype)
