#!/usr/bin/env bash
# The forecaster's ReCo on centred firing rates (model.reco.on=spikes model.reco.center=batch, as the
# classifiers' default since 2026-12-01), timeseries_elec bsd, seeds 0-2, one thread each, into the
# ablation table of docs/results.md (variant spikes_center); the screen that made it timeseries_elec's
# default. The main rows at that default: SEED=k one timeseries_elec bsd (scripts/lanes.sh), k = 0-2.
# Usage: bash scripts/ts_rates.sh [OUT=results/cpu-2026-12-01-ts]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-01-ts}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
for s in 0 1 2; do
  $PY src/train.py +experiment=timeseries_elec model.rule=bsd seed=$s threads=1 logger=csv \
    trainer.enable_progress_bar=false model.reco.on=spikes model.reco.center=batch variant=spikes_center \
    hydra.run.dir="$OUT/timeseries_elec/bsd/seed${s}_spikes_center" > "$OUT/logs/spikes_center-seed$s.log" 2>&1 \
    || echo "FAILED: timeseries_elec bsd spikes_center seed $s (see $OUT/logs)"
done
# The text_char screen of the same setting (2026-12-01), seeds 0-2 (seed=k), into the ablation table:
#   python src/train.py +experiment=text_char model.rule=bsd seed=0 threads=1 logger=csv \
#     trainer.enable_progress_bar=false model.reco.on=spikes model.reco.center=batch variant=spikes_center \
#     hydra.run.dir=results/cpu-2026-12-01-text/text_char/bsd/seed0_spikes_center   (seedk_spikes_center)
