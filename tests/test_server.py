"""The HTTP API (`ramotion serve`): valid requests, every limit, malformed input, concurrency,
clients that leave or stall.

A tiny random RAM model is written with save_pretrained and loaded back, so the real
pipeline, queue and download code run; only the weights are meaningless.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time
import threading
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ramotion.mocap.importing import import_bvh
from ramotion.pipeline import GenerationCancelled, RAMPipeline
from ramotion.server import LOOPBACK_HOSTS, ServerLimits, create_app, uvicorn_options
from ramotion.server.store import SampleStore
from ramotion.server.vendor import find_three

from ._server_helpers import raw_post, read_until_closed, running_server, tiny_server_pipeline, wait_until

LIMITS = ServerLimits(max_prompt_chars=120, max_seconds=6.0, max_samples=4, max_in_flight=32, max_batch_samples=16)


@pytest.fixture(scope="module")
def encoder():
    from ramotion.text.encoder import TextEncoder

    return TextEncoder(device="cpu")


@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory, encoder) -> RAMPipeline:
    return tiny_server_pipeline(tmp_path_factory.mktemp("server_model"), encoder)


@pytest.fixture(scope="module")
def client(pipe: RAMPipeline):
    with TestClient(create_app(pipe, LIMITS)) as c:
        yield c


def _post(client: TestClient, body: Any) -> httpx.Response:
    return client.post("/api/generate", json=body)


# --------------------------------------------------------------------------- valid requests


def test_health_info_and_openapi(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["max_in_flight"] == 32
    info = client.get("/api/info").json()
    assert info["model"]["skeleton"] == "humanml3d" and info["model"]["fps"] == 20.0
    assert info["limits"]["max_seconds"] == 6.0 and info["limits"]["max_samples"] == 4  # capped below the model's 9.8 s
    assert len(info["examples"]) >= 4 and all(isinstance(e, str) and e for e in info["examples"])
    schema = client.get("/openapi.json").json()
    request_schema = schema["components"]["schemas"]["GenerateRequest"]
    assert set(request_schema["properties"]) == {"prompt", "seconds", "seed", "num_samples", "w_reg", "w_cfg"}
    assert request_schema["required"] == ["prompt"]
    responses = schema["paths"]["/api/generate"]["post"]["responses"]
    assert {"200", "400", "413", "422", "429"} <= set(responses)
    assert "GenerateResponse" in json.dumps(responses["200"])
    assert client.get("/docs").status_code == 404  # FastAPI's docs page would load a CDN's scripts
    page = client.get("/")
    assert page.status_code == 200 and "importmap" in page.text and "/vendor/three/build/three.module.js" in page.text
    for name in ("app.js", "viewer.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_the_page_needs_no_network() -> None:
    """Every file of the page refers only to this server: no absolute URL, so it works offline."""
    from ramotion.server.app import STATIC_DIR

    for path in STATIC_DIR.iterdir():
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text and "https://" not in text and "//cdn" not in text, path.name


def test_generate_returns_joints_parents_and_downloads(client: TestClient, pipe: RAMPipeline) -> None:
    r = _post(client, {"prompt": "  a person jumps forward ", "seconds": 2.5, "seed": 11, "num_samples": 2, "w_cfg": 2.0, "w_reg": 3.0})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["prompt"] == "a person jumps forward" and data["fps"] == 20.0 and data["seconds"] == 2.5
    parents = data["skeleton"]["parents"]
    assert parents == list(pipe.skeleton.parents) and parents[0] == -1 and len(parents) == 22
    assert set(data["skeleton"]["left"]).isdisjoint(data["skeleton"]["right"])
    assert [s["seed"] for s in data["samples"]] == [11, 12]
    assert data["timing"]["generate_s"] > 0 and data["timing"]["queued_s"] >= 0
    expected = pipe(["a person jumps forward"] * 2, seconds=2.5, seed=11, w_cfg=2.0, w_reg=3.0)
    for sample, motion in zip(data["samples"], expected):
        joints = np.asarray(sample["joints"])
        assert joints.shape == (50, 22, 3) and sample["num_frames"] == 50
        np.testing.assert_allclose(joints, motion.joints, atol=1e-4)  # rounded to 0.1 mm
    a, b = (np.asarray(s["joints"]) for s in data["samples"])
    assert np.abs(a - b).max() > 1e-3  # different seeds, different motions
    assert data["samples"][0]["id"] != data["samples"][1]["id"]

    links = data["samples"][0]["downloads"]
    npy = client.get(links["npy"])
    assert npy.status_code == 200 and 'filename="a_person_jumps_forward_seed11.npy"' in npy.headers["content-disposition"]
    arr = np.load(io.BytesIO(npy.content), allow_pickle=False)
    assert arr.shape == (50, 22, 3) and arr.dtype == np.float32
    np.testing.assert_allclose(arr, data["samples"][0]["joints"], atol=1e-4)
    bvh = client.get(links["bvh"])
    assert bvh.status_code == 200 and bvh.text.startswith("HIERARCHY")


def test_bvh_and_mp4_downloads_parse(client: TestClient, tmp_path: Path) -> None:
    data = _post(client, {"prompt": "a person waves", "seconds": 1.0, "seed": 3}).json()
    links = data["samples"][0]["downloads"]
    bvh = client.get(links["bvh"])
    (tmp_path / "m.bvh").write_bytes(bvh.content)
    joints, fps = import_bvh(tmp_path / "m.bvh")
    assert fps == 20.0 and joints.shape == (20, 22, 3)
    mp4 = client.get(links["mp4"])
    assert mp4.status_code == 200 and mp4.headers["content-type"] == "video/mp4"
    assert mp4.content[4:8] == b"ftyp" and len(mp4.content) > 1000
    again = client.get(links["mp4"])  # cached: the same bytes without a second render
    assert again.content == mp4.content


def test_random_seed_when_none_given(client: TestClient) -> None:
    seeds = [s["seed"] for s in _post(client, {"prompt": "a person walks", "seconds": 1.0, "num_samples": 2}).json()["samples"]]
    assert seeds[1] == seeds[0] + 1 and 0 <= seeds[0] < 2**31


# --------------------------------------------------------------------------- limits and bad input


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"prompt": "a" * 121}, 413, "prompt_too_long", "prompt"),
        ({"prompt": "   "}, 422, "empty_prompt", "prompt"),
        ({"prompt": "a person runs", "seconds": 6.5}, 422, "seconds_out_of_range", "seconds"),
        ({"prompt": "a person runs", "seconds": 0.1}, 422, "seconds_out_of_range", "seconds"),
        ({"prompt": "a person runs", "num_samples": 5}, 422, "too_many_samples", "num_samples"),
        ({"prompt": "a person runs", "num_samples": 0}, 422, "num_samples_out_of_range", "num_samples"),
        ({"prompt": "a person runs", "seed": -1}, 422, "seed_out_of_range", "seed"),
        ({"prompt": "a person runs", "w_cfg": 11}, 422, "w_cfg_out_of_range", "w_cfg"),
        ({"prompt": "a person runs", "w_reg": -0.5}, 422, "w_reg_out_of_range", "w_reg"),
        ({"prompt": "a person runs", "steps": 5}, 422, "unknown_field", "steps"),
        ({"seconds": 3}, 422, "missing_field", "prompt"),
        ({"prompt": 42}, 422, "invalid_value", "prompt"),
        ({"prompt": "a person runs", "seconds": "long"}, 422, "invalid_value", "seconds"),
        ({"prompt": "a person runs", "num_samples": 2.5}, 422, "invalid_value", "num_samples"),
        # Strict JSON types: no bool as a number, no string coerced to one, no 2.0 as a whole number.
        ({"prompt": "a person runs", "seconds": True}, 422, "invalid_value", "seconds"),
        ({"prompt": "a person runs", "seconds": "1.5"}, 422, "invalid_value", "seconds"),
        ({"prompt": "a person runs", "num_samples": "2"}, 422, "invalid_value", "num_samples"),
        ({"prompt": "a person runs", "num_samples": 2.0}, 422, "invalid_value", "num_samples"),
        ({"prompt": "a person runs", "seed": True}, 422, "invalid_value", "seed"),
        ({"prompt": "a person runs", "seed": "7"}, 422, "invalid_value", "seed"),
        ({"prompt": "a person runs", "w_cfg": False}, 422, "invalid_value", "w_cfg"),
        ({"prompt": "a person runs", "w_reg": "2"}, 422, "invalid_value", "w_reg"),
        ({"prompt": ["a person runs"]}, 422, "invalid_value", "prompt"),
        (["a person runs"], 422, "not_an_object", None),
    ],
)
def test_each_limit_has_its_status_and_message(client: TestClient, body: Any, status: int, code: str, field: str | None) -> None:
    before = client.get("/api/health").json()["samples_done"]
    r = _post(client, body)
    assert r.status_code == status, r.text
    err = r.json()
    assert err["code"] == code and err["field"] == field
    assert isinstance(err["detail"], str) and err["detail"] and "\n" not in err["detail"]
    assert client.get("/api/health").json()["samples_done"] == before  # refused before any work


def test_strict_types_say_what_came_and_whole_numbers_still_pass_as_numbers(client: TestClient) -> None:
    assert _post(client, {"prompt": "a person runs", "seconds": True}).json()["detail"] == "field 'seconds': Input should be a valid number, got true"
    assert _post(client, {"prompt": "a person runs", "seconds": "1.5"}).json()["detail"] == "field 'seconds': Input should be a valid number, got \"1.5\""
    r = _post(client, {"prompt": "a person runs", "seconds": 1, "seed": 0, "w_cfg": 2, "w_reg": 0})  # JSON 1 is a number
    assert r.status_code == 200, r.text
    assert r.json()["seconds"] == 1.0 and r.json()["samples"][0]["num_frames"] == 20


def test_messages_name_the_limit(client: TestClient) -> None:
    assert "at most 120" in _post(client, {"prompt": "x" * 200}).json()["detail"]
    assert "between 0.5 and 6" in _post(client, {"prompt": "a person runs", "seconds": 60}).json()["detail"]
    assert "between 1 and 4" in _post(client, {"prompt": "a person runs", "num_samples": 64}).json()["detail"]


@pytest.mark.parametrize("raw", ['{"prompt": "a person jumps"', "{prompt: 'a person jumps'}", "nan", '{"prompt": "a"} trailing', "\xff\xfe"])
def test_malformed_json_is_400(client: TestClient, raw: str) -> None:
    r = client.post("/api/generate", content=raw.encode("latin-1"), headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "malformed_json" and "not valid JSON" in r.json()["detail"]


def test_empty_body_is_400(client: TestClient) -> None:
    r = client.post("/api/generate", content=b"", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "empty_body" and "is empty" in r.json()["detail"]


def test_body_size_and_length_limits(client: TestClient) -> None:
    huge = json.dumps({"prompt": "a person jumps", "pad": "x" * 20_000})
    r = client.post("/api/generate", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    chunked = client.post("/api/generate", content=iter([b'{"prompt": "a person jumps"}']), headers={"content-type": "application/json"})
    assert chunked.status_code == 411 and chunked.json()["code"] == "length_required"


def test_prompt_over_the_text_models_token_limit(pipe: RAMPipeline) -> None:
    """The pipeline's own check (512 tokens) comes back as a 422 with its message, and fails alone."""
    limits = ServerLimits(max_prompt_chars=5000, max_body_bytes=64 * 1024)
    app = create_app(pipe, limits, warmup=False)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            bad = c.post("/api/generate", json={"prompt": "jump " * 700, "seconds": 1.0, "seed": 0})
            good = c.post("/api/generate", json={"prompt": "a person jumps", "seconds": 1.0, "seed": 0})
            return tuple(await asyncio.gather(bad, good))  # type: ignore[return-value]

    bad, good = asyncio.run(scenario())
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request" and "tokens" in bad.json()["detail"]
    assert good.status_code == 200 and len(good.json()["samples"]) == 1


