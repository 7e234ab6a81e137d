"""Mirroring, statistics, bad input and rotation utilities (issue 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion import rotations as R
from ramotion.motion import features_to_joints, joints_to_features
from ramotion.motion.mirror import mirror_caption, mirror_features, mirror_joints
from ramotion.motion.normalize import Normalizer, compute_stats
from ramotion.skeleton import HUMANML3D, KIT, skeleton_for_feature_dim, skeleton_for_joint_count


def test_feature_sizes() -> None:
    assert HUMANML3D.feature_dim == 263 and KIT.feature_dim == 251
    assert skeleton_for_feature_dim(251) is KIT and skeleton_for_joint_count(22) is HUMANML3D
    with pytest.raises(ValueError, match="unknown joint count 23"):
        skeleton_for_joint_count(23)


def test_bone_lengths_match_reference_pose(shared_data: Path) -> None:
    pose = np.load(shared_data / "reference" / "skeleton_example_h3d.npy")
    np.testing.assert_allclose(HUMANML3D.offsets_from_pose(pose), HUMANML3D.offsets(), atol=0, rtol=0)


def test_mirror_features_equal_features_of_mirrored_joints(h3d_samples: Path) -> None:
    joints = np.load(h3d_samples / "new_joints" / "000000.npy").astype(np.float64)
    feats = joints_to_features(joints, retarget_to_reference=False)
    mirrored = joints_to_features(mirror_joints(joints), retarget_to_reference=False)
    np.testing.assert_allclose(mirror_features(feats), mirrored, atol=1e-6)
    # And in torch, batched.
    t = mirror_features(torch.as_tensor(feats)[None])
    np.testing.assert_allclose(t[0].numpy(), mirrored, atol=1e-6)
    # Mirroring twice is the identity.
    np.testing.assert_allclose(mirror_features(mirror_features(feats)), feats, atol=1e-12)


def test_mirror_joints_swaps_sides() -> None:
    j = np.random.default_rng(1).normal(size=(5, 22, 3))
    m = mirror_joints(j)
    np.testing.assert_array_equal(m[:, 1, 0], -j[:, 2, 0])
    np.testing.assert_array_equal(m[:, 20, 1:], j[:, 21, 1:])
    np.testing.assert_array_equal(mirror_joints(m), j)


def test_mirror_caption() -> None:
    assert mirror_caption("Left hand up, then the right LEFT leg; leftover") == "Right hand up, then the left RIGHT leg; leftover"


def test_stats_group_averaging_matches_released_layout(shared_data: Path, h3d_samples: Path) -> None:
    released_std = np.load(shared_data / "humanml3d" / "Std.npy")
    motions = [np.load(p) for p in sorted((h3d_samples / "new_joint_vecs").glob("*.npy"))]
    mean, std = compute_stats(motions)
    allf = np.concatenate(motions)
    np.testing.assert_allclose(mean, allf.mean(0), rtol=1e-5, atol=1e-6)
    for name, sl in HUMANML3D.feature_slices().items():
        assert np.ptp(std[sl]) == 0, name  # one value per group, like the released Std
        assert np.ptp(released_std[sl]) == 0, name
        assert np.isclose(std[sl][0], allf[:, sl].std(0).mean(), rtol=1e-5)


def test_normalizer_round_trip() -> None:
    mean, std = np.arange(4.0), np.array([1.0, 2.0, 0.5, 4.0])
    norm = Normalizer(mean, std)
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(norm.denormalize(norm.normalize(x)), x)
    with pytest.raises(ValueError, match="NaN"):
        Normalizer(np.array([np.nan]), np.array([1.0]))


@pytest.mark.parametrize(
    "joints, message",
    [
        (np.zeros((10, 22)), "shape"),
        (np.zeros((10, 23, 3)), "need 22 joints per frame, got 23"),
        (np.zeros((1, 22, 3)), "at least 2 frames"),
        (np.zeros((0, 22, 3)), "at least 2 frames"),
        (np.full((10, 22, 3), np.nan), "NaN"),
        (np.full((10, 22, 3), np.inf), "NaN or infinite"),
    ],
)
def test_joints_to_features_rejects_bad_input(joints: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        joints_to_features(joints)


def test_features_to_joints_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="unknown feature size 100"):
        features_to_joints(np.zeros((10, 100)))
    with pytest.raises(ValueError, match="shape"):
        features_to_joints(np.zeros(263))


def test_features_to_joints_batched_masked_differentiable(h3d_samples: Path) -> None:
    feats = torch.as_tensor(np.load(h3d_samples / "new_joint_vecs" / "000000.npy"))
    batch = torch.stack((feats[:100], feats[:100])).clone().requires_grad_(True)
    out = features_to_joints(batch, lengths=torch.tensor([100, 60]))
    assert out.shape == (2, 100, 22, 3)
    torch.testing.assert_close(out[0], torch.as_tensor(features_to_joints(feats[:100].numpy())))
    assert float(out[1, 60:].detach().abs().max()) == 0.0
    out.sum().backward()
    assert batch.grad is not None and bool(torch.isfinite(batch.grad).all())


def test_kit_features_through_the_same_code() -> None:
    """KIT-ML 251-d features: extraction without retargeting and recovery round-trip."""
    rng = np.random.default_rng(3)
    # A KIT-shaped body: random but well-formed (distinct joints), drifting forward.
    base = rng.normal(scale=0.3, size=(21, 3)) + [0.0, 1.0, 0.0]
    joints = base[None] + np.linspace(0, 1, 30)[:, None, None] * [0.0, 0.0, 1.0]
    feats = joints_to_features(joints, "kit", retarget_to_reference=False)
    assert feats.shape == (29, 251)
    back = features_to_joints(feats, "kit")
    assert back.shape == (29, 21, 3)
    from .test_motion_parity import yaw_aligned_error

    floor = joints[..., 1].min()
    expected = joints[:-1] - [0.0, floor, 0.0]
    assert yaw_aligned_error(back, expected) < 1e-6
    with pytest.raises(ValueError, match="target_offsets"):
        joints_to_features(joints, "kit")


def test_rotation_round_trips() -> None:
    g = torch.Generator().manual_seed(0)
    q = R.qcanonical(R.qnormalize(torch.randn(200, 4, generator=g, dtype=torch.float64)))
    torch.testing.assert_close(R.matrix_to_quat(R.quat_to_matrix(q)), q)
    torch.testing.assert_close(R.cont6d_to_quat(R.quat_to_cont6d(q)), q)
    torch.testing.assert_close(R.qcanonical(R.axis_angle_to_quat(R.quat_to_axis_angle(q))), q)
    torch.testing.assert_close(R.euler_to_quat(R.quat_to_euler(q, "ZXY"), "ZXY"), q)
    v = torch.randn(200, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(R.qrot(q, v), (R.quat_to_matrix(q) @ v[..., None])[..., 0])
    torch.testing.assert_close(R.qmul(q, R.qinv(q)), q.new_tensor([1.0, 0, 0, 0]).expand_as(q))


def test_qbetween_including_opposite_vectors() -> None:
    u = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.3, 0.2, -0.9]], dtype=torch.float64)
    v = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [-0.3, -0.2, 0.9]], dtype=torch.float64)
    q = R.qbetween(u, v)
    assert bool(torch.isfinite(q).all())
    moved = R.qrot(q, u)
    torch.testing.assert_close(moved / moved.norm(dim=-1, keepdim=True), v / v.norm(dim=-1, keepdim=True))


def test_qfix_makes_consecutive_quaternions_agree() -> None:
    q = R.qnormalize(torch.randn(50, 3, 4, dtype=torch.float64))
    fixed = R.qfix(q)
    assert bool(((fixed[1:] * fixed[:-1]).sum(-1) >= 0).all())
    torch.testing.assert_close(R.quat_to_matrix(fixed), R.quat_to_matrix(q))
