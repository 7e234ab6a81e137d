"""E_T and E_M: TEMOS-style (non-variational) transformer encoders to the latent z (spec §3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import EncoderConfig
from .embeddings import PositionalEncoding
from .transformer import Encoder


class SequenceEncoder(nn.Module):
    """Linear(in_dim -> d_E), a learned special token prepended, sinusoidal positions,
    a post-norm transformer encoder (gelu) with padding masked; the special token's output is z.
    """

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.in_dim = config.in_dim
        self.input_proj = nn.Linear(config.in_dim, config.latent_dim)
        self.special_token = nn.Parameter(torch.randn(config.latent_dim) * 0.02)
        self.positions = PositionalEncoding(config.latent_dim, config.max_len + 1, config.dropout)
        self.encoder = Encoder(config.latent_dim, config.heads, config.ff, config.dropout, config.layers)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """(B, L, in_dim) features, (B, L) bool True=valid -> z (B, d_E)."""
        if x.dim() != 3 or x.shape[-1] != self.in_dim:
            raise ValueError(f"encoder input must be (batch, length, {self.in_dim}), got {tuple(x.shape)}")
        if mask.shape != x.shape[:2]:
            raise ValueError(f"mask must be (batch, length) = {tuple(x.shape[:2])}, got {tuple(mask.shape)}")
        h = self.input_proj(x)  # (B, L, d_E)
        token = self.special_token.to(h.dtype).expand(h.shape[0], 1, -1)
        h = self.positions(torch.cat([token, h], dim=1))  # (B, 1+L, d_E)
        valid = torch.cat([mask.new_ones(mask.shape[0], 1), mask.bool()], dim=1)
        h = self.encoder(h, valid, first_only=True)  # (B, 1, d_E) outside training, else (B, 1+L, d_E)
        return h[:, 0]  # (B, d_E)
