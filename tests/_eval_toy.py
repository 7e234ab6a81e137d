"""A tiny dataset in the HumanML3D layout whose motions depend on their captions (for evaluation tests).

Each motion performs one of a few "actions": a fixed random feature pattern modulated at an
action-specific frequency, plus noise. Captions name the action with word/POS tokens, so an
evaluator can learn to match them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ACTIONS = ("walk", "jump", "kick", "wave", "squat", "spin", "clap", "bow")
PHRASES = ("a person {}s", "someone {}s", "the man {}s slowly", "a figure {}s quickly")


def _tokens(phrase: str) -> str:
    tags = {"a": "DET", "the": "DET", "person": "NOUN", "someone": "PRON", "man": "NOUN", "figure": "NOUN",
            "slowly": "ADV", "quickly": "ADV"}
    out = []
    for w in phrase.split():
        lemma = w[:-1] if w.endswith("s") and w[:-1] in ACTIONS else w
        out.append(f"{lemma}/{tags.get(lemma, 'VERB')}")
    return " ".join(out)


def make_toy_root(root: Path, per_action: int = 24, dim: int = 263, seed: int = 0) -> Path:
    """Write the toy dataset to `root` and return it; splits 50/10/40 per action."""
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(len(ACTIONS), dim)).astype(np.float32)
    for sub in ("new_joint_vecs", "texts"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    everything = []
    for a, action in enumerate(ACTIONS):
        for i in range(per_action):
            mid = f"{a:02d}{i:04d}"
            t = int(rng.integers(40, 120))
            phase = np.sin((0.15 + 0.1 * a) * np.arange(t) + rng.uniform(0, 6.28))[:, None]
            motion = (patterns[a] * phase + 0.3 * rng.normal(size=(t, dim))).astype(np.float32)
            np.save(root / "new_joint_vecs" / f"{mid}.npy", motion)
            lines = []
            for p in rng.choice(len(PHRASES), 3, replace=False):
                phrase = PHRASES[p].format(action)
                lines.append(f"{phrase}#{_tokens(phrase)}#0.0#0.0\n")
            (root / "texts" / f"{mid}.txt").write_text("".join(lines))
            frac = i / per_action
            splits["train" if frac < 0.5 else "val" if frac < 0.6 else "test"].append(mid)
            everything.append(motion)
    for name, ids in splits.items():
        (root / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids))
    allm = np.concatenate(everything)
    np.save(root / "Mean.npy", allm.mean(0))
    np.save(root / "Std.npy", allm.std(0))
    return root
