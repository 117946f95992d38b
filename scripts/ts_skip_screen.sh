#!/usr/bin/env bash
# Two-epoch screen of the forecaster's readout skip (model.readout_skip=true: the readout reads the stimulus beside
# the top hidden layer's spikes, a linear map of the input plus one of the spikes) for each rule, on the default of
# 2026-12-03 (centred rates, thermometer code, lambda 0.2). One thread, one run after another; rows skip of the
# ablation table in docs/results.md.
# Usage: bash scripts/ts_skip_screen.sh [OUT=results/cpu-2026-12-03-tsskip]
#   ONLY="bsd bp_ann" runs just the named rules; SEED=S (default 0) picks another seed
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-03-tsskip}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
for rule in bsd bp_ann bp_snn; do
  picked "$rule" || continue
  SUFFIX="_skip" one timeseries_elec "$rule" variant=skip model.readout_skip=true data.predict=change
done
