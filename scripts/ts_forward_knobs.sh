#!/usr/bin/env bash
# timeseries_elec around its 2026-12-05 default (T = 4, ReCo along each layer's own forward simulation through the
# whole window): the knobs that decide what the forward stream can carry from one position to the next, now that the
# credit runs back through it, the push, the learning rate and the length of training. Variants: beta0.8 (membrane
# decay per step, default 0.5: at T = 4 a position's membrane keeps 0.5^4 = 6 % into the next), rg0.5 (W_h's initial
# scale, default 0.1), lam0.4 and lam0.1 (the push, default 0.2), 2layer (a second recurrent layer of 256, each
# trained along its own forward simulation), epochs4 (four epochs, default 2), lr6e-3 and lr1e-2 (the learning rate,
# default 3e-3), fwd_week_hgate8_parts8 (the best bsd setting of the rest path, 2026-12-04: a week of demand lags at
# every step, 8 gated parts of the day, one residual map per eighth of the day; not the default: the issue sets one
# day of history) and margin (each pair's push hinge at the cosine of the two targets' codes centred over the
# position's batch, model.reco.margin=code; stopped after one epoch at validation MSE 0.00160 against the default's
# 0.00134; before 2026-12-05 the rnn took the raw codes' cosines, stopped after one epoch at 0.00192: with the
# thermometer code most pairs' raw cosines are high, so almost nothing is pushed). bsd, seed 0 unless SEED, one thread
# per run, two lanes side by side, into results/cpu-2026-12-05-tsknobs.
# Usage: [ONLY="beta0.8 lam0.4 ..."] [SEED=S] [LANE=a|b] bash scripts/ts_forward_knobs.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsknobs}
mkdir -p "$OUT/logs"
row() {  # row RULE NAME overrides...: one timeseries_elec run of variant NAME
  local rule=$1 name=$2; shift 2
  variant timeseries_elec "$rule" "$name" "${ALLDAY_MAP[@]}" "$@"  # the map these rows ran on
}
WEEK=(data.lags=336 model.context_gate=8 data.residual_parts=8)
if [ "${LANE:-a}" = a ]; then
  (row bsd beta0.8 model.neuron.beta=0.8
   row bsd lam0.4 model.reco.lam=0.4
   row bsd epochs4 trainer.max_epochs=4
   row bsd lr6e-3 model.optimizer.lr=6e-3
   row bsd lam0.1 model.reco.lam=0.1) &
fi
if [ "${LANE:-b}" = b ]; then
  (row bsd rg0.5 model.recurrent_gain=0.5
   row bsd fwd_week_hgate8_parts8 "${WEEK[@]}"
   row bsd margin model.reco.margin=code
   row bsd lr1e-2 model.optimizer.lr=1e-2
   row bsd 2layer 'model.widths=[256,256]') &
fi
wait
