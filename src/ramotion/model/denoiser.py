"""D: the MDM transformer-encoder denoiser, predicting x0 from (x_t, t, z) (spec §3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import RAMConfig
from .embeddings import PositionalEncoding, TimestepEmbedding
from .transformer import Encoder


class Denoiser(nn.Module):
    """D with the sizes of a RAMConfig (feature_dim, latent_dim, dim, layers, heads, ff,
    dropout, max_frames, num_diffusion_steps).

    Linear(D -> dim) per frame; one condition token Linear(d_E -> dim)(z) + timestep embedding,
    prepended; sinusoidal positions; post-norm transformer encoder (gelu) with padded frames
    masked; the condition token dropped; Linear(dim -> D).
    """

    def __init__(self, config: RAMConfig) -> None:
        super().__init__()
        self.feature_dim = config.feature_dim
        self.max_frames = config.max_frames
        self.num_steps = config.num_diffusion_steps
        self.input_proj = nn.Linear(config.feature_dim, config.dim)
        self.cond_proj = nn.Linear(config.latent_dim, config.dim)
        self.time_embed = TimestepEmbedding(config.dim, config.num_diffusion_steps)
        self.positions = PositionalEncoding(config.dim, config.max_frames + 1, config.dropout)
        self.encoder = Encoder(config.dim, config.heads, config.ff, config.dropout, config.layers)
        self.output_proj = nn.Linear(config.dim, config.feature_dim)

    def forward(self, x_t: Tensor, t: Tensor, z: Tensor, mask: Tensor) -> Tensor:
        """(B, T, D) noisy motion, (B,) long timesteps, (B, d_E) latent (zeros = unconditional),
        (B, T) bool True=valid -> x0_hat (B, T, D)."""
        if x_t.dim() != 3 or x_t.shape[-1] != self.feature_dim:
            raise ValueError(f"x_t must be (batch, frames, {self.feature_dim}), got {tuple(x_t.shape)}")
        if x_t.shape[1] > self.max_frames:
            raise ValueError(f"{x_t.shape[1]} frames exceed the model's maximum of {self.max_frames}")
        if mask.shape != x_t.shape[:2]:
            raise ValueError(f"mask must be (batch, frames) = {tuple(x_t.shape[:2])}, got {tuple(mask.shape)}")
        if t.shape != x_t.shape[:1]:
            raise ValueError(f"t must be (batch,) = ({x_t.shape[0]},), got {tuple(t.shape)}")
        h = self.input_proj(x_t)  # (B, T, dim)
        cond = self.cond_proj(z.to(h.dtype)) + self.time_embed(t.long())  # (B, dim)
        h = self.positions(torch.cat([cond[:, None].to(h.dtype), h], dim=1))  # (B, 1+T, dim)
        valid = torch.cat([mask.new_ones(mask.shape[0], 1), mask.bool()], dim=1)
        h = self.encoder(h, valid)  # (B, 1+T, dim)
        # Project before dropping the condition token: a linear layer over a strided slice runs
        # as a batched product for batches > 1, which rounds differently in bf16 (transformer.py).
        return self.output_proj(h)[:, 1:]  # (B, T, D)
