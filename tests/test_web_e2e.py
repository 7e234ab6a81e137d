"""The web page end to end, in a real headless Chromium (the system's, driven by Playwright).

A real uvicorn server on 127.0.0.1 serves a tiny random model; the test loads the page,
types a prompt, generates, checks that the canvas animates (pixels change between two
screenshots), downloads a BVH and parses it, and checks that an API error shows in the
page. Skipped, with the reason, only when Chromium, Playwright or three.js is missing.

The Edit tab gets one round trip: upload an NPY, keep its first and last second, prompt, and
see the edit beside the original (desktop and phone).

Set RAMOTION_WEB_SCREENSHOTS=DIR to keep the page's screenshots (web_*.png) in DIR.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from ramotion.pipeline import RAMPipeline
from ramotion.server import LOOPBACK_HOSTS, ServerLimits, create_app
from ramotion.server.vendor import THREE_MISSING_HINT, find_three

from ._server_helpers import running_server, save_tiny_model

CHROMIUM = os.environ.get("RAMOTION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # WebGL without a GPU: SwiftShader through ANGLE.
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]  # fmt: skip

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e .[test]")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no system Chromium at {CHROMIUM}: apt-get install -y chromium", allow_module_level=True)
if find_three() is None:
    pytest.skip(THREE_MISSING_HINT, allow_module_level=True)


@pytest.fixture(scope="module")
def encoder():
    from ramotion.text.encoder import TextEncoder

    return TextEncoder(device="cpu")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("web_model"), encoder)


@pytest.fixture(scope="module")
def pipe(model_dir: Path, encoder) -> RAMPipeline:
    return RAMPipeline.from_pretrained(model_dir, device="cpu", dtype="float32", text_encoder=encoder)


@pytest.fixture(scope="module")
def server_url(pipe: RAMPipeline):
    app = create_app(pipe, ServerLimits(max_samples=4), allowed_hosts=LOOPBACK_HOSTS)
    with running_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def default_server_url(encoder):
    """The server on the bundled model: person-sized motions, to judge what a phone shows."""
    pipe = RAMPipeline.from_pretrained(device="cpu", dtype="float32", text_encoder=encoder)
    app = create_app(pipe, ServerLimits(max_samples=4), allowed_hosts=LOOPBACK_HOSTS)
    with running_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    yield page
    context.close()


def _keep(shot: Path) -> None:
    """Copy a screenshot to $RAMOTION_WEB_SCREENSHOTS, when set."""
    folder = os.environ.get("RAMOTION_WEB_SCREENSHOTS")
    if folder:
        shutil.copy(shot, Path(folder) / shot.name)


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _changed(page, canvas, reference: np.ndarray, timeout_ms: int = 5000) -> np.ndarray | None:
    """The first canvas screenshot that differs visibly from `reference`, or None within the timeout."""
    for _ in range(max(1, timeout_ms // 100)):
        shot = _pixels(canvas.screenshot())
        if (np.abs(shot - reference).max(axis=-1) > 8).mean() > 0.001:
            return shot
        page.wait_for_timeout(100)
    return None


def _settled(page, canvas, timeout_ms: int = 5000) -> np.ndarray | None:
    """A canvas screenshot equal to the one taken 400 ms before it, or None within the timeout."""
    previous = _pixels(canvas.screenshot())
    for _ in range(max(1, timeout_ms // 400)):
        page.wait_for_timeout(400)
        shot = _pixels(canvas.screenshot())
        if np.abs(shot - previous).max() <= 8:
            return shot
        previous = shot
    return None


def test_generate_watch_and_download(page, server_url: str, pipe: RAMPipeline, tmp_path: Path) -> None:
    page.goto(server_url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    assert page.evaluate("Boolean(window.ramotionViewer)"), f"the 3D viewer did not start: {page.errors}"
    assert page.locator("#banner").is_hidden(), page.locator("#banner").inner_text()
    assert page.locator(".chip").count() >= 4  # example prompts
    assert page.locator("#auto-length-label").is_hidden() and page.locator("#seconds").is_enabled()  # no length predictor here
    page.screenshot(path=str(tmp_path / "web_before.png"))
    _keep(tmp_path / "web_before.png")

    page.fill("#prompt", "a person walks forward and waves")
    page.fill("#seed", "7")
    page.locator("#num-samples").fill("3")
    page.click("#generate")
    page.wait_for_selector("body[data-state=done]", timeout=60_000)
    assert page.locator(".sample-card").count() == 3
    assert "seed 7" in page.locator(".sample-card").first.inner_text()

    # The canvas animates: two screenshots some frames apart differ.
    canvas = page.locator("#viewer-canvas")
    page.wait_for_timeout(300)
    first = _pixels(canvas.screenshot())
    second = _changed(page, canvas, first)
    assert second is not None, "the canvas did not change between frames"
    assert first.std() > 5  # something is drawn (not a blank canvas)
    page.screenshot(path=str(tmp_path / "web_after.png"))
    _keep(tmp_path / "web_after.png")

    # Pause stops the animation; the scrubber moves it. Poll rather than sleep a fixed
    # time: on a loaded machine a frame can take longer than any fixed wait.
    page.click("#play")
    paused_b = _settled(page, canvas)
    assert paused_b is not None, "the canvas kept moving while paused"
    page.locator("#scrub").fill("0")
    scrubbed = _changed(page, canvas, paused_b)
    assert scrubbed is not None, "scrubbing did not change the pose"

    # Download the first sample's BVH and parse it (ours, and an independent parser).
    with page.expect_download() as info:
        page.locator(".sample-card").first.locator("a[data-format=bvh]").click()
    download = info.value
    assert download.suggested_filename.endswith("_seed7.bvh")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    from ramotion.mocap.importing import import_bvh

    joints, fps = import_bvh(path)  # (T, 22, 3)
    assert fps == 20.0 and joints.shape == (80, 22, 3)  # 4 s at 20 fps (the page's default length)
    # It is the sample the page showed: the same motion made here, exported, reads back the same.
    shown = np.asarray(page.evaluate("Array.from(window.ramotionViewer.motions[0].joints)"), dtype=np.float64).reshape(80, 22, 3)
    motion = pipe("a person walks forward and waves", seconds=4.0, seed=7)[0]
    np.testing.assert_allclose(motion.joints, shown, atol=1e-4)  # the API's joints are rounded to 0.1 mm
    motion.save(tmp_path / "reference.bvh")
    np.testing.assert_allclose(joints, import_bvh(tmp_path / "reference.bvh")[0], atol=1e-5)
    bones = np.linalg.norm(joints[:, 1:] - joints[:, list(pipe.skeleton.parents[1:])], axis=-1)  # (T, 21)
    assert bones.std(axis=0).max() < 1e-4  # a rigid skeleton, as a BVH must be
    bvh = pytest.importorskip("bvh")
    parsed = bvh.Bvh(path.read_text())
    assert parsed.nframes == 80 and abs(parsed.frame_time - 0.05) < 1e-6
    assert not page.errors, page.errors


def test_api_errors_show_in_the_page(page, server_url: str) -> None:
    page.goto(server_url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    # 450 characters, over the 300 limit: set by script, past the box's own maxlength, so
    # that the server's refusal is what the page shows.
    page.evaluate("(t) => { document.querySelector('#prompt').value = t; }", "a person jumps " * 30)
    page.click("#generate")
    page.wait_for_selector("body[data-state=error]", timeout=30_000)
    text = page.locator("#error").inner_text()
    assert "413" in text and "at most 300" in text, text
    assert page.locator(".sample-card").count() == 0


def test_page_says_what_to_run_without_three_js(browser, pipe: RAMPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ramotion.server import app as app_module

    monkeypatch.setattr(app_module, "find_three", lambda: None)
    with running_server(create_app(pipe, warmup=False)) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        banner = page.locator("#banner")
        assert banner.is_visible()
        assert "npm ci --prefix web" in banner.inner_text()
        shot = tmp_path / "web_no_three.png"
        page.screenshot(path=str(shot))
        _keep(shot)
        context.close()


def test_phone_viewport(browser, default_server_url: str, tmp_path: Path) -> None:
    """A 390 x 844 phone: one header line, the box refuses text over the limit, Ctrl+Enter
    during a generation sends no second request, the result scrolls into view, and the
    figure is readable: the camera frames sample 1 alone (tabs switch samples, "All" shows
    them side by side, each then a fraction of the height)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto(default_server_url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    assert page.locator(".topbar").bounding_box()["height"] < 60  # one line
    page.locator("#prompt").click()
    page.keyboard.insert_text("a person jumps " * 30)  # 450 characters typed
    assert len(page.locator("#prompt").input_value()) == 300
    page.fill("#prompt", "a person walks forward")
    # The bundled model predicts each prompt's length: "auto" is on and the slider waits.
    assert page.locator("#auto-length").is_checked() and page.locator("#seconds").is_disabled()
    requests: list[str] = []
    bodies: list[dict] = []
    page.on("request", lambda r: (requests.append(r.url), bodies.append(r.post_data_json)) if r.url.endswith("/api/generate") else None)
    page.locator("#prompt").press("Control+Enter")
    page.locator("#prompt").press("Control+Enter")  # while the first is running
    page.wait_for_selector("body[data-state=done]", timeout=60_000)
    page.wait_for_timeout(800)  # the smooth scroll
    assert len(requests) == 1, requests
    assert "seconds" not in bodies[0] and page.locator("#seconds-out").inner_text().startswith("auto (")
    box = page.locator("#viewer").bounding_box()  # relative to the visible viewport
    assert -2 <= box["y"] < 844 / 2 and box["height"] >= 300, box
    tabs = page.locator("#focus-tabs button")
    assert tabs.count() == 4 and page.locator("#focus-tabs [aria-selected=true]").inner_text() == "Sample 1"
    page.wait_for_timeout(300)
    one = page.evaluate("window.ramotionViewer.figureHeightPx()")
    assert one >= 0.4 * box["height"], (one, box)  # a figure 40% of the viewer's height or more (it walks away from the camera)
    shot = tmp_path / "web_phone.png"
    page.screenshot(path=str(shot))
    _keep(shot)
    page.locator("#focus-tabs [data-focus=all]").click()
    page.wait_for_timeout(300)
    everyone = page.evaluate("window.ramotionViewer.figureHeightPx()")
    assert everyone < 0.8 * one, (everyone, one)  # side by side: smaller, as the tabs exist for
    page.locator("#focus-tabs [data-focus='2']").click()
    assert page.evaluate("window.ramotionViewer.focused") == 2
    shot = tmp_path / "web_phone_all.png"
    page.locator("#focus-tabs [data-focus=all]").click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(shot))
    _keep(shot)
    context.close()


