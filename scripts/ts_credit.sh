#!/usr/bin/env bash
# Layer-local credit through time for the forecaster where it is exact (2026-12-04, sixth session): at one spiking
# step per position (model.T=1, as text) the credited previous rate is the previous position's own, so
# model.reco.through_time=k assigns the credit that back-propagation through time gives bp_ann (0.00084 against
# 0.001132 with model.bp_credit=position), within the layer:
#   T1 / T1_tt1 / T1_tt4                  T = 1 with k = 0 / 1 / 4
#   T1_g05 / T1_g05_tt1 / T1_g05_tt4      the same with text's recurrent gain 0.5 (model.recurrent_gain)
#   T1_tt16                               k = 16
#   T1_tt4_hg8p8 / T1_tt4_hg48            k = 4 with the hidden units gated by 8 parts of the day on the residual of
#                                         one map per eighth of the day / per half-hour (bsd's best at T = 4)
# BPSNN=1 runs bp_snn at T = 1 (variant T1_tt4: the forecaster's default since 2026-12-04, sixth session; k only
# concerns bsd); seeds 1 and 2 of the new default: SEED=S ONLY=T1_tt4 bash scripts/ts_credit.sh.
# THIRD=1 runs around the new default: four and then eight epochs (T1_tt4_epochs4, T1_tt4_epochs8) in one lane, 512 units (T1_tt4_w512) and
# lambda 0.4 (T1_tt4_lam0.4) in the other.
# FOURTH=1 runs the new default with random feedback instead of W_h's transpose (T1_tt4_random) beside two steps per
# position with the same credit (T2_tt4).
# SECOND=1 runs the last three rows (T1_tt16 in one lane, the gated ones in the other).
# bsd, seed 0, the default 2 epochs at batch 32, one thread per run, two lanes side by side, into
# results/cpu-2026-12-04-tscredit.
# Usage: [BPSNN=1 | SECOND=1 | THIRD=1 | FOURTH=1 | ANN8=1] [ONLY="T1 ..."] [SEED=S] bash scripts/ts_credit.sh [OUT=results/cpu-2026-12-04-tscredit]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tscredit}
mkdir -p "$OUT/logs"
row() {  # row NAME overrides...: one bsd run of variant NAME unless ONLY leaves it out
  local name=$1; shift
  variant timeseries_elec bsd "$name" model.T=1 "$@"
}
if [ -n "${BPSNN:-}" ]; then
  SUFFIX=_T1_tt4 one timeseries_elec bp_snn variant=T1_tt4 model.T=1 model.reco.through_time=4
  exit 0
fi
if [ -n "${ANN8:-}" ]; then  # ANN8=1: bp_ann for eight epochs, beside bsd's T1_tt4_epochs8
  SUFFIX=_T1_tt4_epochs8 one timeseries_elec bp_ann variant=T1_tt4_epochs8 trainer.max_epochs=8
  exit 0
fi
if [ -n "${FOURTH:-}" ]; then
  row T1_tt4_random model.reco.through_time=4 model.reco.time_feedback=random &
  picked T2_tt4 && SUFFIX=_T2_tt4 one timeseries_elec bsd variant=T2_tt4 model.T=2 model.reco.through_time=4 &
  wait
  exit 0
fi
if [ -n "${THIRD:-}" ]; then
  (row T1_tt4_epochs4 model.reco.through_time=4 trainer.max_epochs=4
   row T1_tt4_epochs8 model.reco.through_time=4 trainer.max_epochs=8) &
  (row T1_tt4_w512 model.reco.through_time=4 'model.widths=[512]'
   row T1_tt4_lam0.4 model.reco.through_time=4 model.reco.lam=0.4) &
  wait
  exit 0
fi
if [ -n "${SECOND:-}" ]; then
  row T1_tt16 model.reco.through_time=16 &
  (row T1_tt4_hg8p8 model.reco.through_time=4 model.context_gate=8 data.residual_parts=8
   row T1_tt4_hg48 model.reco.through_time=4 model.context_gate=8 data.residual_parts=48) &
  wait
  exit 0
fi
(row T1
 row T1_tt1 model.reco.through_time=1
 row T1_tt4 model.reco.through_time=4) &
(row T1_g05 model.recurrent_gain=0.5
 row T1_g05_tt1 model.recurrent_gain=0.5 model.reco.through_time=1
 row T1_g05_tt4 model.recurrent_gain=0.5 model.reco.through_time=4) &
wait
