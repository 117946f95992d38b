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
                # a parameter's own accumulator (the weight's, or a bias beside it) takes no gradient through w
                others = [fn for fn in targets
                          if not (type(fn).__name__ == "AccumulateGrad" and isinstance(fn.variable, torch.nn.Parameter))
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


def _storage(t: torch.Tensor) -> tuple[int, int]:
    """The byte range of ``t``'s storage."""
    st = t.untyped_storage()
    return st.data_ptr(), st.data_ptr() + st.nbytes()


def assert_feedback_is_separate(forward: list, feedback: list) -> None:
    """Spec C1: no tensor of the feedback path is, or views, the storage of a forward weight."""
    ranges = [_storage(w) for w in forward]
    for t in feedback:
        a, b = _storage(t)
        for w, (c, d) in zip(forward, ranges, strict=True):
            assert b <= c or d <= a, f"a feedback tensor {tuple(t.shape)} shares storage with a forward weight " \
                                     f"{tuple(w.shape)}"


def one_step(stack, code, rule, x, y, watch: list) -> list[bool]:
    """One ``rule.loss`` call, one backward pass and one SGD step; which of ``watch`` changed."""
    before = [w.detach().clone() for w in watch]
    opt = torch.optim.SGD([p for p in stack.parameters() if p.requires_grad], lr=0.1)
    loss, _ = rule.loss(stack, code, x, y)
    loss.backward()
    opt.step()
    return [not torch.equal(b, w) for b, w in zip(before, watch, strict=True)]


def capture_inputs(stack) -> list:
    """Hooks that record ``(layer, 'basal' | 'apical', input)`` of every call of a basal or apical map."""
    seen = []
    for i, layer in enumerate(stack.layers):
        for kind in ("basal", "apical"):
            mod = getattr(layer, kind)
            if mod is not None:
                mod.register_forward_pre_hook(lambda m, inp, i=i, kind=kind: seen.append((i, kind, inp[0].detach())))
    return seen


def non_binary_inputs(seen: list, T: int, skip_stimulus: bool) -> list:
    """Spec C4: the captured inputs that are neither 0/1 nor time means of 0/1 trains (k / T).

    ``skip_stimulus``: the direct-coded (analog) stimulus at layer 1's basal map is an allowed exception.
    """
    bad = []
    for i, kind, t in seen:
        if skip_stimulus and kind == "basal" and i == 1:
            continue
        if t.dim() > 0 and t.is_floating_point():
            k = t * T
            if not (torch.allclose(k, k.round(), atol=1e-4) and t.min() >= 0 and t.max() <= 1):
                bad.append((i, kind))
    return bad
