#!/usr/bin/env bash
# The forecaster's hidden units gated by the part of the day (model.context_gate=8, 2026-12-04, second session):
# bsd seeds 0-2, bp_snn and bp_ann (seed 0), bsd gated for 4 epochs and bp_ann ungated for 4 epochs, then bsd and
# bp_ann gated with one residual map per part of the day (data.residual_parts=8). Full runs at the default batch of
# 32 into results/cpu-2026-12-04-tshgate (variants hgate8, hgate8_epochs4, b32_epochs4, hgate8_parts8), two lanes
# side by side, one thread each. The proxy screens that led there: scripts/ts_proxy.sh (lines in
# results/cpu-2026-12-04-tsgate/proxy_screen.log).
# Usage: bash scripts/ts_hidden_gate.sh [OUT=results/cpu-2026-12-04-tshgate]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tshgate}
mkdir -p "$OUT/logs"
G=(model.context_gate=8 data.batch_size=32)
(
  for s in 0 1 2; do SEED=$s SUFFIX=_hgate8 one timeseries_elec bsd variant=hgate8 "${G[@]}"; done
  SUFFIX=_hgate8_epochs4 one timeseries_elec bsd variant=hgate8_epochs4 "${G[@]}" trainer.max_epochs=4
  SUFFIX=_hgate8_parts8 one timeseries_elec bsd variant=hgate8_parts8 "${G[@]}" data.residual_parts=8
) &
(
  SUFFIX=_hgate8 one timeseries_elec bp_ann variant=hgate8 "${G[@]}"
  SUFFIX=_epochs4 one timeseries_elec bp_ann variant=b32_epochs4 model.context_gate=0 data.batch_size=32 \
    trainer.max_epochs=4
  SUFFIX=_hgate8_parts8 one timeseries_elec bp_ann variant=hgate8_parts8 "${G[@]}" data.residual_parts=8
  SUFFIX=_hgate8 one timeseries_elec bp_snn variant=hgate8 "${G[@]}"
) &
wait
# gated with T = 8 (variant hgate8_T8; the recorded run used threads=2 alone on the machine)
SUFFIX=_hgate8_T8 one timeseries_elec bsd variant=hgate8_T8 "${G[@]}" model.T=8
