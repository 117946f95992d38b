#!/usr/bin/env bash
# Two-epoch screen of the forecaster at its default since 2026-12-03 (centred rates, thermometer code, lambda 0.2)
# for what the earlier knobs left untouched: richer targets (data.aux_horizons: further horizons trained on and,
# for bsd, coded for the backward net), a second layer, and population-coded inputs (Gaussian or thermometer
# tuning curves per feature). One thread per run, LANES (default 2) side by side; rows aux_* / rates_* / popin*
# of the ablation table in docs/results.md.
# Usage: bash scripts/ts_aux_screen.sh [OUT=results/cpu-2026-12-03-tsaux]
#   ONLY="aux4 popin8" runs just the named variants; SEED=S (default 0) picks another seed
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-03-tsaux}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
run() {  # run VARIANT RULE OVERRIDES...: one run (seed $SEED, default 0) into $OUT/timeseries_elec/RULE/seedS_VARIANT
  local v=$1 rule=$2; shift 2
  picked "$v" || return 0
  SUFFIX="_$v" one timeseries_elec "$rule" variant="$v" data.predict=change "$@"  # measured on the change target
}
AUX4='data.aux_horizons=[2,4,8,16]'
AUX48='data.aux_horizons=[2,4,8,16,32,48]'
lane1() {
  run aux4 bsd "$AUX4"
  run rates_ramp_lam0.2_2layer bsd 'model.widths=[256,256]'
  run popin8 bsd model.encoder=population model.input_code.dim=8
  run aux4 bp_ann "$AUX4"
}
lane2() {
  run aux48 bsd "$AUX48"
  run popin8_ramp bsd model.encoder=population model.input_code.dim=8 model.input_code.shape=ramp
  run aux48 bp_ann "$AUX48"
}
if [ "${LANES:-2}" = 1 ]; then lane1; lane2; else lane1 & lane2 & wait; fi
