"""Compact saved spikes: the loss graph keeps time-averaged spikes as uint8 counts.

A layer's loss graph is built from its presynaptic spikes averaged over the T steps, values
``k / T``; the linear and conv maps save that input for their weight gradient. Within
:class:`SpikeMeanStore`, every marked tensor the graph saves is kept as the counts ``k``
(one byte instead of four) and restored as ``k / T`` when the backward pass needs it, which
is bit for bit the mean the forward pass used (``mean`` over 0/1 values divides the count by T).

:class:`SavedPeak` measures what graphs keep for backward: the live bytes over a block and their peak.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

#: called with every tensor a SpikeMeanStore hands to the graph (saved-tensor hooks do not nest:
#: inside the store, outer hooks such as the benchmark's byte count see nothing)
_OBSERVERS: list[Callable[[torch.Tensor], None]] = []
#: the :class:`SavedPeak` trackers that are open: every saved tensor is handed to the graph inside their holders
_WATCHERS: list[SavedPeak] = []


class _Held:
    """What a graph keeps in place of a saved tensor while a :class:`SavedPeak` watches: it dies with the graph."""

    __slots__ = ("value", "__weakref__")

    def __init__(self, value) -> None:
        self.value = value


def _hold(kept: torch.Tensor, packed):
    """``packed`` wrapped by every open :class:`SavedPeak` (``kept``: the tensor whose bytes the graph holds)."""
    for w in _WATCHERS:
        packed = w.hold(kept, packed)
    return packed


def _release(packed):
    """The packed value inside the holders of :func:`_hold`."""
    while isinstance(packed, _Held):
        packed = packed.value
    return packed


class SavedPeak:
    """The bytes autograd graphs hold for backward, live, at their peak and in total, within the block.

    Every tensor a graph saves is handed to it inside a small holder object; the bytes of its storage count
    from the first holder of that storage until the last one is freed, which happens when the graph that
    saved it runs its backward pass or is dropped. Distinct storages count once, however many graphs save
    them. Tensors a :class:`SpikeMeanStore` keeps compact count at their compact size.
    """

    def __init__(self) -> None:
        self.live = 0
        self.peak = 0
        self.total = 0  # every storage held, summed over the block (one freed and held again counts again)
        self._storages: dict[tuple, list[int]] = {}  # storage -> [holders alive, bytes]
        self._hooks = None

    def hold(self, kept: torch.Tensor, packed) -> _Held:
        """Count ``kept``'s storage while the returned holder (which the graph keeps for ``packed``) lives."""
        st = kept.untyped_storage()
        key = (st.data_ptr(), str(kept.device))
        entry = self._storages.get(key)
        if entry is None:
            entry = self._storages[key] = [0, st.nbytes()]
            self.live += entry[1]
            self.total += entry[1]
            self.peak = max(self.peak, self.live)
        entry[0] += 1
        holder = _Held(packed)
        weakref.finalize(holder, self._drop, key)
        return holder

    def _drop(self, key: tuple) -> None:
        entry = self._storages[key]
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self._storages[key]

    def __enter__(self) -> SavedPeak:
        self._hooks = torch.autograd.graph.saved_tensors_hooks(lambda t: self.hold(t, t), _release)
        self._hooks.__enter__()
        _WATCHERS.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _WATCHERS.remove(self)
        self._hooks.__exit__(*exc)
        self._hooks = None


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
            return _hold(counts, (counts, t.dtype))
        for f in _OBSERVERS:
            f(t)
        return _hold(t, t)

    def _unpack(self, packed):
        packed = _release(packed)
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
