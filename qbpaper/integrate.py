"""Integrating-factor (Lawson) Runge-Kutta for ``dy/dt = G * y + F(t, y)`` with G element-wise.

Why hand-written: SciPy's and QuTiP's integrators treat the whole generator explicitly or fully
implicitly. Here the stiff part (collective dephasing ``-2 gamma_deph (m - m')^2`` reaches -400 at
N = 20, -2500 at N = 50) is diagonal element-wise, so it can be integrated *exactly* by the
integrating factor ``exp(G s)``; the remaining part F is mild and an explicit method takes steps
set by accuracy alone, whatever gamma_deph.

Scheme: the Dormand-Prince 5(4) tableau applied to ``v(s) = exp(-G s) y(t_n + s)`` (Lawson
1967). Its nodes c are monotone (0, 1/5, 3/10, 4/5, 8/9, 1, 1), which keeps every factor
``exp(G (c_i - c_l) h)`` that reaches the solution <= 1 (DOP853's nodes are not monotone, which
makes Lawson-DOP853 unstable when stiff). ``|G| h`` is kept below ``MAX_EXPONENT`` so the
intermediate ``exp(-G c h)`` cannot overflow.

Step-size control: within one output interval the step is ``dt / k`` for a fixed integer k, so
the grid is hit exactly (no interpolation); a rejected step multiplies k by an integer (the
steps already taken stay on the finer sub-grid). At each output time k is re-chosen from the
interval's error norms with the usual controller ``h_new = h * 0.9 * err^(-1/5)``, any integer
k: with k restricted to doublings and halvings (the first version) a run could stay at up to
half the step its accuracy allowed; measured, driven, gamma_deph = 0.5, N = 20: TC 5479 -> 4909
evaluations, Dicke 16357 -> 13255. k only changes when the proposal differs by more than
:data:`K_HYSTERESIS`, since each new k costs one set of exponentials (cached, :data:`CACHED_K`).

Not done, measured: Verner's 7(6) pair (monotone nodes too) halves the evaluations of mild
runs, but not of the stiff runs this integrator serves, where its 10 stages cost more than
these 6 (N = 20, driven, gamma_deph = 0.5: Dicke 13255 -> 12239 evaluations but 24 -> 29 s,
TC 4909 -> 5890). Steps longer than the output spacing (a dense output in the v-frame) would
gain little: the same TC run with outputs every 0.5 or 1.0 instead of 0.1 takes 4411 or 4705
evaluations, so the accuracy, not the spacing, bounds the step over most of the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit

from qbpaper.flush import flush_tiny

# Dormand-Prince 5(4) tableau (Dormand & Prince 1980), as in Hairer-Norsett-Wanner.
C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
]
B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0])
B_LOW = np.array([5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])
ERROR = B - B_LOW
MAX_EXPONENT = 600.0  # exp(600) ~ 1e260 < float max
N_STAGES = 7
#: Step-size controller: safety factor, exponent (error ~ h^5 for the 4th-order estimate) and
#: the largest growth or shrink of the step per output interval.
SAFETY, ERROR_EXPONENT, MAX_GROWTH, MAX_SHRINK = 0.9, 1.0 / 5.0, 4.0, 0.2
#: Relative change of the substep count k below which the current k is kept.
K_HYSTERESIS = 0.15
#: Step sizes whose exponentials are kept (each holds 12 state-sized real arrays).
CACHED_K = 4


# Why fused kernels: the stage sums, frame factors and error norm are memory-bound passes over
# the state (5 MB at N = 50); written with NumPy they cost several temporaries per stage and
# were 60 % of a stiff N = 50 run (24 of 40 s, cProfile). Each kernel below is one pass over
# float64 views of the complex arrays (re, im interleaved; ``factor`` has one entry per complex
# element).


@njit(cache=True, nogil=True)
def _stage_input(out, factor, y, k, coeffs, nrows):  # pragma: no cover - numba
    """out = factor * (y + sum_{j < nrows} coeffs[j] k[j]) with nrows <= 6 (one pass)."""
    c = np.zeros(6)
    for j in range(nrows):
        c[j] = coeffs[j]
    last = max(nrows, 1) - 1
    r0, r1, r2 = k[min(0, last)], k[min(1, last)], k[min(2, last)]
    r3, r4, r5 = k[min(3, last)], k[min(4, last)], k[min(5, last)]
    c0, c1, c2, c3, c4, c5 = c[0], c[1], c[2], c[3], c[4], c[5]
    for p in range(factor.size):
        f = factor[p]
        for i in range(2 * p, 2 * p + 2):
            acc = y[i] + c0 * r0[i] + c1 * r1[i] + c2 * r2[i] + c3 * r3[i] + c4 * r4[i]
            out[i] = f * (acc + c5 * r5[i])


@njit(cache=True, nogil=True)
def _scale(row, factor):  # pragma: no cover - numba
    """row *= factor, in place (into the v-frame)."""
    for p in range(factor.size):
        f = factor[p]
        row[2 * p] *= f
        row[2 * p + 1] *= f


@njit(cache=True, nogil=True)
def _error_sum(k, coeffs, factor, y, y_new, rtol, atol):  # pragma: no cover - numba
    """sum |err / scale|^2 with err = factor * sum_{j<6} coeffs[j] k[j] + coeffs[6] k[6].

    Rows 0-5 of k are in the v-frame, row 6 is F(t + h, y_new) in the state frame (its factor
    exp(-G h) cancels against the outer exp(G h)); scale = atol + rtol max(|y|, |y_new|).
    """
    r0, r1, r2, r3, r4, r5, r6 = k[0], k[1], k[2], k[3], k[4], k[5], k[6]
    c0, c1, c2, c3, c4, c5, c6 = (
        coeffs[0],
        coeffs[1],
        coeffs[2],
        coeffs[3],
        coeffs[4],
        coeffs[5],
        coeffs[6],
    )
    total = 0.0
    for p in range(factor.size):
        f = factor[p]
        i = 2 * p
        er = f * (c0 * r0[i] + c1 * r1[i] + c2 * r2[i] + c3 * r3[i] + c4 * r4[i] + c5 * r5[i])
        er += c6 * r6[i]
        i += 1
        ei = f * (c0 * r0[i] + c1 * r1[i] + c2 * r2[i] + c3 * r3[i] + c4 * r4[i] + c5 * r5[i])
        ei += c6 * r6[i]
        old = y[i - 1] * y[i - 1] + y[i] * y[i]
        new = y_new[i - 1] * y_new[i - 1] + y_new[i] * y_new[i]
        scale = atol + rtol * np.sqrt(max(old, new))
        total += (er * er + ei * ei) / (scale * scale)
    return total


class _Factors:
    """exp(G c h) and exp(-G c h) for the distinct nodes c, for one step size h."""

    def __init__(self, decay: np.ndarray, h: float) -> None:
        self.forward = {}
        self.backward = {}
        for c in sorted(set(C[1:])):
            self.forward[c] = np.exp(decay * (c * h))
            self.backward[c] = 1.0 / self.forward[c]


def integrate_lawson(
    fun: Callable[[float, np.ndarray, np.ndarray], None],
    decay: np.ndarray,
    y0: np.ndarray,
    t_out: np.ndarray,
    record: Callable[[int, float, np.ndarray], None],
    *,
    rtol: float,
    atol: float,
    max_substeps: int = 1 << 16,
    norm_size: int | None = None,
) -> int:
    """Integrate from t_out[0] through every t_out[k], calling ``record(k, t, y)`` there.

    ``fun(t, y, out)`` writes the non-diagonal part F into ``out``; ``decay`` is the
    element-wise G (real, <= 0), one entry per entry of the complex state ``y0``; ``record``
    may read y during the call only. Returns the number of F evaluations. The output grid must
    be uniform. ``norm_size`` (default ``y0.size``): the count the RMS error norm averages over
    (see :func:`qbpaper.rk853.integrate_dop853`).
    """
    dt = float(t_out[1] - t_out[0])
    decay = np.ascontiguousarray(decay, dtype=float).ravel()
    g_max = float(np.max(np.abs(decay))) if decay.size else 0.0
    substeps = max(1, int(np.ceil(g_max * dt / MAX_EXPONENT)))
    cache: dict[int, _Factors] = {}
    evaluations = 0
    y = np.array(y0, dtype=complex)
    size = y.size if norm_size is None else norm_size
    y_new = np.empty_like(y)
    stage = np.empty_like(y)
    k = np.empty((N_STAGES, y.size), dtype=complex)  # rows 0-5: v-frame stages; 6: F(t+h)
    y_re, y_new_re, stage_re, k_re = (
        y.view(float),
        y_new.view(float),
        stage.view(float),
        k.view(float),
    )
    coeffs = np.empty(N_STAGES)
    t = float(t_out[0])
    record(0, t, y)
    have_first = False  # FSAL: k[0] holds F at the start of the step
    min_substeps = substeps  # |G| h <= MAX_EXPONENT
    for index in range(1, len(t_out)):
        target = float(t_out[index])
        smallest_factor = MAX_GROWTH  # the controller's proposals over this interval
        while t < target - 1e-12 * dt:
            h = dt / substeps
            if substeps not in cache:
                if len(cache) >= CACHED_K:
                    del cache[next(iter(cache))]  # the oldest entry
                cache[substeps] = _Factors(decay, h)
            factors = cache[substeps]
            if not have_first:
                fun(t, y, k[0])
                evaluations += 1
                have_first = True
            for i in range(1, N_STAGES):
                c = C[i]
                coeffs[:i] = np.multiply(A[i], h)
                if i < N_STAGES - 1:
                    _stage_input(stage_re, factors.forward[c], y_re, k_re, coeffs, i)
                    fun(t + c * h, stage, k[i])
                    _scale(k_re[i], factors.backward[c])
                else:  # c = 1 and A[6] = B: the stage input is the 5th-order solution (FSAL)
                    _stage_input(y_new_re, factors.forward[c], y_re, k_re, coeffs, i)
                    flush_tiny(y_new_re)  # no subnormal entries in the next step
                    fun(t + h, y_new, k[N_STAGES - 1])
                evaluations += 1
            np.multiply(ERROR, h, out=coeffs)
            total = _error_sum(k_re, coeffs, factors.forward[1.0], y_re, y_new_re, rtol, atol)
            norm = float(np.sqrt(total / size))
            factor = _step_factor(norm)
            if not factor > 0.0 or norm > 1.0:
                if substeps >= max_substeps:
                    raise RuntimeError(f"step size underflow at t = {t:.6g}")
                # An integer multiple keeps the steps already taken on the finer sub-grid.
                substeps *= max(2, math.ceil(1.0 / factor)) if factor > 0.0 else 2
                continue
            smallest_factor = min(smallest_factor, factor)
            t += h
            y, y_new = y_new, y
            y_re, y_new_re = y_new_re, y_re
            k[0] = k[N_STAGES - 1]
        t = target
        record(index, t, y)
        proposal = max(min_substeps, math.ceil(substeps / smallest_factor - 1e-9))
        if abs(proposal - substeps) > K_HYSTERESIS * substeps:
            substeps = min(proposal, max_substeps)
    return evaluations


def _step_factor(norm: float) -> float:
    """The controller's step-size factor for an error norm (0 if the norm is not finite)."""
    if not math.isfinite(norm):
        return 0.0
    if norm <= 0.0:
        return MAX_GROWTH
    return min(MAX_GROWTH, max(MAX_SHRINK, SAFETY * norm ** (-ERROR_EXPONENT)))
