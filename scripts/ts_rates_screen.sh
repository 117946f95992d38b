#!/usr/bin/env bash
# Two-epoch screen of the bsd forecaster at its default since 2026-12-01 (ReCo on centred firing rates),
# seed 0, one knob at a time, to set against the default's own seed-0 run (variant spikes_center,
# scripts/ts_rates.sh: test MSE 0.00353): the thermometer target code, a tonic current spread per unit,
# T = 8, a second hidden layer, a wider layer, heavier pushes, the default itself (rates_base) as the paired
# control, and the thermometer code with a heavier push together. One thread per run, LANES (default 2)
# side by side; the rows land in the ablation table of docs/results.md (variants rates_*).
# Usage: bash scripts/ts_rates_screen.sh [OUT=results/cpu-2026-12-02-ts]
#   ONLY="rates_bias1 rates_lam0.2" runs just the named variants (e.g. LANES=1 beside other work); SEED=S
#   (default 0) picks another seed
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-02-ts}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
run() {  # run VARIANT OVERRIDES...: one seed-0 run into $OUT/timeseries_elec/bsd/seed0_VARIANT
  local v=$1; shift
  [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $v "* ]] || return 0
  SUFFIX="_$v" one timeseries_elec bsd variant="$v" "$@"
}
lane1() {
  run rates_base  # the default itself, rerun beside the variants as their paired control
  run rates_ramp model.code.shape=ramp
  run rates_T8 model.T=8
  run rates_lam0.2 model.reco.lam=0.2
  run rates_ramp_lam0.2_bias1 model.code.shape=ramp model.reco.lam=0.2 model.neuron.bias_spread=1.0
}
lane2() {
  run rates_bias1 model.neuron.bias_spread=1.0
  run rates_2layer 'model.widths=[256,256]'
  run rates_w512 'model.widths=[512]'
  run rates_ramp_lam0.2 model.code.shape=ramp model.reco.lam=0.2
  run rates_ramp_lam0.2_T8 model.code.shape=ramp model.reco.lam=0.2 model.T=8
}
if [ "${LANES:-2}" = 1 ]; then lane1; lane2; else lane1 & lane2 & wait; fi
