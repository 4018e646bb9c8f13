#!/usr/bin/env bash
# Installs the system packages the tests use on Debian/Ubuntu, if they are missing: Chromium (the UI
# e2e tests drive it), fasttext (the classifier's reference), redis-server (the queue tests) and
# python3-torch with OpenBLAS (train.torch). Uses sudo only when not root, and
# fails if any is still missing afterwards, so no test silently skips.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v fasttext >/dev/null 2>&1 || need+=(fasttext)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
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
[ -x /usr/bin/redis-server ] || { echo "install-test-deps: /usr/bin/redis-server is missing; the queue tests start their own" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || { echo "install-test-deps: python3-torch is missing; the train.torch tests need it" >&2; exit 1; }
echo "install-test-deps: chromium, fasttext, redis-server and python3-torch present"
