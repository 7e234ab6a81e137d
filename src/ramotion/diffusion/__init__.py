"""Gaussian diffusion (cosine schedule, x0 prediction, respaced DDPM posterior)."""

from .gaussian import GaussianDiffusion, cosine_alpha_bar, cosine_betas, sampling_timesteps

__all__ = ["GaussianDiffusion", "cosine_alpha_bar", "cosine_betas", "sampling_timesteps"]
