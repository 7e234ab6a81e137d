"""Did a training run learn? Summarise RUN/metrics.jsonl (first vs last logged value of every
loss term, train and validation) and measure held-out text->motion latent retrieval.

    ramotion train --config small --data ROOT --out RUN      # e.g. on `ramotion synth` output
    python benchmarks/learning_check.py RUN [--split test]

Retrieval: every item of the split (one caption each, fixed crops) is encoded with E_T and
E_M of the exported model (EMA weights when EMA is on); R@1/R@5 of each caption's own motion
latent among 32 (Euclidean distance, shuffled groups of 32), against chance 1/32 and 5/32.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, default=None, help="dataset root (default: the run's)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--text-cache", type=Path, default=None)
    args = parser.parse_args()

    from ramotion.data.dataset import MotionTextDataset
    from ramotion.model import load_model, load_stats
    from ramotion.train.curves import read_metrics
    from ramotion.train.text_features import cached_caption_features
    from ramotion.train.trainer import latent_retrieval, read_run_config

    cfg, root = read_run_config(args.run)
    root = args.data or root
    rows = read_metrics(args.run / "metrics.jsonl")
    print(f"run {args.run} ({cfg.preset}, {cfg.variant}), data {root}")
    for split in ("train", "val"):
        data = [r for r in rows if r["split"] == split]
        if not data:
            continue
        first, last = data[0], data[-1]
        print(f"\n{split}: step {first['step']} -> {last['step']}")
        print("| term | first | last | last/first |\n|---|---|---|---|")
        for k in ("loss", "rec", "gen", "align", "sr", "latent_mse", "latent_smoothl1", "nce", "R@1", "R@5"):
            if k in first and k in last:
                print(f"| {k} | {first[k]:.4f} | {last[k]:.4f} | {last[k] / first[k]:.3f} |")
    train_rows = [r for r in rows if r["split"] == "train"]
    if train_rows:
        rate = sum(r["steps_per_s"] for r in train_rows) / len(train_rows)
        print(f"\nmean training speed {rate:.3f} steps/s ({1 / rate:.2f} s/step), data-loading share {sum(r['data_share'] for r in train_rows) / len(train_rows):.1%}")

    model = load_model(args.run)
    mean, std = load_stats(args.run)
    dataset = MotionTextDataset(root, args.split, skeleton=cfg.skeleton, seed=cfg.seed, mean=mean, std=std, max_frames=model.config.max_frames)
    text = cached_caption_features(cfg.text_model if cfg.text_model else None, "cpu", args.text_cache)
    with torch.no_grad():
        r = latent_retrieval(model, dataset, text)
    print(f"\nheld-out {args.split} split ({len(dataset)} items), text->motion latent retrieval in groups of 32:")
    print(f"  R@1 {r['R@1']:.3f} (chance {r['chance_R@1']:.3f}, {r['R@1'] / r['chance_R@1']:.1f}x)   R@5 {r['R@5']:.3f} (chance {r['chance_R@5']:.3f}, {r['R@5'] / r['chance_R@5']:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
