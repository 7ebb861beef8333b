"""Chebyshev propagation under a constant generator: ``exp(s L) y`` at many times s at once.

Why hand-written: after the Gaussian pulse (t > t0 + 8 sigma, 58 % of the paper's window) and
for the whole undriven run, the generator L is constant, and an explicit Runge-Kutta method
still pays 12 evaluations and ~80 state-sized passes per step for it. SciPy's
``expm_multiply`` needs a sparse matrix of L (4e6 entries at N = 50, far slower to apply than
the fused kernel) and 1-norm estimates of its powers; Krylov (Arnoldi) methods orthogonalise
every new vector against all earlier ones (m passes over the 5 MB state for the m-th vector).
The Chebyshev three-term recurrence needs one application of L and one fused pass per term,
and its coefficients are Bessel functions of s, so every output time inside a step costs only
a sum of small reduced states (the observables are linear in the state up to their final
eigenvalue step; see :class:`qbpaper.solve.ReducedStates`).

Method (Jacobi-Anger expansion): write ``L = c + i F X`` with the spectrum of X inside an
ellipse with foci -1, 1; then ``exp(s L) = exp(s c) [J_0(s F) + 2 sum_k i^k J_k(s F) T_k(X)]``
with ``T_{k+1}(X) = 2 X T_k(X) - T_{k-1}(X)``. The terms are carried as ``V_k = i^k T_k(X) y``,
which obey ``V_{k+1} = (2/F)(L - c) V_k + V_{k-1}`` (``V_1 = (L - c) y / F``) with real
weights ``2 J_k(s F)``: each V_k is Hermitian when y is, as the fused right-hand side of
:mod:`qbpaper.kernels` requires (``T_k`` itself alternates Hermitian / anti-Hermitian).
The ellipse comes from :class:`Ellipse`: the generator's imaginary extent (the Hamiltonian's
eigenvalue spread, computed exactly) and its real extent (the largest element-wise decay plus a
bound on the jump terms). Terms are added until k exceeds ``s F`` and the last :data:`TAIL`
terms, measured (``|a_k| ||V_k||``), are all below the tolerance: the truncation error is
checked on the actual vectors, not assumed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.special import jv

#: Consecutive negligible terms required before the series is cut.
TAIL = 4
#: Largest ``log`` of the growth of intermediate terms over the result that a step may allow:
#: components with decay far from the ellipse's centre make T_k grow like e^{s (R/2 + delta)}
#: while the sum stays bounded, which costs about that many digits (e^6 ~ 400: 2.6 digits of
#: the 16, leaving ~1e-13 against the 1e-12 tolerance).
MAX_GROWTH = 6.0
#: Longest step (time units): bounds the terms per step and the output accumulators.
MAX_STEP = 5.0


class ChebyshevDivergence(RuntimeError):
    """The series did not converge: the generator's spectrum is outside the ellipse."""


@dataclass(frozen=True)
class Ellipse:
    """An ellipse around the spectrum of L: centre ``center`` (real), foci ``center +- i
    focal``; ``half_real`` is its real semi-axis (the spread of decay rates it must cover)."""

    center: float
    focal: float
    half_real: float

    @classmethod
    def around(cls, spread: float, decay_min: float, decay_max: float) -> Ellipse:
        """The ellipse through the corners of the rectangle ``Re in [decay_min, decay_max]``,
        ``|Im| <= spread``, with the rectangle's aspect ratio (semi-axes sqrt(2) times its
        half-widths; foci on the imaginary axis, so it needs ``spread`` above the real
        half-width, which holds for the mild problems this is used for)."""
        half_real = 0.5 * (decay_max - decay_min)
        if spread <= half_real:
            raise ValueError("the spectrum is wider along the real axis: use another integrator")
        a, b = math.sqrt(2.0) * half_real, math.sqrt(2.0) * spread
        return cls(0.5 * (decay_max + decay_min), math.sqrt(b * b - a * a), a)

    def longest_step(self) -> float:
        """Longest step s whose intermediate terms grow at most e^MAX_GROWTH over the result."""
        if self.half_real <= 0.0:
            return MAX_STEP
        return min(MAX_STEP, MAX_GROWTH / self.half_real)


@njit(cache=True, nogil=True)
def _next_term(nxt, cur, prev, acc, q, center, coeff, first):  # pragma: no cover - numba
    """In one pass: ``nxt <- q (nxt - center cur) + prev`` (``nxt`` holds L cur on entry; no
    ``prev`` for the first term), ``acc += coeff nxt``; returns ``||nxt||^2``."""
    total = 0.0
    for i in range(nxt.size):
        value = q * (nxt[i] - center * cur[i])
        if not first:
            value += prev[i]
        nxt[i] = value
        acc[i] += coeff * value
        total += value.real * value.real + value.imag * value.imag
    return total


