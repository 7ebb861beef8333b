"""Self-checks of the brute-force reference simulator against analytic facts only.

No snapshot numbers: every expected value is either exact (conservation laws, symmetries)
or a closed-form / independently integrated solution of a reduced problem.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_bruteforce import OBSERVABLES, bruteforce_trajectory, check_size
from scipy.integrate import solve_ivp

from qbpaper.params import Params

CLOSED = dict(kappa=0.0, gamma_relax=0.0, gamma_deph=0.0)


def _swap_qubits(rho: np.ndarray, dc: int, n: int, i: int, j: int) -> np.ndarray:
    """rho with qubits i and j exchanged (cavity (x) qubits ordering)."""
    shape = (dc,) + (2,) * n
    r = rho.reshape(shape + shape)
    perm = list(range(n + 1))
    perm[1 + i], perm[1 + j] = perm[1 + j], perm[1 + i]
    perm = perm + [n + 1 + k for k in perm]
    return r.transpose(perm).reshape(rho.shape)


# ---------------------------------------------------------------- 1. physicality
def test_density_matrix_stays_physical_driven_dicke_local():
    p = Params(
        model="dicke", n=2, nmax=4, g=0.3, kappa=0.1, gamma_relax=0.05, gamma_deph=0.1,
        dissipation="local", driven=True, t_final=10.0, dt=0.1,
    )  # fmt: skip
    r = bruteforce_trajectory(p, return_rho=True)
    rhos = r["rho"]
    assert rhos.shape == (101, 20, 20)
    assert np.max(np.abs(r["trace"] - 1.0)) < 1e-9
    traces = np.einsum("tii->t", rhos)
    assert np.max(np.abs(traces - 1.0)) < 1e-9
    herm = np.max(np.abs(rhos - np.conj(np.transpose(rhos, (0, 2, 1)))))
    assert herm < 1e-9
    hrhos = 0.5 * (rhos + np.conj(np.transpose(rhos, (0, 2, 1))))
    assert np.min(np.linalg.eigvalsh(hrhos)) >= -1e-9
    # the dynamics is nontrivial (otherwise the checks above would be vacuous)
    assert np.max(r["energy"]) > 1e-3 and np.max(r["s_qubits"]) > 1e-3
    # permutation symmetry: H, the local channels and |0, gg> are invariant under a swap
    swapped = np.array([_swap_qubits(rho, p.nmax + 1, p.n, 0, 1) for rho in rhos])
    assert np.max(np.abs(swapped - rhos)) < 1e-9
    # output grid and keys
    assert set(OBSERVABLES) <= set(r)
    assert np.allclose(r["t"], 0.1 * np.arange(101), rtol=0, atol=1e-12)


# ---------------------------------------------------------------- 2. closed system
@pytest.mark.parametrize(
    "kw",
    [
        dict(model="dicke", n=2, nmax=4, g=0.3, driven=True, t_final=10.0),
        dict(model="tc", n=3, nmax=2, g=0.2, driven=False, n0=2, t_final=10.0),
    ],
    ids=["dicke-driven-N2", "tc-undriven-N3"],
)
def test_closed_system_entropies_equal(kw):
    p = Params(dt=0.1, **CLOSED, **kw)
    r = bruteforce_trajectory(p)
    # pure global state -> equal Schmidt spectra of the two reductions
    assert np.max(np.abs(r["s_qubits"] - r["s_cavity"])) < 1e-6
    assert np.max(r["s_qubits"]) > 0.05  # not vacuously zero
    assert np.max(np.abs(r["trace"] - 1.0)) < 1e-9


@pytest.mark.parametrize("model", ["tc", "dicke"])
def test_closed_undriven_total_energy_conserved(model):
    p = Params(model=model, n=2, nmax=4, g=0.4, driven=False, n0=1, energy="total",
               t_final=10.0, dt=0.1, **CLOSED)  # fmt: skip
    r = bruteforce_trajectory(p)
    assert np.max(np.abs(r["energy"])) < 1e-8
    # ... while the qubit energy does move
    rq = bruteforce_trajectory(p.replace(energy="qubit"))
    assert np.max(rq["energy"]) > 0.1


# ---------------------------------------------------------------- 3. single-excitation Rabi
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("detuning", [0.0, 0.3])
def test_tc_single_excitation_rabi(n, detuning):
    g = 0.2
    p = Params(model="tc", n=n, nmax=2, g=g, driven=False, n0=1, detuning=detuning,
               t_final=20.0, dt=0.1, **CLOSED)  # fmt: skip
    r = bruteforce_trajectory(p)
    t = r["t"]
    # |1, G> <-> |0, W> with coupling g sqrt(N) and detuning Delta = omega_q - omega_c
    omega = np.sqrt(detuning**2 + 4 * g**2 * n)
    expected = 4 * g**2 * n / omega**2 * np.sin(omega * t / 2) ** 2
    if detuning == 0.0:
        assert np.allclose(expected, np.sin(g * np.sqrt(n) * t) ** 2, atol=1e-14)
    assert np.max(np.abs(r["energy"] - expected)) < 1e-7
    # excitation number conserved by TC: photons + (Jz + N/2) = 1
    assert np.max(np.abs(r["photons"] + r["energy"] - 1.0)) < 1e-7
    assert np.max(np.abs(r["top_fock"])) < 1e-12  # Fock 2 never reached


# ---------------------------------------------------------------- 4. decay channels
@pytest.mark.parametrize("n0", [1, 3])
def test_undriven_cavity_decay(n0):
    kappa = 0.3
    p = Params(model="dicke", n=1, nmax=3, g=0.0, kappa=kappa, gamma_relax=0.0,
               gamma_deph=0.0, driven=False, n0=n0, t_final=10.0, dt=0.1)  # fmt: skip
    r = bruteforce_trajectory(p)
    t = r["t"]
    assert np.max(np.abs(r["photons"] - n0 * np.exp(-kappa * t))) < 1e-8
    if n0 == p.nmax:  # population of the initial Fock state decays at rate n0 kappa
        assert np.max(np.abs(r["top_fock"] - np.exp(-n0 * kappa * t))) < 1e-8
    assert np.max(np.abs(r["energy"])) < 1e-12
    assert np.max(np.abs(r["s_qubits"])) < 1e-9


def _coherent_amplitude(p: Params, t: np.ndarray) -> np.ndarray:
    """alpha(t) of alpha' = -i omega_c alpha - i eta(t) - kappa/2 alpha, alpha(0) = 0."""

    def eta(s):
        e = p.eta0 * np.exp(-((s - p.t0) ** 2) / (2 * p.sigma**2))
        return e * np.cos(p.omega_c * s) if p.drive_carrier else e

    def rhs(s, y):
        return -1j * p.omega_c * y - 1j * eta(s) - 0.5 * p.kappa * y

    sol = solve_ivp(rhs, (0.0, t[-1]), np.array([0j]), method="DOP853", t_eval=t,
                    rtol=1e-13, atol=1e-15)  # fmt: skip
    assert sol.success
    return sol.y[0], np.array([eta(s) for s in t])


