#!/usr/bin/env bash
# Credit through time inside a layer for bsd (model.reco.through_time, 2026-12-04, fifth session): each position's
# ReCo also trains the layer's weights at the k positions before it, through the layer's own recurrence.
#   tt1 / tt4 / tt16          k = 1 / 4 / 16, credit stepping back through W_h itself (transport)
#   tt1_random / tt4_random   the same through a fixed random matrix (model.reco.time_feedback=random)
# Seed 0 (SEED=...), the default 2 epochs at batch 32, one thread per run, two lanes side by side, into
# results/cpu-2026-12-04-tstime. TEXT=1 instead runs text_char with k = 1 (tt1, then ctx4_tt1: four characters
# per step, data.context=4) in one lane and k = 4 (tt4, then tt1_random) in the other; for more seeds run one subset per seed side
# by side, e.g. `SEED=1 TEXT=1 ONLY=tt1 bash scripts/ts_time.sh & SEED=2 TEXT=1 ONLY=tt1 bash scripts/ts_time.sh`.
# Usage: [ONLY="tt1 tt4 ..."] [SEED=0] [TEXT=1] bash scripts/ts_time.sh [OUT=results/cpu-2026-12-04-tstime]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tstime}
mkdir -p "$OUT/logs"
row() {  # row EXPERIMENT NAME RULE overrides...: one run of variant NAME unless ONLY leaves it out
  local exp=$1 name=$2 rule=$3; shift 3
  variant "$exp" "$rule" "$name" "$@"
}
if [ -n "${TEXT:-}" ]; then
  (row text_char tt1 bsd model.reco.through_time=1
   row text_char ctx4_tt1 bsd model.reco.through_time=1 data.context=4) &
  (row text_char tt4 bsd model.reco.through_time=4
   row text_char tt1_random bsd model.reco.through_time=1 model.reco.time_feedback=random) &
  wait
  exit 0
fi
(row timeseries_elec tt1 bsd model.reco.through_time=1
 row timeseries_elec tt1_random bsd model.reco.through_time=1 model.reco.time_feedback=random
 row timeseries_elec tt16 bsd model.reco.through_time=16) &
(row timeseries_elec tt4 bsd model.reco.through_time=4
 row timeseries_elec tt4_random bsd model.reco.through_time=4 model.reco.time_feedback=random) &
wait
