#!/usr/bin/env bash
# GPU check, for a machine that has a GPU (CI never has one): the paper-scale fit step (178x178,
# SIREN width 256, depth 6) and a paper-scale STRAINER pretraining (N=10 slices of the bundled MRI
# volume, 178x178, 5000 iterations) on onnxruntime-node's WebGPU provider, and on CUDA where that
# provider is installed, against the CPU step; prints one markdown table and writes it to
# bench/gpu.md (or $GPU_CHECK_OUT). Goal (issue 11): the pretraining in under 2 minutes on a
# data-centre GPU. Needs node_modules and a build (npm ci); no network.
#   bash scripts/gpu-check.sh                   # everything (a few minutes on a GPU)
#   ITERS=500 STEP_ITERS=20 bash scripts/gpu-check.sh   # shorter
# WebGPU needs the Vulkan loader (libvulkan1) and the GPU's Vulkan driver; in a container with an
# NVIDIA GPU that is libGLX_nvidia.so.0 (NVIDIA_DRIVER_CAPABILITIES must include graphics): when
# no ICD manifest names it, this script writes one for its own process (VK_ICD_FILENAMES).
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS="${ITERS:-5000}"; STEP_ITERS="${STEP_ITERS:-30}"; RES="${RES:-178}"; N="${N:-10}"; GAIN_ITERS="${GAIN_ITERS:-100}"
OUT_MD="${GPU_CHECK_OUT:-bench/gpu.md}"
S="node bin/strainer.js"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
say() { echo "gpu-check: $*" >&2; }

[ -d node_modules/onnxruntime-node ] || { say "node_modules/onnxruntime-node is missing: run npm ci first"; exit 2; }
[ -f dist/cli/main.js ] || npm run -s build >&2

# ---- What the machine has ----
gpu="none found"
if command -v nvidia-smi >/dev/null 2>&1; then gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1 || echo "nvidia-smi failed"); fi
if [ "$gpu" = "none found" ] && command -v lspci >/dev/null 2>&1; then gpu=$(lspci | grep -iE 'vga|3d controller|display' | head -1 || echo "none found"); fi
vulkan_loader=no; { ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ]; } && vulkan_loader=yes
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | grep -viE 'swiftshader|lvp|lavapipe' | paste -sd ' ' || true)
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -z "$icds" ] && ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia\.so\.0'; then
  # NVIDIA's Vulkan driver lives in libGLX_nvidia; its manifest is what the container lacks.
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}\n' > "$TMP/nvidia_icd.json"
  export VK_ICD_FILENAMES="$TMP/nvidia_icd.json"; icds="$VK_ICD_FILENAMES (written by gpu-check)"
fi
[ -n "${VK_ICD_FILENAMES:-}" ] && icds="VK_ICD_FILENAMES=$VK_ICD_FILENAMES"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$TMP}"
say "GPU: $gpu; Vulkan loader: $vulkan_loader; Vulkan drivers: ${icds:-none}"

json() { node -e 'const l=require("fs").readFileSync(0,"utf8").trim().split("\n").pop(); const j=JSON.parse(l); console.log(process.argv.slice(1).map((k)=>k.split(".").reduce((o,p)=>o==null?o:o[p],j)).join("\t"))' "$@"; }

SLICE="$TMP/slice.png"
# The first held-out slice of the reference split at RES x RES, through the built modules.
node --input-type=module -e '
  const { loadNifti } = await import("./dist/node/read.js");
  const { mriSliceImage, referenceSplit } = await import("./dist/data/mri.js");
  const { encodePng } = await import("./dist/data/image.js");
  const v = loadNifti("data/ch2bet.nii.gz");
  (await import("node:fs")).writeFileSync(process.argv[1], encodePng(mriSliceImage(v, referenceSplit(v).test[0], Number(process.argv[2]))));
' "$SLICE" "$RES"

rows=()
for ep in cpu webgpu cuda; do
  say "$ep: ${RES}x${RES} fit step, $STEP_ITERS iterations"
  if ! r=$(timeout 900 $S fit "$SLICE" --res "$RES" --iters "$STEP_ITERS" --ep "$ep" --json 2>"$TMP/$ep.err"); then
    rows+=("| $ep | $(tail -1 "$TMP/$ep.err" | sed 's/^strainer: //; s/|/\\|/g') | | | | | | |"); continue
  fi
  IFS=$'\t' read -r backend step <<<"$(echo "$r" | json backend step_ms_median)"
  # stderr's first line: "backend onnxruntime-node (EP) (WHY)"
  why=$(grep -m1 '^backend ' "$TMP/$ep.err" | sed 's/^backend onnxruntime-node ([a-z]*) (\(.*\))$/\1/; s/|/\\|/g')
  pre="(not run on cpu)"; loop=""; loss=""; gain=""
  if [ "$ep" != cpu ]; then
    say "$ep: pretraining N=$N, ${RES}x${RES}, $ITERS iterations"
    t0=$(date +%s.%N)
    if p=$(timeout 3600 $S pretrain --data data/ch2bet.nii.gz --n "$N" --res "$RES" --iters "$ITERS" --ep "$ep" --checkpoint-every 0 --gain-iters "$GAIN_ITERS" --out "$TMP/prior-$ep" --json 2>"$TMP/$ep.pre.err"); then
      t1=$(date +%s.%N)
      IFS=$'\t' read -r loss gain pstep <<<"$(echo "$p" | json final_loss gain.gain_db step_ms_median)"
      pre=$(node -e "console.log((${t1} - ${t0}).toFixed(1))")
      loop=$(node -e "console.log((${pstep} * ${ITERS} / 1000).toFixed(1))")
      loss=$(node -e "console.log(Number('$loss').toExponential(3))"); gain=$(node -e "console.log(Number('$gain').toFixed(2))")
    else
      pre="failed: $(tail -1 "$TMP/$ep.pre.err" | sed 's/^strainer: //; s/|/\\|/g')"
    fi
  fi
  rows+=("| $ep | $backend ($why) | $(node -e "console.log(Number($step).toFixed(1))") | $(node -e "console.log((1000 / $step).toFixed(2))") | $pre | $loop | $loss | $gain |")
done

{
  echo "# GPU check: the paper-scale step and pretraining on every Node provider"
  echo
  echo "Command: \`bash scripts/gpu-check.sh\` (ITERS=$ITERS, STEP_ITERS=$STEP_ITERS, RES=$RES, N=$N, GAIN_ITERS=$GAIN_ITERS); $(date -u +%Y-%m-%d)."
  echo "Step: \`strainer fit\` of a held-out MRI slice at ${RES}x${RES}, SIREN width 256, depth 6, median over $STEP_ITERS steps (the first steps compile)."
  echo "Pretraining: \`strainer pretrain --data data/ch2bet.nii.gz --n $N --res $RES --iters $ITERS\`, wall time of the whole command (load, compile, $ITERS steps, held-out gain at iteration $GAIN_ITERS)."
  echo
  echo "| --ep | backend (why) | step (ms) | it/s | pretraining, whole command (s) | its $ITERS steps: median step x $ITERS (s) | final loss | held-out gain at it $GAIN_ITERS (dB) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p'), $(nproc) threads; GPU: $gpu; Vulkan loader: $vulkan_loader; Vulkan drivers: ${icds:-none}; Node $(node -v)."
} > "$TMP/gpu.md"
cat "$TMP/gpu.md"
mkdir -p "$(dirname "$OUT_MD")" && cp "$TMP/gpu.md" "$OUT_MD.tmp" && mv "$OUT_MD.tmp" "$OUT_MD"
say "wrote $OUT_MD"
