"""The bundled default model's card: a Markdown template filled with the measured numbers.

`render_model_card(info)` takes the dict `build_default_model` collects (data, config,
wall time, sweep, test metrics, semantic accuracy, the rebuild command) and returns the
card; every number in it comes from that dict, none is written by hand.
"""

from __future__ import annotations

import json
from string import Template
from typing import Any

from ..evaluation.report import markdown_table, semantic_table
from .report import semantic_cell

MODEL_CARD_NAME = "MODEL_CARD.md"
FOUND_FINISHED = "  # found finished"  # marks a build step skipped because its output was already there

TEMPLATE = Template("""\
# ramotion default model

The model `ramotion generate` uses when no `--model` is given: a RAM model (spec §3-§6)
trained by `ramotion train` on the project's procedural corpus. It exists so that text ->
motion works offline right after `pip install`; it is **not** the paper's HumanML3D model.

| | |
|---|---|
| built | $built with ramotion $version |
| data | `ramotion synth`: $motions procedural motions (seed $corpus_seed) + mirrors, $hours h; splits $splits |
| held-out compositions | $held_pairs action pairs never seen together in training (their motions are in test) |
| preset | `$preset` ($variant objective) with: $overrides |
| architecture | E_T/E_M: $enc_layers layers of $latent_dim; D: $layers layers of $dim; $params parameters |
| text model | $text_model (frozen) |
| training | $steps steps of batch $batch_size, $train_minutes min wall time on $hardware |
| weights | $weights_mb MB (limit $limit_mb MB) |
| sampling | 20 steps, $reg_text, **w_r = $w_reg, w_c = $w_cfg** (chosen on the validation split, below; stored in config.json under `extra.sampler`) |

## Guidance weights, chosen on the validation split

Each (w_r, w_c) was evaluated on the **validation** split ($val_protocol); the rule: $rule.
The test split was not looked at.

$sweep_table

## Test split

$test_protocol. Evaluator: the project-trained T2M evaluator of `ramotion evaluator train`
(its numbers are not comparable with published ones, which use the official evaluator
on HumanML3D).

$test_table

### Semantic accuracy (procedural checker, test split)

Each generated motion is checked against the ground-truth program of its caption by the
corpus's geometric checker; "held-out compositions" are test motions whose action pair
never occurred together in training. Pass rates with 95% Wilson intervals:
all actions $sem_all, seen compositions $sem_seen, held-out compositions $sem_held.

$semantic_table

## Example prompts it handles

$examples_text

## What it cannot do

- It knows only the corpus's $num_actions actions ($actions), alone or in sequences of
  up to three, performed by one stick-figure skeleton. Anything else (sitting on a chair,
  dancing, climbing stairs, object interaction, styles, emotions) is out of distribution
  and comes out as the nearest known action or a blend of several.
- Captions in training come from templates; free-form prompts work best when they
  use the corpus's words ("walks forward", "waves with the left hand", "jumps", "turns left").
- At most $max_seconds s of motion per prompt (HumanML3D skeleton, 20 fps).
- It is small and was trained for $train_minutes min on a CPU: expect jitter and foot sliding;
  FID and R-Precision above are measured with an evaluator trained on the same corpus.

## Rebuild

```bash
$rebuild
```

The steps it ran (the `ramotion` commands; then, in Python, the validation sweep, the test
evaluation, `RAMPipeline.save_pretrained` and this card):

```bash
$commands
```
""")


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_table(rows: list[dict[str, Any]], chosen: dict[str, Any]) -> str:
    """The validation sweep: one row per (w_r, w_c) with FID, R@1 and semantic accuracy."""
    lines = ["| w_r | w_c | FID ↓ | R@1 ↑ | semantic acc. ↑ | |", "|---|---|---|---|---|---|"]
    for r in rows:
        m = r["metrics"]
        pick = "**chosen**" if (r["w_reg"], r["w_cfg"]) == (chosen["w_reg"], chosen["w_cfg"]) else ""
        sem = semantic_cell((r.get("semantic") or {}).get("overall"))
        lines.append(f"| {_fmt(r['w_reg'])} | {_fmt(r['w_cfg'])} | {m['fid']['mean']:.3f}±{m['fid']['ci95']:.3f} | {m['r_top1']['mean']:.3f}±{m['r_top1']['ci95']:.3f} | {sem} | {pick} |")
    return "\n".join(lines)


def examples_text(examples: list[dict[str, Any]], rule: str) -> str:
    """The validated example prompts (the web page shows them), or a sentence saying there are none."""
    if not examples:
        return "None validated (the corpus has no programs, or no tried prompt passed on every seed)."
    lines = [f"Chosen as {rule}; `ramotion serve` offers them as examples.", ""]
    lines += [f"- \"{e['prompt']}\" ({', '.join(e['actions'])}; {e['seconds']:.1f} s)" for e in examples]
    return "\n".join(lines)


def render_model_card(info: dict[str, Any]) -> str:
    """Fill the template from a build's info dict (see `build_default_model`)."""
    sem = info["semantic"]
    model_sem = sem.get("default model") or {}
    fields = {
        "built": info["built"],
        "version": info["version"],
        "motions": info["corpus"]["motions"],
        "corpus_seed": info["corpus"]["seed"],
        "hours": f"{info['corpus']['hours']:.2f}",
        "splits": ", ".join(f"{k} {v}" for k, v in info["corpus"]["splits"].items()),
        "held_pairs": info["corpus"]["held_out_pairs"],
        "preset": info["train"]["preset"],
        "variant": info["train"]["variant"],
        "overrides": json.dumps(info["train"]["overrides"]),
        "enc_layers": info["model"]["enc_layers"],
        "latent_dim": info["model"]["latent_dim"],
        "layers": info["model"]["layers"],
        "dim": info["model"]["dim"],
        "params": f"{info['params'] / 1e6:.2f} M",
        "text_model": info["model"]["text_model"],
        "steps": info["train"]["steps"],
        "batch_size": info["train"]["batch_size"],
        "train_minutes": f"{info['train_seconds'] / 60:.0f}" if info.get("train_seconds") is not None else "?",
        "hardware": info["hardware"],
        "weights_mb": f"{info['weights_mb']:.1f}",
        "limit_mb": _fmt(info["limit_mb"]),
        "reg_text": "REG on all steps but the first" if info["chosen"]["w_reg"] else "REG off",
        "w_reg": _fmt(info["chosen"]["w_reg"]),
        "w_cfg": _fmt(info["chosen"]["w_cfg"]),
        "val_protocol": info["val_protocol"],
        "rule": info["rule"],
        "sweep_table": sweep_table(info["sweep"], info["chosen"]),
        "test_protocol": info["test_protocol"],
        "test_table": markdown_table(info["test"]),
        "sem_all": semantic_cell(model_sem.get("overall")),
        "sem_seen": semantic_cell(model_sem.get("seen")),
        "sem_held": semantic_cell(model_sem.get("held_out")),
        "semantic_table": semantic_table(sem) if sem else "(no programs in the corpus)",
        "num_actions": len(info["actions"]),
        "actions": ", ".join(info["actions"]),
        "max_seconds": _fmt(info["max_seconds"]),
        "examples_text": examples_text(info.get("examples") or [], info.get("example_rule", "")),
        "rebuild": info["rebuild"],
        "commands": "\n".join(c.removesuffix(FOUND_FINISHED) for c in info["commands"]),
    }
    return TEMPLATE.substitute(fields)
