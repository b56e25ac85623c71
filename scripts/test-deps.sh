#!/usr/bin/env bash
# Installs what the test tiers need beyond npm packages, idempotently (runs before `npm test`):
# Debian's Chromium for tests/browser; the Vulkan loader (libvulkan1) for tests/webgpu, whose
# onnxruntime-node WebGPU provider runs on the SwiftShader Vulkan driver that chromium ships (the
# tier points its own process at it; nothing is set globally); and the fetched datasets (LFW faces,
# skimage and nature photos; scripts/fetch-data.sh, pinned by sha256). The MRI volume is bundled.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# chromium carries a private libvulkan; onnxruntime-node's Dawn loads the system's.
[ "$(dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null)" = "install ok installed" ] || missing+=(libvulkan1)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-deps: installing Debian's ${missing[*]} (browser and WebGPU test tiers)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! bash scripts/fetch-data.sh >/tmp/strainer-fetch.log 2>&1; then
  echo "test-deps: fetching datasets failed (tests that need them will be skipped); see /tmp/strainer-fetch.log"
  tail -3 /tmp/strainer-fetch.log
fi
