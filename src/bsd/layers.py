"""Pyramidal layers: the unit of BSD.

A :class:`PyramidalLayer` ``i`` owns its basal weights ``W_i`` (bottom-up, from layer
``i-1``), its apical weights ``Theta_i`` (top-down, from layer ``i+1``), a normalisation
for each dendrite and its spiking soma. The stimulus layer 0 has only ``Theta_0`` (recall),
the concept layer L only ``W_L``. Every multi-step tensor is ``[T, B, ...]``; the linear
and conv maps fold T into the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .dist import all_sum, distributed, mean_var, world
from .neurons import LIF

Stats = tuple[torch.Tensor, torch.Tensor]


def fold(x: torch.Tensor) -> torch.Tensor:
    """``[T, B, ...] -> [T*B, ...]``."""
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


def unfold(x: torch.Tensor, T: int) -> torch.Tensor:
    """``[T*B, ...] -> [T, B, ...]``."""
    return x.reshape(T, x.shape[0] // T, *x.shape[1:])


def apply_folded(fn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a stateless map to every time step of ``[T, B, ...]`` at once."""
    return unfold(fn(fold(x)), x.shape[0])


class VoltageNorm(nn.Module):
    """BatchNorm of dendritic voltages, shared by the spiking simulation and the loss graph.

    The simulation (multi-step, often without a graph) normalises with statistics over
    time, batch (and space); rows can carry weights when a stream is run once per distinct
    label code. The loss graph normalises the *time-reduced* voltage: its mean over the
    batch equals the simulation mean exactly and keeps its gradient (so the loss cannot
    push the voltage along the direction that normalisation removes), and its variance is
    the simulation's value with the gradient of the reduced batch's variance.

    ``sync``: the statistics cover the rows of every process of a distributed run (the forward stream, whose
    rows each process holds a share of); the backward stream is computed for the whole batch on every process
    and keeps ``sync`` off.
    """

    def __init__(self, channels: int, enabled: bool = True, momentum: float = 0.1, eps: float = 1e-5,
                 sync: bool = False) -> None:
        super().__init__()
        self.enabled, self.momentum, self.eps, self.sync = enabled, momentum, eps, sync
        if enabled:
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))
            self.register_buffer("running_mean", torch.zeros(channels))
            self.register_buffer("running_var", torch.ones(channels))

    @staticmethod
    def batch_stats(v: torch.Tensor, row_weight: torch.Tensor | None = None, sync: bool = False) -> Stats:
        """Per-channel mean and biased variance of ``[N, C, ...]``, rows weighted by ``row_weight [N]``.

        ``sync``: over the rows of every process of a distributed run.
        """
        dims = [0] + list(range(2, v.dim()))
        if sync and distributed():
            w = None if row_weight is None else row_weight.reshape(-1, *([1] * (v.dim() - 1)))
            return mean_var(v, dims, w, sync=True)
        if row_weight is None:
            mean = v.mean(dims)
            if v.requires_grad and torch.is_grad_enabled():
                return mean, _BatchVar.apply(v, mean.detach(), dims)
            return mean, _two_pass_var(v, mean, dims)
        w = row_weight.to(v.dtype).reshape(-1, *([1] * (v.dim() - 1)))
        total = w.sum() * v[0, 0].numel()
        mean = (v * w).sum(dims) / total
        var = ((v - mean.reshape(1, -1, *([1] * (v.dim() - 2)))).pow(2) * w).sum(dims) / total
        return mean, var

    def forward(self, v: torch.Tensor, stats: Stats | None = None) -> torch.Tensor:
        """Normalise ``[N, C, ...]`` with ``stats`` if given, else with the running statistics."""
        if not self.enabled:
            return v
        scale, shift = self._scale_shift(stats, v.dim(), 1)
        return v * scale + shift

    def _scale_shift(self, stats: Stats | None, ndim: int, channel_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel ``weight / sqrt(var + eps)`` and ``bias - mean * scale``, shaped to broadcast."""
        mean, var = stats if stats is not None else (self.running_mean, self.running_var)
        shape = (1,) * channel_dim + (-1,) + (1,) * (ndim - channel_dim - 1)
        scale = self.weight * torch.rsqrt(var + self.eps)
        return scale.reshape(shape), (self.bias - mean * scale).reshape(shape)

    def simulate(self, v: torch.Tensor, row_weight: torch.Tensor | None = None, update_running: bool = True,
                 repeats: int = 1) -> tuple[torch.Tensor, Stats | None]:
        """Normalise multi-step ``v [T, B, C, ...]``; in training, from batch statistics (stored if asked).

        ``repeats``: ``v`` stands for that many identical time steps (a constant input computed once).
        """
        if not self.enabled:
            return v, None
        stats = None
        graph = torch.is_grad_enabled() and v.requires_grad
        # with a graph and one process: the statistics without one, the normalisation one node (_SimulatedNorm)
        fused = graph and self.training and not (self.sync and distributed())
        if self.training:
            w = None if row_weight is None else row_weight.repeat(v.shape[0])
            with torch.set_grad_enabled(graph and not fused):
                stats = self.batch_stats(fold(v), w, self.sync)
            if update_running:
                with torch.no_grad():
                    n = repeats * v.numel() / v.shape[2] * (world()[1] if self.sync else 1)
                    self.running_mean.lerp_(stats[0].detach(), self.momentum)
                    self.running_var.lerp_(stats[1].detach() * n / max(n - 1, 1), self.momentum)
        if fused:
            return unfold(_SimulatedNorm.apply(fold(v), self.weight, self.bias, *stats, w, self.eps), v.shape[0]), stats
        if graph:
            return apply_folded(lambda z: self(z, stats), v), stats
        scale, shift = self._scale_shift(stats, v.dim(), 2)  # no graph: the same arithmetic, in place
        return v.mul(scale).add_(shift), stats

    def reduced(self, v: torch.Tensor, stats: Stats | None, row_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Normalise a time-reduced (or time-folded) voltage ``[N, C, ...]`` for the loss graph."""
        if not self.enabled:
            return v
        if stats is None:  # eval mode: running statistics
            return self(v)
        return _ReducedNorm.apply(v, self.weight, self.bias, stats[1].detach(), row_weight, self.eps,
                                  self.sync and distributed())


def _two_pass_var(v: torch.Tensor, mean: torch.Tensor, dims: list[int]) -> torch.Tensor:
    """Biased variance of ``v [N, C, ...]`` over ``dims`` given its mean: far faster than ``aten::var`` on a CPU."""
    d = v - mean.reshape(1, -1, *([1] * (v.dim() - 2)))
    return (d * d).mean(dims)


class _SimulatedNorm(torch.autograd.Function):
    """``v * scale + shift`` of :meth:`VoltageNorm.simulate` with batch statistics, as one autograd node.

    ``forward(v, weight, bias, mean, var, row_weight, eps)``: ``v [N, C, ...]`` and its (row-weighted)
    batch ``mean`` and biased ``var``, computed without a graph. The value is the composed form's, operation for
    operation (``scale = weight / sqrt(var + eps)``, ``shift = bias - mean * scale``); the backward pass is batch
    norm's in closed form, through the mean and the variance as autograd through :meth:`VoltageNorm.batch_stats`
    gives (tested): ``scale * (g - w (sum g + xhat sum g xhat) / n)`` with ``n`` the rows' total weight (times
    the positions per channel). It keeps ``v`` only, as the composed form's variance node does.
    """

    @staticmethod
    def forward(ctx, v, weight, bias, mean, var, row_weight, eps):  # noqa: D102
        shape = (1, -1) + (1,) * (v.dim() - 2)
        scale = weight * torch.rsqrt(var + eps)
        out = v * scale.reshape(shape) + (bias - mean * scale).reshape(shape)
        ctx.save_for_backward(v, mean, var, weight, row_weight)
        ctx.eps = eps
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):  # noqa: D102
        v, mean, var, weight, w = ctx.saved_tensors
        shape = (1, -1) + (1,) * (v.dim() - 2)
        dims = [0] + list(range(2, v.dim()))
        inv_std = torch.rsqrt(var + ctx.eps)
        xhat = (v - mean.reshape(shape)) * inv_std.reshape(shape)
        g_bias = g.sum(dims)
        g_weight = (g * xhat).sum(dims)
        if w is None:
            k = (g_bias.reshape(shape) + xhat * g_weight.reshape(shape)) / (v.numel() // v.shape[1])
        else:
            wr = w.to(v.dtype).reshape(-1, *([1] * (v.dim() - 1)))
            k = (g_bias.reshape(shape) + xhat * g_weight.reshape(shape)) * (wr / (wr.sum() * v[0, 0].numel()))
        return (g - k).mul_((weight * inv_std).reshape(shape)), g_weight, g_bias, None, None, None, None


class _BatchVar(torch.autograd.Function):
    """:func:`_two_pass_var` with a graph: the same value with or without one, keeping only ``v`` (and its mean).

    The gradient is ``2 (v - mean) / n``, the total derivative (the mean's own path adds
    ``sum(v - mean) = 0``), as autograd through ``v.var`` gives.
    """

    @staticmethod
    def forward(ctx, v, mean, dims):  # noqa: D102
        ctx.save_for_backward(v, mean)
        ctx.dims = dims
        return _two_pass_var(v, mean, dims)

    @staticmethod
    def backward(ctx, g):  # noqa: D102
        v, mean = ctx.saved_tensors
        shape = (1, -1) + (1,) * (v.dim() - 2)
        n = v.numel() // v.shape[1]
        return (v - mean.reshape(shape)).mul_(g.reshape(shape) * (2.0 / n)), None, None


class _ReducedNorm(torch.autograd.Function):
    """``(v - mean(v)) / sqrt(var_sim + eps) * weight + bias`` over rows (and space) of ``[N, C, ...]``.

    The mean is the (row-weighted) batch mean of ``v``; the variance takes the simulation's value
    ``var_sim`` with the gradient of ``v``'s own batch variance. Written as one autograd node with
    the batch-norm backward in closed form: the same values and gradients as composing it from
    ``mean``, ``var`` and ``detach`` (tested), at a fraction of the operations.
    """

    @staticmethod
    def forward(ctx, v, weight, bias, var_sim, row_weight, eps, sync=False):  # noqa: D102
        dims = [0] + list(range(2, v.dim()))
        shape = (1, -1) + (1,) * (v.dim() - 2)
        if sync:  # the rows of every process: sums across processes here and in backward
            w = None if row_weight is None else row_weight.to(v.dtype).reshape(-1, *([1] * (v.dim() - 1)))
            local = v.numel() / v.shape[1] if w is None else w.sum() * v[0, 0].numel()
            total = all_sum(torch.as_tensor(local, dtype=v.dtype, device=v.device))
            mean = all_sum(v.sum(dims, keepdim=True) if w is None else (v * w).sum(dims, keepdim=True)) / total
        elif row_weight is None:
            w, total = None, v.numel() / v.shape[1]
            mean = v.mean(dims, keepdim=True)
        else:
            w = row_weight.to(v.dtype).reshape(-1, *([1] * (v.dim() - 1)))
            total = w.sum() * v[0, 0].numel()
            mean = (v * w).sum(dims, keepdim=True) / total
        inv_std = torch.rsqrt(var_sim + eps).reshape(shape)
        xhat = (v - mean) * inv_std
        ctx.save_for_backward(xhat, inv_std, weight, w, total if torch.is_tensor(total) else None)
        ctx.total, ctx.dims, ctx.sync = total, dims, sync
        return torch.addcmul(bias.reshape(shape), xhat, weight.reshape(shape))

    @staticmethod
    def backward(ctx, g):  # noqa: D102
        xhat, inv_std, weight, w, total_t = ctx.saved_tensors
        dims = ctx.dims
        total = total_t if total_t is not None else ctx.total
        g_bias = g.sum(dims)
        g_weight = (g * xhat).sum(dims)
        shape = inv_std.shape
        gx = g * weight.reshape(shape)
        s1 = gx.sum(dims, keepdim=True)
        s2 = (gx * xhat).sum(dims, keepdim=True)
        if ctx.sync:
            s1, s2 = all_sum(s1), all_sum(s2)
        k = (s1 + xhat * s2) / total
        if w is not None:
            k = k * w
        return (gx - k) * inv_std, g_weight, g_bias, None, None, None, None


class Upsample(nn.Module):
    """Nearest-neighbour upsampling to a fixed spatial size (the mirror of pooling)."""

    def __init__(self, size: Sequence[int]) -> None:
        super().__init__()
        self.size = tuple(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        (h, w), (th, tw) = x.shape[-2:], self.size
        if th % h == 0 and tw % w == 0:  # integer factors: a broadcast copy (much faster than interpolate on CPU)
            fh, fw = th // h, tw // w
            b = x.shape[:-2]
            return x[..., :, None, :, None].expand(*b, h, fh, w, fw).reshape(*b, th, tw)
        return F.interpolate(x, size=self.size, mode="nearest")


class PyramidalLayer(nn.Module):
    """One population of pyramidal neurons with a basal and an apical dendrite.

    ``basal`` (W_i) maps the spikes of the layer below to this layer's basal voltage,
    ``apical`` (Theta_i) maps the spikes of the layer above to its apical voltage. Either
    may be ``None`` (stimulus layer: no basal; concept layer: no apical).
    """

    def __init__(self, shape: Sequence[int], basal: nn.Module | None, apical: nn.Module | None,
                 lif: LIF, norm_basal: bool, norm_apical: bool) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.basal = basal
        self.apical = apical
        self.lif = lif
        channels = self.shape[0]
        self.basal_norm = VoltageNorm(channels, norm_basal and basal is not None, sync=True)
        self.apical_norm = VoltageNorm(channels, norm_apical and apical is not None)

    # ---- multi-step simulation -------------------------------------------------------
    def basal_voltage(self, s_below: torch.Tensor, row_weight: torch.Tensor | None = None,
                      update_running: bool = True) -> tuple[torch.Tensor, Stats | None]:
        """Normalised basal voltage ``[T, B, *shape]`` from spikes of the layer below.

        An input that is the same at every step (a direct-coded stimulus, expanded over T with
        stride 0) is mapped and normalised once and expanded: the same values as T copies.
        """
        T = s_below.shape[0]
        if T > 1 and s_below.stride(0) == 0:
            v, stats = self.basal_norm.simulate(apply_folded(self.basal, s_below[:1]), row_weight, update_running, T)
            return v.expand(T, *v.shape[1:]), stats
        return self.basal_norm.simulate(apply_folded(self.basal, s_below), row_weight, update_running)

    def apical_voltage(self, s_above: torch.Tensor, row_weight: torch.Tensor | None = None,
                       update_running: bool = True) -> tuple[torch.Tensor, Stats | None]:
        """Normalised apical voltage ``[T, B, *shape]`` from spikes of the layer above."""
        return self.apical_norm.simulate(apply_folded(self.apical, s_above), row_weight, update_running)

    # ---- time-reduced voltages for the local loss graph --------------------------------
    def basal_reduced(self, s_below: torch.Tensor, stats: Stats | None) -> torch.Tensor:
        """Basal voltage of time-reduced input ``[N, ...]``, normalised consistently with the simulation."""
        return self.basal_norm.reduced(self.basal(s_below), stats)

    def apical_reduced(self, s_above: torch.Tensor, stats: Stats | None,
                       row_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Apical voltage of time-reduced input ``[N, ...]``, normalised consistently with the simulation."""
        return self.apical_norm.reduced(self.apical(s_above), stats, row_weight)

    def basal_parameters(self) -> list[nn.Parameter]:
        """W_i and the basal normalisation."""
        mods = [m for m in (self.basal, self.basal_norm) if m is not None]
        return [p for m in mods for p in m.parameters()]

    def apical_parameters(self) -> list[nn.Parameter]:
        """Theta_i and the apical normalisation."""
        mods = [m for m in (self.apical, self.apical_norm) if m is not None]
        return [p for m in mods for p in m.parameters()]
