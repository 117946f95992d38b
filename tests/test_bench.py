import importlib.util
import json

import pytest
import torch

from bsd.bench import JSON_FIELDS, interleaved_times, main, mlp_widths, table, worker

SMALL = {"batch": 32, "steps": 2, "warmup": 1, "widths": [32, 32], "device": "cpu"}


def test_bsd_on_voltages_keeps_no_graph_through_time_while_bptt_and_rates_do():
    volt = [worker("mlp", "bsd_voltage", T, **SMALL)["graph_mb"] for T in (2, 8, 14)]
    rates = [worker("mlp", "bsd", T, **SMALL)["graph_mb"] for T in (2, 8, 14)]
    bptt = [worker("mlp", "bp_snn", T, **SMALL)["graph_mb"] for T in (2, 8, 14)]
    assert volt[0] == pytest.approx(volt[1], rel=1e-6) == pytest.approx(volt[2], rel=1e-6)  # constant in T
    # linear in T (the direct-coded input is stored once, the rest once per step)
    assert bptt[1] > 1.5 * bptt[0] and bptt[2] - bptt[1] == pytest.approx(bptt[1] - bptt[0], rel=0.05)
    assert volt[1] < bptt[1]
    # ReCo on rates (the classifiers' default) keeps each layer's own T steps for its surrogate gradient
    assert rates[1] > 1.5 * rates[0] and rates[2] - rates[1] == pytest.approx(rates[1] - rates[0], rel=0.05)


def test_interleaved_timing_times_every_rule():
    out = interleaved_times("mlp", ["bsd", "bp_snn"], 4, 32, 3, 1, [32, 32], "cpu")
    assert set(out["median"]) == set(out["first"]) == {"bsd", "bp_snn"}
    assert all(v > 0 for v in out["median"].values())


def test_table_ratios_are_against_bp_snn():
    rows = [{"arch": "mlp", "rule": "bp_snn", "T": 4, "median_ms": 10.0, "graph_mb": 8.0, "peak_rss_mb": 500},
            {"arch": "mlp", "rule": "bsd", "T": 4, "median_ms": 5.0, "graph_mb": 2.0, "peak_rss_mb": 500}]
    text = table(rows, "cpu")
    assert "| mlp | - | 4 | bsd | 5.0 | 0.50 | 2.0 | 0.25 | 500 |" in text  # no peak measured: the sum


def test_table_ratios_are_per_depth_and_use_the_peak_held_for_backward():
    def row(rule, depth, ms, peak):
        return {"arch": "mlp", "rule": rule, "depth": depth, "T": 4, "median_ms": ms, "graph_mb": 99.0,
                "peak_saved_mb": peak, "peak_rss_mb": 500}

    text = table([row("bp_snn", 6, 10.0, 8.0), row("bsd", 6, 5.0, 2.0), row("bp_snn", 24, 40.0, 32.0),
                  row("bsd", 24, 10.0, 2.0)], "cpu")
    assert "| mlp | 6 | 4 | bsd | 5.0 | 0.50 | 2.0 | 0.25 | 500 |" in text
    assert "| mlp | 24 | 4 | bsd | 10.0 | 0.25 | 2.0 | 0.06 | 500 |" in text


def test_layer_by_layer_bsd_holds_one_layer_for_backward_whatever_the_depth():
    """The peak held for backward, not the sum over the step: flat in depth for bsd, growing for BPTT and joint."""
    small = {**SMALL, "steps": 1}
    got = {(r, d): worker("mlp", r, 4, **{**small, "widths": [32] * (d - 1)}) for r in ("bsd", "bsd_joint", "bp_snn")
           for d in (3, 9)}
    assert got["bsd", 3]["depth"] == 3 and got["bsd", 9]["depth"] == 9
    assert got["bsd", 9]["peak_saved_mb"] <= 1.3 * got["bsd", 3]["peak_saved_mb"]
    for rule in ("bsd_joint", "bp_snn"):
        assert got[rule, 9]["peak_saved_mb"] > 1.5 * got[rule, 3]["peak_saved_mb"]
    assert got["bsd", 9]["peak_saved_mb"] < 0.5 * got["bsd_joint", 9]["peak_saved_mb"]
    # the same graphs are built over the step: only their lifetimes differ
    assert got["bsd", 9]["graph_mb"] == pytest.approx(got["bsd_joint", 9]["graph_mb"], rel=0.1)
    assert got["bsd", 9]["peak_saved_mb"] < got["bsd", 9]["graph_mb"]


