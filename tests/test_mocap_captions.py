"""Caption grammar for labelled mocap: every table entry captions, styles show, "normal" mostly
doesn't, sides follow the label through mirroring, real file names and label files map to known
keys, CMU descriptions rewrite into readable captions, unknown keys fail with the known ones."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from ramotion.mocap.captions import (
    BANDAI_NAMCO_ACTIONS,
    BANDAI_NAMCO_STYLES,
    HDM05_CLASSES,
    HDM05_DATASET_CLASSES,
    MotionLabel,
    action_phrase,
    bandai_namco_key,
    captions_for,
    cmu_captions,
    gerund,
    hdm05_class_from_filename,
    mirror_hdm05_class,
    third_person,
)

DATASET_1_CONTENTS = (
    "walk run dash walk-back walk-left walk-right bow bye guide byebye respond call punch kick slash "
    "dance-long dance-short"
).split()
DATASET_2_CONTENTS = (
    "walk walk-turn-left walk-turn-right run wave-both-hands wave-left-hand wave-right-hand "
    "raise-up-both-hands raise-up-left-hand raise-up-right-hand"
).split()
DATASET_1_STYLES = (
    "normal happy sad angry proud not-confident masculinity feminine childish old tired active musical giant chimpira"
).split()
DATASET_2_STYLES = "active elderly exhausted feminine masculine normal youthful".split()

# Hand-written lexicons, independent of the module's own keyword lists.
TIRED_WORDS = (
    "tired", "weary", "wearily", "exhausted", "exhaustion", "worn", "sluggish", "lethargic", "drained", "fatigued"
)
STYLE_WORDS = {
    "happy": ("happ", "cheer", "joy", "glee", "glad", "delight"),
    "sad": ("sad", "gloom", "sorrow", "deject", "glum", "downcast", "unhappy"),
    "old": ("old", "elder", "aged", "senior"),
    "childish": ("child", "kid", "playful", "boy", "girl"),
    "giant": ("giant", "huge", "hulk", "gigant", "heav", "lumber", "ponderous"),
    "chimpira": ("thug", "punk", "delinquent", "gangster", "hoodlum", "swagger", "menac", "cock"),
}


def all_labels() -> list[MotionLabel]:
    """Every Bandai-Namco content x style, every HDM05 class, and a few CMU descriptions."""
    labels = [MotionLabel("bandai-namco", a, s) for a in BANDAI_NAMCO_ACTIONS for s in BANDAI_NAMCO_STYLES]
    labels += [MotionLabel("hdm05", c) for c in HDM05_CLASSES]
    labels += [MotionLabel("cmu", d) for d in ("walk", "run/jog", "playground - forward jumps, turn around")]
    return labels


# ----------------------------------------------------------------------------- coverage


def test_tables_cover_both_bandai_namco_datasets_and_hdm05() -> None:
    assert set(DATASET_1_CONTENTS + DATASET_2_CONTENTS) <= set(BANDAI_NAMCO_ACTIONS)
    assert set(DATASET_1_STYLES + DATASET_2_STYLES) <= set(BANDAI_NAMCO_STYLES)
    assert len(HDM05_DATASET_CLASSES) == 11 and set(HDM05_DATASET_CLASSES) <= set(HDM05_CLASSES)
    for table in (BANDAI_NAMCO_ACTIONS, HDM05_CLASSES):
        for key, spec in table.items():
            assert len(spec.phrases) >= 6, key
            if spec.side is not None:  # a sided action names its side in every paraphrase
                assert all(re.search(rf"\b{spec.side}\b", p) for p in spec.phrases), key


def test_every_label_gives_distinct_clean_deterministic_captions() -> None:
    for label in all_labels():
        a = captions_for(label, 5, random.Random(7))
        assert len(a) == 5, (label, a)
        assert len({c.rstrip(".") for c in a}) == 5, (label, a)
        for c in a:
            assert c.strip() and c == c.lower() and "#" not in c and "{" not in c and "^" not in c, (label, c)
            assert "  " not in c and c == c.strip(), (label, c)
        assert captions_for(label, 5, random.Random(7)) == a, label
        assert captions_for(label, 5, np.random.default_rng(3)) == captions_for(label, 5, np.random.default_rng(3))
        assert captions_for(label, 5, random.Random(8)) != a, label


def test_conjugation() -> None:
    assert [third_person(v) for v in ("walk", "touch", "carry", "do", "go", "push")] == [
        "walks", "touches", "carries", "does", "goes", "pushes"]
    assert [gerund(v) for v in ("lie", "jog", "wave", "step", "walk", "tiptoe", "begin")] == [
        "lying", "jogging", "waving", "stepping", "walking", "tiptoeing", "beginning"]


# ----------------------------------------------------------------------------- styles


def test_styled_captions_carry_the_style() -> None:
    for action in ("walk", "wave-left-hand", "bow", "dash", "call"):
        for style, spec in BANDAI_NAMCO_STYLES.items():
            if style == "normal":
                continue
            caps = captions_for(MotionLabel("bandai-namco", action, style), 30, random.Random(1))
            assert len(caps) == 30
            for c in caps:
                assert any(k in c for k in spec.keywords), (action, style, c)
                if style in ("tired", "exhausted"):
                    assert any(w in c for w in TIRED_WORDS), c
                if style in STYLE_WORDS:
                    assert any(w in c for w in STYLE_WORDS[style]), (style, c)


def test_styles_use_several_constructions() -> None:
    caps = captions_for(MotionLabel("bandai-namco", "walk", "sad"), 60, random.Random(0))
    assert any(re.match(r"^(a|an|the) (sad|gloomy|unhappy|sorrowful|dejected) ", c) for c in caps)  # subject adjective
    assert any(" like " in c for c in caps)
    assert any(" while looking " in c or " while appearing " in c or " while seeming " in c for c in caps)
    assert any(re.search(r" in an? \w+ (manner|way|fashion)", c) for c in caps)
    pre = r"\b(sadly|gloomily|sorrowfully|dejectedly|glumly) (walks|strolls|paces|takes|moves|steps)"
    assert any(re.search(pre, c) for c in caps)
    old = captions_for(MotionLabel("bandai-namco", "walk", "elderly"), 60, random.Random(0))
    assert any(re.match(r"^an? (elderly|old) (man|woman|person)", c) for c in old)
    kid = captions_for(MotionLabel("bandai-namco", "wave-right-hand", "childish"), 60, random.Random(0))
    assert any(c.startswith(("a child", "a little kid", "a young child", "a small child")) for c in kid)


def test_normal_is_mostly_plain() -> None:
    style_words = {k for name, s in BANDAI_NAMCO_STYLES.items() for k in s.keywords}
    caps = []
    for action in BANDAI_NAMCO_ACTIONS:
        caps += captions_for(MotionLabel("bandai-namco", action, "normal"), 10, random.Random(4))
    styled = [c for c in caps if any(k in c for k in style_words)]
    assert len(styled) < 0.3 * len(caps), styled[:10]
    assert captions_for(MotionLabel("bandai-namco", "walk", None), 5, random.Random(0))  # no style at all


# ----------------------------------------------------------------------------- sides and mirroring


def test_mirrored_labels() -> None:
    pairs = {
        "wave-left-hand": "wave-right-hand",
        "walk-turn-left": "walk-turn-right",
        "walk-left": "walk-right",
        "raise-up-right-hand": "raise-up-left-hand",
        "walk": "walk",
        "bye": "bye",
    }
    for a, b in pairs.items():
        assert MotionLabel("bandai-namco", a, "sad").mirrored() == MotionLabel("bandai-namco", b, "sad")
    hdm = {
        "kickLFront1Reps": "kickRFront1Reps",
        "depositFloorR": "depositFloorL",
        "grabHighR": "grabHighL",
        "jogLeftCircle4StepsRstart": "jogRightCircle4StepsLstart",
        "sneak2StepsLStart": "sneak2StepsRStart",
        "elbowToKnee1RepsLelbowStart": "elbowToKnee1RepsRelbowStart",
        "rotateArmsBothBackward1Reps": "rotateArmsBothBackward1Reps",
        "squat1Reps": "squat1Reps",
        "hopBothLegs1hops": "hopBothLegs1hops",
    }
    for a, b in hdm.items():
        assert MotionLabel("hdm05", a).mirrored().action == b
        assert mirror_hdm05_class(b) == a
    cmu = MotionLabel("cmu", "basketball - forward dribble, 90-degree Right turns")
    assert cmu.mirrored().action == "basketball - forward dribble, 90-degree Left turns"
    for label in all_labels():
        assert label.mirrored().mirrored() == label
        if label.source != "cmu":  # every mirror has captions of its own
            table = BANDAI_NAMCO_ACTIONS if label.source == "bandai-namco" else HDM05_CLASSES
            assert label.mirrored().action in table


def test_mirrored_wave_names_the_other_side() -> None:
    label = MotionLabel("bandai-namco", "wave-left-hand", "happy")
    left = captions_for(label, 30, random.Random(2))
    right = captions_for(label.mirrored(), 30, random.Random(2))
    assert all(re.search(r"\bleft\b", c) and "right" not in c for c in left)
    assert all(re.search(r"\bright\b", c) and "left" not in c for c in right)


def test_mirror_captions_are_the_side_swapped_captions() -> None:
    """Sided labels caption their side; the mirrored label's captions are exactly the swapped ones."""

    opposite = {"left": "right", "right": "left", "clockwise": "counterclockwise", "counterclockwise": "clockwise"}

    def swap(text: str) -> str:
        return re.sub(r"\b(left|right|clockwise|counterclockwise)\b", lambda m: opposite[m.group(0)], text)

    for table, source in ((BANDAI_NAMCO_ACTIONS, "bandai-namco"), (HDM05_CLASSES, "hdm05")):
        for key, spec in table.items():
            if spec.side is None:
                assert not any(re.search(r"\b(left|right)\b", p) for p in spec.phrases), key
                continue
            label = MotionLabel(source, key, "tired" if source == "bandai-namco" else None)
            a = captions_for(label, 8, random.Random(5))
            b = captions_for(label.mirrored(), 8, random.Random(5))
            assert [swap(c) for c in a] == b, key
            assert all(re.search(rf"\b{spec.side}\b", c) for c in a), key


