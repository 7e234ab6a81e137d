"""A motion's own rigid body: one length per bone, one layout per multi-child joint.

A body (and an animation file) has fixed bones; joint positions from a model or a capture
need not. This module owns how the fixed body is read off a motion and how a motion is put
onto it, so that the foot cleanup (`motion.cleanup`) and the BVH exporter (`mocap.export`)
agree exactly: a motion the cleanup made rigid is one the exporter writes without error.

- `bone_lengths`: each bone's median length over the clip.
- `fit_rotation`: the best rotation of a rest layout onto posed points (Kabsch, batched).
- `joint_layouts`: for each joint with several children (HumanML3D: the pelvis with the hips
  and spine; spine3 with the neck and collars), the children's mean layout in the joint's own
  frame (generalised Procrustes: align every frame to the layout, average, repeat).
- `make_rigid`: the motion on that body: bone directions kept, lengths fixed, each multi-child
  joint's children placed by one rotation of its layout per frame.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import Skeleton

PROCRUSTES_ROUNDS = 4  # alignment rounds; the layout moves < 1e-6 m after 3 on real and generated motion


def children_of(skeleton: Skeleton) -> list[list[int]]:
    """Each joint's children, in joint order."""
    parents = skeleton.parents
    return [[c for c in range(skeleton.num_joints) if parents[c] == j] for j in range(skeleton.num_joints)]


def bone_lengths(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(J,) each bone's median length over the clip (bone j: parent(j) -> j; 0 for the root)."""
    parents = np.asarray(skeleton.parents)
    out = np.zeros(skeleton.num_joints)
    out[1:] = np.median(np.linalg.norm(joints[:, 1:] - joints[:, parents[1:]], axis=-1), axis=0)
    return out


def fit_rotation(rest: np.ndarray, posed: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations R minimising sum_k |R rest_k - posed_k|^2; rest (K, 3), posed (T, K, 3).

    Kabsch by SVD, batched over frames (scipy's Rotation.align_vectors solves one frame per call)."""
    h = np.einsum("ki,tkj->tij", rest, posed)  # (T, 3, 3)
    u, _, vh = np.linalg.svd(h)
    v = np.swapaxes(vh, -1, -2)
    d = np.sign(np.linalg.det(v @ np.swapaxes(u, -1, -2)))  # -1 would be a reflection
    fix = np.zeros((len(h), 3, 3))
    fix[:, 0, 0], fix[:, 1, 1], fix[:, 2, 2] = 1.0, 1.0, d
    return v @ fix @ np.swapaxes(u, -1, -2)


def joint_layouts(joints: np.ndarray, skeleton: Skeleton, start: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """{joint: (K, 3)} the mean layout of each multi-child joint's children relative to it, at
    the median bone lengths. `start` gives each layout's first guess (its orientation is kept:
    the exporter starts from its rest pose so that the file's rest stays upright); without
    one, the first frame's."""
    j = np.asarray(joints, dtype=np.float64)
    lengths = bone_lengths(j, skeleton)
    out = {}
    for joint, kids in enumerate(children_of(skeleton)):
        if len(kids) < 2:
            continue
        posed = j[:, kids] - j[:, joint : joint + 1]  # (T, K, 3)
        layout = np.array(start[joint], dtype=np.float64) if start and joint in start else posed[0].copy()
        for _ in range(PROCRUSTES_ROUNDS):
            rot = fit_rotation(layout, posed)  # (T, 3, 3)
            layout = np.einsum("tji,tkj->ki", rot, posed) / len(posed)  # mean of R_t^T posed_t
            layout *= (lengths[kids] / np.maximum(np.linalg.norm(layout, axis=-1), 1e-12))[:, None]
        out[joint] = layout
    return out


def make_rigid(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T, J, 3): the motion on its own rigid body (`bone_lengths`, `joint_layouts`), the root's
    path and every single-child bone's direction kept. Idempotent."""
    j = np.asarray(joints, dtype=np.float64)
    lengths = bone_lengths(j, skeleton)
    layouts = joint_layouts(j, skeleton)
    parents = skeleton.parents
    out = j.copy()
    placed: dict[int, np.ndarray] = {}  # child -> (T, 3) offset from its parent
    for joint, layout in layouts.items():
        kids = children_of(skeleton)[joint]
        rot = fit_rotation(layout, j[:, kids] - j[:, joint : joint + 1])  # (T, 3, 3)
        for k, child in enumerate(kids):
            placed[child] = rot @ layout[k]
    for child in range(1, skeleton.num_joints):  # parents come before children in both skeletons
        parent = parents[child]
        if child in placed:
            out[:, child] = out[:, parent] + placed[child]
        else:
            bone = j[:, child] - j[:, parent]
            out[:, child] = out[:, parent] + lengths[child] * bone / np.maximum(np.linalg.norm(bone, axis=-1), 1e-12)[:, None]
    return out
