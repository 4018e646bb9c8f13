#!/usr/bin/env bash
# Installs the system packages the tests use on Debian/Ubuntu, if they are missing: Chromium (the UI
# e2e tests drive it) and fasttext (the classifier's reference). Uses sudo only when not root, and
# fails if either is still missing afterwards, so no test silently skips.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v fasttext >/dev/null 2>&1 || need+=(fasttext)
# train.torch and the ONNX LM loss tests run Debian's CPU PyTorch under /usr/bin/python3.
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need+=(python3-torch)
# Debian's torch calls the system BLAS; without OpenBLAS that is the reference BLAS (~10x slower).
[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] || [ -e /usr/lib/aarch64-linux-gnu/openblas-pthread/libblas.so.3 ] || need+=(libopenblas0-pthread)
if [ ${#need[@]} -gt 0 ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q "${need[@]}"
fi
[ -x /usr/bin/chromium ] || { echo "install-test-deps: /usr/bin/chromium is missing; the UI e2e tests need it" >&2; exit 1; }
command -v fasttext >/dev/null 2>&1 || { echo "install-test-deps: fasttext is missing; the classifier comparisons need it" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || { echo "install-test-deps: python3-torch is missing; the train.torch tests need it" >&2; exit 1; }
echo "install-test-deps: chromium, fasttext and python3-torch present"
