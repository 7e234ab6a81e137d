"""Train a T2M evaluator of the official design on any dataset in the HumanML3D layout.

Objective (Guo et al. 2022): a contrastive hinge on Euclidean distances between text
and motion embeddings. Matched pairs are pulled together (d²); mismatched pairs, made
by rolling the batch's motions by a random shift, are pushed beyond a margin
(max(0, margin − d)²). Word vectors come from the text model's input embeddings
(offline), POS from the captions' token field.

Decisions (the paper is silent):
- The movement conv encoder is trained jointly with the two GRU encoders instead of
  being pre-trained as an autoencoder first; this keeps training to one short stage.
- Alignment warm-up: on small datasets and short schedules the hinge alone collapses
  every embedding to one point per modality, margin/2 apart (the loss then sits at
  margin²/2 and nothing is learned). The first `warmup_epochs` therefore use an
  in-batch cross-entropy over negative distances (each text must pick its own motion
  among the batch's, and vice versa); the remaining epochs use the original hinge.
  `warmup_epochs=0` trains with the hinge alone, as the original.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from ..data.layout import Layout, read_captions, read_split
from ..io_utils import write_text
from ..motion.normalize import EVALUATOR_DIVISORS, compute_stats
from . import metrics
from .data import EvalDataset
from .evaluator import EvaluatorConfig, T2MEvaluator
from .word_vectors import WordVectors


@dataclass
class TrainEvaluatorConfig:
    """Training settings of `ramotion evaluator train`."""

    preset: str = "official"  # "official" sizes, or "small" for a few CPU cores
    sizes: dict | None = None  # overrides of the preset's EvaluatorConfig fields
    epochs: int = 40
    warmup_epochs: int | None = None  # alignment warm-up epochs (None: a quarter of the epochs)
    max_minutes: float | None = None  # stop early after this much training time
    batch_size: int = 32
    lr: float | None = None  # Adam learning rate (None: 1e-4 for "official" as the original, 1e-3 for "small")
    margin: float = 10.0
    seed: int = 0
    text_model: str | None = None  # local transformers model for the word vectors (default: MiniLM)
    device: str | None = None


def contrastive_loss(text: Tensor, motion: Tensor, margin: float, shift: int) -> Tensor:
    """Hinge contrastive loss: d² for matched rows, max(0, margin − d)² for rows rolled by `shift`."""
    pos = F.pairwise_distance(text, motion)  # (B,)
    neg = F.pairwise_distance(text, motion.roll(shift, dims=0))  # (B,)
    return (pos**2).mean() + (margin - neg).clamp_min(0.0).pow(2).mean()


def alignment_loss(text: Tensor, motion: Tensor) -> Tensor:
    """In-batch cross-entropy over −distance, both directions (the warm-up objective)."""
    logits = -torch.cdist(text, motion)  # (B, B)
    target = torch.arange(len(text), device=text.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def _dataset_words(root: Path) -> set[str]:
    """Every word of the token fields of all split captions (for the vocabulary)."""
    layout = Layout.of(root)
    words: set[str] = set()
    for split in ("train", "val", "test"):
        if not layout.split(split).is_file():
            continue
        for mid in read_split(layout.split(split)):
            if layout.text(mid).is_file():
                for line in read_captions(layout.text(mid)):
                    toks = line.tokens or [f"{w}/OTHER" for w in line.caption.lower().split()]
                    words.update(t.rpartition("/")[0] or t for t in toks)
    return words


@torch.no_grad()
def retrieval_report(evaluator: T2MEvaluator, data: EvalDataset, seed: int = 0, batch_size: int = 32) -> dict[str, float]:
    """Ground-truth retrieval on a split: R-Precision, MM-Dist, FID between two halves and two passes."""
    evaluator.eval()

    def embed(pass_seed: int) -> tuple[np.ndarray, np.ndarray]:
        texts, motions = [], []
        for b in data.batches(pass_seed, batch_size):
            texts.append(evaluator.embed_captions(b.tokens).double().cpu().numpy())
            motions.append(evaluator.embed_motion(torch.from_numpy(b.motions), torch.from_numpy(b.lengths)).double().cpu().numpy())
        return np.concatenate(texts), np.concatenate(motions)

    text, motion = embed(seed)
    _, motion2 = embed(seed + 1)
    top = metrics.r_precision(text, motion, batch_size)
    half = len(motion) // 2
    return {
        "pairs": int(len(text)),
        "r_top1": float(top[0]),
        "r_top2": float(top[1]),
        "r_top3": float(top[2]),
        "mm_dist": metrics.matching_distance(text, motion),
        "mm_dist_mismatched": metrics.matching_distance(text, np.roll(motion, 1, axis=0)),
        "fid_halves": metrics.fid(motion[:half], motion[half:]),
        "fid_two_passes": metrics.fid(motion, motion2),
        "chance_top1": 1.0 / batch_size,
    }


def train_evaluator(root: str | os.PathLike, out: str | os.PathLike, cfg: TrainEvaluatorConfig | None = None, progress: bool = True) -> dict:
    """Train an evaluator on ROOT's train split, save it to OUT, return its test retrieval report."""
    cfg = cfg or TrainEvaluatorConfig()
    root, out = Path(root), Path(out)
    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    train = EvalDataset(root, "train")
    test = EvalDataset(root, "test")
    if len(train) < cfg.batch_size:
        raise ValueError(f"the train split has {len(train)} usable pairs: fewer than one batch of {cfg.batch_size}")

    dim = train.feature_dim
    skeleton = {263: "humanml3d", 251: "kit"}.get(dim)
    if skeleton is None:
        raise ValueError(f"unsupported feature size {dim}: expected 263 (HumanML3D) or 251 (KIT-ML)")
    mean, std = compute_stats((e.motion for e in train.entries), skeleton, EVALUATOR_DIVISORS)
    words = WordVectors.from_text_model(_dataset_words(root), cfg.text_model)
    if cfg.preset == "official":
        config = EvaluatorConfig(dim_pose=dim, word_dim=words.dim)
    elif cfg.preset == "small":
        config = EvaluatorConfig.small(dim_pose=dim, word_dim=words.dim)
    else:
        raise ValueError(f"unknown evaluator preset {cfg.preset!r}: expected 'official' or 'small'")
    if cfg.sizes:
        config = EvaluatorConfig.from_dict({**asdict(config), **cfg.sizes})
    model = T2MEvaluator(config, mean, std, words).to(device)
    lr = cfg.lr if cfg.lr is not None else (1e-4 if cfg.preset == "official" else 1e-3)
    warmup = cfg.warmup_epochs if cfg.warmup_epochs is not None else max(1, cfg.epochs // 4)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(cfg.seed)

    t0 = time.perf_counter()
    history = []
    steps_per_epoch = train.num_batches(cfg.batch_size)
    bar = tqdm(total=cfg.epochs * steps_per_epoch, desc="evaluator", disable=not progress)
    stopped_early = False
    for epoch in range(cfg.epochs):
        model.train()
        total = 0.0
        for b in train.batches(cfg.seed * 10_007 + epoch, cfg.batch_size):
            text = model.embed_captions(b.tokens)  # (B, E)
            motion = model.embed_motion(torch.from_numpy(b.motions), torch.from_numpy(b.lengths))  # (B, E)
            if epoch < warmup:
                loss = alignment_loss(text, motion)
            else:
                loss = contrastive_loss(text, motion, cfg.margin, int(rng.integers(1, cfg.batch_size)))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += float(loss.detach())
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
        history.append(total / steps_per_epoch)
        if not math.isfinite(history[-1]):
            raise FloatingPointError(f"evaluator training diverged at epoch {epoch + 1} (loss {history[-1]})")
        if cfg.max_minutes is not None and time.perf_counter() - t0 > 60 * cfg.max_minutes:
            stopped_early = True
            break
    bar.close()
    train_s = time.perf_counter() - t0

    model.eval()
    report = retrieval_report(model, test, seed=cfg.seed)
    report.update(
        epochs=len(history), warmup_epochs=warmup, lr=lr, train_seconds=train_s, stopped_early=stopped_early, final_loss=history[-1],
        preset=cfg.preset, vocabulary=len(words), config=asdict(config), training=asdict(cfg),
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    model.cpu().save_pretrained(out)
    write_text(out / "train_report.json", json.dumps(report, indent=2))
    return report