# --------------------------------------------------------------------------- downloads never take paths


@pytest.mark.parametrize(
    "url",
    [
        "/api/samples/AAAAAAAAAAAAAAAAAAAAAA/bvh",  # well-formed but never issued
        "/api/samples/..%2F..%2Fetc%2Fpasswd/bvh",
        "/api/samples/../../etc/passwd",
        "/api/samples/%2Fetc%2Fpasswd/npy",
    ],
)
def test_downloads_only_serve_issued_ids(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404
    assert "root:" not in r.text


def test_download_unknown_format(client: TestClient) -> None:
    sample = _post(client, {"prompt": "a person sits", "seconds": 1.0, "seed": 1}).json()["samples"][0]
    r = client.get(f"/api/samples/{sample['id']}/txt")
    assert r.status_code == 404 and r.json()["code"] == "unknown_format"


def test_store_keeps_the_newest_samples() -> None:
    class Fake:
        prompt, seed = "a person walks", 0

        def save(self, path: Path) -> None:
            Path(path).write_text("x")

    store = SampleStore(max_samples=3)
    ids = [store.add(Fake()) for _ in range(5)]
    assert len(store) == 3
    with pytest.raises(KeyError):
        store.get(ids[0])
    path, name = store.file(ids[-1], "bvh")
    assert path.read_text() == "x" and name == "a_person_walks_seed0.bvh"
    with pytest.raises(ValueError, match="unknown download format"):
        store.file(ids[-1], "exe")
    with pytest.raises(KeyError):
        store.get("../../etc/passwd")
    store.close()
    assert not path.exists()


# --------------------------------------------------------------------------- host check, three.js


def test_loopback_host_check(pipe: RAMPipeline) -> None:
    with TestClient(create_app(pipe, LIMITS, allowed_hosts=LOOPBACK_HOSTS, warmup=False)) as c:
        for host in ("127.0.0.1:7860", "localhost:7860", "[::1]:7860", "localhost"):
            assert c.get("/api/health", headers={"host": host}).status_code == 200, host
        for host in ("evil.example", "evil.example:7860", "127.0.0.1.evil.example"):
            r = c.get("/api/health", headers={"host": host})
            assert r.status_code == 400 and r.json()["code"] == "host_not_allowed", host


def test_three_js_is_served_from_the_npm_package(client: TestClient) -> None:
    if find_three() is None:
        pytest.skip("three.js is not installed: npm ci --prefix web")
    module = client.get("/vendor/three/build/three.module.js")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"] and "REVISION" in client.get("/vendor/three/build/three.core.js").text
    assert client.get("/vendor/three/examples/jsm/controls/OrbitControls.js").status_code == 200
    assert "MIT" in client.get("/vendor/three/LICENSE").text
    assert client.get("/vendor/three/build/../package.json").status_code == 404
    assert client.get("/api/info").json()["viewer"]["three_js"] is True


def test_without_three_js_the_server_starts_and_says_what_to_run(pipe: RAMPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    from ramotion.server import app as app_module

    monkeypatch.setattr(app_module, "find_three", lambda: None)
    with TestClient(create_app(pipe, LIMITS, warmup=False)) as c:
        viewer = c.get("/api/info").json()["viewer"]
        assert viewer["three_js"] is False and "npm ci --prefix web" in viewer["hint"]
        r = c.get("/vendor/three/build/three.module.js")
        assert r.status_code == 404 and "npm ci --prefix web" in r.json()["detail"]
        assert c.get("/").status_code == 200
        assert _post(c, {"prompt": "a person jumps", "seconds": 1.0}).status_code == 200


# --------------------------------------------------------------------------- concurrency


class GatedPipeline:
    """The real pipeline, but each call waits for `gate` (a slow generation, on demand)."""

    def __init__(self, pipe: RAMPipeline) -> None:
        self.pipe, self.gate, self.calls = pipe, threading.Event(), 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        assert self.gate.wait(30), "the test never opened the gate"
        return self.pipe(*args, **kwargs)


def test_full_queue_is_429_and_a_slow_generation_blocks_nothing(pipe: RAMPipeline) -> None:
    gated = GatedPipeline(pipe)
    app = create_app(gated, ServerLimits(max_in_flight=2, max_samples=2, max_batch_samples=2, batch_window_s=0.0), warmup=False)

    async def scenario() -> dict[str, Any]:
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            first = asyncio.create_task(c.post("/api/generate", json={"prompt": "a person walks", "seconds": 1.0, "seed": 0, "num_samples": 2}))
            second = asyncio.create_task(c.post("/api/generate", json={"prompt": "a person runs", "seconds": 1.0, "seed": 5}))
            while app.state.queue.in_flight < 2:
                await asyncio.sleep(0.01)
            # The worker is stuck in a generation; the event loop still answers at once.
            health = await asyncio.wait_for(c.get("/api/health"), timeout=2)
            page = await asyncio.wait_for(c.get("/"), timeout=2)
            full = await c.post("/api/generate", json={"prompt": "a person jumps", "seconds": 1.0})
            gated.gate.set()
            done = await asyncio.gather(first, second)
            after = await c.post("/api/generate", json={"prompt": "a person jumps", "seconds": 1.0})
            return {"health": health, "page": page, "full": full, "done": done, "after": after}

    out = asyncio.run(scenario())
    assert out["health"].status_code == 200 and out["health"].json()["in_flight"] == 2
    assert out["page"].status_code == 200
    full = out["full"]
    assert full.status_code == 429 and full.json()["code"] == "server_busy" and full.headers["retry-after"] == "1"
    assert "limit is 2" in full.json()["detail"]
    assert [r.status_code for r in out["done"]] == [200, 200]
    assert [len(r.json()["samples"]) for r in out["done"]] == [2, 1]
    assert out["after"].status_code == 200  # capacity comes back


def test_16_concurrent_requests_are_batched_and_answered_correctly(pipe: RAMPipeline) -> None:
    limits = ServerLimits(max_samples=4, max_batch_samples=16, max_in_flight=32, batch_window_s=0.05)
    app = create_app(pipe, limits, warmup=False)
    prompts = ["a person walks forward", "a person jumps", "a person waves", "a person sits down"]
    bodies = [
        {"prompt": prompts[i % 4], "seconds": 1.0 + 0.5 * (i % 3), "seed": 100 * i, "num_samples": 1 + i % 2, "w_cfg": 1.5 if i % 4 else 2.5}
        for i in range(16)
    ]

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t", timeout=120) as c:
            return list(await asyncio.gather(*(c.post("/api/generate", json=b) for b in bodies)))

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200] * 16
    ids = set()
    for body, r in zip(bodies, responses):
        data = r.json()
        assert data["prompt"] == body["prompt"]
        frames = round(body["seconds"] * 20)
        assert [s["seed"] for s in data["samples"]] == [body["seed"] + k for k in range(body["num_samples"])]
        assert all(np.asarray(s["joints"]).shape == (frames, 22, 3) for s in data["samples"])
        ids.update(s["id"] for s in data["samples"])
    assert len(ids) == sum(b["num_samples"] for b in bodies)
    stats = app.state.queue.stats
    assert stats.jobs_done == 16 and stats.batches < 16 and stats.largest_batch > 2  # requests shared model calls
    # Batching changes nothing: a motion depends only on its prompt, length, seed and weights.
    for i in (0, 5, 11):
        b = bodies[i]
        alone = pipe(b["prompt"], seconds=b["seconds"], seed=b["seed"], w_cfg=b["w_cfg"])[0]
        np.testing.assert_allclose(np.asarray(responses[i].json()["samples"][0]["joints"]), alone.joints, atol=2e-4)


# --------------------------------------------------------------------------- clients that leave or stall


def test_the_pipeline_stops_between_steps_when_cancelled(pipe: RAMPipeline) -> None:
    checks = 0

    def cancelled() -> bool:
        nonlocal checks
        checks += 1
        return checks == 4  # before the first step, after steps 1 and 2: go on; after step 3: stop

    with pytest.raises(GenerationCancelled, match="after step 3"):
        pipe(["a person walks", "a person jumps"], seconds=1.0, seed=0, steps=20, cancelled=cancelled)
    assert checks == 4
    with pytest.raises(GenerationCancelled, match="before the first step"):
        pipe("a person walks", seconds=1.0, seed=0, cancelled=lambda: True)
    kept = pipe("a person walks", seconds=1.0, seed=0, cancelled=lambda: False)[0]  # a check that never fires changes nothing
    np.testing.assert_array_equal(kept.features, pipe("a person walks", seconds=1.0, seed=0)[0].features)


class StepPipeline:
    """The real pipeline behind a fake first part: each call signals `started`, then waits for `release`
    while checking `cancelled()` every 10 ms like the denoising loop does (at most 20 s)."""

    def __init__(self, pipe: RAMPipeline) -> None:
        self.pipe, self.started, self.release = pipe, threading.Event(), threading.Event()
        self.prompts: list[list[str]] = []
        self.stopped = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)

    def __call__(self, prompts: list[str], *, cancelled: Any = None, **kwargs: Any) -> Any:
        self.prompts.append(list(prompts))
        self.started.set()
        for _ in range(2000):
            if cancelled is not None and cancelled():
                self.stopped += 1
                raise GenerationCancelled("cancelled by the test's client")
            if self.release.wait(0.01):
                return self.pipe(prompts, cancelled=cancelled, **kwargs)
        raise AssertionError("neither released nor cancelled")


