"""The bundled default model's card: a Markdown template filled with the measured numbers.

`render_model_card(info)` takes the dict `build_default_model` collects (data, config,
wall time, sweep, test metrics, semantic accuracy, the rebuild command) and returns the
card; every number in it comes from that dict, none is written by hand.
"""

from __future__ import annotations

import json
from string import Template
from typing import Any

from ..evaluation.mocap_suite import style_table
from ..evaluation.realism import format_number, ratio_table
from ..evaluation.report import markdown_table, semantic_table
from ..train.length import format_length_table
from .report import semantic_cell

MODEL_CARD_NAME = "MODEL_CARD.md"
FOUND_FINISHED = "  # found finished"  # marks a build step skipped because its output was already there

TEMPLATE = Template("""\
# ramotion default model

The model `ramotion generate` uses when no `--model` is given: a RAM model (spec §3-§6)
trained by `ramotion train` on $data_short. It exists so that text -> motion works offline
right after `pip install`; it is **not** the paper's HumanML3D model.

**Licence of the weights: $licence**

| | |
|---|---|
| built | $built with ramotion $version |
| data | $data_row |
| held-out compositions | $held_row |
| preset | `$preset` ($variant objective) with: $overrides |
| architecture | E_T/E_M: $enc_layers layers of $latent_dim; D: $layers layers of $dim; $params parameters |
| text model | $text_model (frozen) |
| training | $steps steps of batch $batch_size, $train_minutes min wall time on $hardware |
| weights | $weights_mb MB (limit $limit_mb MB) |
| sampling | 20 steps, $reg_text, **w_r = $w_reg, w_c = $w_cfg** (chosen on the validation split, below; stored in config.json under `extra.sampler`) |

$data_section
## Guidance weights, chosen on the validation split

Each (w_r, w_c) was evaluated on the **validation** split ($val_protocol); the rule: $rule.
The test split was not looked at.

$sweep_table

## Test split

$test_protocol. Evaluator: the project-trained T2M evaluator of `ramotion evaluator train`
on the same corpus (its numbers are not comparable with published ones, which use the
official evaluator on HumanML3D).

$test_table
$mocap_section$semantic_section$length_section
## Example prompts it handles

$examples_text

## What it cannot do

$limits

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
    """The validation sweep: one row per (w_r, w_c) with FID, R@1, semantic accuracy and realism ratios."""
    realism = any(r.get("realism") for r in rows)
    raw = any((r.get("realism") or {}).get("raw_ratios") for r in rows)
    extra = (" accel. / real | skating / real |" + (" raw accel. / real | raw skating / real |" if raw else "")) if realism else ""
    width = (2 + 2 * raw) if realism else 0
    lines = ["| w_r | w_c | FID ↓ | R@1 ↑ | semantic acc. ↑ |" + extra + " |", "|---|---|---|---|---|" + "---|" * width + "---|"]
    for r in rows:
        m = r["metrics"]
        pick = "**chosen**" if (r["w_reg"], r["w_cfg"]) == (chosen["w_reg"], chosen["w_cfg"]) else ""
        sem = semantic_cell((r.get("semantic") or {}).get("overall"))
        cells = ""
        if realism:
            ratios = (r.get("realism") or {}).get("ratios") or {}
            cells = f" {format_number(ratios.get('acceleration'), 3)} | {format_number(ratios.get('skating'), 3)} |"
            if raw:
                raws = (r.get("realism") or {}).get("raw_ratios") or {}
                cells += f" {format_number(raws.get('acceleration'), 3)} | {format_number(raws.get('skating'), 3)} |"
        lines.append(f"| {_fmt(r['w_reg'])} | {_fmt(r['w_cfg'])} | {m['fid']['mean']:.3f}±{m['fid']['ci95']:.3f} | {m['r_top1']['mean']:.3f}±{m['r_top1']['ci95']:.3f} | {sem} |{cells} {pick} |")
    return "\n".join(lines)


def examples_text(examples: list[dict[str, Any]], rule: str) -> str:
    """The validated example prompts (the web page shows them), or a sentence saying there are none."""
    if not examples:
        return "None validated (no tried prompt passed on every seed)."
    lines = [f"Chosen as {rule}; `ramotion serve` offers them as examples.", ""]
    lines += [f"- \"{e['prompt']}\" ({', '.join(e['actions'])}; {e['seconds']:.1f} s)" for e in examples]
    return "\n".join(lines)


def realism_table(realism: dict[str, Any]) -> str:
    """Realism metrics of each model beside the real motions, with ratios."""
    models = {k: v["metrics"] for k, v in realism["models"].items()}
    return ratio_table(models, realism["real"])


def style_section(style: dict[str, Any]) -> str:
    """Per-style real vs generated means and Spearman's rho, for walking and waving."""
    out = []
    for action, block in style.items():
        if not block.get("styles"):
            continue
        names = [k for k in next(iter(block["styles"].values())) if k not in ("real_clips", "frames", "prompts", "real")]
        what = "walking speed (m/s) and stride (m)" if action == "walk" else "right wrist's vertical range (m)"
        out += [f"**{action}**: {what} per Bandai-Namco style, real clips beside generated motions:", "", style_table(block, names), ""]
    return "\n".join(out)


def _mocap_section(info: dict[str, Any]) -> str:
    mocap = info.get("mocap") or {}
    if not mocap:
        return ""
    parts = ["", "### Held-out (action, style) pairs", ""]
    if mocap.get("held_out"):
        parts += ["The test motions of the pairs never seen in training (with their mirror images), same protocol:", "", markdown_table(mocap["held_out"]), ""]
    else:
        parts += ["(none in this corpus)", ""]
    r = mocap["realism"]
    speed = "; ".join(f"{k} {v['s_per_sentence']:.2f} s" for k, v in r["models"].items())
    parts += [
        "## Realism against real motion",
        "",
        f"{r['prompts']} test prompts (the first caption of up to the build's per-action count of test motions per action, at "
        f"their own lengths, seed 0), against the {r['real_motions']} real test motions (`ramotion.evaluation.realism`; "
        "target: within 1.5x of real):",
        "",
        realism_table(r),
        "",
        *(_sampled_note(r) if r.get("real_sampled") else []),
        *(_cleanup_note(info["cleanup"]) if info.get("cleanup") else []),
        f"Generation time per sentence on {info['hardware']} (text model and all 20 steps included): {speed}.",
        "",
        "## Style steering",
        "",
        style_section(mocap.get("style") or {}),
    ]
    return "\n".join(parts) + "\n"


def _sampled_note(r: dict[str, Any]) -> list[str]:
    """The same metrics against the prompts' own real clips (same actions and lengths as the
    generated set), which the whole split's mix of actions can make look better or worse."""
    return [
        "Against the prompts' own real clips instead (the same actions and lengths as the generated set; "
        "lying down, for one, counts as floating when the feet are raised, in real clips as in generated ones):",
        "",
        ratio_table({k: v["metrics"] for k, v in r["models"].items()}, r["real_sampled"]),
        "",
    ]


def _cleanup_note(cleanup: dict[str, Any]) -> list[str]:
    """What "default model" and "default model, raw" mean in the realism table."""
    settings = ", ".join(f"{k}={v}" for k, v in cleanup.items())
    return [
        '"default model" is what users get: the samples after the foot cleanup saved with the model '
        f"(`ramotion.motion.cleanup`, config.json `extra.cleanup`: {settings}): a sub-frame Gaussian filter against "
        "jitter, one length per bone, the lowest joint on the floor, and feet held still while planted "
        '(two-bone IK, the hips lowered where a leg cannot reach). "default model, raw" is the same samples '
        "as the model makes them (`generate --no-cleanup`). The cleanup cannot make steps the model did not "
        "take: a foot that glides while low, as in its runs, is not planted and still counts as skating.",
        "",
    ]


def _semantic_section(info: dict[str, Any]) -> str:
    sem = info["semantic"]
    if not sem:
        return ""
    model_sem = sem.get("default model") or {}
    return (
        "\n### Semantic accuracy (procedural checker, test split)\n\n"
        "Each generated motion is checked against the ground-truth program of its caption by the\n"
        "corpus's geometric checker; \"held-out compositions\" are test motions whose action pair\n"
        "never occurred together in training. Pass rates with 95% Wilson intervals:\n"
        f"all actions {semantic_cell(model_sem.get('overall'))}, seen compositions {semantic_cell(model_sem.get('seen'))}, "
        f"held-out compositions {semantic_cell(model_sem.get('held_out'))}.\n\n" + semantic_table(sem) + "\n"
    )


def _length_section(info: dict[str, Any]) -> str:
    """The length predictor's test-split errors against the constant baselines (empty without one)."""
    report = info.get("length") or {}
    if not report.get("test_table"):
        return ""
    val = ", ".join(f"{p} {v:.1f}" for p, v in report["val"].items())
    return (
        "\n## Length predictor\n\n"
        "A prompt given without a length (`ramotion generate` without `--seconds`, `RAMPipeline` without seconds or frames,\n"
        "the web API without `seconds`) gets the one this predictor estimates from its text, as T2M and MoMask do: the frozen\n"
        f"text model's mean-pooled token states through a small MLP ({report['parameters']:,} parameters) over length bins of {report['settings']['unit']} frames, trained with cross-entropy on the\n"
        f"train split's captions and their (sub)motions' lengths (`ramotion length train`). The epoch ({report['epoch']}) and the reading\n"
        f"of its distribution (its **{report['point']}**; validation MAE in frames: {val}) were chosen on the validation split.\n"
        "Test split, each caption against its motion's real length, beside predicting the training lengths' mean\n"
        f"({report['train_mean']:.1f} frames) or median ({report['train_median']:.0f}) for every caption:\n\n" + format_length_table(report["test_table"]) + "\n"
    )


# The corpus decision of issue 16, measured once at equal steps (docs/results.md has the table).
WHY_REAL_ONLY = (
    "Why real capture only: the same preset trained for 8000 steps on this corpus plus the procedural one\n"
    "(`--corpus mixed`) had a lower FID on the seen test pairs and slid its feet less, but retrieved worse,\n"
    "did worse on the held-out pairs, jerked and hovered more, and lost style: the walking speed's rank\n"
    "correlation with the real styles fell from 0.82 to 0.46 and the wave amplitude's from 0.64 to 0.43\n"
    "(docs/results.md, \"Real capture only, or with the procedural corpus?\").\n\n"
)


def _data_fields(info: dict[str, Any]) -> dict[str, str]:
    """The data rows, the data section, the licence line and the limits, by corpus kind."""
    c = info["corpus"]
    splits = ", ".join(f"{k} {v}" for k, v in c["splits"].items())
    mocap = c.get("mocap")
    synth_row = f"`ramotion synth`: {c['motions']} procedural motions (seed {c['seed']}) + mirrors" if c.get("motions") else ""
    if not mocap:
        return {
            "data_short": "the project's procedural corpus",
            "licence": "MIT, like the code (trained on procedurally generated motion only).",
            "data_row": f"{synth_row}, {c['hours']:.2f} h; splits {splits}",
            "held_row": f"{c['held_out_pairs']} action pairs never seen together in training (their motions are in test)",
            "data_section": "",
            "limits": (
                f"- It knows only the corpus's {len(info['actions'])} actions ({', '.join(info['actions'])}), alone or in sequences of\n"
                "  up to three, performed by one stick-figure skeleton. Anything else is out of distribution.\n"
                f"- At most {_fmt(info['max_seconds'])} s of motion per prompt (HumanML3D skeleton, 20 fps).\n"
                "- It is small and was trained briefly on a CPU: expect jitter and foot sliding."
            ),
        }
    per_source = ", ".join(f"{k} {v}" for k, v in mocap["per_source"].items())
    data_row = f"real motion capture ({per_source} motions, {mocap['hours']:.2f} h) + mirrors"
    if synth_row:
        data_row += f", with {synth_row}"
    attribution = "\n".join(f"- **{k}**: {v}" for k, v in mocap["attribution"].items())
    non_commercial = "bandai-namco" in mocap["attribution"]
    licence = (
        "non-commercial use only (CC BY-NC 4.0), because the training data includes the Bandai-Namco "
        "Research Motion Dataset (CC BY-NC 4.0). The code stays MIT."
        if non_commercial
        else "as permissive as its data's terms below."
    )
    held = ", ".join(f"{a} × {s}" for _, a, s in mocap["held_out"])
    return {
        "data_short": "real optical motion capture (Bandai-Namco, HDM05, CMU), imported by `ramotion data build-mocap`",
        "licence": licence,
        "data_row": f"{data_row}; {c['hours']:.2f} h with mirrors; splits {splits}",
        "held_row": f"{len(mocap['held_out'])} (action, style) pairs never seen in training, with their mirror images: {held}",
        "data_section": (
            "## Data and attribution\n\n"
            "The corpus is `ramotion data build-mocap` of `../shared/data/mocap` (docs/mocap.md): captions from the\n"
            "sources' labels through a caption grammar, the 15 real HumanML3D captions of the CMU segments verbatim.\n\n"
            + attribution + "\n\n" + ("" if synth_row else WHY_REAL_ONLY)
        ),
        "limits": (
            "- It knows the corpus's actions: " + ", ".join(info["actions"]) + ".\n"
            "  Anything else (sitting on a chair, climbing stairs, object interaction, swimming, cartwheels) is out\n"
            "  of distribution and comes out as the nearest known action.\n"
            "- Styles come from Bandai-Namco's labels; dataset 2's seven styles (active, elderly, exhausted, feminine,\n"
            "  masculine, normal, youthful) have about 40 takes per action, dataset 1's fifteen only one each.\n"
            "- Sequences (\"walks, then waves\") are rare in the data: most clips hold one action.\n"
            "- Captions in training come from a grammar; free-form prompts work best with its words.\n"
            f"- At most {_fmt(info['max_seconds'])} s of motion per prompt (HumanML3D skeleton, 20 fps).\n"
            "- It is small (trained on a CPU): the realism table above says how far it is from real motion."
        ),
    }


def render_model_card(info: dict[str, Any]) -> str:
    """Fill the template from a build's info dict (see `build_default_model`)."""
    fields = {
        "built": info["built"],
        "version": info["version"],
        **_data_fields(info),
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
        "mocap_section": _mocap_section(info),
        "semantic_section": _semantic_section(info),
        "length_section": _length_section(info),
        "examples_text": examples_text(info.get("examples") or [], info.get("example_rule", "")),
        "rebuild": info["rebuild"],
        "commands": "\n".join(c.removesuffix(FOUND_FINISHED) for c in info["commands"]),
    }
    return TEMPLATE.substitute(fields)
