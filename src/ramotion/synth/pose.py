"""Body channels -> joint positions on the HumanML3D reference skeleton.

A synthetic motion is described by a few interpretable channels per frame (where the
body is and which way it faces, pelvis height, spine bend, arm angles, and world
targets for the two ankles). `channels_to_joints` turns them into joint rotations:
the legs by two-bone inverse kinematics towards their ankle targets (so a planted
foot stays exactly where it was put), everything else from angles in a proper
parent-relative hierarchy. The rotations are then re-expressed in ramotion's
forward-kinematics convention (every chain starts from the root quaternion, see
`ramotion.motion.kinematics.forward_kinematics`) and positions come out of that FK
with `HUMANML3D.offsets()`, so bone lengths are exactly the reference ones.

Frame conventions (HumanML3D): y is up, the body faces +z at yaw 0, +x is the
character's left; a positive yaw turns the body to its left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.spatial.transform import Rotation

from ..motion.kinematics import forward_kinematics
from ..skeleton import HUMANML3D

SK = HUMANML3D
OFFSETS = SK.offsets()  # (22, 3) metres
PARENTS = SK.parents

# Leg segment lengths per side (left = 0, right = 1): hip->knee, knee->ankle, ankle->toe.
HIP = (1, 2)
KNEE = (4, 5)
ANKLE = (7, 8)
TOE = (10, 11)
THIGH_LEN = tuple(float(np.linalg.norm(OFFSETS[k])) for k in KNEE)
SHIN_LEN = tuple(float(np.linalg.norm(OFFSETS[a])) for a in ANKLE)
FOOT_LEN = tuple(float(np.linalg.norm(OFFSETS[t])) for t in TOE)
LEG_REACH = tuple(0.995 * (a + b) for a, b in zip(THIGH_LEN, SHIN_LEN))
# A planted foot points its toes slightly down (ankle above the ball of the foot, as
# in captured data): the toe joint touches the floor and the ankle sits above it.
FOOT_PITCH = 0.5  # radians
ANKLE_REST_Y = tuple(f * float(np.sin(FOOT_PITCH)) for f in FOOT_LEN)


def rot_x(a: np.ndarray) -> np.ndarray:
    """Rotations about x by angles a (...,) -> (..., 3, 3)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack((o, z, z, z, c, -s, z, s, c), -1).reshape(np.shape(a) + (3, 3))


def rot_y(a: np.ndarray) -> np.ndarray:
    """Rotations about y (up) by angles a (...,) -> (..., 3, 3)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack((c, z, s, z, o, z, -s, z, c), -1).reshape(np.shape(a) + (3, 3))


def rot_z(a: np.ndarray) -> np.ndarray:
    """Rotations about z (forward) by angles a (...,) -> (..., 3, 3)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack((c, -s, z, s, c, z, z, z, o), -1).reshape(np.shape(a) + (3, 3))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True).clip(1e-9)


@dataclass
class Channels:
    """Per-frame description of a body (T frames). Angles in radians.

    Arm angles per side, (T, 6): flexion (raise forward), abduction (raise sideways,
    outwards for either arm), horizontal adduction (bring a raised arm towards the
    midline), elbow flexion, collar elevation, upper-arm twist (with the arm out
    sideways and a twist of pi/2 the elbow bends the forearm upwards). Spine (T, 3):
    forward bend, lean to the character's left, twist to the left (spread over the
    three spine joints).
    """

    T: int
    base: np.ndarray = field(init=False)  # (T, 2) ground point (x, z) under the pelvis
    yaw: np.ndarray = field(init=False)  # (T,) heading
    pelvis_h: np.ndarray = field(init=False)  # (T,) desired pelvis height above the floor
    pelvis_local: np.ndarray = field(init=False)  # (T, 3) offset in the heading frame
    pelvis_rot: np.ndarray = field(init=False)  # (T, 3) pitch forward, roll left, twist left
    spine: np.ndarray = field(init=False)  # (T, 3)
    neck: np.ndarray = field(init=False)  # (T, 2) pitch down, turn left
    arms: np.ndarray = field(init=False)  # (2, T, 6) left, right
    foot_pos: np.ndarray = field(init=False)  # (2, T, 3) ankle targets (world)
    foot_yaw: np.ndarray = field(init=False)  # (2, T)
    foot_pitch: np.ndarray = field(init=False)  # (2, T) toes down
    contact: np.ndarray = field(init=False)  # (2, T) bool: the foot is planted

    def __post_init__(self) -> None:
        T = self.T
        self.base = np.zeros((T, 2))
        self.yaw = np.zeros(T)
        self.pelvis_h = np.zeros(T)
        self.pelvis_local = np.zeros((T, 3))
        self.pelvis_rot = np.zeros((T, 3))
        self.spine = np.zeros((T, 3))
        self.neck = np.zeros((T, 2))
        self.arms = np.zeros((2, T, 6))
        self.foot_pos = np.zeros((2, T, 3))
        self.foot_yaw = np.zeros((2, T))
        self.foot_pitch = np.full((2, T), FOOT_PITCH)
        self.contact = np.ones((2, T), dtype=bool)


