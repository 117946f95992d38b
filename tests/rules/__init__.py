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


def weights_carrying_credit(loss: torch.Tensor, weights: dict[str, torch.Tensor]) -> set[str]:
    """Names of ``weights`` that a gradient of ``loss`` passes *through* (C1 by behaviour).

    Walks autograd's graph from ``loss``: a node that saved one of the weights for its backward and sends a
    gradient to anything other than that weight's own accumulator uses the weight on a feedback path (e.g. the
    ``x @ W^T`` of a linear map sending ``grad @ W`` back to ``x``): a weight transport.
    """
    ptrs = {w.untyped_storage().data_ptr(): name for name, w in weights.items()}
    own = {name: w for name, w in weights.items()}
    found, seen, stack = set(), set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        saved = []
        for attr in dir(node):
            if attr.startswith("_saved_"):
                try:
                    v = getattr(node, attr)
                except RuntimeError:  # freed or not a tensor
                    continue
                if isinstance(v, torch.Tensor):
                    saved.append(v)
        names = {ptrs[t.untyped_storage().data_ptr()] for t in saved if t.untyped_storage().data_ptr() in ptrs}
        if names:
            targets = [fn for fn, _ in node.next_functions if fn is not None]
            for name in names:
                w = own[name]
                others = [fn for fn in targets
                          if not (type(fn).__name__ == "AccumulateGrad" and fn.variable is w)
                          and not _only_reaches(fn, w)]
                if others:
                    found.add(name)
        stack.extend(fn for fn, _ in node.next_functions if fn is not None)
    return found


def _only_reaches(fn, w: torch.Tensor) -> bool:
    """Whether the branch ``fn`` only leads to ``w``'s accumulator (a view or transpose of the weight itself)."""
    todo, seen = [fn], set()
    while todo:
        f = todo.pop()
        if f is None or id(f) in seen:
            continue
        seen.add(id(f))
        if type(f).__name__ == "AccumulateGrad":
            if f.variable is not w:
                return False
            continue
        nxt = [g for g, _ in f.next_functions if g is not None]
        if not nxt:
            return False
        todo.extend(nxt)
    return True
