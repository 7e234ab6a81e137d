"""Joint positions <-> HumanML3D features (263-d; 251-d for KIT-ML).

`joints_to_features` is the HumanML3D extraction pipeline (spec §1): retarget, floor,
origin, face +z, contacts, smoothed root heading, ric, 6D rotations, velocities.
`features_to_joints` is "recover_from_ric": integrate the root and place the ric
joints around it. Batched, maskable and differentiable in torch.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import Tensor

from ..rotations import qbetween, qcanonical, qinv, qmul, qrot, quat_to_cont6d
from ..skeleton import Skeleton, get_skeleton, skeleton_for_feature_dim, skeleton_for_joint_count
from .kinematics import forward_direction, inverse_kinematics, retarget

Convention = Literal["ramotion", "released"]

CONTACT_THRESHOLD = 0.002  # squared displacement per frame (m^2)
HEADING_SMOOTH_SIGMA = 20.0  # frames


def check_joints(joints: np.ndarray | Tensor, skeleton: Skeleton | None = None) -> Skeleton:
    """Validate a (T, J, 3) joint array and return its skeleton; raise ValueError naming the problem."""
    shape = tuple(joints.shape)
    if len(shape) != 3 or shape[-1] != 3:
        raise ValueError(f"joints must have shape (frames, joints, 3), got {shape}")
    sk = skeleton or skeleton_for_joint_count(shape[1])
    if shape[1] != sk.num_joints:
        raise ValueError(f"{sk.name} joints need {sk.num_joints} joints per frame, got {shape[1]}")
    if shape[0] < 2:
        raise ValueError(f"a motion needs at least 2 frames, got {shape[0]}")
    finite = torch.isfinite(joints).all() if isinstance(joints, Tensor) else np.isfinite(joints).all()
    if not bool(finite):
        raise ValueError("joints contain NaN or infinite values")
    return sk


def joints_to_features(
    joints: np.ndarray | Tensor,
    skeleton: str | Skeleton = "humanml3d",
    *,
    retarget_to_reference: bool = True,
    target_offsets: np.ndarray | None = None,
    convention: Convention = "ramotion",
) -> np.ndarray:
    """HumanML3D features of a motion. joints (T, J, 3) -> features (T-1, D) float64.

    retarget_to_reference: move the motion onto the skeleton's reference bone lengths
        first (HumanML3D does; KIT-ML needs `target_offsets` since its reference pose is
        not shipped).
    convention: "ramotion" (default) takes the root angular velocity from the relative
        heading quaternion canonicalised to w >= 0, so every motion round-trips;
        "released" reproduces the released pipeline, whose sign flips when the smoothed
        heading crosses +-180 degrees from the start (recovery then turns the wrong way).
    """
    sk = get_skeleton(skeleton)
    check_joints(joints, sk)
    if convention not in ("ramotion", "released"):
        raise ValueError(f"unknown convention {convention!r}: expected 'ramotion' or 'released'")
    pos = torch.as_tensor(np.asarray(joints) if not isinstance(joints, Tensor) else joints.detach().cpu())
    pos = pos.to(torch.float64)

    if retarget_to_reference:
        if sk.bone_lengths is None and target_offsets is None:
            raise ValueError(f"retargeting {sk.name} motions needs target_offsets (no built-in reference)")
        pos = retarget(pos, sk, target_offsets)

    # Floor, origin, face +z (first frame, unsmoothed).
    pos = pos - pos[..., 1].min() * pos.new_tensor((0.0, 1.0, 0.0))
    pos = pos - pos[0, 0] * pos.new_tensor((1.0, 0.0, 1.0))
    fwd0 = forward_direction(pos[:1], sk)
    face = qbetween(fwd0, pos.new_tensor((0.0, 0.0, 1.0))[None])  # (1, 4)
    pos = qrot(face[:, None].expand(pos.shape[:-1] + (4,)), pos)

    # Foot contacts from the squared displacement to the next frame.
    def contacts(idx: tuple[int, int]) -> Tensor:
        disp = ((pos[1:, list(idx)] - pos[:-1, list(idx)]) ** 2).sum(-1)
        return (disp < CONTACT_THRESHOLD).to(pos.dtype)  # (T-1, 2)

    feet_l, feet_r = contacts(sk.foot_left), contacts(sk.foot_right)

    # Smoothed-heading IK drives every heading-relative quantity.
    quats = inverse_kinematics(pos, sk, smooth_sigma=HEADING_SMOOTH_SIGMA)  # (T, J, 4)
    r_rot = quats[:, 0]  # (T, 4)
    rot6d = quat_to_cont6d(quats[:, 1:]).reshape(len(pos), -1)  # (T, 6(J-1))

    root_vel = qrot(r_rot[1:], pos[1:, 0] - pos[:-1, 0])  # (T-1, 3)
    rel = qmul(r_rot[1:], qinv(r_rot[:-1]))  # (T-1, 4)
    if convention == "ramotion":
        rel = qcanonical(rel)
    ang_vel = torch.arcsin(rel[:, 2:3].clamp(-1.0, 1.0))

    ric = pos - pos[:, :1] * pos.new_tensor((1.0, 0.0, 1.0))
    ric = qrot(r_rot[:, None].expand(ric.shape[:-1] + (4,)), ric)[:, 1:].reshape(len(pos), -1)

    local_vel = qrot(r_rot[:-1, None], pos[1:] - pos[:-1]).reshape(len(pos) - 1, -1)

    feats = torch.cat(
        (ang_vel, root_vel[:, [0, 2]], pos[:-1, 0, 1:2], ric[:-1], rot6d[:-1], local_vel, feet_l, feet_r), dim=-1
    )
    return feats.numpy()


def _as_float_tensor(x: np.ndarray | Tensor, what: str = "features") -> tuple[Tensor, bool]:
    """x as a floating tensor (ints are converted; numpy to float32 unless float32/64) and
    whether it was a tensor. TypeError for anything that is not a real number array: bools,
    complex numbers (whose imaginary part a cast would drop), strings and objects."""
    if isinstance(x, Tensor):
        if x.dtype == torch.bool or x.is_complex():
            raise TypeError(f"{what} must be a real-valued array, got a tensor of dtype {x.dtype}")
        return (x if x.is_floating_point() else x.float()), True
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise TypeError(f"{what} must be an array of numbers, got {type(x).__name__} ({exc})") from None
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{what} must be a real-valued array (float or int), got dtype {arr.dtype}")
    return torch.as_tensor(arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float32)), False


def recover_root(features: Tensor) -> tuple[Tensor, Tensor]:
    """Root heading quaternions (..., T, 4) and root positions (..., T, 3) from features (..., T, D)."""
    vel = features[..., 0]
    angle = torch.cumsum(torch.cat((torch.zeros_like(vel[..., :1]), vel[..., :-1]), dim=-1), dim=-1)
    zero = torch.zeros_like(angle)
    r_rot = torch.stack((torch.cos(angle), zero, torch.sin(angle), zero), dim=-1)
    step = torch.zeros(features.shape[:-1] + (3,), dtype=features.dtype, device=features.device)
    step = torch.cat(
        (
            torch.zeros_like(step[..., :1, :]),
            torch.stack((features[..., :-1, 1], torch.zeros_like(vel[..., :-1]), features[..., :-1, 2]), dim=-1),
        ),
        dim=-2,
    )
    root = torch.cumsum(qrot(qinv(r_rot), step), dim=-2)
    root = torch.cat((root[..., :1], features[..., 3:4], root[..., 2:3]), dim=-1)
    return r_rot, root


def _check_lengths(lengths: np.ndarray | Tensor, x: Tensor) -> Tensor:
    """`lengths` of batched features x (B, T, D) as an integer tensor (B,) on x's device, or a
    ValueError/TypeError naming the problem: unbatched features, not one length per motion,
    not integers, or outside 0..T."""
    if x.dim() != 3:
        raise ValueError("lengths needs batched features (batch, frames, dim)")
    batch, frames = x.shape[0], x.shape[1]
    try:
        lens = torch.as_tensor(lengths)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"lengths must be an array of integers, got {type(lengths).__name__} ({exc})") from None
    if lens.dtype == torch.bool or lens.is_floating_point() or lens.is_complex():
        raise TypeError(f"lengths must be integers (frames per motion), got dtype {lens.dtype}")
    if tuple(lens.shape) != (batch,):
        raise ValueError(f"lengths must have shape ({batch},), one per motion of the batch, got {tuple(lens.shape)}")
    if batch and (int(lens.min()) < 0 or int(lens.max()) > frames):
        raise ValueError(f"lengths must be between 0 and {frames} frames, got {int(lens.min())}..{int(lens.max())}")
    return lens.to(x.device)


def features_to_joints(
    features: np.ndarray | Tensor,
    skeleton: str | Skeleton | None = None,
    *,
    lengths: np.ndarray | Tensor | None = None,
) -> np.ndarray | Tensor:
    """Joint positions from features ("recover_from_ric").

    features (T, D) or (B, T, D), numpy or torch -> joints (T, J, 3) or (B, T, J, 3), same
    type, dtype and device. Differentiable in torch. With `lengths` (B,), frames at or
    beyond each length are set to zero in the output.

    Raises TypeError for a non-numeric array (bool, complex, str, object) or a skeleton that
    is neither a name nor a Skeleton, and ValueError naming the problem for a wrong shape,
    NaN or infinite features, features too large to recover, or `lengths` that are not one
    integer in 0..frames per motion of the batch.
    """
    x, is_torch = _as_float_tensor(features)
    if x.dim() not in (2, 3):
        raise ValueError(f"features must have shape (frames, dim) or (batch, frames, dim), got {tuple(x.shape)}")
    if skeleton is not None and not isinstance(skeleton, (str, Skeleton)):
        raise TypeError(f"skeleton must be a name ('humanml3d', 'kit') or a Skeleton, got {type(skeleton).__name__} {skeleton!r}")
    sk = get_skeleton(skeleton) if skeleton is not None else skeleton_for_feature_dim(x.shape[-1])
    if x.shape[-1] != sk.feature_dim:
        raise ValueError(f"{sk.name} features have {sk.feature_dim} dims, got {x.shape[-1]}")
    lens = None if lengths is None else _check_lengths(lengths, x)
    J = sk.num_joints
    r_rot, root = recover_root(x)
    ric = x[..., 4 : 4 + 3 * (J - 1)].reshape(x.shape[:-1] + (J - 1, 3))
    ric = qrot(qinv(r_rot)[..., None, :].expand(ric.shape[:-1] + (4,)), ric)
    ric = ric + (root * root.new_tensor((1.0, 0.0, 1.0)))[..., None, :]
    out = torch.cat((root[..., None, :], ric), dim=-2)
    # One check (one device sync) for both: NaN in any input column, even those recovery does
    # not read, and finite input too large for the dtype (the integrated root overflows).
    if not bool(torch.isfinite(x).all() & torch.isfinite(out).all()):
        bad = ~torch.isfinite(x.detach())
        if bool(bad.any()):
            first = tuple(int(i) for i in torch.nonzero(bad)[0])
            where = "frame {}, dim {}".format(*first) if len(first) == 2 else "motion {}, frame {}, dim {}".format(*first)
            raise ValueError(f"features contain {int(bad.sum())} NaN or infinite values (first at {where})")
        raise ValueError(f"features too large for {x.dtype}: the recovered joint positions overflow")
    if lens is not None:
        valid = torch.arange(out.shape[1], device=out.device)[None] < lens[:, None]
        out = out * valid[..., None, None].to(out.dtype)
    return out if is_torch else out.numpy()

