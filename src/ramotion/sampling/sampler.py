"""The RAM sampler: DDPM ancestral steps over kept timesteps with CFG and REG (spec §4, §6).

Small functions over callables (k-diffusion style): `sample` takes the denoiser D,
the motion encoder E_M, a `SamplingPlan` (the kept timesteps, where REG runs and the
posterior coefficients, resolved once from a `SamplerConfig` and a diffusion, as k-diffusion
samplers take their sigmas), the cached text latent and a noise source. It works on whatever
frame count the mask has: a batch runs on its longest sample, never on a fixed 196 frames.

`SamplerConfig()` is the paper's RAM setting (20 steps, w_r = 5, w_c = 1.5, REG on all
steps but the first, fed by the final guided estimate); `MDM_BASELINE` is the
MDM-style comparison of Table 3 (all 50 steps, CFG only).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from ..diffusion import sampling_timesteps
from .guidance import Denoiser, MotionEncoder, RegSteps, guided_x0, reg_schedule

REG_SOURCES = ("guided", "cond")


class Diffusion(Protocol):
    """What a sampling plan needs from a diffusion process (ramotion.diffusion.GaussianDiffusion)."""

    num_steps: int

    def posterior_coefficients(self, t: int, t_prev: int) -> tuple[float, float, float]: ...


class NoiseSource(Protocol):
    """Gives the next (B, T, D) standard normal draw (zero on padded frames)."""

    def draw(self) -> Tensor: ...


@dataclass(frozen=True)
class SamplerConfig:
    """How to sample: which timesteps, the guidance weights and the REG schedule.

    steps: number of kept timesteps, round(linspace(T-1, 0, steps)); `timesteps`
    (descending, ending anywhere >= 0) overrides it. reg_steps: "all" (all but the
    first step), "none", an int k (the first k steps after the first) or a list of
    timesteps. reg_source: which previous estimate E_M re-encodes, "guided" (x̃, the
    default) or "cond" (x̂_c) — the paper is ambiguous (spec §6).
    """

    steps: int = 20
    w_reg: float = 5.0
    w_cfg: float = 1.5
    reg_steps: RegSteps = "all"
    reg_source: str = "guided"
    timesteps: tuple[int, ...] | None = None

    def kept_timesteps(self, num_steps: int) -> list[int]:
        """The descending kept timesteps for a diffusion of `num_steps` training steps."""
        if self.timesteps is not None:
            ts = [int(t) for t in self.timesteps]
            if not ts:
                raise ValueError("timesteps must not be empty")
            if any(t < 0 or t >= num_steps for t in ts):
                raise ValueError(f"timesteps must lie in 0..{num_steps - 1}, got {ts}")
            if any(a <= b for a, b in zip(ts, ts[1:])):
                raise ValueError(f"timesteps must be strictly descending, got {ts}")
            return ts
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= num_steps:
            raise ValueError(f"steps must be a whole number in 1..{num_steps}, got {self.steps!r}")
        return sampling_timesteps(self.steps, num_steps)

    def reg_flags(self, timesteps: list[int]) -> list[bool]:
        """One flag per kept timestep: whether REG runs there (nowhere when w_reg is 0)."""
        return reg_schedule(self.reg_steps, timesteps) if self.w_reg != 0 else [False] * len(timesteps)

    def validate(self) -> None:
        """Raise ValueError on weights or options that make no sense."""
        for name in ("w_reg", "w_cfg"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if abs(value) > MAX_GUIDANCE:
                raise ValueError(f"{name} must be within ±{MAX_GUIDANCE:g} (the paper uses 0-5; larger weights only blow up), got {value!r}")
        if self.reg_source not in REG_SOURCES:
            raise ValueError(f"reg_source must be one of {', '.join(REG_SOURCES)}, got {self.reg_source!r}")


MAX_GUIDANCE = 100.0  # |w_r|, |w_c| above this only produce overflow: the paper's sweeps stay within 0-5

# Table 3's baseline: an MDM-style sampler, CFG only (w_c = 1.5, i.e. MDM's scale 2.5), all 50 steps.
MDM_BASELINE = SamplerConfig(steps=50, w_reg=0.0, w_cfg=1.5, reg_steps="none")


@dataclass(frozen=True)
class SamplingPlan:
    """A `SamplerConfig` resolved against a diffusion, once per call: what `sample` runs.

    timesteps: the kept timesteps, descending; reg: per step, whether REG runs there;
    coefficients: per step (c0, ct, σ) of the posterior to the next kept timestep (to the clean
    motion after the last), so x_next = c0·x̃ + ct·x_t + σ·noise. Built only by `resolve`, which
    is where every sampling rule is checked.
    """

    timesteps: tuple[int, ...]
    reg: tuple[bool, ...]
    coefficients: tuple[tuple[float, float, float], ...]
    w_reg: float
    w_cfg: float
    reg_source: str

    @classmethod
    def resolve(cls, config: SamplerConfig, diffusion: Diffusion, *, motion_encoder: bool) -> SamplingPlan:
        """Check `config` (weights, steps or timesteps, the REG schedule) and resolve it for
        `diffusion`. motion_encoder: whether the model has E_M; REG needs it. ValueError naming
        the problem otherwise."""
        config.validate()
        timesteps = config.kept_timesteps(diffusion.num_steps)
        reg = config.reg_flags(timesteps)
        if any(reg) and not motion_encoder:
            raise ValueError("REG needs a motion encoder, and this model has none (use_motion_encoder=False): set w_reg=0 or reg_steps='none'")
        following = [*timesteps[1:], -1]  # each step's target; -1 is the clean motion
        coefficients = tuple(diffusion.posterior_coefficients(t, t_next) for t, t_next in zip(timesteps, following))
        return cls(tuple(timesteps), tuple(reg), coefficients, config.w_reg, config.w_cfg, config.reg_source)


@torch.no_grad()
def sample(
    denoise: Denoiser,
    encode_motion: MotionEncoder | None,
    plan: SamplingPlan,
    z_text: Tensor,
    mask: Tensor,
    noise: NoiseSource,
    callback: Callable[[int, int, Tensor], None] | None = None,
    x0_hook: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Sample normalised motions x0 (B, T, D) for text latents z_text (B, d_E) and mask (B, T).

    Step k at timestep t_k: x̃ from `guided_x0` (REG from the previous step's estimate
    where the plan says so), then x_{t_{k+1}} = c0·x̃ + ct·x + σ·noise (the last step returns
    x̃ itself). Padded frames stay exactly zero. `callback(k, t_k, x̃)` runs after each step
    (progress bars, visualising the trajectory). `x0_hook(x̃) -> x̃'` (both (B, T, D)) rewrites
    every step's estimate before the posterior step and before REG re-encodes it (inpainting
    imposes the known part there: `sampling.inpaint`). encode_motion may be None only for a
    plan without REG (`SamplingPlan.resolve` checks that).
    """
    if z_text.dim() != 2 or mask.dim() != 2 or z_text.shape[0] != mask.shape[0]:
        raise ValueError(f"z_text must be (B, d_E) and mask (B, T) with the same B, got {tuple(z_text.shape)} and {tuple(mask.shape)}")
    batch, device = mask.shape[0], mask.device
    x = noise.draw()  # (B, T, D) x_T, zero on padded frames
    if x.shape[:2] != mask.shape:
        raise ValueError(f"noise of shape {tuple(x.shape)} does not match the mask {tuple(mask.shape)}")
    frame_mask = mask[..., None].to(x.dtype)  # (B, T, 1)
    steps = len(plan.timesteps)
    previous: Tensor | None = None  # the estimate E_M re-encodes at the next REG step
    for k, t in enumerate(plan.timesteps):
        t_batch = torch.full((batch,), t, dtype=torch.long, device=device)
        x_tilde, x_cond = guided_x0(
            denoise, encode_motion, x, t_batch, z_text, mask, w_cfg=plan.w_cfg, w_reg=plan.w_reg, x_prev=previous if plan.reg[k] else None
        )
        x_tilde = x_tilde * frame_mask
        if x0_hook is not None:
            x_tilde = x0_hook(x_tilde)
        c0, ct, sigma = plan.coefficients[k]
        x = c0 * x_tilde + ct * x
        if sigma > 0:
            x = x + sigma * noise.draw()
        if k + 1 < steps and plan.reg[k + 1]:
            if plan.reg_source == "guided":
                previous = x_tilde
            else:
                previous = x_cond * frame_mask if x0_hook is None else x0_hook(x_cond * frame_mask)
        if callback is not None:
            callback(k, t, x_tilde)
    return x


def sample_mdm(
    denoise: Denoiser,
    diffusion: Diffusion,
    z_text: Tensor,
    mask: Tensor,
    noise: NoiseSource,
    w_cfg: float = 1.5,
    steps: int | None = None,
    callback: Callable[[int, int, Tensor], None] | None = None,
) -> Tensor:
    """The MDM-style baseline of Table 3: CFG only, every training timestep (50) by default."""
    config = SamplerConfig(steps=steps or diffusion.num_steps, w_reg=0.0, w_cfg=w_cfg, reg_steps="none")
    return sample(denoise, None, SamplingPlan.resolve(config, diffusion, motion_encoder=False), z_text, mask, noise, callback)

