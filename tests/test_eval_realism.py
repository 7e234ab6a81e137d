"""Realism metrics on synthetic motions whose answers are known (no model, no data)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ramotion.evaluation import realism
from ramotion.evaluation.realism import (
    FOOT_JOINTS,
    floating,
    foot_contacts,
    foot_skating,
    mean_acceleration,
    penetration,
    ratio_table,
    realism_report,
    spearman,
    walking_speed_and_stride,
    wave_amplitude,
)
from ramotion.skeleton import HUMANML3D

FPS = 20
L_ANKLE, L_TOE, R_ANKLE, R_TOE = FOOT_JOINTS
ANKLE_UP = 0.09  # the heel: a flat foot's ankle sits this high above its toe joint


def rest_pose() -> np.ndarray:
    """(22, 3) standing pose from the reference offsets, feet flat (ankle 9 cm above the toe), on y = 0."""
    off = HUMANML3D.offsets()
    pos = np.zeros((HUMANML3D.num_joints, 3))
    for j, p in enumerate(HUMANML3D.parents):  # parents come before children in SMPL order
        if p >= 0:
            pos[j] = pos[p] + off[j]
    for toe, ankle in ((L_TOE, L_ANKLE), (R_TOE, R_ANKLE)):
        pos[toe, 1] = pos[ankle, 1] - ANKLE_UP
    pos[:, 1] -= pos[:, 1].min()
    return pos


def still(frames: int) -> np.ndarray:
    return np.repeat(rest_pose()[None], frames, axis=0)


def translated(frames: int, velocity) -> np.ndarray:
    t = np.arange(frames)[:, None, None] / FPS
    return still(frames) + t * np.asarray(velocity, dtype=np.float64)


def test_rest_pose_is_plausible():
    pose = rest_pose()
    assert pose[:, 1].min() == 0.0
    assert pose[L_TOE, 1] == pytest.approx(0.0) and pose[L_ANKLE, 1] == pytest.approx(ANKLE_UP)
    assert 1.35 < pose[15, 1] < 1.8  # the head joint of a ~1.7 m person


def test_constant_velocity_has_no_acceleration_and_walks_at_that_speed():
    v = np.array([1.2, 0.0, 0.5])
    joints = translated(60, v)
    assert mean_acceleration(joints, FPS) == pytest.approx(0.0, abs=1e-9)
    speed, _ = walking_speed_and_stride(joints, FPS)
    assert speed == pytest.approx(np.linalg.norm(v))


def test_acceleration_of_a_known_parabola():
    t = np.arange(40) / FPS
    joints = still(40) + (0.5 * 3.0 * t**2)[:, None, None] * np.array([0.0, 0.0, 1.0])  # 3 m/s² forward
    assert mean_acceleration(joints, FPS) == pytest.approx(3.0)


def test_fixed_feet_do_not_skate_and_sliding_feet_skate_at_their_speed():
    joints = still(50)
    joints[:, 20:, 1] += 0.1 * np.sin(np.arange(50) / 3.0)[:, None]  # arms move, feet stay
    assert foot_skating(joints, FPS) == pytest.approx(0.0, abs=1e-12)
    assert foot_contacts(joints, FPS).all()

    sliding = translated(50, [0.8, 0.0, 0.0])
    assert foot_skating(sliding, FPS) == pytest.approx(0.8)
    assert not foot_contacts(sliding, FPS).any()  # 0.8 m/s is too fast for a contact
    slow = translated(50, [0.0, 0.0, 0.2])
    assert foot_skating(slow, FPS) == pytest.approx(0.2)
    assert foot_contacts(slow, FPS).all()


def test_raised_feet_are_not_in_contact_and_skating_is_undefined():
    joints = still(30)
    joints[:, :, 1] += 0.3 * np.linspace(0, 1, 30)[:, None]  # rising 30 cm: only the first frames are low
    assert not foot_contacts(joints, FPS)[-10:].any()
    lifted_leg = still(30)
    lifted_leg[:, [L_ANKLE, L_TOE], 1] += 0.25
    c = foot_contacts(lifted_leg, FPS)
    assert not c[:, :2].any() and c[:, 2:].all()


def test_long_lift_floats_but_a_short_hop_does_not():
    joints = still(100)  # 5 s
    joints[30:70, :, 1] += 0.2  # 2 s, 20 cm up
    assert floating(joints, FPS) == pytest.approx(0.4)
    hop = still(100)
    hop[30:36, :, 1] += 0.2  # 0.3 s
    assert floating(hop, FPS) == 0.0
    mask = np.zeros(100, dtype=bool)
    mask[30:70] = True
    assert floating(joints, FPS, jump_mask=mask) == 0.0
    assert floating(hop, FPS, jump_mask=np.zeros(100, dtype=bool)) == pytest.approx(0.06)  # explicit mask only


def test_floating_against_y0_and_against_the_motions_own_floor():
    joints = still(60)
    joints[..., 1] += 0.2  # the whole clip 20 cm up
    assert floating(joints, FPS) == 1.0
    assert floating(joints, FPS, floor="estimated") == 0.0
    assert realism.estimate_floor(joints) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        floating(joints, FPS, floor="lowest")


def test_sunk_body_penetrates_by_its_depth():
    joints = still(40)
    joints[..., 1] -= 0.05
    pen = penetration(joints)
    assert pen.depth == pytest.approx(0.05) and pen.fraction == 1.0
    shallow = still(40)
    shallow[..., 1] -= 0.01
    assert penetration(shallow) == pytest.approx((0.01, 0.0))  # 1 cm: not "deep"
    assert penetration(still(40)) == (0.0, 0.0)


def stepping(stride: float = 1.2, period: int = 20, cycles: int = 5, stance: float = 0.6) -> np.ndarray:
    """A synthetic walk: the body moves forward (+z) at stride/period, each foot planted for
    `stance` of the cycle and swung forward by one stride (10 cm arc) for the rest, the
    right foot half a cycle after the left."""
    frames = period * cycles
    v = stride / (period / FPS)
    joints = translated(frames, [0.0, 0.0, v])
    rest = rest_pose()
    n_stance = int(round(stance * period))
    for (ankle, toe), phase in (((L_ANKLE, L_TOE), 0), ((R_ANKLE, R_TOE), period // 2)):
        for t in range(frames):
            k, s = divmod(t + phase, period)
            z0 = k * stride - phase * v / FPS  # this cycle's footprint
            if s < n_stance:
                dz, lift = 0.0, 0.0
            else:
                u = (s - n_stance) / (period - n_stance)
                dz, lift = u * stride, 0.1 * math.sin(math.pi * u)
            for j in (ankle, toe):
                joints[t, j] = rest[j] + np.array([0.0, lift, z0 + dz])
    return joints


def test_periodic_stepping_gives_the_stride_built():
    joints = stepping(stride=1.2)
    speed, stride = walking_speed_and_stride(joints, FPS)
    assert speed == pytest.approx(1.2)
    assert stride == pytest.approx(1.2, abs=1e-6)
    short = stepping(stride=0.7, period=24)
    assert walking_speed_and_stride(short, FPS)[1] == pytest.approx(0.7, abs=1e-6)
    assert foot_skating(joints, FPS) < 0.05  # planted feet; only swing frames near the floor move


def test_stride_is_nan_without_repeated_strikes():
    assert math.isnan(walking_speed_and_stride(still(40), FPS)[1])  # one stance per foot
    assert math.isnan(walking_speed_and_stride(translated(40, [2.0, 0, 0]), FPS)[1])  # never in contact


def test_wave_amplitude_is_the_wrist_vertical_range():
    joints = still(80)
    wrist = realism.WRISTS["right"]
    joints[:, wrist, 1] += 0.3 * np.sin(np.arange(80) * 2 * np.pi / 20)
    assert wave_amplitude(joints, "right") == pytest.approx(0.6, abs=1e-9)
    assert wave_amplitude(joints, "L") == pytest.approx(0.0)
    with pytest.raises(ValueError):
        wave_amplitude(joints, "up")


def test_spearman_of_monotone_data():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert spearman(x, [0.1, 0.5, 2.0, 9.0, 10.0]) == pytest.approx(1.0)
    assert spearman(x, [5.0, 4.0, 3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert spearman(x, [1.0, 2.0, float("nan"), 4.0, 5.0]) == pytest.approx(1.0)  # nan pairs dropped
    assert math.isnan(spearman(x, [2.0] * 5))


def test_report_and_ratio_table():
    real = realism_report([still(40), stepping()])
    gen = realism_report([translated(40, [0.0, 0.0, 0.3])])
    assert set(real) == set(realism.METRIC_UNITS)
    assert real["speed"] == pytest.approx(0.6)  # mean of 0 and 1.2
    assert real["stride"] == pytest.approx(1.2)  # the standing clip has no stride and is skipped
    assert math.isnan(gen["stride"])
    table = ratio_table(gen, real)
    assert table.splitlines()[0] == "| metric | unit | real | generated | ratio |"
    assert "| speed | m/s | 0.6 | 0.3 | 0.5 |" in table
    both = ratio_table({"OLD": gen, "NEW": real}, real)
    assert both.splitlines()[0] == "| metric | unit | real | OLD | OLD/real | NEW | NEW/real |"
    assert "| stride | m | 1.2 | — | — | 1.2 | 1 |" in both
    assert len(both.splitlines()) == 2 + len(real)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError):
        mean_acceleration(np.zeros((10, 21, 3)))
    with pytest.raises(ValueError):
        realism_report([])
    with pytest.raises(ValueError):
        floating(still(10), FPS, jump_mask=np.zeros(9, dtype=bool))
