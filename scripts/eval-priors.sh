#!/usr/bin/env bash
# Regenerates bench/eval.md: the shipped priors evaluated in-domain and out-of-domain with
# `strainer eval` (tables + SVG plots under bench/eval/). Needs the fetched datasets
# (npm run fetch-data). Long: run it deliberately, not in CI. Iteration counts are stated per table.
# mri-64-five-methods is the paper's five initialisations (issue 20): the four above plus the
# meta-learned bench/priors/mri-64-maml (full MAML on the mri-64 split; not shipped in models/ until it is
# signed with the project key) under both protocols (`strainer eval --meta-prior`); each run also leaves
# run.txt (date, machine, load) beside its table.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${STRAINER_DATA:-$HOME/.cache/strainer}"
S="node bin/strainer.js"
mkdir -p bench/eval
# ONLY="a b" limits the runs to those names (the summary is rebuilt from every table present).
run() {
  local name="$1"; shift
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  echo "== $name: strainer eval $*" >&2
  local load0; load0="$(cut -d' ' -f1 /proc/loadavg)"
  $S eval "$@" --out "bench/eval/$name" --force >/dev/null
  echo "run $(date -u +%Y-%m-%dT%H:%MZ) on $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) threads; load average $load0 at the start, $(cut -d' ' -f1 /proc/loadavg) at the end" > "bench/eval/$name/run.txt"
}
run lfw-25-in-domain  --prior models/lfw-25 --data "$DATA/lfw/lfw_subset.npy" --select 0:100 --iters "${LFW_ITERS:-1000}"
run mri-64-in-domain  --prior models/mri-64 --data data/ch2bet.nii.gz --iters "${MRI_ITERS:-500}"
run mri-64-on-nature  --prior models/mri-64 --data "$DATA/nature" --methods siren,strainer10 --iters "${MRI_ITERS:-500}"
run lfw-25-on-mri     --prior models/lfw-25 --data data/ch2bet.nii.gz --methods siren,strainer10 --iters "${LFW_ITERS:-1000}"
run mri-64-five-methods --prior models/mri-64 --meta-prior "${META_PRIOR:-bench/priors/mri-64-maml}" --data data/ch2bet.nii.gz --iters "${META_ITERS:-200}"
{
  echo "# STRAINER evaluation of the shipped priors"
  echo
  echo "Command: \`bash scripts/eval-priors.sh\` (each block is one \`strainer eval\` run; its plot is psnr.svg beside it)."
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) threads; summary rebuilt $(date -u +%Y-%m-%d) (each block's run date is under its plot). Out-of-domain MRI slices and nature photos are converted to the prior's channel count."
  for d in lfw-25-in-domain mri-64-in-domain mri-64-on-nature lfw-25-on-mri mri-64-five-methods; do
    [ -f "bench/eval/$d/table.md" ] || continue
    echo; echo "## $d"; echo; cat "bench/eval/$d/table.md"; echo; echo "![plot](eval/$d/psnr.svg)"
    if [ -f "bench/eval/$d/run.txt" ]; then echo; cat "bench/eval/$d/run.txt"; fi
    if [ -f "bench/eval/$d/notes.md" ]; then echo; cat "bench/eval/$d/notes.md"; fi
  done
} > bench/eval.md
echo "wrote bench/eval.md" >&2
