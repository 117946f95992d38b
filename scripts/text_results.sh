#!/usr/bin/env bash
# The CPU runs behind the rnn 1024 rows of the text_char table in docs/results.md: the default
# experiment (1024 units, T = 1, one epoch) with bsd over seeds 0-2 and bp_snn, bp_ann on seed 0.
# Two lanes side by side, one thread each (2-core machine), about 40 minutes in all.
# Usage: bash scripts/text_results.sh [OUT=results/cpu-2026-11-29-textmain]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-11-29-textmain}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
( one text_char bsd; SEED=1 one text_char bsd ) &
( one text_char bp_snn; one text_char bp_ann; SEED=2 one text_char bsd ) &
wait
