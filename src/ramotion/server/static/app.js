// The page's logic: read the server's limits, send /api/generate, show errors, drive the viewer.
// The 3D viewer (viewer.js, which needs three.js) is imported dynamically: if three.js is
// missing, generation and downloads still work and a banner says what to run. The Edit tab's
// controls are edit.js; they share this file's request, error and display functions.
import { setupEdit } from './edit.js';

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('controls'), prompt: $('prompt'), promptCount: $('prompt-count'), promptMax: $('prompt-max'),
  examples: $('examples'), seconds: $('seconds'), secondsOut: $('seconds-out'), autoLength: $('auto-length'), autoLengthLabel: $('auto-length-label'),
  samples: $('num-samples'), samplesOut: $('samples-out'), wCfg: $('w-cfg'), wCfgOut: $('wcfg-out'),
  wReg: $('w-reg'), wRegOut: $('wreg-out'), seed: $('seed'), dice: $('dice'), generate: $('generate'),
  status: $('status'), error: $('error'), banner: $('banner'), modelInfo: $('model-info'),
  viewer: $('viewer'), empty: $('viewer-empty'), play: $('play'), scrub: $('scrub'),
  frameLabel: $('frame-label'), sampleList: $('samples'), focusTabs: $('focus-tabs'),
  tools: $('tools'), keptStrip: $('kept-strip'),
};
let viewer = null;
let info = null;
let shown = null;   // the answer in view ({fps, skeleton, samples, kept_frames?}); "use the motion in view" reads it
let tool = 'generate';
let edit = null;    // edit.js's controls
const EMPTY_TEXT = { generate: ui.empty.innerHTML, edit: '<span>Upload a BVH or NPY, or generate a motion and press <b>Use the motion in view</b>. Drag to orbit, scroll to zoom.</span>' };

function setState(state) { document.body.dataset.state = state; }

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

