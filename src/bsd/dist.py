"""Cross-process pieces of a step under data parallelism (Lightning's DDP): sums, gathers, batch statistics.

With ``N`` processes of batch ``B / N`` the local losses must equal those of one process of batch ``B``:

- what a layer is compared with (the backward stream, driven by the targets) is computed for the whole batch on
  every process, from the targets gathered across processes (:func:`gather_rows`, no gradient: targets are data);
- what a layer produces (the forward stream) stays local, and its batch statistics (normalisation, centring) are
  summed across processes with a gradient that is summed back (:func:`all_sum`), as synchronised batch norm does.

Each process then holds its local rows' share of the losses; DDP averages the gradients. Outside a distributed
run every function here is the identity or the plain single-process computation.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """``(rank, size)`` of the default process group; ``(0, 1)`` outside a distributed run."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def distributed() -> bool:
    """Whether more than one process trains."""
    return world()[1] > 1


def all_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum of ``t`` over the processes; its gradient is the sum of the processes' gradients (differentiable)."""
    if not distributed():
        return t
    if t.requires_grad and torch.is_grad_enabled():
        return _AllSum.apply(t)
    out = t.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


class _AllSum(torch.autograd.Function):
    """Sum across processes whose backward sums the incoming gradients across processes too."""

    @staticmethod
    def forward(ctx, t):  # noqa: D102
        out = t.clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        out = grad.clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out


@torch.no_grad()
def gather_rows(t: torch.Tensor, dim: int = 0) -> tuple[torch.Tensor, int]:
    """Every process's ``t`` concatenated along ``dim`` (rank order) and where this process's rows start.

    No gradient passes (use it for targets and other data). Processes may hold different numbers of rows.
    """
    rank, size = world()
    if size == 1:
        return t, 0
    n = torch.tensor([t.shape[dim]], device=t.device)
    sizes = [torch.zeros_like(n) for _ in range(size)]
    dist.all_gather(sizes, n)
    sizes = [int(s) for s in sizes]
    pad = max(sizes) - t.shape[dim]
    padded = t
    if pad:
        shape = list(t.shape)
        shape[dim] = pad
        padded = torch.cat([t, t.new_zeros(shape)], dim)
    parts = [torch.empty_like(padded) for _ in range(size)]
    dist.all_gather(parts, padded.contiguous())
    parts = [p.narrow(dim, 0, s) for p, s in zip(parts, sizes, strict=True)]
    return torch.cat(parts, dim), sum(sizes[:rank])


def mean_var(v: torch.Tensor, dims: list[int], weight: torch.Tensor | None = None, sync: bool = False,
             keepdim: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and biased variance of ``v`` over ``dims`` (rows weighted by ``weight``, broadcastable to ``v``).

    With ``sync`` in a distributed run the rows of every process count (two passes, summed across processes,
    gradients summed back); otherwise the plain local statistics.
    """
    if sync and distributed():
        w = torch.ones_like(v) if weight is None else weight.to(v.dtype).expand_as(v)
        total = all_sum(w.sum(dims, keepdim=True))
        mean = all_sum((v * w).sum(dims, keepdim=True)) / total
        var = all_sum(((v - mean).square() * w).sum(dims, keepdim=True)) / total
        return (mean, var) if keepdim else (_squeeze(mean, dims), _squeeze(var, dims))
    if weight is None:
        return v.mean(dims, keepdim=keepdim), v.var(dims, unbiased=False, keepdim=keepdim)
    w = weight.to(v.dtype).expand_as(v)
    total = w.sum(dims, keepdim=True)
    mean = (v * w).sum(dims, keepdim=True) / total
    var = ((v - mean).square() * w).sum(dims, keepdim=True) / total
    return (mean, var) if keepdim else (_squeeze(mean, dims), _squeeze(var, dims))


def _squeeze(t: torch.Tensor, dims: list[int]) -> torch.Tensor:
    for d in sorted(dims, reverse=True):
        t = t.squeeze(d)
    return t


def global_count(n: int, device: torch.device | str | None = None) -> int:
    """``n`` summed over the processes (e.g. the rows of a batch)."""
    if not distributed():
        return n
    t = torch.tensor([float(n)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return int(t.item())


def batch_mean(v: torch.Tensor, dim: int, sync: bool = False) -> torch.Tensor:
    """Mean of ``v`` over ``dim`` (kept), over the rows of every process when ``sync`` in a distributed run."""
    if sync and distributed():
        return all_sum(v.sum(dim, keepdim=True)) / global_count(v.shape[dim], v.device)
    return v.mean(dim, keepdim=True)
