#!/usr/bin/env bash
# timeseries_elec on its 2026-12-05 default (T = 4, ReCo along each layer's own forward simulation through the whole
# window) with part of the hidden layer left out of ReCo (model.reco.free_units): those units have no target of their
# own, and the credit through time inside the layer trains them only for what they carry to the ReCo units at later
# positions (memory units). Variants fwd_freeF: fraction F of the 256 units free. bsd, seed 0 unless SEED, one thread
# per run, two lanes side by side, into results/cpu-2026-12-05-tsfree.
# Usage: [ONLY="fwd_free0.25 ..."] [SEED=S] [LANE=a|b] [EXTRA="overrides..."] bash scripts/ts_free_units.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsfree}
mkdir -p "$OUT/logs"
row() {  # row NAME F [overrides...]
  local name=$1 f=$2; shift 2
  # shellcheck disable=SC2086  # EXTRA holds whole overrides
  variant timeseries_elec bsd "$name" model.reco.free_units="$f" "${ALLDAY_MAP[@]}" ${EXTRA:-} "$@"
}
if [ "${LANE:-a}" = a ]; then
  (row fwd_free0.25 0.25
   row fwd_free0.75 0.75) &
fi
if [ "${LANE:-b}" = b ]; then
  (row fwd_free0.5 0.5) &
fi
wait
