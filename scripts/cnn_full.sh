#!/usr/bin/env bash
# The CNN rows of the classification table at the default of 2026-12-01 (ReCo on centred firing rates,
# conv maps pooled to 4 x 4) over the config's full 10 epochs: mnist_cnn and fmnist_cnn bsd, seed 0,
# one thread each, side by side (about 10-11 minutes an epoch each on the 2-core machine).
# Usage: bash scripts/cnn_full.sh [OUT=results/cpu-2026-12-01-cnn10]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${1:-results/cpu-2026-12-01-cnn10}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
one mnist_cnn bsd & one fmnist_cnn bsd & wait
