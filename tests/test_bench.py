import importlib.util

import pytest

from bsd.bench import interleaved_times, table, worker

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
    assert "| mlp | 4 | bsd | 5.0 | 0.50 | 2.0 | 0.25 | 500 |" in text


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
    assert "| mlp | 1 | pc |" in text and "(vs T=4)" in text and "| mlp | 4 | rstdp |" in text
