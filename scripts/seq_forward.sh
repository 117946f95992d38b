#!/usr/bin/env bash
# Credit through time along the forward stream itself (model.reco.time_path=forward, 2026-12-05): each layer's ReCo
# reads the rates its forward simulation produced (membrane carried across positions) and back-propagates through
# that simulation inside the layer, every step, membrane and spikes, cut every k + 1 positions
# (model.reco.through_time=k; 99 covers the whole sequence of either task: 50 characters, 48 half-hours).
#   text lane:  fwd99 (text_char, whole sequence), then fwd0 (cut at every position: the loss on the forward's own
#               spikes, no credit through time), then ctx4_fwd99 (four characters per step, data.context=4)
#   ts lane:    T1_fwd99, T1_fwd0, T1_fwd4 (timeseries_elec at T = 1), then T4_fwd99 (T = 4, where the rest path's
#               credit was only an approximation; seeds 1 and 2: SEED=S LANE=ts ONLY=T4_fwd99), T8_fwd99
# bsd, seed 0 unless SEED, the experiments' defaults otherwise, one thread per run, the two lanes side by side,
# into results/cpu-2026-12-05-tsfwd. Usage: [ONLY="fwd99 T1_fwd99 ..."] [SEED=S] [LANE=text|ts]
# bash scripts/seq_forward.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsfwd}
mkdir -p "$OUT/logs"
row() {  # row EXPERIMENT NAME overrides...: one bsd run of variant NAME on the forward path
  local exp=$1 name=$2 pins=(); shift 2
  [ "$exp" = timeseries_elec ] && pins=("${ALLDAY_MAP[@]}")  # the map these rows ran on
  variant "$exp" bsd "$name" model.reco.time_path=forward "${pins[@]}" "$@"
}
if [ "${LANE:-text}" = text ]; then
  (row text_char fwd99 model.reco.through_time=99
   row text_char fwd0 model.reco.through_time=0
   row text_char ctx4_fwd99 model.reco.through_time=99 data.context=4) &
fi
if [ "${LANE:-ts}" = ts ]; then
  (row timeseries_elec T1_fwd99 model.reco.through_time=99
   row timeseries_elec T1_fwd0 model.reco.through_time=0
   row timeseries_elec T1_fwd4 model.reco.through_time=4
   row timeseries_elec T4_fwd99 model.T=4 model.reco.through_time=99
   row timeseries_elec T8_fwd99 model.T=8 model.reco.through_time=99) &
fi
wait
