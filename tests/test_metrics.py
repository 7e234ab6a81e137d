"""Metric parity: each metric against an independent numpy/scipy computation on fixed embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import gammaln
from scipy.stats import rankdata

from ramotion.evaluation import metrics


@pytest.fixture
def emb() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    motion = rng.normal(size=(96, 16))
    text = motion + rng.normal(scale=1.2, size=motion.shape)  # matched, but noisily
    return text, motion


def test_euclidean_distances_match_scipy(emb):
    text, motion = emb
    np.testing.assert_allclose(metrics.euclidean_distances(text, motion), cdist(text, motion), rtol=1e-9, atol=1e-9)


def test_r_precision_matches_ranks_from_scipy(emb):
    text, motion = emb
    got = metrics.r_precision(text, motion, batch_size=32, top_k=3)
    ranks = []
    for s in range(0, 96, 32):
        d = cdist(text[s : s + 32], motion[s : s + 32])
        ranks += [rankdata(row, method="ordinal")[i] for i, row in enumerate(d)]  # 1 = nearest
    ranks = np.array(ranks)
    expected = [(ranks <= k).mean() for k in (1, 2, 3)]
    np.testing.assert_allclose(got, expected)
    assert 1 / 32 < got[0] < got[1] < got[2] < 1.0  # the noisy pairs are neither chance nor perfect


def test_r_precision_drops_the_partial_batch_and_needs_one(emb):
    text, motion = emb
    full = metrics.r_precision(text[:64], motion[:64])
    np.testing.assert_allclose(metrics.r_precision(text[:70], motion[:70]), full)
    with pytest.raises(ValueError, match="at least 32 pairs"):
        metrics.r_precision(text[:31], motion[:31])


def test_matching_distance_is_the_mean_diagonal_distance(emb):
    text, motion = emb
    assert metrics.matching_distance(text, motion) == pytest.approx(np.diag(cdist(text, motion)).mean(), rel=1e-12)


def _closed_form_frechet(mu1, s1, mu2, s2) -> float:
    """|mu1-mu2|² + tr(S1 + S2 − 2 (S1^½ S2 S1^½)^½), via symmetric eigendecompositions."""
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    w2, _ = np.linalg.eigh(root1 @ s2 @ root1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(w2, 0, None)).sum())


def test_frechet_distance_of_two_known_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(0)
    d = 6
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1, s2 = a @ a.T + 0.1 * np.eye(d), b @ b.T + 0.1 * np.eye(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(_closed_form_frechet(mu1, s1, mu2, s2), rel=1e-8)
    # Diagonal covariances: sum of squared differences of means and of standard deviations.
    v1, v2 = rng.uniform(0.5, 2, d), rng.uniform(0.5, 2, d)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()
    assert metrics.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-8)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-6)


def test_fid_on_samples_converges_to_the_closed_form():
    rng = np.random.default_rng(1)
    d = 4
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    s1, s2 = np.eye(d), np.diag([1.0, 2.0, 0.5, 1.5])
    x = rng.multivariate_normal(mu1, s1, size=200_000)
    y = rng.multivariate_normal(mu2, s2, size=200_000)
    # The fit uses np.cov's unbiased covariance.
    mean, cov = metrics.gaussian_stats(x)
    np.testing.assert_allclose(cov, np.cov(x.T), rtol=1e-10)
    assert metrics.fid(x, y) == pytest.approx(_closed_form_frechet(mu1, s1, mu2, s2), abs=0.02)


def test_fid_handles_singular_covariances():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(size=(50, 3)), np.zeros((50, 3))], axis=1)  # rank 3 of 6
    value = metrics.fid(x, x + 1.0)
    assert np.isfinite(value) and value == pytest.approx(6.0, abs=1e-3)


def test_diversity_matches_a_loop_over_the_same_pairs_and_its_expectation():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1000, 8))
    got = metrics.diversity(x, times=300, rng=np.random.default_rng(7))
    pick = np.random.default_rng(7)
    first, second = pick.choice(1000, 300, replace=False), pick.choice(1000, 300, replace=False)
    expected = np.mean([np.sqrt(((x[i] - x[j]) ** 2).sum()) for i, j in zip(first, second)])
    assert got == pytest.approx(expected, rel=1e-12)
    # Two independent N(0, I_E) points are sqrt(2)·chi_E apart: E = 2·Γ((E+1)/2)/Γ(E/2).
    big = rng.normal(size=(20_000, 8))
    mean_dist = 2.0 * np.exp(gammaln(4.5) - gammaln(4.0))
    assert metrics.diversity(big, times=10_000, rng=0) == pytest.approx(mean_dist, rel=0.02)
    with pytest.raises(ValueError, match="more than 300"):
        metrics.diversity(x[:300], times=300)


def test_multimodality_matches_a_loop_and_is_zero_for_identical_generations():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(100, 30, 8))
    got = metrics.multimodality(x, times=10, rng=np.random.default_rng(9))
    pick = np.random.default_rng(9)
    first, second = pick.choice(30, 10, replace=False), pick.choice(30, 10, replace=False)
    expected = np.mean([np.linalg.norm(x[c, i] - x[c, j]) for c in range(100) for i, j in zip(first, second)])
    assert got == pytest.approx(expected, rel=1e-12)
    same = np.repeat(rng.normal(size=(10, 1, 8)), 30, axis=1)
    assert metrics.multimodality(same, times=10, rng=0) == 0.0
    with pytest.raises(ValueError, match="generations"):
        metrics.multimodality(x[:, :5], times=10)


def test_mean_confidence_is_196_std_over_sqrt_n():
    values = np.array([0.5, 0.7, 0.4, 0.6, 0.55])
    mean, ci = metrics.mean_confidence(values)
    assert mean == pytest.approx(0.55)
    assert ci == pytest.approx(1.96 * np.sqrt(((values - 0.55) ** 2).mean()) / np.sqrt(5))