def _hip_positions(pelvis: np.ndarray, g0: np.ndarray) -> np.ndarray:
    """(2, T, 3) hip joint positions from pelvis positions (T, 3) and rotations (T, 3, 3)."""
    return np.stack([pelvis + g0 @ OFFSETS[h] for h in HIP])


def reach_limited_height(ch: Channels, g0: np.ndarray, pelvis: np.ndarray) -> np.ndarray:
    """Pelvis heights (T,) no higher than the planted legs can reach.

    A planted ankle is a hard constraint: if the desired pelvis is too high for the
    leg to reach its ankle, the pelvis comes down instead (the foot never slides).
    """
    y = pelvis[:, 1].copy()
    for _ in range(2):
        p = pelvis.copy()
        p[:, 1] = y
        hips = _hip_positions(p, g0)
        for s in (0, 1):
            d_xz = np.linalg.norm((hips[s] - ch.foot_pos[s])[:, [0, 2]], axis=-1)
            reach = LEG_REACH[s]
            room = np.sqrt(np.clip(reach**2 - d_xz**2, 0.0, None))
            limit = ch.foot_pos[s, :, 1] + room - (hips[s, :, 1] - y)
            planted = ch.contact[s]
            y = np.where(planted, np.minimum(y, limit), y)
    return y


def _smooth_min(y: np.ndarray, limit: np.ndarray, width: int = 5) -> np.ndarray:
    """y lowered smoothly wherever it exceeds limit, and never above limit.

    The amount to lower (y - limit where positive) is spread to its neighbours
    (max-filter, then moving average) so the pelvis eases into and out of each
    constrained stretch; frames far from any constraint (a jump's flight) keep y.
    """
    excess = np.clip(y - limit, 0.0, None)
    excess = uniform_filter1d(maximum_filter1d(excess, width, mode="nearest"), width, mode="nearest")
    return np.minimum(y - excess, limit)


