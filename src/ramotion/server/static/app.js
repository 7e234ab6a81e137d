// The page's logic: read the server's limits, send /api/generate, show errors, drive the viewer.
// The 3D viewer (viewer.js, which needs three.js) is imported dynamically: if three.js is
// missing, generation and downloads still work and a banner says what to run.

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('controls'), prompt: $('prompt'), promptCount: $('prompt-count'), promptMax: $('prompt-max'),
  examples: $('examples'), seconds: $('seconds'), secondsOut: $('seconds-out'),
  samples: $('num-samples'), samplesOut: $('samples-out'), wCfg: $('w-cfg'), wCfgOut: $('wcfg-out'),
  wReg: $('w-reg'), wRegOut: $('wreg-out'), seed: $('seed'), dice: $('dice'), generate: $('generate'),
  status: $('status'), error: $('error'), banner: $('banner'), modelInfo: $('model-info'),
  viewer: $('viewer'), empty: $('viewer-empty'), play: $('play'), scrub: $('scrub'),
  frameLabel: $('frame-label'), sampleList: $('samples'), focusTabs: $('focus-tabs'),
};
let viewer = null;
let info = null;

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
  const pairs = [[ui.seconds, ui.secondsOut, (v) => `${Number(v).toFixed(1)} s`], [ui.samples, ui.samplesOut, (v) => v],
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
      ui.frameLabel.textContent = `${frame + 1} / ${total} · ${(frame / viewer.fps).toFixed(2)} s`;
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

function requestBody() {
  const body = {
    prompt: ui.prompt.value,
    seconds: Number(ui.seconds.value),
    num_samples: Number(ui.samples.value),
    w_cfg: Number(ui.wCfg.value),
    w_reg: Number(ui.wReg.value),
  };
  if (ui.seed.value !== '') body.seed = Number(ui.seed.value);
  return body;
}

let busy = false;  // one request at a time: the button and Ctrl+Enter both check it

async function generate(event) {
  event?.preventDefault();
  if (busy) return;
  busy = true;
  showError('');
  ui.generate.disabled = true;
  setState('generating');
  const started = performance.now();
  ui.status.textContent = 'Generating…';
  try {
    const response = await fetch('/api/generate', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(requestBody()),
    });
    if (!response.ok) {
      showError(await errorText(response));
      ui.status.textContent = '';
      setState('error');
      return;
    }
    const data = await response.json();
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    ui.status.textContent = `${data.samples.length} sample${data.samples.length > 1 ? 's' : ''} in ${secs} s (model ${data.timing.generate_s.toFixed(1)} s, queued ${data.timing.queued_s.toFixed(1)} s)`;
    showMotions(data);
    setState('done');
    // On a phone the viewer sits below the controls: bring the result into view.
    if (window.matchMedia('(max-width: 820px)').matches) ui.viewer.scrollIntoView({ behavior: 'smooth', block: 'start' });
  } catch (err) {
    showError(`Cannot reach the server: ${err.message || err}`);
    ui.status.textContent = '';
    setState('error');
  } finally {
    busy = false;
    ui.generate.disabled = false;
  }
}

function showMotions(data) {
  ui.empty.hidden = true;
  if (viewer) {
    viewer.setMotions(data);
    ui.play.disabled = false;
    ui.scrub.disabled = false;
    ui.play.textContent = 'Pause';
  }
  showFocusTabs(data.samples.length);
  ui.sampleList.replaceChildren(...data.samples.map((s, i) => {
    const card = document.createElement('div');
    card.className = 'sample-card';
    card.dataset.sampleId = s.id;
    const links = Object.entries(s.downloads).map(([fmt, url]) =>
      `<a href="${escapeHtml(url)}" download data-format="${fmt}" title="${fmt === 'mp4' ? 'rendered on first download: takes a few seconds' : `download ${fmt.toUpperCase()}`}">${fmt.toUpperCase()}</a>`).join('');
    card.innerHTML = `<div class="title">Sample ${i + 1} <span class="meta">${i === 0 ? '(left)' : i === data.samples.length - 1 ? '(right)' : ''}</span></div>
      <div class="meta">seed ${s.seed} · ${s.num_frames} frames · ${(s.num_frames / data.fps).toFixed(1)} s</div>
      <div class="downloads">${links}</div>`;
    return card;
  }));
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.innerHTML = '<span><span class="swatch" style="background:var(--left)"></span>left side</span><span><span class="swatch" style="background:var(--right)"></span>right side</span>';
  ui.sampleList.append(legend);
}

// One tab per sample and "All": which samples the camera frames. A narrow screen (a phone)
// starts on sample 1 alone, where all side by side would make each figure tiny.
function showFocusTabs(n) {
  if (!viewer || n < 2) { ui.focusTabs.hidden = true; ui.focusTabs.replaceChildren(); if (viewer) viewer.focus(null); return; }
  const narrow = window.matchMedia('(max-width: 600px)').matches;
  const choices = [...Array(n).keys(), null];
  const buttons = choices.map((index) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'small';
    b.setAttribute('role', 'tab');
    b.dataset.focus = index === null ? 'all' : String(index);
    b.textContent = index === null ? 'All' : `Sample ${index + 1}`;
    b.addEventListener('click', () => select(index));
    return b;
  });
  function select(index) {
    viewer.focus(index);
    buttons.forEach((b, k) => b.setAttribute('aria-selected', String(choices[k] === index)));
  }
  ui.focusTabs.replaceChildren(...buttons);
  ui.focusTabs.hidden = false;
  select(narrow ? 0 : null);
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
  ui.form.addEventListener('submit', generate);
  ui.prompt.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) generate(e); });
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
