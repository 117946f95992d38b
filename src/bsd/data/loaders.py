"""Standard shuffled training loaders whose order is a function of the seed and the epoch alone."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


def epoch_seed(seed: int, epoch: int) -> int:
    """The generator seed of epoch ``epoch`` of a run seeded with ``seed`` (distinct for every pair)."""
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1, np.uint64)[0] >> 1)


class EpochSeed:
    """``set_epoch(e)`` for a ``RandomSampler``: re-seeds its generator with :func:`epoch_seed` ``(seed, e)``.

    Lightning calls ``set_epoch`` on a loader's sampler at every epoch start, so epoch ``e``'s order depends on the
    seed and ``e`` only: not on how many batches earlier epochs drew (``limit_train_batches``), and a run resumed
    at epoch ``e`` gets the order of a run that never stopped. Under a distributed strategy Lightning replaces the
    sampler by its own seeded ``DistributedSampler``, which does the same per rank.
    """

    def __init__(self, generator: torch.Generator, seed: int) -> None:
        self.generator, self.seed = generator, int(seed)

    def __call__(self, epoch: int) -> None:  # noqa: D102
        self.generator.manual_seed(epoch_seed(self.seed, epoch))


def seeded_loader(dataset: Dataset, batch_size: int, seed: int) -> DataLoader:
    """``DataLoader(dataset, batch_size, shuffle=True, generator=g)``, ``g`` re-seeded per epoch (:class:`EpochSeed`).

    Before the first ``set_epoch`` (outside Lightning) ``g`` starts from a seed drawn from torch's global generator,
    so a loop that builds a loader per epoch still sees a new order each time.
    """
    g = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,)).item()))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=g)
    loader.sampler.set_epoch = EpochSeed(g, seed)
    return loader
