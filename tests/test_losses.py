"""The RAM objective: formulas, gradient routing of L_align, condition dropout, ablation variants,
TMR's negative filtering, and the in-batch negatives split over processes."""

import pytest
import torch
import torch.nn.functional as F

from ramotion.diffusion import GaussianDiffusion
from ramotion.model import RAM, RAMConfig
from ramotion.train.config import TrainConfig
from ramotion.train.losses import (
    LATENT_OBJECTIVES,
    LossConfig,
    info_nce,
    masked_mse,
    motion_centric_alignment,
    ram_loss,
    self_regularisation,
    sentence_embeddings,
)

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


def test_bad_negatives_and_filter_settings():
    with pytest.raises(ValueError, match="negatives must be one of global, per_device; got 'both'"):
        LossConfig(negatives="both")
    with pytest.raises(ValueError, match=r"nce_filter_threshold must be a similarity score in \[0, 1\]"):
        LossConfig(nce_filter_threshold=1.5)
    assert LossConfig().negatives == "global" and LossConfig().nce_filter_threshold is None  # the paper's batch is one batch


def test_table6_variants_as_the_paper_defines_them():
    """B and C: one bidirectional smooth-L1 alignment at weights 1 and TEMOS's 1e-5; D and E:
    TMR's InfoNCE with its filtering at 0.8, E with the same alignment at 1e-5; none uses MSE."""
    cfg = {name: LossConfig(**LATENT_OBJECTIVES[name]) for name in "ABCDE"}
    assert (cfg["B"].w_latent_smoothl1, cfg["C"].w_latent_smoothl1) == (1.0, 1e-5)
    assert LossConfig(**{**LATENT_OBJECTIVES["B"], "w_latent_smoothl1": 1e-5}) == cfg["C"]  # only the weight differs
    assert (cfg["D"].w_nce, cfg["D"].nce_tau, cfg["D"].nce_filter_threshold, cfg["D"].w_latent_smoothl1) == (1.0, 0.1, 0.8, 0.0)
    assert (cfg["E"].w_nce, cfg["E"].nce_tau, cfg["E"].nce_filter_threshold, cfg["E"].w_latent_smoothl1) == (0.1, 0.1, 0.8, 1e-5)
    assert all(c.w_latent_mse == 0 and c.w_align == 0 and c.w_sr == 0 for c in cfg.values())


def test_configs_saved_before_the_new_settings_still_load():
    """A run saved with the old B (bidirectional MSE) and without negatives / nce_filter_threshold."""
    old = TrainConfig(preset="tiny", variant="B").to_dict()
    old["loss"] = {k: v for k, v in old["loss"].items() if k not in ("negatives", "nce_filter_threshold")}
    old["loss"].update(w_latent_smoothl1=0.0, w_latent_mse=1.0)
    cfg = TrainConfig.from_dict(old)
    assert cfg.loss.w_latent_mse == 1.0 and cfg.loss.nce_filter_threshold is None and cfg.loss.negatives == "global"
    torch.manual_seed(0)
    out = ram_loss(RAM(RAMConfig(**TINY)), GaussianDiffusion(50), *batch(), cfg.loss)
    assert "latent_mse" in out.terms and "latent_smoothl1" not in out.terms  # it resumes with its own objective


def test_info_nce_filters_near_duplicate_negatives_like_tmr():
    """TMR's filter: pair j is no negative of pair i when (1 + cos(sent_i, sent_j)) / 2 > threshold;
    checked against the loss written out with those logits removed."""
    g = torch.Generator().manual_seed(0)
    z_s, z_m, sent = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g), torch.randn(6, 5, generator=g)
    sent[4] = sent[1] + 0.01  # near-duplicate captions: score ~1
    sent[2] = -sent[0]  # opposite: score 0, kept
    got = info_nce(z_s, z_m, 0.1, sent=sent, filter_threshold=0.8)
    a, b = F.normalize(z_s, dim=-1), F.normalize(z_m, dim=-1)
    logits = a @ b.T / 0.1
    keep = torch.ones(6, 6, dtype=torch.bool)
    keep[1, 4] = keep[4, 1] = False
    loss = 0.0
    for i in range(6):
        t2m = logits[i][keep[i]]
        m2t = logits[:, i][keep[i]]
        pos = int(keep[i, :i].sum())  # where the positive pair sits among the kept ones
        loss = loss + 0.5 * (-torch.log_softmax(t2m, 0)[pos] - torch.log_softmax(m2t, 0)[pos]) / 6
    torch.testing.assert_close(got, loss)
    # No filtering, or a threshold no pair exceeds: TMR's plain symmetric InfoNCE.
    plain = 0.5 * (F.cross_entropy(logits, torch.arange(6)) + F.cross_entropy(logits.T, torch.arange(6)))
    torch.testing.assert_close(info_nce(z_s, z_m, 0.1), plain)
    torch.testing.assert_close(info_nce(z_s, z_m, 0.1, sent=sent, filter_threshold=1.0), plain)
    with pytest.raises(ValueError, match="sentence embeddings"):
        info_nce(z_s, z_m, 0.1, filter_threshold=0.8)


def test_variant_d_filters_by_the_captions_sentence_embeddings():
    torch.manual_seed(0)
    model = RAM(RAMConfig(**TINY))
    motion, mask, text, tmask = batch()
    text[4], tmask[4] = text[2], tmask[2]  # the same caption twice
    cfg = LossConfig(**LATENT_OBJECTIVES["D"])
    out = ram_loss(model, GaussianDiffusion(50), motion, mask, text, tmask, cfg)
    sent = sentence_embeddings(text, tmask)  # (B, H): mean over the tokens, normalised
    torch.testing.assert_close(sent[0], F.normalize(text[0][tmask[0]].mean(0), dim=0))
    torch.testing.assert_close(out.terms["nce"], info_nce(out.z_s, out.z_m, 0.1, sent=sent, filter_threshold=0.8))
    assert not torch.allclose(out.terms["nce"], info_nce(out.z_s, out.z_m, 0.1))  # the duplicate was filtered


def test_in_batch_negatives_split_into_slices_sum_to_the_whole_batch():
    """The sharding arithmetic the multi-process path relies on, in one process: each slice
    scored against the whole batch (its rows at `offset`), averaged over slices, gives the
    whole batch's L_sr and InfoNCE, values and gradients (tests/test_losses_distributed.py runs
    it on two real processes)."""
    g = torch.Generator().manual_seed(1)
    z_s = torch.randn(8, 6, generator=g, requires_grad=True)
    z_m = torch.randn(8, 6, generator=g, requires_grad=True)
    sent = torch.randn(8, 4, generator=g)
    sent[6] = sent[1]
    whole = self_regularisation(z_m, 0.5) + info_nce(z_s, z_m, 0.1, sent=sent, filter_threshold=0.8)
    parts = sum(
        self_regularisation(z_m[s : s + 4], 0.5, batch=z_m, offset=s)
        + info_nce(z_s[s : s + 4], z_m[s : s + 4], 0.1, all_s=z_s, all_m=z_m, offset=s, sent=sent[s : s + 4], all_sent=sent, filter_threshold=0.8)
        for s in (0, 4)
    ) / 2
    torch.testing.assert_close(parts, whole)
    for got, want in zip(torch.autograd.grad(parts, [z_s, z_m]), torch.autograd.grad(whole, [z_s, z_m])):
        torch.testing.assert_close(got, want)
