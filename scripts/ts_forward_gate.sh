#!/usr/bin/env bash
# timeseries_elec on its 2026-12-05 default (T = 4, ReCo along each layer's own forward simulation through the whole
# window) with the hidden units gated by the part of the day, on one day of history (the issue's default): the
# rest path's best one-day settings (2026-12-04) moved onto the forward path. Variants: fwd_hgate8 (8 gated parts of
# the day, model.context_gate=8, one residual map) and fwd_hgate8_parts48 (the same gate on the residual of one map
# per half-hour, data.residual_parts=48: the rest path's best, 0.00109, where bp_ann scores 0.00107). bsd, seed 0
# unless SEED, one thread per run, two lanes side by side, into results/cpu-2026-12-05-tsfwdgate.
# Usage: [ONLY="fwd_hgate8 ..."] [SEED=S] [LANE=a|b] [RULE=bsd|bp_ann|bp_snn] bash scripts/ts_forward_gate.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsfwdgate}
mkdir -p "$OUT/logs"
RULE=${RULE:-bsd}
if [ "${LANE:-a}" = a ]; then
  variant timeseries_elec "$RULE" fwd_hgate8 "${ALLDAY_MAP[@]}" model.context_gate=8 &
fi
if [ "${LANE:-b}" = b ]; then
  variant timeseries_elec "$RULE" fwd_hgate8_parts48 "${ALLDAY_MAP[@]}" model.context_gate=8 \
    data.residual_parts=48 &
fi
wait
