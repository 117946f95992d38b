#!/usr/bin/env bash
# The CPU runs behind the image generation table of docs/results.md: mnist_ae and fmnist_ae with the
# three rules, seed 0. Two lanes run side by side, one thread each (2-core machine). The FID feature
# networks are trained and cached on first use (or beforehand: python -m bsd.fid --data NAME).
# The BP baselines use lr 3e-3 (bp_snn: test MSE 0.025 after 150 steps); bsd uses the config's 1e-2.
# Usage: bash scripts/ae_results.sh [OUT=results/cpu-2026-11-29-ae]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-ae}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
# MNIST: 3 epochs (the experiment default) for the BP baselines, 2 for bsd (its validation MSE did not move
# from epoch 1 to epoch 2 in a first 3-epoch run: 0.0641, 0.0647); Fashion-MNIST: 1 epoch each (time left
# in the session that ran them)
( one mnist_ae bsd trainer.max_epochs=2; one fmnist_ae bsd trainer.max_epochs=1 ) &
( one mnist_ae bp_snn model.optimizer.lr=3e-3; one mnist_ae bp_ann model.optimizer.lr=3e-3
  one fmnist_ae bp_ann model.optimizer.lr=3e-3 trainer.max_epochs=1
  one fmnist_ae bp_snn model.optimizer.lr=3e-3 trainer.max_epochs=1 ) &
wait
