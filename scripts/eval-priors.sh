#!/usr/bin/env bash
# Regenerates bench/eval.md: the shipped priors evaluated in-domain and out-of-domain with
# `strainer eval` (tables + SVG plots under bench/eval/). Needs the fetched datasets
# (npm run fetch-data). Long: run it deliberately, not in CI. Iteration counts are stated per table.
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
  $S eval "$@" --out "bench/eval/$name" --force >/dev/null
}
run lfw-25-in-domain  --prior models/lfw-25 --data "$DATA/lfw/lfw_subset.npy" --select 0:100 --iters "${LFW_ITERS:-1000}"
run mri-64-in-domain  --prior models/mri-64 --data data/ch2bet.nii.gz --iters "${MRI_ITERS:-500}"
run mri-64-on-nature  --prior models/mri-64 --data "$DATA/nature" --methods siren,strainer10 --iters "${MRI_ITERS:-500}"
run lfw-25-on-mri     --prior models/lfw-25 --data data/ch2bet.nii.gz --methods siren,strainer10 --iters "${LFW_ITERS:-1000}"
{
  echo "# STRAINER evaluation of the shipped priors"
  echo
  echo "Command: \`bash scripts/eval-priors.sh\` (each block is one \`strainer eval\` run; its plot is psnr.svg beside it)."
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) threads; $(date -u +%Y-%m-%d). Out-of-domain MRI slices and nature photos are converted to the prior's channel count."
  for d in lfw-25-in-domain mri-64-in-domain mri-64-on-nature lfw-25-on-mri; do
    [ -f "bench/eval/$d/table.md" ] || continue
    echo; echo "## $d"; echo; cat "bench/eval/$d/table.md"; echo; echo "![plot](eval/$d/psnr.svg)"
  done
} > bench/eval.md
echo "wrote bench/eval.md" >&2
