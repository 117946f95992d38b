import torch

from bsd.config import model_config
from bsd.nets import build_stack, cnn_stages, mlp_stages
from bsd.observe import alignment, raster_figure, spike_stats
from bsd.rules import make_rule
from bsd.train import run
from tests.conftest import compose

LIF = {"threshold": 0.6, "beta": 0.5}


def test_alignment_is_one_for_transposed_copies_and_low_at_init():
    torch.manual_seed(0)
    stack = build_stack((20,), mlp_stages([16, 12]), 10, LIF)
    low = alignment(stack)
    assert set(low) == {"align/W1_Theta0T", "align/W2_Theta1T", "align/W3_Theta2T"}
    assert all(abs(v) < 0.3 for v in low.values())
    stack.layers[0].apical.weight.data = stack.layers[1].basal.weight.data.T.clone()
    assert alignment(stack)["align/W1_Theta0T"] > 0.999


def test_energy_counts_spikes_and_matches_a_hand_count():
    torch.manual_seed(0)
    stack = build_stack((8,), mlp_stages([4]), 3, {"threshold": 0.6, "beta": 0.5}, norm=False)
    rule = make_rule("image", "bsd", model_config("mlp", T=2, reco={"on": "voltage", "center": "none"}))
    x = torch.rand(5, 8)
    stats, spikes = spike_stats(stack, rule, x)
    rate = spikes[0].mean().item()
    assert stats["rate/val_1"] == rate
    assert stats["energy/sops_per_sample"] == rate * (4 * 3) * 2  # layer 2: 12 synapses, T = 2
    ann = (8 * 4 + 4 * 3) * 4.6
    assert abs(stats["energy/snn_over_ann"] - (8 * 4 * 2 * 4.6 + rate * 12 * 2 * 0.9) / ann) < 1e-9


def test_cnn_stats_and_raster():
    stack = build_stack((1, 12, 12), cnn_stages([4], [8]), 10, LIF)
    stats, spikes = spike_stats(
        stack,
        make_rule("image", "bsd", model_config("mlp", T=3, reco={"on": "voltage", "center": "none"})),
        torch.rand(6, 1, 12, 12),
    )
    assert len(spikes) == 2 and spikes[0].shape == (3, 6, 4, 6, 6) and stats["energy/snn_over_ann"] > 0
    fig = raster_figure(spikes, n_samples=2)
    assert len(fig.axes) == 2


def test_run_logs_statistics_and_writes_a_raster(tmp_path):
    cfg = compose(
        [
            "+experiment=mnist_mlp",
            "data.train_subset=256",
            "data.val_size=500",
            "trainer.max_epochs=1",
            "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1",
            "model.widths=[32,32]",
            "trainer.enable_progress_bar=false",
            "logger=csv",
            "observe.raster_every=1",
        ]
    )
    run(cfg, tmp_path)
    assert list((tmp_path / "rasters").glob("raster_epoch000.png"))
    header = (tmp_path / "csv" / "metrics.csv").read_text().splitlines()[0]
    for key in (
        "rate/val_1",
        "energy/snn_over_ann",
        "align/W1_Theta0T",
        "train/hamming/1",
        "train/reco/pull_1",
        "perf/step_time_s",
        "perf/peak_rss_mb",
        "perf/epoch_time_s",
    ):
        assert key in header, key
