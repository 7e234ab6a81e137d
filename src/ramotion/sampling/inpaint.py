"""Inpainting: sample a motion whose known part is fixed (MDM's edit mode, over RAM's sampler).

Given normalised features `known` (B, T, D) and a boolean `known_mask` (B, T, D), True on
what is kept, every step's guided estimate x̃ is overwritten on the kept entries with the
known values before anything else uses it:

    x̃  <-  where(known_mask, known, x̃)
    x_{t'} = c0·x̃ + ct·x_t + σ·noise           (the posterior step, as in `sample`)

This is how MDM's `edit` mode imposes its `inpainted_motion` (on the x0 prediction, with
x0-prediction models), not the RePaint-style replacement of x_t by q(x_t | x0_known): with
x0-prediction the posterior step already draws the kept entries of x_{t'} from
q(x_{t'} | x_t, x0 = known), so the noisy input the denoiser sees next is consistent with the
kept motion at every noise level, and the generated entries see it through attention. The
last step returns x̃ itself, and `sample_inpaint` re-imposes the known values on its result,
so kept entries come back bit for bit.

REG and the fixed part: REG re-encodes the previous step's estimate with E_M. That estimate
is taken AFTER the imposition (the hook in `sample` runs before REG keeps it), so E_M sees
the kept frames / joints exactly as given, together with the generated part; ẑ = E_M(x̃_prev)
then describes the whole edited motion, and REG's push w_r·(x̂_c − x̂_r) moves the estimate
away from what that whole motion already expresses towards what the text asks for. On the
kept entries that push is discarded by the next imposition; on the generated ones it acts as
in plain generation. With reg_source="cond" the conditional estimate is imposed too before it
is re-encoded. CFG is unchanged (it acts on the denoiser's outputs before the imposition).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .guidance import Denoiser, MotionEncoder
from .sampler import NoiseSource, SamplingPlan, sample


def check_known_mask(known: Tensor, known_mask: Tensor, mask: Tensor) -> Tensor:
    """Validate an inpainting request and return the mask limited to valid frames, (B, T, D) bool.

    known, known_mask (B, T, D), mask (B, T) bool. ValueError when the shapes differ, when the
    mask is not boolean, when the known values are not finite where kept, or when, for some
    sample, the mask keeps nothing (that is plain generation) or everything (nothing to generate).
    """
    if known.dim() != 3 or tuple(known.shape) != tuple(known_mask.shape):
        raise ValueError(f"known motion and known mask must both be (B, T, D), got {tuple(known.shape)} and {tuple(known_mask.shape)}")
    if tuple(known.shape[:2]) != tuple(mask.shape):
        raise ValueError(f"the known motion covers {tuple(known.shape[:2])} (batch, frames), the frame mask {tuple(mask.shape)}: they must match")
    if known_mask.dtype != torch.bool:
        raise ValueError(f"the known mask must be boolean (True = kept), got dtype {known_mask.dtype}")
    kept = known_mask & mask[..., None]  # (B, T, D): nothing is kept on padded frames
    if not bool(torch.isfinite(torch.where(kept, known, torch.zeros_like(known))).all()):
        raise ValueError("the known motion holds NaN or infinite values where it is kept")
    counts = kept.flatten(1).sum(1)  # (B,)
    valid = mask.sum(1) * known.shape[-1]  # (B,) entries per sample
    for i, (c, v) in enumerate(zip(counts.tolist(), valid.tolist())):
        which = f"sample {i}: " if len(counts) > 1 else ""
        if c == 0:
            raise ValueError(f"{which}the mask keeps nothing of the source: that is plain generation, not an edit")
        if c >= v:
            raise ValueError(f"{which}the mask keeps every frame and feature of the source: nothing is left to generate")
    return kept


def imposer(known: Tensor, known_mask: Tensor) -> Callable[[Tensor], Tensor]:
    """x̃ (B, T, D) -> x̃ with the kept entries replaced by the known values (the `x0_hook` of `sample`)."""

    def impose(x0: Tensor) -> Tensor:
        return torch.where(known_mask, known.to(x0.dtype), x0)

    return impose


def _blend_forward(x: Tensor, keep: Tensor, frames: int) -> Tensor:
    """One sample's joins from kept to generated (x (T, D), keep (T, D) bool), blended forward.

    At every frame b where a feature goes from kept (b-1) to generated (b), the generated run
    b, b+1, ... gets a decaying offset (cubic Hermite: value Δ and slope Δv at b, zero value and
    slope after `frames` frames, or half the run when kept frames close it) so that the feature
    continues the kept one's last value and velocity: y_b = 2 y_{b-1} - y_{b-2} (y_{b-1} + the
    generated velocity when only one frame is kept before b).
    """
    out = x.clone()
    n_frames = x.shape[0]
    starts = (keep[:-1] & ~keep[1:]).any(dim=1).nonzero().flatten() + 1  # frames b with a kept -> generated join
    for b in starts.tolist():
        dims = keep[b - 1] & ~keep[b]  # (D,)
        after = keep[b:]  # (T-b, D): the run ends at the first kept frame
        closed = after.any(dim=0)
        run = torch.where(closed, after.float().argmax(dim=0), torch.full_like(closed, n_frames - b, dtype=torch.long))  # (D,)
        width = torch.clamp(torch.where(closed, run // 2, run), max=frames)  # (D,) blend length per feature
        two_kept = dims & keep[b - 2] if b >= 2 else torch.zeros_like(dims)
        gen_vel = out[b + 1] - out[b] if b + 1 < n_frames else torch.zeros_like(out[b])  # (D,)
        kept_vel = torch.where(two_kept, out[b - 1] - out[b - 2 if b >= 2 else 0], gen_vel)
        gen_vel = torch.where(run > 1, gen_vel, kept_vel)
        delta = out[b - 1] + kept_vel - out[b]  # (D,) value offset at b
        delta_v = kept_vel - gen_vel  # (D,) slope offset at b
        steps = int(width.max()) if bool(dims.any()) else 0
        if steps == 0:
            continue
        i = torch.arange(steps, dtype=x.dtype, device=x.device)[:, None]  # (W, 1)
        w = width.to(x.dtype).clamp(min=1)[None]  # (1, D)
        s = i / w  # (W, D)
        offset = delta * (2 * s**3 - 3 * s**2 + 1) + delta_v * w * (s**3 - 2 * s**2 + s)  # (W, D)
        use = dims[None] & (i < width[None])  # (W, D)
        out[b : b + steps] = torch.where(use, out[b : b + steps] + offset, out[b : b + steps])
    return out


def join_blender(known_mask: Tensor, frames: int) -> Callable[[Tensor], Tensor]:
    """x̃ (B, T, D) -> x̃ with every join between kept and generated frames blended over up to
    `frames` generated frames on each side (`_blend_forward`, and the same backwards in
    time for joins from generated to kept). Kept entries are never changed."""

    def blend(x0: Tensor) -> Tensor:
        rows = []
        for xb, kb in zip(x0, known_mask):  # (T, D) each
            xb = _blend_forward(xb, kb, frames)
            rows.append(_blend_forward(xb.flip(0), kb.flip(0), frames).flip(0))
        return torch.stack(rows)

    return blend


@torch.no_grad()
def sample_inpaint(
    denoise: Denoiser,
    encode_motion: MotionEncoder | None,
    plan: SamplingPlan,
    z_text: Tensor,
    mask: Tensor,
    noise: NoiseSource,
    known: Tensor,
    known_mask: Tensor,
    callback: Callable[[int, int, Tensor], None] | None = None,
    project: Callable[[Tensor], Tensor] | None = None,
    blend_frames: int = 0,
) -> Tensor:
    """Sample normalised motions x0 (B, T, D) that equal `known` wherever `known_mask` is True.

    Same arguments as `sample` (denoiser D, motion encoder E_M, sampling plan, text latents
    z_text (B, d_E), frame mask (B, T), noise source, callback), plus the normalised
    known motion (B, T, D) and the boolean known mask (B, T, D), True = kept. CFG and REG run as
    in generation; see the module docstring for how REG meets the fixed part. blend_frames > 0
    blends every join between kept and generated frames over up to that many generated frames
    (`join_blender`); 0 is MDM's plain imposition. `project(x̃) -> x̃` runs after both at every
    step (the pipeline's root anchoring for in-betweening, `motion.trajectory`). The result holds
    the known values exactly on the kept entries (of valid frames) and zeros on padded frames.
    """
    kept = check_known_mask(known, known_mask, mask)
    known = known.to(mask.device)
    impose = imposer(known, kept)
    steps = [impose]
    if blend_frames > 0:
        steps.append(join_blender(kept, blend_frames))
    if project is not None:
        steps.append(project)
    frame_mask = mask[..., None]  # (B, T, 1)

    def hook(x0: Tensor) -> Tensor:
        for f in steps:
            x0 = f(x0)
        return impose(x0) * frame_mask  # kept entries exact whatever the projections did; padding zero

    x = sample(denoise, encode_motion, plan, z_text, mask, noise, callback, x0_hook=hook)  # (B, T, D)
    return hook(x)