function showBanner(html) {
  ui.banner.innerHTML = html;
  ui.banner.hidden = false;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** Mirror each slider's value into its <output>. */
function bindOutputs() {
  const pairs = [[ui.seconds, ui.secondsOut, (v) => (ui.autoLength.checked ? 'auto' : `${Number(v).toFixed(1)} s`)], [ui.samples, ui.samplesOut, (v) => v],
    [ui.wCfg, ui.wCfgOut, (v) => Number(v).toFixed(1)], [ui.wReg, ui.wRegOut, (v) => Number(v).toFixed(1)]];
  for (const [input, output, fmt] of pairs) {
    const update = () => { output.textContent = fmt(input.value); };
    input.addEventListener('input', update);
    update();
  }
  const count = () => {
    const n = ui.prompt.value.trim().length;
    ui.promptCount.textContent = n;
    ui.promptCount.parentElement.classList.toggle('over', info && n > info.limits.max_prompt_chars);
  };
  ui.prompt.addEventListener('input', count);
  count();
  ui.autoLength.addEventListener('change', () => { ui.seconds.disabled = ui.autoLength.checked; ui.seconds.dispatchEvent(new Event('input')); });
}

/** Apply /api/info: limits on the controls, example prompts, model line, viewer status. */
function applyInfo(data) {
  info = data;
  const lim = data.limits;
  ui.promptMax.textContent = lim.max_prompt_chars;
  ui.prompt.maxLength = lim.max_prompt_chars;  // the box refuses what the server would
  ui.seconds.min = lim.min_seconds;
  ui.seconds.max = Math.floor(lim.max_seconds * 10) / 10;
  ui.samples.max = lim.max_samples;
  ui.samples.value = Math.min(Number(ui.samples.value), lim.max_samples);
  ui.wCfg.max = lim.max_w_cfg;
  ui.wReg.max = lim.max_w_reg;
  ui.wCfg.value = data.model.w_cfg;  // the model's own defaults (the bundled model's were chosen on validation data)
  ui.wReg.value = data.model.w_reg;
  if (!data.model.motion_encoder) { ui.wReg.value = 0; ui.wReg.disabled = true; }
  // A model with a length predictor chooses each prompt's length unless the user sets one.
  ui.autoLengthLabel.hidden = !data.model.length_predictor;
  ui.autoLength.checked = Boolean(data.model.length_predictor);
  ui.seconds.disabled = ui.autoLength.checked;
  ui.modelInfo.textContent = `${data.model.skeleton} skeleton · ${data.model.fps} fps · up to ${lim.max_seconds.toFixed(1)} s · ${data.model.steps} steps · text model ${data.model.text_model}`;
  ui.examples.replaceChildren(...data.examples.map((text) => {
    const chip = document.createElement('button');
    chip.type = 'button';
    chip.className = 'chip';
    chip.textContent = text;
    chip.addEventListener('click', () => { ui.prompt.value = text; ui.prompt.dispatchEvent(new Event('input')); ui.prompt.focus(); });
    return chip;
  }));
  for (const el of [ui.seconds, ui.samples, ui.wCfg, ui.wReg]) el.dispatchEvent(new Event('input'));
  edit?.applyInfo(data);
  if (!data.viewer.three_js) {
    showBanner(`${escapeHtml(data.viewer.hint).replace(/`([^`]+)`/g, '<code>$1</code>')}. Generation and downloads still work.`);
    ui.empty.textContent = 'No 3D view (see the note above). Generated samples can still be downloaded below.';
  }
}

async function loadViewer() {
  if (info && !info.viewer.three_js) return;
  try {
    const { MotionViewer } = await import('./viewer.js');
    viewer = new MotionViewer(ui.viewer);
    viewer.onFrame = (frame, total) => {
      ui.scrub.max = total - 1;
      if (viewer.playing) ui.scrub.value = frame;
      const kept = shown?.kept_frames;
      const where = kept?.length ? (kept.some(([a, b]) => frame >= a && frame < b) ? ' · kept' : ' · new') : '';
      ui.frameLabel.textContent = `${frame + 1} / ${total} · ${(frame / viewer.fps).toFixed(2)} s${where}`;
    };
    window.ramotionViewer = viewer;   // for scripted checks (the end-to-end test)
  } catch (err) {
    showBanner(`<b>The 3D viewer could not start:</b> ${escapeHtml(err.message || err)}. ` +
      'If three.js is missing, run <code>npm ci --prefix web</code> in the ramotion source folder and restart <code>ramotion serve</code>; ' +
      'if WebGL is off, enable hardware acceleration in the browser.');
    ui.empty.textContent = 'No 3D view (see the note above). Generated samples can still be downloaded below.';
  }
}

/** One-line text for a failed API call, from the server's {"detail", "code"} body. */
async function errorText(response) {
  let detail = '';
  try {
    const body = await response.json();
    detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
  } catch { detail = response.statusText; }
  if (response.status === 429) return `Server busy: ${detail}`;
  return `Error ${response.status}: ${detail}`;
}

/** The fields generation and editing share: prompt, samples, guidance weights, seed. */
function commonBody() {
  const body = {
    prompt: ui.prompt.value,
    num_samples: Number(ui.samples.value),
    w_cfg: Number(ui.wCfg.value),
    w_reg: Number(ui.wReg.value),
  };
  if (ui.seed.value !== '') body.seed = Number(ui.seed.value);
  return body;
}

function requestBody() {
  return ui.autoLength.checked ? commonBody() : { ...commonBody(), seconds: Number(ui.seconds.value) };
}

let busy = false;  // one request at a time: the button and Ctrl+Enter both check it

/** POST `body` to `path` while the status line says `what`; the answer's JSON, or null once the
 *  error is shown (or while another request runs). The caller sets the state after a success. */
async function post(path, body, what) {
  if (busy) return null;
  busy = true;
  showError('');
  ui.generate.disabled = true;
  setState('generating');
  ui.status.textContent = what;
  try {
    const response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) {
      showError(await errorText(response));
      ui.status.textContent = '';
      setState('error');
      return null;
    }
    return await response.json();
  } catch (err) {
    showError(`Cannot reach the server: ${err.message || err}`);
    ui.status.textContent = '';
    setState('error');
    return null;
  } finally {
    busy = false;
    ui.generate.disabled = false;
  }
}

/** On a phone the viewer sits below the controls: bring a result into view. */
function revealResult() {
  if (window.matchMedia('(max-width: 820px)').matches) ui.viewer.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function generate() {
  const started = performance.now();
  const data = await post('/api/generate', requestBody(), 'Generating…');
  if (!data) return;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  ui.status.textContent = `${data.samples.length} sample${data.samples.length > 1 ? 's' : ''} in ${secs} s (model ${data.timing.generate_s.toFixed(1)} s, queued ${data.timing.queued_s.toFixed(1)} s)`;
  if (ui.autoLength.checked) ui.secondsOut.textContent = `auto (${data.seconds.toFixed(1)} s)`;
  showMotions(data);
  setState('done');
  revealResult();
}

function submit(event) {
  event?.preventDefault();
  if (busy) return;
  if (tool === 'edit') edit.submit(); else generate();
}

/** Show an answer: its samples side by side in the viewer, a card with downloads for each.
 *  A sample may carry a `label` ("Original", "Edit 1"; default "Sample i"), a `name` and
 *  viewer styles (viewer.js); `kept_frames` marks an edit's kept frames under the scrubber, and
 *  `phoneFocus` is the sample a phone frames first (null: all). */
function showMotions(data) {
  shown = data;
  ui.empty.hidden = true;
  if (viewer) {
    viewer.setMotions(data);
    ui.play.disabled = false;
    ui.scrub.disabled = false;
    ui.play.textContent = 'Pause';
  }
  const label = (s, i) => s.label || `Sample ${i + 1}`;
  showFocusTabs(data.samples.map(label), data.phoneFocus === undefined ? 0 : data.phoneFocus);
  showKept(data.kept_frames, Math.max(...data.samples.map((s) => s.num_frames)));
  const n = data.samples.length;
  ui.sampleList.replaceChildren(...data.samples.map((s, i) => {
    const card = document.createElement('div');
    card.className = s.role === 'source' ? 'sample-card source' : 'sample-card';
    card.dataset.sampleId = s.id;
    const links = Object.entries(s.downloads).map(([fmt, url]) =>
      `<a href="${escapeHtml(url)}" download data-format="${fmt}" title="${fmt === 'mp4' ? 'rendered on first download: takes a few seconds' : `download ${fmt.toUpperCase()}`}">${fmt.toUpperCase()}</a>`).join('');
    const what = [s.seed !== undefined ? `seed ${s.seed}` : null, s.name ? escapeHtml(s.name) : null, `${s.num_frames} frames`, `${(s.num_frames / data.fps).toFixed(1)} s`];
    card.innerHTML = `<div class="title">${escapeHtml(label(s, i))} <span class="meta">${n < 2 ? '' : i === 0 ? '(left)' : i === n - 1 ? '(right)' : ''}</span></div>
      <div class="meta">${what.filter(Boolean).join(' · ')}</div>
      <div class="downloads">${links}</div>`;
    return card;
  }));
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.innerHTML = '<span><span class="swatch" style="background:var(--left)"></span>left side</span><span><span class="swatch" style="background:var(--right)"></span>right side</span>' +
    (data.samples.some((s) => s.highlight?.length) ? '<span><span class="swatch edited"></span>re-generated</span>' : '') +
    (data.kept_frames?.length ? '<span><span class="swatch" style="background:var(--kept)"></span>kept frames</span>' : '');
  ui.sampleList.append(legend);
  edit?.onShown();
}

/** The kept frame ranges of an edit as green marks under the scrubber (hidden for none). */
function showKept(ranges, total) {
  ui.keptStrip.hidden = !ranges?.length;
  ui.keptStrip.replaceChildren(...(ranges || []).map(([a, b]) => {
    const span = document.createElement('span');
    span.style.left = `${(100 * a) / total}%`;
    span.style.width = `${(100 * (b - a)) / total}%`;
    return span;
  }));
}

/** The sample the camera frames (the first when it frames all): what "use the motion in view" edits. */
function sampleInView() {
  if (!shown) return null;
  return shown.samples[viewer?.focused ?? 0] || shown.samples[0];
}

// One tab per sample and "All": which samples the camera frames. A narrow screen (a phone)
// starts on `phoneFocus` (sample 1 unless said otherwise), where all side by side would make
// each figure tiny.
function showFocusTabs(labels, phoneFocus) {
  const n = labels.length;
  if (!viewer || n < 2) { ui.focusTabs.hidden = true; ui.focusTabs.replaceChildren(); if (viewer) viewer.focus(null); return; }
  const narrow = window.matchMedia('(max-width: 600px)').matches;
  const choices = [...Array(n).keys(), null];
  const buttons = choices.map((index) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'small';
    b.setAttribute('role', 'tab');
    b.dataset.focus = index === null ? 'all' : String(index);
    b.textContent = index === null ? 'All' : labels[index];
    b.addEventListener('click', () => select(index));
    return b;
  });
  function select(index) {
    viewer.focus(index);
    buttons.forEach((b, k) => b.setAttribute('aria-selected', String(choices[k] === index)));
  }
  ui.focusTabs.replaceChildren(...buttons);
  ui.focusTabs.hidden = false;
  select(narrow ? phoneFocus : null);
}

/** Generate | Edit: which controls show, and what the main button does. */
function setTool(next) {
  tool = next;
  document.body.dataset.tool = next;
  for (const b of ui.tools.querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.tool === next));
  ui.generate.textContent = next === 'edit' ? 'Edit' : 'Generate';
  ui.prompt.placeholder = next === 'edit' ? 'a person jumps' : 'a person walks forward and waves with the right hand';
  if (viewer && !shown) ui.empty.innerHTML = EMPTY_TEXT[next];   // (without a viewer it says why instead)
  showError('');
}

function bindTransport() {
  ui.play.addEventListener('click', () => {
    if (!viewer) return;
    if (viewer.playing) { viewer.pause(); ui.play.textContent = 'Play'; } else { viewer.play(); ui.play.textContent = 'Pause'; }
  });
  ui.scrub.addEventListener('input', () => {
    if (!viewer) return;
    viewer.seek(Number(ui.scrub.value));
    ui.play.textContent = 'Play';
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === ' ' && e.target === document.body) { e.preventDefault(); ui.play.click(); }
  });
}

async function main() {
  bindOutputs();
  bindTransport();
  ui.form.addEventListener('submit', submit);
  ui.prompt.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e); });
  for (const b of ui.tools.querySelectorAll('button')) b.addEventListener('click', () => setTool(b.dataset.tool));
  edit = setupEdit({
    info: () => info, post, commonBody, showMotions, showError, setState, revealResult, sampleInView, status: ui.status,
  });
  ui.dice.addEventListener('click', () => { ui.seed.value = Math.floor(Math.random() * 1e6); });
  try {
    const response = await fetch('/api/info');
    if (!response.ok) throw new Error(await errorText(response));
    applyInfo(await response.json());
  } catch (err) {
    showError(`Cannot read the server's settings: ${err.message || err}`);
  }
  await loadViewer();
  setState('ready');
}

main();