def leg_ik(hip: np.ndarray, ankle: np.ndarray, pole: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Global rotations of thigh and shin (T, 3, 3) that bring the ankle to its target.

    hip, ankle, pole: (T, 3); the knee bends in the plane of the leg and the pole
    direction (where the kneecap points). Out-of-reach targets are approached along
    the hip->target line.
    """
    l1, l2 = THIGH_LEN[side], SHIN_LEN[side]
    v = ankle - hip
    d = np.linalg.norm(v, axis=-1).clip(abs(l1 - l2) + 0.05, 0.9999 * (l1 + l2))  # (T,)
    u = _unit(v)
    w = _unit(pole - (pole * u).sum(-1, keepdims=True) * u)  # in-plane, towards the kneecap
    cos_a = ((l1**2 + d**2 - l2**2) / (2 * l1 * d)).clip(-1, 1)
    a = np.arccos(cos_a)[:, None]  # angle between thigh and hip->ankle line
    knee = hip + l1 * (np.cos(a) * u + np.sin(a) * w)
    foot = hip + d[:, None] * u
    t = (knee - hip) / l1
    s = _unit(foot - knee)
    # Bone frames: y' = -bone (the raw offset is -y), x' = hinge axis (shared by thigh and shin).
    y1 = -t
    z1 = _unit(w - (w * y1).sum(-1, keepdims=True) * y1)
    x1 = np.cross(y1, z1)
    g_thigh = np.stack((x1, y1, z1), axis=-1)
    y2 = -s
    z2 = np.cross(x1, y2)
    g_shin = np.stack((x1, y2, z2), axis=-1)
    return g_thigh, g_shin


def foot_rotation(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Global rotation of the foot bone (T, 3, 3): pointing along yaw, toes down by pitch."""
    return rot_y(yaw) @ rot_x(pitch)


def arm_rotation(g_chest: np.ndarray, arm: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global rotations of collar, upper arm and forearm bones from arm angles (T, 6).

    side 0 is the left arm (outwards = +x), 1 the right. The raw offsets of the
    shoulder, elbow and wrist all point down (-y): angle 0 is an arm hanging at the side.
    """
    sgn = 1.0 if side == 0 else -1.0
    flex, abd, hadd, elbow, collar, twist = (arm[:, i] for i in range(6))
    # Collar bone: from spine3 outwards to the shoulder, slightly raised by `collar`.
    g_collar = g_chest @ rot_z(sgn * (np.pi / 2 - 0.15 + collar))
    # Upper arm: horizontal adduction about y, abduction about z, flexion, twist about the bone.
    g_upper = g_chest @ rot_y(-sgn * hadd) @ rot_z(sgn * abd) @ rot_x(-flex) @ rot_y(sgn * twist)
    # Elbow: flexion about the upper arm's x axis, bringing the forearm forward/up.
    g_fore = g_upper @ rot_x(-elbow)
    return g_collar, g_upper, g_fore


def channels_to_globals(ch: Channels) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis positions (T, 3) and global bone rotations (T, 22, 3, 3).

    Slot j holds the rotation applied to the bones *leaving* joint j (the natural
    hierarchical convention); slot 0 is the pelvis.
    """
    T = ch.T
    G = np.tile(np.eye(3), (T, SK.num_joints, 1, 1))
    heading = rot_y(ch.yaw)
    g0 = heading @ rot_x(ch.pelvis_rot[:, 0]) @ rot_z(ch.pelvis_rot[:, 1]) @ rot_y(ch.pelvis_rot[:, 2])
    G[:, 0] = g0
    pelvis = np.zeros((T, 3))
    local = (heading @ ch.pelvis_local[:, :, None])[..., 0]
    pelvis[:, 0] = ch.base[:, 0] + local[:, 0]
    pelvis[:, 2] = ch.base[:, 1] + local[:, 2]
    pelvis[:, 1] = ch.pelvis_h + ch.pelvis_local[:, 1]
    limit = reach_limited_height(ch, g0, pelvis)
    pelvis[:, 1] = _smooth_min(pelvis[:, 1], limit)

    # Spine: three equal parts; the neck holds the head up (raw head offset points forward).
    part = rot_x(ch.spine[:, 0] / 3) @ rot_z(-ch.spine[:, 1] / 3) @ rot_y(ch.spine[:, 2] / 3)
    G[:, 3] = g0 @ part
    G[:, 6] = G[:, 3] @ part
    G[:, 9] = G[:, 6] @ part
    # The neck->head bone's raw offset is +z: pitch it up so the head sits above the neck.
    G[:, 12] = G[:, 9] @ rot_y(ch.neck[:, 1]) @ rot_x(-np.pi / 2 + 0.25 + ch.neck[:, 0])
    G[:, 15] = G[:, 12]

    for side, (c, sh, el) in enumerate(((13, 16, 18), (14, 17, 19))):
        g_collar, g_upper, g_fore = arm_rotation(G[:, 9], ch.arms[side], side)
        G[:, c], G[:, sh], G[:, el] = g_collar, g_upper, g_fore
        G[:, el + 2] = g_fore  # wrist: no child, keep the forearm's rotation

    hips = _hip_positions(pelvis, g0)
    for side in (0, 1):
        avg_yaw = ch.yaw + np.angle(np.exp(1j * (ch.foot_yaw[side] - ch.yaw))) * 0.5
        pole = (rot_y(avg_yaw) @ np.array([0.12 if side == 0 else -0.12, 0.5, 1.0]))
        g_thigh, g_shin = leg_ik(hips[side], ch.foot_pos[side], pole, side)
        G[:, HIP[side]] = g_thigh
        G[:, KNEE[side]] = g_shin
        G[:, ANKLE[side]] = foot_rotation(ch.foot_yaw[side], ch.foot_pitch[side])
        G[:, TOE[side]] = G[:, ANKLE[side]]
    return pelvis, G


def globals_to_fk_quats(G: np.ndarray) -> np.ndarray:
    """Re-express hierarchical global rotations (T, 22, 3, 3) as ramotion FK quaternions (T, 22, 4).

    In ramotion's FK, joint b of a chain is placed by R_b = root * q_(first) * ... * q_b
    applied to b's raw offset, and every chain (the arm chains too) starts from the
    root quaternion. The bone ending at b must turn with the global rotation of its
    parent a, so R_b = G_a and q_b = R_prev^-1 G_a.
    """
    T = G.shape[0]
    Q = np.tile(np.eye(3), (T, SK.num_joints, 1, 1))
    Q[:, 0] = G[:, 0]
    for chain in SK.chains:
        prev = G[:, 0]
        for a, b in zip(chain[:-1], chain[1:]):
            Q[:, b] = np.swapaxes(prev, -1, -2) @ G[:, a]
            prev = G[:, a]
    xyzw = Rotation.from_matrix(Q.reshape(-1, 3, 3)).as_quat()  # scipy: (x, y, z, w)
    return xyzw[:, [3, 0, 1, 2]].reshape(T, SK.num_joints, 4)


def channels_to_joints(ch: Channels) -> np.ndarray:
    """Joint positions (T, 22, 3) float64 of a channel description, via ramotion FK."""
    pelvis, G = channels_to_globals(ch)
    quats = torch.from_numpy(globals_to_fk_quats(G))
    joints = forward_kinematics(quats, torch.from_numpy(pelvis), torch.from_numpy(OFFSETS), SK)
    return joints.numpy()
