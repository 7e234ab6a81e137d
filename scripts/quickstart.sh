#!/usr/bin/env bash
# From nothing to a generated motion, on a CPU and offline: a procedural text-motion
# dataset, a short training run of the small preset, and an MP4 made from a sentence.
# Until the bundled default model exists (issue 8), this is the main job on defaults.
# Usage: bash scripts/quickstart.sh [OUT_DIR] [PROMPT]   (about 3 minutes on 2 cores)
set -euo pipefail
out="${1:-quickstart}"
prompt="${2:-a person walks forward then waves with the left hand}"

if [ ! -f "$out/data/Mean.npy" ]; then
  ramotion synth --motions 400 --seed 0 --out "$out/data" --workers 2
fi
if [ ! -f "$out/run/model.safetensors" ]; then
  ramotion train --config small --data "$out/data" --out "$out/run" --set steps=300
fi
ramotion generate "$prompt" --model "$out/run" --seconds 6 --seed 0 -o "$out/motion.mp4"
ramotion generate "$prompt" --model "$out/run" --seconds 6 --seed 0 -o "$out/motion.bvh"
echo "wrote $out/motion.mp4 and $out/motion.bvh"