@njit(cache=True, nogil=True)
def bessel_j_table(kmax, x):  # pragma: no cover - numba
    """J_k(x[i]) for k = 0..kmax (rows), x >= 0, by Miller's backward recurrence.

    Why hand-written: SciPy's ``jv`` costs ~5 us per value at the orders needed here (a
    Chebyshev step at N = 10 spent a third of its time there); the recurrence
    ``J_{k-1} = (2k/x) J_k - J_{k+1}``, run downwards from far above both kmax and x and
    normalised with ``J_0 + 2 sum J_{2k} = 1``, gives the whole table in O(kmax) per x, stably.
    """
    out = np.zeros((kmax + 1, x.size))
    for i in range(x.size):
        xv = x[i]
        if xv == 0.0:
            out[0, i] = 1.0
            continue
        start = int(max(kmax, xv) + 15.0 * max(xv, 1.0) ** (1.0 / 3.0) + 40.0)
        start += start % 2
        above = 0.0
        here = 1e-300
        norm = 0.0
        for k in range(start, 0, -1):
            below = (2.0 * k / xv) * here - above
            if k <= kmax:
                out[k, i] = here
            if k % 2 == 0:
                norm += 2.0 * here
            above, here = here, below
            if abs(here) > 1e250:  # rescale everything kept so far
                above *= 1e-250
                here *= 1e-250
                norm *= 1e-250
                for j in range(k, kmax + 1):
                    out[j, i] *= 1e-250
        out[0, i] = here
        norm += here
        for k in range(kmax + 1):
            out[k, i] /= norm
    return out


class _Weights:
    """Weights of V_k in exp(s L) y, exp(s c) (2 - [k = 0]) J_k(s F), from one Bessel table per
    step (SciPy's ``jv`` for orders beyond it, rarely needed)."""

    def __init__(self, s: np.ndarray, ellipse: Ellipse) -> None:
        self.x = s * ellipse.focal
        self.damping = np.exp(s * ellipse.center)
        top = float(self.x[-1])
        self.kmax = int(top + 12.0 * max(top, 1.0) ** (1.0 / 3.0) + 60.0)
        self.table = bessel_j_table(self.kmax, self.x)

    def __call__(self, k: int) -> np.ndarray:
        bessel = self.table[k] if k <= self.kmax else jv(k, self.x)
        return bessel * self.damping * (1.0 if k == 0 else 2.0)


def propagate(
    apply: Callable[[np.ndarray, np.ndarray], None],
    y: np.ndarray,
    times: np.ndarray,
    ellipse: Ellipse,
    reduce: Callable[[np.ndarray], np.ndarray],
    *,
    tol: float,
    max_terms: int = 100_000,
) -> tuple[np.ndarray, np.ndarray, int]:
    """``exp(s L) y`` for the ascending times ``s`` of ``times`` (all > 0).

    ``apply(v, out)`` writes L v into ``out``; ``reduce(v)`` is a linear map to a small vector
    (the observables' input). Returns the state at ``times[-1]``, ``reduce`` of the state at
    every time (one row each) and the number of applications of L. Raises
    :class:`ChebyshevDivergence` if the terms grow instead of converging (spectrum outside
    ``ellipse``) or ``max_terms`` is reached.
    """
    s = np.asarray(times, dtype=float)
    focal_time = float(s[-1]) * ellipse.focal
    scale = float(np.linalg.norm(y)) or 1.0
    weights = _Weights(s, ellipse)
    prev = np.empty_like(y)
    cur = np.array(y, dtype=complex)
    nxt = np.empty_like(cur)
    first = reduce(cur)
    # The reduced terms, one row each, summed with their weights in one product at the end.
    terms = np.empty((weights.kmax + 1, first.size), dtype=complex)
    terms[0] = first
    coeffs = [weights(0)]
    end = coeffs[0][-1] * cur
    small = 0
    k = 0
    while True:
        apply(cur, nxt)
        k += 1
        coeff = weights(k)
        coeffs.append(coeff)
        q = (1.0 if k == 1 else 2.0) / ellipse.focal
        norm = math.sqrt(_next_term(nxt, cur, prev, end, q, ellipse.center, coeff[-1], k == 1))
        if k >= terms.shape[0]:
            terms = np.concatenate([terms, np.empty_like(terms)])
        terms[k] = reduce(nxt)
        if not np.isfinite(norm) or norm > 1e30 * scale:
            raise ChebyshevDivergence(f"Chebyshev terms grow (||V_{k}|| = {norm:.3g})")
        small = small + 1 if float(np.max(np.abs(coeff))) * norm <= tol * scale else 0
        if k > focal_time and small >= TAIL:
            return end, np.array(coeffs).T @ terms[: k + 1], k
        if k >= max_terms:
            raise ChebyshevDivergence(f"no convergence after {k} terms")
        prev, cur, nxt = cur, nxt, prev
