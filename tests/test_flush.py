"""Integrated states stay free of subnormal numbers (qbpaper.flush): they are exact zeros or
normal floats, so no right-hand side runs through the CPU's slow subnormal path."""

from __future__ import annotations

import numpy as np
import pytest

from qbpaper.flush import flush_tiny
from qbpaper.integrate import integrate_lawson
from qbpaper.rk853 import integrate_dop853

TINY = np.finfo(float).tiny  # smallest normal double, 2.2e-308


def test_flush_zeroes_only_the_tiny_parts():
    y = np.array([1e-151 + 1j, 0.5 - 1e-200j, -3e-320 + 2e-149j, 0.0, -1e-149 - 1e-151j])
    flush_tiny(y)
    expected = np.array([1j, 0.5, 2e-149j, 0.0, -1e-149])
    np.testing.assert_array_equal(y, expected)
    r = np.array([[1e-300, 2.0], [-5e-310, -1e-100]])
    flush_tiny(r)
    np.testing.assert_array_equal(r, [[0.0, 2.0], [0.0, -1e-100]])


def test_flush_refuses_what_it_cannot_change_in_place():
    with pytest.raises(ValueError, match="contiguous"):
        flush_tiny(np.zeros((4, 4), dtype=complex)[:, 1])
    with pytest.raises(TypeError, match="float64 or complex128"):
        flush_tiny(np.zeros(4, dtype=np.float32))


def _decaying_problem(g_max: float = 900.0, t_final: float = 1.2):
    """dy/dt = G y with decay rates up to g_max: the fast entries fall through the subnormal
    range (below 2.2e-308) and, without the flush, sit there for many steps (measured without
    it: DOP853 with g_max = 300 to t = 5 gives 693 of 3659 right-hand sides with subnormal
    entries; Lawson with the defaults here fails the same way)."""
    decay = -np.linspace(1.0, g_max, 64)
    y0 = np.exp(1j * np.linspace(0.0, 3.0, 64))
    t_out = np.linspace(0.0, t_final, 13)
    return decay, y0, t_out


def _has_subnormal(y: np.ndarray) -> bool:
    parts = np.abs(y.view(float))
    return bool(np.any((parts > 0.0) & (parts < TINY)))


def _recorder(seen: list[bool]):
    def record(k: int, t: float, y: np.ndarray) -> None:
        seen.append(_has_subnormal(y))

    return record


@pytest.mark.parametrize("integrator", ["dop853", "lawson"])
def test_integrated_states_have_no_subnormal_entries(integrator):
    decay, y0, t_out = (
        _decaying_problem(300.0, 5.0) if integrator == "dop853" else _decaying_problem()
    )
    seen: list[bool] = []
    if integrator == "dop853":

        def rhs(t, y, out):
            np.multiply(decay, y, out=out)
            seen.append(_has_subnormal(y))

        integrate_dop853(rhs, y0, t_out, _recorder(seen), rtol=1e-9, atol=1e-12)
    else:

        def rhs(t, y, out):  # the decay is the integrating factor; nothing else acts
            out[:] = 0.0
            seen.append(_has_subnormal(y))

        integrate_lawson(rhs, decay, y0, t_out, _recorder(seen), rtol=1e-9, atol=1e-12)
    assert seen and not any(seen)


def test_the_flush_leaves_the_solution_as_accurate_as_before():
    """The integrated decay matches exp(G t) to the tolerance."""
    decay, y0, t_out = _decaying_problem()
    out = {}

    def record(k, t, y):
        out[k] = y.copy()

    integrate_dop853(lambda t, y, o: np.multiply(decay, y, out=o), y0, t_out, record,
                     rtol=1e-10, atol=1e-12)  # fmt: skip
    exact = y0 * np.exp(decay * t_out[-1])
    final = out[len(t_out) - 1]
    np.testing.assert_allclose(final, exact, rtol=0, atol=1e-10)
    big = np.abs(exact) > 1e-3
    np.testing.assert_allclose(final[big], exact[big], rtol=1e-8)
