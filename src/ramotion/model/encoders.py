"""E_T and E_M: TEMOS-style (non-variational) transformer encoders to the latent z (spec §3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .embeddings import PositionalEncoding
from .transformer import Encoder


class SequenceEncoder(nn.Module):
    """Linear(in_dim -> d_E), a learned special token prepended, sinusoidal positions,
    a post-norm transformer encoder (gelu) with padding masked; the special token's output is z.
    """

    def __init__(
        self,
        in_dim: int,
        latent_dim: int = 256,
        layers: int = 6,
        heads: int = 4,
        ff: int = 1024,
        dropout: float = 0.1,
        max_len: int = 512,
    ) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.input_proj = nn.Linear(in_dim, latent_dim)
        self.special_token = nn.Parameter(torch.randn(latent_dim) * 0.02)
        self.positions = PositionalEncoding(latent_dim, max_len + 1, dropout)
        self.encoder = Encoder(latent_dim, heads, ff, dropout, layers)

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
        h = self.encoder(h, valid)
        return h[:, 0]  # (B, d_E)


def text_encoder_from_config(config) -> SequenceEncoder:  # noqa: ANN001 - RAMConfig (avoid import cycle)
    """E_T over the frozen LM's token states."""
    return SequenceEncoder(config.text_dim, config.latent_dim, config.enc_layers, config.enc_heads, config.enc_ff, config.dropout, config.max_text_tokens)


def motion_encoder_from_config(config) -> SequenceEncoder:  # noqa: ANN001
    """E_M over normalised motion features."""
    return SequenceEncoder(config.feature_dim, config.latent_dim, config.enc_layers, config.enc_heads, config.enc_ff, config.dropout, config.max_frames)
