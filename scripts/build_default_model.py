#!/usr/bin/env python
"""Rebuild ramotion's bundled default model (src/ramotion/assets/default_model) and its model card.

    python scripts/build_default_model.py                      # the real build from ../shared/data/mocap: ~1.5 h on 2 idle CPU cores
    python scripts/build_default_model.py --compare-with OLD   # also measure the model in folder OLD beside the new one
                                                               # (the last build used a copy of the procedural model:
                                                               #  git show 70c6ced:src/ramotion/assets/default_model/...)
    python scripts/build_default_model.py --corpus synth --work build/synth_model --dest build/synth_model/model
                                                               # the earlier procedural-corpus model (docs/results.md's tables)
    python scripts/build_default_model.py --tiny --work /tmp/b # a seconds-long dry run into /tmp/b/default_model

Steps (each resumable; rerun after an interruption):
  1. the corpus: `ramotion data build-mocap` of the real capture (default), `ramotion synth`
     (procedural), or both merged (`--corpus mixed`)
  2. ramotion train     the small CPU preset for 8000 steps (weights ~5 MB, limit 25 MB)
  3. ramotion evaluator train   the project's T2M evaluator on the same corpus
  4. a (w_r, w_c) sweep on the VALIDATION split: FID, R@1 and realism (joint acceleration and
     foot skating against the real validation motions); semantic accuracy on procedural data
  5. the test split: FID / R-Precision / MM-Dist / Diversity with 95% intervals; with mocap,
     the held-out (action, style) pairs, realism and style steering; with procedural data,
     semantic accuracy
  6. save_pretrained into the package, the size check, MODEL_CARD.md from the measured numbers

On a GPU machine the same command trains there (Accelerate picks the device).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("build/default_model"), help="work folder: corpus, run, evaluator, sweep (default build/default_model)")
    parser.add_argument("--dest", type=Path, default=None,
                        help="where to save the model and its card (default: the package's assets/default_model; with --tiny: WORK/default_model)")  # fmt: skip
    parser.add_argument("--tiny", action="store_true", help="a seconds-long run of every step (for tests); never writes into the package unless --dest says so")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--corpus", choices=("mocap", "synth", "mixed"), default=None, help="training corpus (default mocap; --tiny: synth)")
    parser.add_argument("--mocap", default=None, help="the mocap folder (default ../shared/data/mocap)")
    parser.add_argument("--compare-with", default=None, help="a model folder to measure beside the new one (realism, style, speed)")
    parser.add_argument("--steps", type=int, default=None, help="training steps instead of the preset's (a finished shorter run is resumed to it)")
    args = parser.parse_args(argv)

    import dataclasses

    from ramotion.experiments.default_model import FULL, SYNTH, TINY, TINY_MOCAP, build_default_model

    dest = args.dest if args.dest is not None else (args.work / "default_model" if args.tiny else None)
    command = "python scripts/build_default_model.py" + (" " + shlex.join(argv if argv is not None else sys.argv[1:]) if (argv or sys.argv[1:]) else "")
    if args.tiny:
        settings = TINY_MOCAP if args.corpus == "mocap" else TINY if args.corpus in (None, "synth") else dataclasses.replace(TINY_MOCAP, corpus="mixed")
    else:
        settings = SYNTH if args.corpus == "synth" else FULL if args.corpus in (None, "mocap") else dataclasses.replace(FULL, corpus="mixed")
    if args.mocap is not None:
        settings = dataclasses.replace(settings, mocap_root=args.mocap)
    if args.steps is not None:
        if args.steps < 1:
            parser.error(f"--steps must be at least 1, got {args.steps}")
        settings = dataclasses.replace(settings, train={**settings.train, "steps": args.steps})
    try:
        info = build_default_model(args.work, dest, settings, rebuild_command=command, progress=not args.quiet, compare_with=args.compare_with)
    except (FileNotFoundError, ValueError) as exc:
        print(f"build_default_model: error: {exc}", file=sys.stderr)
        return 2
    where = dest if dest is not None else "the package (src/ramotion/assets/default_model)"
    print(f"default model written to {where}: w_r={info['chosen']['w_reg']:g}, w_c={info['chosen']['w_cfg']:g}, "
          f"{info['weights_mb']:.1f} MB, {info['wall_seconds'] / 60:.1f} min")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
