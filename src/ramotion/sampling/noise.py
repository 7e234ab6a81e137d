"""Per-sample Gaussian noise: each sample draws from its own seeded generator.

A sample's noise depends only on its seed and its length, never on which other
samples share its batch or how long they are: that is what makes a 60-frame motion
generated alone equal to the same motion generated beside a 196-frame one.

Draw order (part of the contract, so that tests can reproduce it independently):
one (L, D) draw for x_T, then one (L, D) draw for every step whose posterior
variance is non-zero, all from `torch.Generator(device).manual_seed(seed)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


class PerSampleNoise:
    """Draws padded (B, T, D) standard normal noise, sample i from its own generator.

    Frames past a sample's length are zero. Generators live on `device`, so drawing
    never moves data between host and device (on CPU the draws are bitwise
    reproducible; CUDA generators give different, but still per-seed, numbers).
    """

    def __init__(self, seeds: Sequence[int], lengths: Sequence[int], dim: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        if len(seeds) != len(lengths):
            raise ValueError(f"one seed per sample is needed: got {len(seeds)} seeds for {len(lengths)} samples")
        if any(int(n) < 1 for n in lengths):
            raise ValueError(f"sample lengths must be at least 1 frame, got {list(lengths)}")
        self.device = torch.device(device)
        self.lengths = [int(n) for n in lengths]
        self.max_length = max(self.lengths)
        self.dim = dim
        self.dtype = dtype
        self.generators = [torch.Generator(device=self.device).manual_seed(int(s)) for s in seeds]

    def draw(self) -> Tensor:
        """Next (B, T_max, D) noise; zero on padded frames."""
        out = torch.zeros(len(self.lengths), self.max_length, self.dim, device=self.device, dtype=self.dtype)
        for i, (gen, n) in enumerate(zip(self.generators, self.lengths)):
            out[i, :n] = torch.randn(n, self.dim, generator=gen, device=self.device, dtype=self.dtype)
        return out


def lengths_to_mask(lengths: Sequence[int] | Tensor, max_length: int | None = None, device: torch.device | str = "cpu") -> Tensor:
    """(B,) lengths -> (B, T) bool mask, True on valid frames; T = the longest length by default."""
    lengths_t = torch.as_tensor(lengths, dtype=torch.long, device=device)
    if max_length is None:  # from a host-side list when possible (no device sync)
        max_length = max(int(n) for n in lengths) if not isinstance(lengths, Tensor) else int(lengths.max())
    t_max = max_length
    return torch.arange(t_max, device=device)[None, :] < lengths_t[:, None]
