"""AdamW's parameter groups (issue 19): no decay for biases, LayerNorms and learned tokens, and
optimizer states saved with the old single group still resume exactly."""

from __future__ import annotations

import copy

import torch

from ramotion.model import RAM, RAMConfig
from ramotion.train.trainer import param_groups, regroup_optimizer_state


def _tiny() -> RAM:
    torch.manual_seed(0)
    return RAM(RAMConfig(latent_dim=16, text_dim=8, enc_layers=1, enc_heads=2, enc_ff=16, dim=16, layers=1, heads=2, ff=16, max_frames=12))


def _step(model: RAM, opt: torch.optim.Optimizer, seed: int) -> None:
    """One optimiser step on a loss that reaches every parameter."""
    g = torch.Generator().manual_seed(seed)
    loss = sum((p * torch.randn(p.shape, generator=g)).sum() for p in model.parameters())
    opt.zero_grad()
    loss.backward()
    opt.step()


def test_only_matrices_decay() -> None:
    model = _tiny()
    decay, keep = param_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    assert decay["weight_decay"] == 0.1 and keep["weight_decay"] == 0.0
    kept = {names[id(p)] for p in keep["params"]}
    assert "text_encoder.special_token" in kept and "denoiser.encoder.layers.0.norm1.weight" in kept
    assert "denoiser.output_proj.bias" in kept
    assert {names[id(p)] for p in decay["params"]} >= {"denoiser.output_proj.weight", "denoiser.encoder.layers.0.self_attn.in_proj_weight"}
    assert len(decay["params"]) + len(keep["params"]) == len(list(model.parameters()))


def test_a_single_group_state_resumes_exactly() -> None:
    """A run saved before the groups existed (one group, weight decay 0) continues bit for bit."""
    old = _tiny()
    old_opt = torch.optim.AdamW(old.parameters(), lr=1e-2, weight_decay=0.0)
    for s in range(3):
        _step(old, old_opt, s)
    new = copy.deepcopy(old)
    new_opt = torch.optim.AdamW(param_groups(new, 0.0), lr=1e-2)
    new_opt.load_state_dict(regroup_optimizer_state(copy.deepcopy(old_opt.state_dict()), new))
    for s in range(3, 6):
        _step(old, old_opt, s)
        _step(new, new_opt, s)
    for a, b in zip(old.parameters(), new.parameters()):
        assert torch.equal(a, b)
    # A state already grouped is left alone.
    state = new_opt.state_dict()
    assert regroup_optimizer_state(state, new) is state
