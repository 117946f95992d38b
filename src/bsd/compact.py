"""Compact saved spikes: the loss graph keeps time-averaged spikes as uint8 counts.

A layer's loss graph is built from its presynaptic spikes averaged over the T steps, values
``k / T``; the linear and conv maps save that input for their weight gradient. Within
:class:`SpikeMeanStore`, every marked tensor the graph saves is kept as the counts ``k``
(one byte instead of four) and restored as ``k / T`` when the backward pass needs it, which
is bit for bit the mean the forward pass used (``mean`` over 0/1 values divides the count by T).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

#: called with every tensor a SpikeMeanStore hands to the graph (saved-tensor hooks do not nest:
#: inside the store, outer hooks such as the benchmark's byte count see nothing)
_OBSERVERS: list[Callable[[torch.Tensor], None]] = []


@contextmanager
def observe_saved(fn: Callable[[torch.Tensor], None]) -> Iterator[None]:
    """Within the block, ``fn`` also sees what any :class:`SpikeMeanStore` keeps for backward."""
    _OBSERVERS.append(fn)
    try:
        yield
    finally:
        _OBSERVERS.remove(fn)


class SpikeMeanStore:
    """Saved-tensor hooks that store marked spike means ``[N, ...]`` (values ``k / T``) as uint8 counts."""

    def __init__(self, T: int) -> None:
        self.T = int(T)
        self.enabled = 1 <= self.T <= 255
        self._ptrs: set[int] = set()
        self._alive: list[torch.Tensor] = []  # marked tensors stay alive in the context: no address is reused
        self._hooks = None

    def mark(self, t: torch.Tensor) -> torch.Tensor:
        """Declare ``t`` a mean of 0/1 spikes over T steps (returned unchanged)."""
        if self.enabled and t.is_floating_point():
            self._ptrs.add(t.data_ptr())
            self._alive.append(t)
        return t

    def _pack(self, t: torch.Tensor):
        if t.data_ptr() in self._ptrs and t.is_floating_point():
            counts = torch.round(t * self.T).to(torch.uint8)
            for f in _OBSERVERS:
                f(counts)
            return counts, t.dtype
        for f in _OBSERVERS:
            f(t)
        return t

    def _unpack(self, packed):
        if isinstance(packed, tuple):
            counts, dtype = packed
            return counts.to(dtype) / self.T
        return packed

    def __enter__(self) -> SpikeMeanStore:
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)
        self._hooks = None
        self._ptrs.clear()
        self._alive.clear()
