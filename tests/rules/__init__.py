"""Shared checks for the learning-rule tests."""

import torch


def assert_losses_are_local(stack, losses: dict) -> None:
    """Spec C2: layer i's loss has a zero gradient on every other layer's parameters and trains its own."""
    owner = {id(p): i for i, layer in enumerate(stack.layers) for p in layer.parameters()}
    params = list(stack.parameters())
    for i, li in losses.items():
        grads = torch.autograd.grad(li, params, retain_graph=True, allow_unused=True)
        for p, g in zip(params, grads, strict=True):
            if owner[id(p)] != i:
                assert g is None or torch.count_nonzero(g) == 0, f"layer {i}'s loss reaches layer {owner[id(p)]}"
        own = [g for p, g in zip(params, grads, strict=True) if owner[id(p)] == i and g is not None]
        assert own and any(torch.count_nonzero(g) > 0 for g in own), f"layer {i}'s loss trains nothing"
