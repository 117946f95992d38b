#!/usr/bin/env bash
# Two-epoch screen of the forecaster with a fixed random expansion below the ReCo-trained layer, on the default of
# 2026-12-03 (centred rates, thermometer code, lambda 0.2): 'model.widths=[W,256]' with
# 'model.loss_weights.hidden=[0,1]' leaves the first recurrent layer at its random initialisation (its loss weight
# is zero, so nothing trains it) and trains the second with ReCo on the first one's spikes. A single ReCo-trained
# layer can only threshold linear maps of its input; on random spiking features of the input it can align with a
# nonlinear function of it. One thread, one run after another; rows expand* of the ablation table in docs/results.md.
# Usage: bash scripts/ts_expand_screen.sh [OUT=results/cpu-2026-12-03-tsexpand]
#   ONLY="expand512" runs just the named variants; SEED=S (default 0) picks another seed
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-03-tsexpand}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
run() {  # run VARIANT RULE OVERRIDES...: one run into $OUT/timeseries_elec/RULE/seedS_VARIANT
  local v=$1 rule=$2; shift 2
  picked "$v" || return 0
  SUFFIX="_$v" one timeseries_elec "$rule" variant="$v" data.predict=change "$@"  # measured on the change target
}
run expand512 bsd 'model.widths=[512,256]' 'model.loss_weights.hidden=[0,1]'
run expand512_trained bsd 'model.widths=[512,256]'
