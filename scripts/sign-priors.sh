#!/usr/bin/env bash
# Signs the shipped priors with the project key, then verifies each against the committed public key
# (models/strainer-project.pub). Re-run it after any change to a prior's manifest.json (a retrained or
# converted prior, a compact form added under models/): `bash scripts/sign-priors.sh [--release N] [models/NAME ...]`.
# The private key never enters the repository: $STRAINER_SIGNING_KEY, default ~/.config/strainer/project-key.pem
# (made once with `strainer keygen --out ~/.config/strainer/project-key`, its .pub copied to models/).
# A manifest without a release gets release 1; --release N sets N (bump it whenever a prior's weights change).
set -euo pipefail
cd "$(dirname "$0")/.."
KEY="${STRAINER_SIGNING_KEY:-$HOME/.config/strainer/project-key.pem}"
PUB=models/strainer-project.pub
release=()
dirs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --release) release=(--release "$2"); shift 2 ;;
    *) dirs+=("${1%/}"); shift ;;
  esac
done
[ ${#dirs[@]} -gt 0 ] || for m in models/*/manifest.json; do dirs+=("$(dirname "$m")"); done
[ -f "$KEY" ] || { echo "sign-priors: no private key at $KEY (set STRAINER_SIGNING_KEY)" >&2; exit 2; }
npm run --silent build   # bin/strainer.js runs the built CLI in dist/
for d in "${dirs[@]}"; do
  r=("${release[@]}")
  if [ ${#r[@]} -eq 0 ] && ! node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).release === undefined ? 1 : 0)' "$d/manifest.json"; then
    r=(--release 1)
  fi
  node bin/strainer.js sign "$d" --key "$KEY" --force "${r[@]}"
  node bin/strainer.js verify "$d" --public-key "$PUB"
done
