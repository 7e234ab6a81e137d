"""BVH export of HumanML3D motions.

`export_bvh` writes a standard BVH: a 22-joint hierarchy in SMPL order and names, the
root position plus one rotation per joint, 20 fps, metres, y up, `Zrotation Xrotation
Yrotation` channels (R = Rz Rx Ry, the order of the CMU files that Blender's importer
reads). The format itself is `mocap.bvh`.

The skeleton is the motion's own (`rest="motion"`, the default): each bone's offset has the
motion's median length for that bone (`motion.rigid.bone_lengths`), and at the two joints
with several children (pelvis: hips and spine1; spine3: neck and collars), whose one BVH
rotation must place all the children, the children's offsets are their mean layout in the
motion (`motion.rigid.joint_layouts`). A motion with fixed bones and fixed pelvis and chest
shapes -- every motion `motion.cleanup` made, every forward-kinematics motion, every BVH import
-- is therefore written exactly: forward kinematics of the file gives back its joints. A motion
whose bones stretch from frame to frame (a model's raw joints) cannot be, since a BVH has one
length per bone; `deviation` measures how far the file is from it.

`rest="reference"` writes the HumanML3D reference skeleton instead (for retargeting onto
other rigs): the motion is retargeted to the reference bone lengths (as `joints_to_features`
does) and the multi-child joints take the reference pose's layout, HumanML3D motion 000021's
frame 0 turned to face +z (not HumanML3D's axis-aligned offsets, whose hips sit level with the
pelvis: 15 cm off on real motion). The rotation at a multi-child joint is the least-squares
fit of the rest children onto the posed children in both modes.

The arms rest in a T-pose (shoulder, elbow and wrist bones along +-x), as in most
BVH rigs: a single-child joint gets the shortest rotation from its rest bone to its
posed bone in the parent's frame, which is undefined when the two are opposite. With
arms hanging at rest that happens when the arms go overhead (the twist then flips
by up to 180 degrees between frames); with a T-pose only for an arm pointing through
the chest. Twist does not move joints, so joint positions do not depend on this.
Leaf joints (feet, head, wrists) get the identity and an End Site along their bone.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch import Tensor

from ..io_utils import atomic_path
from ..motion.features import check_joints
from ..motion.kinematics import retarget
from ..motion.rigid import bone_lengths, fit_rotation, joint_layouts
from ..rotations import matrix_to_quat, qbetween, qinv, qmul, qrot, quat_to_euler
from ..skeleton import HUMANML3D, Skeleton, get_skeleton
from .bvh import BVHMotion

# The HumanML3D reference pose as bone vectors parent -> joint (metres, y up, facing +z):
# HumanML3D motion 000021 frame 0 (shared/data/reference/skeleton_example_h3d.npy, first
# 22 joints), turned about y so that its forward direction is +z. Measured once and kept
# as constants (their lengths equal skeleton.HUMANML3D.bone_lengths to 1e-8; the rest
# offsets are rescaled to those lengths exactly).
REFERENCE_POSE_BONES_H3D: tuple[tuple[float, float, float], ...] = (
    (0.000000, 0.000000, 0.000000),  # 0 pelvis
    (0.057678, -0.084780, -0.010476),  # 1 left_hip
    (-0.060895, -0.091333, -0.004930),  # 2 right_hip
    (0.004998, 0.121703, -0.049736),  # 3 spine1
    (0.042798, -0.391160, 0.010080),  # 4 left_knee
    (-0.040006, -0.387232, -0.026422),  # 5 right_knee
    (0.004524, 0.140481, 0.027352),  # 6 spine2
    (-0.028268, -0.424181, -0.079181),  # 7 left_ankle
    (0.044229, -0.420463, -0.049265),  # 8 right_ankle
    (-0.001979, 0.057205, 0.003793),  # 9 spine3
    (0.036548, -0.055763, 0.126937),  # 10 left_foot
    (-0.047019, -0.058361, 0.129265),  # 11 right_foot
    (-0.003048, 0.218590, -0.018115),  # 12 neck
    (0.076715, 0.113820, -0.007904),  # 13 left_collar
    (-0.077347, 0.119508, -0.017146),  # 14 right_collar
    (0.025883, 0.068795, 0.072211),  # 15 head
    (0.129557, -0.016196, -0.016577),  # 16 left_shoulder
    (-0.122291, -0.002021, -0.012881),  # 17 right_shoulder
    (0.011559, -0.254857, -0.029679),  # 18 left_elbow
    (-0.032610, -0.256816, -0.046898),  # 19 right_elbow
    (0.017764, -0.251885, 0.083670),  # 20 left_wrist
    (-0.061590, -0.249900, 0.081178),  # 21 right_wrist
)

END_SITE_FRACTION = 0.4  # End Site of a leaf joint: this fraction of its own bone, along it
ROTATION_ORDER = "ZXY"  # BVH channels Zrotation Xrotation Yrotation: R = Rz @ Rx @ Ry


# Arm bones that rest along +-x (T-pose) instead of hanging as in the reference pose.
T_POSE_ARMS: dict[int, tuple[float, float, float]] = {
    16: (1.0, 0.0, 0.0), 18: (1.0, 0.0, 0.0), 20: (1.0, 0.0, 0.0),  # left shoulder, elbow, wrist
    17: (-1.0, 0.0, 0.0), 19: (-1.0, 0.0, 0.0), 21: (-1.0, 0.0, 0.0),  # right
}  # fmt: skip


def rest_offsets(skeleton: Skeleton = HUMANML3D) -> np.ndarray:
    """(22, 3) BVH rest offsets: the reference pose's bone directions (arms in a T-pose) times the
    reference bone lengths."""
    if skeleton.name != HUMANML3D.name:
        raise ValueError(f"BVH export supports the HumanML3D 22-joint skeleton only, not {skeleton.name!r}")
    bones = np.asarray(REFERENCE_POSE_BONES_H3D, dtype=np.float64)
    for j, direction in T_POSE_ARMS.items():
        bones[j] = direction
    norms = np.linalg.norm(bones, axis=1, keepdims=True)
    dirs = np.divide(bones, norms, out=np.zeros_like(bones), where=norms > 0)
    return dirs * np.asarray(skeleton.bone_lengths)[:, None]


def motion_to_bvh(
    joints: np.ndarray | Tensor,
    skeleton: str | Skeleton = "humanml3d",
    *,
    fps: float | None = None,
    scale: float = 1.0,
    rest: str = "motion",
) -> BVHMotion:
    """The BVH of a motion. joints (T, 22, 3) in metres, y up.

    rest: "motion" (the motion's own skeleton: exact for a rigid motion) or "reference" (the
    motion retargeted onto the HumanML3D reference skeleton); see the module docstring. The
    rest pose is a T-pose facing +z either way. `scale` multiplies all lengths in the file
    (100 writes centimetres). `fps` defaults to the skeleton's.
    """
    sk = get_skeleton(skeleton)
    reference = rest_offsets(sk)  # (J, 3); raises for non-HumanML3D skeletons
    if rest not in ("motion", "reference"):
        raise ValueError(f"rest must be 'motion' or 'reference', got {rest!r}")
    check_joints(joints, sk)
    fps = float(sk.fps if fps is None else fps)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale}")
    pos = torch.as_tensor(np.asarray(joints) if not isinstance(joints, Tensor) else joints.detach().cpu())
    pos = pos.to(torch.float64)
    parents = sk.parents
    bone_len = (pos[:, 1:] - pos[:, list(parents[1:])]).norm(dim=-1)  # (T, J-1)
    if bool((bone_len < 1e-9).any()):
        t, b = (int(i) for i in torch.nonzero(bone_len < 1e-9)[0])
        raise ValueError(
            f"cannot export: joints {sk.joint_names[parents[b + 1]]} and {sk.joint_names[b + 1]} coincide "
            f"in frame {t} (a bone of zero length has no direction)"
        )
    if rest == "reference":
        pos = retarget(pos, sk)  # (T, J, 3)
        bad = ~torch.isfinite(pos).all(dim=-1).all(dim=-1)
        if bool(bad.any()):
            raise ValueError(
                f"cannot export: the body's facing direction is undefined in frame {int(torch.nonzero(bad)[0])} "
                "(hips and shoulders give no left-right axis)"
            )
    T, J = pos.shape[:2]
    children: list[list[int]] = [[c for c in range(J) if parents[c] == j] for j in range(J)]
    offsets_np = reference.copy()
    if rest == "motion":
        offsets_np *= (bone_lengths(pos.numpy(), sk) / np.maximum(np.linalg.norm(reference, axis=1), 1e-12))[:, None]
        start = {j: offsets_np[kids] for j, kids in enumerate(children) if len(kids) > 1}
        for j, layout in joint_layouts(pos.numpy(), sk, start).items():
            offsets_np[children[j]] = layout
    rest_t = torch.as_tensor(offsets_np)  # (J, 3) the file's rest offsets

    identity = pos.new_tensor((1.0, 0.0, 0.0, 0.0)).expand(T, 4)
    glob: list[Tensor] = [identity] * J  # global rotations (T, 4)
    local: list[Tensor] = [identity] * J
    for j in range(J):  # SMPL order: every parent comes before its children
        parent_rot = glob[parents[j]] if parents[j] >= 0 else identity
        kids = children[j]
        if len(kids) == 1:
            c = kids[0]
            bone = qrot(qinv(parent_rot), pos[:, c] - pos[:, j])  # (T, 3) in the parent's frame
            local[j] = qbetween(rest_t[c].expand(T, 3), bone)
            glob[j] = qmul(parent_rot, local[j])
        elif len(kids) > 1:
            posed = pos[:, kids] - pos[:, j : j + 1]  # (T, K, 3)
            glob[j] = matrix_to_quat(torch.as_tensor(fit_rotation(rest_t[kids].numpy(), posed.numpy())))
            local[j] = qmul(qinv(parent_rot), glob[j])
        else:
            glob[j] = parent_rot  # leaf: local identity
    local_q = torch.stack(local, dim=1)  # (T, J, 4)

    euler = quat_to_euler(local_q, ROTATION_ORDER).numpy()  # (T, J, 3) degrees, (z, x, y)
    euler = np.unwrap(euler, period=360.0, axis=0)  # no 360-degree jumps between frames
    # A BVH lists joints depth-first, and its MOTION columns follow that order.
    order: list[int] = []

    def visit(j: int) -> None:
        order.append(j)
        for c in children[j]:
            visit(c)

    visit(0)
    file_index = {j: k for k, j in enumerate(order)}
    root = pos[:, 0].numpy() * scale
    values = np.concatenate((root, euler[:, order].reshape(T, -1)), axis=1)  # (T, 3 + 3J)
    rot_channels = tuple(f"{a}rotation" for a in ROTATION_ORDER)
    channels = [("Xposition", "Yposition", "Zposition") + rot_channels] + [rot_channels] * (J - 1)
    offsets = offsets_np[order] * scale
    offsets[0] = 0.0  # the root's place is all in its position channels
    end_sites = {file_index[j]: offsets_np[j] * scale * END_SITE_FRACTION for j in order if not children[j]}
    return BVHMotion(
        names=[sk.joint_names[j] for j in order],
        parents=[file_index[parents[j]] if parents[j] >= 0 else -1 for j in order],
        offsets=offsets,
        channels=channels,
        values=values,
        frame_time=1.0 / fps,
        end_sites=end_sites,
    )


def export_bvh(
    joints: np.ndarray | Tensor,
    path: str | os.PathLike,
    skeleton: str | Skeleton = "humanml3d",
    *,
    fps: float | None = None,
    scale: float = 1.0,
    decimals: int = 6,
    rest: str = "motion",
) -> BVHMotion:
    """Write a motion (T, 22, 3) as a BVH file, atomically; returns the BVHMotion written."""
    motion = motion_to_bvh(joints, skeleton, fps=fps, scale=scale, rest=rest)
    text = motion.to_text(decimals)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="ascii")
    return motion




def deviation(motion: BVHMotion, joints: np.ndarray | Tensor, scale: float = 1.0) -> np.ndarray:
    """(T, 22) distance (m) of every joint of the BVH's forward kinematics from `joints`
    (what the file shows against what it was made from); `scale` as given to the export."""
    from .importing import bvh_to_joints

    given = np.asarray(joints.detach().cpu() if isinstance(joints, Tensor) else joints, dtype=np.float64)
    return np.linalg.norm(bvh_to_joints(motion, scale=1.0 / scale) - given, axis=-1)
