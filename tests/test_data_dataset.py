"""MotionTextDataset: the community loader's rules on real samples and small synthetic roots."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.data.dataset import MotionTextDataset, collate
from ramotion.data.layout import CaptionLine, write_captions, write_split

SAMPLE_IDS = ["000000", "007005", "009548", "011673", "012314", "M010655", "M010968"]


@pytest.fixture()
def tiny_h3d(h3d_samples: Path, shared_data: Path, tmp_path: Path) -> Path:
    """The 7 real samples as a HumanML3D root: real captions for 000000, one made-up caption for the others."""
    root = tmp_path / "h3d"
    shutil.copytree(h3d_samples, root, copy_function=shutil.copyfile)
    for p in [root, *root.rglob("*")]:  # the shared data is read-only; the copy must not be
        p.chmod(0o755 if p.is_dir() else 0o644)
    for i in SAMPLE_IDS[1:]:
        write_captions(root / "texts" / f"{i}.txt", [CaptionLine(f"a person moves ({i})", ["a/DET", "person/NOUN", "move/VERB"])])
    for name in ("Mean.npy", "Std.npy"):
        shutil.copy(shared_data / "humanml3d" / name, root / name)
    write_split(root / "train.txt", SAMPLE_IDS)
    return root


def synthetic_root(root: Path, lengths: dict[str, int], dim: int = 263, captions: dict[str, list[CaptionLine]] | None = None) -> Path:
    """A root with random features of the given lengths, unit stats and one caption each."""
    rng = np.random.default_rng(0)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for i, n in lengths.items():
        np.save(root / "new_joint_vecs" / f"{i}.npy", rng.normal(size=(n, dim)).astype(np.float32))
        lines = (captions or {}).get(i, [CaptionLine(f"caption of {i}", ["caption/NOUN"])])
        write_captions(root / "texts" / f"{i}.txt", lines)
    np.save(root / "Mean.npy", np.zeros(dim, np.float32))
    np.save(root / "Std.npy", np.ones(dim, np.float32))
    write_split(root / "train.txt", list(lengths))
    return root


def test_real_samples_load_with_the_community_rules(tiny_h3d: Path, shared_data: Path) -> None:
    ds = MotionTextDataset(tiny_h3d, "train", seed=1)
    assert len(ds) == 7 and [e.id for e in ds.entries] == SAMPLE_IDS
    mean = np.load(shared_data / "humanml3d" / "Mean.npy")
    std = np.load(shared_data / "humanml3d" / "Std.npy")
    real_captions = (tiny_h3d / "texts" / "000000.txt").read_text().splitlines()
    for k, i in enumerate(SAMPLE_IDS):
        item = ds[k]
        raw = np.load(tiny_h3d / "new_joint_vecs" / f"{i}.npy")
        L = item["length"]
        assert item["motion"].shape == (L, 263) and item["motion"].dtype == np.float32
        assert L % 4 == 0 and L in (len(raw) // 4 * 4, (len(raw) // 4 - 1) * 4)
        # The crop is a window of the z-normalised motion at some offset.
        windows = [((raw[o : o + L] - mean) / std).astype(np.float32) for o in range(len(raw) - L + 1)]
        assert any(np.allclose(w, item["motion"], atol=1e-5) for w in windows)
        assert item["id"] == i
        if i == "000000":
            line = next(line for line in real_captions if line.startswith(item["caption"] + "#"))
            assert item["tokens"] == line.split("#")[1].split(" ")
    # All four real captions of 000000 are drawn over epochs.
    seen = set()
    for epoch in range(40):
        ds.set_epoch(epoch)
        seen.add(ds[0]["caption"])
    assert len(seen) == 4


def test_collate_pads_to_196_with_a_mask(tiny_h3d: Path) -> None:
    ds = MotionTextDataset(tiny_h3d, "train")
    batch = ds.collate([ds[k] for k in range(7)])
    assert batch["motion"].shape == (7, 196, 263) and batch["motion"].dtype == torch.float32
    assert batch["mask"].dtype == torch.bool and batch["length"].dtype == torch.long
    assert torch.equal(batch["mask"].sum(1), batch["length"])
    assert float(batch["motion"][~batch["mask"]].abs().max()) == 0.0
    assert batch["id"] == SAMPLE_IDS and len(batch["caption"]) == 7 and isinstance(batch["tokens"][0], list)
    for k in range(7):
        L = int(batch["length"][k])
        assert float(batch["motion"][k, L - 1].abs().sum()) > 0  # real data up to the length
    with pytest.raises(ValueError, match="more than max_frames=64"):
        collate([ds[1]], max_frames=64)


def test_determinism_under_a_seed(tiny_h3d: Path) -> None:
    a = MotionTextDataset(tiny_h3d, "train", seed=3)
    b = MotionTextDataset(tiny_h3d, "train", seed=3)
    c = MotionTextDataset(tiny_h3d, "train", seed=4)
    order = [6, 2, 0, 5, 1, 4, 3]
    items_a = [a[k] for k in range(7)]
    items_b = {k: b[k] for k in order}  # another access order gives the same items
    for k in range(7):
        assert np.array_equal(items_a[k]["motion"], items_b[k]["motion"]) and items_a[k]["caption"] == items_b[k]["caption"]
    assert any(not np.array_equal(items_a[k]["motion"], c[k]["motion"]) for k in range(7))
    a.set_epoch(1)
    assert any(not np.array_equal(items_a[k]["motion"], a[k]["motion"]) for k in range(7))
    # DataLoader workers see the same items as the main process.
    a.set_epoch(0)
    loader = torch.utils.data.DataLoader(a, batch_size=4, collate_fn=a.collate, num_workers=2)
    ids = []
    for batch in loader:
        for k, i in enumerate(batch["id"]):
            j = SAMPLE_IDS.index(i)
            assert torch.equal(batch["motion"][k, : batch["length"][k]], torch.from_numpy(items_a[j]["motion"]))
            ids.append(i)
    assert ids == SAMPLE_IDS


def test_crop_rule_two_thirds_floor(tmp_path: Path) -> None:
    ds = MotionTextDataset(synthetic_root(tmp_path / "r", {"a": 199}), "train")
    rng = np.random.default_rng(0)
    crops = [ds.crop_length(199, rng) for _ in range(6000)]
    assert set(crops) == {196, 192}
    assert abs(crops.count(192) / len(crops) - 1 / 3) < 0.03
    offsets = set()
    for epoch in range(200):
        ds.set_epoch(epoch)
        item = ds[0]
        raw = np.load(tmp_path / "r" / "new_joint_vecs" / "a.npy")
        off = [o for o in range(200 - item["length"]) if np.array_equal(raw[o : o + item["length"]], item["motion"])]
        offsets.add(off[0])
    assert max(offsets) <= 199 - 192 and len(offsets) > 3  # random offsets within the motion


def test_length_filter_and_spans(tmp_path: Path) -> None:
    caps = {
        "long": [
            CaptionLine("whole", ["whole/ADJ"]),
            CaptionLine("a span", ["span/NOUN"], 1.0, 3.5),  # frames 20..70 -> own entry of 50
            CaptionLine("too short span", ["span/NOUN"], 1.0, 2.0),  # 20 frames < 40 -> dropped
        ],
        "spans_only": [CaptionLine("only a span", ["span/NOUN"], 0.5, 3.0)],  # frames 10..60
    }
    root = synthetic_root(tmp_path / "r", {"short": 39, "ok40": 40, "ok199": 199, "too_long": 200, "long": 150, "spans_only": 100}, captions=caps)
    ds = MotionTextDataset(root, "train", crop=False)
    ids = sorted(e.id for e in ds.entries)
    assert ids == ["long", "long#20-70", "ok199", "ok40", "spans_only#10-60"]
    span = ds.entries[[e.id for e in ds.entries].index("long#20-70")]
    assert span.captions[0].caption == "a span" and span.length == 50
    whole = ds.entries[[e.id for e in ds.entries].index("long")]
    assert [c.caption for c in whole.captions] == ["whole"]  # span captions are not drawn for the whole motion
    raw = np.load(root / "new_joint_vecs" / "long.npy")
    item = ds[[e.id for e in ds.entries].index("long#20-70")]
    assert np.array_equal(item["motion"], raw[20:70])
    assert ds.skipped["length"] == 2


def test_kit_root_uses_its_own_length_rule_and_fps(tmp_path: Path) -> None:
    caps = {"k2": [CaptionLine("span", ["span/NOUN"], 2.0, 4.0)]}  # 12.5 fps: frames 25..50
    root = synthetic_root(tmp_path / "kit", {"k1": 23, "k2": 100, "k3": 24}, dim=251, captions=caps)
    ds = MotionTextDataset(root, "train")
    assert ds.skeleton.name == "kit"
    assert sorted(e.id for e in ds.entries) == ["k2#25-50", "k3"]


def test_broken_files_are_skipped_with_a_warning_or_raise_when_strict(tmp_path: Path) -> None:
    root = synthetic_root(tmp_path / "r", {"a": 80, "b": 80, "c": 80})
    (root / "texts" / "b.txt").unlink()
    (root / "texts" / "c.txt").write_text("no hashes here\n")
    with pytest.warns(UserWarning, match="skipped 1 missing captions, 1 malformed captions"):
        ds = MotionTextDataset(root, "train")
    assert [e.id for e in ds.entries] == ["a"]
    with pytest.raises(ValueError, match=r"texts/b.txt not found"):
        MotionTextDataset(root, "train", strict=True)
    np.save(root / "Std.npy", np.ones(251, np.float32))
    with pytest.raises(ValueError, match=r"Mean and Std must be vectors of one size, got \(263,\) and \(251,\)"):
        MotionTextDataset(root, "train")


def test_preload_gives_the_same_items(tiny_h3d: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lazy = MotionTextDataset(tiny_h3d, "train", seed=5)
        eager = MotionTextDataset(tiny_h3d, "train", seed=5, preload=True)
    for k in range(7):
        assert np.array_equal(lazy[k]["motion"], eager[k]["motion"])


def test_non_finite_spans_and_non_utf8_captions_are_refused_naming_the_file(tmp_path: Path) -> None:
    root = synthetic_root(tmp_path / "r", {"a": 80, "b": 80, "c": 80, "d": 80})
    (root / "texts" / "b.txt").write_text("walks#walk/VERB#nan#inf\n")  # used to raise OverflowError
    (root / "texts" / "c.txt").write_bytes(b"caf\xe9#x/NOUN#0.0#0.0\n")
    (root / "texts" / "d.txt").write_text("walks#walk/VERB#0.5#1e308\n")  # finite, far past the end: clamped
    with pytest.warns(UserWarning, match=r"skipped 2 malformed captions \(first: .*texts/b\.txt:1: bad span nan\.\.inf seconds .*texts/c\.txt:1: not UTF-8 text"):
        ds = MotionTextDataset(root, "train")
    assert sorted(e.id for e in ds.entries) == ["a", "d#10-80"]
    with pytest.raises(ValueError, match=r"texts/b\.txt:1: bad span nan\.\.inf seconds \(start and end must be finite"):
        MotionTextDataset(root, "train", strict=True)
    (root / "train.txt").write_bytes(b"a\n\xff\n")
    with pytest.raises(ValueError, match=r"train\.txt:2: not UTF-8 text \(byte 0xff\); save the file as UTF-8"):
        MotionTextDataset(root, "train")
