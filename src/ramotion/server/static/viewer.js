// The 3D skeleton viewer: one three.js scene with a floor grid, each sample's skeleton side by
// side (bones as cylinders, joints as spheres; left side blue, right side red), its root path
// on the floor, OrbitControls, and a shared clock for play / pause / scrub.
// Imported dynamically by app.js, so the rest of the page works when three.js is missing.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const COLORS = { left: 0x4ea1ff, right: 0xff6b5e, center: 0xd9dce3 };
// An edit's source, drawn beside its edits: the same sides, muted. Joints an edit re-generated: yellow.
const SOURCE_COLORS = { left: 0x55708f, right: 0x8f5d59, center: 0x7d828c };
const EDITED_COLOR = 0xffd166;
const SPACING = 1.6;          // metres between neighbouring samples
const BONE_RADIUS = 0.022;
const JOINT_RADIUS = 0.032;
const UP = new THREE.Vector3(0, 1, 0);
const VIEW_DIR = new THREE.Vector3(0.3, 0.35, 1).normalize();   // from the target towards the camera

export class MotionViewer {
  /** @param {HTMLElement} container  element the canvas fills */
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.domElement.id = 'viewer-canvas';
    container.appendChild(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x0f1115);
    this.scene.fog = new THREE.Fog(0x0f1115, 14, 30);
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.05, 100);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.target.set(0, 0.9, 0);
    this.camera.position.copy(this.controls.target).addScaledVector(VIEW_DIR, 6);
    this.controls.enableDamping = true;
    this.controls.update();

    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x30343c, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(3, 6, 4);
    this.scene.add(sun);
    const grid = new THREE.GridHelper(24, 48, 0x4a5060, 0x2a2e37);
    this.scene.add(grid);

    this.group = new THREE.Group();     // everything that belongs to the current motions
    this.scene.add(this.group);
    this.motions = [];                  // [{joints: Float32Array (T*J*3), frames, offsetX}]
    this.focused = null;                // index of the sample the camera frames, null: all of them
    this.parents = [];
    this.fps = 20;
    this.numFrames = 0;
    this.frame = 0;                     // fractional frame index of the shared clock
    this.playing = true;
    this.onFrame = null;                // callback(frameIndex, numFrames) for the page's scrubber
    this._lastTime = null;
    this._tmp = { a: new THREE.Vector3(), b: new THREE.Vector3(), m: new THREE.Matrix4(), q: new THREE.Quaternion(), s: new THREE.Vector3() };

    new ResizeObserver(() => this._resize()).observe(container);
    this._resize();
    this.renderer.setAnimationLoop((t) => this._tick(t));
  }

  /** Show a /api/generate answer: its samples side by side, from frame 0, playing. A sample
   *  may carry `role: 'source'` (drawn muted: the original beside its edits) and `highlight`,
   *  joint indices drawn in yellow with the bones that end in them (the parts an edit changed). */
  setMotions(data) {
    this._clear();
    const sk = data.skeleton;
    this.parents = sk.parents;
    this.fps = data.fps;
    const left = new Set(sk.left), right = new Set(sk.right);
    const numJoints = sk.parents.length;
    const bones = sk.parents.map((p, j) => [p, j]).filter(([p]) => p >= 0);   // bone = (parent, child)
    const n = data.samples.length;
    this.motions = data.samples.map((s, i) => ({
      joints: Float32Array.from(s.joints.flat(2)),     // (T*J*3)
      frames: s.num_frames,
      offsetX: (i - (n - 1) / 2) * SPACING,
    }));
    this.numFrames = Math.max(...this.motions.map((m) => m.frames));
    this.numJoints = numJoints;
    this.bones = bones;

    const side = (j) => (left.has(j) ? 'left' : right.has(j) ? 'right' : 'center');
    const material = new THREE.MeshStandardMaterial({ roughness: 0.55, metalness: 0.05 });
    const boneGeom = new THREE.CylinderGeometry(BONE_RADIUS, BONE_RADIUS, 1, 10);
    const jointGeom = new THREE.SphereGeometry(JOINT_RADIUS, 12, 8);
    this.boneMesh = new THREE.InstancedMesh(boneGeom, material, bones.length * n);
    this.jointMesh = new THREE.InstancedMesh(jointGeom, material, numJoints * n);
    const color = new THREE.Color();
    for (let i = 0; i < n; i++) {
      const s = data.samples[i];
      const palette = s.role === 'source' ? SOURCE_COLORS : COLORS;
      const marked = new Set(s.highlight || []);
      const hex = (j) => (marked.has(j) ? EDITED_COLOR : palette[side(j)]);
      bones.forEach(([, child], b) => this.boneMesh.setColorAt(i * bones.length + b, color.setHex(hex(child))));
      for (let j = 0; j < numJoints; j++) this.jointMesh.setColorAt(i * numJoints + j, color.setHex(hex(j)));
    }
    this.group.add(this.boneMesh, this.jointMesh);

    // Each sample's root path, drawn on the floor.
    for (const m of this.motions) {
      const pts = [];
      for (let t = 0; t < m.frames; t++) pts.push(new THREE.Vector3(m.joints[t * numJoints * 3] + m.offsetX, 0.002, m.joints[t * numJoints * 3 + 2]));
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints(pts), new THREE.LineBasicMaterial({ color: 0x8a91a3, transparent: true, opacity: 0.6 }));
      this.group.add(line);
    }
    this.focused = null;
    this._frameCamera();
    this.frame = 0;
    this.playing = true;
    this._pose(0);
  }

  /** Frame one sample (index) or all of them (null): on a narrow screen the samples side by
   *  side would each be a few dozen pixels tall. */
  focus(index) {
    this.focused = index === null || index === undefined ? null : Math.max(0, Math.min(index, this.motions.length - 1));
    this._frameCamera();
  }

  /** On-screen height (CSS pixels) of the focused sample's (or the first's) tallest pose: how
   *  readable the figure is (the page's end-to-end test checks it on a phone). */
  figureHeightPx() {
    const mo = this.motions[this.focused ?? 0];
    if (!mo) return 0;
    const p = new THREE.Vector3();
    let best = 0;
    const h = this.container.clientHeight;
    for (let t = 0; t < mo.frames; t++) {
      let lo = Infinity, hi = -Infinity;
      for (let j = 0; j < this.numJoints; j++) {
        const k = (t * this.numJoints + j) * 3;
        p.set(mo.joints[k] + mo.offsetX, mo.joints[k + 1], mo.joints[k + 2]).project(this.camera);
        lo = Math.min(lo, p.y); hi = Math.max(hi, p.y);
      }
      best = Math.max(best, ((hi - lo) / 2) * h);
    }
    return best;
  }

  play() { this.playing = true; this._lastTime = null; }
  pause() { this.playing = false; }
  /** Jump to a frame (pauses the clock). */
  seek(frame) { this.pause(); this.frame = Math.max(0, Math.min(frame, this.numFrames - 1)); this._pose(Math.floor(this.frame)); }

  _clear() {
    for (const child of [...this.group.children]) {
      this.group.remove(child);
      child.geometry?.dispose();
      child.material?.dispose();
    }
    this.motions = [];
    this.numFrames = 0;
  }

  _frameCamera() {
    const box = new THREE.Box3();
    const p = new THREE.Vector3();
    const shown = this.focused === null ? this.motions : [this.motions[this.focused]];
    for (const m of shown) {
      for (let k = 0; k < m.joints.length; k += 3) box.expandByPoint(p.set(m.joints[k] + m.offsetX, m.joints[k + 1], m.joints[k + 2]));
    }
    const center = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3());
    // Distance at which the motions' extent fits both the vertical and the horizontal field of view.
    const vHalf = Math.tan((this.camera.fov * Math.PI) / 360);
    const hHalf = vHalf * this.camera.aspect;
    const halfW = size.x / 2 + 0.4, halfH = Math.max(size.y, 1.8) / 2 + 0.3;
    const dist = Math.max(halfW / hHalf, halfH / vHalf) + size.z / 2;
    this.controls.target.set(center.x, Math.max(center.y, 0.8), center.z);
    this.camera.position.copy(this.controls.target).addScaledVector(VIEW_DIR, dist);
    this.controls.update();
  }

  /** Place every bone and joint at integer frame t (shorter samples hold their last pose). */
  _pose(t) {
    if (!this.motions.length) return;
    const { a, b, m, q, s } = this._tmp;
    const J = this.numJoints;
    this.motions.forEach((mo, i) => {
      const f = Math.min(t, mo.frames - 1);
      const base = f * J * 3;
      const at = (j, v) => v.set(mo.joints[base + j * 3] + mo.offsetX, mo.joints[base + j * 3 + 1], mo.joints[base + j * 3 + 2]);
      for (let j = 0; j < J; j++) {
        at(j, a);
        m.makeTranslation(a.x, a.y, a.z);
        this.jointMesh.setMatrixAt(i * J + j, m);
      }
      this.bones.forEach(([parent, child], k) => {
        at(parent, a);
        at(child, b);
        const len = a.distanceTo(b);
        b.sub(a);
        q.setFromUnitVectors(UP, len > 1e-6 ? b.normalize() : UP);
        a.addScaledVector(b, len / 2);                 // midpoint
        m.compose(a, q, s.set(1, Math.max(len, 1e-4), 1));
        this.boneMesh.setMatrixAt(i * this.bones.length + k, m);
      });
    });
    this.jointMesh.instanceMatrix.needsUpdate = true;
    this.boneMesh.instanceMatrix.needsUpdate = true;
    this.jointMesh.computeBoundingSphere();
    this.boneMesh.computeBoundingSphere();
  }

  _tick(time) {
    if (this.motions.length && this.playing) {
      const dt = this._lastTime === null ? 0 : Math.min((time - this._lastTime) / 1000, 0.1);
      this.frame = (this.frame + dt * this.fps) % this.numFrames;
      this._pose(Math.floor(this.frame));
    }
    this._lastTime = time;
    if (this.motions.length && this.onFrame) this.onFrame(Math.floor(this.frame), this.numFrames);
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }

  _resize() {
    const w = this.container.clientWidth || 640, h = this.container.clientHeight || 400;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    if (this.motions.length) this._frameCamera();
  }
}
