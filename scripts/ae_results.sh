#!/usr/bin/env bash
# The CPU runs behind the image generation table of docs/results.md at the default of 2026-12-02 (latent 128,
# lr 3e-3, push margin `code` for bsd, a 4-component Gaussian mixture fitted to the latent currents), one
# thread per run, two runs side by side. The FID networks ship with the package (src/bsd/assets/fid).
# (Earlier rows: this script at commit e374611 into results/cpu-2026-12-01-ae, at 3d3e99f into
# results/cpu-2026-11-29-ae; the single-Gaussian rows of 2026-12-02 by the commands in docs/design.md.)
# Usage: bash scripts/ae_results.sh [OUT=results/cpu-2026-12-02-ae-gmm4] [mnist|rest|ablations]
#   mnist: bsd seeds 0-2 and bp_ann seeds 0-2 on MNIST; rest: bp_snn on MNIST and the three rules on
#   Fashion-MNIST (seed 0); ablations: bsd variants of 2026-12-01 (one lane)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/cpu-2026-12-02-ae-gmm4}
WHAT=${2:-mnist}
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
mkdir -p "$OUT/logs"
variant() {  # variant EXPERIMENT NAME OVERRIDES...: a bsd ablation in its own run directory
  local exp=$1 v=$2; shift 2
  $PY src/train.py +experiment="$exp" model.rule=bsd seed=0 threads=1 logger=csv trainer.enable_progress_bar=false \
    variant="$v" "$@" hydra.run.dir="$OUT/$exp/bsd/seed0_$v" > "$OUT/logs/$exp-bsd-$v.log" 2>&1 \
    || echo "FAILED: $exp bsd $v (see $OUT/logs)"
}
mnist_a() { SEED=0 one mnist_ae bsd; SEED=1 one mnist_ae bsd; }
mnist_b() { SEED=2 one mnist_ae bsd; for s in 0 1 2; do SEED=$s one mnist_ae bp_ann; done; }
rest_a() { one mnist_ae bp_snn; one fmnist_ae bp_ann; }
rest_b() { one fmnist_ae bsd; one fmnist_ae bp_snn; }
ablations() {
  variant mnist_ae margin_zero model.reco.margin=zero     # the paper's hinge at the shape and lr of 2026-12-01
  variant mnist_ae z32 model.latent=32                    # the margin at the earlier latent width
}
case "$WHAT" in
  mnist) mnist_a & mnist_b & wait ;;
  rest) rest_a & rest_b & wait ;;
  ablations) ablations ;;
  *) echo "unknown part '$WHAT' (mnist, rest or ablations)" >&2; exit 2 ;;
esac
