"""Skeleton definitions: HumanML3D (22 joints, SMPL order) and KIT-ML (21 joints).

Everything the motion representation needs to know about a body lives here: joint
names, parents, the kinematic chains that inverse/forward kinematics walk, the raw
offset directions, reference bone lengths, left/right pairs, foot and face joints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    """A fixed skeleton and the constants of its HumanML3D-style feature vector."""

    name: str
    joint_names: tuple[str, ...]
    chains: tuple[tuple[int, ...], ...]
    raw_offsets: tuple[tuple[float, float, float], ...]
    # Reference bone lengths (metres), joint i's bone is parent(i) -> i; None when the
    # reference pose is not known (KIT-ML: retargeting then needs a user reference).
    bone_lengths: tuple[float, ...] | None
    left: tuple[int, ...]
    right: tuple[int, ...]
    # (right hip, left hip, right shoulder, left shoulder): across = (a - b) + (c - d).
    face_joints: tuple[int, int, int, int]
    # Contact joints in the order their flags appear in the feature vector:
    # first the "left" pair, then the "right" pair (the community's order).
    foot_left: tuple[int, int]
    foot_right: tuple[int, int]
    # The two lower-leg joints whose offsets give the leg length used to scale the
    # root trajectory when retargeting.
    leg_joints: tuple[int, int]
    fps: float
    min_frames: int = 40
    max_frames: int = 196
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def feature_dim(self) -> int:
        """Size of one frame of features: 4 root + 3(J-1) ric + 6(J-1) rot + 3J vel + 4."""
        j = self.num_joints
        return 4 + 3 * (j - 1) + 6 * (j - 1) + 3 * j + 4

    @cached_property
    def parents(self) -> tuple[int, ...]:
        """Parent of each joint (-1 for the root), derived from the chains."""
        par = [-1] * self.num_joints
        for chain in self.chains:
            for a, b in zip(chain[:-1], chain[1:]):
                par[b] = a
        return tuple(par)

    @cached_property
    def mirror_index(self) -> np.ndarray:
        """Permutation that swaps every left joint with its right twin."""
        idx = np.arange(self.num_joints)
        idx[list(self.left)] = self.right
        idx[list(self.right)] = self.left
        return idx

    def offsets(self) -> np.ndarray:
        """(J, 3) reference offsets: raw direction times reference bone length."""
        if self.bone_lengths is None:
            raise ValueError(
                f"skeleton {self.name!r} has no built-in reference bone lengths; "
                "pass a reference pose to measure them"
            )
        return np.asarray(self.raw_offsets, dtype=np.float64) * np.asarray(self.bone_lengths)[:, None]

    def offsets_from_pose(self, pose: np.ndarray) -> np.ndarray:
        """(J, 3) offsets whose lengths are measured on a pose (J, 3), as float32 like the released pipeline."""
        pose = np.asarray(pose, dtype=np.float64)[: self.num_joints]
        lengths = np.zeros(self.num_joints)
        for j, p in enumerate(self.parents):
            if p >= 0:
                lengths[j] = np.float32(np.linalg.norm(pose[j] - pose[p]))
        return np.asarray(self.raw_offsets, dtype=np.float64) * lengths[:, None]

    def feature_slices(self) -> dict[str, slice]:
        """Named slices of the feature vector (spec §1 table)."""
        j = self.num_joints
        a = 4 + 3 * (j - 1)
        b = a + 6 * (j - 1)
        c = b + 3 * j
        return {
            "root_rot_vel": slice(0, 1),
            "root_lin_vel": slice(1, 3),
            "root_y": slice(3, 4),
            "ric": slice(4, a),
            "rot6d": slice(a, b),
            "local_vel": slice(b, c),
            "contacts": slice(c, c + 4),
        }


HUMANML3D = Skeleton(
    name="humanml3d",
    joint_names=(
        "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
        "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
        "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    ),
    chains=((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21), (9, 13, 16, 18, 20)),
    raw_offsets=(
        (0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, -1, 0), (0, 1, 0),
        (0, -1, 0), (0, -1, 0), (0, 1, 0), (0, 0, 1), (0, 0, 1), (0, 1, 0), (1, 0, 0),
        (-1, 0, 0), (0, 0, 1), (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0),
        (0, -1, 0),
    ),
    # Measured once on HumanML3D motion 000021, frame 0 (shared/data/reference/
    # skeleton_example_h3d.npy), rounded to float32 as the released pipeline does.
    bone_lengths=(
        0.0, 0.10307396948337555, 0.1098833680152893, 0.13156823813915253,
        0.3936232030391693, 0.39018821716308594, 0.14319021999835968, 0.4324330687522888,
        0.42564335465431213, 0.05736473575234413, 0.14338181912899017, 0.14941906929016113,
        0.21936005353927612, 0.1374867707490921, 0.14338283240795135, 0.1030392199754715,
        0.13161404430866241, 0.122984379529953, 0.2568399906158447, 0.2630917429924011,
        0.26601171493530273, 0.2698763906955719,
    ),
    left=(1, 4, 7, 10, 13, 16, 18, 20),
    right=(2, 5, 8, 11, 14, 17, 19, 21),
    face_joints=(2, 1, 17, 16),
    foot_left=(7, 10),
    foot_right=(8, 11),
    leg_joints=(5, 8),
    fps=20.0,
    min_frames=40,
)

KIT = Skeleton(
    name="kit",
    joint_names=(
        "root", "torso", "chest", "neck", "head", "left_shoulder", "left_elbow",
        "left_wrist", "right_shoulder", "right_elbow", "right_wrist", "left_hip",
        "left_knee", "left_ankle", "left_toe_base", "left_foot", "right_hip", "right_knee",
        "right_ankle", "right_toe_base", "right_foot",
    ),
    chains=((0, 11, 12, 13, 14, 15), (0, 16, 17, 18, 19, 20), (0, 1, 2, 3, 4), (3, 5, 6, 7), (3, 8, 9, 10)),
    raw_offsets=(
        (0, 0, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0), (1, 0, 0), (0, -1, 0),
        (0, -1, 0), (-1, 0, 0), (0, -1, 0), (0, -1, 0), (1, 0, 0), (0, -1, 0), (0, -1, 0),
        (0, 0, 1), (0, 0, 1), (-1, 0, 0), (0, -1, 0), (0, -1, 0), (0, 0, 1), (0, 0, 1),
    ),
    bone_lengths=None,  # the KIT reference pose is not distributed with ramotion
    left=(5, 6, 7, 11, 12, 13, 14, 15),
    right=(8, 9, 10, 16, 17, 18, 19, 20),
    # The community's KIT face joints, (11, 16, 5, 8), and foot order (19, 20) then
    # (14, 15): kept exactly so that 251-dim features match released KIT-ML data.
    face_joints=(11, 16, 5, 8),
    foot_left=(19, 20),
    foot_right=(14, 15),
    leg_joints=(17, 18),
    fps=12.5,
    min_frames=24,
)

SKELETONS: dict[str, Skeleton] = {"humanml3d": HUMANML3D, "t2m": HUMANML3D, "kit": KIT}


def get_skeleton(skeleton: str | Skeleton) -> Skeleton:
    """Look a skeleton up by name ("humanml3d"/"t2m" or "kit"), or pass one through."""
    if isinstance(skeleton, Skeleton):
        return skeleton
    try:
        return SKELETONS[skeleton.lower()]
    except KeyError:
        raise ValueError(f"unknown skeleton {skeleton!r}; expected one of {sorted(set(SKELETONS))}") from None


def skeleton_for_joint_count(num_joints: int) -> Skeleton:
    """The skeleton with this many joints (22 -> HumanML3D, 21 -> KIT-ML)."""
    for sk in (HUMANML3D, KIT):
        if sk.num_joints == num_joints:
            return sk
    raise ValueError(f"unknown joint count {num_joints}: expected 22 (HumanML3D) or 21 (KIT-ML)")


def skeleton_for_feature_dim(dim: int) -> Skeleton:
    """The skeleton whose features have this size (263 -> HumanML3D, 251 -> KIT-ML)."""
    for sk in (HUMANML3D, KIT):
        if sk.feature_dim == dim:
            return sk
    raise ValueError(f"unknown feature size {dim}: expected 263 (HumanML3D) or 251 (KIT-ML)")
