"""Standard shuffled training loaders whose order is a function of the seed and the epoch alone."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler


def epoch_seed(seed: int, epoch: int) -> int:
    """The generator seed of epoch ``epoch`` of a run seeded with ``seed`` (distinct for every pair)."""
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1, np.uint64)[0] >> 1)


class EpochShuffle(RandomSampler):
    """A random order of the dataset that is a function of the seed and the epoch alone.

    Lightning calls ``set_epoch`` at every epoch start; each iteration draws its permutation from a generator
    seeded with :func:`epoch_seed` ``(seed, epoch)``, so epoch ``e``'s order depends on nothing else: not on how
    many batches earlier epochs drew, not on other users of a generator, and a run resumed in epoch ``e`` gets
    the order of a run that never stopped. Under a distributed strategy Lightning replaces it by its own seeded
    ``DistributedSampler`` (it is a ``RandomSampler``), which does the same per process.
    """

    def __init__(self, data_source: Dataset, seed: int) -> None:
        super().__init__(data_source)
        self.seed, self.epoch = int(seed), 0

    def set_epoch(self, epoch: int) -> None:  # noqa: D102
        self.epoch = int(epoch)

    def __iter__(self):  # noqa: D105
        g = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
        yield from torch.randperm(len(self.data_source), generator=g).tolist()


def seeded_loader(dataset: Dataset, batch_size: int, seed: int) -> DataLoader:
    """A shuffled training loader whose order is a function of the seed and the epoch (:class:`EpochShuffle`).

    Outside Lightning (nobody calls ``set_epoch``) every epoch gets epoch 0's order. The loader is resumable
    (:class:`bsd.resume.ResumableLoader`): a run resumed from a checkpoint written during an epoch goes on with
    the batch the interrupted run would have taken next.
    """
    from ..resume import ResumableLoader

    return ResumableLoader(dataset, batch_size=batch_size, sampler=EpochShuffle(dataset, seed))
