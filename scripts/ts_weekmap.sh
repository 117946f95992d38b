#!/usr/bin/env bash
# timeseries_elec on its 2026-12-05 default (T = 4, ReCo along each layer's own forward simulation through the whole
# window; one day of history) on the residual of one linear map per half-hour and day of the week
# (data.residual_parts=48 data.residual_days=7), the maps of neighbouring half-hours and of the same half-hour on
# different days tied by data.residual_smooth=S (3e-3: the best of the map alone on the validation span). Variants
# p48d7sS (two epochs) and p48d7sS_epochs4 for bsd and bp_ann, bp_snn's p48d7sS with SNN=1. Seed 0 unless SEED, one
# thread per run; lane a runs A, lane b runs B (space-separated variant names), side by side, into
# results/cpu-2026-12-05-tsweekmap. FLOORS=1 instead scores the maps alone on the validation and test spans
# (scripts/ts_floors.py --both) for the settings the choice of S looked at, into OUT/floors.log.
# Usage: A="RULE:VARIANT ..." B="RULE:VARIANT ..." [SEED=S] [S=3e-3] bash scripts/ts_weekmap.sh [OUT]
#        FLOORS=1 bash scripts/ts_weekmap.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-tsweekmap}
mkdir -p "$OUT/logs"
S=${S:-3e-3}
MAP=(data.residual_parts=48 data.residual_days=7 data.residual_smooth="$S")
if [ -n "${FLOORS:-}" ]; then
  floors() { $PY scripts/ts_floors.py --both timeseries_elec "$@" 2>&1 | grep "floors of\|linear map"; }
  {
    floors data.residual_parts=1 data.residual_days=1
    floors data.residual_parts=48 data.residual_days=1 data.residual_ridge=3e-4 data.residual_smooth=0
    floors data.residual_parts=48 data.residual_days=1 data.residual_ridge=1e-4 data.residual_smooth=1e-3
    floors data.residual_parts=48 data.residual_days=2 data.residual_ridge=1e-4 data.residual_smooth=3e-3
    floors data.residual_parts=24 data.residual_days=7 data.residual_ridge=1e-4 data.residual_smooth=3e-3
    for rs in "3e-4 3e-3" "1e-4 1e-3" "1e-4 3e-3" "1e-4 1e-2" "3e-5 3e-3" "0 1e-3" "0 3e-3" "0 1e-2"; do
      read -r r s <<< "$rs"
      floors data.residual_parts=48 data.residual_days=7 data.residual_ridge="$r" data.residual_smooth="$s"
    done
  } > "$OUT/floors.log"
  exit 0
fi

lane() {
  local job rule name
  for job in $1; do
    rule=${job%%:*} name=${job#*:}
    case $name in
      "p48d7s$S") variant timeseries_elec "$rule" "$name" "${MAP[@]}" ;;
      "p48d7s${S}_epochs"*) variant timeseries_elec "$rule" "$name" "${MAP[@]}" trainer.max_epochs="${name##*_epochs}" ;;
      *) echo "unknown variant $name (p48d7s$S or p48d7s${S}_epochsN)" >&2 ;;
    esac
  done
}
(lane "${A:-}") &
(lane "${B:-}") &
wait
