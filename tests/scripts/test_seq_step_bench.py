"""scripts/seq_step_bench.py: it times every setting it names and prints ratios to the first."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "seq_step_bench.py"


def test_the_bench_times_each_setting_and_prints_its_ratio(capsys):
    spec = importlib.util.spec_from_file_location("seq_step_bench", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--through-time", "0", "2", "--steps", "1", "--warmup", "0", "--threads", "1",
              "model.widths=[32]", "data.batch_size=4", "data.seq_len=6"])
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| bsd") or r.startswith("| bp_snn")]
    assert [r.split(" | ")[0] for r in rows] == ["| bsd, through_time=0", "| bsd, through_time=2", "| bp_snn"]
    assert rows[0].endswith("| 1.00 |") and all(float(r.split(" | ")[1]) > 0 for r in rows)
