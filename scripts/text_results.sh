#!/usr/bin/env bash
# The CPU runs behind the rnn 1024 rows of the text_char table in docs/results.md: the default
# experiment (1024 units, T = 1, batches of 64, one epoch) with bsd over seeds 0-2 and bp_snn, bp_ann on seed 0.
# Two lanes side by side, one thread each (2-core machine), about 45 minutes in all. (The rows at batch
# 128, the default until the afternoon of 2026-11-29, are in results/cpu-2026-11-29-textmain.)
# Usage: bash scripts/text_results.sh [OUT=results/cpu-2026-11-29-textb64]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-textb64}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
( one text_char bsd; SEED=1 one text_char bsd ) &
( one text_char bp_snn; one text_char bp_ann; SEED=2 one text_char bsd ) &
wait
