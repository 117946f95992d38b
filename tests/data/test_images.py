import shutil

import pytest
import torch

from bsd.data import DataSourceError, ImageDataModule


def make_dm(idx_dir, tmp_path, **kw):
    return ImageDataModule("mnist", data_dir=str(idx_dir), cache_dir=str(tmp_path / "cache"), val_size=40,
                           batch_size=16, eval_batch_size=25, allow_hub=False, **kw)


def test_cache_splits_and_batches(idx_dir, tmp_path):
    dm = make_dm(idx_dir, tmp_path)
    dm.prepare_data()
    assert (tmp_path / "cache" / "mnist" / "dataset_dict.json").is_file()
    assert "idx" in (tmp_path / "cache" / "mnist" / "SOURCE").read_text()
    dm.setup()
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [160, 40, 50]
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == torch.int64
    assert sum(len(b[1]) for b in dm.val_dataloader()) == 40


def test_validation_split_is_seeded(idx_dir, tmp_path):
    a, b, c = make_dm(idx_dir, tmp_path), make_dm(idx_dir, tmp_path), make_dm(idx_dir, tmp_path, seed=1)
    for dm in (a, b, c):
        dm.setup()
    assert torch.equal(a.splits["val"].labels, b.splits["val"].labels)
    assert torch.equal(a.splits["val"].images, b.splits["val"].images)
    assert not torch.equal(a.splits["val"].images, c.splits["val"].images)


def test_damaged_cache_says_what_to_do(idx_dir, tmp_path):
    dm = make_dm(idx_dir, tmp_path)
    dm.prepare_data()
    for f in (tmp_path / "cache" / "mnist" / "train").glob("*.arrow"):
        f.write_bytes(b"not arrow")
    with pytest.raises(DataSourceError, match="delete that folder"):
        make_dm(idx_dir, tmp_path).setup()
    shutil.rmtree(tmp_path / "cache" / "mnist")
    make_dm(idx_dir, tmp_path).setup()  # rebuilt from the source


def test_bad_arguments():
    with pytest.raises(ValueError, match="data.name"):
        ImageDataModule("svhn")
    with pytest.raises(ValueError, match="data.batch_size"):
        ImageDataModule("mnist", batch_size=0)


def test_without_hf_datasets_the_source_is_read_directly(idx_dir, tmp_path, monkeypatch):
    from bsd.data import images

    monkeypatch.setattr(images, "_has_datasets", lambda: False)
    dm = make_dm(idx_dir, tmp_path)
    dm.prepare_data()
    with pytest.warns(UserWarning, match="without a cache"):
        dm.setup()
    assert not (tmp_path / "cache" / "mnist").exists()
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [160, 40, 50]



def test_a_cache_built_by_another_run_meanwhile_is_kept(idx_dir, tmp_path, monkeypatch):
    """A second run that builds the same cache while the first is writing (two lanes, sweep agents) leaves
    both with a complete cache and no private folder behind."""
    from datasets import DatasetDict, load_from_disk

    from bsd.data.images import build_cache

    cache, save, calls, nested = tmp_path / "cache", DatasetDict.save_to_disk, [], []

    def save_while_another_run_builds(self, path, **kw):
        calls.append(path)
        if len(calls) == 1:  # the first writer: another run starts and finishes in the middle of its write
            nested.append(build_cache("mnist", cache, str(idx_dir), allow_hub=False))
        return save(self, path, **kw)

    monkeypatch.setattr(DatasetDict, "save_to_disk", save_while_another_run_builds)
    assert build_cache("mnist", cache, str(idx_dir), allow_hub=False) == nested[0] == cache / "mnist"
    assert len(load_from_disk(str(cache / "mnist"))["train"]) == 200
    assert len(set(calls)) == 2 and [p.name for p in cache.iterdir()] == ["mnist"]


def test_random_shift_moves_each_image_by_its_own_offset_within_the_bound():
    from bsd.data.images import random_shift

    x = torch.zeros(64, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0  # one lit pixel in the centre of every image
    y = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and torch.equal(y.sum((1, 2, 3)), torch.ones(64))  # nothing lost, nothing added
    pos = torch.stack([(img[0] == 1).nonzero()[0] for img in y]) - 4
    assert pos.abs().max() <= 2 and len({tuple(p.tolist()) for p in pos}) > 10  # offsets differ per image
    assert torch.equal(random_shift(x, 0), x)
    edge = torch.zeros(1, 1, 5, 5)
    edge[0, 0, :, 0] = 1.0  # a left column pushed out of the frame is gone, not wrapped around
    moved = [random_shift(edge, 1, torch.Generator().manual_seed(s)) for s in range(20)]
    assert all(m[0, 0, :, -1].sum() == 0 for m in moved) and any(m.sum() < 5 for m in moved)


def test_shift_applies_to_training_batches_only(idx_dir, tmp_path):
    plain, shifted = make_dm(idx_dir, tmp_path), make_dm(idx_dir, tmp_path, shift=2)
    for dm in (plain, shifted):
        dm.setup()
    idx = list(range(16))
    assert torch.equal(plain.splits["val"][idx][0], shifted.splits["val"][idx][0])
    assert torch.equal(plain.splits["test"][idx][0], shifted.splits["test"][idx][0])
    torch.manual_seed(0)
    assert not torch.equal(plain.splits["train"][idx][0], shifted.splits["train"][idx][0])
    with pytest.raises(ValueError, match="data.shift"):
        make_dm(idx_dir, tmp_path, shift=-1)