@pytest.mark.parametrize(
    "carrier, eta0, detuning",
    [(False, 1.0, 0.0), (True, 0.5, 0.0), (False, 1.0, 0.2), (True, 0.5, 0.2)],
)
def test_driven_decoupled_cavity_is_damped_coherent_state(carrier, eta0, detuning):
    p = Params(model="dicke", n=1, nmax=25, g=0.0, kappa=0.2, gamma_relax=0.01,
               gamma_deph=0.01, driven=True, eta0=eta0, drive_carrier=carrier,
               detuning=detuning, t_final=15.0, dt=0.1)  # fmt: skip
    r = bruteforce_trajectory(p)
    alpha, eta = _coherent_amplitude(p, r["t"])
    assert np.max(np.abs(alpha) ** 2) > 0.1  # the drive does something
    assert np.max(r["top_fock"]) < 1e-14  # truncation negligible at nmax = 25
    assert np.max(np.abs(r["photons"] - np.abs(alpha) ** 2)) < 1e-8
    assert np.max(np.abs(r["s_cavity"])) < 1e-6  # a damped coherent state stays pure
    assert np.max(np.abs(r["energy"])) < 1e-12  # qubits untouched (start in |g>)
    # total energy: omega_c |alpha|^2 + eta(t) 2 Re(alpha) (qubit part constant)
    rt = bruteforce_trajectory(p.replace(energy="total"))
    expected = p.omega_c * np.abs(alpha) ** 2 + 2 * eta * np.real(alpha)
    assert np.max(np.abs(rt["energy"] - expected)) < 1e-8


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("dissipation", ["local", "collective"])
def test_single_excitation_relaxation_no_jump(n, dissipation):
    """Loss from {|1,G>, |0,W>} only jumps to |0,G>, so the sector evolves under H_eff.

    W decays at rate gamma (local: sum_j sigma+_j sigma-_j = excitation number) or
    N gamma (collective: J+ J- |W> = N |W>, superradiance).
    """
    g, kappa, gam = 0.2, 0.05, 0.08
    p = Params(model="tc", n=n, nmax=1, g=g, kappa=kappa, gamma_relax=gam, gamma_deph=0.0,
               dissipation=dissipation, driven=False, n0=1, t_final=15.0, dt=0.1)  # fmt: skip
    r = bruteforce_trajectory(p)
    t = r["t"]
    rate_w = gam if dissipation == "local" else n * gam
    h_eff = np.array(
        [
            [p.omega_c - n / 2 - 0.5j * kappa, g * np.sqrt(n)],
            [g * np.sqrt(n), 1.0 - n / 2 - 0.5j * rate_w],
        ]
    )
    evals, vecs = np.linalg.eig(h_eff)
    c0 = np.linalg.solve(vecs, np.array([1.0, 0.0]))
    amps = vecs @ (c0[:, None] * np.exp(-1j * evals[:, None] * t[None, :]))
    assert np.max(np.abs(r["photons"] - np.abs(amps[0]) ** 2)) < 1e-8
    assert np.max(np.abs(r["energy"] - np.abs(amps[1]) ** 2)) < 1e-8


