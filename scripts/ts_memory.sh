#!/usr/bin/env bash
# What bp_ann's recurrence remembers (2026-12-04, sixth session): bp_ann runs that each take one kind of history
# away from it or hand it in as input, against the default (0.00084) and no recurrence (norec, 0.00120):
#   norec_flags48   no recurrence, each feature's last 48 values (temperature, holiday) at every step
#   norec_lags96    no recurrence, the last 96 demands at every step (all the demand the default window holds)
#   norec_both      both of the above
#   win2 / win4 / win8 / win16  the recurrence over a window of 2 / 4 / 8 / 16 positions instead of 48
#                   (data.window; the day's 48 demand lags at every step as in the default)
#   position        back-propagation without credit through time (model.bp_credit=position: the previous position's
#                   hidden state is a detached input, as in bsd's per-position ReCo); also run with RULE=bp_snn;
#                   bp_ann also with a week of lags (week_position) and on bsd's best network and target of one day of
#                   history (hgate8_parts48_position: model.context_gate=8 data.residual_parts=48)
#   default / norec the default and model.recurrent_gain=0, again, with checkpoints for
#                   scripts/forecast_error_probe.py
# Seed 0, the default 2 epochs at batch 32, one thread per run, two lanes side by side, into
# results/cpu-2026-12-04-tsmem. RULE=bsd runs the same rows with bsd.
# Usage: [CREDIT=1] [ONLY="norec_flags48 ..."] [RULE=bp_ann] bash scripts/ts_memory.sh [OUT=results/cpu-2026-12-04-tsmem]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tsmem}
RULE=${RULE:-bp_ann}
mkdir -p "$OUT/logs"
row() {  # row NAME overrides...: one run of variant NAME unless ONLY leaves it out
  local name=$1; shift
  variant timeseries_elec "$RULE" "$name" "$@"
}
N="model.recurrent_gain=0"
if [ -n "${CREDIT:-}" ]; then  # CREDIT=1: the per-position rows only
  row position model.bp_credit=position
  [ "$RULE" = bp_ann ] && row week_position model.bp_credit=position data.lags=336
  [ "$RULE" = bp_ann ] && row hgate8_parts48_position model.bp_credit=position model.context_gate=8 data.residual_parts=48
  exit 0
fi
(row norec_flags48 $N data.feature_lags=48
 row norec_both $N data.feature_lags=48 data.lags=96
 row win2 data.window=2 data.lags=48
 row win8 data.window=8 data.lags=48) &
(row norec_lags96 $N data.lags=96
 row win4 data.window=4 data.lags=48
 row win16 data.window=16 data.lags=48) &
wait
