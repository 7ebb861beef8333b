"""The parity split of undriven collective Dicke (qbpaper.parity).

The split stores only the even-even and odd-odd blocks of the density matrix. It is exact, so
a split run must reproduce the unsplit one (``parity.MODELS`` emptied) to round-off, with the
same steps, on every integrator path; and both must agree with the brute-force reference.
"""

import warnings

import numpy as np
import pytest
from reference_bruteforce import bruteforce_trajectory

from qbpaper import Params, chebyshev, parity, simulate
from qbpaper.kernels import _add_gather_jump_py, add_gather_jump
from qbpaper.model import build_generator

SERIES = ("energy", "s_qubits", "s_cavity", "photons", "top_fock", "trace")


def _undriven(**kw) -> Params:
    base = dict(model="dicke", driven=False, g=0.5, kappa=0.05, gamma_relax=0.1, gamma_deph=0.02,
                detuning=0.1, nmax=4, t_final=10.0, rtol=1e-10, atol=1e-12)  # fmt: skip
    base.update(kw)
    return Params(**base)


def _unsplit(monkeypatch, p: Params):
    with monkeypatch.context() as m:
        m.setattr(parity, "MODELS", ())
        return simulate(p)


def _parity_mask(split: parity.ParitySplit, dim: int) -> np.ndarray:
    side = np.empty(dim, dtype=int)
    for s, rows in enumerate(split.index):
        side[rows] = s
    return side[:, None] != side[None, :]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("nmax", [1, 2, 4])
def test_split_rhs_equals_the_full_one(n, nmax):
    """On a random Hermitian state without parity-mixed elements, the packed right-hand side
    is the full one, and the full one creates no parity-mixed elements."""
    p = _undriven(n=n, nmax=nmax, gamma_deph=0.3)
    gen = build_generator(p)
    split = parity.ParitySplit(gen)
    dim = gen.blocks[0].block.dim
    assert sum(rows.size for rows in split.index) == dim
    mixed = _parity_mask(split, dim)
    rng = np.random.default_rng(n * 10 + nmax)
    rho = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = rho + rho.conj().T
    rho[mixed] = 0.0
    y = rho.ravel()
    np.testing.assert_array_equal(split.unpack(split.pack(y)), y)
    for t in (0.0, 0.37):
        for include_decay in (True, False):
            full = gen.rhs(t, y, include_decay=include_decay)
            assert np.max(np.abs(full.reshape(dim, dim)[mixed]), initial=0.0) < 1e-13
            packed = split.rhs(t, split.pack(y), include_decay=include_decay)
            np.testing.assert_allclose(split.unpack(packed), full, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "changes",
    [
        dict(n=5),  # Chebyshev from t = 0
        dict(n=6, energy="total", n0=1),
        dict(n=7, gamma_deph=0.8, method="lawson"),
        dict(n=8, gamma_deph=0.5, method="dop853"),
        dict(n=3, kappa=0.0, gamma_relax=0.0, gamma_deph=0.0),
    ],
)
def test_split_run_reproduces_the_unsplit_one(monkeypatch, changes):
    p = _undriven(**changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split, full = simulate(p), _unsplit(monkeypatch, p)
    assert split.method.endswith("+parity") and "parity" not in full.method
    assert split.rhs_evaluations == full.rhs_evaluations  # same steps: same error norms
    for name in SERIES:
        np.testing.assert_allclose(getattr(split, name), getattr(full, name), rtol=0,
                                   atol=1e-12, err_msg=name)  # fmt: skip
    assert np.ptp(split.energy) > 1e-3  # not vacuous


@pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")  # small nmax is deliberate here
def test_split_run_survives_the_chebyshev_fallback(monkeypatch):
    def diverge(*args, **kwargs):
        raise chebyshev.ChebyshevDivergence("forced")

    p = _undriven(n=4)
    reference = _unsplit(monkeypatch, p)
    monkeypatch.setattr(chebyshev, "propagate", diverge)
    fallen = simulate(p)
    assert fallen.method.endswith("+parity")
    for name in SERIES:
        assert np.max(np.abs(getattr(fallen, name) - getattr(reference, name))) < 1e-8, name


@pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")
@pytest.mark.parametrize("n", [2, 3])
def test_split_run_agrees_with_brute_force(n):
    p = _undriven(n=n, nmax=3, g=0.8, gamma_deph=0.3, t_final=6.0, rtol=1e-11, atol=1e-13)
    ours = simulate(p)
    assert ours.method.endswith("+parity")
    ref = bruteforce_trajectory(p, rtol=1e-11, atol=1e-13)
    assert np.ptp(ref["energy"]) > 1e-3
    for name in SERIES:
        assert np.max(np.abs(getattr(ours, name) - ref[name])) < 1e-8, name


@pytest.mark.parametrize(
    "changes",
    [dict(driven=True), dict(dissipation="local"), dict(model="tc")],
)
def test_no_split_where_the_parities_mix_or_there_is_no_gain(changes):
    """The drive mixes the parities; local channels use many blocks; TC is not split (its
    exact excitation bound already makes it cheap)."""
    gen = build_generator(_undriven(n=4, **changes))
    assert not parity.applies(gen)
    with pytest.raises(ValueError):
        parity.ParitySplit(gen)


def test_gather_kernel_matches_the_numpy_reference():
    rng = np.random.default_rng(7)
    source = rng.normal(size=(9, 9)) + 1j * rng.normal(size=(9, 9))
    weights = np.where(rng.random(7) < 0.3, 0.0, rng.normal(size=7))
    src = rng.integers(0, 9, size=7)
    a = rng.normal(size=(7, 7)) + 0j
    b = a.copy()
    add_gather_jump(a, source, weights, src)
    _add_gather_jump_py(b, source, weights, src)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)
