"""bsd.probes.ae_decoder_probe: the probe decoders are fresh copies of the autoencoder's own stages."""

import pytest
import torch
import torch.nn.functional as F

from tests.probes import load_probe
from tests.rules.test_ae import ae


def decoder_probe():
    return load_probe("ae_decoder_probe")


def test_the_probe_decoder_maps_each_layer_to_the_image_with_fresh_weights():
    probe = decoder_probe()
    m = ae()
    m.eval()
    own = {id(p) for p in m.stack.parameters()}
    x = torch.rand(4, 1, 28, 28)
    for k in (3, 4, 5):
        dec = probe.decoder_above(m.stack, k)
        assert not {id(p) for p in dec.parameters()} & own  # a copy: training it leaves the run untouched
        z = probe.rates(m, x, k, batch=3)
        assert z.shape == (4, *m.stack.layers[k].shape)
        assert dec(z).shape == x.shape
        # one analog stage per map above k, a ReLU between two maps
        assert sum(isinstance(s, torch.nn.ReLU) for s in dec) == m.stack.depth - k - 1
    # above the last decoder layer the probe is the top map alone, re-initialised
    top = probe.decoder_above(m.stack, m.stack.depth - 1)
    w_new, w_old = next(top.parameters()), next(m.stack.concept.basal.parameters())
    assert w_new.shape == w_old.shape and not torch.equal(w_new, w_old)


def test_the_probe_trains_its_decoder_to_read_features_that_hold_the_image(monkeypatch):
    probe = decoder_probe()
    m = ae()
    torch.manual_seed(0)
    protos = F.interpolate((torch.rand(4, 1, 14, 14) < 0.3).float(), scale_factor=2)  # 2 x 2 blocks
    x = protos[torch.arange(1024) % 4]
    k = m.stack.depth - 1
    # stand-in rates of the last decoder layer that hold the image: the image pooled to 14 x 14, per channel
    monkeypatch.setattr(probe, "rates", lambda model, imgs, layer: F.avg_pool2d(imgs, 2).expand(-1, 4, -1, -1))
    floor = ((x[:16] - x.mean(0)) ** 2).mean().item()
    assert probe.probe(m, k, x, x[:16], epochs=5) < 0.5 * floor
    # features that hold nothing about the image leave it at (or above) the mean image
    monkeypatch.setattr(probe, "rates", lambda model, imgs, layer: torch.zeros(len(imgs), 4, 14, 14))
    assert probe.probe(m, k, x, x[:16], epochs=5) > 0.9 * floor


def test_the_stream_report_compares_each_decoder_layer_of_the_two_streams():
    probe = decoder_probe()
    m = ae()
    m.eval()
    x = torch.rand(5, 1, 28, 28)
    rows = probe.stream_report(m, x)
    assert [r.get("layer") for r in rows[:-1]] == [4, 5]
    for r in rows[:-1]:
        assert 0 <= r["rate_fwd"] <= 1 and 0 <= r["rate_bwd"] <= 1 and 0 <= r["agree"] <= 1
    # the top map fed the backward spikes of layer 5, scored against the images
    st = m.stack
    s0 = m.rule.encode(st, x)
    _, above, _, _ = m.rule.streams_from_top(st, s0, s0)
    want = F.mse_loss(st.concept.basal(above[5 - 1].mean(0)), x).item()
    assert rows[-1]["top_from_backward_mse"] == pytest.approx(want)