@pytest.mark.parametrize(
    "n, dissipation", [(1, "local"), (1, "collective"), (2, "collective"), (3, "collective")]
)
def test_single_excitation_dephasing_damped_rabi(n, dissipation):
    """Dephasing (C = sqrt(gd) sigma^z, or sqrt(gd) sum sigma^z) on the resonant
    |1,G> <-> |0,W> doublet damps its coherence at Gamma2 = 2 gd; populations obey
    z'' + Gamma2 z' + Omega^2 z = 0, Omega = 2 g sqrt(N), z = P(1,G) - P(0,W)."""
    g, gd = 0.2, 0.05
    p = Params(model="tc", n=n, nmax=1, g=g, kappa=0.0, gamma_relax=0.0, gamma_deph=gd,
               dissipation=dissipation, driven=False, n0=1, t_final=20.0, dt=0.1)  # fmt: skip
    r = bruteforce_trajectory(p)
    t = r["t"]
    big_omega, gamma2 = 2 * g * np.sqrt(n), 2 * gd
    w = np.sqrt(big_omega**2 - gamma2**2 / 4)
    z = np.exp(-gamma2 * t / 2) * (np.cos(w * t) + gamma2 / (2 * w) * np.sin(w * t))
    assert np.max(np.abs(r["energy"] - (1 - z) / 2)) < 1e-8
    assert np.max(np.abs(r["photons"] - (1 + z) / 2)) < 1e-8


# ---------------------------------------------------------------- 5. local vs collective
def test_local_equals_collective_for_one_qubit():
    base = Params(model="dicke", n=1, nmax=4, g=0.3, kappa=0.1, gamma_relax=0.07,
                  gamma_deph=0.09, driven=True, t_final=10.0, dt=0.1)  # fmt: skip
    loc = bruteforce_trajectory(base.replace(dissipation="local"))
    col = bruteforce_trajectory(base.replace(dissipation="collective"))
    for key in OBSERVABLES:
        assert np.max(np.abs(loc[key] - col[key])) < 1e-9, key
    assert np.max(loc["s_qubits"]) > 1e-3


def test_local_differs_from_collective_for_two_qubits():
    base = Params(model="tc", n=2, nmax=3, g=0.3, kappa=0.01, gamma_relax=0.01,
                  gamma_deph=0.1, driven=True, t_final=10.0, dt=0.1)  # fmt: skip
    loc = bruteforce_trajectory(base.replace(dissipation="local"))
    col = bruteforce_trajectory(base.replace(dissipation="collective"))
    diff = max(np.max(np.abs(loc[k] - col[k])) for k in ("energy", "s_qubits", "s_cavity"))
    assert diff > 1e-4
    # with only cavity loss the two representations are the same equation
    only_kappa = base.replace(gamma_relax=0.0, gamma_deph=0.0)
    loc0 = bruteforce_trajectory(only_kappa.replace(dissipation="local"))
    col0 = bruteforce_trajectory(only_kappa.replace(dissipation="collective"))
    for key in OBSERVABLES:
        assert np.max(np.abs(loc0[key] - col0[key])) < 1e-12, key


# ---------------------------------------------------------------- 6. size guard
@pytest.mark.parametrize("n, nmax", [(6, 6), (9, 1), (4, 25), (2, 100)])
def test_too_large_raises(n, nmax):
    p = Params(n=n, nmax=nmax, t_final=1.0, dt=0.1)
    with pytest.raises(ValueError, match="too large"):
        bruteforce_trajectory(p)


def test_size_limit_boundary_accepted():
    check_size(4, 24)  # 16 x 25 = 400: allowed (not run: it would be slow)
    check_size(1, 199)
    with pytest.raises(ValueError):
        check_size(1, 200)
