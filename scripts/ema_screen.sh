#!/usr/bin/env bash
# Weight averaging (ema.decay, our extension) on the bsd classifiers: each run tests the average (test/acc) and
# the raw weights of the same checkpoint (test_raw/acc), so the gain is paired within one run, free of seed noise.
# One thread per run, two runs side by side.
# Usage: bash scripts/ema_screen.sh [OUT=results/cpu-2026-12-02-ema] [EXPERIMENT=mnist_mlp] [DECAY...]
#   e.g. bash scripts/ema_screen.sh results/cpu-2026-12-02-ema mnist_mlp 0.99 0.998; SEEDS="1 2" picks other seeds;
#   EXTRA="ema.start_epoch=5" TAG=_from5 adds overrides and names them in the run directory and variant
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-02-ema}
EXP=${2:-mnist_mlp}
shift 2 2>/dev/null || shift $#
DECAYS=${*:-0.99 0.998}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
jobs_=()
for s in ${SEEDS:-0}; do for d in $DECAYS; do jobs_+=("$s:$d"); done; done
lane() {  # lane I: the I-th, (I+2)-th, ... job
  local i=$1
  for ((j = i; j < ${#jobs_[@]}; j += 2)); do
    local s=${jobs_[$j]%%:*} d=${jobs_[$j]#*:}
    # shellcheck disable=SC2086  # EXTRA: further overrides, e.g. EXTRA="ema.start_epoch=5"
    SEED=$s SUFFIX="_ema$d${TAG:-}" one "$EXP" bsd ema.decay="$d" variant="ema$d${TAG:-}" ${EXTRA:-}
  done
}
lane 0 & lane 1 & wait
