"""Parity of the motion representation with the 7 real HumanML3D samples (issue 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ramotion.motion import features_to_joints, joints_to_features
from ramotion.motion.compare import yaw_aligned_error
from ramotion.skeleton import HUMANML3D

SAMPLE_IDS = ["000000", "007005", "009548", "011673", "012314", "M010655", "M010968"]
TOL = 1e-5


def heading_invariant_errors(ours: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Per-quantity max errors between two feature arrays on heading-invariant quantities."""
    s = HUMANML3D.feature_slices()
    ric, ric_ref = ours[:, s["ric"]].reshape(-1, 21, 3), ref[:, s["ric"]].reshape(-1, 21, 3)
    vel, vel_ref = ours[:, s["local_vel"]].reshape(-1, 22, 3), ref[:, s["local_vel"]].reshape(-1, 22, 3)
    hyp = lambda v: np.hypot(v[..., 0], v[..., -1])  # noqa: E731  horizontal norm of (x, z)
    return {
        "root height": np.abs(ours[:, 3] - ref[:, 3]).max(),
        "ric joint heights": np.abs(ric[..., 1] - ric_ref[..., 1]).max(),
        "horizontal distance to root": np.abs(hyp(ric) - hyp(ric_ref)).max(),
        "vertical joint velocity": np.abs(vel[..., 1] - vel_ref[..., 1]).max(),
        "horizontal joint speed": np.abs(hyp(vel) - hyp(vel_ref)).max(),
        "horizontal root speed": np.abs(np.hypot(ours[:, 1], ours[:, 2]) - np.hypot(ref[:, 1], ref[:, 2])).max(),
    }


@pytest.mark.parametrize("sample_id", SAMPLE_IDS)
def test_recovery_matches_released_joints(h3d_samples: Path, sample_id: str) -> None:
    feats = np.load(h3d_samples / "new_joint_vecs" / f"{sample_id}.npy")
    joints = np.load(h3d_samples / "new_joints" / f"{sample_id}.npy")
    err = float(np.abs(features_to_joints(feats) - joints).max())
    print(f"{sample_id}: recover(new_joint_vecs) vs new_joints max error {err:.2e}")
    assert err <= TOL


@pytest.mark.parametrize("sample_id", SAMPLE_IDS)
def test_extraction_matches_released_features(h3d_samples: Path, sample_id: str) -> None:
    feats = np.load(h3d_samples / "new_joint_vecs" / f"{sample_id}.npy")
    joints = np.load(h3d_samples / "new_joints" / f"{sample_id}.npy")
    ours = joints_to_features(joints)
    ref = feats[:-1]
    assert ours.shape == ref.shape == (len(joints) - 1, 263)
    errors = heading_invariant_errors(ours, ref)
    contacts = float((ours[:, 259:] == ref[:, 259:]).all(axis=1).mean())
    print(f"{sample_id}: " + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()) + f", contacts equal on {contacts:.2%} of frames")
    for name, value in errors.items():
        assert value <= TOL, name
    assert contacts >= 0.99


@pytest.mark.parametrize("sample_id", SAMPLE_IDS)
def test_round_trip_up_to_one_yaw(h3d_samples: Path, sample_id: str) -> None:
    joints = np.load(h3d_samples / "new_joints" / f"{sample_id}.npy").astype(np.float64)
    back = features_to_joints(joints_to_features(joints))
    err = yaw_aligned_error(back, joints[:-1])
    print(f"{sample_id}: round trip (up to one yaw) max error {err:.2e}")
    assert back.shape == joints[:-1].shape
    assert err <= TOL


def test_yaw_alignment_detects_non_rigid_differences() -> None:
    """The comparison used above is not vacuous: it fails for a motion that is not a yaw away."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 22, 3))
    theta = 0.7
    rot = np.array([[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]])
    assert yaw_aligned_error(a @ rot.T + [1.0, 0.0, -2.0], a) < 1e-12
    b = a.copy()
    b[5, 3] += 0.01
    assert yaw_aligned_error(b, a) > 1e-3
