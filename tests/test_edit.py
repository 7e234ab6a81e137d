"""Editing by inpainting (issue 22): body-part masks, the inpainting sampler, root anchoring,
join blending, RAMPipeline's edit modes, `ramotion edit`, and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.cli import main
from ramotion.diffusion import GaussianDiffusion
from ramotion.mocap.export import export_bvh
from ramotion.mocap.importing import import_bvh
from ramotion.motion.features import features_to_joints, joints_to_features
from ramotion.motion.parts import BODY_PARTS, frame_keep_mask, part_feature_mask, part_joints
from ramotion.motion.trajectory import anchor_root, heading_angles, root_gaps, source_anchors
from ramotion.pipeline import RAMPipeline
from ramotion.sampling import PerSampleNoise, SamplerConfig, SamplingPlan, lengths_to_mask, sample_inpaint
from ramotion.sampling.inpaint import join_blender
from ramotion.skeleton import HUMANML3D, KIT

from .test_pipeline import tiny_pipeline

FPS = 20.0
# The real corpus's frame-to-frame acceleration, mean over joints, 95th percentile (m/s^2):
# benchmarks/edit_joins.py on 300 clips of build/mocap's test split.
REAL_P95_MEAN_JOINT_ACCEL = 10.29


def walking_joints(frames: int = 61) -> np.ndarray:
    """(frames, 22, 3): the reference skeleton walking forward at 1 m/s, arms swinging."""
    off = HUMANML3D.offsets()
    pose = np.zeros((22, 3))
    for j, p in enumerate(HUMANML3D.parents):
        if p >= 0:
            pose[j] = pose[p] + off[j]
    pose[:, 1] -= pose[:, 1].min()
    t = np.arange(frames) / FPS
    out = np.repeat(pose[None], frames, axis=0)
    out[:, :, 2] += t[:, None]  # forward
    for wrist, sign in ((20, 1.0), (21, -1.0)):
        out[:, wrist, 2] += sign * 0.1 * np.sin(2 * np.pi * t)
    return out


def join_jump(joints: np.ndarray, b: int) -> float:
    """Mean-over-joints acceleration (m/s^2) across the join between frames b-1 and b (the larger
    of those centred at b-1 and b), as benchmarks/edit_joins.py measures it."""
    seg = joints[b - 2 : b + 2]
    acc = np.linalg.norm(seg[2:] - 2 * seg[1:-1] + seg[:-2], axis=-1) * FPS**2  # (2, J)
    return float(acc.mean(axis=1).max())


@pytest.fixture(scope="module")
def text_encoder():
    from ramotion.text.encoder import TextEncoder

    return TextEncoder(device="cpu")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, text_encoder) -> Path:
    out = tmp_path_factory.mktemp("tiny_edit_model")
    tiny_pipeline(text_encoder=text_encoder).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def pipe(model_dir: Path, text_encoder) -> RAMPipeline:
    return RAMPipeline.from_pretrained(model_dir, device="cpu", text_encoder=text_encoder)


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    """(60, 263) float32 features of a walk (one frame fewer than its joints)."""
    return joints_to_features(walking_joints(61)).astype(np.float32)


@pytest.fixture(scope="module")
def bundled() -> RAMPipeline:
    from ramotion.pipeline import default_model_dir

    if default_model_dir() is None:
        pytest.skip("this installation has no bundled model")
    return RAMPipeline.from_pretrained(device="cpu", dtype="float32")


# ---------------------------------------------------------------- body parts and feature groups


@pytest.mark.parametrize("skeleton", [HUMANML3D, KIT], ids=["humanml3d", "kit"])
def test_body_parts_partition_the_feature_vector(skeleton) -> None:
    """upper body + lower body + root cover every feature once; each limb is in its half."""
    masks = [part_feature_mask(p, skeleton) for p in ("upper_body", "lower_body", "root")]
    assert (sum(m.astype(int) for m in masks) == 1).all() and masks[0].shape == (skeleton.feature_dim,)
    for limb, half in (("left_arm", "upper_body"), ("right_arm", "upper_body"), ("torso", "upper_body"), ("left_leg", "lower_body"), ("right_leg", "lower_body")):
        limb_mask, half_mask = part_feature_mask(limb, skeleton), part_feature_mask(half, skeleton)
        assert limb_mask.any() and not (limb_mask & ~half_mask).any(), limb
        side = limb.split("_")[0]
        if side in ("left", "right"):
            assert all(skeleton.joint_names[j].startswith(side) for j in part_joints(limb, skeleton)), limb
    # Contacts go to the leg that holds their joints (KIT's "left" pair is on its right foot).
    contacts = skeleton.feature_slices()["contacts"]
    for k, j in enumerate(skeleton.foot_left + skeleton.foot_right):
        leg = "left_leg" if j in part_joints("left_leg", skeleton) else "right_leg"
        assert part_feature_mask(leg, skeleton)[contacts.start + k]


def test_humanml3d_parts_by_name() -> None:
    names = HUMANML3D.joint_names
    assert [names[j] for j in part_joints("right_arm")] == ["right_collar", "right_shoulder", "right_elbow", "right_wrist"]
    assert [names[j] for j in part_joints("left_leg")] == ["left_hip", "left_knee", "left_ankle", "left_foot"]
    assert part_joints("root") == () and part_feature_mask("root")[:4].all() and part_feature_mask("root").sum() == 7
    assert part_feature_mask(["left_arm", "right_arm"]).sum() == 2 * part_feature_mask("left_arm").sum()
    with pytest.raises(ValueError, match="unknown body part 'tail'"):
        part_feature_mask("tail")
    with pytest.raises(ValueError, match="name at least one body part"):
        part_feature_mask([])


def test_frame_keep_mask() -> None:
    assert frame_keep_mask(6, [(0, 2), (4, 6)]).tolist() == [True, True, False, False, True, True]
    for bad in ([(3, 3)], [(0, 7)], [(4, 2)], [("a", 2)]):
        with pytest.raises(ValueError, match="frame range|start, stop"):
            frame_keep_mask(6, bad)


# ---------------------------------------------------------------- root anchoring


def test_anchor_root_reaches_the_target_and_changes_only_the_gap() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 40, 263, generator=gen, dtype=torch.float64) * 0.1
    src = (torch.randn(40, 263, generator=gen, dtype=torch.float64) * 0.1).numpy()
    assert root_gaps(np.array([1, 1, 0, 0, 1, 0, 1, 0], bool)) == [(2, 4), (5, 6)]  # the open end is not a gap
    anchors = source_anchors(src, [(5, 15), (20, 30)], [15, 30])
    y = anchor_root(x, anchors)
    from ramotion.motion.features import recover_root

    _, root = recover_root(y)
    for anc in anchors:
        np.testing.assert_allclose(root[:, anc.stop, [0, 2]].numpy(), [[anc.x, anc.z]] * 2, atol=1e-9)
        np.testing.assert_allclose(heading_angles(y)[:, anc.stop].numpy(), [anc.angle] * 2, atol=1e-9)
    changed = (y != x).any(-1).any(0)
    assert changed[5:15].all() and changed[20:30].all() and not changed[:5].any() and not changed[15:20].any() and not changed[30:].any()
    assert torch.equal(y[..., 3:], x[..., 3:])  # only the root velocities move


# ---------------------------------------------------------------- the inpainting sampler


def test_sample_inpaint_imposes_before_reg_and_returns_known_exactly() -> None:
    """Every estimate REG re-encodes holds the known values; the result holds them bit for bit."""
    gen = torch.Generator().manual_seed(1)
    weight = torch.randn(8, 8, generator=gen) * 0.3
    seen: list[torch.Tensor] = []

    def denoise(x, t, z, mask):
        return torch.tanh(x @ weight) + z[:, None, :8]

    def encode(x, mask):
        seen.append(x.clone())
        return x.mean(1).repeat(1, 2)  # (B, 16)

    known = torch.randn(2, 12, 8, generator=gen)
    keep = torch.zeros(2, 12, 8, dtype=torch.bool)
    keep[:, :4] = True  # the first four frames
    keep[1, :, :3] = True  # and, for sample 1, three features everywhere
    mask = lengths_to_mask([12, 12])
    config = SamplerConfig(steps=6, w_reg=2.0, w_cfg=0.5)
    plan = SamplingPlan.resolve(config, GaussianDiffusion(50), motion_encoder=True)
    out = sample_inpaint(denoise, encode, plan, torch.randn(2, 16, generator=gen), mask, PerSampleNoise([0, 1], [12, 12], 8), known, keep)
    assert len(seen) == 5 and all(torch.equal(s[keep], known[keep]) for s in seen)
    assert torch.equal(out[keep], known[keep]) and not torch.allclose(out[~keep], known[~keep])
    blended = sample_inpaint(
        denoise, encode, plan, torch.zeros(2, 16), mask, PerSampleNoise([0, 1], [12, 12], 8), known, keep, blend_frames=3
    )
    assert torch.equal(blended[keep], known[keep])


def test_join_blender_continues_value_and_velocity() -> None:
    """A kept ramp (slope 1) followed by a generated one that is off by 0.5 and slower: after
    blending, the generated side starts where the ramp would have gone, at about its slope, and
    is untouched past the blend; the same backwards in time for a kept end."""
    x = torch.zeros(1, 20, 1)
    x[0, :10, 0] = torch.arange(10.0)  # kept: 0, 1, ..., 9
    x[0, 10:, 0] = 10.5 + 0.8 * torch.arange(10.0)  # generated
    keep = torch.zeros(1, 20, 1, dtype=torch.bool)
    keep[:, :10] = True
    y = join_blender(keep, 5)(x)
    assert torch.equal(y[0, :10], x[0, :10])
    assert y[0, 10, 0] == pytest.approx(10.0) and y[0, 11, 0] - y[0, 10, 0] == pytest.approx(1.0, abs=0.05)
    assert torch.equal(y[0, 15:], x[0, 15:])
    assert torch.equal(join_blender(keep, 0)(x), x)
    back = join_blender(keep.flip(1), 5)(x.flip(1)).flip(1)  # kept end: the mirror image
    torch.testing.assert_close(back, y)


# ---------------------------------------------------------------- the pipeline's edit modes (tiny model)


def test_continue_returns_the_source_exactly(pipe: RAMPipeline, source: np.ndarray) -> None:
    out = pipe.continue_motion(["a person sits down", "a person jumps"], source, seconds=1.0, seed=3)
    assert [m.num_frames for m in out] == [80, 80] and [m.seed for m in out] == [3, 4]
    src_joints = features_to_joints(source)
    for m in out:
        assert np.array_equal(m.features[:60], source)  # bit for bit
        assert np.abs(m.joints[:60] - src_joints).max() <= 1e-6
        assert np.isfinite(m.features).all() and np.abs(m.features[60:]).max() > 0
    assert out[0].cleanup is None  # edits are uncleaned unless asked
    assert pipe.continue_motion("a person jumps", source, frames=5, seed=0)[0].num_frames == 65


def test_inbetween_keeps_both_ends_in_place(pipe: RAMPipeline, source: np.ndarray) -> None:
    src_joints = features_to_joints(source)
    m = pipe.inbetween("a person jumps", source, keep_first=0.5, keep_last=0.5, seed=0)[0]
    assert m.num_frames == 60
    assert np.array_equal(m.features[:10], source[:10]) and np.array_equal(m.features[50:], source[50:])
    assert np.abs(m.joints[:10] - src_joints[:10]).max() <= 1e-6
    assert np.abs(m.joints[50:] - src_joints[50:]).max() < 1e-4  # keep_world: the end stays in the world too
    free = pipe.inbetween("a person jumps", source, keep_first=0.5, keep_last=0.5, seed=0, keep_world=False)[0]
    assert np.array_equal(free.features[50:], source[50:]) and np.abs(free.joints[50:] - src_joints[50:]).max() > 0.01
    longer = pipe.inbetween("a person jumps", source, keep_first=0.5, keep_last=0.5, seconds=4.0, seed=0)[0]
    assert longer.num_frames == 80 and np.array_equal(longer.features[70:], source[50:])
    assert np.abs(longer.joints[70:] - src_joints[50:]).max() < 1e-4
    ranges = pipe.inbetween("a person jumps", source, keep_frames=[(0, 5), (30, 35), (55, 60)], seed=0)[0]
    for a, b in ((0, 5), (30, 35), (55, 60)):
        assert np.array_equal(ranges.features[a:b], source[a:b]) and np.abs(ranges.joints[a:b] - src_joints[a:b]).max() < 1e-4


def test_blending_smooths_the_join(pipe: RAMPipeline, source: np.ndarray) -> None:
    blended = pipe.continue_motion("a person jumps", source, seconds=1.0, seed=0)[0]
    plain = pipe.continue_motion("a person jumps", source, seconds=1.0, seed=0, blend_seconds=0)[0]
    assert np.array_equal(blended.features[:60], plain.features[:60])
    assert join_jump(blended.joints, 60) < join_jump(plain.joints, 60)


def test_body_part_edit_keeps_the_rest(pipe: RAMPipeline, source: np.ndarray) -> None:
    src_joints = features_to_joints(source)
    m = pipe.edit_body_part("a person waves with the right hand", source, "right_arm", seed=0)[0]
    arm = list(part_joints("right_arm"))
    rest = [j for j in range(22) if j not in arm]
    assert np.abs(m.joints[:, rest] - src_joints[:, rest]).max() < 1e-6  # root kept: exactly where they were
    assert np.abs(m.joints[:, arm] - src_joints[:, arm]).max() > 0.01
    keep = ~part_feature_mask("right_arm")
    assert np.array_equal(m.features[:, keep], source[:, keep])
    both = pipe.edit_body_part("a person dances", source, ["lower_body", "root"], seed=0)[0]
    assert np.array_equal(both.features[:, part_feature_mask("upper_body")], source[:, part_feature_mask("upper_body")])


def test_edit_takes_frame_or_feature_masks_and_any_source_form(pipe: RAMPipeline, source: np.ndarray) -> None:
    frames = np.zeros(60, bool)
    frames[:20] = True
    by_frame = pipe.edit("a person jumps", source, frames, seed=0)[0]
    by_feature = pipe.edit("a person jumps", source, np.repeat(frames[:, None], 263, axis=1), seed=0)[0]
    assert np.array_equal(by_frame.features, by_feature.features)
    from_motion = pipe.edit("a person jumps", by_frame, frames, seed=0)[0]  # a Motion is a source too
    assert np.array_equal(from_motion.features[:20], source[:20])
    from_joints = pipe.continue_motion("a person jumps", walking_joints(41), frames=10, seed=0)[0]
    assert from_joints.num_frames == 50  # joints -> features is one frame shorter
    np.testing.assert_allclose(from_joints.features[:40], joints_to_features(walking_joints(41)), atol=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p, s: p.edit("walk", s, np.ones(60, bool)), "keeps every frame and feature of the source: nothing is left"),
        (lambda p, s: p.edit("walk", s, np.zeros(60, bool)), "keeps nothing of the source: that is plain generation"),
        (lambda p, s: p.inbetween("walk", s, keep_first=0, keep_last=0), "keeps nothing of the source"),
        (lambda p, s: p.inbetween("walk", s, keep_first=1.5, keep_last=1.5), "keeps every frame"),
        (lambda p, s: p.inbetween("walk", s, keep_first=2, keep_last=2), r"overlap: the source has 60 frames"),
        (lambda p, s: p.inbetween("walk", s, keep_first=1, keep_last=1, seconds=1.5), "do not fit in a 30-frame result"),
        (lambda p, s: p.inbetween("walk", s, keep_first=-1), "keep_first must be a number of seconds >= 0"),
        (lambda p, s: p.inbetween("walk", s, keep_frames=[(0, 70)]), r"0 <= start < stop <= 60"),
        (lambda p, s: p.inbetween("walk", s, keep_frames=[(0, 5)], seconds=4), "leave seconds out"),
        (lambda p, s: p.edit("walk", s, np.ones(59, bool)), r"keep has shape \(59,\), the source \(60, 263\)"),
        (lambda p, s: p.edit("walk", s, np.ones((60, 100), bool)), r"keep has shape \(60, 100\)"),
        (lambda p, s: p.edit("walk", s, np.ones(60)), "keep must be a boolean mask"),
        (lambda p, s: p.continue_motion("walk", np.zeros((200, 263), np.float32)), r"the source has 200 frames; this model handles at most 196"),
        (lambda p, s: p.continue_motion("walk", np.zeros((190, 263), np.float32), seconds=1), r"make 210; .* at most 6 frames \(0.3 s\)"),
        (lambda p, s: p.continue_motion("walk", np.zeros((196, 263), np.float32), seconds=1), "cut the source first"),
        (lambda p, s: p.continue_motion("walk", np.where(np.arange(60)[:, None] == 7, np.nan, s)), "NaN or infinite values"),
        (lambda p, s: p.continue_motion("walk", np.zeros((60, 251), np.float32)), "is a kit motion; this model makes humanml3d motions"),
        (lambda p, s: p.continue_motion("walk", np.zeros((60, 20, 3))), "unknown joint count 20"),
        (lambda p, s: p.continue_motion("", s), "prompt 1 is empty"),
        (lambda p, s: p.continue_motion("walk", s, seconds=20), r"seconds must be in \(0, 9.8\]"),
        (lambda p, s: p.edit_body_part("walk", s, "tail"), "unknown body part 'tail'"),
        (lambda p, s: p.edit_body_part("walk", s, BODY_PARTS[:2] + ("root",)), "keeps nothing of the source"),
        (lambda p, s: p.continue_motion("walk", s, blend_seconds=-1), "blend_seconds must be"),
    ],
)
def test_bad_edits_are_one_clear_error(pipe: RAMPipeline, source: np.ndarray, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(pipe, source)


# ---------------------------------------------------------------- `ramotion edit`


def run_edit(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main(["edit", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.filterwarnings("ignore:.*the BVH differs from the motion")  # the tiny model's bones stretch
def test_cli_round_trips_npy_and_bvh(model_dir: Path, source: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    feats, joints, bvh = tmp_path / "walk_f.npy", tmp_path / "walk_j.npy", tmp_path / "walk.bvh"
    np.save(feats, source)
    np.save(joints, walking_joints(61).astype(np.float32))
    export_bvh(walking_joints(61), bvh)
    common = ["--model", str(model_dir), "--steps", "6", "--quiet"]
    # features in, features out: the source comes back bit for bit, then 1 s more.
    code, _, err = run_edit(["--mode", "continue", "a person jumps", "-i", str(feats), "--seconds", "1", "-o", str(tmp_path / "c.npy"), "--npy", "features", *common], capsys)
    assert code == 0, err
    out = np.load(tmp_path / "c.npy")
    assert out.shape == (80, 263) and np.array_equal(out[:60], source)
    # joints in, joints out.
    code, _, err = run_edit(["--mode", "body-part", "a person waves", "-i", str(joints), "--part", "right_arm,left_arm", "-o", str(tmp_path / "b.npy"), *common], capsys)
    assert code == 0, err
    out = np.load(tmp_path / "b.npy")
    src_joints = features_to_joints(joints_to_features(walking_joints(61)))
    legs = list(part_joints("lower_body"))
    assert out.shape == (60, 22, 3) and np.abs(out[:, legs] - src_joints[:, legs]).max() < 1e-5
    # BVH in, BVH out, two edits.
    code, stdout, err = run_edit(["--mode", "inbetween", "a person jumps", "-i", str(bvh), "--keep-first", "0.5", "--keep-last", "0.5", "--num", "2", "-o", str(tmp_path / "ib.bvh"), *common], capsys)
    assert code == 0, err
    assert stdout == ""
    for name in ("ib_00.bvh", "ib_01.bvh"):
        read, fps = import_bvh(tmp_path / name)
        assert read.shape == (60, 22, 3) and fps == 20.0
    code, stdout, _ = run_edit(["--mode", "inbetween", "a person jumps", "-i", str(feats), "--keep", "0:10,50:60", "-o", str(tmp_path / "k.npy"), "--model", str(model_dir), "--steps", "4"], capsys)
    assert code == 0 and "wrote" in stdout and "60 frames" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "inbetween", "x", "-i", "{feats}", "--keep-first", "2", "--keep-last", "1", "-o", "{tmp}/o.npy"], "keeps every frame and feature"),
        (["--mode", "inbetween", "x", "-i", "{feats}", "--keep-first", "0", "--keep-last", "0", "-o", "{tmp}/o.npy"], "keeps nothing of the source"),
        (["--mode", "inbetween", "x", "-i", "{feats}", "--keep", "0:10,50:70", "-o", "{tmp}/o.npy"], r"0 <= start < stop <= 60"),
        (["--mode", "inbetween", "x", "-i", "{feats}", "--keep", "0-10", "-o", "{tmp}/o.npy"], "bad --keep range '0-10'"),
        (["--mode", "continue", "x", "-i", "{long}", "-o", "{tmp}/o.npy"], "the source has 250 frames; this model handles at most 196"),
        (["--mode", "continue", "x", "-i", "{feats}", "--seconds", "8", "-o", "{tmp}/o.npy"], "make 220"),
        (["--mode", "continue", "x", "-i", "{nan}", "-o", "{tmp}/o.npy"], "NaN or infinite values"),
        (["--mode", "continue", "x", "-i", "{alien}", "-o", "{tmp}/o.npy"], "names joints the file lacks: .*Not a file written by ramotion"),
        (["--mode", "continue", "x", "-i", "{feats}", "--part", "right_arm", "-o", "{tmp}/o.npy"], "--part does not go with --mode continue"),
        (["--mode", "body-part", "x", "-i", "{feats}", "--part", "tail", "-o", "{tmp}/o.npy"], "unknown --part tail"),
        (["--mode", "body-part", "x", "-i", "{feats}", "-o", "{tmp}/o.avi"], "unknown output extension '.avi'"),
        (["--mode", "body-part", "x", "-i", "{tmp}/none.npy", "-o", "{tmp}/o.npy"], "no such file"),
        (["--mode", "body-part", "x", "-i", "{feats}", "--source-fps", "30", "-o", "{tmp}/o.npy"], "--source-fps resamples joints"),
    ],
)
def test_cli_bad_input_is_one_line(model_dir: Path, source: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str) -> None:
    np.save(tmp_path / "feats.npy", source)
    np.save(tmp_path / "long.npy", np.zeros((250, 263), np.float32))
    bad = source.copy()
    bad[3, 5] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    alien = tmp_path / "alien.bvh"
    export_bvh(walking_joints(21), alien)
    alien.write_text(alien.read_text().replace("left_wrist", "LeftHand"))  # a joint ramotion's names do not have
    paths = {"feats": tmp_path / "feats.npy", "long": tmp_path / "long.npy", "nan": tmp_path / "nan.npy", "alien": alien, "tmp": tmp_path}
    code, _, err = run_edit([a.format(**paths) for a in args] + ["--model", str(model_dir), "--steps", "4", "--quiet"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("ramotion edit: error: ")
    import re

    assert re.search(message, err), err


# ---------------------------------------------------------------- the bundled model


def test_bundled_model_edits(bundled: RAMPipeline) -> None:
    """On the bundled model: kept frames exact, joins no rougher than real motion's 95th
    percentile, body-part edits keep the other joints within 2 cm (here: exactly)."""
    walk = bundled("a person walks forward", frames=60, seed=1, cleanup=False)[0]
    src_joints = walk.raw_joints
    cont = bundled.continue_motion("a person sits down", walk, seconds=1.5, seed=0)[0]
    assert cont.num_frames == 90 and np.array_equal(cont.features[:60], walk.features)
    assert np.abs(cont.joints[:60] - src_joints).max() <= 1e-6
    assert join_jump(cont.joints, 60) < REAL_P95_MEAN_JOINT_ACCEL
    ib = bundled.inbetween("a person jumps", walk, keep_first=1.0, keep_last=1.0, seed=0)[0]
    assert np.array_equal(ib.features[:20], walk.features[:20]) and np.array_equal(ib.features[40:], walk.features[40:])
    assert np.abs(ib.joints[40:] - src_joints[40:]).max() < 1e-4
    assert max(join_jump(ib.joints, 20), join_jump(ib.joints, 40)) < REAL_P95_MEAN_JOINT_ACCEL
    wave = bundled.edit_body_part("a person waves with the right hand", walk, "right_arm", seed=0)[0]
    rest = [j for j in range(22) if j not in part_joints("right_arm")]
    assert np.abs(wave.joints[:, rest] - src_joints[:, rest]).max() < 0.02
    wrist = HUMANML3D.joint_names.index("right_wrist")
    assert wave.joints[:, wrist, 1].max() > src_joints[:, wrist, 1].max() + 0.1  # the right hand goes up
