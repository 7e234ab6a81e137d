"""The model's own transformer encoder (model/transformer.py) against torch's
`nn.TransformerEncoder`, which it replaces: same parameters, same initial weights for a seed,
the same outputs in float32, and rows that do not depend on the rest of the batch in bfloat16."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ramotion.model.transformer import Encoder


def _pair(seed: int = 0, dim: int = 32, heads: int = 4, ff: int = 64, layers: int = 3) -> tuple[nn.TransformerEncoder, Encoder]:
    torch.manual_seed(seed)
    ref = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, heads, ff, 0.1, activation="gelu", batch_first=True), layers, enable_nested_tensor=False)
    torch.manual_seed(seed)
    return ref, Encoder(dim, heads, ff, 0.1, layers)


def test_same_parameters_and_initial_weights_as_torch() -> None:
    ref, ours = _pair()
    a, b = ref.state_dict(), ours.state_dict()
    assert sorted(a) == sorted(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # Every layer starts as a copy of the first, as nn.TransformerEncoder makes them.
    assert torch.equal(b["layers.0.linear1.weight"], b["layers.2.linear1.weight"])


@pytest.mark.parametrize("train", [False, True])
def test_same_outputs_as_torch_in_float32(train: bool) -> None:
    ref, ours = _pair(seed=1)
    ours.load_state_dict(ref.state_dict())
    with torch.no_grad():  # different weights per layer than at init, so the layers are not all alike
        for p in ours.parameters():
            p.add_(0.05 * torch.randn_like(p))
    ref.load_state_dict(ours.state_dict())
    for m in (ref, ours):
        m.train(train)
        for mod in m.modules():  # dropout off, so that train mode compares deterministically
            if isinstance(mod, nn.Dropout):
                mod.p = 0.0
            if isinstance(mod, nn.MultiheadAttention):
                mod.dropout = 0.0
    for layer in ours.layers:
        layer.self_attn.dropout = 0.0
    x = torch.randn(3, 11, 32)
    valid = torch.ones(3, 11, dtype=torch.bool)
    valid[1, 7:] = False
    valid[2, 2:] = False
    with torch.set_grad_enabled(train):
        expected = ref(x, src_key_padding_mask=~valid)
        got = ours(x, valid)
    assert torch.allclose(got[valid], expected[valid], atol=1e-5)
    # Padded keys are ignored: changing what lies in the padding changes no valid output.
    x2 = x.clone()
    x2[~valid] = 100.0
    with torch.no_grad():
        assert torch.allclose(ours(x2, valid)[valid], got.detach()[valid], atol=1e-5)


def test_rows_do_not_depend_on_the_batch_in_bfloat16() -> None:
    """Each row is computed the same way whatever else is in the batch. (torch's layer runs its
    projections as a strided batched product for batches > 1, which for the bundled model's
    weights rounded differently in bf16: test_pipeline's batch-invariance test caught it.)"""
    _, ours = _pair(seed=2, dim=64, ff=128)
    ours.eval()
    x = torch.randn(1, 21, 64)
    valid = torch.ones(1, 21, dtype=torch.bool)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        alone = ours(x, valid)
        pair = ours(torch.cat([x, torch.randn(1, 21, 64)]), valid.repeat(2, 1))[:1]
    assert torch.equal(alone, pair)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_first_only_gives_the_first_position_of_the_full_pass(dtype: torch.dtype) -> None:
    """Encoders read only their special token: the shortcut's last layer computes that position
    alone, and it must equal the full pass's first position to float tolerance, padding and all,
    with rows still independent of their batch in bf16."""
    _, ours = _pair(seed=3, dim=64, ff=128)
    ours.eval()
    x = torch.randn(3, 13, 64)
    valid = torch.ones(3, 13, dtype=torch.bool)
    valid[1, 9:] = False
    valid[2, 3:] = False
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        full = ours(x, valid)
        first = ours(x, valid, first_only=True)
        alone = ours(x[2:], valid[2:], first_only=True)
    assert first.shape == (3, 1, 64)
    tol = 1e-5 if dtype == torch.float32 else 2e-2  # bf16: the Q and K/V products round separately
    assert torch.allclose(first[:, 0].float(), full[:, 0].float(), atol=tol, rtol=tol)
    if dtype == torch.bfloat16:
        assert torch.equal(alone, first[2:])
    # In training every position is computed, so dropout draws the same random numbers as before.
    ours.train()
    assert ours(x, valid, first_only=True).shape == (3, 13, 64)


def test_width_must_divide_into_heads() -> None:
    with pytest.raises(ValueError, match="not divisible by 3 heads"):
        Encoder(32, 3, 64, 0.0, 1)
