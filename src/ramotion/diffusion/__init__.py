"""Gaussian diffusion (cosine schedule, x0 prediction, respaced DDPM posterior)."""

from .gaussian import SCHEDULES, GaussianDiffusion, cosine_alpha_bar, cosine_betas, sampling_timesteps

__all__ = ["SCHEDULES", "GaussianDiffusion", "cosine_alpha_bar", "cosine_betas", "sampling_timesteps"]
