"""The fused DOP853 (qbpaper.rk853) is SciPy's DOP853 step for step, dense output included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import DOP853

from qbpaper.model import build_generator
from qbpaper.params import Params
from qbpaper.rk853 import _combine, dense_weights, integrate_dop853


def _scipy_outputs(fun, y0, t_out, rtol, atol):
    """Reference: SciPy's DOP853 stepped by hand, outputs from its dense output."""
    calls = 0

    def counted(t, y):
        nonlocal calls
        calls += 1
        return fun(t, y)

    solver = DOP853(counted, t_out[0], y0, t_out[-1], rtol=rtol, atol=atol)
    out = [y0.copy()]
    index = 1
    while index < len(t_out):
        solver.step()
        assert solver.status != "failed"
        dense = None  # built only when an output falls inside the step (3 evaluations)
        while index < len(t_out) and t_out[index] <= solver.t:
            t_k = t_out[index]
            if t_k == solver.t:
                out.append(solver.y.copy())
            else:
                dense = dense or solver.dense_output()
                out.append(dense(t_k))
            index += 1
    return np.array(out), calls


def _ours(fun, y0, t_out, rtol, atol):
    seen = {}
    evaluations = integrate_dop853(
        lambda t, y, out: np.copyto(out, fun(t, y)),
        y0,
        t_out,
        lambda k, t, y: seen.setdefault(k, (t, y.copy())),
        rtol=rtol,
        atol=atol,
    )
    assert sorted(seen) == list(range(len(t_out)))
    assert all(seen[k][0] == t_out[k] for k in seen)
    return np.array([seen[k][1] for k in sorted(seen)]), evaluations


def test_same_steps_and_outputs_as_scipy_on_a_complex_linear_system():
    rng = np.random.default_rng(7)
    n = 12
    m = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    m = 1j * (m + m.conj().T) / 2 - 0.05 * np.eye(n)  # oscillating, weakly damped

    def fun(t, y):
        return m @ y + np.sin(3 * t) * y[::-1]

    y0 = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    t_out = np.linspace(0.0, 7.0, 71)
    ref, ref_calls = _scipy_outputs(fun, y0, t_out, 1e-9, 1e-12)
    ours, calls = _ours(fun, y0, t_out, 1e-9, 1e-12)
    assert calls == ref_calls
    assert np.max(np.abs(ours - ref)) < 1e-12 * np.max(np.abs(ref))


@pytest.mark.parametrize("model", ["tc", "dicke"])
def test_same_outputs_as_scipy_on_the_master_equation(model):
    p = Params(model=model, n=3, nmax=4, t_final=6.0, kappa=0.05, gamma_relax=0.02)
    gen = build_generator(p)
    t_out = np.linspace(0.0, p.t_final, p.n_steps + 1)
    ref, ref_calls = _scipy_outputs(gen.rhs, gen.initial_state(), t_out, p.rtol, p.atol)
    ours, calls = _ours(gen.rhs, gen.initial_state(), t_out, p.rtol, p.atol)
    assert calls == ref_calls
    assert np.max(np.abs(ours - ref)) < 1e-11


def test_accuracy_against_an_exact_solution():
    omega = np.array([0.3, 1.0, 2.5])
    y0 = np.ones(3, dtype=complex)
    t_out = np.linspace(0.0, 10.0, 101)
    ours, _ = _ours(lambda t, y: 1j * omega * y, y0, t_out, 1e-10, 1e-13)
    exact = np.exp(1j * np.outer(t_out, omega))
    assert np.max(np.abs(ours - exact)) < 1e-8


def test_dense_weights_reproduce_the_step_ends():
    c, w = dense_weights(0.0)
    assert c == 0.0 and np.all(w == 0.0)
    c, w = dense_weights(1.0)
    assert c == 1.0 and np.allclose(w, 0.0, atol=1e-15)


@pytest.mark.parametrize("nrows", [1, 3, 8, 9, 13, 16])
@pytest.mark.parametrize("beta", [0.0, -0.7])
def test_combine_matches_numpy(nrows, beta):
    rng = np.random.default_rng(nrows)
    k = rng.standard_normal((16, 37))
    a, b = rng.standard_normal(37), rng.standard_normal(37)
    coeffs = rng.standard_normal(16)
    out = np.empty(37)
    _combine(out, a, 1.3, b, beta, k, coeffs, nrows)
    expected = 1.3 * a + beta * b + coeffs[:nrows] @ k[:nrows]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-13)
