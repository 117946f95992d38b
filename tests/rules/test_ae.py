"""Autoencoder rules: locality (C2), binary spikes (C4), frequency-aware ReCo, latent sampling and decoding."""

import dataclasses

import pytest
import torch

from bsd.layers import apply_folded
from bsd.rules.ae import AEBSD, latent_index, rates_to_spikes, run_layers
from bsd.rules.base import spiking
from bsd.tasks import AutoencoderModule
from tests.conftest import REFUSED, compose
from tests.rules import assert_losses_are_local


def ae(rule: str = "bsd", *overrides: str) -> AutoencoderModule:
    cfg = compose(["+experiment=mnist_ae", f"model.rule={rule}", "model.channels=[4,8]", "model.latent=6",
                   "model.T=3", *overrides])
    torch.manual_seed(0)
    return AutoencoderModule(cfg.model, (1, 28, 28), "mnist")


def test_the_stack_mirrors_the_encoder_around_a_spiking_latent():
    m = ae()
    assert [tuple(layer.shape) for layer in m.stack.layers] == [(1, 28, 28), (4, 14, 14), (8, 7, 7), (6,), (8, 7, 7),
                                                                 (4, 14, 14), (1, 28, 28)]
    assert latent_index(m.stack) == 3
    x = torch.rand(5, 1, 28, 28)
    assert m(x).shape == (5, 1, 28, 28)
    # every backward (apical) map takes layer i+1's shape to layer i's shape
    for i, layer in enumerate(m.stack.layers[:-1]):
        above = torch.rand(2, *m.stack.layers[i + 1].shape)
        assert layer.apical(above).shape == (2, *layer.shape)


def test_bsd_losses_are_local_and_cover_every_layer():
    m = ae()
    x = torch.rand(6, 1, 28, 28)
    losses, logs = m.rule.layer_losses(m.stack, None, x, None)
    assert set(losses) == set(range(7))
    assert_losses_are_local(m.stack, losses)
    assert {"loss/recon", "loss/recall", "reco/pull_1"} <= set(logs)


def test_image_readouts_are_owned_by_the_decoder_layers_and_their_losses_stay_local():
    m = ae("bsd", "model.image_readout=0.5")
    assert [i for i, layer in enumerate(m.stack.layers) if hasattr(layer, "readout")] == [4, 5]
    assert m.stack.layers[5].readout.weight.shape == (1, 4, 1, 1)
    x = torch.rand(6, 1, 28, 28)
    losses, logs = m.rule.layer_losses(m.stack, None, x, None)
    assert {"loss/readout_4", "loss/readout_5"} <= set(logs)
    assert_losses_are_local(m.stack, losses)
    # the readout loss reaches the readout and the layer's own W, nothing else
    layer = m.stack.layers[5]
    grads = torch.autograd.grad(losses[5], [layer.readout.weight, next(layer.basal.parameters())],
                                retain_graph=True)
    assert all(g.abs().sum() > 0 for g in grads)
    b = ae("bsd")
    base = b.rule.layer_losses(b.stack, None, x, None)[0]
    assert losses[5].item() == pytest.approx(base[5].item() + 0.5 * logs["loss/readout_5"].item(), rel=1e-5)
    with pytest.raises(ValueError, match="image_readout is a local loss of bsd"):
        ae("bp_snn", "model.image_readout=0.5")
    with pytest.raises(ValueError, match="image_readout must be >= 0"):
        ae("bsd", "model.image_readout=-1")