def _health(url: str) -> dict[str, Any]:
    return httpx.get(url + "/api/health", timeout=10).json()


def test_a_client_that_leaves_cancels_its_generation(pipe: RAMPipeline) -> None:
    """Real uvicorn, raw sockets: a client sends its request and closes the connection. Its queued job
    never starts, its running one stops, and the server is free for the next client."""
    stepper = StepPipeline(pipe)
    limits = ServerLimits(max_samples=1, max_batch_samples=1, max_in_flight=4, batch_window_s=0.0)
    app = create_app(stepper, limits, warmup=False)
    body = lambda prompt: json.dumps({"prompt": prompt, "seconds": 1.0, "seed": 0}).encode()  # noqa: E731
    with running_server(app, uvicorn_options(limits)) as url:
        # 1. A running job whose client leaves stops (the pipeline's cancel check turns true).
        runner = raw_post(url, "/api/generate", body("a person leaves while running"))
        assert stepper.started.wait(20)
        runner.close()
        wait_until(lambda: _health(url)["in_flight"] == 0, what="the running job to be cancelled")
        assert stepper.stopped == 1 and app.state.queue.stats.jobs_cancelled == 1 and app.state.queue.stats.jobs_done == 0

        # 2. A queued job whose client leaves never starts.
        stepper.started.clear()
        stays = raw_post(url, "/api/generate", body("a person stays"))
        assert stepper.started.wait(20)  # the worker is busy with it
        leaves = raw_post(url, "/api/generate", body("a person leaves while queued"))
        wait_until(lambda: _health(url)["queued"] == 1, what="the second request to be queued")
        leaves.close()
        wait_until(lambda: _health(url)["queued"] == 0, what="the queued job to be dropped")
        assert _health(url)["in_flight"] == 1  # only the live request holds a slot now
        stepper.release.set()
        answer = read_until_closed_or_response(stays)
        stays.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        health = _health(url)
        assert health["in_flight"] == 0 and health["jobs_cancelled"] == 2
        assert stepper.prompts == [["a person leaves while running"], ["a person stays"]]  # the queued one never ran
        r = httpx.post(url + "/api/generate", json={"prompt": "a person jumps", "seconds": 1.0, "seed": 1}, timeout=60)
        assert r.status_code == 200 and len(r.json()["samples"]) == 1


