"""Gray's (1988) K-sample test for cumulative incidence: scores and variance (private helper).

Used by ``postcart.stats.competing.gray_test``. The recursions are those of cmprsk's
``crstm``/``crst`` (R. Gray, GPL), re-derived here in vector form: every recursion over the
distinct times is a cumulative sum or product.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["gray_scores"]


def gray_scores(
    t: FloatArray, m: IntArray, gi: IntArray, ng: int, rho: float
) -> tuple[FloatArray, FloatArray]:
    """Gray's scores (first ng - 1 groups) and their covariance within one stratum.

    ``m``: 0 censored, 1 the cause of interest, 2 another cause; ``gi``: group index 0..ng-1.
    Vectorised over the distinct times: every recursion of ``crst`` is a cumulative sum or
    product (group KM, group CIF, pooled estimate, the matrix ``c``).
    """
    utimes, inv = np.unique(t, return_inverse=True)
    nt = utimes.size
    dcount = np.zeros((nt, 3, ng))
    np.add.at(dcount, (inv, m, gi), 1.0)
    leave = dcount.sum(axis=1)
    rs = np.bincount(gi, minlength=ng).astype(np.float64) - np.concatenate(
        (np.zeros((1, ng)), np.cumsum(leave, axis=0)[:-1]), axis=0
    )
    d1 = dcount[:, 1, :]
    d2 = dcount[:, 2, :]
    ev = (d1.sum(axis=1) + d2.sum(axis=1)) > 0.0  # times with an event of any cause
    rs, d1, d2 = rs[ev], d1[ev], d2[ev]
    nd1 = d1.sum(axis=1)
    ok = rs > 0.0
    rs_safe = np.where(ok, rs, 1.0)
    # group all-cause KM (right and left continuous) and group CIF of the cause (left)
    skm = np.cumprod(np.where(ok, (rs - d1 - d2) / rs_safe, 1.0), axis=0)
    skmm = np.concatenate((np.ones((1, ng)), skm[:-1]), axis=0)
    f1 = np.cumsum(np.where(ok, skmm * d1 / rs_safe, 0.0), axis=0)
    f1m = np.concatenate((np.zeros((1, ng)), f1[:-1]), axis=0)
    t1 = np.where(ok, rs / np.where(ok, skmm, 1.0), 0.0)  # the group's subdistribution risk set
    tr = t1.sum(axis=1)
    tq = np.sum(t1 * (1.0 - f1m), axis=1)
    f = np.cumsum(nd1 / tr)  # pooled CIF of the cause
    fm = np.concatenate(([0.0], f[:-1]))
    fb = (1.0 - fm) ** rho
    a = fb[:, None, None] * (
        t1[:, :, None] * np.eye(ng)[None, :, :] - t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cinc = np.where(nd1 > 0.0, nd1 / (tr * (1.0 - fm)), 0.0)
    cmat = np.cumsum(a * cinc[:, None, None], axis=0)
    ng1 = ng - 1
    s_inc = np.where(
        ok[:, :ng1],
        fb[:, None] * (d1[:, :ng1] - nd1[:, None] * t1[:, :ng1] * (1.0 - f1m[:, :ng1]) / tq[:, None]),
        0.0,
    )
    s = s_inc.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # failures from the cause of interest
        use1 = ok & (nd1[:, None] > 0.0)
        t4 = np.where(skm > 0.0, 1.0 - (1.0 - f[:, None]) / np.where(skm > 0.0, skm, 1.0), 1.0)
        t5 = np.where(nd1[:, None] > 1.0, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0), 1.0)
        t3 = np.where(use1, t5 * skmm * nd1[:, None] / (tr[:, None] * rs_safe), 0.0)
        t4 = np.where(use1, t4, 0.0)
        # failures from other causes
        use2 = (skm > 0.0) & (d2 > 0.0)
        u4 = np.where(use2, (1.0 - f[:, None]) / np.where(skm > 0.0, skm, 1.0), 0.0)
        u5 = np.where(d2 > 1.0, 1.0 - (d2 - 1.0) / (rs - 1.0), 1.0)
        u3 = np.where(use2, u5 * skmm**2 * d2 / rs_safe**2, 0.0)
    v3 = np.sum(t4**2 * t3 + u4**2 * u3, axis=0)
    col1 = a[:, :ng1, :] - t4[:, None, :] * cmat[:, :ng1, :]  # (time, i, k)
    col2 = u4[:, None, :] * cmat[:, :ng1, :]
    v2 = np.einsum("tik,tk->ik", col1, t4 * t3) - np.einsum("tik,tk->ik", col2, u4 * u3)
    v = np.einsum("tik,tjk,tk->ij", col1, col1, t3) + np.einsum("tik,tjk,tk->ij", col2, col2, u3)
    cc = cmat[-1, :ng1, :]
    v = v + (cc * v3) @ cc.T + cc @ v2.T + v2 @ cc.T
    return s, v
