"""The RAM objective (spec §5) and the latent objectives the paper ablates (Tables 4, 6–8).

L = L_rec + L_gen + w_align·L_align(λ) + w_sr·L_sr(τ)
  (+ the Table-6 alternatives: TEMOS's bidirectional smooth-L1 alignment, TMR's cross-modal
  InfoNCE with its filtering of near-duplicate negatives).
Both denoising branches run as one forward of batch 2B; each branch's latent is
replaced by zeros for `cond_dropout` of the samples (the unconditional condition).

The terms with in-batch negatives (L_sr, InfoNCE) use the global batch when training runs on
several processes (`negatives="global"`, the default and the paper's setting: its batch of 64
is one batch): the latents of every process are gathered with their gradients, each process
scores its own rows against all of them, and the data-parallel average of the processes'
gradients is then exactly the gradient of one process holding the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ..diffusion import GaussianDiffusion
from ..model import RAM
from ..model.config import check_choice, check_float


NEGATIVES = ("global", "per_device")
TEMOS_LATENT_WEIGHT = 1e-5  # TEMOS's (and TMR's) weight of the latent alignment
TMR_FILTER_THRESHOLD = 0.8  # TMR's threshold on the caption similarity score (1 + cos) / 2


@dataclass
class LossConfig:
    """Weights and switches of the objective. Defaults: the paper's RAM (spec §5)."""

    w_rec: float = 1.0
    w_gen: float = 1.0
    w_align: float = 1.0  # motion-centric alignment L_align
    align_lambda: float = 0.01  # share of L_align's gradient that reaches E_M
    w_sr: float = 0.5  # self-regularisation L_sr
    sr_tau: float = 1.0
    # Bidirectional MSE(z_s, z_m): the form Table 6's B and E had before they were made
    # TEMOS's smooth-L1 (issue 18). No variant uses it; it stays so that those runs still load and resume.
    w_latent_mse: float = 0.0
    w_latent_smoothl1: float = 0.0  # Table 6 B/C/E: bidirectional alignment smooth-L1(z_s, z_m) (TEMOS, TMR), gradients to both
    w_nce: float = 0.0  # Table 6 D/E: symmetric cross-modal InfoNCE on normalised latents
    nce_tau: float = 0.1
    cond_dropout: float = 0.1  # per branch, z -> 0 for this share of samples
    # TMR's filtering of near-duplicate negatives in InfoNCE: pair j is not a negative of pair i
    # when their captions' similarity score (1 + cos) / 2 exceeds this (TMR's scale: 0.8 is a
    # cosine of 0.6). Table 6's D and E set TMR's 0.8. None: no filtering (what configs saved
    # before this setting existed mean).
    nce_filter_threshold: float | None = None
    # In-batch negatives of L_sr and InfoNCE with several processes: "global" (the paper's: the
    # whole batch across processes) or "per_device" (each process's own slice only).
    negatives: str = "global"

    def __post_init__(self) -> None:
        for name in ("w_rec", "w_gen", "w_align", "align_lambda", "w_sr", "w_latent_mse", "w_latent_smoothl1", "w_nce"):
            setattr(self, name, check_float(f"loss setting {name}", getattr(self, name), 0.0))
        for name in ("sr_tau", "nce_tau"):
            setattr(self, name, check_float(f"loss setting {name} (a temperature)", getattr(self, name), 0.0, low_open=True))
        self.cond_dropout = check_float("loss setting cond_dropout", self.cond_dropout, 0.0, 1.0, rule="a number in [0, 1]")
        if self.nce_filter_threshold is not None:
            self.nce_filter_threshold = check_float(
                "loss setting nce_filter_threshold", self.nce_filter_threshold, 0.0, 1.0,
                rule="a similarity score in [0, 1] (TMR's: 0.8), or null (no filtering)",
            )  # fmt: skip
        check_choice("loss setting negatives", self.negatives, NEGATIVES)


