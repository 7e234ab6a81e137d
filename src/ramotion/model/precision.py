"""The model's matrix-product weights held in a reduced compute dtype, cast once.

Under `torch.autocast`, every `F.linear` casts its fp32 weight and bias to bf16/fp16. Under
`torch.inference_mode`, where the pipeline samples, autocast's weight cache is off (measured:
three casts per linear call there, one under `no_grad`), so a 20-step sample re-cast every
weight of D at every step, about a quarter of a bf16 forward of the paper-size denoiser on a CPU. `matmul_weights_in` returns a copy of
the model whose linear weights are already in the compute dtype and everything else (norms,
the special token, position tables) in fp32. Run under the same autocast, it computes
bit for bit what the fp32 model computes under autocast, since autocast rounds a weight to
the compute dtype exactly as `Tensor.to` does, and leaves a weight already in that dtype
alone. The pipeline keeps one such copy per dtype and rebuilds it when the weights change
(`weights_version`).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .transformer import SelfAttention


def matmul_weights_in(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A copy of `model` in eval mode whose nn.Linear and SelfAttention weights and biases are
    in `dtype`; other parameters and buffers keep theirs. `model` itself is not changed."""
    twin = copy.deepcopy(model).eval()
    for module in twin.modules():
        if isinstance(module, (nn.Linear, SelfAttention)):
            module.to(dtype)  # (SelfAttention: its in-projection and its out_proj Linear)
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin


def weights_version(model: nn.Module) -> tuple[tuple[int, int], ...]:
    """A key that changes when any parameter is replaced or updated in place (an optimizer step,
    `load_state_dict`): each parameter's storage address and in-place version counter."""
    return tuple((p.data_ptr(), p._version) for p in model.parameters())
