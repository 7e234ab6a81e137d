"""The community's text-to-motion metrics on evaluator embeddings, one small function each.

All functions take numpy arrays of embeddings (float64 recommended) and follow the
definitions of Guo et al. (2022) as used by MDM, MLD, T2M-GPT and MoMask:

- `r_precision`: for each text in a batch of 32 (text, motion) pairs, the rank of its
  own motion among the batch's motions by Euclidean distance; top-k hit rates.
- `matching_distance` (MM-Dist): mean distance between matched text and motion.
- `fid`: Fréchet distance between Gaussian fits of two embedding sets.
- `diversity`: mean distance over random pairs of generated motions (300).
- `multimodality`: per caption, mean distance over random pairs of its generations (10).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg


def euclidean_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, E), (M, E) -> (N, M) Euclidean distances."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def top_k_hits(dist: np.ndarray, top_k: int = 3) -> np.ndarray:
    """(N, N) text-to-motion distances -> (top_k,) counts of texts whose own motion is within top k.

    Row i's own motion is column i. Ties are broken by a stable sort (lower index first).
    """
    order = np.argsort(dist, axis=1, kind="stable")[:, :top_k]  # (N, top_k)
    hit = order == np.arange(len(dist))[:, None]
    return np.cumsum(hit, axis=1).astype(bool).sum(0)


def r_precision(text_emb: np.ndarray, motion_emb: np.ndarray, batch_size: int = 32, top_k: int = 3) -> np.ndarray:
    """(N, E) matched texts and motions -> (top_k,) R-Precision top-1..top-k.

    Pairs are taken in consecutive batches of `batch_size` (a trailing partial batch
    is dropped, like the protocol's drop_last loader); each text is ranked against the
    motions of its own batch.
    """
    n = (len(text_emb) // batch_size) * batch_size
    if n == 0:
        raise ValueError(f"R-Precision needs at least {batch_size} pairs, got {len(text_emb)}")
    hits = np.zeros(top_k)
    for s in range(0, n, batch_size):
        hits += top_k_hits(euclidean_distances(text_emb[s : s + batch_size], motion_emb[s : s + batch_size]), top_k)
    return hits / n


def matching_distance(text_emb: np.ndarray, motion_emb: np.ndarray) -> float:
    """MM-Dist: mean Euclidean distance between matched text and motion embeddings (N, E)."""
    return float(np.linalg.norm(np.asarray(text_emb, np.float64) - np.asarray(motion_emb, np.float64), axis=1).mean())


def gaussian_stats(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, E) -> mean (E,) and covariance (E, E) (unbiased, as np.cov)."""
    emb = np.asarray(emb, dtype=np.float64)
    if len(emb) < 2:
        raise ValueError(f"need at least 2 embeddings to fit a Gaussian, got {len(emb)}")
    return emb.mean(0), np.cov(emb, rowvar=False)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2).

    d² = |mu1 − mu2|² + tr(cov1 + cov2 − 2 (cov1 cov2)^½); when the product's square
    root is singular, eps·I is added to both covariances (the community's fallback).
    """
    diff = mu1 - mu2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # singular products are handled below
        covmean = linalg.sqrtm(cov1 @ cov2)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(cov1)) * eps
            covmean = linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))


def fid(real_emb: np.ndarray, gen_emb: np.ndarray) -> float:
    """FID between two embedding sets (N, E) and (M, E)."""
    return frechet_distance(*gaussian_stats(real_emb), *gaussian_stats(gen_emb))


def diversity(emb: np.ndarray, times: int = 300, rng: np.random.Generator | int | None = None) -> float:
    """Mean distance between `times` random pairs of embeddings (N, E), N > times."""
    rng = np.random.default_rng(rng)
    if len(emb) <= times:
        raise ValueError(f"Diversity over {times} pairs needs more than {times} samples, got {len(emb)}")
    first = rng.choice(len(emb), times, replace=False)
    second = rng.choice(len(emb), times, replace=False)
    return float(np.linalg.norm(np.asarray(emb[first], np.float64) - emb[second], axis=1).mean())


def multimodality(emb: np.ndarray, times: int = 10, rng: np.random.Generator | int | None = None) -> float:
    """(C, G, E) embeddings of G generations for each of C captions -> mean distance over `times` pairs each.

    The same random pair indices are used for every caption, as in the original code.
    """
    rng = np.random.default_rng(rng)
    emb = np.asarray(emb, dtype=np.float64)
    if emb.ndim != 3 or emb.shape[1] < times:
        raise ValueError(f"MultiModality needs (captions, >= {times} generations, E) embeddings, got {emb.shape}")
    first = rng.choice(emb.shape[1], times, replace=False)
    second = rng.choice(emb.shape[1], times, replace=False)
    return float(np.linalg.norm(emb[:, first] - emb[:, second], axis=2).mean())


def mean_confidence(values: np.ndarray | list[float]) -> tuple[float, float]:
    """Mean and 95% half-interval 1.96·std/√n over replications (np.std, ddof 0, as reported)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("no values")
    return float(v.mean()), float(1.96 * v.std(axis=0) / np.sqrt(len(v)))
