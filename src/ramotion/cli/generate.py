"""`ramotion generate`: text -> motion, as MP4 / GIF / BVH / NPY.

    ramotion generate "a person jumps forward" --seconds 3 -o jump.mp4
    ramotion generate "a person waves" --num 4 --seed 7 -o wave.bvh      # wave_00.bvh .. wave_03.bvh
    ramotion generate --prompts prompts.txt --out-dir out/ --format gif  # one prompt per line, TEXT or TEXT#SECONDS
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .common import UserError, input_path
from .prompts import iter_prompt_file

FORMATS = ("mp4", "gif", "bvh", "npy")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `generate` verb."""
    p = sub.add_parser(
        "generate",
        help="generate motions from text (MP4, GIF, BVH or NPY)",
        description=(
            "Generate motions from text with a RAM model (20 DDPM steps, REG + classifier-free guidance). "
            "Give one TEXT with -o OUT.{mp4,gif,bvh,npy}, or --prompts FILE (one prompt per line, "
            "optionally TEXT#SECONDS; '#' lines are comments) with --out-dir DIR."
        ),
    )
    p.add_argument("text", nargs="?", help="what the motion should show, e.g. 'a person walks in a circle'")
    p.add_argument("-o", "--output", help="output file: .mp4, .gif (stick figure), .bvh or .npy (joints (T, 22, 3))")
    p.add_argument("--prompts", metavar="FILE", help="text file with one prompt per line (TEXT or TEXT#SECONDS)")
    p.add_argument("--out-dir", metavar="DIR", help="folder for the --prompts outputs (created if missing)")
    p.add_argument("--format", choices=FORMATS, default="mp4", help="output format with --out-dir (default mp4)")
    length = p.add_mutually_exclusive_group()
    length.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="motion length in seconds, at most 9.8 for HumanML3D (default: the length the model's length predictor estimates from the text, "
        "per prompt (the bundled model has one); 6 s for a model folder without one)",
    )
    length.add_argument("--frames", type=int, default=None, help="motion length in frames (20 fps for HumanML3D)")
    p.add_argument("--seed", type=int, default=0, help="random seed; sample i uses seed+i (default 0)")
    p.add_argument("--num", type=int, default=1, help="how many motions to make for TEXT (default 1; files get _00, _01, ... suffixes)")
    p.add_argument("--model", metavar="DIR", default=None, help="model folder or training run (default: the bundled model, when the installation has one)")
    p.add_argument("--text-model", metavar="PATH", default=None, help="local copy of the text model the RAM model was trained with")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's, 20 for the paper)")
    p.add_argument("--w-reg", type=float, default=None, help="REG weight w_r (default: the model's, 5 for the paper; 0 turns REG off)")
    p.add_argument("--w-cfg", type=float, default=None, help="classifier-free guidance weight w_c (default: the model's, 1.5 for the paper, i.e. MDM's scale 2.5)")
    p.add_argument("--reg-steps", default=None, help="where REG runs: all (all steps but the first), none, first:K, or timesteps like 46,44 (default: the model's, all for the paper)")
    p.add_argument("--reg-source", choices=("guided", "cond"), default="guided", help="estimate re-encoded by REG (default guided)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"), help="compute precision (default auto)")
    p.add_argument("--device", default=None, help="torch device, e.g. cpu, cuda, cuda:1 (default: cuda if available)")
    p.add_argument("--batch-size", type=int, default=32, help="motions per batch, with --num or --prompts (default 32)")
    p.add_argument("--npy", choices=("joints", "features"), default="joints", help="what .npy files hold (default joints)")
    p.add_argument("--fps", type=float, default=None, help="resample the written joints, BVH or video to this frame rate (default: the model's, 20); the duration is kept")
    p.add_argument(
        "--no-cleanup",
        action="store_true",
        help="write the model's raw joints: no foot cleanup (jitter filter, rigid bones, floor, planted feet), which the bundled model applies by default",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def slug(text: str, width: int = 40) -> str:
    """A file-name-safe short form of a prompt."""
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return s[:width].rstrip("_") or "motion"


def _check_args(args: argparse.Namespace) -> None:
    """Cheap checks before any model is loaded."""
    from ..outputs import check_output_path

    if args.prompts is None:
        if args.text is None:
            raise UserError("give a TEXT to generate, or --prompts FILE with --out-dir DIR")
        if not args.text.strip():
            raise UserError("the prompt is empty: describe the motion, e.g. 'a person walks forward'")
        if args.output is None:
            raise UserError("give an output file with -o OUT.mp4 (or .gif, .bvh, .npy)")
        if args.out_dir is not None:
            raise UserError("--out-dir goes with --prompts; for one TEXT use -o OUT")
        check_output_path(args.output)
    else:
        if args.text is not None:
            raise UserError("give either a TEXT or --prompts FILE, not both")
        if args.out_dir is None:
            raise UserError("--prompts needs --out-dir DIR")
        if args.output is not None:
            raise UserError("with --prompts, outputs go to --out-dir (drop -o)")
        if args.num != 1:
            raise UserError("--num works with a single TEXT; repeat lines in the prompt file instead")
    if args.num < 1:
        raise UserError(f"--num must be at least 1, got {args.num}")
    if args.seconds is not None and args.seconds <= 0:
        raise UserError(f"--seconds must be positive, got {args.seconds:g}")
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.fps is not None and not (0 < args.fps <= 1000):
        raise UserError(f"--fps must be above 0 and at most 1000, got {args.fps:g}")
    if args.fps is not None and args.npy == "features" and (args.format == "npy" or (args.output or "").lower().endswith(".npy")):
        raise UserError("--fps resamples joints; features keep the model's frame rate (drop --fps or use --npy joints)")


def _load(args: argparse.Namespace):  # noqa: ANN202 - RAMPipeline (imported lazily: torch is slow to import)
    from ..pipeline import RAMPipeline, default_model_dir, no_default_model_message

    if args.model is None and default_model_dir() is None:
        raise UserError(no_default_model_message())
    # Keep the terminal to our own progress bar and messages (no transformers loading bars).
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return RAMPipeline.from_pretrained(args.model, device=args.device, dtype=args.dtype, text_model=args.text_model)


def run(args: argparse.Namespace) -> int:
    from ..sampling import parse_reg_steps

    _check_args(args)
    reg_steps = parse_reg_steps(args.reg_steps) if args.reg_steps is not None else None
    options = dict(steps=args.steps, w_reg=args.w_reg, w_cfg=args.w_cfg, reg_steps=reg_steps, reg_source=args.reg_source, cleanup=False if args.no_cleanup else None)
    if args.prompts is None:
        return _run_single(args, options)
    return _run_file(args, options)


def _run_single(args: argparse.Namespace, options: dict) -> int:
    from ..outputs import check_output_path, numbered_path

    pipe = _load(args)
    out = check_output_path(args.output)
    rate = f", resampled to {args.fps:g} fps" if args.fps is not None and abs(args.fps - pipe.skeleton.fps) > 1e-9 else ""
    # --batch-size motions at a time, each saved before the next batch: --num 100000 needs the
    # memory of one batch, not of all of them.
    for start in range(0, args.num, args.batch_size):
        stop = min(start + args.batch_size, args.num)
        motions = pipe([args.text] * (stop - start), seconds=args.seconds, frames=args.frames, seed=args.seed + start, progress=not args.quiet, **options)
        for i, m in enumerate(motions, start):
            path = m.save(numbered_path(out, i, args.num), npy=args.npy, fps=args.fps)
            if not args.quiet:
                print(f"wrote {path} ({m.num_frames} frames, {m.seconds:.2f} s, seed {m.seed}{rate})")
    return 0


def _run_file(args: argparse.Namespace, options: dict) -> int:
    from tqdm.auto import tqdm

    entries = list(iter_prompt_file(input_path(args.prompts)))  # (line number, prompt, seconds or None)
    if not entries:
        raise UserError(f"{args.prompts} holds no prompts (one per line; blank and '#' lines are skipped)")
    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out-dir {out_dir} is a file, not a folder")
    pipe = _load(args)
    prompts = [p for _, p, _ in entries]
    fps = float(pipe.skeleton.fps)
    default = args.seconds if args.seconds is not None else (args.frames / fps if args.frames is not None else None)  # None: predicted per line
    lengths: dict[str, list] = {"frames": [args.frames] * len(entries)} if args.frames is not None and all(s is None for _, _, s in entries) else {"seconds": []}
    # Validate every line (prompt and length) before generating anything.
    for i, (number, prompt, seconds) in enumerate(entries):
        try:
            pipe.check_prompts([prompt], names=["the prompt"])
            if "seconds" in lengths:  # a line's own length, else --seconds/--frames, else the model's length predictor (6 s without one)
                lengths["seconds"].append(seconds if seconds is not None else default if default is not None else pipe.predict_frames([prompt])[0] / fps)
            pipe.lengths_for(1, *(([lengths["seconds"][i]], None) if "seconds" in lengths else (None, [lengths["frames"][i]])))
        except ValueError as exc:
            raise UserError(f"{args.prompts}:{number}: {exc}") from None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create --out-dir {out_dir}: {exc.strerror or exc}") from None
    width = max(3, len(str(len(prompts) - 1)))
    names = [out_dir / f"{i:0{width}d}_{slug(p)}.{args.format}" for i, p in enumerate(prompts)]
    from ..outputs import check_output_path

    check_output_path(names[0])
    bar = tqdm(total=len(prompts), desc="generating", unit="motion", disable=args.quiet, file=sys.stderr)
    for start in range(0, len(prompts), args.batch_size):
        stop = min(start + args.batch_size, len(prompts))
        part = {k: v[start:stop] for k, v in lengths.items()}
        motions = pipe(prompts[start:stop], seed=[args.seed + i for i in range(start, stop)], **part, **options)
        for path, motion in zip(names[start:stop], motions):
            motion.save(path, npy=args.npy, fps=args.fps)
        bar.update(stop - start)
    bar.close()
    if not args.quiet:
        print(f"wrote {len(prompts)} motions to {out_dir}")
    return 0
