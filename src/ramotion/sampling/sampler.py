"""The RAM sampler: DDPM ancestral steps over kept timesteps with CFG and REG (spec §4, §6).

Small functions over callables (k-diffusion style): `sample` takes the denoiser D,
the motion encoder E_M, a diffusion (anything with `num_steps` and
`posterior(x0, x_t, t, t_prev) -> (mean, variance)`), the cached text latent and a
noise source. It works on whatever frame count the mask has: a batch runs on its
longest sample, never on a fixed 196 frames.

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
    """What the sampler needs from a diffusion process (ramotion.diffusion.GaussianDiffusion)."""

    num_steps: int

    def posterior(self, x0: Tensor, x_t: Tensor, t: int, t_prev: int) -> tuple[Tensor, Tensor]: ...


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


def posterior_coefficients(diffusion: Diffusion, t: int, t_prev: int) -> tuple[float, float, float]:
    """(c0, ct, sigma) with x_{t_prev} = c0·x0 + ct·x_t + sigma·noise.

    The posterior mean is linear in (x0, x_t), so evaluating it at the unit vectors
    reads off its coefficients from the diffusion's own definition (float64). Taking
    them as Python floats keeps the sampling loop free of host/device transfers.
    """
    unit_x0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    unit_xt = torch.tensor([0.0, 1.0], dtype=torch.float64)
    mean, var = diffusion.posterior(unit_x0, unit_xt, t, t_prev)
    c0, ct = (float(v) for v in mean.reshape(-1)[:2])
    return c0, ct, math.sqrt(max(float(var.reshape(-1)[0]), 0.0))


@torch.no_grad()
def sample(
    denoise: Denoiser,
    encode_motion: MotionEncoder | None,
    diffusion: Diffusion,
    z_text: Tensor,
    mask: Tensor,
    noise: NoiseSource,
    config: SamplerConfig = SamplerConfig(),
    callback: Callable[[int, int, Tensor], None] | None = None,
    x0_hook: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Sample normalised motions x0 (B, T, D) for text latents z_text (B, d_E) and mask (B, T).

    Step k at timestep t_k: x̃ from `guided_x0` (REG from the previous step's estimate
    when the schedule says so), then x_{t_{k+1}} = posterior mean + sigma·noise (the
    last step returns x̃ itself). Padded frames stay exactly zero. `callback(k, t_k, x̃)`
    runs after each step (progress bars, visualising the trajectory). `x0_hook(x̃) -> x̃'`
    (both (B, T, D)) rewrites every step's estimate before the posterior step and before
    REG re-encodes it (inpainting imposes the known part there: `sampling.inpaint`).
    """
    config.validate()
    timesteps = config.kept_timesteps(diffusion.num_steps)
    use_reg = config.reg_flags(timesteps)
    if any(use_reg) and encode_motion is None:
        raise ValueError("REG needs a motion encoder, and this model has none (use_motion_encoder=False): set w_reg=0 or reg_steps='none'")
    if z_text.dim() != 2 or mask.dim() != 2 or z_text.shape[0] != mask.shape[0]:
        raise ValueError(f"z_text must be (B, d_E) and mask (B, T) with the same B, got {tuple(z_text.shape)} and {tuple(mask.shape)}")
    coefficients = [posterior_coefficients(diffusion, t, timesteps[k + 1] if k + 1 < len(timesteps) else -1) for k, t in enumerate(timesteps)]

    batch, device = mask.shape[0], mask.device
    x = noise.draw()  # (B, T, D) x_T, zero on padded frames
    if x.shape[:2] != mask.shape:
        raise ValueError(f"noise of shape {tuple(x.shape)} does not match the mask {tuple(mask.shape)}")
    frame_mask = mask[..., None].to(x.dtype)  # (B, T, 1)
    previous: Tensor | None = None  # the estimate E_M re-encodes at the next REG step
    for k, t in enumerate(timesteps):
        t_batch = torch.full((batch,), t, dtype=torch.long, device=device)
        x_tilde, x_cond = guided_x0(
            denoise, encode_motion, x, t_batch, z_text, mask, w_cfg=config.w_cfg, w_reg=config.w_reg, x_prev=previous if use_reg[k] else None
        )
        x_tilde = x_tilde * frame_mask
        if x0_hook is not None:
            x_tilde = x0_hook(x_tilde)
        c0, ct, sigma = coefficients[k]
        x = c0 * x_tilde + ct * x
        if sigma > 0:
            x = x + sigma * noise.draw()
        if k + 1 < len(timesteps) and use_reg[k + 1]:
            if config.reg_source == "guided":
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
    return sample(denoise, None, diffusion, z_text, mask, noise, config, callback)

