"""The T2M evaluator of Guo et al. (2022): a text encoder and a motion encoder in one space.

Motion side: the features without the 4 foot contacts -> `MovementConvEncoder` (two
Conv1d blocks, kernel 4 stride 2, so one latent per 4 frames) -> `MotionEncoderBiGRUCo`
(bidirectional GRU over length // 4 latents, last hidden states -> 512). The official
loader zero-pads every normalised motion to 196 frames and convolves the whole padded
tensor; `T2MEvaluator.embed_motion` gives the same embedding for any batch (see there).
Text side: word vectors + a linear map of the 15-way POS one-hot -> `TextEncoderBiGRUCo`
(bidirectional GRU over the tokens -> 512).

The submodule and parameter names follow the official release, so its checkpoint
(`text_mot_match/model/finest.tar`, keys movement_encoder / text_encoder /
motion_encoder) loads strictly into this module. The evaluator carries its own
normalisation stats (`eval_mean` / `eval_std`); motions are handed to it as raw
(de-normalised) features and normalised here.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..config_utils import dataclass_from_dict
from ..io_utils import atomic_path, write_text
from .word_vectors import MAX_TEXT_LEN, POS_CLASSES, WordVectors

OFFICIAL_KEYS = ("movement_encoder", "text_encoder", "motion_encoder")
CONFIG_NAME = "evaluator.json"
WEIGHTS_NAME = "evaluator.safetensors"
# The official loaders (HumanML3D and KIT-ML) zero-pad every normalised motion to this many frames.
OFFICIAL_PADDED_FRAMES = 196
# Bumped whenever embed_motion's result changes for some input, so that saved protocol results
# computed with an older embedding are not reused (evaluation.protocol puts it in its fingerprint).
# 2: a motion filling all 196 frames no longer sees an appended zero unit (issue 18).
MOTION_EMBEDDING_REVISION = 2


@dataclass
class EvaluatorConfig:
    """Sizes of the evaluator; the defaults are the official HumanML3D evaluator's."""

    dim_pose: int = 263  # feature size of the dataset (the encoder reads dim_pose - 4)
    word_dim: int = 300  # word vector size (GloVe 300; the text model's embedding size offline)
    movement_hidden: int = 512
    movement_latent: int = 512
    motion_hidden: int = 1024
    text_hidden: int = 512
    embed_dim: int = 512
    unit_length: int = 4  # frames per movement latent (two stride-2 convolutions)
    max_text_len: int = MAX_TEXT_LEN

    @classmethod
    def small(cls, dim_pose: int = 263, word_dim: int = 384) -> EvaluatorConfig:
        """A smaller evaluator of the same design that trains in minutes on a few CPU cores."""
        # 128 wide: on one CPU thread a training step takes ~0.2 s (256 wide: ~2.7 s, the
        # GRU backward dominates).
        return cls(
            dim_pose=dim_pose, word_dim=word_dim, movement_hidden=128, movement_latent=128,
            motion_hidden=128, text_hidden=128, embed_dim=128,
        )  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> EvaluatorConfig:
        """Build from a dict, refusing unknown keys with a clear message."""
        return dataclass_from_dict(cls, d, "evaluator config")


class MovementConvEncoder(nn.Module):
    """(B, T, D-4) features -> (B, T // 4, latent): two Conv1d(k4, s2, p1) blocks and a Linear."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv1d(input_size, hidden_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden_size, output_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
        )
        self.out_net = nn.Linear(output_size, output_size)

    def forward(self, x: Tensor, ends: Tensor | None = None) -> Tensor:
        """(B, T, D-4) -> (B, T // 4, latent) movement latents.

        `ends` (B,) frame counts, even: where each motion's zero-padded tensor ends when that
        is before T. The second convolution then reads its own zero padding from the first
        block's column ends // 2 on, exactly as if the tensor were cut there (the first block's
        output on zero frames is not zero: it has a bias). None: every tensor ends at T.
        """
        h = self.main[:3](x.transpose(1, 2))  # (B, hidden, T//2); column j reads frames 2j-1 .. 2j+2
        if ends is not None:
            cols = torch.arange(h.shape[-1], device=h.device)  # (T//2,)
            inside = cols[None, :] < (ends.to(h.device) // 2)[:, None]  # (B, T//2)
            h = h * inside[:, None, :].to(h.dtype)
        h = self.main[3:](h).transpose(1, 2)  # (B, T//4, latent); latent u reads frames 4u-3 .. 4u+6
        return self.out_net(h)


class _BiGRUHead(nn.Module):
    """Linear -> bidirectional GRU (learned initial state) -> last states of both directions -> MLP."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.input_emb = nn.Linear(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True, bidirectional=True)
        self.output_net = nn.Sequential(
            nn.Linear(hidden_size * 2, hidden_size),
            nn.LayerNorm(hidden_size),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden_size, output_size),
        )
        self.hidden = nn.Parameter(torch.randn(2, 1, hidden_size))

    def _encode(self, x: Tensor, lengths: Tensor) -> Tensor:
        emb = self.input_emb(x)  # (B, L, H)
        h0 = self.hidden.expand(-1, x.shape[0], -1).contiguous()  # (2, B, H)
        packed = pack_padded_sequence(emb, lengths.detach().cpu().long(), batch_first=True, enforce_sorted=False)
        _, last = self.gru(packed, h0)  # last: (2, B, H), already in input order
        return self.output_net(torch.cat([last[0], last[1]], dim=-1))  # (B, out)


