"""Sampling: DDPM over kept timesteps with classifier-free guidance and REG (spec §4, §6)."""

from .guidance import RegSteps, guided_x0, parse_reg_steps, reg_schedule
from .noise import PerSampleNoise, lengths_to_mask
from .sampler import MDM_BASELINE, SamplerConfig, posterior_coefficients, sample, sample_mdm

__all__ = [
    "MDM_BASELINE",
    "PerSampleNoise",
    "RegSteps",
    "SamplerConfig",
    "guided_x0",
    "lengths_to_mask",
    "parse_reg_steps",
    "posterior_coefficients",
    "reg_schedule",
    "sample",
    "sample_mdm",
]
