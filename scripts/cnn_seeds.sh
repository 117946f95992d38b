#!/usr/bin/env bash
# Further seeds of one CNN row at the default of 2026-12-01 over the config's full 10 epochs, one thread each,
# all side by side (about 13 minutes an epoch each with two on the 2-core machine).
# Usage: bash scripts/cnn_seeds.sh EXPERIMENT SEED... [OUT=results/cpu-2026-12-01-cnn10 via env OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-results/cpu-2026-12-01-cnn10}
exp=${1:?usage: cnn_seeds.sh EXPERIMENT SEED...}; shift
[ $# -gt 0 ] || { echo "usage: cnn_seeds.sh EXPERIMENT SEED..." >&2; exit 2; }
source scripts/lanes.sh
mkdir -p "$OUT/logs"
for s in "$@"; do SEED=$s one "$exp" bsd & done
wait
