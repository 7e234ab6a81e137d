"""The RAM objective (spec §5) and the latent objectives the paper ablates (Tables 4, 6–8).

L = L_rec + L_gen + w_align·L_align(λ) + w_sr·L_sr(τ)
  (+ the Table-6 alternatives: bidirectional MSE, TEMOS smooth-L1, cross-modal InfoNCE).
Both denoising branches run as one forward of batch 2B; each branch's latent is
replaced by zeros for `cond_dropout` of the samples (the unconditional condition).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ..diffusion import GaussianDiffusion
from ..model import RAM
from ..model.config import check_float


@dataclass
class LossConfig:
    """Weights and switches of the objective. Defaults: the paper's RAM (spec §5)."""

    w_rec: float = 1.0
    w_gen: float = 1.0
    w_align: float = 1.0  # motion-centric alignment L_align
    align_lambda: float = 0.01  # share of L_align's gradient that reaches E_M
    w_sr: float = 0.5  # self-regularisation L_sr
    sr_tau: float = 1.0
    w_latent_mse: float = 0.0  # Table 6 B/E: bidirectional MSE(z_s, z_m), full gradient both ways
    w_latent_smoothl1: float = 0.0  # Table 6 C: TEMOS-style smooth-L1(z_s, z_m)
    w_nce: float = 0.0  # Table 6 D/E: symmetric cross-modal InfoNCE on normalised latents
    nce_tau: float = 0.1
    cond_dropout: float = 0.1  # per branch, z -> 0 for this share of samples

    def __post_init__(self) -> None:
        for name in ("w_rec", "w_gen", "w_align", "align_lambda", "w_sr", "w_latent_mse", "w_latent_smoothl1", "w_nce"):
            setattr(self, name, check_float(f"loss setting {name}", getattr(self, name), 0.0))
        for name in ("sr_tau", "nce_tau"):
            setattr(self, name, check_float(f"loss setting {name} (a temperature)", getattr(self, name), 0.0, low_open=True))
        self.cond_dropout = check_float("loss setting cond_dropout", self.cond_dropout, 0.0, 1.0, rule="a number in [0, 1]")


