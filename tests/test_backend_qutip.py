"""The QuTiP reference backend against the engine and the brute-force 2^N reference.

Small sizes (N = 1..4, nmax 4..6, t_final = 10) in both representations, a mild case (rates
1e-3..0.05) and a stiff-ish one (gamma_deph = 0.5). QuTiP runs at TIGHT_OPTIONS; the engine at
its defaults (DOP853, rtol 1e-9, atol 1e-12). Tolerances: 1e-6 collective, 1e-5 local (PIQS
computes its coefficients in single precision; the measured agreement is ~1e-7).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from reference_bruteforce import bruteforce_trajectory

from qbpaper import Params, simulate
from qbpaper.backend_qutip import TIGHT_OPTIONS, check_supported, simulate_qutip
from qbpaper.solve import Trajectory

SERIES = ("energy", "s_qubits", "s_cavity", "photons", "top_fock", "trace")
MILD = {"kappa": 0.02, "gamma_relax": 1e-3, "gamma_deph": 0.05}
STIFF = {"kappa": 1e-3, "gamma_relax": 0.01, "gamma_deph": 0.5}
TOLERANCE = {"collective": 1e-6, "local": 1e-5}

# Small cutoffs trip the engine's "cutoff too small" warning; irrelevant for agreement.
pytestmark = pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")

CASES = {
    "collective-tc-mild": dict(dissipation="collective", model="tc", n=4, nmax=6, **MILD),
    "collective-dicke-stiff": dict(
        dissipation="collective", model="dicke", n=3, nmax=5, energy="total", **STIFF
    ),
    "local-tc-stiff": dict(dissipation="local", model="tc", n=4, nmax=5, **STIFF),
    "local-dicke-mild": dict(
        dissipation="local", model="dicke", n=3, nmax=5, energy="total", **MILD
    ),
    "local-tc-undriven": dict(dissipation="local", model="tc", n=2, nmax=4, driven=False, **MILD),
    "collective-tc-carrier": dict(
        dissipation="collective", model="tc", n=2, nmax=4, drive_carrier=True, **STIFF
    ),
}


def _params(name: str) -> Params:
    return Params(t_final=10.0, dt=0.1, **CASES[name])


@functools.cache
def _pair(name: str) -> tuple[Trajectory, Trajectory]:
    """(engine, QuTiP at tight tolerances) for one case, computed once per session."""
    p = _params(name)
    return simulate(p), simulate_qutip(p, options=TIGHT_OPTIONS)


def _max_series_deviation(a: Trajectory, b: Trajectory | dict) -> float:
    def get(x, key):
        return x[key] if isinstance(x, dict) else getattr(x, key)

    return max(float(np.max(np.abs(get(a, k) - get(b, k)))) for k in SERIES)


@pytest.mark.parametrize("name", list(CASES))
def test_engine_agrees_with_qutip_series(name: str) -> None:
    engine, ref = _pair(name)
    np.testing.assert_allclose(engine.t, ref.t, atol=1e-12)
    assert _max_series_deviation(engine, ref) < TOLERANCE[CASES[name]["dissipation"]]


@pytest.mark.parametrize("name", list(CASES))
def test_engine_agrees_with_qutip_observables(name: str) -> None:
    engine, ref = _pair(name)
    e, q = engine.observables().as_dict(), ref.observables().as_dict()
    tol = TOLERANCE[CASES[name]["dissipation"]]
    for key in e:
        assert e[key] == pytest.approx(q[key], abs=tol, rel=tol), key
    assert e["S_q_max"] > 1e-3  # the cases do entangle: the entropy comparison is not vacuous


def test_piqs_dephasing_conversion_against_bruteforce() -> None:
    """PIQS's dephasing rate is 4 x gamma_deph (its operator is sigma^z / 2); emission 1:1."""
    p = Params(
        dissipation="local", n=3, nmax=4, t_final=10.0, kappa=0.02, gamma_relax=0.03,
        gamma_deph=0.2,
    )  # fmt: skip
    ref = bruteforce_trajectory(p)
    assert _max_series_deviation(simulate_qutip(p, options=TIGHT_OPTIONS), ref) < 1e-6


def test_single_qubit_representations_coincide() -> None:
    """For N = 1 local and collective are the same master equation (CONVENTIONS.md)."""
    p = Params(n=1, nmax=4, t_final=10.0, **STIFF)
    local = simulate_qutip(p.replace(dissipation="local"), options=TIGHT_OPTIONS)
    collective = simulate_qutip(p, options=TIGHT_OPTIONS)
    assert _max_series_deviation(local, collective) < 1e-6


def test_default_options_run_and_count() -> None:
    """QuTiP's defaults (adams, rtol 1e-6) are looser but close; RHS calls are counted."""
    name = "collective-tc-mild"
    engine, _ = _pair(name)
    ref = simulate_qutip(_params(name))
    assert ref.rhs_evaluations > 0
    assert ref.wall_time > 0
    assert _max_series_deviation(engine, ref) < 1e-3
    np.testing.assert_allclose(ref.trace, 1.0, atol=1e-12)  # normalize_output=True by default


def test_unsupported_sizes_raise() -> None:
    with pytest.raises(ValueError, match="QuTiP backend: local representation with N = 50"):
        simulate_qutip(Params(n=50, dissipation="local"))
    with pytest.raises(ValueError, match="above the limit 10"):
        check_supported(Params(n=4, nmax=4), max_dim=10)
    check_supported(Params(n=50, nmax=10))  # collective N = 50 is fine (dimension 561)