def test_saved_peak_counts_live_storages_once_and_drops_them_with_their_graph():
    from bsd.compact import SavedPeak

    w = torch.nn.Parameter(torch.randn(256, 256))
    x = torch.randn(64, 256)
    with SavedPeak() as held:
        a = torch.tanh(x @ w)  # saves x (for w.grad; x needs none, so w is not saved) and tanh's output
        b = (a * a).sum()  # saves a (already counted) once
        live = held.live
        b.backward()
        c = torch.tanh(x @ w).sum()  # a second graph after the first is freed: the peak does not add up
        c.backward()
    nbytes = 4 * (64 * 256 + 64 * 256)
    assert live == nbytes and held.peak == nbytes and held.live == 0
    assert held.total == 2 * nbytes  # x and the output of each graph, held twice over the block


@pytest.mark.parametrize(("args", "named"), [
    (["--depths", "6", "1"], "--depths 1"),
    (["--T", "4", "0"], "--T 0"),
    (["--rules", "bsd", "backprop_magic"], "--rules backprop_magic"),
    (["--device", "cuda:7"], "--device cuda:7"),
    (["--device", "tpu"], "--device tpu"),
    (["--threads", "0"], "--threads 0"),
    (["--profile", "--profile-steps", "0"], "--profile-steps 0"),
    (["--profile", "--json", "rows.json"], "--json"),
])
def test_a_bad_request_stops_with_a_message_naming_it(args, named, capsys):
    with pytest.raises(SystemExit) as err:
        main(args)
    assert err.value.code != 0
    assert named in capsys.readouterr().err


def test_depths_build_mlps_of_that_many_weight_layers_and_json_writes_the_rows(tmp_path, monkeypatch):
    import contextlib
    import io

    import bsd.bench

    def in_process(args):  # the workers' command lines, run here (a subprocess per worker costs seconds)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            main(args)
        return json.loads(buf.getvalue().strip().splitlines()[-1])

    monkeypatch.setattr(bsd.bench, "_run_worker", in_process)
    out = tmp_path / "rows.json"
    main(["--rules", "bsd", "bp_snn", "--depths", "2", "3", "--T", "2", "--batch", "16", "--steps", "1",
          "--warmup", "1", "--device", "cpu", "--json", str(out)])
    rows = json.loads(out.read_text())
    assert [(r["rule"], r["depth"], r["T"]) for r in rows] == [("bsd", 2, 2), ("bp_snn", 2, 2), ("bsd", 3, 2),
                                                              ("bp_snn", 3, 2)]
    for r in rows:
        assert list(r)[:len(JSON_FIELDS)] == list(JSON_FIELDS) and r["arch"] == "mlp"
        assert r["step_ms"] > 0 and 0 < r["peak_saved_mb"] <= r["graph_mb"] and r["peak_mb"] > 0
    assert mlp_widths(3) == [256, 256]


@pytest.mark.parametrize("peer", ["snntorch", "spikingjelly"])
def test_peer_models_train(peer):
    if importlib.util.find_spec(peer) is None:
        pytest.skip(f"{peer} is a bench-only extra (see docs/performance.md)")
    out = worker("mlp", peer, 4, **SMALL)
    assert out["rule"] == peer and out["median_ms"] > 0 and out["graph_mb"] > 0


@pytest.mark.parametrize("rule", ["bsd", "bp_snn"])
def test_fused_lif_graph_keeps_less_than_autograd_through_every_step(rule):
    """model.neuron.graph=fused (the default) against the stepwise baseline the bench names ``*_stepwise``."""
    fused = worker("mlp", rule, 8, **SMALL)
    stepwise = worker("mlp", f"{rule}_stepwise", 8, **SMALL)
    assert stepwise["rule"] == f"{rule}_stepwise"
    assert fused["graph_mb"] < 0.85 * stepwise["graph_mb"]


