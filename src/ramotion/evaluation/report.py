"""The paper-style results table, as Markdown and JSON, with the settings that produced it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..io_utils import write_text

# (key, column header); arrows say which direction is better (→: closer to real motions).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("r_top1", "R-Precision Top-1 ↑"),
    ("r_top2", "Top-2 ↑"),
    ("r_top3", "Top-3 ↑"),
    ("fid", "FID ↓"),
    ("mm_dist", "MM-Dist ↓"),
    ("diversity", "Diversity →"),
    ("multimodality", "MModality ↑"),
)


def format_cell(stat: dict[str, Any] | None, digits: int = 3) -> str:
    """{"mean", "ci95"} -> "0.511±0.003"; a missing metric -> "-"."""
    if not stat:
        return "-"
    return f"{stat['mean']:.{digits}f}±{stat['ci95']:.{digits}f}"


def markdown_table(rows: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Rows {name: {metric: {"mean", "ci95"}}} -> a Markdown table (MModality only when measured)."""
    cols = [c for c in COLUMNS if c[0] != "multimodality" or any("multimodality" in r for r in rows.values())]
    head = "| Method | " + " | ".join(h for _, h in cols) + " |"
    rule = "|---|" + "---|" * len(cols)
    body = ["| " + name + " | " + " | ".join(format_cell(r.get(k)) for k, _ in cols) + " |" for name, r in rows.items()]
    return "\n".join([head, rule, *body])


def semantic_table(results: dict[str, Any]) -> str:
    """Semantic accuracy -> a Markdown table with one column per row.

    `results` is one semantic_accuracy() result or {row name: result}.
    """
    by_row = {"accuracy": results} if "per_action" in results else results
    names = list(by_row)
    lines = ["| Action | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def cell(r: dict | None) -> str:
        return "-" if not r or not r.get("checked") else f"{r['accuracy']:.3f} ({r['passed']}/{r['checked']})"

    actions = sorted({a for r in by_row.values() for a in r.get("per_action", {})})
    for action in actions:
        lines.append(f"| {action} | " + " | ".join(cell(by_row[n]["per_action"].get(action)) for n in names) + " |")
    for key, label in (("overall", "**all actions**"), ("seen", "**seen compositions**"), ("held_out", "**held-out compositions**")):
        lines.append(f"| {label} | " + " | ".join(cell(by_row[n].get(key)) for n in names) + " |")
    return "\n".join(lines)


def write_report(
    out_dir: str | os.PathLike,
    rows: dict[str, dict[str, dict[str, Any]]],
    settings: dict[str, Any],
    semantic: dict[str, Any] | None = None,
    title: str = "Evaluation",
) -> tuple[Path, Path]:
    """Write results.md and results.json into `out_dir` (atomically); return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = [f"# {title}", "", markdown_table(rows), ""]
    reps = settings.get("protocol", {}).get("replications")
    if reps:
        md.append(f"Mean ± 95% interval (1.96·std/√{reps}) over {reps} replications.")
    wall = settings.get("seconds_per_replication")
    if wall:
        md.append(f"Wall time: {settings.get('wall_seconds', 0):.1f} s in all, {wall:.1f} s per replication.")
    if semantic:
        md += ["", "## Semantic accuracy (procedural checker)", "", semantic_table(semantic)]
    md += ["", "## Settings", "", "```json", json.dumps(settings, indent=2, default=str), "```", ""]
    md_path, json_path = out / "results.md", out / "results.json"
    write_text(md_path, "\n".join(md))
    write_text(json_path, json.dumps({"rows": rows, "semantic": semantic, "settings": settings}, indent=2, default=str))
    return md_path, json_path
