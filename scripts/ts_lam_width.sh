#!/usr/bin/env bash
# CPU follow-up of the GPU forecaster screen of 2026-12-04 (results/gpu-2026-12-04-seq: one epoch each, where
# lambda 0.4 and wider gated layers led): bsd gated by 8 parts of the day with lambda 0.4, bsd gated by 16 parts
# with 1024 units and lambda 0.4, and bp_ann on that wide network, each over the default 2 epochs at batch 32,
# seed 0, two lanes side by side, one thread each, into results/cpu-2026-12-04-tslam (variants hgate8_lam0.4,
# hgate16_w1024_lam0.4, hgate16_w1024).
# Usage: bash scripts/ts_lam_width.sh [OUT=results/cpu-2026-12-04-tslam]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tslam}
mkdir -p "$OUT/logs"
(
  SUFFIX=_hgate8_lam0.4 one timeseries_elec bsd variant=hgate8_lam0.4 model.context_gate=8 model.reco.lam=0.4
  # bp_ann on the wide network of the second lane (lambda is bsd's alone)
  SUFFIX=_hgate16_w1024 one timeseries_elec bp_ann variant=hgate16_w1024 model.context_gate=16 'model.widths=[1024]'
) &
SUFFIX=_hgate16_w1024_lam0.4 one timeseries_elec bsd variant=hgate16_w1024_lam0.4 model.context_gate=16 \
  'model.widths=[1024]' model.reco.lam=0.4 &
wait