def test_decoder_match_pulls_only_the_decoder_layers_own_basal_side():
    x = torch.rand(6, 1, 28, 28)
    m = ae("bsd", "model.decoder_match=2")
    losses, logs = m.rule.layer_losses(m.stack, None, x, None)
    assert {k for k in logs if k.startswith("loss/match_")} == {"loss/match_4", "loss/match_5"}
    assert_losses_are_local(m.stack, losses)
    # the same stack without the match: only layers 4 and 5 change, each by its weighted match MSE
    m.rule.cfg = dataclasses.replace(m.rule.cfg, decoder_match=0.0)
    base = m.rule.layer_losses(m.stack, None, x, None)[0]
    for i in (0, 1, 2, 3, 6):
        assert losses[i].item() == pytest.approx(base[i].item(), rel=1e-6)
    assert logs["loss/match_5"] > 0
    assert losses[5].item() == pytest.approx(base[5].item() + 2 * logs["loss/match_5"].item(), rel=1e-5)
    # the apical side is a detached target: the match term's gradient reaches W_5, never Theta_5
    layer = m.stack.layers[5]
    g_w, g_theta = torch.autograd.grad(losses[5] - base[5], [next(layer.basal.parameters()),
                                                             next(layer.apical.parameters())])
    assert g_w.abs().sum() > 0
    assert torch.allclose(g_theta, torch.zeros_like(g_theta), atol=1e-7)
    with pytest.raises(ValueError, match="decoder_match is a local loss of bsd"):
        ae("bp_ann", "model.decoder_match=1")
    with pytest.raises(ValueError, match="decoder_match must be >= 0"):
        ae("bsd", "model.decoder_match=-0.5")


def test_bsd_passes_only_binary_spikes_between_layers():
    m = ae()
    x = torch.rand(6, 1, 28, 28)
    seen = []
    for layer in m.stack.layers[1:-1]:
        layer.lif.register_forward_hook(lambda mod, inp, out: seen.append(out))
    m.rule.layer_losses(m.stack, None, x, None)
    assert len(seen) == 2 * 5  # forward and backward stream through each hidden layer
    for s in seen:
        assert set(torch.unique(s).tolist()) <= {0.0, 1.0}


def test_frequency_aware_reco_weights_the_two_bands_separately():
    x = torch.rand(8, 1, 28, 28)

    def total(*o):
        # with the image-similarity margin the low band's push can be inactive at initialisation (smooth
        # images are alike), so the weights are checked on the paper's hinge at zero
        m = ae("bsd", "model.reco.margin=zero", *o)
        return sum(m.rule.layer_losses(m.stack, None, x, None)[0][i] for i in (1, 2, 4, 5)).item()

    base = total()
    assert total("model.reco.frequency.lam_high=5.0") != pytest.approx(base)
    assert total("model.reco.frequency.lam_low=5.0") != pytest.approx(base)
    assert total("model.reco.lam=5.0") == pytest.approx(base)  # image-shaped layers ignore the plain lambda
    off = total("model.reco.frequency.enabled=false")
    assert total("model.reco.frequency.enabled=false", "model.reco.lam=5.0") != pytest.approx(off)


def test_w_high_scales_the_high_band_term_alone():
    """model.reco.frequency.w_high multiplies the high band's pull and push; the low band is untouched."""
    x = torch.rand(8, 1, 28, 28)

    def per_layer(*o):
        m = ae("bsd", *o)
        return [m.rule.layer_losses(m.stack, None, x, None)[0][i].item() for i in (1, 2, 4, 5)]

    low, one, three = per_layer("model.reco.frequency.w_high=0"), per_layer(), per_layer(
        "model.reco.frequency.w_high=3")
    for lo, a, b in zip(low, one, three, strict=True):
        assert a - lo > 0  # the high band contributes
        assert b - lo == pytest.approx(3 * (a - lo), rel=1e-4)
    with pytest.raises(ValueError, match="w_high"):
        ae("bsd", "model.reco.frequency.w_high=-1")


def test_a_bad_cutoff_is_refused():
    with pytest.raises(ValueError, match="cutoff"):
        ae("bsd", "model.reco.frequency.cutoff=1.5")


@pytest.mark.parametrize("rule", ["bp_snn", "bp_ann"])
def test_bp_rules_train_every_forward_weight_end_to_end(rule):
    m = ae(rule)
    loss, _ = m.rule.loss(m.stack, None, torch.rand(4, 1, 28, 28), None)
    loss.backward()
    for layer in m.stack.layers[1:]:
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.basal.parameters())
    assert all(p.grad is None for layer in m.stack.layers[:-1] for p in layer.apical.parameters())