def test_hdm05_meanings() -> None:
    caps = " | ".join(captions_for(MotionLabel("hdm05", "kickLFront1Reps"), 12, random.Random(0)))
    assert "kick" in caps and "left" in caps and "right" not in caps
    caps = captions_for(MotionLabel("hdm05", "elbowToKnee1RepsLelbowStart"), 12, random.Random(0))
    assert all(re.search(r"left elbow", c) and re.search(r"right knee", c) for c in caps), caps
    caps = captions_for(MotionLabel("hdm05", "jogLeftCircle4StepsRstart"), 12, random.Random(0))
    assert all("jog" in c or "run" in c for c in caps) and all("circle" in c or "curve" in c for c in caps)
    assert all(re.search(r"\bleft\b", c) and re.search(r"\bright\b (foot|first)", c) for c in caps), caps
    caps = captions_for(MotionLabel("hdm05", "depositFloorR"), 12, random.Random(0))
    assert all(("floor" in c or "ground" in c) and "right hand" in c for c in caps), caps
    caps = captions_for(MotionLabel("hdm05", "grabHighR"), 12, random.Random(0))
    assert all("right" in c and ("high" in c or "up" in c or "above" in c or "overhead" in c) for c in caps), caps


def test_action_phrase() -> None:
    p = action_phrase(MotionLabel("bandai-namco", "wave-right-hand"), random.Random(0))
    assert "right" in p and p.split()[0].endswith("s")
    g = action_phrase(MotionLabel("hdm05", "squat1Reps"), random.Random(0), form="gerund")
    assert g.split()[0].endswith("ing")
    assert action_phrase(MotionLabel("cmu", "slow walk"), random.Random(0)) == "walks slowly"


