"""Chebyshev propagation under a constant generator (qbpaper.chebyshev) and its use as the
solver's tail once the drive is off."""

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import jv

from qbpaper import Params, chebyshev, simulate
from qbpaper.model import build_generator, constant_generator, spectral_bounds

SERIES = ("energy", "s_qubits", "s_cavity", "photons", "top_fock", "trace")


def test_bessel_table_matches_scipy():
    x = np.array([0.0, 1e-6, 0.05, 0.5, 3.0, 17.3, 150.0, 900.0])
    table = chebyshev.bessel_j_table(1200, x)
    reference = jv(np.arange(1201)[:, None], x[None, :])
    assert np.max(np.abs(table - reference)) < 1e-13


def _dagger(gen, v):
    return np.concatenate([b.conj().T.ravel() for b in gen.split(v)])


def _dense_superoperator(gen):
    """L as a matrix. The fused kernel takes Hermitian states only, so each unit vector is
    split as A + iB with A, B Hermitian and L applied to each."""
    size = gen.offsets[-1]
    matrix = np.zeros((size, size), dtype=complex)
    for i in range(size):
        unit = np.zeros(size, dtype=complex)
        unit[i] = 1.0
        adj = _dagger(gen, unit)
        matrix[:, i] = gen.rhs(0.0, (unit + adj) / 2) + 1j * gen.rhs(0.0, (unit - adj) / 2j)
    return matrix


def _hermitian_state(gen, rng):
    parts = []
    for bg in gen.blocks:
        x = rng.normal(size=(bg.block.dim,) * 2) + 1j * rng.normal(size=(bg.block.dim,) * 2)
        parts.append((x @ x.conj().T).ravel())
    y = np.concatenate(parts)
    return y / np.linalg.norm(y)


@pytest.mark.parametrize("model", ["tc", "dicke"])
@pytest.mark.parametrize("dissipation", ["collective", "local"])
def test_propagate_matches_the_matrix_exponential(model, dissipation):
    """exp(s L) y at several s, against scipy.linalg.expm of the dense superoperator, for the
    constant generator of each model (Dicke in the lab frame) with every channel on."""
    p = Params(model=model, n=3, nmax=2, g=0.4, kappa=0.1, gamma_relax=0.2, gamma_deph=0.15,
               dissipation=dissipation, detuning=0.05)  # fmt: skip
    const, _ = constant_generator(build_generator(p))
    matrix = _dense_superoperator(const)
    y = _hermitian_state(const, np.random.default_rng(4))
    ellipse = chebyshev.Ellipse.around(*spectral_bounds(const))
    times = np.array([0.1, 0.7, 1.3, 2.0])

    def apply(v, out):
        out[:] = const.rhs(0.0, v)

    end, rows, terms = chebyshev.propagate(apply, y, times, ellipse, lambda v: v[:7].copy(),
                                           tol=1e-13)  # fmt: skip
    exact = [expm(matrix * s) @ y for s in times]
    assert np.max(np.abs(end - exact[-1])) < 1e-11
    assert max(np.max(np.abs(rows[i] - exact[i][:7])) for i in range(len(times))) < 1e-11
    assert terms > 2.0 * ellipse.focal  # the series ran past s F, where the tail starts


def test_propagate_refuses_a_spectrum_outside_the_ellipse():
    """An ellipse far too small for the generator: the terms grow, and it says so."""
    p = Params(model="dicke", n=3, nmax=2, g=0.4)
    const, _ = constant_generator(build_generator(p))
    y = _hermitian_state(const, np.random.default_rng(5))
    tiny = chebyshev.Ellipse(center=0.0, focal=0.05, half_real=0.0)

    def apply(v, out):
        out[:] = const.rhs(0.0, v)

    with pytest.raises(chebyshev.ChebyshevDivergence):
        chebyshev.propagate(apply, y, np.array([1.0, 2.0]), tiny, lambda v: v[:3], tol=1e-12)


def _compare(p: Params, limit: float = 1e-8):
    tail = simulate(p)
    plain = simulate(p.replace(method="dop853"))
    # (+parity: undriven collective Dicke integrates two parity blocks, qbpaper.parity)
    assert tail.method.removesuffix("+parity") == "dop853+chebyshev"
    assert plain.method.removesuffix("+parity") == "dop853"
    for name in SERIES:
        assert np.max(np.abs(getattr(tail, name) - getattr(plain, name))) < limit, name
    return tail, plain


@pytest.mark.parametrize("model", ["tc", "dicke"])
@pytest.mark.parametrize("driven", [True, False])
@pytest.mark.parametrize("dissipation", ["collective", "local"])
def test_solver_tail_equals_runge_kutta(model, driven, dissipation):
    """method="auto" switches to Chebyshev when the drive is off (from t = 0 undriven); its
    series equal DOP853's all the way, with the lab-frame detour of Dicke and total energy."""
    p = Params(model=model, n=4, nmax=4, driven=driven, dissipation=dissipation, g=0.3,
               kappa=0.02, gamma_relax=0.05, gamma_deph=0.03, detuning=0.05, n0=2,
               t_final=30.0, energy="total" if model == "dicke" else "qubit")  # fmt: skip
    tail, plain = _compare(p)
    assert tail.rhs_evaluations < plain.rhs_evaluations


def test_solver_falls_back_to_runge_kutta_when_the_series_diverges(monkeypatch):
    """With an ellipse that misses the spectrum the tail diverges at once; the run goes on
    with DOP853 from there and still gives DOP853's trajectory."""
    tiny = classmethod(lambda cls, *bounds: cls(center=0.0, focal=0.05, half_real=0.0))
    monkeypatch.setattr(chebyshev.Ellipse, "around", tiny)
    p = Params(model="dicke", n=3, nmax=3, driven=False, g=0.3, t_final=5.0)
    _compare(p, limit=1e-12)
