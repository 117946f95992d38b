#!/usr/bin/env bash
# The forecaster's session of 2026-12-04: batches of 32 (timeseries_elec's default since) and the target code gated
# by the time of day with each unit assigned to one block (model.code.context_bins=8 model.code.context_assign=true).
# Full runs into results/cpu-2026-12-04-tsgate, variants gate8a (batch 128), b32 and gate8a_b32 (bsd, seeds 0-2 for
# the last two) b32 / b16 for bp_ann and b32 for bp_snn (seed 0), two lanes side by side, one thread each. The variant overrides pin
# data.batch_size and the gating, so the commands reproduce their rows whatever the defaults are.
# The one-step proxy screens that led there (data.window=1 data.lags=48, 20-40 epochs in seconds each) are listed with
# their commands in results/cpu-2026-12-04-tsgate/proxy_screen.log.
# Usage: bash scripts/ts_batch_gate.sh [OUT=results/cpu-2026-12-04-tsgate]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-04-tsgate}
mkdir -p "$OUT/logs"
GATE=(model.code.context_bins=8 model.code.context_assign=true)
NOGATE=(model.code.context_bins=0 model.code.context_assign=false)
(
  SUFFIX=_gate8a one timeseries_elec bsd variant=gate8a data.batch_size=128 "${GATE[@]}"
  for s in 0 1 2; do SEED=$s SUFFIX=_gate8a_b32 one timeseries_elec bsd variant=gate8a_b32 data.batch_size=32 \
    "${GATE[@]}"; done
) &
(
  for s in 0 1 2; do SEED=$s SUFFIX=_b32 one timeseries_elec bsd variant=b32 data.batch_size=32 "${NOGATE[@]}"; done
  for b in 32 16; do SUFFIX=_b$b one timeseries_elec bp_ann variant=b$b data.batch_size=$b; done
) &
wait
SUFFIX=_b32 one timeseries_elec bp_snn variant=b32 data.batch_size=32
