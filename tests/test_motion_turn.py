"""The heading-sign fix: a motion that turns past +-180 degrees round-trips (issue 2)."""

from __future__ import annotations

import numpy as np
import torch

from ramotion.motion import features_to_joints, forward_kinematics, joints_to_features
from ramotion.rotations import quat_about_y
from ramotion.skeleton import HUMANML3D

from .test_motion_parity import yaw_aligned_error


def circling_walk(turns: float = 2.0, turn_frames: int = 160, straight_frames: int = 40) -> np.ndarray:
    """A body built by forward kinematics that walks `turns` full circles (4 cm per
    frame along its heading), then straight on. (T, 22, 3)"""
    heading = torch.cat(
        (
            torch.linspace(0.0, 2.0 * np.pi * turns, turn_frames, dtype=torch.float64),
            torch.full((straight_frames,), 2.0 * np.pi * turns, dtype=torch.float64),
        )
    )
    quats = torch.zeros(len(heading), 22, 4, dtype=torch.float64)
    quats[..., 0] = 1.0
    quats[:, 0] = quat_about_y(heading)
    # One arm out to the side so the pose is not symmetric about the vertical axis.
    quats[:, 16] = torch.tensor([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)], dtype=torch.float64)
    step = 0.04 * torch.stack((torch.sin(heading), torch.zeros_like(heading), torch.cos(heading)), -1)
    root = torch.cumsum(step, 0) + torch.tensor([0.0, 0.95, 0.0], dtype=torch.float64)
    offsets = torch.as_tensor(HUMANML3D.offsets())
    return forward_kinematics(quats, root, offsets, HUMANML3D).numpy()


def test_full_turn_round_trips_with_default_and_fails_with_released_convention() -> None:
    joints = circling_walk()
    fixed = yaw_aligned_error(features_to_joints(joints_to_features(joints)), joints[:-1])
    released = yaw_aligned_error(features_to_joints(joints_to_features(joints, convention="released")), joints[:-1])
    print(f"two circles then straight on: round-trip error {fixed:.2e} (ramotion), {released:.3f} m (released convention)")
    assert fixed <= 1e-5
    assert released > 0.1  # the released sign flip turns the body the wrong way


def test_released_convention_differs_only_where_the_heading_crosses_180() -> None:
    joints = circling_walk(turns=1.0, turn_frames=120, straight_frames=80)
    ours = joints_to_features(joints)
    released = joints_to_features(joints, convention="released")
    differs = np.flatnonzero(np.abs(ours[:, 0] - released[:, 0]) > 1e-9)
    assert len(differs) == 1  # one crossing of +-180 degrees
    np.testing.assert_array_equal(np.delete(ours, differs, axis=0), np.delete(released, differs, axis=0))
    assert np.allclose(ours[differs, 0], -released[differs, 0])
