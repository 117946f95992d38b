#!/usr/bin/env bash
# One run of the forecaster's one-step proxy (data.window=1 data.lags=48: each sample is the last input step of a
# window, which still holds the day's demand; 6-20 s per epoch for bsd on one thread) and one summary line:
#   NAME test MSE, validation MSE after each epoch, seconds per epoch
# appended to $LOG (default results/cpu-2026-12-04-tsgate/proxy_screen.log, where the proxy rows of docs/design.md
# live). Usage: bash scripts/ts_proxy.sh NAME EPOCHS [overrides...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LOG=${LOG:-results/cpu-2026-12-04-tsgate/proxy_screen.log}
name=$1 epochs=$2; shift 2
dir=${WORK:-/tmp/ts_proxy}/$name
rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
$PY src/train.py +experiment=timeseries_elec data.window=1 data.lags=48 trainer.max_epochs="$epochs" threads=1 \
  logger=csv floors=false trainer.enable_progress_bar=false hydra.run.dir="$dir" "$@" > "$dir.log" 2>&1 \
  || { echo "FAILED: $name (see $dir.log)"; exit 1; }
echo "# $name: $epochs $*" >> "$LOG"
$PY - "$dir" "$name" >> "$LOG" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(f"{sys.argv[1]}/csv/metrics.csv")))
val = [float(r["val/mse"]) for r in rows if r.get("val/mse")]
test = [float(r["test/mse"]) for r in rows if r.get("test/mse")]
times = [float(r["perf/epoch_time_s"]) for r in rows if r.get("perf/epoch_time_s")]
spe = f"{sum(times) / len(times):.1f}" if times else "?"
print(f"{sys.argv[2]} test {test[-1]:.5f} val {' '.join(f'{v:.5f}' for v in val)} s/ep {spe}")
PY
tail -n 1 "$LOG"
