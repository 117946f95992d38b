"""FID (classifier features): the feature network, its file checks, and torchmetrics' FID on its features."""

import pytest
import torch

from bsd.fid import FeatureClassifier, InceptionFID, ensure_feature_net, feed, load_feature_net, make_fid


@pytest.fixture
def feature_file(mnist_feature_net):
    return mnist_feature_net


def test_the_feature_network_learns_real_digits(feature_file):
    _, ckpt, _ = feature_file
    assert ckpt["test_acc"] > 0.85 and ckpt["dataset"] == "mnist"  # 4000 images, two epochs


def test_fid_is_near_zero_for_the_same_images_and_grows_with_corruption(feature_file):
    path, _, dm = feature_file
    net, meta = load_feature_net(path, "mnist")
    x = dm.splits["test"][torch.arange(1000)][0]
    y = dm.splits["test"][torch.arange(1000, 2000)][0]
    scores = []
    for fake in (x, y, (y + 0.3 * torch.rand_like(y)).clamp(0, 1), torch.rand_like(y)):
        fid = make_fid(net)
        fid.update(x, real=True)
        fid.update(fake, real=False)
        scores.append(fid.compute().item())
    assert abs(scores[0]) < 1e-2
    assert scores[0] < scores[1] < scores[2] < scores[3]


def test_feed_in_chunks_equals_one_update(feature_file):
    path, _, dm = feature_file
    net, _ = load_feature_net(path, "mnist")
    x = dm.splits["test"][torch.arange(700)][0].float()
    y = dm.splits["test"][torch.arange(700, 1400)][0].float()
    whole, chunked = make_fid(net), make_fid(net)
    whole.update(x, real=True)
    whole.update(y, real=False)
    feed(chunked, x, real=True, chunk=256)
    feed(chunked, y, real=False, chunk=300)
    assert chunked.real_features_num_samples == 700 and chunked.fake_features_num_samples == 700
    assert torch.allclose(chunked.compute(), whole.compute(), rtol=1e-4, atol=1e-4)


def test_feature_file_errors_are_clear(feature_file, tmp_path):
    path, _, dm = feature_file
    with pytest.raises(FileNotFoundError, match="python -m bsd.fid --data mnist"):
        load_feature_net(tmp_path / "missing.pt", "mnist")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable FID feature network"):
        load_feature_net(bad, "mnist")
    with pytest.raises(ValueError, match="trained on 'mnist', not 'fashion_mnist'"):
        load_feature_net(path, "fashion_mnist")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ensure_feature_net(str(tmp_path / "missing.pt"), dm)
    with pytest.raises(FileNotFoundError, match="inception"):
        InceptionFID(tmp_path / "nope.pth")


def test_features_have_the_declared_width():
    net = FeatureClassifier()
    assert net(torch.rand(3, 1, 28, 28)).shape == (3, FeatureClassifier.num_features)
    assert net.logits(torch.rand(3, 784)).shape == (3, 10)


def test_the_default_feature_network_is_trained_once_and_cached(tmp_path):
    from bsd.data import ImageDataModule
    from bsd.fid import default_path

    dm = ImageDataModule("mnist", cache_dir=str(tmp_path / "cache"), train_subset=512, val_size=100)
    logs: list[str] = []
    path, net, meta = ensure_feature_net(None, dm, log=logs.append, shipped_dir=tmp_path / "none")
    assert path == default_path(tmp_path / "cache", "mnist") and path.is_file() and meta["dataset"] == "mnist"
    assert any("training the FID feature network" in m for m in logs)
    stamp, logs[:] = path.stat().st_mtime_ns, []
    again, _, _ = ensure_feature_net(None, dm, log=logs.append, shipped_dir=tmp_path / "none")
    assert again == path and path.stat().st_mtime_ns == stamp and not logs  # reused, not retrained


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_the_shipped_feature_network_is_the_default_and_is_fingerprinted(tmp_path, name):
    from bsd.data import ImageDataModule
    from bsd.fid import fingerprint, shipped_path

    dm = ImageDataModule(name, cache_dir=str(tmp_path / "cache"))
    logs: list[str] = []
    path, net, meta = ensure_feature_net(None, dm, log=logs.append)
    assert path == shipped_path(name) and path.is_file() and meta["dataset"] == name and not logs
    assert not (tmp_path / "cache" / "fid").exists()  # nothing trained
    assert meta["test_acc"] > (0.97 if name == "mnist" else 0.88)
    assert meta["sha256"] == fingerprint(net.state_dict()) and len(meta["sha256"]) == 12
    other = FeatureClassifier()
    assert fingerprint(other.state_dict()) != meta["sha256"]  # another network, another fingerprint
    before = fingerprint(other.state_dict())
    with torch.no_grad():
        next(iter(other.parameters()))[0, 0, 0, 0] += 1e-6
    assert fingerprint(other.state_dict()) != before  # one weight moved by 1e-6 changes it


def test_the_feature_network_sees_floats_in_0_1_and_a_second_test_gives_the_same_fid(feature_file):
    net, _ = load_feature_net(feature_file[0], "mnist")
    seen = []
    net.register_forward_pre_hook(lambda m, args: seen.append((args[0].dtype, float(args[0].min()),
                                                                float(args[0].max()))))
    g = torch.Generator().manual_seed(0)
    real, fake = torch.rand(64, 1, 28, 28, generator=g), torch.rand(64, 1, 28, 28, generator=g) * 0.5
    fid = make_fid(net)
    values = []
    for _ in range(2):  # what two test calls of one module do: reset, feed the real and the generated images
        fid.reset()
        fid.update(real, real=True)
        fid.update(fake, real=False)
        values.append(float(fid.compute()))
    assert values[0] == pytest.approx(values[1], rel=1e-6)
    assert all(d == torch.float32 and lo >= 0.0 and hi <= 1.0 for d, lo, hi in seen)
