"""CIFAR, SVHN, Tiny-ImageNet and HuggingFace sources read from small files in their official layouts."""

import os
import pickle

import numpy as np
import pytest
import torch

from bsd.data import DataSourceError, ImageDataModule
from bsd.data.image_sources import load_images
from tests.data import image_files as f


def load(name, d, tmp_path, **kw):
    return load_images(name, str(d), tmp_path / "cache", allow_hub=False, **kw)


@pytest.mark.parametrize("writer", [f.write_cifar10_bin, f.write_cifar10_py])
def test_cifar10_binary_and_python_versions_read_channels_orientation_and_labels(tmp_path, writer):
    root = writer(tmp_path / "raw")
    for d in (tmp_path / "raw", root):  # the unpacked archive's folder, or the folder above it
        a = load("cifar10", d, tmp_path)
        y_train = np.concatenate([f.labels_for(4, 10, 4 * k) for k in range(5)])
        assert np.array_equal(a.train_labels, y_train) and np.array_equal(a.test_labels, f.labels_for(6, 10, 3))
        assert a.train_images.shape == (20, 3, 32, 32) and a.train_images.dtype == np.uint8
        assert f.pattern_ok(a.train_images, a.train_labels) and f.pattern_ok(a.test_images, a.test_labels)
        assert a.classes[:2] == ["airplane", "automobile"] and len(a.classes) == 10


def test_channel_last_bytes_do_not_pass_for_the_official_layout(tmp_path):
    """The fixture's own check: pixels written height x width x channel come back scrambled."""
    f.write_cifar10_bin(tmp_path, channel_last=True)
    a = load("cifar10", tmp_path, tmp_path)
    assert not f.pattern_ok(a.train_images, a.train_labels)


@pytest.mark.parametrize("writer", [f.write_cifar100_bin, f.write_cifar100_py])
def test_cifar100_fine_and_coarse_labels(tmp_path, writer):
    writer(tmp_path)
    fine = load("cifar100", tmp_path, tmp_path)
    coarse = load("cifar100", tmp_path, tmp_path, label="coarse")
    assert np.array_equal(fine.train_labels, f.labels_for(12, 100)) and np.array_equal(coarse.train_labels,
                                                                                         fine.train_labels // 5)
    assert np.array_equal(fine.test_labels, f.labels_for(5, 100, 40))
    assert f.pattern_ok(fine.train_images, fine.train_labels) and f.pattern_ok(coarse.test_images, fine.test_labels)
    assert len(fine.classes) == 100 and len(coarse.classes) == 20


def test_a_pickle_with_code_is_refused_without_running_it(tmp_path):
    root = f.write_cifar10_py(tmp_path)
    marker = tmp_path / "payload_ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    d = {b"data": Payload(), b"labels": [0]}
    (root / "data_batch_3").write_bytes(pickle.dumps(d, protocol=2))
    with pytest.raises(DataSourceError, match=r"data_batch_3 is a pickle that references (posix|os)\.system") as e:
        load("cifar10", tmp_path, tmp_path)
    assert "Refused without running it" in str(e.value)
    assert not marker.exists()


def test_protocol_4_pickles_also_read(tmp_path):
    f.write_cifar10_py(tmp_path, protocol=4)
    a = load("cifar10", tmp_path, tmp_path)
    assert f.pattern_ok(a.test_images, a.test_labels)


@pytest.mark.parametrize("problem, match", [
    ("truncated", r"data_batch_2.bin holds 12,282 bytes, not a whole number of 3,073-byte records"),
    ("cifar100_file", r"test_batch.bin holds 18,444 bytes, not a whole number of 3,073-byte records"),
    ("label", r"labels must lie in 0..9, found 11 at record 2"),
    ("missing", r"data_batch_5.bin is missing"),
])
def test_bad_cifar_binary_files_are_named(tmp_path, problem, match):
    root = f.write_cifar10_bin(tmp_path)
    if problem == "truncated":
        p = root / "data_batch_2.bin"
        p.write_bytes(p.read_bytes()[:-10])
    elif problem == "cifar100_file":  # records of 3,074 bytes (two label bytes) where 3,073 are expected
        p = root / "test_batch.bin"
        p.write_bytes(bytes(3074 * 6))
    elif problem == "label":
        p = root / "test_batch.bin"
        raw = bytearray(p.read_bytes())
        raw[2 * 3073] = 11
        p.write_bytes(bytes(raw))
    else:
        (root / "data_batch_5.bin").unlink()
    with pytest.raises(DataSourceError, match=match):
        load("cifar10", tmp_path, tmp_path)


def test_bad_cifar_python_files_are_named(tmp_path):
    root = f.write_cifar10_py(tmp_path)
    p = root / "data_batch_1"
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(DataSourceError, match="data_batch_1 cannot be read as a pickle"):
        load("cifar10", tmp_path, tmp_path)
    f._batch(p, np.arange(4))
    (root / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, 2))
    with pytest.raises(DataSourceError, match=r"test_batch: expected 'data' of uint8 rows of 3072 pixels.*\(2, 100\)"):
        load("cifar10", tmp_path, tmp_path)


