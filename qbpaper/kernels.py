"""Fused right-hand-side kernel for one block: ``-i (H P - P H) + G * P`` (numba).

Why hand-written: SciPy gives ``K = H P`` as a sparse-dense product, but ``P H = K^dagger`` (P is
Hermitian) then needs a transposed, strided read, and NumPy's ``K - K.conj().T`` plus the
element-wise decay were the largest cost of an evaluation. Here ``K`` is built row by row (long,
vectorisable inner loops) and the combination pass runs over cache-sized tiles so the
transposed read stays in cache. The kernel assumes P Hermitian (true for density matrices).
Falls back to SciPy/NumPy when numba is unavailable.
"""

from __future__ import annotations

import numpy as np

try:  # numba is a hard dependency, but keep the package importable without a compiler
    from numba import njit
except ImportError:  # pragma: no cover
    njit = None


def _commutator_decay_py(rho, indptr, indices, data, decay, out, j_offsets=None, j_weights=None):
    """Reference implementation (SciPy/NumPy); same contract as the numba kernel."""
    import scipy.sparse as sp

    h = sp.csr_matrix((data, indices, indptr), shape=rho.shape)
    k = h @ rho
    np.subtract(k, k.conj().T, out=out)
    out *= -1j
    out += decay * rho
    for e, w in zip(() if j_offsets is None else j_offsets, () if j_weights is None else j_weights,
                    strict=True):  # fmt: skip
        _add_flat_jump_py(out, rho, w, int(e))


TILE = 32

if njit is not None:

    @njit(cache=True, nogil=True)
    def _commutator_decay_nb(rho, indptr, indices, data, decay, out, j_offsets,
                             j_weights):  # fmt: skip  # pragma: no cover
        dim = rho.shape[0]
        k = np.zeros((dim, dim), dtype=np.complex128)
        for r in range(dim):  # K = H P, row by row
            row = k[r]
            for p in range(indptr[r], indptr[r + 1]):
                coeff = data[p]
                src = rho[indices[p]]
                for c in range(dim):
                    row[c] += coeff * src[c]
        # out = -i (K - K^dagger) + G * P + sum_q w_q[r] w_q[c] P[r + e_q, c + e_q], tiled: the
        # same-block jumps (diagonal shifts of the flat index) are added while the tile of out
        # is in cache, instead of one more pass over memory per jump (see _add_flat_jump_py).
        for r0 in range(0, dim, TILE):
            r1 = min(r0 + TILE, dim)
            for c0 in range(0, dim, TILE):
                c1 = min(c0 + TILE, dim)
                for r in range(r0, r1):
                    for c in range(c0, c1):
                        diff = k[r, c] - np.conj(k[c, r])
                        out[r, c] = -1j * diff + decay[r, c] * rho[r, c]
                for q in range(j_offsets.size):
                    e = j_offsets[q]
                    w = j_weights[q]
                    lo_c = max(c0, -e)
                    hi_c = min(c1, dim - e)
                    for r in range(max(r0, -e), min(r1, dim - e)):
                        wr = w[r]
                        if wr == 0.0:
                            continue
                        src = rho[r + e]
                        dst = out[r]
                        for c in range(lo_c, hi_c):
                            dst[c] += (wr * w[c]) * src[c + e]

    commutator_decay = _commutator_decay_nb
else:  # pragma: no cover
    commutator_decay = _commutator_decay_py


def _add_shift_jump_py(target4, source4, cn_s, cn_t, cn_w, cm_s, cm_t, cm_w):
    """Reference: target[tn, tm, tn', tm'] += w_n w_m w_n' w_m' source[sn, sm, sn', sm']."""
    ln, lm = cn_w.size, cm_w.size
    w = np.outer(cn_w, cm_w)
    target4[cn_t : cn_t + ln, cm_t : cm_t + lm, cn_t : cn_t + ln, cm_t : cm_t + lm] += (
        w[:, :, None, None] * w[None, None, :, :]
    ) * source4[cn_s : cn_s + ln, cm_s : cm_s + lm, cn_s : cn_s + ln, cm_s : cm_s + lm]


if njit is not None:

    @njit(cache=True, nogil=True)
    def _add_shift_jump_nb(
        target4, source4, cn_s, cn_t, cn_w, cm_s, cm_t, cm_w
    ):  # pragma: no cover
        # One fused pass, no temporaries (NumPy's 4-D slice version allocated two per jump).
        ln, lm = cn_w.size, cm_w.size
        for a in range(ln):
            for b in range(lm):
                wab = cn_w[a] * cm_w[b]
                if wab == 0.0:
                    continue
                src = source4[cn_s + a, cm_s + b]
                dst = target4[cn_t + a, cm_t + b]
                for c in range(ln):
                    wabc = wab * cn_w[c]
                    for d in range(lm):
                        dst[cn_t + c, cm_t + d] += wabc * cm_w[d] * src[cn_s + c, cm_s + d]

    add_shift_jump = _add_shift_jump_nb
else:  # pragma: no cover
    add_shift_jump = _add_shift_jump_py


def _add_gather_jump_py(target, source, weights, src):
    """Reference: target[r, c] += w[r] w[c] source[src[r], src[c]] (a jump between blocks
    whose rows do not map by one shift, e.g. the parity blocks of :mod:`qbpaper.parity`)."""
    target += np.outer(weights, weights) * source[np.ix_(src, src)]


if njit is not None:

    @njit(cache=True, nogil=True)
    def _add_gather_jump_nb(target, source, weights, src):  # pragma: no cover - numba
        dim = target.shape[0]
        for r in range(dim):
            wr = weights[r]
            if wr == 0.0:
                continue
            row = source[src[r]]
            dst = target[r]
            for c in range(dim):
                dst[c] += (wr * weights[c]) * row[src[c]]

    add_gather_jump = _add_gather_jump_nb
else:  # pragma: no cover
    add_gather_jump = _add_gather_jump_py

__all__ = ["add_gather_jump", "add_shift_jump", "commutator_decay"]


def _add_flat_jump_py(target, source, weights, offset):
    """A same-block jump as a diagonal shift of the flat index (cavity n -> n-1 is a shift by
    the spin dimension, J- by one): target[r, c] += w[r] w[c] source[r + offset, c + offset]
    (w is zero wherever r + offset falls outside the block). The numba commutator kernel
    fuses these; this is its reference."""
    dim = target.shape[0]
    lo, hi = max(0, -offset), min(dim, dim - offset)
    w = weights[lo:hi]
    target[lo:hi, lo:hi] += (
        np.outer(w, w) * source[lo + offset : hi + offset, lo + offset : hi + offset]
    )