def _figure_pixels(shot: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of a drawn skeleton (far from the background; the grid's lines are not)."""
    background = np.array([0x0F, 0x11, 0x15])
    return np.abs(shot - background).max(axis=-1) > 90


def test_edit_round_trip(browser, server_url: str, pipe: RAMPipeline, tmp_path: Path) -> None:
    """The Edit tab: upload an NPY of joints, keep its first and last second (the timeline's
    default), type a prompt, and see the edit beside the original; then a file the server refuses,
    and the same round trip on a phone."""
    from .test_edit import walking_joints

    walk = tmp_path / "walk.npy"
    np.save(walk, walking_joints(61).astype(np.float32))  # 3 s: 60 frames of features
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server_url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    page.click("#tool-edit")
    assert page.locator("#edit-panel").is_visible() and page.locator("#seconds").is_hidden()
    assert page.locator("#generate").inner_text() == "Edit"
    page.set_input_files("#edit-file", str(walk))
    page.wait_for_selector("body[data-source=loaded]", timeout=30_000)
    assert "walk.npy · 60 frames · 3.0 s" in page.locator("#edit-source-info").inner_text()
    assert page.locator("#keep-first").input_value() == "20" and page.locator("#keep-last").input_value() == "40"  # 1 s at each end
    assert "keep 0–1.00 s · generate 1.00–2.00 s · keep 2.00–3.00 s" in page.locator("#keep-label").inner_text()
    assert page.evaluate("window.ramotionViewer.motions.length") == 1  # the original alone, before editing

    page.fill("#prompt", "a person jumps")
    page.fill("#seed", "5")
    page.locator("#num-samples").fill("1")
    page.click("#generate")
    page.wait_for_selector("body[data-state=done]", timeout=60_000)
    cards = page.locator(".sample-card")
    assert cards.count() == 2 and cards.first.inner_text().startswith("Original") and "seed 5" in cards.nth(1).inner_text()
    assert [t.strip() for t in page.locator("#focus-tabs button").all_inner_texts()] == ["Original", "Edit", "All"]
    assert page.locator("#kept-strip span").count() == 2  # the kept ends, marked under the scrubber
    shown = np.asarray(page.evaluate("window.ramotionViewer.motions.map((m) => Array.from(m.joints))"), dtype=np.float64).reshape(2, 60, 22, 3)
    source, edited = shown
    np.testing.assert_allclose(edited[:20], source[:20], atol=2e-4)  # kept frames: exactly the original's
    np.testing.assert_allclose(edited[40:], source[40:], atol=3e-4)
    expected = pipe.inbetween("a person jumps", walking_joints(61), keep_frames=[(0, 20), (40, 60)], seed=5, steps=20)[0]
    np.testing.assert_allclose(edited, expected.joints, atol=2e-4)  # the edit the pipeline makes
    # Two figures drawn side by side: skeleton pixels in both halves of the canvas.
    page.click("#play")  # pause, on the last frame of the kept end
    page.locator("#scrub").fill("55")
    canvas = page.locator("#viewer-canvas")
    still = _settled(page, canvas)
    assert still is not None, "the canvas kept moving while paused"
    figures = _figure_pixels(still)
    half = figures.shape[1] // 2
    assert figures[:, :half].sum() > 50 and figures[:, half:].sum() > 50, (figures[:, :half].sum(), figures[:, half:].sum())
    assert "kept" in page.locator("#frame-label").inner_text()
    page.screenshot(path=str(tmp_path / "web_edit.png"))
    _keep(tmp_path / "web_edit.png")
    with page.expect_download() as info:
        cards.nth(1).locator("a[data-format=npy]").click()
    assert np.load(info.value.path(), allow_pickle=False).shape == (60, 22, 3)

    # A file the server cannot use: the page says why, and keeps the motion it had.
    bad = tmp_path / "smpl.npy"
    np.save(bad, np.zeros((30, 24, 3), np.float32))
    page.set_input_files("#edit-file", str(bad))
    page.wait_for_selector("body[data-state=error]", timeout=30_000)
    assert "422" in page.locator("#error").inner_text() and "unknown joint count 24" in page.locator("#error").inner_text()
    assert "walk.npy" in page.locator("#edit-source-info").inner_text()
    assert not errors, errors
    context.close()

    # A phone: the same round trip fits the screen's width, and shows the original and the edit.
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto(server_url + "/")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    page.click("#tool-edit")
    page.set_input_files("#edit-file", str(walk))
    page.wait_for_selector("body[data-source=loaded]", timeout=30_000)
    page.locator("label:has(input[value=continue])").click()
    assert page.locator("#continue-seconds").is_visible() and page.locator("#edit-timeline").is_hidden()
    page.fill("#prompt", "a person sits down")
    page.locator("#num-samples").fill("1")
    page.click("#generate")
    page.wait_for_selector("body[data-state=done]", timeout=60_000)
    page.wait_for_timeout(800)  # the smooth scroll
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    assert page.locator("#focus-tabs [aria-selected=true]").inner_text() == "All"  # both, side by side
    assert page.evaluate("window.ramotionViewer.motions.map((m) => m.frames)") == [60, 100]  # 3 s + 2 s
    shot = tmp_path / "web_edit_phone.png"
    page.screenshot(path=str(shot))
    _keep(shot)
    context.close()
