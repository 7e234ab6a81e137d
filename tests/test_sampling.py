"""The sampler: DDPM parity, eq. 11, batched branches, seeds, padding invariance, REG schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ramotion.diffusion import GaussianDiffusion
from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.sampling import (
    MDM_BASELINE,
    PerSampleNoise,
    SamplerConfig,
    SamplingPlan,
    guided_x0,
    lengths_to_mask,
    parse_reg_steps,
    reg_schedule,
    sample,
    sample_mdm,
)

KEPT_20 = [49, 46, 44, 41, 39, 36, 34, 31, 28, 26, 23, 21, 18, 15, 13, 10, 8, 5, 3, 0]
FEAT = 6


def plan(config: SamplerConfig, diffusion: GaussianDiffusion) -> SamplingPlan:
    """The sampling plan of `config` for a model with a motion encoder."""
    return SamplingPlan.resolve(config, diffusion, motion_encoder=True)


@pytest.fixture(scope="module")
def tiny() -> RAM:
    """A tiny randomly initialised RAM (eval mode: no dropout) that still reaches 196 frames."""
    torch.manual_seed(0)
    cfg = RAMConfig(feature_dim=FEAT, latent_dim=8, text_dim=8, enc_layers=1, enc_heads=2, enc_ff=16, dim=16, layers=2, heads=2, ff=32, max_frames=196)
    return RAM(cfg).eval()


class Recorder:
    """Wraps D and E_M, recording the shapes each call saw."""

    def __init__(self, model: RAM) -> None:
        self.model = model
        self.denoise_shapes: list[tuple[int, ...]] = []
        self.encode_calls = 0

    def denoise(self, x, t, z, mask):
        self.denoise_shapes.append(tuple(x.shape))
        return self.model.denoise(x, t, z, mask)

    def encode_motion(self, x, mask):
        self.encode_calls += 1
        return self.model.encode_motion(x, mask)


def independent_ddpm(model: RAM, z: torch.Tensor, length: int, seed: int, kept: list[int], num_steps: int = 50) -> np.ndarray:
    """Plain ancestral DDPM on the respaced cosine schedule, written from the formulas (DDIM, eta = 1)."""

    def f(s: float) -> float:
        return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = [min(1 - f((i + 1) / num_steps) / f(i / num_steps), 0.999) for i in range(num_steps)]
    abar = np.cumprod([1 - b for b in betas])
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(length, FEAT, generator=gen).double().numpy()
    mask = torch.ones(1, length, dtype=torch.bool)
    for k, t in enumerate(kept):
        x0 = model.denoise(torch.from_numpy(x).float()[None], torch.tensor([t]), z, mask)[0].double().numpy()
        if k + 1 == len(kept):
            return x0
        ab_t, ab_p = abar[t], abar[kept[k + 1]]
        eps = (x - math.sqrt(ab_t) * x0) / math.sqrt(1 - ab_t)
        sigma2 = (1 - ab_p) / (1 - ab_t) * (1 - ab_t / ab_p)
        noise = torch.randn(length, FEAT, generator=gen).double().numpy()
        x = math.sqrt(ab_p) * x0 + math.sqrt(1 - ab_p - sigma2) * eps + math.sqrt(sigma2) * noise
    raise AssertionError("unreachable")


@torch.no_grad()
@pytest.mark.parametrize("steps", [20, 50])
def test_no_guidance_equals_independent_ddpm(tiny: RAM, steps: int) -> None:
    diffusion = GaussianDiffusion(50)
    z = torch.randn(1, 8, generator=torch.Generator().manual_seed(1))
    kept = KEPT_20 if steps == 20 else list(range(49, -1, -1))
    expected = independent_ddpm(tiny, z, 24, seed=5, kept=kept)
    noise = PerSampleNoise([5], [24], FEAT)
    got = sample(tiny.denoise, tiny.encode_motion, plan(SamplerConfig(steps=steps, w_reg=0.0, w_cfg=0.0, reg_steps="none"), diffusion), z, lengths_to_mask([24]), noise)
    assert got.shape == (1, 24, FEAT)
    np.testing.assert_allclose(got[0].double().numpy(), expected, rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_reg_cfg_step_is_eq11_by_hand(tiny: RAM) -> None:
    gen = torch.Generator().manual_seed(2)
    x_t, x_prev = torch.randn(2, 10, FEAT, generator=gen), torch.randn(2, 10, FEAT, generator=gen)
    z = torch.randn(2, 8, generator=gen)
    mask = lengths_to_mask([10, 7])
    t = torch.tensor([30, 30])
    x_c = tiny.denoise(x_t, t, z, mask)
    x_u = tiny.denoise(x_t, t, torch.zeros_like(z), mask)
    x_r = tiny.denoise(x_t, t, tiny.encode_motion(x_prev, mask), mask)
    by_hand = x_c + 5.0 * (x_c - x_r) + 1.5 * (x_c - x_u)
    x_tilde, x_cond = guided_x0(tiny.denoise, tiny.encode_motion, x_t, t, z, mask, w_cfg=1.5, w_reg=5.0, x_prev=x_prev)
    # One batched forward of 3B rows equals three separate forwards.
    torch.testing.assert_close(x_cond, x_c, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x_tilde, by_hand, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(x_tilde, x_c + 1.5 * (x_c - x_u), atol=1e-3)  # REG changed the estimate


@torch.no_grad()
@pytest.mark.parametrize("reg_source", ["guided", "cond"])
def test_two_step_sampler_with_reg_by_hand(tiny: RAM, reg_source: str) -> None:
    """Step 0 is CFG only; step 1 re-encodes the previous estimate (x̃ or x̂_c) and applies eq. 11."""
    diffusion = GaussianDiffusion(50)
    z = torch.randn(1, 8, generator=torch.Generator().manual_seed(3))
    mask = lengths_to_mask([12])
    cfg = SamplerConfig(timesteps=(49, 20), w_reg=5.0, w_cfg=1.5, reg_steps="all", reg_source=reg_source)
    got = sample(tiny.denoise, tiny.encode_motion, plan(cfg, diffusion), z, mask, PerSampleNoise([9], [12], FEAT))

    gen = torch.Generator().manual_seed(9)
    x = torch.randn(1, 12, FEAT, generator=gen)
    d = lambda x_, t_, z_: tiny.denoise(x_, torch.tensor([t_]), z_, mask)  # noqa: E731
    zero = torch.zeros_like(z)
    c0 = d(x, 49, z)
    tilde0 = c0 + 1.5 * (c0 - d(x, 49, zero))
    mean, var = diffusion.posterior(tilde0.double(), x.double(), 49, 20)
    x = (mean + var.sqrt() * torch.randn(1, 12, FEAT, generator=gen).double()).float()
    prev = tilde0 if reg_source == "guided" else c0
    c1 = d(x, 20, z)
    expected = c1 + 5.0 * (c1 - d(x, 20, tiny.encode_motion(prev, mask))) + 1.5 * (c1 - d(x, 20, zero))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_branches_batched_and_only_what_is_needed(tiny: RAM) -> None:
    diffusion = GaussianDiffusion(50)
    z = torch.randn(2, 8)
    mask = lengths_to_mask([60, 40])
    runs = {
        "ram_all": (SamplerConfig(), [(4, 60, FEAT)] + [(6, 60, FEAT)] * 19, 19),
        "ram_46_44": (SamplerConfig(reg_steps=[46, 44]), [(4, 60, FEAT)] + [(6, 60, FEAT)] * 2 + [(4, 60, FEAT)] * 17, 2),
        "first_2": (SamplerConfig(reg_steps=2), [(4, 60, FEAT)] + [(6, 60, FEAT)] * 2 + [(4, 60, FEAT)] * 17, 2),
        "no_guidance": (SamplerConfig(w_reg=0.0, w_cfg=0.0), [(2, 60, FEAT)] * 20, 0),
        "mdm": (MDM_BASELINE, [(4, 60, FEAT)] * 50, 0),
    }
    for name, (cfg, shapes, encodes) in runs.items():
        rec = Recorder(tiny)
        sample(rec.denoise, rec.encode_motion, plan(cfg, diffusion), z, mask, PerSampleNoise([0, 1], [60, 40], FEAT))
        assert rec.denoise_shapes == shapes, name  # one forward per step, on 60 frames (not 196)
        assert rec.encode_calls == encodes, name
    rec = Recorder(tiny)
    sample_mdm(rec.denoise, diffusion, z, mask, PerSampleNoise([0, 1], [60, 40], FEAT))
    assert len(rec.denoise_shapes) == 50 and rec.encode_calls == 0


@torch.no_grad()
def test_seeds_bitwise_and_distinct(tiny: RAM) -> None:
    diffusion, z, mask = GaussianDiffusion(50), torch.randn(1, 8), lengths_to_mask([30])
    run = lambda seed: sample(tiny.denoise, tiny.encode_motion, plan(SamplerConfig(), diffusion), z, mask, PerSampleNoise([seed], [30], FEAT))  # noqa: E731
    a, b, c = run(11), run(11), run(12)
    assert torch.equal(a, b)
    assert (a - c).abs().max() > 1e-2


@torch.no_grad()
def test_padding_invariance(tiny: RAM) -> None:
    diffusion = GaussianDiffusion(50)
    gen = torch.Generator().manual_seed(4)
    z_long, z_short = torch.randn(1, 8, generator=gen), torch.randn(1, 8, generator=gen)
    alone = sample(tiny.denoise, tiny.encode_motion, plan(SamplerConfig(), diffusion), z_short, lengths_to_mask([60]), PerSampleNoise([7], [60], FEAT))
    batch = sample(
        tiny.denoise, tiny.encode_motion, plan(SamplerConfig(), diffusion), torch.cat([z_long, z_short]), lengths_to_mask([196, 60]), PerSampleNoise([3, 7], [196, 60], FEAT)
    )
    assert batch.shape == (2, 196, FEAT)
    torch.testing.assert_close(batch[1, :60], alone[0], rtol=1e-4, atol=1e-4)
    assert torch.equal(batch[1, 60:], torch.zeros(136, FEAT))  # padded frames stay zero


def test_reg_schedules() -> None:
    assert reg_schedule("all", KEPT_20) == [False] + [True] * 19
    assert reg_schedule("none", KEPT_20) == [False] * 20 == reg_schedule(None, KEPT_20) == reg_schedule(0, KEPT_20)
    flags = reg_schedule([46, 44], KEPT_20)
    assert [t for t, f in zip(KEPT_20, flags) if f] == [46, 44]
    assert reg_schedule(2, KEPT_20) == flags == reg_schedule("46,44", KEPT_20)
    assert [t for t, f in zip(KEPT_20, reg_schedule(6, KEPT_20)) if f] == [46, 44, 41, 39, 36, 34]
    assert parse_reg_steps("first:4") == 4 and parse_reg_steps(" ALL ") == "all" and parse_reg_steps("46, 44") == [46, 44]
    with pytest.raises(ValueError, match="first sampling step"):
        reg_schedule([49, 46], KEPT_20)
    with pytest.raises(ValueError, match="not one of the kept"):
        reg_schedule([45], KEPT_20)
    with pytest.raises(ValueError, match="0 <= k <= 19"):
        reg_schedule(20, KEPT_20)
    with pytest.raises(ValueError, match="bad REG schedule"):
        parse_reg_steps("sometimes")


def test_bad_sampler_configs(tiny: RAM) -> None:
    diffusion, z, mask = GaussianDiffusion(50), torch.zeros(1, 8), lengths_to_mask([8])
    noise = lambda: PerSampleNoise([0], [8], FEAT)  # noqa: E731
    for cfg, msg in [
        (SamplerConfig(steps=0), "steps must be"),
        (SamplerConfig(steps=51), "steps must be"),
        (SamplerConfig(timesteps=(10, 20)), "strictly descending"),
        (SamplerConfig(timesteps=(50, 20)), "lie in 0..49"),
        (SamplerConfig(w_reg=float("nan")), "w_reg must be a finite"),
        (SamplerConfig(reg_source="x"), "reg_source"),
    ]:
        with pytest.raises(ValueError, match=msg):
            SamplingPlan.resolve(cfg, diffusion, motion_encoder=True)
    with pytest.raises(ValueError, match="needs a motion encoder"):
        SamplingPlan.resolve(SamplerConfig(), diffusion, motion_encoder=False)
    # Without REG a model without E_M samples.
    no_reg = SamplingPlan.resolve(SamplerConfig(w_reg=0.0, steps=2), diffusion, motion_encoder=False)
    assert sample(tiny.denoise, None, no_reg, z, mask, noise()).shape == (1, 8, FEAT)
    with pytest.raises(ValueError, match="one seed per sample"):
        PerSampleNoise([0, 1], [8], FEAT)


def test_plan_coefficients_are_the_posterior() -> None:
    """The plan's (c0, ct, σ) per step are the diffusion's posterior to the next kept step."""
    diffusion = GaussianDiffusion(50)
    p = plan(SamplerConfig(), diffusion)
    assert p.timesteps == tuple(KEPT_20) and p.reg == (False,) + (True,) * 19
    x0, xt = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    for k, t in enumerate(p.timesteps):
        t_next = p.timesteps[k + 1] if k + 1 < len(p.timesteps) else -1
        mean, var = diffusion.posterior(x0, xt, t, t_next)
        c0, ct, sigma = p.coefficients[k]
        torch.testing.assert_close(c0 * x0 + ct * xt, mean)
        assert sigma == pytest.approx(float(var) ** 0.5, abs=1e-15)
    assert p.coefficients[-1] == (1.0, 0.0, 0.0)  # the last step returns the estimate itself