# ----------------------------------------------------------------------------- real labels


def test_hdm05_file_names(mocap_root: Path) -> None:
    assert hdm05_class_from_filename("HDM_bd_kickLFront1Reps_001_120.amc.gz") == "kickLFront1Reps"
    assert hdm05_class_from_filename("/x/y/HDM_mm_sneak2StepsLStart_012_120.amc") == "sneak2StepsLStart"
    with pytest.raises(ValueError, match="HDM05"):
        hdm05_class_from_filename("walk.bvh")
    files = sorted((mocap_root / "hdm05" / "amc").glob("*/*.amc.gz"))
    assert len(files) > 200
    classes = {hdm05_class_from_filename(f.name) for f in files}
    assert classes == set(HDM05_DATASET_CLASSES)


def test_bandai_namco_label_files(mocap_root: Path) -> None:
    seen_contents, seen_styles = set(), set()
    for ds in ("dataset-1", "dataset-2"):
        root = mocap_root / "bandai-namco" / ds
        cfg = root / "cfg"
        contents = [bandai_namco_key(x) for x in (cfg / "content_label.txt").read_text().splitlines() if x.strip()]
        styles = [bandai_namco_key(x) for x in (cfg / "style_label.txt").read_text().splitlines() if x.strip()]
        assert set(contents) <= set(BANDAI_NAMCO_ACTIONS) and set(styles) <= set(BANDAI_NAMCO_STYLES)
        files = sorted((root / "data").glob("*.json"))
        assert files
        for f in files:
            j = json.loads(f.read_text())
            content, style = contents[j["content"]], styles[j["style"]]
            assert f.name.startswith(f"{ds}_{content}_{style}_"), f.name  # the name agrees with the indices
            seen_contents.add(content)
            seen_styles.add(style)
    assert seen_contents == set(DATASET_1_CONTENTS + DATASET_2_CONTENTS)
    assert seen_styles == set(DATASET_1_STYLES + DATASET_2_STYLES)


