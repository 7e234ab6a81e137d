"""Loader throughput: batches/s of MotionTextDataset + collate at batch 64.

By default builds a synthetic HumanML3D-shaped root (random 263-d features, lengths
40..199, three captions each) in a temporary folder; `--root` measures a real one.
Prints one row per (num_workers, preload) setting with batches/s and ms per batch, and
optionally (`--text`) the time to fetch a batch's token features from a warm
TextFeatureCache. Compare the ms per batch with the training step time of the model:
data loading must not be the bottleneck.

    python benchmarks/loader.py [--root ROOT] [--motions 2000] [--batches 100] [--text]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ramotion.data.dataset import MotionTextDataset
from ramotion.data.layout import CaptionLine, write_captions, write_split


def synthetic_root(root: Path, motions: int, seed: int = 0) -> Path:
    """A HumanML3D-shaped root with random features (float32) and captions."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    ids = [f"{k:06d}" for k in range(motions)]
    for k, i in enumerate(ids):
        T = int(rng.integers(40, 200))
        np.save(root / "new_joint_vecs" / f"{i}.npy", rng.normal(size=(T, 263)).astype(np.float32))
        write_captions(
            root / "texts" / f"{i}.txt",
            [CaptionLine(f"a person does motion {k} variant {v}", ["a/DET", "person/NOUN", "do/VERB"]) for v in range(3)],
        )
    write_split(root / "train.txt", ids)
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    return root


def measure(ds: MotionTextDataset, workers: int, batches: int, batch_size: int) -> tuple[float, float]:
    """(wall, main-process CPU) seconds per batch over `batches` batches, after one warm-up batch.

    The CPU figure is what loading costs without contention when workers=0 (on a shared
    machine the wall time also counts other processes' turns).
    """
    loader = torch.utils.data.DataLoader(
        ds, batch_size=batch_size, shuffle=True, drop_last=True, num_workers=workers, collate_fn=ds.collate,
        persistent_workers=workers > 0, generator=torch.Generator().manual_seed(0),
    )
    done, start = 0, None
    while done < batches:
        for batch in loader:
            if start is None:
                start, cpu = time.perf_counter(), time.process_time()  # after the first batch
                continue
            assert batch["motion"].shape == (batch_size, 196, 263)
            done += 1
            if done >= batches:
                break
    return (time.perf_counter() - start) / done, (time.process_time() - cpu) / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", help="a dataset root (default: a synthetic one)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--motions", type=int, default=2000, help="motions in the synthetic root")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", default="0,1,2", help="comma-separated num_workers values")
    parser.add_argument("--text", action="store_true", help="also time token features from a warm TextFeatureCache")
    args = parser.parse_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.root) if args.root else synthetic_root(Path(tmp) / "root", args.motions)
        print(f"root: {root if args.root else f'synthetic, {args.motions} motions'}; batch {args.batch_size}; {torch.get_num_threads()} torch threads")
        print(f"{'workers':>7}  {'preload':>7}  {'batches/s':>9}  {'ms/batch':>8}  {'CPU ms/batch':>12}")
        for preload in (False, True):
            ds = MotionTextDataset(root, args.split, preload=preload)
            for w in (int(x) for x in args.workers.split(",")):
                wall, cpu = measure(ds, w, args.batches, args.batch_size)
                cpu_text = f"{1000 * cpu:.2f}" if w == 0 else "-"
                print(f"{w:>7}  {str(preload):>7}  {1 / wall:>9.1f}  {1000 * wall:>8.2f}  {cpu_text:>12}")
        if args.text:
            from ramotion.text import TextEncoder, TextFeatureCache

            ds = MotionTextDataset(root, args.split)
            captions = sorted({c.caption for e in ds.entries[:500] for c in e.captions})
            cache = TextFeatureCache(Path(tmp) / "text-cache", TextEncoder())
            t0 = time.perf_counter()
            cache.add(captions)
            fill = time.perf_counter() - t0
            rng = np.random.default_rng(0)
            t0 = time.perf_counter()
            n = 50
            for _ in range(n):
                hidden, _ = cache.encode([captions[k] for k in rng.integers(len(captions), size=args.batch_size)])
            per = (time.perf_counter() - t0) / n
            print(f"text cache: filled {len(captions)} captions in {fill:.1f} s ({1000 * fill / len(captions):.1f} ms each); "
                  f"a batch of {args.batch_size} from the cache: {1000 * per:.2f} ms ({tuple(hidden.shape)})")


if __name__ == "__main__":
    main()