def test_svhn_mat_maps_label_10_to_0_and_reads_height_width_channel_image(tmp_path):
    f.write_svhn(tmp_path, extra=4)
    a = load("svhn", tmp_path, tmp_path)
    assert a.train_images.shape == (13, 3, 32, 32) and len(a.test_labels) == 7
    assert np.array_equal(a.train_labels, f.labels_for(13, 10)) and a.train_labels[0] == 0 and a.train_labels[10] == 0
    assert f.pattern_ok(a.train_images, a.train_labels) and f.pattern_ok(a.test_images, a.test_labels)
    b = load("svhn", tmp_path, tmp_path, extra=True)
    assert len(b.train_labels) == 17 and np.array_equal(b.train_labels[13:], f.labels_for(4, 10, 5))


@pytest.mark.parametrize("problem, match", [
    ("transposed", r"train_32x32.mat: expected X of shape 32 x 32 x 3 x N.*found 13 x 3 x 32 x 32"),
    ("no_y", r"test_32x32.mat has no y; expected X .* found \['X'\]"),
    ("truncated", r"train_32x32.mat cannot be read as a MATLAB file"),
    ("label", r"labels must lie in 1..10 \(10 is the digit 0\), found 11 at record 4"),
])
def test_bad_svhn_files_are_named(tmp_path, problem, match):
    import scipy.io

    f.write_svhn(tmp_path, transpose=problem == "transposed")
    if problem == "no_y":
        scipy.io.savemat(str(tmp_path / "test_32x32.mat"), {"X": np.zeros((32, 32, 3, 2), np.uint8)})
    elif problem == "truncated":
        p = tmp_path / "train_32x32.mat"
        p.write_bytes(p.read_bytes()[:300])
    elif problem == "label":
        m = scipy.io.loadmat(str(tmp_path / "train_32x32.mat"))
        m["y"][4, 0] = 11
        scipy.io.savemat(str(tmp_path / "train_32x32.mat"), {"X": m["X"], "y": m["y"]})
    with pytest.raises(DataSourceError, match=match):
        load("svhn", tmp_path, tmp_path)


def test_tiny_imagenet_folders_with_val_annotations(tmp_path):
    root = f.write_tiny_imagenet(tmp_path)
    a = load("tinyimagenet", tmp_path, tmp_path)
    # classes in sorted wnid order: n01 -> 0, n02 -> 1, n03 -> 2, whatever the order of wnids.txt
    assert np.array_equal(a.train_labels, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert np.array_equal(a.test_labels, [1, 0, 2, 1, 0, 2]) and a.classes == ["thing n01", "thing n02", "thing n03"]
    x = a.train_images.astype(int)
    assert a.train_images.shape == (9, 3, 64, 64)
    assert (x[:, 0, :12].mean((1, 2)) > 185).all() and (x[:, 0, 20:].mean((1, 2)) < 15).all()  # a bar on top
    assert np.allclose(x[:, 1].mean((1, 2)), 20 * a.train_labels + 10, atol=4) and x[:, 2].mean() < 8
    assert np.allclose(a.test_images[:, 1].astype(int).mean((1, 2)), 20 * a.test_labels + 10, atol=4)
    assert any(p.name.startswith("tinyimagenet") for p in (tmp_path / "cache").iterdir())  # decoded once, cached
    (root / "val" / "images" / "val_0.JPEG").unlink()  # served from the cache while the folder is unchanged?
    with pytest.raises(DataSourceError, match=r"val_0.JPEG is listed in .*val_annotations.txt but missing"):
        load("tinyimagenet", tmp_path, tmp_path)  # no: the folder changed, so it is read anew


def test_tiny_imagenet_wrong_image_size_and_unknown_class_are_named(tmp_path):
    from PIL import Image

    root = f.write_tiny_imagenet(tmp_path)
    Image.new("RGB", (32, 32)).save(root / "train" / "n03" / "images" / "n03_1.JPEG", format="JPEG")
    with pytest.raises(DataSourceError, match=r"n03_1.JPEG: expected a 64 x 64 image, found 32 x 32"):
        load("tinyimagenet", tmp_path, tmp_path)
    root = f.write_tiny_imagenet(tmp_path / "b")
    with open(root / "val" / "val_annotations.txt", "a") as fh:
        fh.write("val_0.JPEG\tn99\t0\t0\t1\t1\n")
    with pytest.raises(DataSourceError, match=r"line 7: class 'n99' is not among the 3"):
        load("tinyimagenet", tmp_path / "b", tmp_path)


def test_a_folder_in_no_known_layout_lists_what_it_found(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DataSourceError, match=r"holds none of the layouts data.name=cifar10 reads.*readme.txt"):
        load("cifar10", tmp_path, tmp_path)


def test_named_datasets_from_a_huggingface_folder_and_parquet(tmp_path):
    dd = f.hf_image_dataset()
    dd.save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "pq").mkdir()
    for split, ds in dd.items():
        ds.to_parquet(str(tmp_path / "pq" / f"{split}-00000-of-00001.parquet"))
    for d in ("saved", "pq"):
        a = load("cifar10", tmp_path / d, tmp_path)
        assert np.array_equal(a.train_labels, f.labels_for(12, 10)) and np.array_equal(a.test_labels,
                                                                                       f.labels_for(5, 10, 3))
        assert f.pattern_ok(a.train_images, a.train_labels) and f.pattern_ok(a.test_images, a.test_labels)
        assert a.classes[:2] == ["c0", "c1"]


