#!/usr/bin/env bash
# timeseries_elec on its 2026-12-05 default (T = 4, ReCo along each layer's own forward simulation through the whole
# window; one day of history) on the residual of one linear map per half-hour whose slopes are shrunk towards the
# all-day map (data.residual_parts=48 data.residual_ridge=R): unshrunk, each half-hour's 57 coefficients are fitted
# on about 770 training steps, and the map alone scores 0.00113 on test (0.00103 shrunk with R = 3e-4).
# Variants p48rR (no gate) and hgate8_p48rR (hidden units gated by 8 parts of the day, model.context_gate=8), for
# bsd and bp_ann; p48rR_epochs4 and p48rR_adapt1 (bsd, four epochs; spike-frequency adaptation). SNN=1 runs bp_snn
# on p48rR and ANN=1 bp_ann on the experiment's default (variant b32, for its seeds; ANN=4: four epochs, b32_epochs4). Seed 0 unless SEED, one thread
# per run, two lanes side by side, into results/cpu-2026-12-05-tsridge.
# Usage: [ONLY="..."] [SEED=S] [LANE=a|b] [R=3e-4] [SNN=1] [ANN=1|4] bash scripts/ts_ridge.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsridge}
mkdir -p "$OUT/logs"
R=${R:-3e-4}
# the maps as they ran (one per half-hour for every day, untied; the default since 2026-12-05 is per day of the week)
P48=(data.residual_parts=48 data.residual_ridge="$R" data.residual_days=1 data.residual_smooth=0)
if [ -n "${SNN:-}" ]; then
  variant timeseries_elec bp_snn "p48r$R" "${P48[@]}"
  exit 0
fi
if [ -n "${ANN:-}" ]; then  # ANN=4: four epochs, as bsd's best (variant b32_epochs4)
  ALLDAY=(data.residual_parts=1 data.residual_days=1)  # the all-day map, the default until 2026-12-05
  if [ "$ANN" = 4 ]; then variant timeseries_elec bp_ann b32_epochs4 trainer.max_epochs=4 "${ALLDAY[@]}"; else
    variant timeseries_elec bp_ann b32 "${ALLDAY[@]}"; fi
  exit 0
fi
if [ "${LANE:-a}" = a ]; then
  (variant timeseries_elec bsd "hgate8_p48r$R" model.context_gate=8 "${P48[@]}"
   variant timeseries_elec bsd "p48r$R" "${P48[@]}"
   variant timeseries_elec bsd "p48r${R}_epochs4" "${P48[@]}" trainer.max_epochs=4) &
fi
if [ "${LANE:-b}" = b ]; then
  (variant timeseries_elec bp_ann "p48r$R" "${P48[@]}"
   variant timeseries_elec bp_ann "hgate8_p48r$R" model.context_gate=8 "${P48[@]}"
   variant timeseries_elec bsd "p48r${R}_adapt1" "${P48[@]}" model.neuron.adapt=1.0 model.neuron.adapt_tau=48) &
fi
wait
