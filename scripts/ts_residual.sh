#!/usr/bin/env bash
# The forecaster's residual target (data.predict=residual, timeseries_elec's default since 2026-12-03): every rule
# forecasts what a least-squares linear map of the input step misses. Variant residual of the ablation table in
# docs/results.md: bsd seeds 0-2 and bp_ann (then bp_snn) on seed 0, one run after another, one thread (the
# session ran it beside three CNN runs). GATE=1 instead runs the gated target codes of the same session
# (model.code.context_bins=8, with and without context_keep, on the change target they were measured on).
# PARTS=16 instead runs one residual map per 16th of the day (data.residual_parts=16, 2026-12-04; variant parts16):
# bsd and bp_ann on seed 0 side by side, into results/cpu-2026-12-04-tsparts, plus the floors of P = 1, 4, 8, 16, 48.
# Usage: bash scripts/ts_residual.sh [OUT=results/cpu-2026-12-03-tsresid]   (GATE=1: OUT defaults to ...-tsgate)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
if [ -n "${GATE:-}" ]; then
  OUT=${1:-results/cpu-2026-12-03-tsgate}
  mkdir -p "$OUT/logs"
  SUFFIX=_gate8 one timeseries_elec bsd variant=gate8 model.code.context_bins=8 data.predict=change
  SUFFIX=_gate8_keep one timeseries_elec bsd variant=gate8_keep model.code.context_bins=8 \
    model.code.context_keep=true data.predict=change
  exit 0
fi
if [ -n "${PARTS:-}" ]; then
  OUT=${1:-results/cpu-2026-12-04-tsparts}
  mkdir -p "$OUT/logs"
  for p in 1 4 8 16 48; do $PY scripts/ts_floors.py timeseries_elec data.residual_parts=$p; echo; done > "$OUT/floors.log"
  for rule in bsd bp_ann; do
    SUFFIX=_parts$PARTS one timeseries_elec "$rule" variant="parts$PARTS" data.residual_parts="$PARTS" &
  done
  wait
  exit 0
fi
OUT=${1:-results/cpu-2026-12-03-tsresid}
mkdir -p "$OUT/logs"
for spec in "bp_ann 0" "bsd 0" "bsd 1" "bsd 2" "bp_snn 0"; do
  set -- $spec
  SEED=$2 SUFFIX=_residual one timeseries_elec "$1" variant=residual data.predict=residual
done
