"""RAM: text encoder E_T, motion encoder E_M and denoiser D in one module (spec §3)."""

from __future__ import annotations

from torch import Tensor, nn

from .config import RAMConfig
from .denoiser import Denoiser
from .encoders import SequenceEncoder


class RAM(nn.Module):
    """The trainable part of RAM (the language model is frozen and lives outside).

    `encode_text` maps LM token states to z_s, `encode_motion` maps normalised motion
    features to z_m, and `denoise` predicts x0 from (x_t, t, z); z = zeros is the
    unconditional condition.
    """

    def __init__(self, config: RAMConfig | None = None) -> None:
        super().__init__()
        self.config = config or RAMConfig()
        self.text_encoder = SequenceEncoder(self.config.text_encoder_config())
        self.motion_encoder = SequenceEncoder(self.config.motion_encoder_config()) if self.config.use_motion_encoder else None
        self.denoiser = Denoiser(self.config)

    def encode_text(self, tokens: Tensor, token_mask: Tensor) -> Tensor:
        """(B, L, text_dim) LM token states, (B, L) bool True=valid -> z_s (B, d_E)."""
        return self.text_encoder(tokens, token_mask)

    def encode_motion(self, x: Tensor, mask: Tensor) -> Tensor:
        """(B, T, D) normalised features, (B, T) bool True=valid -> z_m (B, d_E)."""
        if self.motion_encoder is None:
            raise ValueError("this RAM model has no motion encoder (use_motion_encoder=False)")
        return self.motion_encoder(x, mask)

    def denoise(self, x_t: Tensor, t: Tensor, z: Tensor, mask: Tensor) -> Tensor:
        """(B, T, D), (B,) long, (B, d_E), (B, T) bool -> x0_hat (B, T, D)."""
        return self.denoiser(x_t, t, z, mask)

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters per part (the frozen LM is not part of this module)."""
        parts = {"text_encoder": self.text_encoder, "motion_encoder": self.motion_encoder, "denoiser": self.denoiser}
        counts = {name: sum(p.numel() for p in m.parameters()) if m is not None else 0 for name, m in parts.items()}
        counts["total"] = sum(counts.values())
        return counts