def read_until_closed_or_response(sock: socket.socket) -> bytes:
    """Read one HTTP response with a Content-Length body (the connection may stay open)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def test_a_stalled_body_gets_408_and_the_connection_is_closed(pipe: RAMPipeline) -> None:
    limits = ServerLimits(body_timeout_s=0.3)
    app = create_app(pipe, limits, warmup=False)
    with running_server(app, uvicorn_options(limits)) as url:
        partial = b'{"prompt": "a person'
        sock = raw_post(url, "/api/generate", partial, content_length=len(partial) + 20)  # 20 bytes never come
        answer = read_until_closed(sock)  # returns only because the server closes the connection
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert b"connection: close" in head.lower()
        err = json.loads(payload)
        assert err["code"] == "body_timeout" and "0.3 s" in err["detail"] and err["field"] is None
        # A body that arrives in time, even in pieces, is served as before.
        full = json.dumps({"prompt": "a person jumps", "seconds": 1.0, "seed": 0}).encode()
        sock = raw_post(url, "/api/generate", full[:10], content_length=len(full))
        sock.sendall(full[10:])
        answer = read_until_closed_or_response(sock)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert _health(url)["in_flight"] == 0


def test_stalled_headers_are_cut_off(pipe: RAMPipeline) -> None:
    """A client that connects and sends nothing, or half its headers, is disconnected after
    header_timeout_s (uvicorn alone would hold it forever); requests in time are served."""
    limits = ServerLimits(header_timeout_s=0.4)
    app = create_app(pipe, limits, warmup=False)
    with running_server(app, uvicorn_options(limits)) as url:
        host, port = url.removeprefix("http://").split(":")
        silent = socket.create_connection((host, int(port)), timeout=10)
        half = socket.create_connection((host, int(port)), timeout=10)
        half.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never finished
        started = time.monotonic()
        assert read_until_closed(silent) == b"" and read_until_closed(half) == b""  # closed by the server
        assert 0.3 < time.monotonic() - started < 5.0
        silent.close()
        half.close()
        # A keep-alive client's second request, sent in pieces within the deadline, is answered.
        sock = socket.create_connection((host, int(port)), timeout=10)
        request = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        sock.sendall(request)
        assert read_until_closed_or_response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(request[:10])
        time.sleep(0.2)
        sock.sendall(request[10:])
        assert read_until_closed_or_response(sock).startswith(b"HTTP/1.1 200")
        sock.close()


def test_uvicorn_is_given_connection_limits(pipe: RAMPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from ramotion.cli import main

    options = uvicorn_options(ServerLimits(max_in_flight=32, header_timeout_s=7.0))
    assert options["timeout_keep_alive"] == 5 and options["limit_concurrency"] == 128 and options["http"].header_timeout_s == 7.0
    assert uvicorn_options(ServerLimits(max_in_flight=2))["limit_concurrency"] == 64
    seen: dict[str, Any] = {}
    monkeypatch.setattr(RAMPipeline, "from_pretrained", classmethod(lambda cls, *a, **k: pipe))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs, app=app))
    assert main(["serve", "--model", str(tmp_path), "--max-in-flight", "40", "--body-timeout", "2.5", "--header-timeout", "3"]) == 0
    assert seen["timeout_keep_alive"] == 5 and seen["limit_concurrency"] == 160 and seen["http"].header_timeout_s == 3.0
    assert seen["app"].state.limits.body_timeout_s == 2.5 and seen["app"].state.limits.header_timeout_s == 3.0


# --------------------------------------------------------------------------- the CLI verb


def test_serve_cli_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ramotion.cli import main
    from ramotion.cli.serve import is_loopback
    from ramotion.pipeline import default_model_dir

    assert main(["serve", "--port", "0", "--model", str(tmp_path)]) == 2
    assert "--port must be in 1..65535" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip()
    assert main(["serve", "--max-samples", "0", "--model", str(tmp_path)]) == 2
    assert "max_samples must be a positive whole number" in capsys.readouterr().err
    if default_model_dir() is None:
        assert main(["serve"]) == 2
        err = capsys.readouterr().err
        assert "no bundled default model" in err and "--model" in err
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")
