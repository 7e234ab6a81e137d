"""The web server's editing API (issue 22, item 4): POST /api/sources reads an uploaded BVH or
NPY, POST /api/edit in-betweens, continues or re-generates body parts through the generation
queue; bad input is a one-line 4xx that names the problem.

A tiny random RAM model (as in test_server.py) runs the real pipeline, queue and loaders.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ramotion.mocap.export import export_bvh
from ramotion.motion.features import features_to_joints, joints_to_features
from ramotion.mocap.loading import read_edit_source
from ramotion.motion.parts import BODY_PARTS, part_joints
from ramotion.pipeline import GenerationCancelled, RAMPipeline
from ramotion.server import ServerLimits, create_app, uvicorn_options

from ._server_helpers import raw_post, running_server, tiny_server_pipeline, wait_until
from .test_edit import walking_joints

LIMITS = ServerLimits(max_prompt_chars=120, max_samples=4, max_in_flight=32, max_batch_samples=16, steps=6)
FPS = 20.0


@pytest.fixture(scope="module")
def encoder():
    from ramotion.text.encoder import TextEncoder

    return TextEncoder(device="cpu")


@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory, encoder) -> RAMPipeline:
    return tiny_server_pipeline(tmp_path_factory.mktemp("server_edit_model"), encoder)


@pytest.fixture(scope="module")
def client(pipe: RAMPipeline):
    with TestClient(create_app(pipe, LIMITS, warmup=False)) as c:
        yield c


def npy_b64(array: np.ndarray) -> str:
    """A .npy file's bytes, base64-encoded, as the page sends it."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    """(61, 22, 3) joints of a walk: 60 frames of features."""
    return walking_joints(61).astype(np.float32)


@pytest.fixture(scope="module")
def source_id(client: TestClient, walk: np.ndarray) -> str:
    r = client.post("/api/sources", json={"npy": npy_b64(walk), "name": "walk.npy"})
    assert r.status_code == 200, r.text
    return r.json()["source"]["id"]


