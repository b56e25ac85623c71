#!/usr/bin/env bash
# Meta-training runs behind bench/meta.md, each one `strainer pretrain --method ...` on the mri-64 split
# (data/ch2bet.nii.gz at 64x64, 10 training slices, 5 held out), its --json summary kept under
# bench/meta/<part>/<name>.json (the held-out measurement is its `gain`):
#   lr:      full MAML at width 128 (depth 6), 300 outer steps, outer Adam lr 1e-5, 1e-4, 3e-4, 1e-3
#   methods: fomaml and reptile at the lr part's size (width 128, depth 6, 300 outer steps) and outer lr
#            OUTER_LR (default 1e-4), beside that part's maml run of the same lr (copied, not rerun: on
#            2 shared cores one MAML run of this size takes ~15 min)
# Usage: bash scripts/bench-meta-train.sh lr|methods. Long (tens of minutes each on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
part="${1:?usage: bench-meta-train.sh lr|methods}"
S="node bin/strainer.js"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "bench/meta/$part"
one() {
  local name="$1"; shift
  echo "== $part/$name: strainer pretrain $*" >&2
  $S pretrain --data data/ch2bet.nii.gz --res 64 --depth 6 --checkpoint-every 0 --json --out "$TMP/$name" "$@" \
    | tail -n 1 > "bench/meta/$part/$name.json"
}
case "$part" in
  lr)
    for lr in 1e-5 1e-4 3e-4 1e-3; do
      one "maml-w128-lr$lr" --method maml --width 128 --iters 300 --outer-lr "$lr"
    done ;;
  methods)
    lr="${OUTER_LR:-1e-4}"
    cp "bench/meta/lr/maml-w128-lr$lr.json" "bench/meta/methods/maml-w128-lr$lr.json"
    for m in fomaml reptile; do
      one "$m-w128-lr$lr" --method "$m" --width 128 --iters 300 --outer-lr "$lr"
    done ;;
  *) echo "unknown part '$part' (lr or methods)" >&2; exit 2 ;;
esac
