#!/usr/bin/env bash
# Further seeds of one CNN row at the default of 2026-12-01 over the config's full 10 epochs, one thread each,
# all side by side (about 13 minutes an epoch each with two on the 2-core machine).
# Usage: bash scripts/cnn_seeds.sh EXPERIMENT SEED... [OUT=results/cpu-2026-12-01-cnn10 via env OUT]
# EPOCHS=N (env) trains N epochs instead (the cosine schedule spans them), labelled variant=epochsN, into
# seedS_epochsN: EPOCHS=14 OUT=results/cpu-2026-12-02-cnn14 bash scripts/cnn_seeds.sh mnist_cnn 0 1
# TAG=NAME EXTRA="overrides" (env) adds overrides, labelled variant=NAME, into seedS_NAME:
#   TAG=shift2 EXTRA="data.shift=2" OUT=results/cpu-2026-12-02-cnnshift bash scripts/cnn_seeds.sh mnist_cnn 0 1
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-results/cpu-2026-12-01-cnn10}
exp=${1:?usage: cnn_seeds.sh EXPERIMENT SEED...}; shift
[ $# -gt 0 ] || { echo "usage: cnn_seeds.sh EXPERIMENT SEED..." >&2; exit 2; }
source scripts/lanes.sh
mkdir -p "$OUT/logs"
extra=()
if [ -n "${EPOCHS:-}" ]; then
  export SUFFIX="_epochs$EPOCHS"
  extra=(trainer.max_epochs="$EPOCHS" variant="epochs$EPOCHS")
elif [ -n "${TAG:-}" ]; then
  export SUFFIX="_$TAG"
  # shellcheck disable=SC2206  # EXTRA: whitespace-separated overrides, e.g. EXTRA="data.shift=2"
  extra=(variant="$TAG" ${EXTRA:-})
fi
for s in "$@"; do SEED=$s one "$exp" bsd "${extra[@]}" & done
wait
