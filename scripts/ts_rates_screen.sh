#!/usr/bin/env bash
# Two-epoch screen of the bsd forecaster on centred firing rates (its ReCo since 2026-12-01), one knob at a
# time, one thread per run, LANES (default 2) side by side; rows rates_* of the ablation table in docs/results.md.
# The first rows pin the default until 2026-12-03 (Gaussian code, lambda 0.05; rates_base reruns it as the
# paired control): the thermometer code, lambda 0.2, a tonic current spread, T = 8, two layers, 512 units. The
# later rows sit around the default since (ramp code, lambda 0.2): lambda 0.1 / 0.4, a tonic spread, T = 8,
# 512 units, 64 curves.
# Usage: bash scripts/ts_rates_screen.sh [OUT=results/cpu-2026-12-03-ts]
#   ONLY="rates_bias1 rates_lam0.2" runs just the named variants (e.g. LANES=1 beside other work); SEED=S
#   (default 0) picks another seed
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-03-ts}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
# the default until 2026-12-03, which the first rows were measured against (every knob not named in a row)
OLD=(model.code.shape=gaussian model.reco.lam=0.05)
run() {  # run VARIANT OVERRIDES...: one run (seed $SEED, default 0) into $OUT/timeseries_elec/bsd/seedS_VARIANT
  local v=$1; shift
  picked "$v" || return 0
  SUFFIX="_$v" one timeseries_elec bsd variant="$v" data.predict=change "$@"  # measured on the change target
}
lane1() {
  run rates_base "${OLD[@]}"  # the old default itself, rerun beside the variants as their paired control
  run rates_ramp model.code.shape=ramp model.reco.lam=0.05
  run rates_T8 model.T=8 "${OLD[@]}"
  run rates_lam0.2 model.reco.lam=0.2 model.code.shape=gaussian
  run rates_ramp_lam0.2_bias1 model.code.shape=ramp model.reco.lam=0.2 model.neuron.bias_spread=1.0
  run rates_ramp_lam0.4 model.code.shape=ramp model.reco.lam=0.4
  run rates_ramp_lam0.1 model.code.shape=ramp model.reco.lam=0.1
}
lane2() {
  run rates_bias1 model.neuron.bias_spread=1.0 "${OLD[@]}"
  run rates_2layer 'model.widths=[256,256]' "${OLD[@]}"
  run rates_w512 'model.widths=[512]' "${OLD[@]}"
  run rates_ramp_lam0.2 model.code.shape=ramp model.reco.lam=0.2
  run rates_ramp_lam0.2_T8 model.code.shape=ramp model.reco.lam=0.2 model.T=8
  run rates_ramp_lam0.2_w512 model.code.shape=ramp model.reco.lam=0.2 'model.widths=[512]'
  run rates_ramp_lam0.2_dim64 model.code.shape=ramp model.reco.lam=0.2 model.code.dim=64
}
if [ "${LANES:-2}" = 1 ]; then lane1; lane2; else lane1 & lane2 & wait; fi
