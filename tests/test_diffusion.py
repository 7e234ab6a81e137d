"""GaussianDiffusion against closed-form values (spec §4)."""

import math

import numpy as np
import pytest
import torch

from ramotion.diffusion import GaussianDiffusion, cosine_betas, sampling_timesteps


def abar(s: float) -> float:
    return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2


def test_alphas_cumprod_closed_form():
    d = GaussianDiffusion(50)
    assert d.alphas_cumprod.dtype == torch.float64 and d.betas.shape == (50,)
    # Without the 0.999 cap, ᾱ_i = ᾱ((i+1)/T) / ᾱ(0); the cap only bites on the last step.
    for i in range(49):
        assert d.alphas_cumprod[i].item() == pytest.approx(abar((i + 1) / 50) / abar(0.0), rel=1e-12)
    assert d.betas[-1].item() == pytest.approx(0.999)
    assert d.alphas_cumprod[-1].item() == pytest.approx(d.alphas_cumprod[-2].item() * 0.001, rel=1e-12)
    assert bool((d.betas > 0).all()) and bool((d.betas[1:] >= d.betas[:-1]).all())


def test_sampling_timesteps():
    assert sampling_timesteps(20, 50) == [49, 46, 44, 41, 39, 36, 34, 31, 28, 26, 23, 21, 18, 15, 13, 10, 8, 5, 3, 0]
    assert sampling_timesteps(50, 50) == list(range(49, -1, -1))
    with pytest.raises(ValueError, match="sampling steps"):
        sampling_timesteps(0)


def test_q_sample_matches_formula():
    d = GaussianDiffusion(50)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(3, 7, 5, generator=g)
    noise = torch.randn(3, 7, 5, generator=g)
    t = torch.tensor([0, 17, 49])
    xt = d.q_sample(x0, t, noise)
    for b, tb in enumerate(t.tolist()):
        a = d.alphas_cumprod[tb].item()
        torch.testing.assert_close(xt[b], math.sqrt(a) * x0[b] + math.sqrt(1 - a) * noise[b])
    with pytest.raises(ValueError, match="timesteps"):
        d.q_sample(x0, torch.tensor([0, 1, 50]), noise)


def test_posterior_adjacent_steps_is_ddpm():
    """For t_prev = t-1 the posterior is DDPM's with the schedule's own β_t."""
    d = GaussianDiffusion(50)
    g = torch.Generator().manual_seed(1)
    x0, xt = torch.randn(2, 4, 3, generator=g, dtype=torch.float64), torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    t = 30
    ab, ab_prev, beta = d.alphas_cumprod[t].item(), d.alphas_cumprod[t - 1].item(), d.betas[t].item()
    mean, var = d.posterior(x0, xt, t, t - 1)
    expected_mean = math.sqrt(ab_prev) * beta / (1 - ab) * x0 + math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab) * xt
    torch.testing.assert_close(mean, expected_mean, rtol=1e-12, atol=1e-12)
    assert var.item() == pytest.approx(beta * (1 - ab_prev) / (1 - ab), rel=1e-12)


def test_posterior_final_step_returns_x0():
    d = GaussianDiffusion(50)
    x0, xt = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    mean, var = d.posterior(x0, xt, torch.tensor([3, 0]), torch.tensor([-1, -1]))
    torch.testing.assert_close(mean, x0)
    assert var.shape == (2, 1, 1) and float(var.abs().max()) == 0.0
    with pytest.raises(ValueError, match="t > t_prev"):
        d.posterior(x0, xt, 5, 5)


def test_posterior_equals_respaced_betas():
    """Posterior between kept steps == a DDPM built from β'_k = 1 − ᾱ_{t_k}/ᾱ_{t_{k+1}}."""
    d = GaussianDiffusion(50)
    kept = sampling_timesteps(20, 50)[::-1]  # ascending 0, 3, 5, ...
    acp = d.alphas_cumprod.numpy()[kept]
    new_betas = 1 - acp / np.concatenate([[1.0], acp[:-1]])
    new_acp = np.cumprod(1 - new_betas)
    np.testing.assert_allclose(new_acp, acp, rtol=1e-12)
    g = torch.Generator().manual_seed(2)
    x0, xt = torch.randn(4, 6, generator=g, dtype=torch.float64), torch.randn(4, 6, generator=g, dtype=torch.float64)
    for k in range(1, len(kept)):
        beta, a_t, a_p = new_betas[k], new_acp[k], new_acp[k - 1]
        mean, var = d.posterior(x0, xt, kept[k], kept[k - 1])
        expected = np.sqrt(a_p) * beta / (1 - a_t) * x0.numpy() + np.sqrt(1 - beta) * (1 - a_p) / (1 - a_t) * xt.numpy()
        np.testing.assert_allclose(mean.numpy(), expected, rtol=1e-10, atol=1e-12)
        assert var.item() == pytest.approx(beta * (1 - a_p) / (1 - a_t), rel=1e-10)


def test_posterior_is_the_conditional_of_the_forward_process():
    """Monte-Carlo check of the posterior: sampling x_{t'} ~ q(.|x_t,x0) with x_t ~ q(.|x0)
    reproduces the marginal q(x_{t'}|x0) (mean sqrt(ᾱ')x0, variance 1−ᾱ')."""
    d = GaussianDiffusion(50)
    g = torch.Generator().manual_seed(3)
    n, t, tp = 200_000, 41, 31
    x0 = torch.full((n, 1), 0.7, dtype=torch.float64)
    xt = d.q_sample(x0, t, torch.randn(n, 1, generator=g, dtype=torch.float64))
    xp = d.step(x0, xt, t, tp, noise=torch.randn(n, 1, generator=g, dtype=torch.float64))
    a = d.alphas_cumprod[tp].item()
    assert xp.mean().item() == pytest.approx(math.sqrt(a) * 0.7, abs=0.01)
    assert xp.var().item() == pytest.approx(1 - a, abs=0.01)


def test_cosine_betas_cap():
    assert float(cosine_betas(1000).max()) == pytest.approx(0.999)
    with pytest.raises(ValueError, match="schedule"):
        GaussianDiffusion(50, schedule="linear")
