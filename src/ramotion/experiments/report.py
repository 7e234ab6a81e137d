"""An experiment's report: the Markdown table, the JSON behind it, a plot, and its results-page section.

Every number is a mean ± 95% interval: 1.96·std/√n over the protocol's replications for
the evaluator metrics and AITS, a Wilson score interval for semantic accuracy (a pass
rate over checked actions). The report also states the paper's claim and whether our
numbers agree with it, plainly, including when they do not.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..evaluation.protocol import GT_ROW
from ..evaluation.report import format_cell
from ..io_utils import atomic_path, write_text
from .provenance import hardware_line
from .tables import TABLES, TableSpec

# (metric key, header, direction): +1 higher is better, -1 lower is better, 0 closer to real.
METRICS: tuple[tuple[str, str, int], ...] = (
    ("r_top1", "R@1 ↑", 1),
    ("r_top2", "R@2 ↑", 1),
    ("r_top3", "R@3 ↑", 1),
    ("fid", "FID ↓", -1),
    ("mm_dist", "MM-Dist ↓", -1),
    ("diversity", "Diversity →", 0),
    ("multimodality", "MModality ↑", 1),
)
BEGIN = "<!-- experiment:{name}:begin -->"
END = "<!-- experiment:{name}:end -->"


def wilson_interval(passed: int, checked: int) -> tuple[float, float]:
    """95% Wilson score interval of a pass rate (scipy's binomtest)."""
    # Imported here: scipy.stats takes ~0.3 s to import, and this module is imported with
    # `ramotion experiment`'s table list, while only reports with semantic accuracy need it.
    from scipy.stats import binomtest

    if checked == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(passed), int(checked)).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def semantic_cell(stat: dict[str, Any] | None) -> str:
    """{"passed", "checked", "accuracy"} -> "0.812 [0.751, 0.861]"; nothing checked -> "-"."""
    if not stat or not stat.get("checked"):
        return "-"
    lo, hi = wilson_interval(stat["passed"], stat["checked"])
    return f"{stat['accuracy']:.3f} [{lo:.3f}, {hi:.3f}]"


