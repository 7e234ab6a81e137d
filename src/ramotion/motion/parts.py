"""Body parts and feature groups of the HumanML3D / KIT-ML feature vector, as boolean masks.

Editing by inpainting (`ramotion.sampling.inpaint`) keeps some features of a motion and
regenerates the rest; this module says which feature indices belong to what.

Feature groups (docs/representation.md): `root` is the root's rotation velocity, linear
velocity (x, z), height and the pelvis's own local velocity; every other joint j owns its
`ric` position (3), its `rot6d` bone rotation (6, the bone parent(j) -> j) and its local
velocity (3); the four foot-contact flags belong to the leg whose joints they describe.

Body parts are sets of joints read off the skeleton's kinematic chains by joint name, so
the same names work for HumanML3D (22 joints, 263 dims) and KIT-ML (21 joints, 251 dims):

| part | joints |
|---|---|
| left_leg / right_leg | the chain from the pelvis through that hip (+ that foot's contacts) |
| left_arm / right_arm | the chain from the spine through that collar / shoulder |
| torso | the spine chain up to the head (pelvis excluded: it is the root) |
| upper_body | torso + both arms |
| lower_body | both legs |
| root | the root features only (trajectory, heading, pelvis height and velocity) |

`fix_bone_lengths` keeps generated joints at the source's bone lengths from their parents, so
that a re-generated limb stays attached to the kept body (body-part edits apply it at every
sampling step).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from ..skeleton import Skeleton, get_skeleton

BODY_PARTS = ("upper_body", "lower_body", "left_arm", "right_arm", "left_leg", "right_leg", "torso", "root")
JOINT_GROUPS = ("ric", "rot6d", "local_vel")


def _limbs(sk: Skeleton) -> dict[str, tuple[int, ...]]:
    """The skeleton's chains named by their first joint after the branch point:
    left_leg / right_leg (a hip), left_arm / right_arm (a collar or shoulder), torso (the rest)."""
    out: dict[str, list[int]] = {"left_leg": [], "right_leg": [], "left_arm": [], "right_arm": [], "torso": []}
    for chain in sk.chains:
        joints = list(chain[1:])  # chain[0] is the joint the chain hangs off (pelvis, spine3, ...)
        first = sk.joint_names[joints[0]]
        side = "left" if first.startswith("left_") else "right" if first.startswith("right_") else None
        if side is not None and "hip" in first:
            out[f"{side}_leg"] += joints
        elif side is not None and ("collar" in first or "shoulder" in first):
            out[f"{side}_arm"] += joints
        elif side is None:
            out["torso"] += joints
        else:
            raise ValueError(f"skeleton {sk.name!r}: cannot tell which body part chain {chain} (starting at {first!r}) belongs to")
    return {k: tuple(sorted(v)) for k, v in out.items()}


def part_joints(part: str, skeleton: str | Skeleton = "humanml3d") -> tuple[int, ...]:
    """The joint indices of a body part (`BODY_PARTS`); "root" has none of its own (the pelvis is
    the root, whose features are the `root` group)."""
    sk = get_skeleton(skeleton)
    limbs = _limbs(sk)
    combos = {
        "upper_body": limbs["torso"] + limbs["left_arm"] + limbs["right_arm"],
        "lower_body": limbs["left_leg"] + limbs["right_leg"],
        "root": (),
    }
    if part not in BODY_PARTS:
        raise ValueError(f"unknown body part {part!r}: expected one of {', '.join(BODY_PARTS)}")
    return tuple(sorted(combos.get(part, limbs.get(part, ()))))


def joint_feature_indices(joint: int, skeleton: str | Skeleton = "humanml3d", groups: Sequence[str] = JOINT_GROUPS) -> np.ndarray:
    """Feature indices (sorted, int64) of one joint's `groups` (ric, rot6d, local_vel). Joint 0,
    the pelvis, has no ric or rot6d (the root group describes it) but has a local velocity."""
    sk = get_skeleton(skeleton)
    if not 0 <= joint < sk.num_joints:
        raise ValueError(f"joint {joint} is not one of {sk.name}'s {sk.num_joints} joints")
    unknown = sorted(set(groups) - set(JOINT_GROUPS))
    if unknown:
        raise ValueError(f"unknown feature groups {unknown}: expected some of {', '.join(JOINT_GROUPS)}")
    sl = sk.feature_slices()
    out: list[int] = []
    if joint > 0 and "ric" in groups:
        out += range(sl["ric"].start + 3 * (joint - 1), sl["ric"].start + 3 * joint)
    if joint > 0 and "rot6d" in groups:
        out += range(sl["rot6d"].start + 6 * (joint - 1), sl["rot6d"].start + 6 * joint)
    if "local_vel" in groups:
        out += range(sl["local_vel"].start + 3 * joint, sl["local_vel"].start + 3 * joint + 3)
    return np.asarray(sorted(out), dtype=np.int64)


def root_feature_indices(skeleton: str | Skeleton = "humanml3d") -> np.ndarray:
    """Feature indices of the root group: rotation velocity, linear velocity x/z, height (dims 0-3)
    and the pelvis's local velocity."""
    sk = get_skeleton(skeleton)
    return np.concatenate([np.arange(4), joint_feature_indices(0, sk, ("local_vel",))])