# Named variants of the paper's ablations (applied on top of LossConfig defaults).
# "baseline" additionally needs RAMConfig(use_motion_encoder=False).
LATENT_OBJECTIVES: dict[str, dict[str, float]] = {
    "ours": {},  # L_sr + L_align
    "two_stream": {"w_align": 0.0, "w_sr": 0.0},  # Table 4: + E_M only (= Table 6 A "none")
    "sr_only": {"w_align": 0.0},  # Table 4: + L_sr
    "A": {"w_align": 0.0, "w_sr": 0.0},
    "B": {"w_align": 0.0, "w_sr": 0.0, "w_latent_mse": 1.0},
    "C": {"w_align": 0.0, "w_sr": 0.0, "w_latent_smoothl1": 1e-5},
    "D": {"w_align": 0.0, "w_sr": 0.0, "w_nce": 1.0, "nce_tau": 0.1},
    "E": {"w_align": 0.0, "w_sr": 0.0, "w_nce": 0.1, "nce_tau": 0.1, "w_latent_mse": 1e-5},
}


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per sample: sum over valid frames and features / (valid frames × features); then the
    batch mean (MDM's masked_l2). pred, target (B, T, D), mask (B, T) bool -> scalar."""
    m = mask.to(pred.dtype)[..., None]  # (B, T, 1)
    per_sample = ((pred - target) ** 2 * m).sum(dim=(1, 2)) / (m.sum(dim=(1, 2)).clamp_min(1.0) * pred.shape[-1])
    return per_sample.mean()


def self_regularisation(z_m: Tensor, tau: float = 1.0) -> Tensor:
    """L_sr (eq. 7): cross-entropy of the motion latents' cosine-similarity matrix / τ against
    the identity (each motion latent must be closest to itself). z_m (B, d_E) -> scalar."""
    zn = F.normalize(z_m.float(), dim=-1)
    logits = zn @ zn.T / tau  # (B, B)
    return F.cross_entropy(logits, torch.arange(len(zn), device=zn.device))


def motion_centric_alignment(z_s: Tensor, z_m: Tensor, lam: float = 0.01) -> Tensor:
    """L_align (eq. 8): MSE(z_s, sg(z_m) + λ(z_m − sg(z_m))): full gradient to E_T, λ of it to E_M."""
    z_m = z_m.float()
    z_bar = z_m.detach() + lam * (z_m - z_m.detach())
    return F.mse_loss(z_s.float(), z_bar)


def info_nce(z_s: Tensor, z_m: Tensor, tau: float = 0.1) -> Tensor:
    """Symmetric cross-modal InfoNCE on L2-normalised latents (Table 6 D/E)."""
    a, b = F.normalize(z_s.float(), dim=-1), F.normalize(z_m.float(), dim=-1)
    logits = a @ b.T / tau
    target = torch.arange(len(a), device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


@dataclass
class LossOutput:
    """The total loss, its terms (detached floats for logging) and the intermediates tests inspect."""

    total: Tensor
    terms: dict[str, Tensor] = field(default_factory=dict)  # undetached scalar terms
    z_m: Tensor | None = None  # (B, d_E) motion latents (before condition dropout)
    z_s: Tensor | None = None  # (B, d_E) text latents (before condition dropout)
    keep_m: Tensor | None = None  # (B,) bool: rows whose reconstruction branch kept z_m
    keep_s: Tensor | None = None  # (B,) bool: rows whose generation branch kept z_s


def ram_loss(
    model: RAM,
    diffusion: GaussianDiffusion,
    motion: Tensor,
    mask: Tensor,
    text: Tensor,
    text_mask: Tensor,
    cfg: LossConfig,
    generator: torch.Generator | None = None,
) -> LossOutput:
    """One evaluation of the objective.

    motion (B, T, D) normalised x0, mask (B, T) bool, text (B, L, H) frozen-LM token states,
    text_mask (B, L) bool. t, noise and the dropout masks come from `generator` (or the global
    RNG). Without a motion encoder only the generation branch runs (Table 4 baseline).
    """
    B = motion.shape[0]
    device = motion.device
    z_s = model.encode_text(text, text_mask)  # (B, d_E)
    z_m = model.encode_motion(motion, mask) if model.motion_encoder is not None else None
    # Random draws on the generator's device (CPU generator: drawn there and moved).
    gen_device = generator.device if generator is not None else device
    t = torch.randint(0, diffusion.num_steps, (B,), generator=generator, device=gen_device).to(device)
    noise = torch.randn(motion.shape, generator=generator, device=gen_device, dtype=motion.dtype).to(device)
    x_t = diffusion.q_sample(motion, t, noise)  # (B, T, D)
    keep_s = (torch.rand(B, generator=generator, device=gen_device) >= cfg.cond_dropout).to(device)
    zeros = torch.zeros_like(z_s)
    terms: dict[str, Tensor] = {}
    if z_m is None:
        x0_hat = model.denoise(x_t, t, torch.where(keep_s[:, None], z_s, zeros), mask)
        terms["gen"] = masked_mse(x0_hat.float(), motion.float(), mask)
        keep_m = None
    else:
        keep_m = (torch.rand(B, generator=generator, device=gen_device) >= cfg.cond_dropout).to(device)
        z = torch.cat([torch.where(keep_m[:, None], z_m, zeros), torch.where(keep_s[:, None], z_s, zeros)])  # (2B, d_E)
        x0_hat = model.denoise(torch.cat([x_t, x_t]), torch.cat([t, t]), z, torch.cat([mask, mask]))  # (2B, T, D)
        x0_hat = x0_hat.float()
        terms["rec"] = masked_mse(x0_hat[:B], motion.float(), mask)
        terms["gen"] = masked_mse(x0_hat[B:], motion.float(), mask)
        if cfg.w_align > 0:
            terms["align"] = motion_centric_alignment(z_s, z_m, cfg.align_lambda)
        if cfg.w_sr > 0:
            terms["sr"] = self_regularisation(z_m, cfg.sr_tau)
        if cfg.w_latent_mse > 0:
            terms["latent_mse"] = F.mse_loss(z_s.float(), z_m.float())
        if cfg.w_latent_smoothl1 > 0:
            terms["latent_smoothl1"] = F.smooth_l1_loss(z_s.float(), z_m.float())
        if cfg.w_nce > 0:
            terms["nce"] = info_nce(z_s, z_m, cfg.nce_tau)
    weights = {"rec": cfg.w_rec, "gen": cfg.w_gen, "align": cfg.w_align, "sr": cfg.w_sr, "latent_mse": cfg.w_latent_mse, "latent_smoothl1": cfg.w_latent_smoothl1, "nce": cfg.w_nce}
    total = sum(weights[k] * v for k, v in terms.items())
    return LossOutput(total=total, terms=terms, z_m=z_m, z_s=z_s, keep_m=keep_m, keep_s=keep_s)