def _param(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def markdown_table(spec: TableSpec, rows: dict[str, dict[str, Any]]) -> str:
    """The experiment's table: row, its settings, [AITS], the protocol metrics, [semantic accuracy]."""
    metric_cols = [m for m in METRICS if any(m[0] in r["metrics"] for r in rows.values())]
    has_aits = any("aits" in r for r in rows.values())
    has_sem = any("semantic" in r for r in rows.values())
    head = ["Method", *spec.param_columns]
    if has_aits:
        head.append("AITS (s) ↓")
    head += [h for _, h, _ in metric_cols]
    if has_sem:
        head += ["Semantic acc. ↑", "held-out compositions ↑"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        cells = [name, *(_param(r["params"].get(c, "")) for c in spec.param_columns)]
        if has_aits:
            cells.append(format_cell(r.get("aits"), digits=3))
        cells += [format_cell(r["metrics"].get(k)) for k, _, _ in metric_cols]
        if has_sem:
            sem = r.get("semantic") or {}
            cells += [semantic_cell(sem.get("overall")), semantic_cell(sem.get("held_out"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _interval(stat: dict[str, Any], semantic: bool) -> tuple[float, float, float]:
    """(value, low, high) of a metric cell."""
    if semantic:
        lo, hi = wilson_interval(stat["passed"], stat["checked"])
        return stat["accuracy"], lo, hi
    return stat["mean"], stat["mean"] - stat["ci95"], stat["mean"] + stat["ci95"]


def _row_stat(row: dict[str, Any], key: str, semantic: bool) -> dict[str, Any] | None:
    """A row's metric cell (protocol metric, or semantic accuracy group), None when not measured."""
    s = (row.get("semantic") or {}).get(key) if semantic else row["metrics"].get(key)
    return s if s and (not semantic or s.get("checked")) else None


def observations(spec: TableSpec, rows: dict[str, dict[str, Any]]) -> list[str]:
    """Plain sentences comparing the paper's best row with the best row we measured, per metric."""
    if spec.paper_best is None or spec.paper_best not in rows:
        return []
    models = {n: r for n, r in rows.items() if n != GT_ROW}
    checks = [("FID", "fid", -1, False), ("R-Precision top-1", "r_top1", 1, False)]
    if any("semantic" in r for r in models.values()):
        checks.append(("semantic accuracy", "overall", 1, True))
    out = []
    for label, key, direction, semantic in checks:
        valid = {n: _row_stat(r, key, semantic) for n, r in models.items() if _row_stat(r, key, semantic) is not None}
        if spec.paper_best not in valid:
            continue
        best = max(valid, key=lambda n: direction * _interval(valid[n], semantic)[0])
        v_paper, lo_p, hi_p = _interval(valid[spec.paper_best], semantic)
        v_best, lo_b, hi_b = _interval(valid[best], semantic)
        if v_paper == v_best:
            others = {n: v for n, v in valid.items() if n != spec.paper_best}
            if not others:
                out.append(f"{label}: {spec.paper_best!r} gets {v_paper:.3f} (no other row to compare).")
                continue
            runner = max(others, key=lambda n: direction * _interval(others[n], semantic)[0])
            v_run, lo_r, hi_r = _interval(others[runner], semantic)
            if lo_p <= hi_r and lo_r <= hi_p:
                out.append(
                    f"{label}: the paper's best row {spec.paper_best!r} is also our best ({v_paper:.3f}), but not clearly: its 95% interval "
                    f"overlaps that of the runner-up {runner!r} ({v_run:.3f}) — consistent with the paper, not a significant win."
                )
            else:
                out.append(f"{label}: the paper's best row {spec.paper_best!r} is also our best ({v_paper:.3f}), clearly ahead of {runner!r} ({v_run:.3f}) — agrees with the paper.")
        elif lo_p <= hi_b and lo_b <= hi_p:
            out.append(
                f"{label}: our best is {best!r} ({v_best:.3f}), the paper's best {spec.paper_best!r} gets {v_paper:.3f}; "
                "the 95% intervals overlap, so this run cannot tell them apart."
            )
        else:
            out.append(
                f"{label}: our best is {best!r} ({v_best:.3f}), clearly ahead of the paper's best {spec.paper_best!r} "
                f"({v_paper:.3f}; the 95% intervals do not overlap) — disagrees with the paper."
            )
    return out


def _training_line(settings: dict[str, Any]) -> list[str]:
    """'- **Training:** N steps per retrained row' when the experiment has retrained rows."""
    steps = sorted({s for s in (settings.get("training_steps") or {}).values() if s is not None})
    if not steps:
        return []
    return [f"- **Training:** {' / '.join(f'{s:,}' for s in steps)} steps per retrained row (one run each)."]


def section_markdown(spec: TableSpec, rows: dict[str, dict[str, Any]], settings: dict[str, Any], plot: str | None = None, heading: str = "##") -> str:
    """The table with everything needed to trust and regenerate it (command, hardware, wall time, seeds)."""
    proto = settings["protocol"]
    scale = settings["scale"]
    seeds = settings.get("replication_seeds") or []
    lines = [
        f"{heading} {spec.title}",
        "",
        f"Scale **{scale['name']}** on `{settings['dataset']}`. Regenerate with:",
        "",
        "```bash",
        settings["command"],
        "```",
        "",
        markdown_table(spec, rows),
        "",
        f"Mean ± 95% interval (1.96·std/√{proto['replications']}) over {proto['replications']} replications of the protocol "
        f"(batches of {proto['batch_size']}, at most {proto['max_samples'] or 'all'} test pairs, Diversity over {proto['diversity_times']} pairs); "
        "semantic accuracy: pass rate of the geometric checker with a 95% Wilson interval. "
        "Intervals cover evaluation randomness only: every retrained row is one training run (one seed).",
        "",
        f"- **Paper's claim:** {spec.claim}",
        *_note_line(spec),
        *[f"- **Ours:** {o}" for o in observations(spec, rows)],
        f"- **Hardware:** {hardware_line(settings['hardware'])}; device `{settings['device']}`, sampling dtype {settings['dtype']}.",
        f"- **Wall time:** {settings['wall_seconds'] / 60:.1f} min for this command"
        + (f" ({len(settings['trained_now'])} training run(s) trained or resumed in it)" if settings.get("trained_now") else " (all models reused)"),
        *_training_line(settings),
        f"- **Seeds:** training seed {settings['training_seed']}; protocol seed {proto['seed']} "
        f"(replication r uses loader/generation/metric seeds derived from it: r=0 → {seeds[0] if seeds else '-'}).",
        f"- **Evaluator:** `{settings['evaluator']}`" + (f" (its own test R@1 {settings['evaluator_report']['r_top1']:.3f})" if settings.get("evaluator_report") else ""),
    ]
    if plot:
        lines += ["", f"![{spec.name}]({plot})"]
    return "\n".join(lines) + "\n"


def plot_experiment(spec: TableSpec, rows: dict[str, dict[str, Any]], path: str | os.PathLike) -> Path:
    """Bars with 95% intervals for FID, R@1 (and semantic accuracy, AITS when measured), one bar per row."""
    # Imported here: matplotlib is slow to import (~0.6 s) and only plots need it; the
    # headless backend must be chosen before pyplot is first imported.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows)
    panels: list[tuple[str, list[float], list[list[float]]]] = []  # (title, values, [errors below, errors above])

    def add(title: str, getter: Any) -> None:
        values = [getter(rows[n]) for n in names]  # (value, low, high) or None per row
        if any(v is not None for v in values):
            mids = [v[0] if v else float("nan") for v in values]
            errs = [[v[0] - v[1] if v else 0.0 for v in values], [v[2] - v[0] if v else 0.0 for v in values]]
            panels.append((title, mids, errs))

    def stat(key: str) -> Any:
        def get(r: dict[str, Any]) -> tuple[float, float, float] | None:
            s = r["metrics"].get(key) if key != "aits" else r.get("aits")
            return _interval(s, semantic=False) if s else None

        return get

    def sem(r: dict[str, Any]) -> tuple[float, float, float] | None:
        s = (r.get("semantic") or {}).get("overall")
        return _interval(s, semantic=True) if s and s.get("checked") else None

    add("FID ↓", stat("fid"))
    add("R-Precision top-1 ↑", stat("r_top1"))
    add("semantic accuracy ↑", sem)
    add("AITS (s/sentence) ↓", stat("aits"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 0.45 * len(names) + 1.6), sharey=True, squeeze=False)
    colors = ["#d62728" if n == spec.paper_best else "#7f7f7f" if n == GT_ROW else "#1f77b4" for n in names]
    y = list(range(len(names)))
    for ax, (title, values, errors) in zip(axes[0], panels):
        ax.barh(y, values, xerr=errors, color=colors, capsize=3)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(y, names, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle(f"{spec.title}\n(red: the paper's best row; grey: ground truth; bars: 95% intervals)", fontsize=9)
    fig.tight_layout()
    out = Path(path)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return out


def update_results_page(page: str | os.PathLike, name: str, section: str) -> Path:
    """Replace the experiment's block (between its begin/end markers) in a results page, or append it."""
    path = Path(page)
    begin, end = BEGIN.format(name=name), END.format(name=name)
    block = f"{begin}\n{section.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Results\n"
    if begin in text and end in text and text.index(begin) < text.index(end):
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)
    return path


def write_experiment_report(
    out: Path, spec: TableSpec, rows: dict[str, dict[str, Any]], settings: dict[str, Any], results_page: str | os.PathLike | None = None
) -> tuple[Path, Path, Path]:
    """Write OUT/<name>.md, OUT/<name>.json and OUT/<name>.png (and the results page's section)."""
    png = plot_experiment(spec, rows, out / f"{spec.name}.png")
    md_path, json_path = out / f"{spec.name}.md", out / f"{spec.name}.json"
    write_text(md_path, section_markdown(spec, rows, settings, plot=png.name, heading="#"))
    payload = {
        "experiment": spec.name,
        "title": spec.title,
        "claim": spec.claim,
        "paper_best": spec.paper_best,
        "observations": observations(spec, rows),
        "rows": rows,
        "settings": settings,
    }
    write_text(json_path, json.dumps(payload, indent=2, default=str))
    if results_page is not None:
        page = Path(results_page)
        images = page.parent / "results"
        images.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, images / png.name)
        update_results_page(page, spec.name, section_markdown(spec, rows, settings, plot=f"results/{png.name}"))
    return md_path, json_path, png


def _note_line(spec: TableSpec) -> list[str]:
    """'- **Note:** ...' when the table has a note (how its rows differ from the paper's or from before)."""
    return [f"- **Note:** {spec.note}"] if spec.note else []


def pending_section(spec: TableSpec, command: str) -> str:
    """A results-page section for an experiment that has not been run yet."""
    note = "".join(f"{line}\n" for line in _note_line(spec))
    return f"## {spec.title}\n\n**Not yet run.** Regenerate with:\n\n```bash\n{command}\n```\n\n- **Paper's claim:** {spec.claim}\n{note}"


# The commands that regenerate docs/results.md at small scale on this machine (a 2-core CPU).
# They run on the procedural corpus and its model (the default model before the mocap one).
SMALL_WORK = "build/synth_model"
SMALL_DATA = f"{SMALL_WORK}/corpus"
SMALL_COMMON = f"--data {SMALL_DATA} --scale small --out build/experiments --evaluator {SMALL_WORK}/evaluator --results-page docs/results.md"
SMALL_PREREQUISITE = f"python scripts/build_default_model.py --corpus synth --work {SMALL_WORK} --dest {SMALL_WORK}/model"


def small_command(name: str) -> str:
    """The one command that regenerates an experiment's section of docs/results.md."""
    model = f" --model {SMALL_WORK}/model" if name in ("table3", "table5") else ""
    return f"ramotion experiment {name} {SMALL_COMMON}{model}"


def results_page_skeleton() -> str:
    """docs/results.md before any experiment ran: one pending section per table."""
    head = f"""# Results

The paper's experiments (spec §9), reproduced at small scale on the procedural corpus with
the project's own evaluator. Each section below is written by the command it shows
(`--results-page docs/results.md` replaces the section between its markers); numbers are
mean ± 95% interval over the protocol's replications, semantic accuracy with a Wilson
interval. Where our result disagrees with the paper's claim, the section says so.

Prerequisites (once; about 75 min on 2 CPU cores): the procedural corpus, its model and its
evaluator, all made by

```bash
{SMALL_PREREQUISITE}
```

(it writes the corpus to `{SMALL_DATA}`, the evaluator to `{SMALL_WORK}/evaluator` and the
model to `{SMALL_WORK}/model`, which the commands below reuse). `--scale paper` runs the
same experiments with the paper's settings on a GPU, e.g.
`ramotion experiment table4 --data data/humanml3d --scale paper --out experiments/h3d`.

## The default model

**Not yet built.** Its measured numbers (FID / R-Precision with intervals, semantic accuracy on
the test split and on held-out compositions) are in
[`src/ramotion/assets/default_model/MODEL_CARD.md`](../src/ramotion/assets/default_model/MODEL_CARD.md)
once `python scripts/build_default_model.py` has run.
"""
    blocks = []
    for name, spec in TABLES.items():
        section = pending_section(spec, small_command(name))
        blocks.append(f"{BEGIN.format(name=name)}\n{section.rstrip()}\n{END.format(name=name)}")
    return head + "\n" + "\n\n".join(blocks) + "\n"
