"""The tiny model, global batch and loss configs shared by test_losses_distributed.py and the
script it launches on two processes (_losses_ddp_script.py)."""

from __future__ import annotations

import torch

from ramotion.model import RAM, RAMConfig
from ramotion.train.losses import LATENT_OBJECTIVES, LossConfig

TINY = dict(latent_dim=16, text_dim=12, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=1, heads=2, ff=64, max_frames=20, feature_dim=263, dropout=0.0)
GLOBAL_BATCH = 8
# Only the latent objectives: the denoising terms draw t and noise per process, so they could
# not be compared with one process (their global-batch behaviour is plain DDP averaging).
LATENT_ONLY = {"w_rec": 0.0, "w_gen": 0.0, "cond_dropout": 0.0}
CONFIGS: dict[str, LossConfig] = {
    "ours": LossConfig(**LATENT_ONLY),  # L_sr (global negatives) + L_align
    "B": LossConfig(**LATENT_OBJECTIVES["B"], **LATENT_ONLY),  # smooth-L1 alignment (no negatives)
    "D": LossConfig(**LATENT_OBJECTIVES["D"], **LATENT_ONLY),  # InfoNCE with TMR's filtering
    "E": LossConfig(**LATENT_OBJECTIVES["E"], **LATENT_ONLY),
    "ours_per_device": LossConfig(**LATENT_ONLY, negatives="per_device"),
    "D_per_device": LossConfig(**LATENT_OBJECTIVES["D"], **LATENT_ONLY, negatives="per_device"),
}


def tiny_model() -> RAM:
    """The same tiny RAM on every process (seeded)."""
    torch.manual_seed(0)
    return RAM(RAMConfig(**TINY))


def global_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """motion (8, 20, 263), mask (8, 20), text (8, 5, 12), text_mask (8, 5): the same on every
    process. Captions 1 and 5 (on different processes when split in two) and 2 and 3 (on the
    same one) are identical, so TMR's filter removes those negatives."""
    g = torch.Generator().manual_seed(0)
    B = GLOBAL_BATCH
    motion = torch.randn(B, 20, 263, generator=g)
    mask = torch.arange(20)[None, :] < torch.tensor([20, 12, 16, 20, 8, 20, 14, 18])[:, None]  # (B, 20)
    text = torch.randn(B, 5, 12, generator=g)
    text_mask = torch.arange(5)[None, :] < torch.tensor([5, 3, 4, 4, 5, 3, 2, 5])[:, None]  # (B, 5)
    text[5], text_mask[5] = text[1], text_mask[1]
    text[3], text_mask[3] = text[2], text_mask[2]
    return motion, mask, text * text_mask[..., None], text_mask
