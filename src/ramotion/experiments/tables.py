"""The paper's experiments (spec §9) as data: which models each row needs and how it samples.

A row either reuses the experiment's shared model (`train=None`: `--model`, or a model
trained with the paper's objective when none is given) or names the training-config
overrides of its own model (`train={...}`, passed to `ramotion.train.resolve_config`).
Rows with the same training overrides share one trained model, also across tables
written to the same output folder (Table 4's "+ L_align" is Table 6's "Ours").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The RAM sampler of the paper: 20 steps, REG on all steps but the first, w_r = 5, w_c = 1.5.
RAM_SAMPLER: dict[str, Any] = {"steps": 20, "w_reg": 5.0, "w_cfg": 1.5, "reg_steps": "all"}
CFG_ONLY: dict[str, Any] = {"steps": 20, "w_reg": 0.0, "w_cfg": 1.5, "reg_steps": "none"}


@dataclass(frozen=True)
class Row:
    """One row of a table."""

    name: str  # the row label
    sampler: dict[str, Any] = field(default_factory=lambda: dict(RAM_SAMPLER))  # RAMPipeline keywords
    train: dict[str, Any] | None = None  # training overrides of its own model; None: the shared model
    params: dict[str, Any] = field(default_factory=dict)  # the settings shown as table columns


@dataclass(frozen=True)
class TableSpec:
    """One experiment: its rows, the columns that tell them apart and what the paper claims."""

    name: str
    title: str
    claim: str  # the paper's claim this table tests
    rows: tuple[Row, ...]
    param_columns: tuple[str, ...] = ()
    aits: bool = False  # also time every row (AITS, seconds per sentence)
    paper_best: str | None = None  # the row the paper finds best (compared with ours in the report)
    note: str = ""  # how rows differ from the paper's, or from earlier versions of the results page

    @property
    def retrains(self) -> bool:
        """Whether any row needs a model of its own."""
        return any(r.train is not None for r in self.rows)

    @property
    def uses_shared_model(self) -> bool:
        """Whether any row samples from the shared (`--model`) model."""
        return any(r.train is None for r in self.rows)


# Table 3's 50-step row: the RAM denoiser sampled for 50 steps with CFG only, not MDM (issue 18).
TABLE3_50_STEP_ROW = "RAM denoiser, 50 steps, CFG only (not MDM)"


def _schedule_row(name: str, reg_steps: Any, count: int) -> Row:
    return Row(name, {**RAM_SAMPLER, "reg_steps": reg_steps}, params={"REG steps": count})


TABLE3 = TableSpec(
    name="table3",
    title="Table 3: where REG runs vs inference time (AITS) and quality",
    claim="REG lowers FID and raises R-Precision; running it on only the first few steps keeps most of the gain "
    "at a fraction of the time, and 20-step RAM is faster than MDM sampled for 50 steps (here the RAM denoiser, "
    "which has MDM's architecture, sampled for 50 steps with CFG only stands in for MDM).",
    rows=(
        # Not MDM: the same RAM model sampled MDM-style (all 50 steps, CFG only), in place of the paper's "MDM (50 steps)".
        Row(TABLE3_50_STEP_ROW, {"steps": 50, "w_reg": 0.0, "w_cfg": 1.5, "reg_steps": "none"}, params={"REG steps": 0}),
        _schedule_row("REG none", "none", 0),
        _schedule_row("REG [46,44]", [46, 44], 2),
        _schedule_row("REG [46,44,41,39]", [46, 44, 41, 39], 4),
        _schedule_row("REG [46,...,34]", [46, 44, 41, 39, 36, 34], 6),
        _schedule_row("REG all but the first", "all", 19),
    ),
    param_columns=("REG steps",),
    aits=True,
    paper_best="REG all but the first",
    note=f"'{TABLE3_50_STEP_ROW}' is not MDM: it is the RAM model sampled for all 50 steps with classifier-free "
    "guidance only (MDM's sampling; the denoiser has MDM's architecture), in place of the paper's 'MDM (50 steps)'. "
    "Until issue 18 it was labelled 'MDM-style, 50 steps, CFG'.",
)

TABLE4 = TableSpec(
    name="table4",
    title="Table 4: adding RAM's components one at a time",
    claim="Each component helps: the motion encoder (two-stream training), then L_sr, then L_align, then REG.",
    rows=(
        Row("Baseline (E_T + D)", dict(CFG_ONLY), train={"variant": "baseline"}, params={"E_M": "", "L_sr": "", "L_align": "", "REG": ""}),
        Row("+ E_M (two-stream)", dict(CFG_ONLY), train={"variant": "two_stream"}, params={"E_M": "✓", "L_sr": "", "L_align": "", "REG": ""}),
        Row("+ L_sr", dict(CFG_ONLY), train={"variant": "sr_only"}, params={"E_M": "✓", "L_sr": "✓", "L_align": "", "REG": ""}),
        Row("+ L_align", dict(CFG_ONLY), train={"variant": "ours"}, params={"E_M": "✓", "L_sr": "✓", "L_align": "✓", "REG": ""}),
        Row("+ REG (RAM)", dict(RAM_SAMPLER), train={"variant": "ours"}, params={"E_M": "✓", "L_sr": "✓", "L_align": "✓", "REG": "✓"}),
    ),
    param_columns=("E_M", "L_sr", "L_align", "REG"),
    paper_best="+ REG (RAM)",
)

_SWEEP5 = ((0, 0), (3, 0), (4, 0), (5, 0), (0, 1.5), (0, 2.5), (0, 3.5), (0, 4.5), (5, 1.5))
TABLE5 = TableSpec(
    name="table5",
    title="Table 5: guidance weights (w_r for REG, w_c for classifier-free guidance)",
    claim="REG alone and CFG alone both help; together (w_r = 5, w_c = 1.5) they do best.",
    rows=tuple(
        Row(f"w_r={wr:g}, w_c={wc:g}", {"steps": 20, "w_reg": float(wr), "w_cfg": float(wc), "reg_steps": "all" if wr else "none"}, params={"w_r": wr, "w_c": wc})
        for wr, wc in _SWEEP5
    ),
    param_columns=("w_r", "w_c"),
    paper_best="w_r=5, w_c=1.5",
)

TABLE6 = TableSpec(
    name="table6",
    title="Table 6: latent objectives (classifier-free guidance only)",
    claim="RAM's L_sr + L_align beats no latent objective (A), bidirectional latent alignment (TEMOS's smooth-L1) "
    "at weight 1 (B) and at TEMOS's 1e-5 (C), TMR's cross-modal InfoNCE (D) and InfoNCE + alignment with TMR's settings (E).",
    rows=(
        Row("A: none", dict(CFG_ONLY), train={"variant": "A"}, params={"objective": "none"}),
        Row("B: bidirectional alignment, w 1", dict(CFG_ONLY), train={"variant": "B"}, params={"objective": "smooth-L1(z_s, z_m), w 1"}),
        Row("C: bidirectional alignment, w 1e-5 (TEMOS)", dict(CFG_ONLY), train={"variant": "C"}, params={"objective": "smooth-L1(z_s, z_m), w 1e-5"}),
        Row("D: InfoNCE (TMR)", dict(CFG_ONLY), train={"variant": "D"}, params={"objective": "InfoNCE τ 0.1, w 1, duplicates > 0.8 filtered"}),
        Row("E: InfoNCE + alignment (TMR)", dict(CFG_ONLY), train={"variant": "E"}, params={"objective": "InfoNCE τ 0.1, w 0.1, filtered + smooth-L1 w 1e-5"}),
        Row("Ours: L_sr + L_align", dict(CFG_ONLY), train={"variant": "ours"}, params={"objective": "L_sr + L_align"}),
    ),
    param_columns=("objective",),
    paper_best="Ours: L_sr + L_align",
    note="Definitions changed in issue 18, to the paper's: B and C are one bidirectional alignment, smooth-L1(z_s, z_m) "
    "as in TEMOS and TMR, at weights 1 and 1e-5 (B was an MSE before); D and E leave out near-duplicate negatives as "
    "TMR does (captions' similarity score (1 + cos) / 2 > 0.8); E's alignment term is that smooth-L1 at 1e-5 (it was "
    "an MSE). B, D and E from before then are not these variants.",
)

TABLE7 = TableSpec(
    name="table7",
    title="Table 7: L_align's gradient share λ and L_sr's temperature τ",
    claim="A small gradient share to E_M (λ = 0.01) with τ = 1 works best; λ = 1 (symmetric) or 0 (none) is worse.",
    rows=tuple(
        Row(f"λ={lam:g}, τ={tau:g}", dict(RAM_SAMPLER), train={"variant": "ours", "loss": {"align_lambda": lam, "sr_tau": tau}}, params={"λ": lam, "τ": tau})
        for lam, tau in ((1, 1), (0.1, 1), (0.01, 1), (0, 1), (0.01, 2), (0.01, 0.5))
    ),
    param_columns=("λ", "τ"),
    paper_best="λ=0.01, τ=1",
)

TABLE8 = TableSpec(
    name="table8",
    title="Table 8: loss weights w_align and w_sr",
    claim="Results change little while both weights are non-zero; dropping either hurts.",
    rows=tuple(
        Row(f"w_align={wa:g}, w_sr={ws:g}", dict(RAM_SAMPLER), train={"variant": "ours", "loss": {"w_align": wa, "w_sr": ws}}, params={"w_align": wa, "w_sr": ws})
        for wa, ws in ((1, 1), (1, 0.5), (1, 0.1), (1, 0), (0.5, 1), (0.1, 1), (0, 1))
    ),
    param_columns=("w_align", "w_sr"),
    paper_best="w_align=1, w_sr=0.5",
)

TABLE9 = TableSpec(
    name="table9",
    title="Table 9: latent size d_E",
    claim="d_E = 256 (HumanML3D) is a good trade-off; much smaller or larger latents are not better.",
    rows=tuple(Row(f"d_E={d}", dict(RAM_SAMPLER), train={"variant": "ours", "model": {"latent_dim": d}}, params={"d_E": d}) for d in (128, 192, 256, 384, 512)),
    param_columns=("d_E",),
    paper_best="d_E=256",
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (TABLE3, TABLE4, TABLE5, TABLE6, TABLE7, TABLE8, TABLE9)}


def get_table(name: str) -> TableSpec:
    """The experiment called `name`, or a ValueError listing the known ones."""
    try:
        return TABLES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(TABLES)}") from None
