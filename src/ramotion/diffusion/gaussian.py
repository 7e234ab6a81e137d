"""Gaussian diffusion: T = 50, cosine schedule, x0 prediction, DDPM posterior (spec §4).

Hand-written (~120 lines) rather than a diffusers scheduler. diffusers' DDPMScheduler
("squaredcos_cap_v2" betas, custom timesteps) computes the same respaced posterior, but
from float32 tables and behind a `step()` that draws its own noise. Here the tables stay
float64, and the posterior between two kept timesteps is exposed as its coefficients
(`posterior_coefficients`: x_{t'} = c0·x0 + ct·x_t + σ·noise), which the sampling plan
computes once per sampler call (`sampling.SamplingPlan`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor


SCHEDULES = ("cosine",)  # the noise schedules GaussianDiffusion knows (RAMConfig.noise_schedule)


def cosine_alpha_bar(s: float | np.ndarray) -> float | np.ndarray:
    """ᾱ(s) = cos²((s + 0.008) / 1.008 · π/2) for s = t/T in [0, 1]."""
    return np.cos((np.asarray(s, dtype=np.float64) + 0.008) / 1.008 * math.pi / 2) ** 2


def cosine_betas(num_steps: int, max_beta: float = 0.999) -> np.ndarray:
    """β_i = min(1 − ᾱ((i+1)/T) / ᾱ(i/T), max_beta), i = 0..T−1 (improved DDPM), float64."""
    s = np.arange(num_steps + 1, dtype=np.float64) / num_steps
    ab = cosine_alpha_bar(s)
    return np.minimum(1.0 - ab[1:] / ab[:-1], max_beta)


def sampling_timesteps(n: int = 20, num_steps: int = 50) -> list[int]:
    """The kept timesteps for n-step sampling, descending: round(linspace(T−1, 0, n)).

    n = 20, T = 50 gives [49, 46, 44, 41, 39, 36, 34, 31, 28, 26, 23, 21, 18, 15, 13, 10, 8, 5, 3, 0].
    """
    if not 1 <= n <= num_steps:
        raise ValueError(f"number of sampling steps must be in 1..{num_steps}, got {n}")
    return [int(v) for v in np.round(np.linspace(num_steps - 1, 0, n))]


def _gather(table: Tensor, t: Tensor | int, like: Tensor) -> Tensor:
    """table[t] reshaped to broadcast against `like` (B, ...) and cast to its dtype/device."""
    t = torch.as_tensor(t, device=table.device).long()
    values = table[t]  # float64, () or (B,)
    if values.dim() == 1:
        values = values.reshape(-1, *([1] * (like.dim() - 1)))
    return values.to(device=like.device, dtype=like.dtype)


class GaussianDiffusion:
    """The forward process q(x_t | x0) and the posterior q(x_{t'} | x_t, x0) on float64 tables.

    Timesteps are 0-based: t = 0 is the least noisy, t = T−1 the most; `t_prev = -1`
    means "before step 0", i.e. the clean motion (ᾱ = 1).
    """

    def __init__(self, num_steps: int = 50, schedule: str = "cosine") -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown noise schedule {schedule!r}: only {', '.join(map(repr, SCHEDULES))} is supported")
        if num_steps < 1:
            raise ValueError(f"num_steps must be positive, got {num_steps}")
        self.num_steps = num_steps
        self.schedule = schedule
        self.betas = torch.from_numpy(cosine_betas(num_steps))  # (T,) float64
        self.alphas_cumprod = torch.cumprod(1.0 - self.betas, dim=0)  # (T,) float64
        self.sqrt_alphas_cumprod = self.alphas_cumprod.sqrt()
        self.sqrt_one_minus_alphas_cumprod = (1.0 - self.alphas_cumprod).sqrt()
        # ᾱ with a leading 1 for t = -1, indexed by t + 1.
        self._acp_ext = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod])

    def sample_t(self, batch: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> Tensor:
        """Uniform training timesteps (B,) long in 0..T−1."""
        t = torch.randint(0, self.num_steps, (batch,), generator=generator)
        return t.to(device)

    def q_sample(self, x0: Tensor, t: Tensor | int, noise: Tensor) -> Tensor:
        """x_t = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·noise. x0, noise (B, ...), t (B,) or int."""
        self._check_t(t)
        return _gather(self.sqrt_alphas_cumprod, t, x0) * x0 + _gather(self.sqrt_one_minus_alphas_cumprod, t, x0) * noise

    def posterior(self, x0: Tensor, x_t: Tensor, t: Tensor | int, t_prev: Tensor | int) -> tuple[Tensor, Tensor]:
        """Mean and variance of q(x_{t_prev} | x_t, x0) for kept timesteps t > t_prev ≥ −1.

        Uses the respaced β = 1 − ᾱ_t / ᾱ_{t_prev}: mean = c0·x0 + ct·x_t with
        c0 = sqrt(ᾱ_prev)·β / (1 − ᾱ_t), ct = sqrt(1 − β)·(1 − ᾱ_prev) / (1 − ᾱ_t), variance
        = β·(1 − ᾱ_prev) / (1 − ᾱ_t). For t_prev = −1 the mean is x0 and the variance 0.
        The variance is (B, 1, ...) for a (B,) t, a 0-d tensor for an int t; in x0's dtype.
        """
        c0, ct, var = self._posterior_tables(t, t_prev)
        shape = (-1, *([1] * (x0.dim() - 1)))
        c0, ct, var = (v.reshape(shape) if v.dim() == 1 else v for v in (c0, ct, var))
        cast = dict(device=x0.device, dtype=x0.dtype)
        mean = c0.to(**cast) * x0 + ct.to(**cast) * x_t
        return mean, var.to(**cast)

    def posterior_coefficients(self, t: int, t_prev: int) -> tuple[float, float, float]:
        """(c0, ct, σ) of the posterior from kept timestep t to t_prev (`posterior`'s mean
        c0·x0 + ct·x_t and standard deviation σ), as Python floats computed in float64, so
        that a sampling loop holds no host/device transfers."""
        c0, ct, var = self._posterior_tables(t, t_prev)
        return float(c0), float(ct), math.sqrt(max(float(var), 0.0))

    def _posterior_tables(self, t: Tensor | int, t_prev: Tensor | int) -> tuple[Tensor, Tensor, Tensor]:
        """float64 (c0, ct, variance) for t > t_prev >= -1, each () or (B,) like t."""
        self._check_t(t)
        t_idx = torch.as_tensor(t).long()
        prev_idx = torch.as_tensor(t_prev).long()
        if bool((prev_idx < -1).any()) or bool((prev_idx >= t_idx).any()):
            raise ValueError(f"posterior needs t > t_prev >= -1, got t={t_idx.tolist()} t_prev={prev_idx.tolist()}")
        acp_t = self._acp_ext[t_idx + 1]
        acp_prev = self._acp_ext[prev_idx + 1]
        beta = 1.0 - acp_t / acp_prev
        c0 = acp_prev.sqrt() * beta / (1.0 - acp_t)
        ct = (1.0 - beta).sqrt() * (1.0 - acp_prev) / (1.0 - acp_t)
        var = beta * (1.0 - acp_prev) / (1.0 - acp_t)
        return c0, ct, var

    def step(self, x0_hat: Tensor, x_t: Tensor, t: Tensor | int, t_prev: Tensor | int, noise: Tensor | None = None) -> Tensor:
        """One ancestral step: sample x_{t_prev} ~ N(mean, variance); noise-free when t_prev = −1."""
        mean, var = self.posterior(x0_hat, x_t, t, t_prev)
        if noise is None:
            noise = torch.randn_like(x_t)
        return mean + var.sqrt() * noise

    def _check_t(self, t: Tensor | int) -> None:
        t = torch.as_tensor(t)
        if bool((t < 0).any()) or bool((t >= self.num_steps).any()):
            raise ValueError(f"timesteps must be in 0..{self.num_steps - 1}, got {t.tolist()}")