class MotionEncoderBiGRUCo(_BiGRUHead):
    """(B, T//4, latent) movement latents and their counts -> (B, embed)."""

    def forward(self, movements: Tensor, lengths: Tensor) -> Tensor:
        return self._encode(movements, lengths)


class TextEncoderBiGRUCo(_BiGRUHead):
    """(B, L, word_dim) word vectors + (B, L, 15) POS one-hots and lengths -> (B, embed)."""

    def __init__(self, word_size: int, pos_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__(word_size, hidden_size, output_size)
        self.pos_emb = nn.Linear(pos_size, word_size)

    def forward(self, word_embs: Tensor, pos_onehot: Tensor, lengths: Tensor) -> Tensor:
        return self._encode(word_embs + self.pos_emb(pos_onehot), lengths)


class T2MEvaluator(nn.Module):
    """The evaluator: embeds raw motion features and `word/POS` captions into one space."""

    def __init__(
        self,
        config: EvaluatorConfig,
        mean: np.ndarray | Tensor,
        std: np.ndarray | Tensor,
        word_vectors: WordVectors | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        c = config
        self.movement_encoder = MovementConvEncoder(c.dim_pose - 4, c.movement_hidden, c.movement_latent)
        self.motion_encoder = MotionEncoderBiGRUCo(c.movement_latent, c.motion_hidden, c.embed_dim)
        self.text_encoder = TextEncoderBiGRUCo(c.word_dim, len(POS_CLASSES), c.text_hidden, c.embed_dim)
        mean_t = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std_t = torch.as_tensor(np.asarray(std, dtype=np.float32))
        if mean_t.shape != (c.dim_pose,) or std_t.shape != (c.dim_pose,):
            raise ValueError(
                f"evaluator stats must be ({c.dim_pose},) like its features, got mean {tuple(mean_t.shape)}, "
                f"std {tuple(std_t.shape)}"
            )
        self.register_buffer("eval_mean", mean_t)
        self.register_buffer("eval_std", std_t.clamp_min(1e-8))
        if word_vectors is not None and word_vectors.dim != c.word_dim:
            raise ValueError(f"word vectors have {word_vectors.dim} dims, the evaluator expects {c.word_dim}")
        self.word_vectors = word_vectors

    @property
    def device(self) -> torch.device:
        return self.eval_mean.device

    # --- embeddings -----------------------------------------------------------------

    def normalize(self, raw: Tensor) -> Tensor:
        """(..., D) raw features -> the evaluator's normalisation."""
        return (raw - self.eval_mean) / self.eval_std

    def embed_motion(self, motion: Tensor, lengths: Tensor, normalized: bool = False) -> Tensor:
        """(B, T, D) features (raw unless `normalized`) with (B,) frame counts -> (B, embed).

        Lengths are floored to whole units of 4 frames as in the protocol, and frames beyond
        them are ignored. Each motion gets the official embedding: that of the motion
        zero-padded to 196 frames (`OFFICIAL_PADDED_FRAMES`), both convolutions run over the
        whole padded tensor, and the GRU reading its first length // 4 latents. It does not
        depend on the other motions of the batch. A motion longer than 196 frames (never in
        the protocol, which crops to 196) is treated as padded to its own length.
        """
        if motion.shape[-1] != self.config.dim_pose:
            raise ValueError(f"motion has {motion.shape[-1]} features, the evaluator expects {self.config.dim_pose}")
        x = motion.to(self.device, torch.float32)
        x = x if normalized else self.normalize(x)
        unit = self.config.unit_length
        units = torch.as_tensor(lengths).to(torch.long).cpu() // unit  # (B,)
        if int(units.min()) < 1:
            raise ValueError(f"motions need at least {unit} frames for the evaluator")
        frames = (units * unit).to(x.device)  # (B,) whole-unit lengths
        t = int(frames.max())
        x = x[:, :t, :-4]  # drop the 4 foot contacts -> (B, t, D-4)
        valid = torch.arange(t, device=x.device)[None, :] < frames[:, None]  # (B, t)
        # The last latent a motion's GRU reads (unit u = frames/4 - 1) sees frames up to
        # frames + 2. In the official tensor those are zero frames when the motion is shorter
        # than 196, so one appended zero unit provides them; a motion filling all 196 frames
        # has nothing after them but the convolutions' own padding, which `ends` reproduces.
        x = torch.nn.functional.pad(x * valid[..., None], (0, 0, 0, unit))  # (B, t + unit, D-4)
        ends = frames.clamp_min(OFFICIAL_PADDED_FRAMES)  # (B,) where each official tensor ends
        movements = self.movement_encoder(x, ends)  # (B, t/unit + 1, latent)
        return self.motion_encoder(movements, units)

    def embed_text(self, word_embs: Tensor, pos_onehot: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, word_dim), (B, L, 15), (B,) -> (B, embed)."""
        dev = self.device
        return self.text_encoder(word_embs.to(dev, torch.float32), pos_onehot.to(dev, torch.float32), lengths)

    def encode_tokens(self, token_lists: Sequence[Sequence[str]]) -> tuple[Tensor, Tensor, Tensor]:
        """Captions as `word/POS` token lists -> word vectors (B, L, W), POS (B, L, 15), lengths (B,)."""
        if self.word_vectors is None:
            raise ValueError("this evaluator has no word vectors; load it with its GloVe files or vocabulary")
        out = [self.word_vectors.encode(t, self.config.max_text_len) for t in token_lists]
        words = torch.from_numpy(np.stack([o[0] for o in out]))
        pos = torch.from_numpy(np.stack([o[1] for o in out]))
        lengths = torch.tensor([o[2] for o in out], dtype=torch.long)
        return words, pos, lengths

    def embed_captions(self, token_lists: Sequence[Sequence[str]]) -> Tensor:
        """Captions as `word/POS` token lists -> (B, embed)."""
        return self.embed_text(*self.encode_tokens(token_lists))

    # --- our own format -------------------------------------------------------------

    def save_pretrained(self, folder: str | os.PathLike) -> None:
        """Write evaluator.json, evaluator.safetensors (weights + stats) and the word vectors."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        with atomic_path(folder / WEIGHTS_NAME) as tmp:
            save_file(state, str(tmp))
        if self.word_vectors is not None:
            self.word_vectors.save(folder)
        write_text(folder / CONFIG_NAME, json.dumps(asdict(self.config), indent=2))

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, map_location: str | torch.device = "cpu") -> T2MEvaluator:
        """Load an evaluator from a folder: ours (evaluator.json) or the official release's layout.

        Official layout (any of these under `path`): `finest.tar`, `model/finest.tar` or
        `text_mot_match/model/finest.tar`; the GloVe files `our_vab_*` in `path` or
        `path/glove`; `eval_mean.npy`/`eval_std.npy` (or `meta/mean.npy`, `meta/std.npy`).
        """
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"evaluator not found: {p}")
        if p.is_dir() and (p / CONFIG_NAME).is_file():
            return cls._load_ours(p, map_location)
        return load_official(p, map_location=map_location)

    @classmethod
    def _load_ours(cls, folder: Path, map_location: str | torch.device) -> T2MEvaluator:
        config = EvaluatorConfig.from_dict(json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8")))
        weights = folder / WEIGHTS_NAME
        if not weights.is_file():
            raise FileNotFoundError(f"evaluator weights missing: {weights}")
        state = load_file(str(weights))
        for key in ("eval_mean", "eval_std"):
            if key not in state:
                raise ValueError(f"{weights} has no {key!r}: not an evaluator checkpoint")
        words = WordVectors.load(folder) if (folder / "vocab.json").exists() else None
        model = cls(config, state["eval_mean"].numpy(), state["eval_std"].numpy(), words)
        _load_strict(model, state, weights)
        return model.to(map_location).eval()


def _load_strict(module: nn.Module, state: dict[str, Tensor], source: Path) -> None:
    """load_state_dict(strict=True), turning a mismatch into a one-line ValueError."""
    missing, unexpected = [], []
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise ValueError(f"{source} does not match the evaluator: missing {missing[:5]}, unexpected {unexpected[:5]}")
    bad = [f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}" for k, v in own.items() if state[k].shape != v.shape]
    if bad:
        raise ValueError(f"{source} does not match the evaluator: {'; '.join(bad[:3])}")
    module.load_state_dict(state, strict=True)


# --- the official release ---------------------------------------------------------------


def read_official_checkpoint(path: str | os.PathLike) -> dict[str, dict[str, Tensor]]:
    """The three state dicts of an official `finest.tar`, read with torch.load(weights_only=True)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"evaluator checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{p} holds more than weights (refused by the weights-only loader): {first}") from None
    except (RuntimeError, EOFError) as exc:
        raise ValueError(f"{p} is not a readable torch checkpoint: {exc}") from None
    if not isinstance(ckpt, dict):
        raise ValueError(f"{p} is not an evaluator checkpoint: expected a dict, got {type(ckpt).__name__}")
    missing = [k for k in OFFICIAL_KEYS if not isinstance(ckpt.get(k), dict)]
    if missing:
        raise ValueError(f"{p} is missing the evaluator keys {missing} (has {sorted(map(str, ckpt))})")
    return {k: ckpt[k] for k in OFFICIAL_KEYS}


def config_from_official(states: dict[str, dict[str, Tensor]]) -> EvaluatorConfig:
    """Infer the evaluator's sizes from the shapes of an official checkpoint."""
    try:
        mv, mo, tx = states["movement_encoder"], states["motion_encoder"], states["text_encoder"]
        return EvaluatorConfig(
            dim_pose=mv["main.0.weight"].shape[1] + 4,
            movement_hidden=mv["main.0.weight"].shape[0],
            movement_latent=mv["main.3.weight"].shape[0],
            motion_hidden=mo["input_emb.weight"].shape[0],
            embed_dim=mo["output_net.3.weight"].shape[0],
            word_dim=tx["pos_emb.weight"].shape[0],
            text_hidden=tx["input_emb.weight"].shape[0],
        )
    except KeyError as exc:
        raise ValueError(f"evaluator checkpoint lacks the parameter {exc.args[0]!r}") from None


def _first_existing(candidates: list[Path]) -> Path | None:
    return next((c for c in candidates if c.is_file()), None)


def load_official(
    path: str | os.PathLike,
    glove_dir: str | os.PathLike | None = None,
    mean_path: str | os.PathLike | None = None,
    std_path: str | os.PathLike | None = None,
    map_location: str | torch.device = "cpu",
) -> T2MEvaluator:
    """The official evaluator from a checkpoint file or a folder in the release's layout."""
    p = Path(path)
    if p.is_file():
        ckpt, root = p, p.parent
    else:
        ckpt = _first_existing([p / "finest.tar", p / "model" / "finest.tar", p / "text_mot_match" / "model" / "finest.tar"])
        root = p
        if ckpt is None:
            raise FileNotFoundError(
                f"no evaluator in {p}: expected {CONFIG_NAME} (ramotion) or finest.tar, model/finest.tar, "
                "text_mot_match/model/finest.tar (official release)"
            )
    states = read_official_checkpoint(ckpt)
    config = config_from_official(states)
    search = [root, root / "glove", root.parent, root.parent / "glove", root.parent.parent]
    if mean_path is None or std_path is None:
        pairs = [(d / "eval_mean.npy", d / "eval_std.npy") for d in search] + [
            (d / "meta" / "mean.npy", d / "meta" / "std.npy") for d in search
        ]
        found = next(((m, s) for m, s in pairs if m.is_file() and s.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"evaluator stats eval_mean.npy/eval_std.npy not found near {ckpt}")
        mean_path, std_path = found
    mean = np.load(mean_path, allow_pickle=False)
    std = np.load(std_path, allow_pickle=False)
    if glove_dir is None:
        glove_dir = next((d for d in search if (d / "our_vab_data.npy").is_file()), None)
        if glove_dir is None:
            raise FileNotFoundError(f"GloVe files our_vab_data.npy/_words.pkl/_idx.pkl not found near {ckpt}")
    words = WordVectors.from_glove(glove_dir)
    model = T2MEvaluator(config, mean, std, words)
    for key in OFFICIAL_KEYS:
        _load_strict(getattr(model, key), states[key], ckpt)
    return model.to(map_location).eval()
