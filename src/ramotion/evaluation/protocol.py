"""The community evaluation protocol: replications of the test loader, metrics, 95% intervals.

Per replication r (all randomness derived from `seed` and r):
1. a reference pass over the whole shuffled test loader gives the real-motion
   embeddings that FID compares against;
2. an evaluation pass (another shuffle, captions and crops) gives (caption, length)
   pairs; every row is measured on the same pairs: the ground-truth row uses the
   pass's own real motions, a model row generates motions of the ground-truth
   lengths from the captions;
3. R-Precision (batches of 32), MM-Dist, FID, Diversity (300 pairs) and, with `mm`,
   MultiModality (100 captions x 30 generations, 10 pairs).
Results are mean ± 1.96·std/√n over the replications. With `out_dir`, each finished
replication is written to `out_dir/replications/<row>/<r>.json` and reused on rerun
(when its settings match), so an interrupted evaluation resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..io_utils import write_text
from . import metrics
from .data import EvalBatch, EvalDataset
from .evaluator import MOTION_EMBEDDING_REVISION, T2MEvaluator

# A generator: (captions, frame counts, one seed per caption) -> raw (de-normalised)
# features, either a (B, max(lengths), D) tensor/array or a list of (L_i, D) arrays.
Generator = Callable[[Sequence[str], Sequence[int], Sequence[int]], "Tensor | np.ndarray | list[np.ndarray]"]

GT_ROW = "ground truth"


@dataclass
class ProtocolConfig:
    """Settings of the protocol; the defaults are the community's."""

    replications: int = 20
    batch_size: int = 32
    diversity_times: int = 300
    mm: bool = False
    mm_captions: int = 100
    mm_generations: int = 30
    mm_times: int = 10
    max_samples: int | None = None  # evaluate on at most this many test pairs (None: the whole split)
    generation_batch: int = 64  # captions per generation call (sorted by length to save padding)
    seed: int = 0

    @classmethod
    def quick(cls, **overrides) -> ProtocolConfig:
        """A CI-sized protocol: 3 replications of 8 batches, Diversity over 100 pairs, small MM."""
        base = dict(replications=3, max_samples=256, diversity_times=100, mm_captions=8, mm_generations=10, mm_times=5)
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)

    def fingerprint(self) -> str:
        d = asdict(self)
        d.pop("replications")
        d.pop("generation_batch")
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "row"


def _to_padded(out: Tensor | np.ndarray | list, lengths: Sequence[int], dim: int) -> Tensor:
    """A generator's output -> (B, max(lengths), D) float32 CPU tensor."""
    if isinstance(out, list | tuple):
        padded = torch.zeros(len(out), max(lengths), dim)
        for i, m in enumerate(out):
            m = torch.as_tensor(np.asarray(m) if not isinstance(m, Tensor) else m).float().cpu()
            padded[i, : min(len(m), lengths[i])] = m[: lengths[i]]
        return padded
    t = torch.as_tensor(out).float().cpu()
    if t.ndim != 3 or t.shape[0] != len(lengths) or t.shape[1] < max(lengths):
        raise ValueError(f"generator returned shape {tuple(t.shape)} for {len(lengths)} motions of up to {max(lengths)} frames")
    return t[:, : max(lengths)]


