#!/usr/bin/env bash
# What bp_ann's recurrence buys the forecaster, and a week of demand lags at every step (2026-12-04, fourth session):
#   norec              both rules without the recurrence (model.recurrent_gain=0: W_h zero and untrained)
#   week               both rules with the last 336 demands (a week) at every step instead of 48 (data.lags=336)
#   week_parts8        the same on the residual of one map per eighth of the day (data.residual_parts=8)
#   week_hgate8        bsd gated by 8 parts of the day (model.context_gate=8) with the week of lags
#   week_hgate8_parts8 both rules gated, week of lags, 8-part residual
#   lag49              both rules with one more demand lag than the day (data.lags=49)
# Seed 0, the default 2 epochs at batch 32, one thread per run, two lanes side by side, into
# results/cpu-2026-12-04-tsweek (the maps alone: floors.log there, from scripts/ts_floors.py).
# SEEDS="1 2" instead runs, for each seed side by side, the best bsd row (week_hgate8_parts8) and then bp_ann's
# best (week).
# EXTRA=1 instead runs, on seed 0, around the best bsd row: lambda 0.4 (week_hgate8_parts8_lam0.4) and no recurrence
# (week_hgate8_parts8_norec, then bp_ann's best without recurrence, week_norec) in one lane, 512 units
# (week_hgate8_parts8_w512) in the other.
# Usage: [ONLY="norec week ... floors"] [SEEDS="1 2" | EXTRA=1] bash scripts/ts_week.sh [OUT=results/cpu-2026-12-04-tsweek]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tsweek}
mkdir -p "$OUT/logs"
row() {  # row NAME RULE overrides...: one run of variant NAME unless ONLY leaves it out
  local name=$1 rule=$2; shift 2
  variant timeseries_elec "$rule" "$name" "$@"
}
W="data.lags=336"
B="$W model.context_gate=8 data.residual_parts=8"
if [ -n "${EXTRA:-}" ]; then
  (row week_hgate8_parts8_lam0.4 bsd $B model.reco.lam=0.4
   row week_hgate8_parts8_norec bsd $B model.recurrent_gain=0
   row week_norec bp_ann $W model.recurrent_gain=0) &
  row week_hgate8_parts8_w512 bsd $B 'model.widths=[512]' &
  wait
  exit 0
fi
if [ -n "${SEEDS:-}" ]; then
  for seed in $SEEDS; do
    (export SEED=$seed
     row week_hgate8_parts8 bsd $B
     row week bp_ann $W) &
  done
  wait
  exit 0
fi
(row norec bsd model.recurrent_gain=0
 row week bsd $W
 row week_parts8 bsd $W data.residual_parts=8
 row lag49 bsd data.lags=49) &
(row norec bp_ann model.recurrent_gain=0
 row week bp_ann $W
 row week_parts8 bp_ann $W data.residual_parts=8
 row week_hgate8 bsd $W model.context_gate=8
 row week_hgate8_parts8 bsd $B
 row week_hgate8_parts8 bp_ann $B
 row lag49 bp_ann data.lags=49) &
wait
if picked floors; then
  for L in 48 49 96 336 672; do for P in 1 8; do
    echo "## data.lags=$L data.residual_parts=$P"
    $PY scripts/ts_floors.py timeseries_elec data.lags=$L data.residual_parts=$P 2>&1 | grep "linear map"
  done; done > "$OUT/floors.log"
fi
