"""RAMConfig: the architecture of a RAM model, JSON-serialisable and saved beside its weights."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config_utils import dataclass_from_dict


@dataclass
class RAMConfig:
    """Sizes of E_T, E_M and D (spec §3) and the diffusion length (spec §4).

    Defaults are the paper's HumanML3D preset except `text_dim`/`text_model`, which
    default to the offline all-MiniLM-L6-v2 (384-d) instead of DistilBERT (768-d).
    """

    feature_dim: int = 263  # D: motion feature size (HumanML3D 263, KIT 251)
    latent_dim: int = 256  # d_E: the shared text/motion latent (KIT: 192)
    text_dim: int = 384  # hidden size of the frozen language model
    # E_T / E_M (TEMOS style)
    enc_layers: int = 6
    enc_heads: int = 4
    enc_ff: int = 1024
    dropout: float = 0.1
    # D (MDM)
    dim: int = 512
    layers: int = 8
    heads: int = 4
    ff: int = 1024
    max_frames: int = 196
    num_diffusion_steps: int = 50
    use_motion_encoder: bool = True  # False: the Table-4 baseline (E_T + D only)
    max_text_tokens: int = 512  # length of E_T's positional table (LM tokens, +1 for the special token)
    text_model: str = "all-MiniLM-L6-v2"  # which LM produced the token states E_T reads

    def __post_init__(self) -> None:
        for name in ("feature_dim", "latent_dim", "text_dim", "enc_layers", "enc_heads", "enc_ff", "dim", "layers", "heads", "ff", "max_frames", "num_diffusion_steps", "max_text_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"RAMConfig.{name} must be a positive integer, got {value!r}")
        if self.latent_dim % self.enc_heads:
            raise ValueError(f"RAMConfig.latent_dim ({self.latent_dim}) must be divisible by enc_heads ({self.enc_heads})")
        if self.dim % self.heads:
            raise ValueError(f"RAMConfig.dim ({self.dim}) must be divisible by heads ({self.heads})")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"RAMConfig.dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RAMConfig:
        """Build from a dict, refusing unknown keys with a clear message."""
        return dataclass_from_dict(cls, data, "RAM config")
