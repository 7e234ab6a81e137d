"""The API's request and response bodies (they also make the OpenAPI schema at /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ..mocap.presets import PRESETS
from ..motion.parts import BODY_PARTS


class GenerateRequest(BaseModel):
    """POST /api/generate. Ranges are the server's limits (GET /api/info lists them).

    Every field is strict: a value must already be of its JSON type. A number field takes a
    JSON number (whole or not) and refuses true/false and strings such as "1.5"; a whole-number
    field refuses 2.0; the prompt must be a string. Pydantic's default would coerce all of
    these silently, and accept a request that does not say what its sender meant.
    """

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(..., strict=True, description="what the motion should show", examples=["a person walks forward and waves"])
    seconds: float | None = Field(None, strict=True, description="motion length in seconds; null or left out: the model's length predictor's estimate from the prompt (4 s for a model without one)")
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


# --------------------------------------------------------------------------- editing (issue 22)

EditMode = Literal["inbetween", "continue", "body-part"]
BodyPart = Literal[BODY_PARTS]  # type: ignore[valid-type]
JointMapName = Literal[tuple(PRESETS)]  # type: ignore[valid-type]


class EditSource(BaseModel):
    """The motion to edit: exactly one of `id`, `bvh` or `npy`. Strict types, as GenerateRequest.

    An uploaded file is read as `ramotion edit` reads it (`mocap.loading.read_edit_source`):
    a BVH through a skeleton preset and resampled to the model's frame rate; a .npy of joints
    (T, 22, 3), resampled from `fps`, or of HumanML3D features (T, 263), taken as they are.
    Joints become features by HumanML3D's extraction (retargeted, at the origin facing +z, one
    frame shorter). The result must fit the model (9.8 s): `start` / `stop` cut a longer one.
    """

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, strict=True, description="a sample id from /api/generate, /api/edit or /api/sources (the motion itself, features and all)")
    bvh: str | None = Field(None, strict=True, description="the text of a BVH file")
    npy: str | None = Field(None, strict=True, description="a .npy file (numpy.save), base64-encoded: joints (T, 22, 3) or features (T, 263)")
    name: str | None = Field(None, strict=True, max_length=200, description="the file's name, for messages and download names")
    joint_map: JointMapName | None = Field(None, description="BVH only: the file's skeleton preset; null: a BVH written by ramotion (its own joint names)")
    fps: float | None = Field(None, strict=True, description=".npy joints only: their frame rate (null: the model's)")
    start: float | None = Field(None, strict=True, description="use the motion from this second on (null: its start)")
    stop: float | None = Field(None, strict=True, description="use the motion up to this second (null: its end)")


class EditRequest(BaseModel):
    """POST /api/edit. Which fields go with which mode:

    - inbetween: keep_first / keep_last (seconds kept at each end, default 1 and 1; `seconds`
      sets the result's length, default the source's), or keep_frames (half-open ranges of
      source frames kept in place);
    - continue: seconds (how long to continue, default 2);
    - body-part: parts (what to re-generate, default ["upper_body"]).
    """

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(..., strict=True, description="what the edited motion should show", examples=["a person jumps"])
    mode: EditMode = Field(..., description="inbetween: generate between kept frames; continue: add frames after the source; body-part: re-generate body parts")
    source: EditSource
    keep_first: float | None = Field(None, strict=True, description="inbetween: seconds kept at the start")
    keep_last: float | None = Field(None, strict=True, description="inbetween: seconds kept at the end")
    keep_frames: list[tuple[StrictInt, StrictInt]] | None = Field(None, max_length=64, description="inbetween: source frames kept, half-open [start, stop) ranges")
    seconds: float | None = Field(None, strict=True, description="continue: seconds added; inbetween: the result's length")
    parts: list[BodyPart] | None = Field(None, max_length=len(BODY_PARTS), description="body-part: the parts to re-generate")
    seed: int | None = Field(None, strict=True, description="edit i uses seed+i; null draws a random seed")
    num_samples: int = Field(1, strict=True, description="how many edits to make")
    w_reg: float | None = Field(None, strict=True, description="REG weight w_r (null: the model's default)")
    w_cfg: float | None = Field(None, strict=True, description="classifier-free guidance weight w_c (null: the model's default)")


class SourceSample(BaseModel):
    """A motion to edit, as the model sees it: its features' joints (at the origin, facing +z)."""

    id: str = Field(..., description="pass it back as source.id to edit it again without uploading")
    name: str
    num_frames: int
    joints: list[list[list[float]]] = Field(..., description="(num_frames, num_joints, 3) positions in metres, y up")
    downloads: Downloads


class SourceResponse(BaseModel):
    """POST /api/sources' answer: an uploaded motion, read, checked and kept for editing."""

    fps: float
    skeleton: SkeletonInfo
    source: SourceSample


class EditResponse(GenerateResponse):
    """POST /api/edit's answer: generation's answer (its samples are the edits) plus the source."""

    mode: EditMode
    source: SourceSample
    kept_frames: list[tuple[int, int]] = Field(..., description="frames of each edit kept whole from the source, half-open ranges (empty for body-part)")
    parts: list[str] = Field(..., description="body-part: the re-generated parts (empty otherwise)")
    edited_joints: list[int] = Field(..., description="body-part: the joints the re-generated parts move (the root for 'root'; empty otherwise)")