def test_every_comparison_rule_is_timed_against_bp_snn_in_the_same_run():
    from bsd.bench import COMPARISON

    out = interleaved_times("mlp", ["bp_snn", *COMPARISON], 4, 32, 2, 1, [32, 32], "cpu")
    assert set(out["median"]) == {"bp_snn", *COMPARISON} and all(v > 0 for v in out["median"].values())
    rows = [worker("mlp", r, 4, **SMALL) for r in ("bp_snn", "pc", "rstdp")]
    assert rows[1]["T"] == 1 and rows[2]["T"] == 4  # pc runs the ANN form, rstdp the spiking one
    text = table(rows, "cpu")
    assert "| mlp | 3 | 1 | pc |" in text and "(vs T=4)" in text and "| mlp | 3 | 4 | rstdp |" in text


def test_threads_reach_every_worker(monkeypatch):
    import bsd.bench

    seen = []

    def fake(args):
        seen.append(args)
        if "--worker-times" in args:
            return {"median": {"bp_snn": 1.0}, "first": {"bp_snn": 1.0}}
        return {"arch": "mlp", "rule": "bp_snn", "depth": 2, "T": 2, "graph_mb": 1.0, "peak_saved_mb": 1.0,
                "peak_rss_mb": 1.0, "peak_mb": 1.0}

    threads = torch.get_num_threads()
    monkeypatch.setattr(bsd.bench, "_run_worker", fake)
    try:
        main(["--rules", "bp_snn", "--depths", "2", "--T", "2", "--device", "cpu", "--threads", "1"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    assert len(seen) == 2 and all(a[a.index("--threads") + 1] == "1" for a in seen)


def test_profile_splits_each_rules_step_into_phases_and_counts_its_operators(tmp_path, capsys):
    """Layer by layer, bsd takes one autograd.grad per weight layer inside the loss, then one backward."""
    out = tmp_path / "perf.md"
    grad, threads = torch.autograd.grad, torch.get_num_threads()
    try:
        main(["--rules", "bsd", "bsd_joint", "bp_snn", "--widths", "16,16", "--T", "2", "--batch", "8", "--steps",
              "1", "--warmup", "1", "--profile-steps", "1", "--threads", "1", "--device", "cpu", "--profile",
              "--out", str(out)])
    finally:
        torch.set_num_threads(threads)
    assert torch.autograd.grad is grad  # the profile's labels are gone
    from bsd.bench.profile import PHASES

    text = capsys.readouterr().out
    md = out.read_text()
    assert md.startswith("\n### Profile: CPU (") and "`python -m bsd.bench --rules bsd" in md and text in md
    lines = text.splitlines()
    head = next(line for line in lines if line.startswith("| arch | depth | T | rule | step ms"))
    cols = [c.strip() for c in head.strip("|").split("|")]
    assert all(f"{p} ms" in cols for p in PHASES)
    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == len(cols) and cells[0] == "mlp":
            rows[cells[3]] = dict(zip(cols, cells, strict=True))
    assert set(rows) == {"bsd", "bsd_joint", "bp_snn"}
    # depth 3: the recall, two hidden layers and the concept, each its own pass, then the step's backward
    assert rows["bsd"]["backward passes"] == "5"
    assert rows["bsd_joint"]["backward passes"] == rows["bp_snn"]["backward passes"] == "1"
    for r in rows.values():
        phases = [float(r[f"{p} ms"]) for p in PHASES]
        assert all(v >= 0 for v in phases[:-1]) and float(r["profiled step ms"]) > 0
        assert sum(phases) == pytest.approx(float(r["profiled step ms"]), abs=0.1 * len(PHASES))
        assert int(r["aten ops"]) > 0 and int(r["backward nodes"]) > 0
    ops = {k: sum(int(n) for n in r["forward ops (no graph + graph)"].split("+")) for k, r in rows.items()}
    assert ops["bsd"] > ops["bsd_joint"] > ops["bp_snn"]
    assert float(rows["bp_snn"]["forward, graph (loss, ReCo) ms"]) > 0
    assert "Top 8 operators by self CPU time" in text and "| mlp | 3 | 2 | bsd | `" in text
