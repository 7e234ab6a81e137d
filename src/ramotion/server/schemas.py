"""The API's request and response bodies (they also make the OpenAPI schema at /openapi.json)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GenerateRequest(BaseModel):
    """POST /api/generate. Ranges are the server's limits (GET /api/info lists them).

    Every field is strict: a value must already be of its JSON type. A number field takes a
    JSON number (whole or not) and refuses true/false and strings such as "1.5"; a whole-number
    field refuses 2.0; the prompt must be a string. Pydantic's default would coerce all of
    these silently, and accept a request that does not say what its sender meant.
    """

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(..., strict=True, description="what the motion should show", examples=["a person walks forward and waves"])
    seconds: float = Field(4.0, strict=True, description="motion length in seconds")
    seed: int | None = Field(None, strict=True, description="sample i uses seed+i; null draws a random seed")
    num_samples: int = Field(1, strict=True, description="how many motions to make for this prompt")
    w_reg: float | None = Field(None, strict=True, description="REG weight w_r (null: the model's default, GET /api/info)")
    w_cfg: float | None = Field(None, strict=True, description="classifier-free guidance weight w_c (null: the model's default, GET /api/info)")


class Downloads(BaseModel):
    """Links to one sample's files (valid while the server keeps the sample)."""

    bvh: str
    npy: str
    mp4: str


class Sample(BaseModel):
    """One generated motion."""

    id: str
    seed: int
    num_frames: int
    joints: list[list[list[float]]] = Field(..., description="(num_frames, num_joints, 3) positions in metres, y up")
    downloads: Downloads


class SkeletonInfo(BaseModel):
    """How to draw the joints: bone i joins joint i to parents[i] (-1: the root)."""

    name: str
    joint_names: list[str]
    parents: list[int]
    left: list[int]
    right: list[int]


class Timing(BaseModel):
    queued_s: float
    generate_s: float


class GenerateResponse(BaseModel):
    """POST /api/generate's answer."""

    prompt: str
    seconds: float
    fps: float
    skeleton: SkeletonInfo
    samples: list[Sample]
    timing: Timing


class ErrorResponse(BaseModel):
    """Every refused request: a one-line message, a stable code, the offending field if any."""

    detail: str
    code: str
    field: str | None = None
