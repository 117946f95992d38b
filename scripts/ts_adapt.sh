#!/usr/bin/env bash
# timeseries_elec on its 2026-12-05 default (T = 4, ReCo along each layer's own forward simulation through the whole
# window) with spike-frequency adaptation in the hidden layer (model.neuron.adapt, adapt_tau): a slow threshold trace
# each unit carries across positions beside its fast membrane (0.5^4 = 6 % of a position's membrane reaches the next).
# Variants fwd_adaptB_tauK: strength B, time constant K spiking steps (48 = 12 positions = 6 hours; 192 = a day).
# RULE=bp_snn runs the same variants with back-propagation through the window (bp_ann has no spikes to adapt).
# Seed 0 unless SEED, one thread per run, two lanes side by side, into results/cpu-2026-12-05-tsadapt.
# Usage: [ONLY="fwd_adapt1_tau48 ..."] [SEED=S] [LANE=a|b] [RULE=bsd|bp_snn] bash scripts/ts_adapt.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsadapt}
mkdir -p "$OUT/logs"
RULE=${RULE:-bsd}
row() {  # row NAME B K [overrides...]
  local name=$1 b=$2 k=$3; shift 3
  variant timeseries_elec "$RULE" "$name" model.neuron.adapt="$b" model.neuron.adapt_tau="$k" \
    "${ALLDAY_MAP[@]}" "$@"
}
if [ "${LANE:-a}" = a ]; then
  (row fwd_adapt1_tau48 1.0 48
   row fwd_adapt0.3_tau48 0.3 48) &
fi
if [ "${LANE:-b}" = b ]; then
  (row fwd_adapt1_tau192 1.0 192
   row fwd_adapt3_tau48 3.0 48) &
fi
wait
