#!/usr/bin/env bash
# bsd forecaster with T = 8 spiking steps per position at batch 32 (2026-12-04, second session), seed 0: ungated
# (variant b32_T8) and with the target code assigned by the part of the day (gate8a_b32_T8), side by side, one
# thread each, into results/cpu-2026-12-04-tsT8.
# Usage: bash scripts/ts_T8.sh [OUT=results/cpu-2026-12-04-tsT8]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tsT8}
mkdir -p "$OUT/logs"
SUFFIX=_b32_T8 one timeseries_elec bsd variant=b32_T8 data.batch_size=32 model.T=8 model.code.context_bins=0 \
  model.code.context_assign=false &
SUFFIX=_gate8a_b32_T8 one timeseries_elec bsd variant=gate8a_b32_T8 data.batch_size=32 model.T=8 \
  model.code.context_bins=8 model.code.context_assign=true &
wait
