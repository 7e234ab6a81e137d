"""Sinusoidal position / timestep tables shared by the encoders and the denoiser."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def sinusoidal_table(length: int, dim: int) -> Tensor:
    """(length, dim) float32 table of the Transformer's sin/cos positions (sin on even dims)."""
    position = torch.arange(length, dtype=torch.float64)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div)[:, : dim // 2]
    return table.float()


class PositionalEncoding(nn.Module):
    """Adds fixed sinusoidal positions to a (B, L, dim) sequence, then dropout."""

    def __init__(self, dim: int, max_len: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("table", sinusoidal_table(max_len, dim), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] > self.table.shape[0]:
            raise ValueError(f"sequence of {x.shape[1]} positions exceeds the maximum of {self.table.shape[0]}")
        return self.dropout(x + self.table[: x.shape[1]].to(x.dtype))


class TimestepEmbedding(nn.Module):
    """MDM's timestep embedder: sinusoidal table row -> Linear, SiLU, Linear. (B,) long -> (B, dim)."""

    def __init__(self, dim: int, num_steps: int) -> None:
        super().__init__()
        self.register_buffer("table", sinusoidal_table(max(num_steps, 1), dim), persistent=False)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor) -> Tensor:
        return self.mlp(self.table[t])
