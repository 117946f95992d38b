"""Tools the comparison rules share: fixed random feedback, maps applied without hooks, updates as gradients.

A rule whose update is not the gradient of a loss (a Hebbian or three-factor rule) hands it to the one
optimiser step as a *surrogate loss*: ``update_loss(p, d) = -(d * p).sum()`` with ``d`` detached has the
gradient ``-d``, so the optimiser moves ``p`` along ``d`` (AdamW rescales each entry, as for any gradient).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def weighted(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """The linear and conv submodules of ``module`` (itself included), by qualified name."""
    return [(n, m) for n, m in module.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def random_matrix(shape: tuple[int, ...], fan: int, seed: int, scale: float, index: int,
                  like: torch.Tensor) -> torch.Tensor:
    """Fixed Gaussian entries of standard deviation ``scale / sqrt(fan)``, drawn on the CPU from ``(seed, index)``.

    The same seed gives the same tensor on every device and after a resume; ``like`` gives device and dtype.
    """
    g = torch.Generator().manual_seed(1_000_003 * int(seed) + int(index))
    b = torch.randn(tuple(shape), generator=g) * (scale / math.sqrt(fan))
    return b.to(device=like.device, dtype=like.dtype)


def draw_feedback(module: nn.Module, seed: int, scale: float, index: int) -> dict[str, torch.Tensor]:
    """A fixed random tensor of the shape of each linear or conv weight in ``module``.

    The fan-in of the error map (output size times kernel) sets the scale (:func:`random_matrix`).
    Returns ``{qualified weight name: tensor}``, as :func:`apply_with` reads them.
    """
    out = {}
    for k, (name, m) in enumerate(weighted(module)):
        w = m.weight
        fan = w.shape[0] * (math.prod(w.shape[2:]) if w.dim() > 2 else 1)
        out[f"{name}.weight" if name else "weight"] = random_matrix(w.shape, fan, seed, scale, 100 * index + k, w)
    return out


def apply_with(module: nn.Module, x: torch.Tensor, weights: dict[str, torch.Tensor] | None = None,
               bias: bool = True) -> torch.Tensor:
    """``module(x)`` computed functionally (no module hooks run), with weights replaced from ``weights``.

    Handles what the stacks' basal and apical maps are made of: ``Sequential``, ``Linear``, ``Conv2d`` and
    parameter-free modules (flatten, pooling, upsampling, unflatten). ``bias=False`` leaves every bias out
    (the map's linear part).
    """
    weights = weights or {}

    def run(m: nn.Module, z: torch.Tensor, prefix: str) -> torch.Tensor:
        if isinstance(m, nn.Sequential):
            for name, child in m.named_children():
                z = run(child, z, f"{prefix}{name}.")
            return z
        w = weights.get(f"{prefix}weight", getattr(m, "weight", None))
        b = getattr(m, "bias", None) if bias else None
        if isinstance(m, nn.Linear):
            return F.linear(z, w, b)
        if isinstance(m, nn.Conv2d):
            return F.conv2d(z, w, b, m.stride, m.padding, m.dilation, m.groups)
        if any(True for _ in m.parameters(recurse=False)):
            raise TypeError(f"apply_with: no functional form for {type(m).__name__}")
        return m(z)

    return run(module, x, "")


def feedback_map(module: nn.Module, x: torch.Tensor, feedback: dict[str, torch.Tensor]) -> torch.Tensor:
    """``module(x)`` in value; the gradient reaching ``x`` goes through ``feedback`` instead of the weights.

    The weights still get their own gradient (the error at the output times the input). Feedback alignment
    (Lillicrap et al. 2016): ``dL/dx = B^T dL/dy`` with a fixed ``B`` in place of ``W``.
    """
    y = module(x.detach())
    z = apply_with(module, x, feedback, bias=False)
    return y + (z - z.detach())


def weight_eligibility(module: nn.Module, signal_in: list[torch.Tensor], signal_out: list[torch.Tensor],
                       coeffs: list[float]) -> dict[str, torch.Tensor]:
    """``sum_k c_k * dsum(out_k * module(in_k))/dW`` for every weight ``W`` of ``module`` (biases left out).

    For a linear map that is ``sum_k c_k out_k^T in_k``: each synapse's product of a presynaptic and a
    postsynaptic quantity, summed over the rows; for conv (+ pooling) the same product through the map's
    structure. No module hooks run and no graph is left behind. Returns ``{qualified weight name: delta}``.
    """
    names = [f"{n}.weight" if n else "weight" for n, _ in weighted(module)]
    leaves = {n: m.weight.detach().requires_grad_() for n, (_, m) in zip(names, weighted(module), strict=True)}
    with torch.enable_grad():
        total = sum(c * (apply_with(module, a, leaves, bias=False) * g).sum()
                    for a, g, c in zip(signal_in, signal_out, coeffs, strict=True))
        grads = torch.autograd.grad(total, list(leaves.values()))
    return dict(zip(names, grads, strict=True))


def params_by_name(module: nn.Module) -> dict[str, nn.Parameter]:
    """``module``'s parameters by qualified name (as :func:`weight_eligibility` names them)."""
    return dict(module.named_parameters())


def update_loss(param: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """A surrogate loss whose gradient on ``param`` is ``-delta``: the optimiser moves ``param`` along ``delta``."""
    return -(delta.detach() * param).sum()


def value_with_gradient(value: torch.Tensor, *surrogates: torch.Tensor) -> torch.Tensor:
    """``value`` in value, with the gradient of ``value`` plus every surrogate loss (whose values do not count)."""
    out = value
    for s in surrogates:
        out = out + (s - s.detach())
    return out