def test_cmu_descriptions_of_humanml3d_rows(mocap_root: Path) -> None:
    with open(mocap_root / "cmu" / "humanml3d_rows.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 63
    for r in rows:
        caps = captions_for(MotionLabel("cmu", r["cmu_description"]), 4, random.Random(0))
        assert len(caps) == 4, r["cmu_description"]
        for c in caps:
            assert c == c.lower() and "#" not in c and c.strip()
            assert not c.startswith(("dance -", "basketball -")), c


def test_cmu_pinned_examples() -> None:
    caps = cmu_captions("playground - forward jumps, turn around", 8, random.Random(0))
    assert all("jump" in c and ("turn" in c) for c in caps), caps
    assert any(re.search(r"jumps forward.*(then|and) turns around", c) for c in caps), caps
    caps = cmu_captions("basketball - forward dribble, 90-degree right turns", 8, random.Random(0))
    assert all("dribbl" in c and "right" in c for c in caps), caps
    assert any("dribbles a basketball forward" in c for c in caps), caps
    assert all(c.rstrip(".") in {"a person walks slowly", "a person is walking slowly"} or "slowly" in c
               for c in cmu_captions("slow walk", 5, random.Random(0)))
    assert any(re.search(r"\b(runs|jogs|running|jogging)\b", c) for c in cmu_captions("run/jog", 5, random.Random(0)))
    caps = cmu_captions("bend over, scoop up, rise, lift arm", 5, random.Random(0))
    assert all(c.count(",") >= 1 and ("bend" in c) for c in caps), caps
    caps = cmu_captions("playground - climb, sit, dangle legs, rock back, lower self to ground", 4, random.Random(0))
    assert all("climb" in c and "legs" in c and ("ground" in c) for c in caps), caps
    # Unknown wording falls back to "does ..." rather than failing.
    caps = cmu_captions("alaskan vacation", 3, random.Random(0))
    assert caps and all("alaskan vacation" in c for c in caps)
    assert cmu_captions("", 2, random.Random(0))


def test_unknown_keys_raise() -> None:
    with pytest.raises(ValueError, match=r"'moonwalk'.*walk-back"):
        captions_for(MotionLabel("bandai-namco", "moonwalk"), 3, random.Random(0))
    with pytest.raises(ValueError, match=r"'sleepy'.*tired"):
        captions_for(MotionLabel("bandai-namco", "walk", "sleepy"), 3, random.Random(0))
    with pytest.raises(ValueError, match=r"'cartwheelLHandStart1Reps'.*kickLFront1Reps"):
        captions_for(MotionLabel("hdm05", "cartwheelLHandStart1Reps"), 3, random.Random(0))
    with pytest.raises(ValueError, match=r"'kit'.*bandai-namco"):
        captions_for(MotionLabel("kit", "walk"), 3, random.Random(0))
    with pytest.raises(ValueError, match="kit"):
        MotionLabel("kit", "walk").mirrored()
