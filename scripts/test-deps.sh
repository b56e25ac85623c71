#!/usr/bin/env bash
# Installs what the test tiers need beyond npm packages, idempotently (runs before `npm test`):
# Debian's Chromium for tests/browser, and the fetched datasets (LFW faces, skimage and nature
# photos; scripts/fetch-data.sh, pinned by sha256). The bundled MRI volume needs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "test-deps: installing Debian's chromium (browser test tier)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! bash scripts/fetch-data.sh >/tmp/strainer-fetch.log 2>&1; then
  echo "test-deps: fetching datasets failed (tests that need them will be skipped); see /tmp/strainer-fetch.log"
  tail -3 /tmp/strainer-fetch.log
fi
