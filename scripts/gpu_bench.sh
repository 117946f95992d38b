#!/usr/bin/env bash
# One prepared GPU check for docs/performance.md (needs .devdata/ from scripts/prepare_devdata.sh):
#   1. bsd (layer-by-layer backward, the default), bsd_joint (model.backward=joint) and bp_snn on the MLP
#      (784-256x5-10) and the paper's CNN, batch 128 and 1024, T = 4 and 16;
#   2. the paper's memory comparison: the CNN at batch 128, peak CUDA memory of a step and the peak held for
#      backward, bsd against bp_snn (the paper reports 5,034 vs 3,324 MB);
#   3. the MLP at 6 and 24 weight layers (width 256), batch 128, T = 4 and 16;
#   4. the MLP against snnTorch and SpikingJelly when their wheels are in .devdata/whl (BENCH_PEERS=0: skip);
#   5. a profile (--profile) of bsd, bsd_joint and bp_snn on the MLP of 6 layers, T = 4, batch 128: where the
#      step time goes (phases, operator counts, top operators; CPU and CUDA activity).
# Writes $OUT/performance_gpu.md (tables with their commands), $OUT/bench_*.json (one row per rule, arch,
# depth, T: step_ms, peak_saved_mb, peak_mb, ...), $OUT/cnn_memory.md and $OUT/gpu_bench.log.
#   usage: bash scripts/gpu_bench.sh        (about 6 minutes on an H100)
#   BENCH_T="4" BENCH_BATCHES=128 bash scripts/gpu_bench.sh   (fewer time steps and batch sizes: shorter)
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
RULES="bsd bsd_joint bp_snn"
for batch in ${BENCH_BATCHES:-128 1024}; do
  steps=$([ "$batch" -ge 1024 ] && echo "--steps 20 --warmup 5" || echo "--steps 50 --warmup 10")
  $B --rules $RULES --arch mlp cnn --T ${BENCH_T:-4 16} --batch "$batch" $steps \
    --json "$OUT/bench_b$batch.json" || echo "BENCH FAILED (mlp, cnn, batch $batch)"
done
python3 - "$OUT" <<'PY' || echo "CNN MEMORY TABLE FAILED"
import json, sys
out = sys.argv[1]
try:
    rows = [r for r in json.load(open(f"{out}/bench_b128.json")) if r["arch"] == "cnn"]
except OSError:
    sys.exit("no batch-128 rows")
ref = {r["T"]: r for r in rows if r["rule"] == "bp_snn"}
lines = ["| T | rule | peak step memory MB (CUDA, above the model) | x bp_snn | peak held for backward MB | x bp_snn |",
         "|---|---|---|---|---|---|"]
for r in rows:
    b = ref[r["T"]]
    lines.append(f"| {r['T']} | {r['rule']} | {r['peak_mb']:.0f} | {r['peak_mb'] / b['peak_mb']:.2f} | "
                 f"{r['peak_saved_mb']:.1f} | {r['peak_saved_mb'] / b['peak_saved_mb']:.2f} |")
text = "\n### The paper's memory comparison: CNN, batch 128 (paper: bsd 5,034 MB, bp 3,324 MB)\n\n" + "\n".join(lines)
print(text)
open(f"{out}/cnn_memory.md", "w").write(text + "\n")
open(f"{out}/performance_gpu.md", "a").write(text + "\n")
PY
$B --rules $RULES --arch mlp --depths 6 24 --T ${BENCH_T:-4 16} --steps 30 --warmup 5 \
  --json "$OUT/bench_depth.json" || echo "BENCH FAILED (depths)"
$B --rules $RULES --arch mlp --depths 6 --T 4 --batch 128 --steps 30 --warmup 10 --profile \
  || echo "PROFILE FAILED"
if [ "${BENCH_PEERS:-1}" = 1 ]; then
  $B --rules bsd bp_snn snntorch spikingjelly --T ${PEER_T:-4 16} --steps 50 --warmup 10 || echo "BENCH FAILED (peers)"
fi
cat "$OUT/performance_gpu.md"