def test_latents_and_their_decoding_run_in_eval_mode_in_batches_and_match_one_pass():
    m = ae("bsd", "model.latent_space=rate")
    m.train()
    x = torch.rand(7, 1, 28, 28)
    z = m.latents(x, batch_size=3)
    assert m.training and z.shape == (7, 6) and ((z >= 0) & (z <= 1)).all()
    assert torch.equal(z, m.latents(x))
    img = m.decode_latents(z, seed=1, sampling="regular", batch_size=2)
    assert m.training and img.shape == (7, 1, 28, 28) and ((img >= 0) & (img <= 1)).all()
    m.eval()
    assert torch.allclose(img, m.rule.decode(m.stack, z, "regular").clamp(0, 1))  # regular trains: no draws


def test_regular_spike_trains_carry_the_rate_exactly_and_bernoulli_on_average():
    r = torch.tensor([[0.0, 0.25, 0.5, 1.0, 0.6]])
    s = rates_to_spikes(r, 8, "regular")
    assert s.shape == (8, 1, 5) and set(torch.unique(s).tolist()) <= {0.0, 1.0}
    assert s.sum(0).tolist() == [[0.0, 2.0, 4.0, 8.0, 5.0]]
    g = torch.Generator().manual_seed(0)
    b = rates_to_spikes(r.expand(4000, 5), 8, "bernoulli", g)
    assert torch.allclose(b.mean((0, 1)), r[0], atol=0.02)
    with pytest.raises(ValueError, match="latent_sampling"):
        rates_to_spikes(r, 8, "poisson")


def test_sampling_draws_from_the_fitted_gaussian_and_decodes_images():
    m = ae()
    with pytest.raises(ValueError, match="no fitted latent"):
        m.sample(4)
    x = torch.rand(64, 1, 28, 28)
    with torch.no_grad():  # settle the running statistics of the norms (an untrained net is silent in eval)
        for _ in range(30):
            m(x)
    m.fit_latent(x)
    z = torch.cat([m.rule.latent(m.stack, torch.rand(64, 1, 28, 28))])
    assert z.min() >= 0 and z.max() <= 1  # firing rates
    imgs = m.sample(10, seed=1)
    assert imgs.shape == (10, 1, 28, 28) and 0 <= imgs.min() and imgs.max() <= 1
    assert torch.equal(imgs, m.sample(10, seed=1)) and not torch.equal(imgs, m.sample(10, seed=2))
    assert isinstance(m.rule, AEBSD) and m.rule.activation is spiking


def test_a_mixture_prior_is_fitted_sampled_and_refused_when_unknown():
    m = ae("bsd", "model.latent_prior=gmm", "model.latent_components=3")
    assert m.prior_means.shape == (3, 6) and m.prior_chols.shape == (3, 6, 6)
    x = torch.rand(64, 1, 28, 28)
    with torch.no_grad():
        for _ in range(30):
            m(x)
    m.fit_latent(x)
    assert torch.isclose(m.prior_weights.sum(), torch.tensor(1.0)) and (m.prior_weights > 0).all()
    imgs = m.sample(10, seed=1)
    assert imgs.shape == (10, 1, 28, 28) and torch.equal(imgs, m.sample(10, seed=1))
    m.set_prior("gaussian")
    assert m.prior_means.shape == (1, 6) and not bool(m.latent_fitted)
    with pytest.raises(REFUSED, match="model.latent_prior"):
        ae("bsd", "model.latent_prior=flow")
    with pytest.raises(ValueError, match="model.latent_components"):
        ae("bsd", "model.latent_prior=gmm", "model.latent_components=0")


