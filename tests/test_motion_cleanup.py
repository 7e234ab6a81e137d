"""Foot cleanup (ramotion.motion.cleanup): what it fixes, what it must leave alone, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ramotion.evaluation.realism import FOOT_JOINTS, foot_skating, mean_acceleration
from ramotion.motion.cleanup import CleanupConfig, clean_motion, lock_feet, stances
from ramotion.motion.rigid import joint_layouts, make_rigid
from ramotion.skeleton import HUMANML3D, KIT
from ramotion.synth.corpus import generate_corpus

from .test_eval_realism import rest_pose

FPS = 20.0
PARENTS = np.array(HUMANML3D.parents)


def bone_lengths(j: np.ndarray) -> np.ndarray:
    return np.linalg.norm(j[:, 1:] - j[:, PARENTS[1:]], axis=-1)  # (T, J-1)


def gliding(frames: int = 30, speed: float = 0.3, jitter: float = 0.01, seed: int = 0) -> np.ndarray:
    """A standing body that glides forward at `speed` with per-joint jitter: feet on the floor, moving."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / FPS
    return rest_pose()[None] + t * np.array([0.0, 0.0, speed]) + rng.normal(0.0, jitter, (frames, HUMANML3D.num_joints, 3))


def test_gliding_feet_are_planted_jitter_gone_bones_rigid_and_on_the_floor():
    raw = gliding()
    out = clean_motion(raw)
    assert out.shape == raw.shape and np.isfinite(out).all()
    # planted: the feet no longer follow the glide (0.3 m/s) in the middle of the clip
    feet = out[8:-8, list(FOOT_JOINTS)][..., [0, 2]]
    assert np.linalg.norm(np.diff(feet, axis=0), axis=-1).max() * FPS < 0.05
    assert foot_skating(out) < 0.2 * foot_skating(raw)
    # the body still travels: only the legs were bent to hold the feet
    assert out[-1, 0, 2] - out[0, 0, 2] == pytest.approx(raw[-1, 0, 2] - raw[0, 0, 2], abs=0.05)
    assert mean_acceleration(out) < 0.5 * mean_acceleration(raw)
    lengths = bone_lengths(out)
    assert np.ptp(lengths, axis=0).max() < 1e-6  # one length per bone
    assert out[..., 1].min() == pytest.approx(0.0, abs=1e-9)


def test_a_clean_procedural_walk_is_left_nearly_as_it_is():
    item = next(i for i in generate_corpus(40, seed=0) if i.program.actions[0].action == "walk")
    raw = item.joints
    out = clean_motion(raw)
    moved = np.linalg.norm(out - raw, axis=-1)
    assert moved.mean() < 0.02, moved.mean()
    assert np.ptp(bone_lengths(out), axis=0).max() < 1e-6


def test_make_rigid_keeps_directions_fixes_lengths_and_layouts_and_is_idempotent():
    raw = gliding(jitter=0.02)
    out = make_rigid(raw, HUMANML3D)
    np.testing.assert_allclose(out[:, 0], raw[:, 0])
    for child in (4, 7, 20):  # single-child bones keep their direction, at the median length
        d_raw = raw[:, child] - raw[:, PARENTS[child]]
        d_out = out[:, child] - out[:, PARENTS[child]]
        cos = np.sum(d_raw * d_out, axis=-1) / np.linalg.norm(d_raw, axis=-1) / np.linalg.norm(d_out, axis=-1)
        assert cos.min() > 1 - 1e-9
        assert np.linalg.norm(d_out, axis=-1) == pytest.approx(np.median(np.linalg.norm(d_raw, axis=-1)))
    for joint, kids in ((0, [1, 2, 3]), (9, [12, 13, 14])):  # the pelvis and the chest keep one shape
        rel = out[:, kids] - out[:, joint : joint + 1]  # (T, 3, 3)
        gram = np.einsum("tki,tli->tkl", rel, rel)  # distances and angles between the children
        assert np.ptp(gram, axis=0).max() < 1e-9
    assert set(joint_layouts(out, HUMANML3D)) == {0, 9}
    np.testing.assert_allclose(make_rigid(out, HUMANML3D), out, atol=1e-9)


def test_a_foot_in_the_air_is_not_planted_and_an_unplanted_leg_is_unchanged():
    raw = gliding(jitter=0.0)
    raw[:, [7, 10], 1] += 0.3  # the left foot held 30 cm up
    planted = stances(raw, HUMANML3D, FPS, CleanupConfig())
    assert not planted[:, 0].any() and planted[:, 1].all()
    out = lock_feet(raw, np.zeros_like(planted), HUMANML3D)
    np.testing.assert_allclose(out, raw, atol=1e-9)


def test_cleanup_config_round_trips_and_refuses_bad_values():
    cfg = CleanupConfig(smooth_sigma=0.5)
    assert CleanupConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown cleanup settings: sigma"):
        CleanupConfig.from_dict({"sigma": 1})
    with pytest.raises(ValueError, match="smooth_sigma"):
        CleanupConfig(smooth_sigma=-1).validate()
    with pytest.raises(ValueError, match="min_stance_frames"):
        CleanupConfig(min_stance_frames=1.5).validate()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "joints, skeleton, message",
    [
        (np.zeros((10, 21, 3)), HUMANML3D, r"shape \(frames, 22, 3\)"),
        (np.full((10, 22, 3), np.nan), HUMANML3D, "NaN"),
        (np.zeros((10, 21, 3)), KIT, "HumanML3D skeleton"),
    ],
)
def test_bad_input_is_refused(joints, skeleton, message):
    with pytest.raises(ValueError, match=message):
        clean_motion(joints, skeleton)
