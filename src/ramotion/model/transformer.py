"""The post-norm transformer encoder shared by E_T, E_M and D (spec §3).

It computes what `torch.nn.TransformerEncoder` computes (post-norm layers, GELU, dropout after
attention and in the feed-forward block) and keeps its parameter names, so checkpoints load
either way. It is written out because torch's layer is not batch-invariant in reduced
precision: `nn.MultiheadAttention` works in a (length, batch, dim) layout, so its projections
run as one matrix product when the batch is 1 and as a batched product over a strided view
when it is larger, and bf16/fp16 round the two differently. A motion then depended on the other
prompts of its batch (issue 21). Here every projection is one matrix product over contiguous
(batch · length, dim) rows, whose per-row result does not depend on the number of rows, and
attention is `scaled_dot_product_attention` per (sample, head).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused QKV projection: (B, L, dim) -> (B, L, dim).
    Parameter names match `nn.MultiheadAttention` (in_proj_weight/bias, out_proj)."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)  # as nn.MultiheadAttention initialises them
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: Tensor, key_bias: Tensor, first_only: bool = False) -> Tensor:
        """x (B, L, dim); key_bias (B, 1, 1, L) additive (0 = attend, -inf = padding).
        Returns (B, L, dim), or (B, 1, dim) with `first_only`: the first position's output alone,
        its query attending over every key, at a third of the projection cost for the others."""
        b, length, dim = x.shape
        heads, dh = self.heads, dim // self.heads
        if first_only:
            w, bias = self.in_proj_weight, self.in_proj_bias
            q = F.linear(x[:, :1].contiguous(), w[:dim], bias[:dim])  # (B, 1, dim): contiguous rows, one GEMM
            kv = F.linear(x, w[dim:], bias[dim:])  # (B, L, 2·dim)
            q = q.view(b, 1, heads, dh).transpose(1, 2)  # (B, H, 1, dh)
            k, v = kv.view(b, length, 2, heads, dh).permute(2, 0, 3, 1, 4)  # 2 × (B, H, L, dh)
        else:
            qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)  # (B, L, 3·dim), one GEMM over B·L rows
            q, k, v = qkv.view(b, length, 3, heads, dh).permute(2, 0, 3, 1, 4)  # 3 × (B, H, L, dh)
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=key_bias.to(q.dtype), dropout_p=p)  # (B, H, Lq, dh)
        return self.out_proj(out.transpose(1, 2).reshape(b, q.shape[2], dim))  # (B, Lq, dim)


class EncoderLayer(nn.Module):
    """One post-norm layer: x = LN(x + drop(attn(x))); x = LN(x + drop(W2 drop(gelu(W1 x))))."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.self_attn = SelfAttention(dim, heads, dropout)
        self.linear1 = nn.Linear(dim, ff)
        self.linear2 = nn.Linear(ff, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x: Tensor, key_bias: Tensor, first_only: bool = False) -> Tensor:
        """(B, L, dim), (B, 1, 1, L) -> (B, L, dim), or (B, 1, dim) for the first position alone
        with `first_only` (every position still serves as a key and value)."""
        attended = self.self_attn(x, key_bias, first_only)
        x = self.norm1((x[:, :1] if first_only else x) + self.dropout1(attended))
        return self.norm2(x + self.dropout2(self.linear2(self.dropout(F.gelu(self.linear1(x))))))


class Encoder(nn.Module):
    """A stack of `layers` post-norm layers over a padded sequence. As in `nn.TransformerEncoder`
    (which MDM and TEMOS use), every layer starts as a copy of one initialised layer, so a seed
    initialises the same weights as before this module existed."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float, layers: int) -> None:
        super().__init__()
        first = EncoderLayer(dim, heads, ff, dropout)
        self.layers = nn.ModuleList(copy.deepcopy(first) for _ in range(layers))

    def forward(self, x: Tensor, valid: Tensor, first_only: bool = False) -> Tensor:
        """(B, L, dim) sequence, (B, L) bool True=valid -> (B, L, dim); padded keys are ignored.

        With `first_only`, returns (B, 1, dim): the first position's output, for encoders that
        read only their special token. The last layer then skips the query, output projection and
        feed-forward of every other position, which no later layer would read. It is used only
        outside training, so that training's dropout draws stay as they were."""
        key_bias = torch.zeros(valid.shape, dtype=torch.float32, device=x.device).masked_fill(~valid, float("-inf"))
        key_bias = key_bias[:, None, None, :]  # (B, 1, 1, L), broadcast over heads and queries
        first_only = first_only and not self.training
        for i, layer in enumerate(self.layers):
            x = layer(x, key_bias, first_only and i == len(self.layers) - 1)
        return x
