"""Integrating-factor (Lawson) Runge-Kutta for ``dy/dt = G * y + F(t, y)`` with G element-wise.

Why hand-written: SciPy's and QuTiP's integrators treat the whole generator explicitly or fully
implicitly. Here the stiff part (collective dephasing ``-2 gamma_deph (m - m')^2`` reaches -400 at
N = 20, -2500 at N = 50) is diagonal element-wise, so it can be integrated *exactly* by the
integrating factor ``exp(G s)``; the remaining part F is mild and an explicit method takes steps
set by accuracy alone, whatever gamma_deph.

Scheme: the Dormand-Prince 5(4) tableau applied to ``v(s) = exp(-G s) y(t_n + s)`` (Lawson
1967). Its nodes c are monotone (0, 1/5, 3/10, 4/5, 8/9, 1, 1), which keeps every factor
``exp(G (c_i - c_l) h)`` that reaches the solution <= 1 (DOP853's nodes are not monotone, which
makes Lawson-DOP853 unstable when stiff). Exponentials are cached per step size: steps are
``dt / k`` with an integer k (output grid hit exactly, no interpolation), k doubled on a rejected
step and halved after a run of easy steps. ``|G| h`` is kept below ``MAX_EXPONENT`` so the
intermediate ``exp(-G c h)`` cannot overflow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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


class _Factors:
    """exp(G c h) and exp(-G c h) for the distinct nodes c, for one step size h."""

    def __init__(self, decay: np.ndarray, h: float) -> None:
        self.forward = {}
        self.backward = {}
        for c in sorted(set(C[1:])):
            self.forward[c] = np.exp(decay * (c * h))
            self.backward[c] = 1.0 / self.forward[c]


def integrate_lawson(
    fun: Callable[[float, np.ndarray], np.ndarray],
    decay: np.ndarray,
    y0: np.ndarray,
    t_out: np.ndarray,
    record: Callable[[int, float, np.ndarray], None],
    *,
    rtol: float,
    atol: float,
    max_substeps: int = 1 << 16,
) -> int:
    """Integrate from t_out[0] through every t_out[k], calling ``record(k, t, y)`` there.

    ``fun(t, y)`` is the non-diagonal part F; ``decay`` the element-wise G (real, <= 0).
    Returns the number of F evaluations. The output grid must be uniform.
    """
    dt = float(t_out[1] - t_out[0])
    g_max = float(np.max(np.abs(decay))) if decay.size else 0.0
    substeps = max(1, int(np.ceil(g_max * dt / MAX_EXPONENT)))
    cache: dict[int, _Factors] = {}
    evaluations = 0
    y = y0.copy()
    t = float(t_out[0])
    record(0, t, y)
    easy_steps = 0
    f_first = None  # FSAL: F at the start of the next step
    for index in range(1, len(t_out)):
        target = float(t_out[index])
        while t < target - 1e-12 * dt:
            h = dt / substeps
            if substeps not in cache:
                if len(cache) > 6:
                    cache.clear()
                cache[substeps] = _Factors(decay, h)
            factors = cache[substeps]
            if f_first is None:
                f_first = fun(t, y)
                evaluations += 1
            stages = [f_first]  # F_l, each in the v-frame after multiplying by exp(-G c_l h)
            v_stages = [f_first]
            for i in range(1, 7):
                c = C[i]
                acc = y.copy()
                for a, kv in zip(A[i], v_stages, strict=False):
                    if a != 0.0:
                        acc += (h * a) * kv
                y_stage = factors.forward[c] * acc
                f = fun(t + c * h, y_stage)
                evaluations += 1
                stages.append(f)
                v_stages.append(factors.backward[c] * f)
            # The 7th stage is evaluated at the 5th-order solution (FSAL).
            y_new = y_stage
            err_v = sum((h * e) * kv for e, kv in zip(ERROR, v_stages, strict=True) if e != 0.0)
            err = factors.forward[1.0] * err_v
            scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
            norm = float(np.sqrt(np.mean(np.abs(err / scale) ** 2)))
            if not np.isfinite(norm) or norm > 1.0:
                if substeps >= max_substeps:
                    raise RuntimeError(f"step size underflow at t = {t:.6g}")
                substeps *= 2
                easy_steps = 0
                continue
            t += h
            y = y_new
            f_first = stages[6]
            easy_steps = easy_steps + 1 if norm < 0.02 else 0
            # Halve k only on an output boundary so later steps still land on the grid.
            on_grid = abs(round((t - t_out[0]) / dt) * dt - (t - t_out[0])) < 1e-9 * dt
            if easy_steps >= 4 and substeps > 1 and substeps % 2 == 0 and on_grid:
                if g_max * (2 * h) < MAX_EXPONENT:
                    substeps //= 2
                    easy_steps = 0
        t = target
        record(index, t, y)
    return evaluations
