"""The procedural corpus: plausibility over 1,000 motions, the semantic checker, programs, captions."""

from __future__ import annotations

import numpy as np
import pytest

from ramotion.motion.mirror import mirror_caption, mirror_joints
from ramotion.synth import ACTIONS, Program, ProgramAction, check, make_item
from ramotion.synth.captions import captions
from ramotion.synth.compose import MAX_FRAMES, MIN_FRAMES, render_sequence
from ramotion.synth.corpus import held_out_pairs, pairs_in
from ramotion.synth.plausibility import angle_violations, bone_length_error, foot_slide, penetration

N_MOTIONS = 1000


@pytest.fixture(scope="module")
def motions() -> list:
    """1,000 generated motions (joints only, no feature extraction): ~30 s."""
    held = held_out_pairs(0)
    return [make_item(0, i, held) for i in range(N_MOTIONS)]


def test_at_least_16_actions() -> None:
    assert len(ACTIONS) >= 16


def test_plausibility_over_1000_motions(motions: list) -> None:
    worst = {"bone": 0.0, "pen": 0.0, "slide": 0.0, "angle": 0.0}
    lengths = []
    for it in motions:
        j = it.joints
        lengths.append(it.program.num_frames)
        assert len(j) == it.program.num_frames + 1
        worst["bone"] = max(worst["bone"], bone_length_error(j))
        worst["pen"] = max(worst["pen"], penetration(j))
        worst["slide"] = max(worst["slide"], foot_slide(j))
        worst["angle"] = max(worst["angle"], max(angle_violations(j).values()))
    assert worst["bone"] < 1e-5, worst
    assert worst["pen"] <= 0.01, worst
    assert worst["slide"] < 0.02, worst
    assert worst["angle"] == 0.0, worst
    # 2 - 9.8 s at 20 fps, and not all the same length.
    assert MIN_FRAMES <= min(lengths) and max(lengths) <= MAX_FRAMES
    assert len(set(lengths)) > 50


def test_bone_lengths_are_the_reference_skeleton(motions: list) -> None:
    from ramotion.skeleton import HUMANML3D

    j = motions[0].joints
    ref = np.linalg.norm(HUMANML3D.offsets(), axis=-1)
    for k, p in enumerate(HUMANML3D.parents):
        if p >= 0:
            assert np.allclose(np.linalg.norm(j[:, k] - j[:, p], axis=-1), ref[k], atol=1e-6)


def test_motions_vary(motions: list) -> None:
    # No two motions identical, even with the same program shape.
    sigs = {it.joints[:, :, :].round(4).tobytes() for it in motions[:200]}
    assert len(sigs) == 200
    counts = {}
    for it in motions:
        for n in it.program.names():
            counts[n] = counts.get(n, 0) + 1
    assert set(counts) == set(ACTIONS)
    assert min(counts.values()) > 40  # every action is well represented
    k = [len(it.program.actions) for it in motions]
    assert {1, 2, 3} <= set(k)


def test_checker_passes_own_motions_and_rejects_others(motions: list) -> None:
    own, neg = [], []
    per_action: dict[str, list[bool]] = {}
    for i, it in enumerate(motions):
        res = check(it.program, it.joints[:-1])
        own += [r.passed for r in res]
        for r in res:
            per_action.setdefault(r.action, []).append(r.passed)
        other = motions[(i + 1) % len(motions)]
        neg += [r.passed for r in check(other.program, it.joints[:-1])]
    print(f"checker: own {np.mean(own):.3f}, negative control {np.mean(neg):.3f}")
    assert np.mean(own) >= 0.95
    assert np.mean(neg) <= 0.20
    for name, v in per_action.items():
        assert np.mean(v) >= 0.85, (name, np.mean(v))


def test_checker_on_mirrored_motion() -> None:
    rng = np.random.default_rng(3)
    for name, params in [("kick", {"leg": "left", "count": 1}), ("wave", {"hand": "right", "count": 3}),
                         ("turn", {"direction": "left", "angle": 90}), ("walk", {"direction": "left", "steps": 3, "speed": "normal"}),
                         ("hop", {"leg": "right", "count": 2}), ("punch", {"hand": "left", "count": 2}),
                         ("lean", {"direction": "right"}), ("raise_arms", {"hand": "left", "how": "up"})]:
        j, prog = render_sequence([(name, params)], rng)
        m = mirror_joints(j[:-1])
        assert all(r.passed for r in check(prog, j[:-1])), name
        assert all(r.passed for r in check(prog.mirror(), m)), name
        assert not any(r.passed for r in check(prog, m)), f"{name}: the unmirrored program must fail on the mirror"


def test_checker_counts() -> None:
    rng = np.random.default_rng(4)
    j, prog = render_sequence([("jump", {"count": 2, "forward": False})], rng)
    for n in (1, 2, 3):
        p = Program([ProgramAction("jump", {"count": n, "forward": False}, 0, prog.num_frames)], prog.num_frames)
        assert check(p, j[:-1])[0].passed == (n == 2)
    j, prog = render_sequence([("squat", {"count": 3, "depth": "normal"})], rng)
    assert check(prog, j)[0].measured["squats"] == 3


