"""RAMConfig: the architecture of a RAM model, JSON-serialisable and saved beside its weights.

Also the small field checkers the training and loss configs share: every config field is
checked for its type and range when the config is built, so a wrong value in a JSON file
or a `--set` override is refused with one line naming the field, never a TypeError later.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..config_utils import dataclass_from_dict
from ..diffusion.gaussian import SCHEDULES


def _shown(value: Any) -> str:
    """A value for an error message, with its JSON type when that is the problem."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    kind = {str: "a string", list: "a list", tuple: "a list", dict: "an object"}.get(type(value))
    return f"{value!r}" + (f" ({kind})" if kind else "")


def check_int(what: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """`value` if it is an integer (not a bool) in [low, high]; else ValueError naming `what`."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and (low is None or value >= low) and (high is None or value <= high):
        return value
    if low is not None and high is not None:
        rule = f"an integer in [{low}, {high}]"
    elif low == 1:
        rule = "a positive integer"
    elif low is not None:
        rule = f"an integer >= {low}"
    else:
        rule = "an integer"
    raise ValueError(f"{what} must be {rule}, got {_shown(value)}")


def check_float(what: str, value: Any, low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False, rule: str | None = None) -> float:
    """`value` as a float if it is a finite number (int or float, not a bool) within the bounds
    (open or closed); else ValueError naming `what` and the rule."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)
        below = low is not None and (v <= low if low_open else v < low)
        above = high is not None and (v >= high if high_open else v > high)
        if not below and not above:
            return v
    if rule is None:
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else (f"< {high:g}" if high_open else f"<= {high:g}")
        rule = "a finite number" + (f" {lo}" if lo else "") + (" and" if lo and hi else "") + (f" {hi}" if hi else "")
    raise ValueError(f"{what} must be {rule}, got {_shown(value)}")


def check_bool(what: str, value: Any) -> bool:
    """`value` if it is true or false; else ValueError naming `what`."""
    if isinstance(value, bool):
        return value
    raise ValueError(f"{what} must be true or false, got {_shown(value)}")


def check_choice(what: str, value: Any, choices: Any) -> str:
    """`value` if it is a string among `choices`; else ValueError listing them."""
    if isinstance(value, str) and value in choices:
        return value
    raise ValueError(f"{what} must be one of {', '.join(choices)}; got {_shown(value)}")


# Upper bounds of the size fields, far above the paper's (263/256/768, 6 x 1024, 8 x 512,
# 196 frames, 50 steps): they exist to refuse a typo such as dim=10**9 with a message
# before anything is allocated, not to limit real models.
SIZE_LIMITS: dict[str, int] = {
    "feature_dim": 4096,
    "latent_dim": 8192,
    "text_dim": 16384,  # the hidden size of very large language models
    "enc_layers": 128,
    "enc_heads": 256,
    "enc_ff": 65536,
    "dim": 8192,
    "layers": 128,
    "heads": 256,
    "ff": 65536,
    "max_frames": 20000,  # over 16 minutes at 20 fps
    "num_diffusion_steps": 10000,
    "max_text_tokens": 32768,
}


@dataclass(frozen=True)
class EncoderConfig:
    """The sizes of one sequence encoder (E_T or E_M), cut from a RAMConfig by
    `RAMConfig.text_encoder_config()` / `motion_encoder_config()`."""

    in_dim: int  # input features per position (the LM's hidden size, or the motion's D)
    latent_dim: int = 256  # d_E
    layers: int = 6
    heads: int = 4
    ff: int = 1024
    dropout: float = 0.1
    max_len: int = 512  # longest input (positions; +1 for the special token)


@dataclass
class RAMConfig:
    """Sizes of E_T, E_M and D (spec §3) and the diffusion length (spec §4).

    Defaults are the paper's HumanML3D preset except `text_dim`/`text_model`, which
    default to the offline all-MiniLM-L6-v2 (384-d) instead of DistilBERT (768-d).
    Every size must be a positive integer at most SIZE_LIMITS[name].
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
    noise_schedule: str = "cosine"  # the diffusion's β schedule (ramotion.diffusion.SCHEDULES)
    use_motion_encoder: bool = True  # False: the Table-4 baseline (E_T + D only)
    max_text_tokens: int = 512  # length of E_T's positional table (LM tokens, +1 for the special token)
    text_model: str = "all-MiniLM-L6-v2"  # which LM produced the token states E_T reads

    def __post_init__(self) -> None:
        for name, high in SIZE_LIMITS.items():
            check_int(f"RAMConfig.{name}", getattr(self, name), 1, high)
        if self.latent_dim % self.enc_heads:
            raise ValueError(f"RAMConfig.latent_dim ({self.latent_dim}) must be divisible by enc_heads ({self.enc_heads})")
        if self.dim % self.heads:
            raise ValueError(f"RAMConfig.dim ({self.dim}) must be divisible by heads ({self.heads})")
        self.dropout = check_float("RAMConfig.dropout", self.dropout, 0.0, 1.0, high_open=True, rule="a number in [0, 1)")
        check_bool("RAMConfig.use_motion_encoder", self.use_motion_encoder)
        check_choice("RAMConfig.noise_schedule", self.noise_schedule, SCHEDULES)
        if not isinstance(self.text_model, str) or not self.text_model.strip():
            raise ValueError(f"RAMConfig.text_model must be a non-empty string (a language model name or path), got {_shown(self.text_model)}")

    def text_encoder_config(self) -> EncoderConfig:
        """E_T's sizes: over the frozen LM's token states."""
        return EncoderConfig(self.text_dim, self.latent_dim, self.enc_layers, self.enc_heads, self.enc_ff, self.dropout, self.max_text_tokens)

    def motion_encoder_config(self) -> EncoderConfig:
        """E_M's sizes: over normalised motion features."""
        return EncoderConfig(self.feature_dim, self.latent_dim, self.enc_layers, self.enc_heads, self.enc_ff, self.dropout, self.max_frames)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RAMConfig:
        """Build from a dict, refusing unknown keys with a clear message."""
        return dataclass_from_dict(cls, data, "RAM config")
