#!/usr/bin/env bash
# The main text_char bsd rows at the default of 2026-12-01 (ReCo on centred firing rates), seeds given as
# arguments (default 0), one thread each, one after the other; the BP rows do not read the ReCo settings
# (results/cpu-2026-11-29-textb64).
# Usage: bash scripts/text_rates.sh [SEED ...]   (OUT=results/cpu-2026-12-01-textmain)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-results/cpu-2026-12-01-textmain}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
for s in "${@:-0}"; do SEED=$s one text_char bsd; done
