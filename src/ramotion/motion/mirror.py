"""Left/right mirroring of joints, features and captions (HumanML3D's "M" copies)."""

from __future__ import annotations

import re

import numpy as np
import torch
from torch import Tensor

from ..skeleton import Skeleton, get_skeleton, skeleton_for_feature_dim, skeleton_for_joint_count


def mirror_joints(joints: np.ndarray | Tensor, skeleton: str | Skeleton | None = None) -> np.ndarray | Tensor:
    """Mirror a motion: negate x and swap left/right joints. (..., J, 3) -> (..., J, 3)"""
    sk = get_skeleton(skeleton) if skeleton is not None else skeleton_for_joint_count(joints.shape[-2])
    out = joints[..., sk.mirror_index, :]
    out = out.clone() if isinstance(out, Tensor) else out.copy()
    out[..., 0] = -out[..., 0]
    return out


def mirror_features(features: np.ndarray | Tensor, skeleton: str | Skeleton | None = None) -> np.ndarray | Tensor:
    """Features of the mirrored motion, computed in feature space. (..., D) -> (..., D)

    Equals `joints_to_features(mirror_joints(j), retarget_to_reference=False)` for
    the features of j extracted the same way (retargeting would additionally swap
    the left and right reference bone lengths, which are not symmetric).
    """
    sk = get_skeleton(skeleton) if skeleton is not None else skeleton_for_feature_dim(features.shape[-1])
    s = sk.feature_slices()
    J = sk.num_joints
    perm = sk.mirror_index
    x = features.clone() if isinstance(features, Tensor) else np.array(features, copy=True)
    lead = x.shape[:-1]

    x[..., s["root_rot_vel"]] = -x[..., s["root_rot_vel"]]
    x[..., 1] = -x[..., 1]  # root x velocity

    ric = x[..., s["ric"]].reshape(lead + (J - 1, 3))
    ric = ric[..., perm[1:] - 1, :]
    ric[..., 0] = -ric[..., 0]
    x[..., s["ric"]] = ric.reshape(lead + (-1,))

    # Mirrored rotation M R M with M = diag(-1, 1, 1): columns c1 -> (c1x, -c1y, -c1z),
    # c2 -> (-c2x, c2y, c2z).
    rot = x[..., s["rot6d"]].reshape(lead + (J - 1, 6))
    rot = rot[..., perm[1:] - 1, :]
    sign = [1.0, -1.0, -1.0, -1.0, 1.0, 1.0]
    rot = rot * (torch.tensor(sign, dtype=rot.dtype, device=rot.device) if isinstance(rot, Tensor) else np.asarray(sign, dtype=rot.dtype))
    x[..., s["rot6d"]] = rot.reshape(lead + (-1,))

    vel = x[..., s["local_vel"]].reshape(lead + (J, 3))
    vel = vel[..., perm, :]
    vel[..., 0] = -vel[..., 0]
    x[..., s["local_vel"]] = vel.reshape(lead + (-1,))

    c = s["contacts"].start
    contacts = x[..., c : c + 4]
    x[..., c : c + 4] = contacts[..., [2, 3, 0, 1]]
    return x


_LR = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def mirror_caption(text: str) -> str:
    """Swap the words "left" and "right" (keeping their capitalisation)."""

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        new = "right" if word.lower() == "left" else "left"
        if word.isupper():
            return new.upper()
        if word[0].isupper():
            return new.capitalize()
        return new

    return _LR.sub(swap, text)
