#!/usr/bin/env python
"""Render docs/editing.md's gallery: six edits of real test clips by the bundled model, each a
GIF with the source on the left and the edit on the right (kept frames tinted in the caption).

    python scripts/edit_gallery.py                     # -> docs/media/edits/*.gif
    python scripts/edit_gallery.py --out /tmp/edits    # elsewhere

Needs the project's mocap corpus (`ramotion data build-mocap`, default build/mocap): the sources
are clips of its test split, which the model never trained on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# (name, test clip, mode, prompt, options)
EDITS = [
    ("inbetween_jump", "bn1_walk_childish_002", "inbetween", "a person jumps up high", {"keep_first": 1.0, "keep_last": 1.0}),
    ("inbetween_turn", "bn1_walk_angry_002", "inbetween", "a person turns around", {"keep_first": 1.0, "keep_last": 1.0}),
    ("continue_wave", "bn1_walk_giant_002", "continue", "a person stops and waves with the right hand", {"seconds": 3.0}),
    ("continue_crouch", "bn1_walk_chimpira_001", "continue", "a person crouches down", {"seconds": 3.0}),
    ("bodypart_wave", "bn1_walk_childish_001", "body-part", "a person waves with the right hand", {"part": "right_arm"}),
    ("bodypart_arms_up", "bn1_walk-back_tired_001", "body-part", "a person raises both arms above the head", {"part": "upper_body"}),
]


def _side_by_side(left: np.ndarray, right: np.ndarray, left_title: str, right_title: str, size: int) -> list[np.ndarray]:
    """Frames of two joint sequences (T, 22, 3) drawn side by side; the shorter holds its last frame."""
    from ramotion.viz.render import render_frames

    n = max(len(left), len(right))
    pad = lambda j: np.concatenate([j, np.repeat(j[-1:], n - len(j), axis=0)]) if len(j) < n else j  # noqa: E731
    a = render_frames(pad(left), left_title, size=size)
    b = render_frames(pad(right), right_title, size=size)
    return [np.concatenate([x, y], axis=1) for x, y in zip(a, b)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("build/mocap"), help="the mocap corpus (HumanML3D layout)")
    parser.add_argument("--out", type=Path, default=Path("docs/media/edits"))
    parser.add_argument("--size", type=int, default=240, help="pixels per panel")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from PIL import Image

    from ramotion import RAMPipeline
    from ramotion.io_utils import atomic_path
    from ramotion.outputs import Motion

    pipe = RAMPipeline.from_pretrained(device="cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    fps = pipe.skeleton.fps
    for name, clip, mode, prompt, options in EDITS:
        feats = np.load(args.corpus / "new_joint_vecs" / f"{clip}.npy")[: pipe.config.max_frames - int(options.get("seconds", 0) * fps)]
        caption = (args.corpus / "texts" / f"{clip}.txt").read_text(encoding="utf-8").splitlines()[0].split("#")[0]
        source = pipe.source_features(feats)
        if mode == "inbetween":
            edit = pipe.inbetween(prompt, source, seed=args.seed, **options)[0]
        elif mode == "continue":
            edit = pipe.continue_motion(prompt, source, seed=args.seed, **options)[0]
        else:
            edit = pipe.edit_body_part(prompt, source, seed=args.seed, **options)[0]
        src_joints = Motion(caption, source, 0, pipe.skeleton).raw_joints  # (T, 22, 3), the features' own joints
        what = {"inbetween": "in-between", "continue": "continued", "body-part": f"{options.get('part', '')} re-generated"}[mode]
        frames = _side_by_side(src_joints, edit.raw_joints, f"source: {caption[:40]}", f"{what}: {prompt[:40]}", args.size)
        images = [Image.fromarray(f).quantize(colors=64, method=Image.Quantize.FASTOCTREE) for f in frames[::2]]  # 10 fps
        path = args.out / f"{name}.gif"
        with atomic_path(path) as tmp:
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
        print(f"{path}: {len(images)} frames, {path.stat().st_size / 1e6:.2f} MB ({clip}, {mode}: {prompt!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
