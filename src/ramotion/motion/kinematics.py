"""Inverse and forward kinematics on a fixed skeleton, and retargeting to its reference.

Conventions are HumanML3D's (spec §1): the root quaternion takes the body's forward
direction to +z; every chain starts from the root quaternion; a joint's local
rotation takes its raw offset direction to the direction of its bone.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d
from torch import Tensor

from ..rotations import qbetween, qinv, qmul, qrot
from ..skeleton import Skeleton

UP = (0.0, 1.0, 0.0)


def forward_direction(joints: Tensor, skeleton: Skeleton, smooth_sigma: float | None = None) -> Tensor:
    """Unit forward direction of the body per frame. (T, J, 3) -> (T, 3)

    forward = up x across, across = (a - b) + (c - d) over the face joints (a, b, c, d),
    normalised. With `smooth_sigma`, the unnormalised forward is Gaussian-filtered
    over time (edges held at the nearest value) before the final normalisation.
    """
    a, b, c, d = skeleton.face_joints
    across = (joints[:, a] - joints[:, b]) + (joints[:, c] - joints[:, d])
    across = across / across.norm(dim=-1, keepdim=True)
    up = joints.new_tensor(UP).expand_as(across)
    forward = torch.linalg.cross(up, across, dim=-1)
    if smooth_sigma is not None:
        # scipy's filter is the reference implementation of this smoothing.
        smoothed = gaussian_filter1d(forward.detach().cpu().numpy(), smooth_sigma, axis=0, mode="nearest")
        forward = torch.as_tensor(smoothed, dtype=joints.dtype, device=joints.device)
    return forward / forward.norm(dim=-1, keepdim=True)


def inverse_kinematics(joints: Tensor, skeleton: Skeleton, smooth_sigma: float | None = None) -> Tensor:
    """Local joint rotations that reproduce the bone directions of `joints`.

    (T, J, 3) -> (T, J, 4). Slot 0 holds the root rotation (forward -> +z); as in the
    released pipeline, the first frame's root is the identity.
    """
    forward = forward_direction(joints, skeleton, smooth_sigma)
    target = joints.new_tensor((0.0, 0.0, 1.0)).expand_as(forward)
    root = qbetween(forward, target)  # (T, 4)
    root = root.clone()
    root[0] = root.new_tensor((1.0, 0.0, 0.0, 0.0))

    quats = joints.new_zeros(joints.shape[:-1] + (4,))
    quats[:, :, 0] = 1.0
    quats[:, 0] = root
    # Every bone's world rotation (raw direction -> bone direction) in one batched call;
    # only the accumulation along each chain is sequential.
    parents, children = _bones(skeleton)
    bones = joints[:, children] - joints[:, parents]  # (T, J-1, 3)
    bones = bones / bones.norm(dim=-1, keepdim=True)
    raw = joints.new_tensor(skeleton.raw_offsets)[children]  # (J-1, 3)
    rot = qbetween(raw.expand_as(bones), bones)  # (T, J-1, 4)
    slot = {b: i for i, b in enumerate(children)}
    for chain in skeleton.chains:
        R = root
        for b in chain[1:]:
            local = qmul(qinv(R), rot[:, slot[b]])
            quats[:, b] = local
            R = qmul(R, local)
    return quats


def _bones(skeleton: Skeleton) -> tuple[list[int], list[int]]:
    """(parents, children) of every bone, in chain order."""
    pairs = [(a, b) for chain in skeleton.chains for a, b in zip(chain[:-1], chain[1:])]
    return [a for a, _ in pairs], [b for _, b in pairs]


def forward_kinematics(quats: Tensor, root_pos: Tensor, offsets: Tensor, skeleton: Skeleton) -> Tensor:
    """Joint positions from local rotations. quats (..., J, 4), root_pos (..., 3),
    offsets (J, 3) -> (..., J, 3)."""
    joints = [None] * skeleton.num_joints
    joints[0] = root_pos
    for chain in skeleton.chains:
        R = quats[..., 0, :]
        for a, b in zip(chain[:-1], chain[1:]):
            R = qmul(R, quats[..., b, :])
            joints[b] = qrot(R, offsets[b].expand(R.shape[:-1] + (3,))) + joints[a]
    return torch.stack(joints, dim=-2)


def retarget(joints: np.ndarray | Tensor, skeleton: Skeleton, target_offsets: np.ndarray | None = None) -> Tensor:
    """Move a motion onto the reference skeleton. (T, J, 3) -> (T, J, 3) float64.

    IK on the source (offsets measured on its first frame), FK with the target offsets;
    the root trajectory is scaled by the ratio of leg lengths (target over source).
    """
    joints = torch.as_tensor(np.asarray(joints) if not isinstance(joints, Tensor) else joints, dtype=torch.float64)
    tgt = torch.as_tensor(skeleton.offsets() if target_offsets is None else target_offsets, dtype=torch.float64)
    src = torch.as_tensor(skeleton.offsets_from_pose(joints[0].numpy()), dtype=torch.float64)
    l1, l2 = skeleton.leg_joints
    src_leg = src[l1].abs().max() + src[l2].abs().max()
    tgt_leg = tgt[l1].abs().max() + tgt[l2].abs().max()
    if float(src_leg) <= 0:
        raise ValueError("cannot retarget: the source legs have zero length in the first frame")
    quats = inverse_kinematics(joints, skeleton)
    return forward_kinematics(quats, joints[:, 0] * (tgt_leg / src_leg), tgt, skeleton)
