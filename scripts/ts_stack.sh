#!/usr/bin/env bash
# timeseries_elec: bsd's best of one day of history (the residual of one map per half-hour shrunk towards the
# all-day map, data.residual_parts=48 data.residual_ridge=3e-4; scripts/ts_ridge.sh) with the knobs that each took
# 2-3 % off the forward-path default (2026-12-05, second session) stacked on it: a second recurrent layer of 256
# (p48r3e-4_2layer), eight spiking steps per position (p48r3e-4_T8), the learning rate (p48r3e-4_lr1e-2), width 512
# (p48r3e-4_w512), and longer training (suffix _epochsN). Seed 0 unless SEED, one thread per run, two lanes side by
# side (lane a runs A, lane b runs B: space-separated variant names), into results/cpu-2026-12-05-tsstack.
# Usage: A="..." B="..." [SEED=S] bash scripts/ts_stack.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsstack}
mkdir -p "$OUT/logs"
# the maps as they ran (one per half-hour for every day, untied; the default since 2026-12-05 is per day of the week)
P48=(data.residual_parts=48 data.residual_ridge=3e-4 data.residual_days=1 data.residual_smooth=0)

# `stacked NAME`: the overrides variant NAME adds to P48 (p48r3e-4 then _-separated knobs: 2layer, T8, lr1e-2,
# w512, epochsN), so a name says everything its run changes.
stacked() {
  local knob args=("${P48[@]}")
  IFS=_ read -ra knobs <<< "${1#p48r3e-4}"
  for knob in "${knobs[@]}"; do
    case $knob in
      "") ;;
      2layer) args+=('model.widths=[256,256]') ;;
      w512) args+=('model.widths=[512]') ;;
      T8) args+=(model.T=8) ;;
      lr*) args+=(model.optimizer.lr="${knob#lr}") ;;
      epochs*) args+=(trainer.max_epochs="${knob#epochs}") ;;
      *) echo "unknown knob $knob in $1" >&2; return 1 ;;
    esac
  done
  printf '%s\n' "${args[@]}"
}

lane() {
  local name
  for name in $1; do
    stacked "$name" > /dev/null || continue
    mapfile -t args < <(stacked "$name")
    variant timeseries_elec "${RULE:-bsd}" "$name" "${args[@]}"
  done
}
(lane "${A:-}") &
(lane "${B:-}") &
wait
