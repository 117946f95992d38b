#!/usr/bin/env bash
# One prepared GPU check for docs/performance.md: the whole training-step benchmark on the GPU
# (MLP and CNN, bsd / bp_snn / bp_ann at T = 4, 8, 16, batch 128; then the MLP against snnTorch and
# SpikingJelly when their wheels are in .devdata/whl). Needs .devdata/ from scripts/prepare_devdata.sh.
# Writes $OUT/performance_gpu.md (tables with their commands) and $OUT/gpu_bench.log.
#   usage: bash scripts/gpu_bench.sh        (about 3 minutes on an H200)
#   BENCH_T="4 16" PEER_T=4 bash scripts/gpu_bench.sh   (fewer time steps: shorter)
set -u
OUT=${OUT:-/tmp/bsd_out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_bench.log") 2>&1
if ls .devdata/whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .devdata/whl/*.whl && export PYTHONPATH=/tmp/site:src
fi
export PYTHONPATH=${PYTHONPATH:-src} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
B="python3 -m bsd.bench --device cuda --data-dir .devdata/mnist --out $OUT/performance_gpu.md"
$B --arch mlp cnn --T ${BENCH_T:-4 8 16} --steps 50 --warmup 10 || echo "BENCH FAILED (ours)"
$B --rules bsd bp_snn snntorch spikingjelly --T ${PEER_T:-4 16} --steps 50 --warmup 10 || echo "BENCH FAILED (peers)"
cat "$OUT/performance_gpu.md"