def test_hf_images_any_columns_and_sizes_are_checked(tmp_path):
    from datasets import DatasetDict

    dd = f.hf_image_dataset(image_col="pixels", label_col="target", classes=4, size=16)
    dd.save_to_disk(str(tmp_path / "saved"))
    dm = ImageDataModule("hf_images", path=str(tmp_path / "saved"), image_column="pixels", label_column="target",
                         cache_dir=str(tmp_path / "cache"), val_size=2, batch_size=4)
    assert dm.in_shape == (3, 16, 16) and dm.num_classes == 4
    x, y = next(iter(dm.test_dataloader()))
    assert torch.equal(y, torch.as_tensor(f.labels_for(5, 4, 3)[:5]))
    assert f.pattern_ok((x * 255).round().to(torch.uint8).numpy(), y.numpy())
    with pytest.raises(DataSourceError, match=r"no column 'image' \(data.image_column\); its columns are"):
        ImageDataModule("hf_images", path=str(tmp_path / "saved"), image_column="image",
                        cache_dir=str(tmp_path / "cache2")).setup()
    small = f.hf_image_dataset(n_train=3, size=8)["train"]
    from datasets import concatenate_datasets

    mixed = DatasetDict({"train": concatenate_datasets([f.hf_image_dataset(size=16)["train"], small]),
                         "test": f.hf_image_dataset(size=16)["test"]})
    mixed.save_to_disk(str(tmp_path / "mixed"))
    with pytest.raises(DataSourceError, match=r"images of the wrong size: expected all 3 x 16 x 16 .* found 3 x 8 x 8 "
                                              r"at image 12"):
        ImageDataModule("hf_images", path=str(tmp_path / "mixed"), cache_dir=str(tmp_path / "cache3")).setup()


def test_hf_text_reads_a_text_column(tmp_path):
    from datasets import Dataset

    from bsd.data.text import TextDataModule

    Dataset.from_dict({"body": ["abc " * 200, "xyz " * 200], "n": [1, 2]}).save_to_disk(str(tmp_path / "t"))
    dm = TextDataModule("hf_text", path=str(tmp_path / "t"), text_column="body", seq_len=10)
    assert dm.vocab.itos[1:] == ["\n", " ", "a", "b", "c", "x", "y", "z"] and "column body" in dm.source
    assert sum(len(dm.spans[s]) for s in ("train", "val", "test")) == 2 * 800 + 1  # the rows joined by a newline
    with pytest.raises(DataSourceError, match=r"column 'n' holds int, not text"):
        TextDataModule("hf_text", path=str(tmp_path / "t"), text_column="n")


def test_the_datamodule_normalises_with_training_statistics_and_keeps_the_pattern(tmp_path):
    f.write_svhn(tmp_path, n_train=40, n_test=10)
    dm = ImageDataModule("svhn", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"), val_size=8,
                         batch_size=8, normalize=True, allow_hub=False)
    dm.prepare_data()
    dm.setup()
    assert dm.in_shape == (3, 32, 32) and dm.num_classes == 10
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [32, 8, 10]
    x, y = dm.splits["test"][list(range(10))]
    raw = (x * dm.std[:, None, None] + dm.mean[:, None, None]) * 255
    assert f.pattern_ok(raw.round().to(torch.uint8).numpy(), y.numpy())


def test_without_files_the_hub_is_tried_only_when_it_answers_and_never_hangs(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(DataSourceError, match=r"CIFAR-10 is not shipped by any package .* uoft-cs/cifar10 is not "
                                              r"reachable\). To get it: download cifar-10-binary.tar.gz"):
        load_images("cifar10", None, tmp_path / "cache")
    with pytest.raises(DataSourceError, match=r"data.path='someone/dataset' is not a local file or folder"):
        ImageDataModule("hf_images", path="someone/dataset", cache_dir=str(tmp_path / "cache")).setup()
    assert time.perf_counter() - t0 < 5
