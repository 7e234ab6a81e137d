"""The loss-curve plot written beside a run (RUN/loss_curves.png) from RUN/metrics.jsonl."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..io_utils import atomic_path

TERM_ORDER = ("loss", "rec", "gen", "align", "sr", "latent_mse", "latent_smoothl1", "nce")


class MetricsFormatError(ValueError):
    """A line of RUN/metrics.jsonl that is not a metrics row; the message names file and line."""


def load_metrics(path: str | os.PathLike) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of a run's metrics file, and the torn last line if there is one (else None).

    Rows are appended one `json + newline` write at a time, so a crash mid-write can only
    leave a last line without its newline that does not parse: that line is returned
    apart (the caller drops it, and says so). Any other line that is not a JSON object
    with an integer "step" raises MetricsFormatError naming the file and the line.
    A missing file has no rows.
    """
    path = Path(path)
    if not path.is_file():
        return [], None
    lines = path.read_bytes().split(b"\n")  # the last item is b"" when the file ends with a newline
    rows: list[dict[str, Any]] = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
            problem = None if isinstance(row, dict) else "not a JSON object"
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            row, problem = None, f"{type(exc).__name__}: {exc}"
        if problem is None and (not isinstance(row.get("step"), int) or isinstance(row.get("step"), bool)):
            problem = f"no integer \"step\" (got {row.get('step')!r})"
        if problem is not None:
            if n == len(lines):  # the last line, without a newline: torn by a crash mid-write
                return rows, raw.decode("utf-8", errors="replace")
            raise MetricsFormatError(f"{path}:{n}: not a metrics row ({problem}); fix or delete this line")
        rows.append(row)
    return rows, None


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a run's metrics file (missing file: empty list); a torn last line (a crash
    mid-write) is left out, any other bad line raises MetricsFormatError (see load_metrics)."""
    return load_metrics(path)[0]


def plot_curves(metrics_path: str | os.PathLike, out_path: str | os.PathLike, title: str = "") -> Path | None:
    """One panel per loss term (train solid, validation dashed, log scale) and one for
    validation retrieval R@1/R@5 of text latents against motion latents. Written atomically."""
    # The object API with the Agg canvas: no pyplot, no GUI backend, no global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = read_metrics(metrics_path)
    train = [r for r in rows if r.get("split") == "train"]
    val = [r for r in rows if r.get("split") == "val"]
    if not train and not val:
        return None
    terms = [t for t in TERM_ORDER if any(t in r for r in train + val)]
    has_retrieval = any("R@1" in r for r in val)
    n = len(terms) + int(has_retrieval)
    cols = min(n, 4)
    nrows = (n + cols - 1) // cols
    fig = Figure(figsize=(4 * cols, 3 * nrows))
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax, term in zip(axes.flat, terms):
        for split, data, style in (("train", train, "-"), ("val", val, "--")):
            pts = [(r["step"], r[term]) for r in data if term in r]
            if pts:
                ax.plot(*zip(*pts), style, label=split, marker="o" if split == "val" else None, markersize=3)
        ax.set_title(term)
        ax.set_xlabel("step")
        if all(r[term] > 0 for r in train + val if term in r):
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if has_retrieval:
        ax = axes.flat[len(terms)]
        for key in ("R@1", "R@5"):
            pts = [(r["step"], r[key]) for r in val if key in r]
            ax.plot(*zip(*pts), marker="o", markersize=3, label=f"val {key}")
        for key, chance in (("R@1", "chance_R@1"), ("R@5", "chance_R@5")):
            if val and chance in val[-1]:
                ax.axhline(val[-1][chance], color="gray", linestyle=":", linewidth=1)
        ax.set_title("text→motion latent retrieval (batches of 32)")
        ax.set_xlabel("step")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.1, top=0.88 if title else 0.93, wspace=0.3, hspace=0.45)
    out = Path(out_path)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    return out
