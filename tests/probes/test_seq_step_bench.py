"""bsd.probes.seq_step_bench: it times every setting it names and prints ratios to the first."""

from tests.probes import load_probe


def test_the_bench_times_each_setting_and_prints_its_ratio(capsys):
    mod = load_probe("seq_step_bench")
    mod.main(["--through-time", "0", "2", "--forward", "5", "--feedback", "transport", "trace", "--steps", "1",
              "--warmup", "0", "--threads", "1", "model.widths=[32]", "data.batch_size=4", "data.seq_len=6"])
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| bsd") or r.startswith("| bp_snn")]
    assert [r.split(" | ")[0] for r in rows] == ["| bsd, through_time=0", "| bsd, through_time=2",
                                                 "| bsd, through_time=5, time_path=forward",
                                                 "| bsd, through_time=5, time_path=forward, time_feedback=trace",
                                                 "| bp_snn"]
    cells = [r.split(" | ") for r in rows]
    assert cells[0][2] == "1.00" and all(float(c[1]) > 0 for c in cells)
    held = {c[0]: float(c[3].rstrip(" |")) for c in cells}
    assert all(v > 0 for v in held.values())
    assert held["| bsd, through_time=2"] > held["| bsd, through_time=0"]  # credit two positions back holds more
