#!/usr/bin/env bash
# Time to 97 % validation accuracy on MNIST with the MLP of `mnist_mlp`, bsd and bp_snn side by side
# (one thread each on the 2-core machine), validating every quarter epoch, 5 epochs at most.
# Results go to results/<OUT>/; `python -m bsd.report results` turns them into the docs' table.
#   bash scripts/time_to_target.sh [OUT]   (default: cpu-<date>-ttt)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/${1:-cpu-$(date +%F)-ttt}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT/logs"
source scripts/lanes.sh
for rule in bsd bp_snn; do
  one mnist_mlp "$rule" variant=time_to_target time_to_target.target=0.97 trainer.val_check_interval=0.25 &
done
wait
grep -h "time to val/acc" "$OUT"/logs/*.log || true