def test_checker_rejects_bad_input() -> None:
    prog = Program([ProgramAction("fly", {}, 0, 10)], 10)
    with pytest.raises(ValueError, match="unknown action 'fly'"):
        check(prog, np.zeros((20, 22, 3)))
    with pytest.raises(ValueError, match="22, 3"):
        check(Program([ProgramAction("stand", {}, 0, 10)], 10), np.zeros((20, 21, 3)))
    with pytest.raises(ValueError, match="NaN"):
        check(Program([ProgramAction("stand", {}, 0, 10)], 10), np.full((20, 22, 3), np.nan))
    with pytest.raises(ValueError, match="empty or negative span"):
        Program.from_dict({"num_frames": 10, "actions": [{"action": "stand", "start": 5, "end": 5}]})
    # A span past the end of the motion fails with a reason instead of raising.
    res = check(Program([ProgramAction("stand", {"seconds": 1.0}, 100, 140)], 140), np.zeros((50, 22, 3)) + np.arange(22)[None, :, None] * 0.01)
    assert not res[0].passed and "outside" in res[0].reason


def test_program_json_and_mirror() -> None:
    prog = Program([ProgramAction("kick", {"leg": "left", "count": 1}, 0, 30),
                    ProgramAction("turn", {"direction": "right", "angle": 90}, 30, 60),
                    ProgramAction("clap", {"count": 3}, 60, 90)], 90)
    again = Program.from_json(prog.to_json())
    assert again == prog
    m = prog.mirror()
    assert m.mirrored and m.actions[0].params["leg"] == "right" and m.actions[1].params["direction"] == "left"
    assert m.actions[2].params == {"count": 3}
    assert [(a.start, a.end) for a in m.actions] == [(a.start, a.end) for a in prog.actions]
    assert m.mirror() == prog


def test_captions_varied_and_side_consistent() -> None:
    rng = np.random.default_rng(5)
    for i in range(300):
        it = make_item(1, i)
        caps = it.captions
        assert len(caps) >= 3 and len(set(caps)) == len(caps)
        sides = {v for a in it.program.actions for k, v in a.params.items() if v in ("left", "right")}
        for c in caps:
            assert c == " ".join(c.split()) and "#" not in c
            words = set(c.replace(",", " ").replace(".", " ").split())
            # Only the sides in the program are named; mirroring the text names the mirrored sides.
            assert words & {"left", "right"} <= sides, (c, it.program.to_dict())
            mirrored_words = set(mirror_caption(c).replace(",", " ").replace(".", " ").split())
            msides = {v for a in it.program.mirror().actions for k, v in a.params.items() if v in ("left", "right")}
            assert mirrored_words & {"left", "right"} <= msides
    # Orderings and counts in words and digits all occur.
    text = " ".join(c for i in range(300) for c in make_item(2, i).captions)
    for w in ("then", "before", "after that", "twice", "three", " 3 ", "slowly"):
        assert w in text, w
    prog = Program([ProgramAction("clap", {"count": 3}, 0, 40)], 40)
    assert len(captions(prog, rng, n=3)) == 3


def test_held_out_pairs_only_in_test(motions: list) -> None:
    held = set(held_out_pairs(0))
    assert len(held) >= 5
    seen_in_test = set()
    for it in motions:
        inside = pairs_in(it.program) & held
        if inside:
            assert it.split == "test"
            seen_in_test |= inside
        else:
            assert it.split in ("train", "val", "test")
    assert len(seen_in_test) >= len(held) // 2
    splits = [it.split for it in motions]
    assert splits.count("train") > 0.6 * len(splits) and splits.count("val") > 0


def test_same_seed_same_motion() -> None:
    a, b = make_item(11, 5), make_item(11, 5)
    assert a.joints.tobytes() == b.joints.tobytes() and a.captions == b.captions and a.program == b.program
    c = make_item(12, 5)
    assert c.joints.shape != a.joints.shape or not np.array_equal(c.joints, a.joints)


def test_plausibility_measures_catch_defects() -> None:
    # Each measure must flag a motion broken in its way (the 1,000-motion test relies on them).
    rng = np.random.default_rng(6)
    j, _ = render_sequence([("walk", {"direction": "forward", "steps": 3, "speed": "normal"})], rng)
    assert foot_slide(j) < 0.02 and penetration(j) == pytest.approx(0.0, abs=1e-9)
    slid = j.copy()
    slid[:, [8, 11], 2] += np.linspace(0, 0.1, len(j))[:, None]  # the right foot drifts 10 cm
    assert foot_slide(slid) > 0.02
    sunk = j.copy()
    sunk[5, 10, 1] = -0.03
    assert penetration(sunk) == pytest.approx(0.03)
    bent = j.copy()
    knee = bent[:, 4].copy()
    bent[:, 4] = knee + np.array([0.0, 0.0, -0.2])  # left knee pushed backwards: hyperextension
    assert angle_violations(bent)["knee_l"] > 0
    stretched = j.copy()
    stretched[10:, 20, 1] -= 0.05  # the left forearm grows by 5 cm from frame 10 on
    assert bone_length_error(stretched) > 0.01
