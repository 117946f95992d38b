#!/usr/bin/env bash
# One-epoch screen of the bsd forecaster (timeseries_elec) against its two BP rules: spiking steps per
# position, the target code, the input code, the target's lags as inputs, depth. Every run is one
# thread, one after the other (pass LANES=2 to run two side by side); the rows land in the ablation
# table of docs/results.md (variant names below).
# (trainer.max_epochs=1 unless a run overrides it)
# Usage: bash scripts/timeseries_screen.sh [OUT=results/cpu-2026-11-29-ts] [window|unit|fixedtheta|linearcode|bias|change|change2|change3|change4|change5|change6|change7]
# (`window`: only the second screen, the whole one-day window of the target as lags at every step, so
# no position needs credit from earlier positions; the three rules side by side at one epoch;
# `unit`: ReCo per unit over the batch, model.reco.axis=unit, with and without those lags;
# `fixedtheta`: the hidden layer's Theta frozen at its random init, model.reco.theta=fixed;
# `linearcode`: ReCo per unit with no push against a two-curve ramp code, whose apical units are all
# monotone in the next value, so every hidden unit is asked to rise and fall with it, with and without lags;
# `bias`: a fixed tonic current per hidden unit spread over [-1, 1], model.neuron.bias_spread=1, with and
# without lags; `change`: every rule forecasts the change from the last observed value, data.predict=change;
# `change2`: the change target with the whole day as lags, bp_ann and bsd knobs one at a time;
# `change3`: the same with lateral decorrelation of the hidden voltages, a random hidden layer, bp_snn;
# `change4`: two hidden layers; `change5`: lighter pushes, a code over [-2, 2], T = 8;
# `change6`: each pair's push weighted by one minus the cosine of their target codes, model.reco.push_weight=code;
# `change7`: fewer, wider tuning curves in the target code (8 and 4 over the same range); lambda 0.1)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-ts}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
run() {  # run RULE VARIANT OVERRIDES...
  local rule=$1 v=$2; shift 2
  $PY src/train.py +experiment=timeseries_elec model.rule="$rule" seed=0 threads=1 logger=csv \
    trainer.enable_progress_bar=false trainer.max_epochs=1 variant="$v" "$@" \
    hydra.run.dir="$OUT/timeseries_elec/$rule/seed0_$v" > "$OUT/logs/$rule-$v.log" 2>&1 \
    || echo "FAILED: timeseries_elec $rule $v (see $OUT/logs)"
}
lane1() {
  run bsd screen1
  run bsd screen1_T1 model.T=1
  run bsd screen1_T2 model.T=2
  run bsd screen1_T8 model.T=8
  run bsd screen1_dim128 model.code.dim=128
  run bsd screen1_popinput model.encoder=population
}
lane2() {
  run bsd screen1_lags4 data.lags=4
  run bsd screen1_ramp model.code.shape=ramp
  run bsd screen1_ramp_lags4 model.code.shape=ramp data.lags=4
  run bsd screen1_ramp_2layer model.code.shape=ramp 'model.widths=[256,256]'
  run bp_ann screen1
  run bp_ann screen1_lags4 data.lags=4
}
if [ "${2:-}" = window ]; then
  run bsd screen1_lags48 data.lags=48 &
  run bsd screen1_ramp_lags48 model.code.shape=ramp data.lags=48 &
  wait
  run bp_ann screen1_lags48 data.lags=48 &
  run bp_snn screen1_lags48 data.lags=48 &
  run bsd screen1_w1024_lags48 'model.widths=[1024]' data.lags=48
  wait
  exit
elif [ "${2:-}" = unit ]; then  # ReCo over the batch per unit (model.reco.axis=unit), with and without lags
  run bsd screen1_unit model.reco.axis=unit &
  run bsd screen1_unit_lags48 model.reco.axis=unit data.lags=48 &
  wait
  # the push over every pair of 256 units dominated (pull 0.77, push 0.89 after the epoch): lighter pushes
  run bsd screen1_unit_lam0 model.reco.axis=unit model.reco.lam=0 &
  run bsd screen1_unit_lam0.01 model.reco.axis=unit model.reco.lam=0.01 &
  wait
  exit
elif [ "${2:-}" = fixedtheta ]; then  # a fixed random projection of the target code as the apical target
  run bsd screen1_fixedtheta model.reco.theta=fixed
  exit
elif [ "${2:-}" = linearcode ]; then
  lin=(model.reco.axis=unit model.reco.lam=0 model.code.dim=2 model.code.shape=ramp)
  run bsd screen1_unit_lam0_ramp2 "${lin[@]}" &
  run bsd screen1_unit_lam0_ramp2_lags48 "${lin[@]}" data.lags=48 &
  wait
  exit
