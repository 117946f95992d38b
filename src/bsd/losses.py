"""Layer-local losses: ReCo (relaxed contrastive) and its frequency-aware form."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .dist import distributed, mean_var

SAME_CLASS = ("negative", "ignore", "positive")
#: what ReCo compares: ``sample`` (the paper's: the cosine of each sample's voltage vector over the
#: units) or ``unit`` (each unit's voltages over the batch, centred: a correlation per neuron)
RECO_AXES = ("sample", "unit")
#: how much each pair is pushed: ``uniform`` (the paper's) or ``code`` (by one minus the cosine of the two
#: samples' target codes, so pairs whose targets overlap, e.g. near values of a population code, are pushed less)
PUSH_WEIGHTS = ("uniform", "code")
#: where each pair's push starts: ``zero`` (the paper's: any positive cosine is pushed) or ``code`` (only
#: the part of the cosine above the cosine of the two samples' targets: a forward voltage may resemble
#: another sample's target as much as the two targets resemble each other, and no more)
PUSH_MARGINS = ("zero", "code")


def center_batch(v: torch.Tensor, steps: int = 1, weight: torch.Tensor | None = None,
                 sync: bool = False) -> torch.Tensor:
    """``v [steps*N, ...]`` less its mean over the ``N`` rows of each step, feature by feature.

    ``weight [N]`` (optional) weights the rows, e.g. the number of samples that share a distinct
    target's row, so the mean is the batch mean of the expanded ``[B, ...]`` tensor. ``sync``: the rows of
    every process of a distributed run count (the forward stream's share of the batch).
    """
    g = v.reshape(steps, -1, *v.shape[1:])
    if sync and distributed():
        mean = mean_var(g, [1], None if weight is None else weight.reshape(1, -1, *([1] * (v.dim() - 1))),
                        sync=True, keepdim=True)[0]
    elif weight is None:
        mean = g.mean(1, keepdim=True)
    else:
        w = weight.to(v.dtype).reshape(1, -1, *([1] * (v.dim() - 1)))
        mean = (g * w).sum(1, keepdim=True) / w.sum()
    return (g - mean).reshape(v.shape)


def reco_terms(v: torch.Tensor, v_hat: torch.Tensor, labels: torch.Tensor | None = None,
               same_class: str = "ignore") -> tuple[torch.Tensor, torch.Tensor]:
    """The two ReCo terms, each normalised by the batch size B.

    ``v`` and ``v_hat`` are ``[B, ...]`` (flattened per sample). ``C = cos(v_k, v_hat_j)``.
    Returns ``(pull, push)`` with ``pull = sum_k (1 - C_kk)^2 / B`` and
    ``push = sum_{k != j} max(0, C_kj)^2 / B`` over the off-diagonal pairs kept by
    ``same_class``: ``negative`` keeps every pair (paper-literal), ``ignore`` drops
    pairs of the same label, ``positive`` pulls same-label pairs like the diagonal.
    """
    b = v.shape[0]
    return grouped_reco_terms(v.reshape(1, b, -1), v_hat.reshape(1, b, -1),
                              None if labels is None else labels.reshape(1, b), same_class)


def grouped_reco_terms(v: torch.Tensor, v_hat: torch.Tensor, labels: torch.Tensor | None = None,
                       same_class: str = "ignore", axis: str = "sample", push_weight: torch.Tensor | None = None,
                       push_margin: torch.Tensor | None = None, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """ReCo terms within each of ``G`` independent batches ``[G, B, D]``, averaged over the groups.

    A group is e.g. one sequence position; ``labels`` is ``[G, B]`` or None. ``push_weight``
    (``[G, B, B]``, optional, sample axis only) scales each pair's push term; ``push_margin``
    (``[G or 1, B, B]``, optional, sample axis only) moves each pair's hinge from 0 to that
    cosine: ``max(0, C_kj - m_kj)^2`` (see :func:`code_cosines`). ``axis = unit`` transposes the
    comparison (see :func:`unit_reco_terms`; labels play no part there).

    Under data parallelism ``v`` holds this process's ``b`` rows and ``v_hat`` (and ``labels``) the whole
    batch's ``B``; row ``k`` of ``v`` is row ``offset + k`` of ``v_hat``; the pair tensors are ``[G, b, B]``.
    """
    if same_class not in SAME_CLASS:
        raise ValueError(f"model.reco.same_class must be one of {SAME_CLASS}, got {same_class!r}")
    if axis not in RECO_AXES:
        raise ValueError(f"model.reco.axis must be one of {RECO_AXES}, got {axis!r}")
    if axis == "unit":
        if push_weight is not None:
            raise ValueError("model.reco.push_weight=code needs model.reco.axis=sample")
        if push_margin is not None:
            raise ValueError("model.reco.margin=code needs model.reco.axis=sample")
        if v.shape[1] != v_hat.shape[1]:
            raise ValueError("model.reco.axis=unit correlates units over the batch; it is implemented for one "
                             "process only (run without data parallelism)")
        return unit_reco_terms(v, v_hat)
    g, b, n = v.shape[0], v.shape[1], v_hat.shape[1]
    c = F.normalize(v.reshape(g, b, -1), dim=-1, eps=1e-8) @ F.normalize(v_hat.reshape(g, n, -1), dim=-1,
                                                                           eps=1e-8).transpose(1, 2)
    if n == b and offset == 0:
        eye = torch.eye(b, dtype=torch.bool, device=v.device)
    else:
        eye = torch.arange(n, device=v.device)[None, :] == (offset + torch.arange(b, device=v.device))[:, None]
    pos_mask = eye
    neg_mask = ~eye
    if labels is not None and same_class != "negative":
        same = labels[:, offset:offset + b, None] == labels[:, None, :]
        neg_mask = ~same
        if same_class == "positive":
            pos_mask = same
    pull = ((1 - c) ** 2 * pos_mask).sum() / (b * g)
    neg = neg_mask if push_weight is None else neg_mask * push_weight
    over = c if push_margin is None else c - push_margin
    push = (over.clamp(min=0) ** 2 * neg).sum() / (b * g)
    return pull, push


def code_cosines(codes: torch.Tensor, other: torch.Tensor | None = None) -> torch.Tensor:
    """Cosines between target codes: ``[..., B, K]`` (and ``other [..., U, K]``) -> ``[..., B, B or U]``.

    The margins of ``model.reco.margin=code``. One-hot codes give 1 for pairs of the same label (never
    pushed: ``same_class = ignore``) and 0 otherwise (the paper's hinge); near values of a population
    code, or two similar images, get a margin near their similarity.
    """
    u = F.normalize(codes, dim=-1, eps=1e-8)
    w = u if other is None else F.normalize(other, dim=-1, eps=1e-8)
    return u @ w.transpose(-1, -2)


def code_push_weight(codes: torch.Tensor) -> torch.Tensor:
    """``[G, B, K]`` non-negative target codes -> ``[G, B, B]`` pair weights ``1 - cos(code_k, code_j)``.

    One-hot codes give 0 for pairs of the same label and 1 otherwise (``same_class = ignore``);
    a population code pushes pairs of near values less than pairs far apart.
    """
    return (1 - code_cosines(codes)).clamp(min=0)


def unit_reco_terms(v: torch.Tensor, v_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ReCo with samples and units swapped, within each of ``G`` batches ``[G, B, D]``.

    ``C[i, j]`` is the correlation over the batch between unit ``i``'s basal and unit ``j``'s
    apical voltage (both centred over the batch). ``pull = sum_i (1 - C_ii)^2 / D`` asks every
    neuron's basal voltage to rise and fall with its own apical voltage across samples, so the
    magnitude of a continuous target survives (a per-sample cosine sees only directions);
    ``push = sum_{i != j} max(0, C_ij)^2 / D`` keeps units from all coding the same thing.
    """
    g, b = v.shape[:2]
    if b < 2:
        raise ValueError("model.reco.axis=unit needs batches of at least 2 samples")
    vt = (v - v.mean(1, keepdim=True)).reshape(g, b, -1).transpose(1, 2)
    ht = (v_hat - v_hat.mean(1, keepdim=True)).reshape(g, b, -1).transpose(1, 2)
    c = F.normalize(vt, dim=-1, eps=1e-8) @ F.normalize(ht, dim=-1, eps=1e-8).transpose(1, 2)  # [G, D, D]
    d = c.shape[-1]
    eye = torch.eye(d, dtype=torch.bool, device=v.device)
    pull = ((1 - c) ** 2 * eye).sum() / (d * g)
    push = (c.clamp(min=0) ** 2 * ~eye).sum() / (d * g)
    return pull, push


def unique_reco_terms(v: torch.Tensor, v_hat: torch.Tensor, inv: torch.Tensor, counts: torch.Tensor,
                      same_class: str = "ignore", per_group: bool = False, push_margin: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`grouped_reco_terms` when the targets repeat: one row per distinct target.

    ``v`` is ``[G, B, D]``, ``v_hat`` ``[G, U, D]`` holds the ``U`` distinct targets,
    ``inv [B]`` maps each sample to its target row and ``counts [U]`` counts the samples per
    target. Samples sharing a target share its label, so the ``B x B`` cosine matrix of the
    plain form repeats ``B x U`` distinct values: the terms are computed from those, with the
    same result, without materialising ``v_hat[inv]`` or the ``B x B`` matrix. ``per_group``
    returns the ``[G]`` terms of each group instead of their mean. ``push_margin [B, U]``
    (optional) is each sample's hinge against each distinct target (``model.reco.margin=code``).
    """
    if same_class not in SAME_CLASS:
        raise ValueError(f"model.reco.same_class must be one of {SAME_CLASS}, got {same_class!r}")
    g, b = v.shape[:2]
    u = v_hat.shape[1]
    w = counts.to(v.dtype)
    own = (torch.arange(u, device=v.device) == inv[:, None]).to(v.dtype)  # [B, U]: the sample's own target
    if same_class == "negative":  # every pair k != j: each target weighted by its count, less the diagonal
        push_mask = w - own
    else:  # pairs of another label only
        push_mask = w * (1 - own)
    pull_mask = own * w if same_class == "positive" else own  # positive: every same-label pair
    margin = torch.zeros((), dtype=v.dtype, device=v.device) if push_margin is None else push_margin.to(v.dtype)
    pull, push = _UniqueReCo.apply(v.reshape(g, b, -1), v_hat.reshape(g, u, -1), pull_mask, push_mask, margin,
                                   1.0 / b)
    return (pull, push) if per_group else (pull.mean(), push.mean())


class _UniqueReCo(torch.autograd.Function):
    """ReCo terms of each group from its ``[B, U]`` cosines, as one autograd node with a closed-form backward.

    ``pull_g = s * sum (1 - C_g)^2 * pull_mask``, ``push_g = s * sum max(0, C_g - margin)^2 * push_mask``
    with ``C = normalize(v) @ normalize(v_hat)^T``: the same values and gradients as composing it from
    ``F.normalize`` and matmul (tested), at a fraction of the operations.
    """

    @staticmethod
    def forward(ctx, v, v_hat, pull_mask, push_mask, margin, scale):  # noqa: D102
        eps = 1e-8
        nv, nh = v.norm(dim=-1, keepdim=True), v_hat.norm(dim=-1, keepdim=True)
        a, c = v / nv.clamp(min=eps), v_hat / nh.clamp(min=eps)
        cos = a @ c.transpose(1, 2)
        miss, pos = 1 - cos, (cos - margin).clamp(min=0)
        pull = (miss.square() * pull_mask).sum((1, 2)) * scale
        push = (pos.square() * push_mask).sum((1, 2)) * scale
        ctx.save_for_backward(a, c, nv, nh, miss * pull_mask, pos * push_mask)
        ctx.scale, ctx.eps = scale, eps
        return pull, push

    @staticmethod
    def backward(ctx, g_pull, g_push):  # noqa: D102
        a, c, nv, nh, miss_m, pos_m = ctx.saved_tensors
        g_cos = (2 * ctx.scale) * (g_push.reshape(-1, 1, 1) * pos_m - g_pull.reshape(-1, 1, 1) * miss_m)
        return (_normalize_backward(g_cos @ c, a, nv, ctx.eps), _normalize_backward(g_cos.transpose(1, 2) @ a, c, nh,
                                                                                    ctx.eps), None, None, None, None)


def _normalize_backward(g: torch.Tensor, unit: torch.Tensor, norm: torch.Tensor, eps: float) -> torch.Tensor:
    """Gradient through ``x / max(|x|, eps)`` (rows) given the output ``unit`` and ``|x|``."""
    proj = (g - unit * (g * unit).sum(-1, keepdim=True)) / norm.clamp(min=eps)
    return torch.where(norm > eps, proj, g / eps)


def reco_loss(v: torch.Tensor, v_hat: torch.Tensor, lam: float = 0.6, labels: torch.Tensor | None = None,
              same_class: str = "ignore") -> torch.Tensor:
    """ReCo(V, V_hat) = pull + lam * push (see :func:`reco_terms`)."""
    pull, push = reco_terms(v, v_hat, labels, same_class)
    return pull + lam * push


def frequency_split(x: torch.Tensor, cutoff: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Split image-shaped ``[B, C, H, W]`` into low and high spatial-frequency parts.

    The radial cut-off is a fraction of the Nyquist radius (0 < cutoff < 1); both parts
    are real and sum back to ``x``.
    """
    h, w = x.shape[-2:]
    fy = torch.fft.fftfreq(h, device=x.device)[:, None]
    fx = torch.fft.fftfreq(w, device=x.device)[None, :]
    radius = torch.sqrt(fy**2 + fx**2) / 0.5
    low_mask = (radius <= cutoff).to(x.dtype)
    spec = torch.fft.fft2(x)
    low = torch.fft.ifft2(spec * low_mask).real
    return low, x - low


def frequency_reco_loss(v: torch.Tensor, v_hat: torch.Tensor, cutoff: float = 0.25, lam_low: float = 0.3,
                        lam_high: float = 0.9, labels: torch.Tensor | None = None,
                        same_class: str = "ignore") -> torch.Tensor:
    """Frequency-aware ReCo: ReCo on the low band with ``lam_low`` plus on the high band with ``lam_high``.

    Without ``labels`` every off-diagonal pair is pushed apart (autoencoders have no classes).
    """
    vl, vh = frequency_split(v, cutoff)
    hl, hh = frequency_split(v_hat, cutoff)
    return reco_loss(vl, hl, lam_low, labels, same_class) + reco_loss(vh, hh, lam_high, labels, same_class)


def decorrelation_loss(v: torch.Tensor) -> torch.Tensor:
    """Mean squared off-diagonal correlation between the units (channels) of ``v [B, C, ...]``.

    A layer-local term on the layer's own basal voltage (lateral decorrelation): it keeps
    the units of a layer from all encoding the same few directions. Spatial positions of
    conv maps count as extra samples.
    """
    if v.dim() > 2:
        v = v.movedim(1, -1).reshape(-1, v.shape[1])
    z = (v - v.mean(0)) / (v.std(0, unbiased=False) + 1e-5)
    c = z.T @ z / z.shape[0]
    d = c.shape[0]
    off = c - torch.diag(torch.diagonal(c))
    return off.pow(2).sum() / (d * (d - 1))
