"""How big an experiment runs: training length, evaluator, protocol size and timing sentences.

`paper` is the paper's setting (spec §7-§8) for GPU users, `small` fits a 2-core CPU in
hours (the numbers are not comparable with published ones), `tiny` runs in seconds for
tests. A scale never changes *what* is compared, only how long each part runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scale:
    """The sizes of one experiment scale."""

    name: str
    train_preset: str | None  # a ramotion.train preset; None: the paper preset of the dataset (humanml3d or kit)
    train_overrides: tuple[str, ...] = ()  # `--set` style overrides on top of the preset
    protocol: dict[str, Any] = field(default_factory=dict)  # ProtocolConfig fields
    evaluator: dict[str, Any] = field(default_factory=dict)  # TrainEvaluatorConfig fields
    semantic_motions: int | None = None  # test motions checked for semantic accuracy (None: all)
    aits_sentences: int = 100  # sentences timed for AITS (after one untimed warm-up)
    generation_batch: int = 64  # captions per generation call
    expected: str = ""  # expected wall time, for the user and the report


SCALES: dict[str, Scale] = {
    "paper": Scale(
        name="paper",
        train_preset=None,  # humanml3d (450k steps) or kit (400k), batch 64, lr 1e-4
        protocol={},  # the community's: 20 replications of the whole test split, batches of 32
        evaluator={"preset": "official", "epochs": 40},
        semantic_motions=None,
        aits_sentences=100,
        expected="GPU days: one 450k-step training per retrained variant (about 1-2 days each on one A100), "
        "about an hour of evaluation per row",
    ),
    "small": Scale(
        name="small",
        train_preset="small",
        train_overrides=("steps=2000", "val_every=500", "ckpt_every=500", "log_every=50"),
        protocol={"replications": 5, "max_samples": 256, "diversity_times": 100},
        evaluator={"preset": "small", "epochs": 20},
        semantic_motions=128,
        aits_sentences=20,
        # Measured on the shared 2-core machine (other jobs running): the small preset trains at
        # 0.2-1 steps/s; 64 generated motions (~115 frames, REG + CFG) take 10-70 s. Unloaded it is faster.
        expected="2-core CPU: 30 min to 3 h per retrained variant (2000 steps) and 10-60 min of evaluation per row "
        "(5 replications of 256 test pairs), depending on load; the evaluator once per --out. "
        "Use --plan to see what will be trained, --replications to trade time for tighter intervals.",
    ),
    "tiny": Scale(
        name="tiny",
        train_preset="tiny",
        train_overrides=("steps=3", "val_every=3", "ckpt_every=3", "log_every=3"),
        protocol={"replications": 2, "batch_size": 8, "max_samples": 8, "diversity_times": 4, "mm_captions": 2, "mm_generations": 2, "mm_times": 1},
        evaluator={
            "preset": "small",
            "epochs": 1,
            "batch_size": 32,
            "sizes": {"movement_hidden": 16, "movement_latent": 16, "motion_hidden": 16, "text_hidden": 16, "embed_dim": 16},
        },
        semantic_motions=2,
        aits_sentences=1,
        generation_batch=16,
        expected="seconds (for tests; the numbers mean nothing)",
    ),
}


def get_scale(name: str) -> Scale:
    """The scale called `name`, or a ValueError listing the known ones."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose from {', '.join(SCALES)}") from None