# Named variants of the paper's ablations (applied on top of LossConfig defaults).
# "baseline" additionally needs RAMConfig(use_motion_encoder=False).
LATENT_OBJECTIVES: dict[str, dict[str, float]] = {
    "ours": {},  # L_sr + L_align
    "two_stream": {"w_align": 0.0, "w_sr": 0.0},  # Table 4: + E_M only (= Table 6 A "none")
    "sr_only": {"w_align": 0.0},  # Table 4: + L_sr
    "A": {"w_align": 0.0, "w_sr": 0.0},
    # B and C: one bidirectional latent alignment (TEMOS's smooth-L1) at weight 1 and at TEMOS's weight.
    "B": {"w_align": 0.0, "w_sr": 0.0, "w_latent_smoothl1": 1.0},
    "C": {"w_align": 0.0, "w_sr": 0.0, "w_latent_smoothl1": TEMOS_LATENT_WEIGHT},
    # D: TMR's InfoNCE (τ 0.1, weight 1); E: TMR's settings, InfoNCE at 0.1 + the same alignment at 1e-5.
    "D": {"w_align": 0.0, "w_sr": 0.0, "w_nce": 1.0, "nce_tau": 0.1, "nce_filter_threshold": TMR_FILTER_THRESHOLD},
    "E": {"w_align": 0.0, "w_sr": 0.0, "w_nce": 0.1, "nce_tau": 0.1, "nce_filter_threshold": TMR_FILTER_THRESHOLD, "w_latent_smoothl1": TEMOS_LATENT_WEIGHT},
}


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per sample: sum over valid frames and features / (valid frames × features); then the
    batch mean (MDM's masked_l2). pred, target (B, T, D), mask (B, T) bool -> scalar."""
    m = mask.to(pred.dtype)[..., None]  # (B, T, 1)
    per_sample = ((pred - target) ** 2 * m).sum(dim=(1, 2)) / (m.sum(dim=(1, 2)).clamp_min(1.0) * pred.shape[-1])
    return per_sample.mean()


def _process_group() -> tuple[int, int]:
    """(this process's rank, number of processes) of torch.distributed's default group; (0, 1) without one."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def gather_with_grad(x: Tensor) -> Tensor:
    """(B, ...) on each of the W processes -> (W·B, ...), the processes' rows in rank order.

    Unlike a plain all_gather it keeps autograd (torch.distributed.nn.functional.all_gather):
    the gradients that reach the copies of a process's rows on every process are summed into
    that process's `x`. Every process must call it, with the same B. One process: `x` itself.
    """
    _, world = _process_group()
    if world == 1:
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x.contiguous()), dim=0)


def _rows(n: int, offset: int, device: torch.device) -> Tensor:
    """The targets of `n` local rows: their indices offset .. offset + n - 1 in the whole batch."""
    return torch.arange(offset, offset + n, device=device)


def self_regularisation(z_m: Tensor, tau: float = 1.0, batch: Tensor | None = None, offset: int = 0) -> Tensor:
    """L_sr (eq. 7): cross-entropy of the motion latents' cosine similarities / τ against the
    identity (each motion latent must be closest to itself).

    z_m (B, d_E): this process's latents, rows offset .. offset + B - 1 of `batch` (N, d_E), the
    whole batch whose latents are the negatives (default: z_m itself). -> scalar, the mean over
    the B rows (the mean over processes is the whole batch's L_sr).
    """
    zn = F.normalize(z_m.float(), dim=-1)  # (B, d_E)
    keys = zn if batch is None else F.normalize(batch.float(), dim=-1)  # (N, d_E)
    logits = zn @ keys.T / tau  # (B, N)
    return F.cross_entropy(logits, _rows(len(zn), offset, zn.device))


def motion_centric_alignment(z_s: Tensor, z_m: Tensor, lam: float = 0.01) -> Tensor:
    """L_align (eq. 8): MSE(z_s, sg(z_m) + λ(z_m − sg(z_m))): full gradient to E_T, λ of it to E_M."""
    z_m = z_m.float()
    z_bar = z_m.detach() + lam * (z_m - z_m.detach())
    return F.mse_loss(z_s.float(), z_bar)


def bidirectional_alignment(z_s: Tensor, z_m: Tensor) -> Tensor:
    """Table 6 B/C/E: TEMOS's (and TMR's) latent loss, smooth-L1(z_s, z_m) averaged over all
    elements, with the full gradient to both encoders. z_s, z_m (B, d_E) -> scalar."""
    return F.smooth_l1_loss(z_s.float(), z_m.float())


def sentence_embeddings(text: Tensor, text_mask: Tensor) -> Tensor:
    """The captions' sentence embeddings for TMR's negative filtering: the frozen LM's token
    states averaged over the tokens, L2-normalised. For the default all-MiniLM-L6-v2 this is its
    own sentence embedding (mean pooling); TMR uses a separate sentence model (MPNet).
    text (B, L, H), text_mask (B, L) bool -> (B, H)."""
    m = text_mask.to(torch.float32)[..., None]  # (B, L, 1)
    mean = (text.float() * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)  # (B, H)
    return F.normalize(mean, dim=-1)


def info_nce(
    z_s: Tensor,
    z_m: Tensor,
    tau: float = 0.1,
    *,
    all_s: Tensor | None = None,
    all_m: Tensor | None = None,
    offset: int = 0,
    sent: Tensor | None = None,
    all_sent: Tensor | None = None,
    filter_threshold: float | None = None,
) -> Tensor:
    """Symmetric cross-modal InfoNCE on L2-normalised latents (Table 6 D/E, TMR's form).

    z_s, z_m (B, d_E): this process's (text, motion) pairs, rows offset .. offset + B - 1 of the
    whole batch all_s, all_m (N, d_E) (default: the pairs themselves). Each text is scored
    against every motion of the batch and each motion against every text; the mean over the B
    rows of both cross-entropies, halved (the mean over processes is the whole batch's loss).

    TMR's filtering (`filter_threshold` not None): pair j is not a negative of pair i when their
    captions' similarity score (1 + cos(sent_i, sent_j)) / 2 exceeds the threshold; sent (B, H)
    and all_sent (N, H) are the captions' sentence embeddings (`sentence_embeddings`). A pair is
    never its own negative.
    """
    a = F.normalize(z_s.float(), dim=-1)  # (B, d_E)
    b = F.normalize(z_m.float(), dim=-1)  # (B, d_E)
    keys_a = a if all_s is None else F.normalize(all_s.float(), dim=-1)  # (N, d_E)
    keys_b = b if all_m is None else F.normalize(all_m.float(), dim=-1)  # (N, d_E)
    text_to_motion = a @ keys_b.T / tau  # (B, N)
    motion_to_text = b @ keys_a.T / tau  # (B, N)
    target = _rows(len(a), offset, a.device)  # (B,)
    if filter_threshold is not None:
        if sent is None:
            raise ValueError("InfoNCE's negative filtering needs the captions' sentence embeddings (sent)")
        e = F.normalize(sent.float(), dim=-1)  # (B, H)
        keys_e = e if all_sent is None else F.normalize(all_sent.float(), dim=-1)  # (N, H)
        duplicate = (1.0 + e @ keys_e.T) / 2.0 > filter_threshold  # (B, N)
        duplicate[torch.arange(len(a), device=a.device), target] = False
        text_to_motion = text_to_motion.masked_fill(duplicate, float("-inf"))
        motion_to_text = motion_to_text.masked_fill(duplicate, float("-inf"))
    return 0.5 * (F.cross_entropy(text_to_motion, target) + F.cross_entropy(motion_to_text, target))


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

    With several processes and `cfg.negatives == "global"`, every process must call it with
    the same B (the trainer's sampler gives each the same share of a global batch): L_sr and
    InfoNCE gather the latents of all processes (see the module docstring).
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
        # In-batch negatives: the whole batch across processes, or this process's slice.
        rank, world = _process_group() if cfg.negatives == "global" else (0, 1)
        offset = rank * B  # this process's first row in the global batch

        def share(x: Tensor) -> Tensor:
            """(B, ...) -> the batch the negatives come from: (world·B, ...), or x itself."""
            return gather_with_grad(x) if world > 1 else x

        all_m = share(z_m.float()) if cfg.w_sr > 0 or cfg.w_nce > 0 else None  # (N, d_E)
        if cfg.w_sr > 0:
            terms["sr"] = self_regularisation(z_m, cfg.sr_tau, batch=all_m, offset=offset)
        if cfg.w_latent_mse > 0:
            terms["latent_mse"] = F.mse_loss(z_s.float(), z_m.float())
        if cfg.w_latent_smoothl1 > 0:
            terms["latent_smoothl1"] = bidirectional_alignment(z_s, z_m)
        if cfg.w_nce > 0:
            sent = sentence_embeddings(text, text_mask) if cfg.nce_filter_threshold is not None else None  # (B, H)
            terms["nce"] = info_nce(
                z_s, z_m, cfg.nce_tau, all_s=share(z_s.float()), all_m=all_m, offset=offset,
                sent=sent, all_sent=None if sent is None else share(sent), filter_threshold=cfg.nce_filter_threshold,
            )  # fmt: skip
    weights = {"rec": cfg.w_rec, "gen": cfg.w_gen, "align": cfg.w_align, "sr": cfg.w_sr, "latent_mse": cfg.w_latent_mse, "latent_smoothl1": cfg.w_latent_smoothl1, "nce": cfg.w_nce}
    total = sum(weights[k] * v for k, v in terms.items())
    return LossOutput(total=total, terms=terms, z_m=z_m, z_s=z_s, keep_m=keep_m, keep_s=keep_s)