class Protocol:
    """Runs the protocol for an evaluator on a dataset's test split."""

    def __init__(
        self,
        evaluator: T2MEvaluator,
        dataset: EvalDataset,
        config: ProtocolConfig | None = None,
        out_dir: str | os.PathLike | None = None,
        progress: bool = True,
        identity: dict | None = None,
    ) -> None:
        """`identity` (model, sampler settings, evaluator, ...) is part of the fingerprint that
        decides whether a replication saved in `out_dir` can be reused."""
        if dataset.feature_dim != evaluator.config.dim_pose:
            raise ValueError(
                f"the dataset's features have {dataset.feature_dim} dims but the evaluator expects "
                f"{evaluator.config.dim_pose}: use an evaluator trained for this dataset"
            )
        self.evaluator = evaluator.eval()
        self.dataset = dataset
        self.config = config or ProtocolConfig()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress = progress
        self.identity = identity or {}
        c = self.config
        n = dataset.num_batches(c.batch_size, c.max_samples) * c.batch_size
        if n == 0:
            raise ValueError(f"the test split has {len(dataset)} pairs: fewer than one batch of {c.batch_size}")
        if n <= c.diversity_times:
            raise ValueError(f"Diversity over {c.diversity_times} pairs needs more than {c.diversity_times} test pairs, have {n}")
        if c.mm and (c.mm_captions > n or c.mm_generations < c.mm_times):
            raise ValueError(f"MultiModality needs {c.mm_captions} captions (have {n}) and >= {c.mm_times} generations each")

    # --- embeddings -----------------------------------------------------------------

    @torch.no_grad()
    def _embed_motions(self, motions: Tensor, lengths: np.ndarray, chunk: int = 256) -> np.ndarray:
        out = []
        for s in range(0, len(lengths), chunk):
            ln = torch.as_tensor(lengths[s : s + chunk])
            out.append(self.evaluator.embed_motion(motions[s : s + chunk, : int(ln.max())], ln).double().cpu().numpy())
        return np.concatenate(out)

    @torch.no_grad()
    def _embed_texts(self, tokens: list[list[str]], chunk: int = 256) -> np.ndarray:
        out = [self.evaluator.embed_captions(tokens[s : s + chunk]).double().cpu().numpy() for s in range(0, len(tokens), chunk)]
        return np.concatenate(out)

    def _pass(self, seed: int, whole: bool = False) -> tuple[list[EvalBatch], Tensor, np.ndarray]:
        """One pass of the loader (at most max_samples pairs unless `whole`): batches, motions (N, T, D), lengths (N,)."""
        c = self.config
        batches = list(self.dataset.batches(seed, c.batch_size, None if whole else c.max_samples))
        lengths = np.concatenate([b.lengths for b in batches])
        motions = torch.zeros(len(lengths), int(lengths.max()), self.dataset.feature_dim)
        i = 0
        for b in batches:
            motions[i : i + len(b.lengths), : b.motions.shape[1]] = torch.from_numpy(b.motions)
            i += len(b.lengths)
        return batches, motions, lengths

    def generate(self, generator: Generator, captions: list[str], lengths: np.ndarray, seed: int, desc: str) -> Tensor:
        """All captions -> (N, max(lengths), D) raw motions, generated in length-sorted chunks.

        Sample i gets its own seed drawn from `seed`, so a motion does not depend on
        how the captions were chunked.
        """
        seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=len(lengths))
        order = np.argsort(-lengths, kind="stable")
        out = torch.zeros(len(lengths), int(lengths.max()), self.dataset.feature_dim)
        step = self.config.generation_batch
        chunks = range(0, len(order), step)
        for s in tqdm(chunks, desc=desc, leave=False, disable=not self.progress):
            idx = order[s : s + step]
            ln = [int(lengths[i]) for i in idx]
            gen = _to_padded(generator([captions[i] for i in idx], ln, [int(seeds[i]) for i in idx]), ln, self.dataset.feature_dim)
            if gen.shape[-1] != self.dataset.feature_dim:
                raise ValueError(f"generator returned {gen.shape[-1]} features, the dataset has {self.dataset.feature_dim}")
            out[idx, : gen.shape[1]] = gen
        return out

    # --- one replication ------------------------------------------------------------

    def replication(self, r: int, rows: dict[str, Generator | None]) -> dict[str, dict[str, float]]:
        """Metrics of every row for replication r (a row's generator None = ground truth)."""
        c = self.config
        results: dict[str, dict[str, float]] = {}
        todo = {name: gen for name, gen in rows.items() if self._load_rep(name, r) is None}
        for name in rows:
            if name not in todo:
                results[name] = self._load_rep(name, r)
        if not todo:
            return results
        seeds = self.replication_seeds(r)
        t0 = time.perf_counter()
        # The real-motion statistics always come from the whole split (as MDM's sample limit does).
        _, ref_motions, ref_lengths = self._pass(seeds["reference_pass"], whole=True)
        ref_emb = self._embed_motions(ref_motions, ref_lengths)
        batches, gt_motions, lengths = self._pass(seeds["evaluation_pass"])
        captions = [cap for b in batches for cap in b.captions]
        tokens = [tok for b in batches for tok in b.tokens]
        text_emb = self._embed_texts(tokens)
        shared_s = time.perf_counter() - t0
        for name, gen in todo.items():
            t1 = time.perf_counter()
            if gen is None:
                motions = gt_motions
            else:
                motions = self.generate(gen, captions, lengths, seeds["generation"], desc=f"{name} rep {r + 1}")
            motion_emb = self._embed_motions(motions, lengths)
            rng = np.random.default_rng(seeds["metrics"])
            top = metrics.r_precision(text_emb, motion_emb, c.batch_size)
            row = {
                "fid": metrics.fid(ref_emb, motion_emb),
                "r_top1": float(top[0]),
                "r_top2": float(top[1]),
                "r_top3": float(top[2]),
                "mm_dist": metrics.matching_distance(text_emb, motion_emb),
                "diversity": metrics.diversity(motion_emb, c.diversity_times, rng),
            }
            if c.mm and gen is not None:
                row["multimodality"] = self._multimodality(gen, captions, lengths, seeds["multimodality"], rng, name, r)
            row["seconds"] = time.perf_counter() - t1 + shared_s
            row["samples"] = int(len(lengths))
            self._save_rep(name, r, row)
            results[name] = row
        return results

    def replication_seeds(self, r: int) -> dict[str, int]:
        """The seeds of replication r: loader passes, generation (one seed per caption is drawn from it), metrics."""
        base = self.config.seed * 1_000_003 + r * 7919
        names = ("reference_pass", "evaluation_pass", "generation", "metrics", "multimodality")
        return {"base": base, **{n: base + i + 1 for i, n in enumerate(names)}}

    def _multimodality(self, gen: Generator, captions: list[str], lengths: np.ndarray, seed: int, rng, name: str, r: int) -> float:
        c = self.config
        pick = rng.choice(len(captions), c.mm_captions, replace=False)
        caps = [captions[i] for i in pick for _ in range(c.mm_generations)]
        lns = np.repeat(lengths[pick], c.mm_generations)
        motions = self.generate(gen, caps, lns, seed, desc=f"{name} MM rep {r + 1}")
        emb = self._embed_motions(motions, lns).reshape(c.mm_captions, c.mm_generations, -1)
        return metrics.multimodality(emb, c.mm_times, rng)

    # --- resumability ---------------------------------------------------------------

    def _fingerprint(self) -> str:
        """What a saved replication must match to be reused: the protocol, the identity and how
        motions are embedded (results saved before the embedding changed are recomputed)."""
        extra = json.dumps(self.identity, sort_keys=True, default=str)
        return hashlib.sha1(f"{self.config.fingerprint()}|{extra}|motion-embedding-{MOTION_EMBEDDING_REVISION}".encode()).hexdigest()[:16]

    def _rep_path(self, name: str, r: int) -> Path | None:
        return None if self.out_dir is None else self.out_dir / "replications" / _slug(name) / f"{r:03d}.json"

    def _load_rep(self, name: str, r: int) -> dict[str, float] | None:
        p = self._rep_path(name, r)
        if p is None or not p.is_file():
            return None
        try:
            saved = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None
        if saved.get("fingerprint") != self._fingerprint():
            return None
        return saved["metrics"]

    def _save_rep(self, name: str, r: int, row: dict[str, float]) -> None:
        p = self._rep_path(name, r)
        if p is None:
            return
        p.parent.mkdir(parents=True, exist_ok=True)
        write_text(p, json.dumps({"fingerprint": self._fingerprint(), "row": name, "replication": r, "metrics": row}, indent=1))

    # --- all replications -----------------------------------------------------------

    def run(self, rows: dict[str, Generator | None]) -> dict[str, dict]:
        """Every replication for every row -> {row: {metric: {"mean", "ci95", "values"}}}."""
        per_rep: dict[str, list[dict[str, float]]] = {name: [] for name in rows}
        for r in tqdm(range(self.config.replications), desc="replications", disable=not self.progress):
            for name, row in self.replication(r, rows).items():
                per_rep[name].append(row)
        return {name: summarize(reps) for name, reps in per_rep.items()}


def summarize(reps: list[dict[str, float]]) -> dict[str, dict]:
    """Per-replication metric dicts -> {metric: {"mean", "ci95", "values"}}."""
    out: dict[str, dict] = {}
    for key in reps[0]:
        values = [rep[key] for rep in reps if key in rep]
        mean, ci = metrics.mean_confidence(values)
        out[key] = {"mean": mean, "ci95": ci, "values": values}
    return out


def pipeline_generator(pipe, batch_size: int | None = None, **sampler: object) -> Generator:
    """A protocol generator from a `RAMPipeline`: frames = the ground-truth lengths, one seed per caption.

    `sampler` holds the pipeline's sampling keywords (steps, w_reg, w_cfg, reg_steps,
    reg_source, dtype).
    """

    def generate(captions: Sequence[str], lengths: Sequence[int], seeds: Sequence[int]) -> list[np.ndarray]:
        out = pipe(list(captions), frames=[int(n) for n in lengths], seed=[int(s) for s in seeds], batch_size=batch_size, **sampler)
        return out.features

    return generate