elif [ "${2:-}" = bias ]; then  # heterogeneous excitability: rates that tile the drive's range
  run bsd screen1_bias1 model.neuron.bias_spread=1.0 &
  run bsd screen1_bias1_lags48 model.neuron.bias_spread=1.0 data.lags=48 &
  wait
  exit
elif [ "${2:-}" = change ]; then  # the target is the change from the last observed value (all rules)
  run bsd screen1_change data.predict=change &
  run bp_ann screen1_change data.predict=change &
  wait
  run bp_snn screen1_change data.predict=change &
  run bsd screen1_change_lags48 data.predict=change data.lags=48 &
  wait
  exit
elif [ "${2:-}" = change2 ]; then  # the change target with the whole day as lags: BP rules, then bsd knobs
  ch=(data.predict=change data.lags=48)
  run bp_ann screen1_change_lags48 "${ch[@]}"
  run bsd screen1_change_lags48_T8 "${ch[@]}" model.T=8
  run bsd screen1_change_lags48_ramp "${ch[@]}" model.code.shape=ramp
  run bsd screen1_change_lags48_w1024 "${ch[@]}" 'model.widths=[1024]'
  run bsd screen1_change_lags48_lam0.6 "${ch[@]}" model.reco.lam=0.6
  run bsd screen1_change_lags48_lam0.05 "${ch[@]}" model.reco.lam=0.05
  exit
elif [ "${2:-}" = change3 ]; then  # richer hidden rates: lateral decorrelation; controls (random layer, bp_snn)
  ch=(data.predict=change data.lags=48)
  run bsd screen1_change_lags48_decor1 "${ch[@]}" model.decorrelation=1
  run bsd screen1_change_lags48_decor10 "${ch[@]}" model.decorrelation=10
  run bsd screen1_change_lags48_hidden0 "${ch[@]}" model.loss_weights.hidden=0
  run bp_snn screen1_change_lags48 "${ch[@]}"
  exit
elif [ "${2:-}" = change4 ]; then  # depth (a second layer can bend what the first one makes linear)
  ch=(data.predict=change data.lags=48)
  run bsd screen1_change_lags48_2layer "${ch[@]}" 'model.widths=[256,256]'
  exit
elif [ "${2:-}" = change5 ]; then  # lighter pushes (0.05 beat 0.2 and 0.6), a finer code, T = 8
  ch=(data.predict=change data.lags=48)
  run bsd screen1_change_lags48_lam0.01 "${ch[@]}" model.reco.lam=0.01 &
  run bsd screen1_change_lags48_lam0.02 "${ch[@]}" model.reco.lam=0.02 &
  wait
  run bsd screen1_change_lags48_lam0.05_code2 "${ch[@]}" model.reco.lam=0.05 model.code.lo=-2 model.code.hi=2 &
  run bsd screen1_change_lags48_lam0.05_T8 "${ch[@]}" model.reco.lam=0.05 model.T=8 &
  wait
  exit
elif [ "${2:-}" = change7 ]; then  # fewer, wider tuning curves: an apical arc an affine basal map can follow
  ch=(data.predict=change data.lags=48 model.reco.lam=0.05)
  run bsd screen1_change_lags48_lam0.05_dim8 "${ch[@]}" model.code.dim=8 &
  run bsd screen1_change_lags48_lam0.05_dim4 "${ch[@]}" model.code.dim=4 &
  wait
  run bsd screen1_change_lags48_lam0.1 data.predict=change data.lags=48 model.reco.lam=0.1
  exit
elif [ "${2:-}" = change6 ]; then  # pushes weighted by how far apart the two targets' codes are
  ch=(data.predict=change data.lags=48 model.reco.push_weight=code)
  run bsd screen1_change_lags48_codepush "${ch[@]}" &
  run bsd screen1_change_lags48_codepush_lam0.6 "${ch[@]}" model.reco.lam=0.6 &
  wait
  run bsd screen1_change_lags48_codepush_lam0.05 "${ch[@]}" model.reco.lam=0.05 &
  run bsd screen1_change_codepush data.predict=change model.reco.push_weight=code &
  wait
  exit
elif [ -n "${2:-}" ]; then
  echo "unknown screen '$2' (expected: window, unit, fixedtheta, linearcode, bias, change, change2, change3, change4, change5, change6 or change7)" >&2; exit 2
fi
if [ "${LANES:-1}" = 2 ]; then lane1 & lane2 & wait; else lane1; lane2; fi
# the two changes that helped at one epoch, together, for 5 epochs
run bsd T8_ramp_epochs5 model.T=8 model.code.shape=ramp trainer.max_epochs=5
