#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU: measures the embedder, exact k-NN and
# eval.lm-loss on the CUDA and WebGPU execution providers against the CPU, and writes the
# throughputs and ratios to bench/RESULTS.md (section gpu-check). Takes a few minutes (< 8).
# Where there is no NVIDIA GPU it says so and measures nothing (exit 0), so CI can call it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-check: no GPU — nvidia-smi is not installed on this machine; nothing measured, bench/RESULTS.md unchanged."
  exit 0
fi
if ! gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n1) || [ -z "$gpu" ]; then
  echo "gpu-check: no GPU — nvidia-smi found no NVIDIA device; nothing measured, bench/RESULTS.md unchanged."
  exit 0
fi
echo "gpu-check: $gpu"
export FORGE_GPU_NAME="$gpu"
exec timeout 480 node bin/bench.mjs bench/gpu-check.ts "$@"