def contact_feature_indices(joints: Sequence[int], skeleton: str | Skeleton = "humanml3d") -> np.ndarray:
    """The foot-contact flags whose joints (skeleton.foot_left: flags 0-1, foot_right: flags 2-3)
    are all among `joints`."""
    sk = get_skeleton(skeleton)
    start = sk.feature_slices()["contacts"].start
    wanted = set(joints)
    out = [start + k for k, j in enumerate(sk.foot_left + sk.foot_right) if j in wanted]
    return np.asarray(out, dtype=np.int64)


def part_feature_mask(parts: str | Sequence[str], skeleton: str | Skeleton = "humanml3d") -> np.ndarray:
    """(D,) bool, True on every feature of the named body parts (`BODY_PARTS`, one or several)."""
    sk = get_skeleton(skeleton)
    names = [parts] if isinstance(parts, str) else list(parts)
    if not names:
        raise ValueError(f"name at least one body part: {', '.join(BODY_PARTS)}")
    mask = np.zeros(sk.feature_dim, dtype=bool)
    for name in names:
        if name == "root":
            mask[root_feature_indices(sk)] = True
            continue
        joints = part_joints(name, sk)
        for j in joints:
            mask[joint_feature_indices(j, sk)] = True
        mask[contact_feature_indices(joints, sk)] = True
    return mask


def frame_keep_mask(num_frames: int, keep: Sequence[tuple[int, int]]) -> np.ndarray:
    """(T,) bool, True on the frames of the half-open ranges [start, stop) in `keep`.

    ValueError for a range that is empty, reversed or outside 0..num_frames."""
    out = np.zeros(num_frames, dtype=bool)
    for rng in keep:
        try:
            start, stop = (int(v) for v in rng)
        except (TypeError, ValueError):
            raise ValueError(f"frame ranges must be (start, stop) pairs of whole numbers, got {rng!r}") from None
        if not 0 <= start < stop <= num_frames:
            raise ValueError(f"frame range {start}:{stop} must satisfy 0 <= start < stop <= {num_frames} (the source's frame count)")
        out[start:stop] = True
    return out


def bone_lengths(features: np.ndarray, skeleton: str | Skeleton = "humanml3d") -> np.ndarray:
    """(J,) the median length of each joint's bone parent(j) -> j over a motion's frames (raw
    features (T, D)); 0 for the root."""
    from .features import features_to_joints

    sk = get_skeleton(skeleton)
    joints = np.asarray(features_to_joints(np.asarray(features, dtype=np.float64), sk))  # (T, J, 3)
    out = np.zeros(sk.num_joints)
    for j, p in enumerate(sk.parents):
        if p >= 0:
            out[j] = np.median(np.linalg.norm(joints[:, j] - joints[:, p], axis=-1))
    return out


def fix_bone_lengths(features: Tensor, free: Tensor, lengths: Tensor, skeleton: str | Skeleton = "humanml3d") -> Tensor:
    """Raw features (B, T, D) whose free joints' ric positions are moved, parents first, so that
    each free joint j sits `lengths[j]` from its parent along the direction it had (a rigid-bone
    projection). free: (T, J) or (B, T, J) bool, True where joint j's ric position is generated
    (the root's entry is ignored: its place is the root height). Other entries are returned unchanged.

    Used by body-part edits at every sampling step: a generated arm stays attached to the kept
    torso with the source's bone lengths instead of stretching to meet it.
    """
    sk = get_skeleton(skeleton)
    ric_start = sk.feature_slices()["ric"].start
    batch, frames = features.shape[:2]
    ric = features[..., ric_start : ric_start + 3 * (sk.num_joints - 1)].reshape(batch, frames, sk.num_joints - 1, 3)
    root = torch.zeros(batch, frames, 3, dtype=features.dtype, device=features.device)
    root[..., 1] = features[..., 3]  # the pelvis in ric coordinates: (0, height, 0)
    old = torch.cat((root[..., None, :], ric), dim=-2)  # (B, T, J, 3) as generated
    new = old.clone()
    for j in _parents_first(sk):
        p = sk.parents[j]
        bone = old[..., j, :] - old[..., p, :]  # (B, T, 3)
        placed = new[..., p, :] + bone * (lengths[j] / bone.norm(dim=-1, keepdim=True).clamp(min=1e-8))
        new[..., j, :] = torch.where(free[..., j, None], placed, old[..., j, :])
    out = features.clone()
    out[..., ric_start : ric_start + 3 * (sk.num_joints - 1)] = new[..., 1:, :].reshape(batch, frames, -1)
    return out


def _parents_first(sk: Skeleton) -> list[int]:
    """Every non-root joint, each after its parent."""
    order: list[int] = []
    for chain in sk.chains:
        order += [j for j in chain[1:] if j not in order]
    return order
