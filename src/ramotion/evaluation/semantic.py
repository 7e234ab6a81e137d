"""Semantic accuracy on procedural datasets: does the generated motion do what its program says?

For each test motion that has a ground-truth program (ROOT/programs/<id>.json), one of
its captions is turned into a motion of the program's length; the joints recovered
from the generated features are checked action by action with the procedural
corpus's geometric checker (`ramotion.synth.check`). Reported: accuracy over all
actions, per action type, and separately for motions whose composition (the pair of
actions) was held out of training.

No learned evaluator is involved, so this measure cannot be fooled by an evaluator
that has learned the corpus's shortcuts.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..data.layout import Layout, load_npy, read_captions, read_split
from ..motion.features import features_to_joints

PROGRAMS_DIR = "programs"
HELD_OUT_JSON = "held_out_compositions.json"  # written by `ramotion synth`
HELD_OUT_FILES = ("test_heldout.txt",)  # or a plain split file of held-out test ids


def result_passed(result: Any) -> bool:
    """Whether one per-action checker result passed (a bool, a dict or an object with `passed`/`ok`)."""
    if isinstance(result, bool | np.bool_):
        return bool(result)
    if isinstance(result, dict):
        for key in ("passed", "ok", "pass", "success"):
            if key in result:
                return bool(result[key])
    for key in ("passed", "ok"):
        if hasattr(result, key):
            return bool(getattr(result, key))
    raise TypeError(f"cannot read a pass/fail from the checker result {result!r}")


def _action_name(result: Any, fallback: str) -> str:
    if isinstance(result, dict):
        return str(result.get("action", result.get("name", fallback)))
    return str(getattr(result, "action", getattr(result, "name", fallback)))


def held_out_ids(root: str | os.PathLike) -> set[str]:
    """Test ids whose action composition was held out of training (from the corpus's split file)."""
    meta = Path(root) / HELD_OUT_JSON
    if meta.is_file():
        data = json.loads(meta.read_text(encoding="utf-8"))
        ids = data.get("held_out_test_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"{meta} has no list 'held_out_test_ids'")
        return set(ids)
    for name in HELD_OUT_FILES:
        p = Path(root) / name
        if p.is_file():
            return set(read_split(p))
    return set()


def _load_program(path: Path) -> Any:
    from ..synth.program import Program

    try:
        return Program.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def semantic_accuracy(
    root: str | os.PathLike,
    generator: Callable[[Sequence[str], Sequence[int], Sequence[int]], Any] | None,
    split: str = "test",
    max_motions: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    check: Callable[[Any, np.ndarray], Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Check generated motions (or, with `generator` None, the dataset's own) against their programs.

    `generator(captions, frame_counts, seeds)` returns raw features per caption, as
    for the protocol. Returns {"overall", "per_action", "held_out", "seen"}, each with
    "checked", "passed" and "accuracy".
    """
    if check is None:
        from ..synth import check as synth_check

        check = synth_check
    layout = Layout.of(root)
    programs_dir = Path(root) / PROGRAMS_DIR
    if not programs_dir.is_dir():
        raise FileNotFoundError(f"{root} has no {PROGRAMS_DIR}/ folder: semantic accuracy needs a procedural dataset")
    rng = np.random.default_rng(seed)
    ids = [i for i in read_split(layout.split(split)) if (programs_dir / f"{i}.json").is_file() and layout.text(i).is_file()]
    if not ids:
        raise ValueError(f"no {split} motion of {root} has a program in {programs_dir}")
    if max_motions is not None and len(ids) > max_motions:
        ids = sorted(rng.choice(ids, max_motions, replace=False).tolist())
    programs = {i: _load_program(programs_dir / f"{i}.json") for i in ids}
    captions = []
    for i in ids:
        lines = read_captions(layout.text(i))
        captions.append(lines[int(rng.integers(len(lines)))].caption)
    lengths = [int(programs[i].num_frames) for i in ids]
    seeds = rng.integers(0, 2**31 - 1, size=len(ids)).tolist()

    features: list[np.ndarray] = []
    if generator is None:
        features = [load_npy(layout.features(i))[: lengths[k]] for k, i in enumerate(ids)]
    else:
        for s in tqdm(range(0, len(ids), batch_size), desc="semantic", leave=False, disable=not progress):
            out = generator(captions[s : s + batch_size], lengths[s : s + batch_size], seeds[s : s + batch_size])
            features += [np.asarray(out[k])[: lengths[s + k]] for k in range(len(out))]

    held = held_out_ids(root)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # name -> [checked, passed]
    groups = {"overall": [0, 0], "held_out": [0, 0], "seen": [0, 0]}
    for k, i in enumerate(ids):
        joints = np.asarray(features_to_joints(np.asarray(features[k], dtype=np.float32)))
        results = check(programs[i], joints)
        results = list(results.values()) if isinstance(results, dict) else list(results)
        names = programs[i].names()
        for j, r in enumerate(results):
            ok = result_passed(r)
            name = _action_name(r, names[j] if j < len(names) else "?")
            for bucket in (counts[name], groups["overall"], groups["held_out" if i in held else "seen"]):
                bucket[0] += 1
                bucket[1] += int(ok)

    def acc(c: list[int]) -> dict[str, float]:
        return {"checked": c[0], "passed": c[1], "accuracy": c[1] / c[0] if c[0] else float("nan")}

    return {
        "motions": len(ids),
        **{k: acc(v) for k, v in groups.items()},
        "per_action": {name: acc(c) for name, c in sorted(counts.items())},
    }


def save_semantic(path: str | os.PathLike, results: dict[str, Any]) -> None:
    """Write semantic results as JSON (atomically)."""
    from ..io_utils import write_text

    write_text(path, json.dumps(results, indent=2))
