// The Edit tab: choose a motion (upload a BVH or NPY, or take the motion in view), say what to
// keep (its ends on a timeline, how long to continue it, or which body parts to re-generate),
// type a prompt, and see the edits beside the original. POST /api/sources reads an upload once
// and keeps it on the server; POST /api/edit then names it by id (see server/edit.py).

const PART_LABELS = {
  upper_body: 'upper body', lower_body: 'lower body', left_arm: 'left arm', right_arm: 'right arm',
  left_leg: 'left leg', right_leg: 'right leg', torso: 'torso', root: 'root (path)',
};

/** Wire the Edit tab's controls. `page` is app.js's: {info, post, commonBody, showMotions,
 *  showError, setState, revealResult, sampleInView, status}. Returns {submit, applyInfo, onShown}. */
export function setupEdit(page) {
  const $ = (id) => document.getElementById(id);
  const ui = {
    file: $('edit-file'), useCurrent: $('edit-use-current'), jointMap: $('edit-joint-map'), fps: $('edit-fps'),
    start: $('edit-start'), stop: $('edit-stop'), info: $('edit-source-info'),
    modes: [...document.querySelectorAll('input[name=edit_mode]')], panes: [...document.querySelectorAll('.mode-pane')],
    keepFirst: $('keep-first'), keepLast: $('keep-last'), firstBar: $('kept-first-bar'), lastBar: $('kept-last-bar'),
    keepLabel: $('keep-label'), contSeconds: $('continue-seconds'), contOut: $('continue-out'), parts: $('edit-parts'),
  };
  let source = null;   // {id, name, num_frames, ...} of the motion being edited (from /api/sources or /api/edit)
  let fps = 20;

  const mode = () => ui.modes.find((r) => r.checked).value;
  const secs = (frames) => (frames / fps).toFixed(2);

  function showMode() {
    for (const pane of ui.panes) pane.hidden = pane.dataset.mode !== mode();
  }

  // ---------------------------------------------------------------- the in-between timeline

  /** Kept ranges from the two handles: frames [0, first) and [last, T). */
  function keptRanges() {
    const T = source ? source.num_frames : 0;
    const first = Number(ui.keepFirst.value), last = Number(ui.keepLast.value);
    return [[0, first], [last, T]].filter(([a, b]) => b > a);
  }

  function updateTimeline(moved) {
    const T = source ? source.num_frames : 0;
    if (!T) return;
    let first = Number(ui.keepFirst.value), last = Number(ui.keepLast.value);
    // At least one frame between the handles is generated: the one being dragged gives way.
    if (first > last - 1) {
      if (moved === ui.keepLast) last = Math.min(T, first + 1); else first = Math.max(0, last - 1);
      if (first > last - 1) first = last - 1;
      ui.keepFirst.value = first;
      ui.keepLast.value = last;
    }
    ui.firstBar.style.left = '0';
    ui.firstBar.style.width = `${(100 * first) / T}%`;
    ui.lastBar.style.left = `${(100 * last) / T}%`;
    ui.lastBar.style.width = `${(100 * (T - last)) / T}%`;
    const parts = [];
    parts.push(first ? `keep 0–${secs(first)} s` : 'nothing kept at the start');
    parts.push(`generate ${secs(first)}–${secs(last)} s`);
    parts.push(last < T ? `keep ${secs(last)}–${secs(T)} s` : 'nothing kept at the end');
    ui.keepLabel.textContent = parts.join(' · ');
  }

  // ---------------------------------------------------------------- the source

  /** A File's bytes as base64 (the API takes a .npy base64-encoded inside its JSON). */
  function base64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  /** start / stop (seconds) from the file options, when set. */
  function cut() {
    const out = {};
    if (ui.start.value !== '') out.start = Number(ui.start.value);
    if (ui.stop.value !== '') out.stop = Number(ui.stop.value);
    return out;
  }

  async function upload(file) {
    const info = page.info();
    const isNpy = /\.npy$/i.test(file.name), isBvh = /\.bvh$/i.test(file.name);
    if (!isNpy && !isBvh) { page.showError(`${file.name}: choose a .bvh file or a .npy of joints (T, 22, 3) or features (T, 263)`); return; }
    const sent = isNpy ? Math.ceil(file.size / 3) * 4 : file.size;   // base64 grows a .npy by a third
    if (info && sent + 1024 > info.limits.max_upload_bytes) {
      const mb = (n) => (n / 1048576).toFixed(1);
      page.showError(`${file.name} is ${mb(file.size)} MB; this server reads files up to about ${mb(info.limits.max_upload_bytes * (isNpy ? 0.75 : 1))} MB: cut it first`);
      return;
    }
    const body = { name: file.name.slice(-200), ...cut() };   // the server takes names up to 200 characters
    if (isNpy) {
      body.npy = await base64(file);
      if (ui.fps.value !== '') body.fps = Number(ui.fps.value);
    } else {
      body.bvh = await file.text();
      if (ui.jointMap.value) body.joint_map = ui.jointMap.value;
    }
    await load(body, `Reading ${file.name}…`);
  }

  async function load(body, what) {
    const data = await page.post('/api/sources', body, what);
    if (!data) return;
    page.status.textContent = '';
    setSource(data.source, data.fps);
    page.showMotions({ fps: data.fps, skeleton: data.skeleton, samples: [{ ...data.source, label: 'Original', role: 'source' }] });
    page.setState('ready');
  }

  /** A new motion to edit: size the timeline and the continuation to it. */
  function setSource(src, rate) {
    const fresh = !source || source.num_frames !== src.num_frames;
    source = src;
    fps = rate;
    const T = src.num_frames;
    ui.info.textContent = `${src.name} · ${T} frames · ${(T / fps).toFixed(1)} s`;
    ui.info.classList.add('loaded');
    document.body.dataset.source = 'loaded';
    for (const el of [ui.keepFirst, ui.keepLast]) { el.max = T; el.disabled = false; }
    if (fresh) {   // keep 1 s at each end (a third of a short clip)
      const info = page.info();
      const keep = Math.min(Math.round((info?.edit?.default_keep_seconds ?? 1) * fps), Math.floor(T / 3));
      ui.keepFirst.value = keep;
      ui.keepLast.value = T - keep;
    }
    updateTimeline();
    const info = page.info();
    const room = (info ? info.limits.max_seconds : 9.8) - T / fps;
    ui.contSeconds.max = Math.max(0.1, Math.floor(room * 10) / 10);
    ui.contSeconds.min = Math.min(0.5, Number(ui.contSeconds.max));
    ui.contSeconds.dispatchEvent(new Event('input'));
  }

  // ---------------------------------------------------------------- sending the edit

  async function submit() {
    if (!source) {
      page.showError('Choose a motion to edit first: upload a BVH or NPY file, or generate one and press "Use the motion in view".');
      return;
    }
    const body = { ...page.commonBody(), mode: mode(), source: { id: source.id, name: source.name } };
    if (body.mode === 'inbetween') body.keep_frames = keptRanges();
    else if (body.mode === 'continue') body.seconds = Number(ui.contSeconds.value);
    else body.parts = [...ui.parts.querySelectorAll('input:checked')].map((c) => c.value);
    const started = performance.now();
    const data = await page.post('/api/edit', body, 'Editing…');
    if (!data) return;
    const took = ((performance.now() - started) / 1000).toFixed(1);
    const n = data.samples.length;
    page.status.textContent = `${n} edit${n > 1 ? 's' : ''} in ${took} s (model ${data.timing.generate_s.toFixed(1)} s, queued ${data.timing.queued_s.toFixed(1)} s)`;
    source = data.source;
    page.showMotions({
      ...data,
      samples: [
        { ...data.source, label: 'Original', role: 'source' },
        ...data.samples.map((s, i) => ({ ...s, label: n > 1 ? `Edit ${i + 1}` : 'Edit', highlight: data.edited_joints })),
      ],
      phoneFocus: n === 1 ? null : 1,   // a phone shows the original and one edit side by side
    });
    page.setState('done');
    page.revealResult();
  }

  // ---------------------------------------------------------------- wiring

  function applyInfo(info) {
    const edit = info.edit || {};
    for (const name of edit.joint_maps || []) {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      ui.jointMap.append(option);
    }
    ui.parts.replaceChildren(...(edit.body_parts || []).map((part) => {
      const label = document.createElement('label');
      label.className = 'chip part-chip';
      label.innerHTML = `<input type="checkbox" value="${part}"${part === 'upper_body' ? ' checked' : ''}> ${PART_LABELS[part] || part}`;
      return label;
    }));
    ui.contSeconds.value = edit.default_continue_seconds ?? 2;
    ui.contSeconds.dispatchEvent(new Event('input'));
  }

  /** After any answer is shown: the motion in view can be edited. */
  function onShown() {
    ui.useCurrent.disabled = !page.sampleInView();
  }

  ui.file.addEventListener('change', () => {
    const file = ui.file.files[0];
    if (file) upload(file);
    ui.file.value = '';   // choosing the same file again reads it again (e.g. with other options)
  });
  ui.useCurrent.addEventListener('click', () => {
    const s = page.sampleInView();
    if (s) load({ id: s.id, ...cut() }, 'Reading the motion in view…');
  });
  for (const radio of ui.modes) radio.addEventListener('change', showMode);
  for (const el of [ui.keepFirst, ui.keepLast]) el.addEventListener('input', () => updateTimeline(el));
  ui.contSeconds.addEventListener('input', () => { ui.contOut.textContent = `${Number(ui.contSeconds.value).toFixed(1)} s`; });
  showMode();

  return { submit, applyInfo, onShown };
}
