"""ramotion: RAM (Reconstruction-Anchored diffusion) for text-to-motion generation."""

__version__ = "0.1.0"

__all__ = ["RAMPipeline", "__version__"]


def __getattr__(name: str):  # noqa: ANN202 - lazy export: `import ramotion` stays light (no torch) until used
    if name == "RAMPipeline":
        from .pipeline import RAMPipeline

        return RAMPipeline
    raise AttributeError(f"module 'ramotion' has no attribute {name!r}")
