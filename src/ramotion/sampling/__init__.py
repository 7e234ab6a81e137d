"""Sampling: DDPM over kept timesteps with classifier-free guidance and REG (spec §4, §6), and inpainting."""

from .guidance import RegSteps, guided_x0, parse_reg_steps, reg_schedule
from .inpaint import check_known_mask, sample_inpaint
from .noise import PerSampleNoise, lengths_to_mask
from .sampler import MDM_BASELINE, SamplerConfig, SamplingPlan, sample, sample_mdm

__all__ = [
    "MDM_BASELINE",
    "PerSampleNoise",
    "RegSteps",
    "SamplerConfig",
    "SamplingPlan",
    "check_known_mask",
    "guided_x0",
    "lengths_to_mask",
    "parse_reg_steps",
    "reg_schedule",
    "sample",
    "sample_inpaint",
    "sample_mdm",
]