def test_image_margins_compare_the_images_at_each_layers_resolution_and_band():
    from bsd.losses import code_cosines, frequency_split
    from bsd.rules.ae import image_margins
    torch.manual_seed(0)
    x = torch.rand(5, 1, 28, 28)
    margin = image_margins(x, 0.25)
    full = margin(torch.zeros(10, 4, 28, 28), None)                  # steps x batch rows: margins per sample
    assert full.shape == (5, 5) and torch.allclose(full, code_cosines(x.reshape(5, -1)))
    assert torch.allclose(torch.diagonal(full), torch.ones(5))
    half = torch.nn.functional.avg_pool2d(x, 2)
    assert torch.allclose(margin(torch.zeros(5, 8, 14, 14), None), code_cosines(half.reshape(5, -1)))
    low = margin(torch.zeros(5, 8, 14, 14), 0)
    assert torch.allclose(low, code_cosines(frequency_split(half, 0.25)[0].reshape(5, -1)))
    assert not torch.allclose(low, margin(torch.zeros(5, 8, 14, 14), 1))
    flat = x.reshape(5, -1)
    assert torch.allclose(margin(torch.zeros(5, 6), None), code_cosines(flat - flat.mean(0)))
    centred = image_margins(x, 0.25, centred=True)  # pushes on batch-centred maps: centred images
    half_c = (half - half.mean(0)).reshape(5, -1)
    assert torch.allclose(centred(torch.zeros(5, 8, 14, 14), None), code_cosines(half_c))


def test_bsd_with_image_margins_stays_local_and_pushes_less():
    x = torch.rand(6, 1, 28, 28)
    m = ae("bsd", "model.reco.margin=code")
    losses, logs = m.rule.layer_losses(m.stack, None, x, None)
    assert_losses_are_local(m.stack, losses)
    plain = ae("bsd", "model.reco.margin=zero")  # the paper's hinge at zero
    _, plain_logs = plain.rule.layer_losses(plain.stack, None, x, None)
    for i in (1, 2, 4, 5):  # the same weights and stream: only the hinge differs
        assert logs[f"reco/pull_{i}"] == pytest.approx(plain_logs[f"reco/pull_{i}"].item())
        assert logs[f"reco/push_{i}"] < plain_logs[f"reco/push_{i}"]


def test_an_unknown_margin_is_refused():
    with pytest.raises(REFUSED, match="model.reco.margin"):
        ae("bsd", "model.reco.margin=half")


def test_a_prior_on_latent_currents_drives_the_latent_soma():
    m = ae("bsd", "model.latent_space=current")
    x = torch.rand(64, 1, 28, 28)
    with torch.no_grad():
        for _ in range(30):
            m(x)
    m.eval()
    z = m.latents(x[:8])
    assert z.shape == (8, 6) and (z < 0).any()  # voltages, not rates
    k = latent_index(m.stack)
    with torch.no_grad():  # the time-mean of what the latent soma receives in the forward pass
        s = m.rule.encode(m.stack, x[:8])
        for layer in m.stack.layers[1:k]:
            s = layer.lif(layer.basal_voltage(s, update_running=False)[0])
        v = m.stack.layers[k].basal_voltage(s, update_running=False)[0]
    assert torch.allclose(z, v.mean(0), atol=1e-6)
    # decoding holds each current for T steps through the latent LIF: the spikes of a constant drive
    held = m.stack.layers[k].lif(z.unsqueeze(0).repeat(3, 1, 1))
    assert set(torch.unique(held).tolist()) <= {0.0, 1.0}
    with torch.no_grad():
        want = apply_folded(m.stack.concept.basal, run_layers(m.stack, held, k + 1, m.stack.depth - 1, spiking)).mean(0)
    assert torch.allclose(m.decode_latents(z), want.clamp(0, 1), atol=1e-6)
    m.fit_latent(x)
    imgs = m.sample(10, seed=1)
    assert imgs.shape == (10, 1, 28, 28) and torch.equal(imgs, m.sample(10, seed=1))
    with pytest.raises(REFUSED, match="model.latent_space"):
        ae("bsd", "model.latent_space=spikes")


def test_for_bp_ann_decoding_the_encoded_currents_is_the_reconstruction():
    m = ae("bp_ann", "model.latent_space=current")
    m.eval()
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        rec = m(x).clamp(0, 1)
    assert torch.allclose(m.decode_latents(m.latents(x)), rec, atol=1e-5)  # ReLU of the pre-activation: exact
