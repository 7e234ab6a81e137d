"""AITS (spec §8): the average inference time per sentence of a pipeline and a sampler setting.

    captions, lengths = aits_sentences(EvalDataset(root, "test"), 20, seed=0)
    aits = measure_aits(pipe, {"steps": 20, "w_reg": 5.0}, captions, lengths)   # {"mean", "ci95", "values"}
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..evaluation.data import EvalDataset
from ..evaluation.metrics import mean_confidence
from ..pipeline import RAMPipeline


def aits_sentences(dataset: EvalDataset, n: int, seed: int) -> tuple[list[str], list[int]]:
    """`n` test captions with their ground-truth lengths (multiples of 4, at most 196 frames) for timing."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(dataset.entries), size=min(n, len(dataset.entries)), replace=False)
    captions, lengths = [], []
    for i in pick:
        entry = dataset.entries[int(i)]
        captions.append(entry.captions[0][0])
        lengths.append(max(4, min(len(entry.motion), 196) // 4 * 4))
    return captions, lengths


def measure_aits(pipe: RAMPipeline, sampler: dict[str, Any], captions: Sequence[str], lengths: Sequence[int]) -> dict[str, Any]:
    """AITS (spec §8): seconds per sentence at batch size 1, text in -> features out (text model,
    E_T, every denoising step, REG re-encoding), model load excluded, device synchronised.
    One untimed warm-up call first."""

    def sync() -> None:
        if pipe.device.type == "cuda":
            torch.cuda.synchronize(pipe.device)

    pipe(captions[0], frames=lengths[0], seed=0, **sampler)  # warm-up: lazy loading, allocator, kernels
    times = []
    for i, (caption, n) in enumerate(zip(captions, lengths)):
        sync()
        t0 = time.perf_counter()
        pipe(caption, frames=n, seed=i, **sampler)
        sync()
        times.append(time.perf_counter() - t0)
    mean, ci = mean_confidence(times)
    return {"mean": mean, "ci95": ci, "values": times}
