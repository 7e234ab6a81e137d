"""Classifier-free guidance and Reconstructive Error Guidance (spec §6, eq. 10-11).

At a kept step with noisy motion x_t and the cached text latent z_s:

    x̂_c = D(x_t, t, z_s)        x̂_u = D(x_t, t, 0)        x̂_r = D(x_t, t, E_M(x̃_prev))
    x̃   = x̂_c + w_r·(x̂_c − x̂_r) + w_c·(x̂_c − x̂_u)

All branches that are needed run as ONE batched forward of the denoiser (up to 3B
rows); a branch whose weight is zero is not computed at all.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Union

import torch
from torch import Tensor

# D: (x_t (B,T,D), t (B,) long, z (B,d_E), mask (B,T) bool) -> x0_hat (B,T,D)
Denoiser = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
# E_M: (x (B,T,D) normalised features, mask (B,T) bool) -> z (B,d_E)
MotionEncoder = Callable[[Tensor, Tensor], Tensor]

# Where REG runs: "all" (every kept step but the first), "none" / None, an int k
# (the first k kept steps after the first), or a list of timesteps (e.g. [46, 44]).
RegSteps = Union[str, int, Sequence[int], None]


def reg_schedule(reg_steps: RegSteps, timesteps: Sequence[int]) -> list[bool]:
    """One flag per kept timestep saying whether REG runs there.

    The first kept step never runs REG: there is no previous estimate to re-encode.
    """
    n = len(timesteps)
    if reg_steps is None or (isinstance(reg_steps, str) and reg_steps.strip().lower() == "none"):
        return [False] * n
    if isinstance(reg_steps, str):
        if reg_steps.strip().lower() == "all":
            return [False] + [True] * (n - 1)
        return reg_schedule(parse_reg_steps(reg_steps), timesteps)
    if isinstance(reg_steps, bool):
        raise ValueError(f"reg_steps must be 'all', 'none', an int k or a list of timesteps, got {reg_steps!r}")
    if isinstance(reg_steps, numbers.Integral):
        reg_steps = int(reg_steps)
        if not 0 <= reg_steps <= n - 1:
            raise ValueError(f"REG on the first k steps needs 0 <= k <= {n - 1} (the first of {n} steps has no previous estimate), got k={reg_steps}")
        return [False] + [i < reg_steps for i in range(n - 1)]
    try:
        wanted = [int(s) for s in reg_steps]
    except (TypeError, ValueError):
        raise ValueError(f"reg_steps must be 'all', 'none', an int k or a list of timesteps, got {reg_steps!r}") from None
    kept = list(timesteps)
    for s in wanted:
        if s not in kept:
            raise ValueError(f"REG timestep {s} is not one of the kept sampling timesteps {kept}")
        if s == kept[0]:
            raise ValueError(f"REG cannot run at timestep {s}, the first sampling step: there is no previous estimate to re-encode")
    chosen = set(wanted)
    return [t in chosen for t in kept]


def parse_reg_steps(text: str) -> RegSteps:
    """Parse a command-line REG schedule: 'all', 'none', 'first:K' or a comma list '46,44'."""
    s = text.strip().lower()
    if s in ("all", "none"):
        return s
    if s.startswith("first:"):
        k = s[len("first:") :]
        if not k.isdigit():
            raise ValueError(f"bad REG schedule {text!r}: 'first:K' needs a whole number K")
        return int(k)
    parts = [p.strip() for p in s.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"bad REG schedule {text!r}: expected 'all', 'none', 'first:K' or timesteps like '46,44'")
    return [int(p) for p in parts]


def guided_x0(
    denoise: Denoiser,
    encode_motion: MotionEncoder | None,
    x_t: Tensor,
    t: Tensor,
    z_text: Tensor,
    mask: Tensor,
    *,
    w_cfg: float,
    w_reg: float,
    x_prev: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The guided x0 estimate x̃ of eq. 11 and the conditional one x̂_c, both (B, T, D) in x_t's dtype.

    x_t (B, T, D), t (B,) long, z_text (B, d_E), mask (B, T) bool. REG runs when `x_prev`
    (the previous step's estimate, (B, T, D)) is given and w_reg != 0; CFG when w_cfg != 0.
    """
    batch = x_t.shape[0]
    latents = [z_text]  # rows 0..B-1: conditional
    if w_cfg != 0:
        latents.append(torch.zeros_like(z_text))  # unconditional
    use_reg = x_prev is not None and w_reg != 0
    if use_reg:
        assert encode_motion is not None, "REG without a motion encoder (SamplingPlan.resolve refuses such plans)"
        latents.append(encode_motion(x_prev, mask).to(z_text.dtype))  # (B, d_E): ẑ = E_M(x̃_prev)
    n = len(latents)
    z = torch.cat(latents) if n > 1 else z_text  # (nB, d_E)
    if n > 1:
        x_in, t_in, m_in = x_t.repeat(n, 1, 1), t.repeat(n), mask.repeat(n, 1)
    else:
        x_in, t_in, m_in = x_t, t, mask
    out = denoise(x_in, t_in, z, m_in).to(x_t.dtype)  # (nB, T, D)
    branches = out.split(batch)
    x_cond = branches[0]
    x_tilde = x_cond  # eq. 11, terms in the paper's order
    if use_reg:
        x_tilde = x_tilde + w_reg * (x_cond - branches[-1])
    if w_cfg != 0:
        x_tilde = x_tilde + w_cfg * (x_cond - branches[1])
    return x_tilde, x_cond
