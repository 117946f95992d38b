#!/usr/bin/env bash
# The gated forecaster (model.context_gate=8) on the residual of one linear map per part of the day, with PARTS
# parts (default 48, one map per half-hour, whose map alone scores 0.00113): bsd then bp_ann for each seed of SEEDS
# (default 0; the recorded rows: seed 0 first, then seeds 1 and 2 in two lanes side by side), the default 2 epochs
# at batch 32, one thread per run, into results/cpu-2026-12-04-tslam (variant hgate8_parts$PARTS). The 8-part rows
# are in scripts/ts_hidden_gate.sh.
# EXTRA=1 adds, on seed 0: both rules ungated on the same target (variant parts$PARTS) in one lane, bsd gated for
# 4 epochs (variant hgate8_parts${PARTS}_epochs4) in the other.
# Usage: [PARTS=48] [SEEDS="0 1 2"] [EXTRA=1] bash scripts/ts_gate_parts.sh [OUT=results/cpu-2026-12-04-tslam]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tslam}
P=${PARTS:-48}
mkdir -p "$OUT/logs"
if [ -n "${EXTRA:-}" ]; then
  (for rule in bsd bp_ann; do
    SUFFIX=_parts$P one timeseries_elec $rule variant=parts$P data.residual_parts=$P
  done) &
  SUFFIX=_hgate8_parts${P}_epochs4 one timeseries_elec bsd variant=hgate8_parts${P}_epochs4 model.context_gate=8 \
    data.residual_parts=$P trainer.max_epochs=4 &
  wait
  exit 0
fi
for seed in ${SEEDS:-0}; do
  for rule in bsd bp_ann; do
    SEED=$seed SUFFIX=_hgate8_parts$P one timeseries_elec $rule variant=hgate8_parts$P model.context_gate=8 \
      data.residual_parts=$P
  done
done
