#!/usr/bin/env bash
# The CPU runs behind the forecasting rows of docs/results.md at the experiment's default (timeseries_elec:
# the day's demand as lags at every step; since 2026-12-03 the residual of a least-squares linear map of the input
# step as the target, the change from the last value before; results/cpu-2026-12-04-tsmain): bsd over seeds
# 0-2, bp_snn and bp_ann on seed 0, the experiment's own epochs. Two lanes side by side, one thread each
# (2-core machine); bp_snn back-propagates through 48 x 4 steps and takes most of the time.
# Usage: bash scripts/ts_results.sh [OUT=results/cpu-2026-11-29-tsmain]
#   BSD_ONLY=1: just the three bsd seeds (after a change of bsd's default leaves the BP rows as they are)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-tsmain}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
if [ -n "${BSD_ONLY:-}" ]; then
  ( one timeseries_elec bsd; SEED=2 one timeseries_elec bsd ) &
  ( SEED=1 one timeseries_elec bsd ) &
  wait
  exit 0
fi
( one timeseries_elec bp_snn ) &
( one timeseries_elec bsd; one timeseries_elec bp_ann; SEED=1 one timeseries_elec bsd; SEED=2 one timeseries_elec bsd ) &
wait
