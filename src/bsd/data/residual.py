"""The joint least-squares fit of the forecasters' residual maps, one per part of the day and day group."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .sources import DataSourceError


def joint_deviations(x1: np.ndarray, target: np.ndarray, pooled: np.ndarray, fits: Sequence[np.ndarray], days: int,
                     ridge: float, smooth: float, source: str) -> np.ndarray:
    """``[G, F]``: every group's deviation from the all-day map ``pooled``, fitted in one least-squares problem.

    ``target[t]`` is the value input row ``t`` forecasts; ``fits[g]`` the training rows of group ``g`` =
    part * ``days`` + day group. Minimises the squared error of every group's map on its rows, plus
    ``ridge`` times the group's training steps times its squared slope deviations, plus
    ``smooth`` times the mean steps per group times the squared difference between the deviations
    (intercepts too) of every two tied groups: neighbouring parts of the day within a day group (the last part
    of the day next to the first) and the same part of the day in any two day groups.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    G, F, D = len(fits), x1.shape[1], days
    n = np.array([len(f) for f in fits], dtype=np.float64)
    mask = np.ones(F)
    mask[-1] = 0.0  # the intercept is not shrunk
    rows, cols, vals, rhs = [], [], [], np.zeros(G * F)
    idx = np.arange(F)
    for g, fit in enumerate(fits):
        xf = x1[fit]
        block = xf.T @ xf + np.diag(ridge * n[g] * mask)
        r, c = np.meshgrid(g * F + idx, g * F + idx, indexing="ij")
        rows.append(r.ravel()), cols.append(c.ravel()), vals.append(block.ravel())
        rhs[g * F:(g + 1) * F] = xf.T @ (target[fit] - xf @ pooled)
    P = G // D
    ties = {tuple(sorted((p * D + d, ((p + 1) % P) * D + d))) for p in range(P) for d in range(D) if P > 1}
    ties |= {(p * D + d, p * D + e) for p in range(P) for d in range(D) for e in range(d + 1, D)}
    w = np.full(F, smooth * n.mean())
    for i, j in sorted(ties):  # the graph Laplacian of the ties, one weight per coefficient
        for u, v, sign in ((i, i, 1.0), (j, j, 1.0), (i, j, -1.0), (j, i, -1.0)):
            rows.append(u * F + idx), cols.append(v * F + idx), vals.append(sign * w)
    A = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(G * F, G * F)).tocsc()
    dev = spsolve(A, rhs)
    if not np.all(np.isfinite(dev)):
        raise DataSourceError(f"{source}: the residual maps' joint fit is singular (a group without "
                              "training steps and nothing tying it); use data.residual_smooth > 0 or fewer groups")
    return dev.reshape(G, F)
