"""The RAM objective: formulas, gradient routing of L_align, condition dropout, ablation variants."""

import pytest
import torch
import torch.nn.functional as F

from ramotion.diffusion import GaussianDiffusion
from ramotion.model import RAM, RAMConfig
from ramotion.train.losses import LATENT_OBJECTIVES, LossConfig, masked_mse, motion_centric_alignment, ram_loss, self_regularisation

TINY = dict(latent_dim=16, text_dim=12, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=1, heads=2, ff=64, max_frames=20, feature_dim=263, dropout=0.0)


def batch(B=6, T=20, L=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    motion = torch.randn(B, T, 263, generator=g)
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[0, 12:] = False
    text = torch.randn(B, L, 12, generator=g)
    tmask = torch.ones(B, L, dtype=torch.bool)
    tmask[1, 3:] = False
    return motion, mask, text, tmask


def grads(loss, params):
    return [g if g is not None else torch.zeros_like(p) for g, p in zip(torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True), params)]


def test_masked_mse_formula():
    pred, target = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    expected = 0.5 * (((pred[0, :2] - target[0, :2]) ** 2).mean() + ((pred[1] - target[1]) ** 2).mean())
    torch.testing.assert_close(masked_mse(pred, target, mask), expected)
    # Padded frames do not count at all.
    pred2 = pred.clone()
    pred2[0, 2:] = 1e6
    torch.testing.assert_close(masked_mse(pred2, target, mask), expected)


def test_self_regularisation_formula():
    z = torch.randn(5, 8)
    zn = z / z.norm(dim=-1, keepdim=True)
    logits = zn @ zn.T / 2.0
    expected = -(torch.log_softmax(logits, dim=-1).diagonal()).mean()
    torch.testing.assert_close(self_regularisation(z, tau=2.0), expected)


def test_align_gradient_routing_at_the_latents():
    z_s = torch.randn(4, 8, requires_grad=True)
    z_m = torch.randn(4, 8, requires_grad=True)
    loss = motion_centric_alignment(z_s, z_m, lam=0.01)
    torch.testing.assert_close(loss, F.mse_loss(z_s, z_m))  # value is the plain MSE
    g_s, g_m = torch.autograd.grad(loss, [z_s, z_m])
    full_s, full_m = torch.autograd.grad(F.mse_loss(z_s, z_m), [z_s, z_m])
    torch.testing.assert_close(g_s, full_s)  # all of it to the text side
    torch.testing.assert_close(g_m, 0.01 * full_m)  # λ of it to the motion side


def test_align_gradient_routing_into_encoder_parameters():
    torch.manual_seed(0)
    model = RAM(RAMConfig(**TINY))
    d = GaussianDiffusion(50)
    out = ram_loss(model, d, *batch(), LossConfig(), generator=torch.Generator().manual_seed(1))
    em, et = list(model.motion_encoder.parameters()), list(model.text_encoder.parameters())
    ref = F.mse_loss(out.z_s, out.z_m)  # the same latents, without the stop-gradient
    for got, want in zip(grads(out.terms["align"], em), grads(ref, em)):
        torch.testing.assert_close(got, 0.01 * want, rtol=1e-5, atol=1e-9)
    for got, want in zip(grads(out.terms["align"], et), grads(ref, et)):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-9)
    assert max(g.abs().max() for g in grads(out.terms["align"], em)) > 0
    # The denoiser gets nothing from the latent objectives.
    assert all(float(g.abs().max()) == 0.0 for g in grads(out.terms["align"] + out.terms["sr"], list(model.denoiser.parameters())))


def test_unconditional_rows_carry_no_gradient_into_the_encoders():
    torch.manual_seed(0)
    model = RAM(RAMConfig(**TINY))
    d = GaussianDiffusion(50)
    out = ram_loss(model, d, *batch(B=16), LossConfig(cond_dropout=0.4), generator=torch.Generator().manual_seed(3))
    assert (~out.keep_m).any() and out.keep_m.any() and (~out.keep_s).any() and out.keep_s.any()
    denoise = out.terms["rec"] + out.terms["gen"]
    g_m, g_s = torch.autograd.grad(denoise, [out.z_m, out.z_s], retain_graph=True)
    assert float(g_m[~out.keep_m].abs().max()) == 0.0 and float(g_s[~out.keep_s].abs().max()) == 0.0
    assert float(g_m[out.keep_m].abs().min(dim=1).values.max()) > 0 and float(g_s[out.keep_s].abs().max()) > 0
    # All rows dropped: the denoising terms send nothing at all into E_M / E_T parameters.
    out = ram_loss(model, d, *batch(B=4), LossConfig(cond_dropout=1.0), generator=torch.Generator().manual_seed(3))
    enc = list(model.motion_encoder.parameters()) + list(model.text_encoder.parameters())
    assert all(float(g.abs().max()) == 0.0 for g in grads(out.terms["rec"] + out.terms["gen"], enc))


def test_both_branches_are_one_forward_and_match_separate_forwards():
    torch.manual_seed(0)
    model = RAM(RAMConfig(**TINY)).eval()
    d = GaussianDiffusion(50)
    motion, mask, text, tmask = batch()
    calls = []
    model.denoiser.register_forward_hook(lambda m, args, out: calls.append(args[0].shape[0]))
    out = ram_loss(model, d, motion, mask, text, tmask, LossConfig(cond_dropout=0.0), generator=torch.Generator().manual_seed(5))
    assert calls == [12]  # batch 2B in one forward
    g = torch.Generator().manual_seed(5)
    t = torch.randint(0, 50, (6,), generator=g)
    noise = torch.randn(motion.shape, generator=g)
    x_t = d.q_sample(motion, t, noise)
    with torch.no_grad():
        rec = masked_mse(model.denoise(x_t, t, out.z_m, mask), motion, mask)
        gen = masked_mse(model.denoise(x_t, t, out.z_s, mask), motion, mask)
    torch.testing.assert_close(out.terms["rec"].detach(), rec, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out.terms["gen"].detach(), gen, rtol=1e-4, atol=1e-5)
    expected_total = rec + gen + out.terms["align"].detach() + 0.5 * out.terms["sr"].detach()
    torch.testing.assert_close(out.total.detach(), expected_total, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(LATENT_OBJECTIVES))
def test_ablation_variants_produce_their_terms(name):
    torch.manual_seed(0)
    model = RAM(RAMConfig(**TINY))
    cfg = LossConfig(**LATENT_OBJECTIVES[name])
    out = ram_loss(model, GaussianDiffusion(50), *batch(), cfg)
    expected = {"rec", "gen"} | {k for k, w in [("align", cfg.w_align), ("sr", cfg.w_sr), ("latent_mse", cfg.w_latent_mse), ("latent_smoothl1", cfg.w_latent_smoothl1), ("nce", cfg.w_nce)] if w > 0}
    assert set(out.terms) == expected
    out.total.backward()
    assert torch.isfinite(out.total)


def test_baseline_without_motion_encoder():
    torch.manual_seed(0)
    model = RAM(RAMConfig(**TINY, use_motion_encoder=False))
    out = ram_loss(model, GaussianDiffusion(50), *batch(), LossConfig())
    assert set(out.terms) == {"gen"} and out.z_m is None
    out.total.backward()
    assert model.text_encoder.input_proj.weight.grad is not None


def test_bad_loss_config():
    with pytest.raises(ValueError, match="cond_dropout"):
        LossConfig(cond_dropout=1.5)
    with pytest.raises(ValueError, match=r"sr_tau \(a temperature\) must be a finite number > 0"):
        LossConfig(sr_tau=0)