def _edit(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post("/api/edit", json={"prompt": "a person jumps", "seed": 3, **body})


# --------------------------------------------------------------------------- reading sources


def test_info_and_schema_describe_editing(client: TestClient) -> None:
    info = client.get("/api/info").json()
    assert info["edit"]["modes"] == ["inbetween", "continue", "body-part"]
    assert info["edit"]["body_parts"] == list(BODY_PARTS) and "cmu-bvh" in info["edit"]["joint_maps"]
    assert info["limits"]["max_upload_bytes"] == LIMITS.max_upload_bytes
    schema = client.get("/openapi.json").json()
    edit = schema["components"]["schemas"]["EditRequest"]
    assert edit["required"] == ["prompt", "mode", "source"]
    assert {"keep_first", "keep_last", "keep_frames", "seconds", "parts", "seed", "num_samples", "w_reg", "w_cfg"} <= set(edit["properties"])
    assert "EditResponse" in json.dumps(schema["paths"]["/api/edit"]["post"]["responses"]["200"])
    assert "SourceResponse" in json.dumps(schema["paths"]["/api/sources"]["post"]["responses"]["200"])
    assert client.get("/static/edit.js").status_code == 200


def test_npy_joints_and_features_read_as_the_cli_reads_them(client: TestClient, pipe: RAMPipeline, walk: np.ndarray, tmp_path: Path) -> None:
    feats = joints_to_features(walk).astype(np.float32)  # (60, 263)
    for array, name in ((walk, "walk.npy"), (feats, "walk_features.npy")):
        r = client.post("/api/sources", json={"npy": npy_b64(array), "name": name})
        assert r.status_code == 200, r.text
        data = r.json()
        src = data["source"]
        assert data["fps"] == FPS and data["skeleton"]["parents"] == list(pipe.skeleton.parents)
        assert src["name"] == name and src["num_frames"] == 60
        # What the CLI reads from the same file, as the model sees it.
        np.save(tmp_path / name, array)
        expected = features_to_joints(pipe.source_features(read_edit_source(tmp_path / name, FPS)))
        np.testing.assert_allclose(np.asarray(src["joints"]), expected, atol=1e-4)
        npy = client.get(src["downloads"]["npy"])
        assert npy.status_code == 200 and np.load(io.BytesIO(npy.content), allow_pickle=False).shape == (60, 22, 3)


def test_bvh_upload_is_resampled_and_cut(client: TestClient, pipe: RAMPipeline, walk: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "walk60.bvh"
    export_bvh(np.repeat(walk, 3, axis=0)[: 3 * 60 + 1], path, fps=60.0)  # the same walk, slowed: 3 s at 60 fps
    text = path.read_text()
    r = client.post("/api/sources", json={"bvh": text, "name": "walk60.bvh"})
    assert r.status_code == 200, r.text
    expected = features_to_joints(pipe.source_features(read_edit_source(path, FPS)))  # the CLI's path
    assert r.json()["source"]["num_frames"] == len(expected) == 60  # 61 frames at 20 fps
    np.testing.assert_allclose(np.asarray(r.json()["source"]["joints"]), expected, atol=1e-4)
    cut = client.post("/api/sources", json={"bvh": text, "name": "walk60.bvh", "start": 1.0, "stop": 2.5})
    assert cut.status_code == 200 and cut.json()["source"]["num_frames"] == 29  # frames 20..49, one fewer as features


# --------------------------------------------------------------------------- the edits


@pytest.mark.filterwarnings("ignore:.*the BVH differs from the motion")  # the tiny model's bones stretch
def test_inbetween_keeps_the_ends_and_matches_the_pipeline(client: TestClient, pipe: RAMPipeline, source_id: str, walk: np.ndarray) -> None:
    r = _edit(client, {"mode": "inbetween", "source": {"id": source_id}, "keep_first": 1.0, "keep_last": 0.5, "num_samples": 2})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["mode"] == "inbetween" and data["kept_frames"] == [[0, 20], [50, 60]] and data["parts"] == [] and data["edited_joints"] == []
    assert [s["seed"] for s in data["samples"]] == [3, 4] and data["seconds"] == 3.0
    src = np.asarray(data["source"]["joints"])  # (60, 22, 3)
    assert data["source"]["id"] == source_id and data["source"]["name"] == "walk.npy"
    expected = pipe.inbetween(["a person jumps"] * 2, walk, keep_first=1.0, keep_last=0.5, seed=3, steps=LIMITS.steps)
    for sample, motion in zip(data["samples"], expected):
        joints = np.asarray(sample["joints"])
        assert joints.shape == (60, 22, 3)
        np.testing.assert_allclose(joints, motion.joints, atol=2e-4)
        np.testing.assert_allclose(joints[:20], src[:20], atol=2e-4)  # kept frames: where the source has them
        np.testing.assert_allclose(joints[50:], src[50:], atol=3e-4)  # the kept end: to 1e-4 m in the world
        assert np.abs(joints[25:45] - src[25:45]).max() > 1e-2  # the middle is new
        assert client.get(sample["downloads"]["bvh"]).text.startswith("HIERARCHY")
    ranges = _edit(client, {"mode": "inbetween", "source": {"id": source_id}, "keep_frames": [[0, 10], [30, 40]]})
    assert ranges.status_code == 200 and ranges.json()["kept_frames"] == [[0, 10], [30, 40]]


def test_continue_and_body_part(client: TestClient, source_id: str) -> None:
    r = _edit(client, {"mode": "continue", "source": {"id": source_id}, "seconds": 1.5})
    assert r.status_code == 200, r.text
    data = r.json()
    joints, src = np.asarray(data["samples"][0]["joints"]), np.asarray(data["source"]["joints"])
    assert joints.shape == (90, 22, 3) and data["kept_frames"] == [[0, 60]]
    np.testing.assert_allclose(joints[:60], src, atol=2e-4)

    r = _edit(client, {"mode": "body-part", "source": {"id": source_id}, "parts": ["right_arm"], "prompt": "a person waves with the right hand"})
    assert r.status_code == 200, r.text
    data = r.json()
    arm = list(part_joints("right_arm"))
    assert data["parts"] == ["right_arm"] and data["edited_joints"] == arm and data["kept_frames"] == []
    joints, src = np.asarray(data["samples"][0]["joints"]), np.asarray(data["source"]["joints"])
    rest = [j for j in range(22) if j not in arm]
    np.testing.assert_allclose(joints[:, rest], src[:, rest], atol=2e-4)  # the rest kept (the root too)
    assert np.abs(joints[:, arm] - src[:, arm]).max() > 1e-2


def test_a_generated_motion_can_be_edited_by_its_id(client: TestClient) -> None:
    gen = client.post("/api/generate", json={"prompt": "a person walks", "seconds": 2.0, "seed": 1})
    sample = gen.json()["samples"][0]
    r = _edit(client, {"mode": "inbetween", "source": {"id": sample["id"]}, "keep_first": 0.5, "keep_last": 0.5})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["source"]["num_frames"] == 40 and data["kept_frames"] == [[0, 10], [30, 40]]
    # An edit reads the features; its source is shown as their joints, without the foot cleanup.
    raw = client.app.state.store.get(sample["id"]).motion.raw_joints
    np.testing.assert_allclose(np.asarray(data["source"]["joints"]), raw, atol=1e-4)
    again = _edit(client, {"mode": "continue", "source": {"id": data["samples"][0]["id"]}, "seconds": 1.0})  # an edit of the edit
    assert again.status_code == 200 and again.json()["source"]["id"] == data["samples"][0]["id"]


# --------------------------------------------------------------------------- bad input


def _bad_sources(walk: np.ndarray, tmp_path: Path) -> dict[str, Any]:
    export_bvh(walk[:21], tmp_path / "alien.bvh")
    alien = (tmp_path / "alien.bvh").read_text().replace("left_wrist", "LeftHand")  # a joint ramotion's names do not have
    nan = walk.copy()
    nan[4, 2, 1] = np.nan
    return {
        "bvh_garbage": {"bvh": "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0\n", "name": "broken.bvh"},
        "npy_text": {"npy": "this is not base64!", "name": "w.npy"},
        "npy_not_npy": {"npy": base64.b64encode(b"hello world, not a numpy file").decode(), "name": "w.npy"},
        "npy_pickle": {"npy": npy_b64(np.array([{"a": 1}], dtype=object)), "name": "evil.npy"},
        "npy_nan": {"npy": npy_b64(nan), "name": "nan.npy"},
        "npy_24_joints": {"npy": npy_b64(np.zeros((30, 24, 3), np.float32)), "name": "smpl.npy"},
        "npy_kit": {"npy": npy_b64(np.zeros((30, 251), np.float32)), "name": "kit.npy"},
        "npy_one_frame": {"npy": npy_b64(walk[:1]), "name": "one.npy"},
        "npy_scalar": {"npy": npy_b64(np.float32(1.0)), "name": "scalar.npy"},
        "npy_strings": {"npy": npy_b64(np.array([["a", "b"]] * 3)), "name": "text.npy"},
        "too_long": {"npy": npy_b64(np.zeros((250, 263), np.float32)), "name": "long.npy"},
        "two_sources": {"npy": npy_b64(walk), "bvh": "HIERARCHY"},
        "none": {"name": "nothing.npy"},
        "fps_for_bvh": {"bvh": "HIERARCHY", "fps": 30.0},
        "joint_map_for_npy": {"npy": npy_b64(walk), "joint_map": "cmu-bvh"},
        "unknown_joint_map": {"bvh": "HIERARCHY", "joint_map": "mixamo"},
        "cut_to_nothing": {"npy": npy_b64(walk), "start": 2.0, "stop": 2.04},
        "alien": {"bvh": alien, "name": "alien.bvh"},
    }


BAD_SOURCES = [
    ("bvh_garbage", 422, "bad_source", "bad BVH file broken.bvh"),
    ("npy_text", 422, "bad_source", "is not base64"),
    ("npy_not_npy", 422, "bad_source", "not a .npy file"),
    ("npy_pickle", 422, "bad_source", "holds Python objects"),
    ("npy_nan", 422, "bad_source", "NaN or infinite values"),
    ("npy_24_joints", 422, "bad_source", "unknown joint count 24"),
    ("npy_kit", 422, "bad_source", "kit motion; this model makes humanml3d"),
    ("npy_one_frame", 422, "bad_source", "only 1 frame"),
    ("npy_scalar", 422, "bad_source", r"expected features \(frames, 263\|251\) or joints .*got shape \(\)"),
    ("npy_strings", 422, "bad_source", "expected a numeric array"),
    ("too_long", 422, "source_too_long", "long.npy is 12.5 s long .*at most 9.8 s .*source.start / source.stop"),
    ("two_sources", 422, "bad_source", "exactly one of id.*got bvh and npy"),
    ("none", 422, "bad_source", "got none"),
    ("fps_for_bvh", 422, "bad_source", "source.fps is the frame rate of .npy joints"),
    ("joint_map_for_npy", 422, "bad_source", "joint_map is for BVH files"),
    ("unknown_joint_map", 422, "invalid_value", "joint_map': Input should be 'bandai-namco'"),
    ("cut_to_nothing", 422, "bad_source", "leave 1 frames"),
    ("alien", 422, "bad_source", "names joints the file lacks"),
]


@pytest.mark.parametrize(("which", "status", "code", "message"), BAD_SOURCES, ids=[b[0] for b in BAD_SOURCES])
def test_bad_sources_are_one_clear_error(client: TestClient, walk: np.ndarray, tmp_path: Path, which: str, status: int, code: str, message: str) -> None:
    import re

    source = _bad_sources(walk, tmp_path)[which]
    for path, body in (("/api/sources", source), ("/api/edit", {"prompt": "a person jumps", "mode": "continue", "source": source})):
        r = client.post(path, json=body)
        assert r.status_code == status, (path, r.text)
        err = r.json()
        assert err["code"] == code and re.search(message, err["detail"]), (path, err)
        assert "\n" not in err["detail"]


BAD_EDITS = [
    ({"mode": "inbetween", "keep_first": 0.0, "keep_last": 0.0}, "keeps_nothing", "keep_first", "keeps nothing"),
    ({"mode": "inbetween", "keep_first": 2.0, "keep_last": 1.0}, "keeps_everything", "keep_first", "fill the 60-frame result"),
    ({"mode": "inbetween", "keep_first": 2.0, "keep_last": 2.0}, "keeps_everything", "keep_first", "overlap: the source has 60 frames"),
    ({"mode": "inbetween", "keep_frames": [[0, 60]]}, "keeps_everything", "keep_frames", "keeps all 60 frames"),
    ({"mode": "inbetween", "keep_frames": []}, "keeps_nothing", "keep_frames", "keeps nothing"),
    ({"mode": "inbetween", "keep_frames": [[0, 10], [50, 70]]}, "bad_keep_frames", "keep_frames", r"\[50, 70\) must satisfy 0 <= start < stop <= 60"),
    ({"mode": "inbetween", "keep_frames": [[0, 10]], "keep_last": 1.0}, "field_not_for_mode", "keep_last", "leave out keep_last"),
    ({"mode": "inbetween", "keep_first": -1.0}, "invalid_value", "keep_first", "seconds >= 0"),
    ({"mode": "inbetween", "parts": ["right_arm"]}, "field_not_for_mode", "parts", "parts does not go with mode 'inbetween'"),
    ({"mode": "continue", "keep_first": 1.0}, "field_not_for_mode", "keep_first", "does not go with mode 'continue'"),
    ({"mode": "continue", "seconds": 8.0}, "too_long", "seconds", "make 220; this model makes at most 196"),
    ({"mode": "body-part", "seconds": 1.0}, "field_not_for_mode", "seconds", "does not go with mode 'body-part'"),
    ({"mode": "body-part", "parts": []}, "keeps_everything", "parts", "parts is empty"),
    ({"mode": "body-part", "parts": ["tail"]}, "invalid_value", "parts.0", "field 'parts.0'"),
    ({"mode": "wiggle"}, "invalid_value", "mode", "field 'mode'"),
    ({"mode": "inbetween", "keep_frames": [[0, 10.0]]}, "invalid_value", "keep_frames.0.1", "got 10.0"),
    ({"mode": "inbetween", "keep_first": "1"}, "invalid_value", "keep_first", 'got "1"'),
    ({"mode": "inbetween", "num_samples": 9}, "too_many_samples", "num_samples", "between 1 and 4"),
    ({"mode": "inbetween", "prompt": "  "}, "empty_prompt", "prompt", "prompt is empty"),
    ({"mode": "inbetween", "keep": [1]}, "unknown_field", "keep", "expected prompt, mode, source"),
]


@pytest.mark.parametrize(("extra", "code", "field", "message"), BAD_EDITS, ids=[b[1] + "-" + str(i) for i, b in enumerate(BAD_EDITS)])
def test_bad_edits_are_one_clear_error(client: TestClient, source_id: str, extra: dict[str, Any], code: str, field: str, message: str) -> None:
    import re

    r = _edit(client, {"source": {"id": source_id}, **extra})
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["code"] == code and err["field"] == field and re.search(message, err["detail"]), err


def test_unknown_ids_sizes_and_nested_unknown_fields(client: TestClient, walk: np.ndarray) -> None:
    r = _edit(client, {"mode": "continue", "source": {"id": "A" * 22}})
    assert r.status_code == 404 and r.json()["code"] == "unknown_sample" and r.json()["field"] == "source.id"
    r = _edit(client, {"mode": "continue", "source": {"id": "x", "path": "/etc/passwd"}})
    assert r.status_code == 422 and r.json()["code"] == "unknown_field"
    assert "expected id, bvh, npy, name, joint_map, fps, start, stop" in r.json()["detail"]
    # An upload may be far larger than a generation request, up to max_upload_bytes.
    big = npy_b64(np.tile(walk, (4, 1, 1))[:196])  # ~70 kB of base64: over the 16 kB of /api/generate
    assert len(big) > LIMITS.max_body_bytes
    assert client.post("/api/sources", json={"npy": big, "name": "big.npy"}).status_code == 200
    padded = json.dumps({"prompt": "a person jumps " * 1200})
    assert client.post("/api/generate", content=padded, headers={"content-type": "application/json"}).status_code == 413
    huge = "x" * (LIMITS.max_upload_bytes + 1)
    r = client.post("/api/sources", json={"bvh": huge})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large" and str(LIMITS.max_upload_bytes) in r.json()["detail"]


# --------------------------------------------------------------------------- the queue: 429 and cancellation


class GatedEdits:
    """The real pipeline whose in-betweens wait for `release`, checking `cancelled()` every 10 ms
    like the denoising loop does (at most 20 s); everything else is the pipeline's."""

    def __init__(self, pipe: RAMPipeline) -> None:
        self.pipe, self.started, self.release = pipe, threading.Event(), threading.Event()
        self.stopped = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)

    def inbetween(self, *args: Any, cancelled: Any = None, **kwargs: Any) -> Any:
        self.started.set()
        for _ in range(2000):
            if cancelled is not None and cancelled():
                self.stopped += 1
                raise GenerationCancelled("cancelled by the test's client")
            if self.release.wait(0.01):
                return self.pipe.inbetween(*args, cancelled=cancelled, **kwargs)
        raise AssertionError("neither released nor cancelled")


def test_edits_share_the_generation_queue_and_its_limits(pipe: RAMPipeline, walk: np.ndarray) -> None:
    gated = GatedEdits(pipe)
    app = create_app(gated, ServerLimits(max_in_flight=1, max_samples=2, max_batch_samples=2, batch_window_s=0.0, steps=6), warmup=False)

    async def scenario() -> dict[str, Any]:
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t", timeout=60) as c:
            src = (await c.post("/api/sources", json={"npy": npy_b64(walk), "name": "walk.npy"})).json()["source"]["id"]
            body = {"prompt": "a person jumps", "mode": "inbetween", "source": {"id": src}, "seed": 0}
            first = asyncio.create_task(c.post("/api/edit", json=body))
            while app.state.queue.in_flight < 1:
                await asyncio.sleep(0.01)
            busy_edit = await c.post("/api/edit", json=body)
            busy_generate = await c.post("/api/generate", json={"prompt": "a person walks", "seconds": 1.0})
            health = await asyncio.wait_for(c.get("/api/health"), timeout=2)  # the event loop is free
            gated.release.set()
            return {"first": await first, "busy_edit": busy_edit, "busy_generate": busy_generate, "health": health}

    out = asyncio.run(scenario())
    assert out["health"].json()["in_flight"] == 1
    for name in ("busy_edit", "busy_generate"):
        r = out[name]
        assert r.status_code == 429 and r.json()["code"] == "server_busy" and r.headers["retry-after"] == "1", r.text
    assert out["first"].status_code == 200 and len(out["first"].json()["samples"]) == 1


def test_a_client_that_leaves_cancels_its_edit(pipe: RAMPipeline, walk: np.ndarray) -> None:
    gated = GatedEdits(pipe)
    limits = ServerLimits(max_samples=1, max_batch_samples=1, max_in_flight=4, batch_window_s=0.0, steps=6)
    app = create_app(gated, limits, warmup=False)
    with running_server(app, uvicorn_options(limits)) as url:
        src = httpx.post(url + "/api/sources", json={"npy": npy_b64(walk), "name": "walk.npy"}, timeout=30).json()["source"]["id"]
        body = json.dumps({"prompt": "a person leaves", "mode": "inbetween", "source": {"id": src}, "seed": 0}).encode()
        sock = raw_post(url, "/api/edit", body)
        assert gated.started.wait(20)
        sock.close()
        wait_until(lambda: httpx.get(url + "/api/health", timeout=10).json()["in_flight"] == 0, what="the edit to be cancelled")
        assert gated.stopped == 1 and app.state.queue.stats.jobs_cancelled == 1 and app.state.queue.stats.jobs_done == 0
        gated.release.set()
        r = httpx.post(url + "/api/edit", content=body, headers={"content-type": "application/json"}, timeout=60)
        assert r.status_code == 200  # the server is free again
