#!/usr/bin/env bash
# One GPU check (issue 16): model_speed at ViT-S and ViT-B widths under bf16
# autocast, a 2-minute pretraining throughput run on synthetic cubes, and encoder
# inference throughput, printed as one table. Bounded to 8 minutes.
#
#   bash benchmarks/gpu_check.sh            # on a CUDA machine
#   bash benchmarks/gpu_check.sh --dry-run  # same code on the CPU, tiny sizes
#
# PYTHON selects the interpreter (default: .venv/bin/python when present).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then python="$root/.venv/bin/python"; else python=python; fi
fi
limit=480
if [[ " $* " == *" --dry-run "* ]]; then
  limit=300
elif command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
cd "$root"
exec timeout --signal=INT "$limit" "$python" "$here/gpu_check.py" "$@"
