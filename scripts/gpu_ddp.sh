#!/usr/bin/env bash
# Data-parallel smoke on a GPU machine: every task trains a few steps under trainer=ddp (nccl; all GPUs of the node,
# one process per GPU) and writes one metrics.json; with one GPU it still runs the nccl process group end to end.
# Also runs the CPU equivalence and kill-resume tests there. Writes $OUT/gpu_ddp.log.
#   usage: bash scripts/gpu_ddp.sh            (after scripts/prepare_devdata.sh, as scripts/gpu_results.sh)
set -u
OUT=${OUT:-/tmp/bsd_out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_ddp.log") 2>&1
if ls .devdata/whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .devdata/whl/*.whl && export PYTHONPATH=/tmp/site
fi
[ -d .devdata/site/tsdata ] && export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/.devdata/site"
export BSD_CACHE_DIR=/tmp/bsd_cache HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1 WANDB_MODE=offline
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
FAST=(trainer=ddp trainer.limit_train_batches=8 trainer.limit_val_batches=2 trainer.limit_test_batches=2
      trainer.max_epochs=1 trainer.enable_progress_bar=false logger=csv)
status=0
for job in "mnist_mlp data.data_dir=.devdata/mnist" "mnist_cnn data.data_dir=.devdata/mnist" \
           "text_char model.widths=[256]" "timeseries_elec floors=false" \
           "mnist_ae data.data_dir=.devdata/mnist generation.fid.n_samples=500"; do
  set -- $job
  exp=$1; shift
  t0=$(date +%s)
  if python3 src/train.py +experiment="$exp" "${FAST[@]}" "$@" hydra.run.dir="$OUT/ddp/$exp" > "$OUT/ddp_$exp.log" 2>&1; then
    echo "OK   $exp ($(( $(date +%s) - t0 )) s): $(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['processes'], 'processes', m['test'])" "$OUT/ddp/$exp/metrics.json")"
  else
    echo "FAIL $exp: $(tail -3 "$OUT/ddp_$exp.log")"; status=1
  fi
done
python3 -m pytest -q tests/test_dist.py tests/test_resume.py -p no:cacheprovider || status=1
exit $status
