"""QuTiP reference backend: the same physics as :func:`qbpaper.simulate`, built with QuTiP 5.

This is the independent reference the fast engine is checked and benchmarked against. It shares
no operator or generator code with :mod:`qbpaper.model`; it reads only :class:`Params` and
returns the engine's :class:`Trajectory`.

* Frame: the LAB frame as ``shared/CONVENTIONS.md`` writes it,
  ``H(t) = omega_c a^dag a + Jz + H_int + eta(t) (a + a^dag)`` with omega_q = 1,
  ``omega_c = 1 - detuning``, ``eta(t) = eta0 exp(-(t - t0)^2 / (2 sigma^2))``
  [x ``cos(omega_c t)`` if ``drive_carrier``], time-dependence through a QuTiP coefficient.
* ``collective``: spin j = N/2 (``qutip.jmat``, dimension N + 1) with collapse operators
  ``sqrt(kappa) a``, ``sqrt(gamma_relax) J-``, ``sqrt(gamma_deph) 2 Jz``.
* ``local``: the permutation-invariant Dicke basis of ``qutip.piqs`` (all j blocks, dimension
  ``num_dicke_states(N)``). The qubit channels come from ``qutip.piqs.Dicke(N,
  emission=gamma_relax, dephasing=4 * gamma_deph)``: PIQS's local dephasing operator is
  ``sigma^z / 2``, so its rate is 4x ours (``D[sqrt(g) sigma^z] = D[sqrt(4 g) sigma^z / 2]``);
  checked against the brute-force 2^N reference in the tests. PIQS computes its coefficients in
  single precision (``cdef float``), so this representation agrees with the engine to ~1e-5 only.
  PIQS blocks are weighted like the engine's (block j holds its total probability); the true
  2^N qubit entropy is ``qutip.piqs.entropy_vn_dicke`` (blocks divided by their degeneracy d_j).
* Observables on the grid ``t = 0, dt, ..., t_final`` through one ``e_ops`` callable (states are
  not stored): E(t) per ``p.energy``, both entropies (natural log), <a^dag a>, the population
  of Fock level nmax and Tr rho.

QuTiP's own defaults are used unless ``options`` overrides them (that is what a user runs:
``method="adams"``, ``atol=1e-8``, ``rtol=1e-6``, and ``normalize_output=True``, which divides
every output state by its trace so that the recorded trace is 1 by construction). Pass
:data:`TIGHT_OPTIONS` for agreement tests; the ``Params.rtol``/``atol`` are not used here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import qutip
from qutip import piqs

from qbpaper.params import DISSIPATIONS, Params
from qbpaper.solve import Trajectory, flag_numerics

#: Tolerances for agreement tests (and a step budget large enough for them).
TIGHT_OPTIONS: dict[str, Any] = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 1_000_000}

#: Largest Hilbert-space dimension (nmax + 1) x (qubit dimension) accepted; the Liouvillian is
#: its square (1500 -> 2.25e6 x 2.25e6 sparse, a few GB with PIQS at N ~ 20).
MAX_HILBERT_DIM = 1500


@dataclass
class _System:
    """Everything needed to run and measure one point in QuTiP."""

    generator: Any  # Hamiltonian (QobjEvo-like) with c_ops, or a full Liouvillian
    c_ops: list[qutip.Qobj]
    rho0: qutip.Qobj
    h0: qutip.Qobj  # static lab-frame Hamiltonian
    x: qutip.Qobj  # a + a^dag (the drive multiplies it)
    jz: qutip.Qobj
    num: qutip.Qobj
    top: qutip.Qobj  # projector on Fock level nmax
    qubit_entropy: Callable[[qutip.Qobj], float]  # reduced qubit state -> true 2^N entropy


def _envelope(p: Params, t: float) -> float:
    """eta(t) of Eq. (5) (x cos(omega_c t) with the carrier); written here, not imported from
    the engine, so that this reference stays independent of it."""
    value = p.eta0 * math.exp(-((t - p.t0) ** 2) / (2.0 * p.sigma**2))
    if p.drive_carrier:
        value *= math.cos(p.omega_c * t)
    return value


def qubit_dimension(p: Params) -> int:
    """Dimension of the qubit space in this backend: N + 1 (collective) or the number of Dicke
    states (N/2 + 1)^2 rounded down (local)."""
    if p.dissipation == "collective":
        return p.n + 1
    return int(piqs.num_dicke_states(p.n))


def check_supported(p: Params, max_dim: int = MAX_HILBERT_DIM) -> None:
    """Raise ValueError if this backend cannot (or should not) run ``p``."""
    if p.dissipation not in DISSIPATIONS:  # pragma: no cover - Params validates already
        raise ValueError(f"QuTiP backend: unknown dissipation {p.dissipation!r}")
    if p.driven and p.drive_frame != "lab":
        raise ValueError(
            f"QuTiP backend: drive_frame={p.drive_frame!r} is not supported (lab-frame drive "
            "only); use the fast engine (qbpaper.simulate)"
        )
    dim = (p.nmax + 1) * qubit_dimension(p)
    if dim > max_dim:
        kind = "PIQS Dicke-basis" if p.dissipation == "local" else "symmetric-subspace"
        raise ValueError(
            f"QuTiP backend: {p.dissipation} representation with N = {p.n}, nmax = {p.nmax} "
            f"needs a {kind} Hilbert space of dimension {dim} (Liouvillian {dim}^2 = "
            f"{dim * dim:.3g}), above the limit {max_dim}; use the fast engine "
            "(qbpaper.simulate) or raise max_dim"
        )


def _operators(p: Params) -> tuple[qutip.Qobj, qutip.Qobj, qutip.Qobj, qutip.Qobj, int]:
    """(a, J-, Jz, qubit ground state |g..g>, qubit dimension) on cavity (x) qubits."""
    nc = p.nmax + 1
    if p.dissipation == "collective":
        j = p.n / 2
        jm_q, jz_q = qutip.jmat(j, "-"), qutip.jmat(j, "z")  # m descending: |g..g> is last
        ground_q = qutip.fock_dm(p.n + 1, p.n)
    else:
        jm_q, jz_q = piqs.jspin(p.n, "-", basis="dicke"), piqs.jspin(p.n, "z", basis="dicke")
        ground_q = piqs.ground(p.n, basis="dicke")  # (j, m) = (N/2, -N/2)
    nq = jz_q.shape[0]
    a = qutip.tensor(qutip.destroy(nc), qutip.qeye(nq))
    jm = qutip.tensor(qutip.qeye(nc), jm_q)
    jz = qutip.tensor(qutip.qeye(nc), jz_q)
    return a, jm, jz, ground_q, nq


def _build(p: Params, coefficient: Callable[[float], float]) -> _System:
    """The lab-frame model of ``p`` in QuTiP objects (see module docstring)."""
    nc = p.nmax + 1
    a, jm, jz, ground_q, nq = _operators(p)
    ad, jp = a.dag(), jm.dag()
    if p.model == "tc":
        h_int = p.g * (ad * jm + a * jp)
    else:
        h_int = p.g * (a + ad) * (jp + jm)
    h0 = p.omega_c * ad * a + jz + h_int
    x = a + ad
    h = qutip.QobjEvo([h0, [x, coefficient]]) if p.driven else h0
    n_init = 0 if p.driven else p.n0
    rho0 = qutip.tensor(qutip.fock_dm(nc, n_init), qutip.Qobj(ground_q))
    cavity_loss = [math.sqrt(p.kappa) * a] if p.kappa > 0 else []
    if p.dissipation == "collective":
        c_ops = list(cavity_loss)
        if p.gamma_relax > 0:
            c_ops.append(math.sqrt(p.gamma_relax) * jm)
        if p.gamma_deph > 0:
            c_ops.append(math.sqrt(p.gamma_deph) * 2.0 * jz)
        generator: Any = h

        def qubit_entropy(rho_q: qutip.Qobj) -> float:
            return float(qutip.entropy_vn(rho_q))  # symmetric subspace: d_{N/2} = 1

    else:
        # Local channels on the qubits only (PIQS, rates converted), identity on the cavity.
        lq = piqs.Dicke(p.n, emission=p.gamma_relax, dephasing=4.0 * p.gamma_deph).lindbladian()
        lq_full = qutip.super_tensor(qutip.spre(qutip.qeye(nc)), lq)
        generator = qutip.liouvillian(h, cavity_loss) + lq_full
        c_ops = []

        def qubit_entropy(rho_q: qutip.Qobj) -> float:
            return float(piqs.entropy_vn_dicke(rho_q))  # S(blocks / d_j) with multiplicity d_j

    top = qutip.tensor(qutip.projection(nc, p.nmax, p.nmax), qutip.qeye(nq))
    return _System(
        generator=generator,
        c_ops=c_ops,
        rho0=rho0,
        h0=h0,
        x=x,
        jz=jz,
        num=ad * a,
        top=top,
        qubit_entropy=qubit_entropy,
    )


def simulate_qutip(
    p: Params, *, options: dict[str, Any] | None = None, max_dim: int = MAX_HILBERT_DIM
) -> Trajectory:
    """Integrate ``p`` with ``qutip.mesolve`` in the lab frame; same output as ``simulate(p)``.

    ``options`` are passed to ``mesolve`` on top of QuTiP's defaults (``None`` = the defaults;
    :data:`TIGHT_OPTIONS` for agreement tests). ``rhs_evaluations`` is counted through the calls
    of the drive coefficient, divided by the calls per right-hand side (2 in QuTiP 5.3: spre and
    spost terms; calibrated at run time); it matches zvode's own count to a few calls (QuTiP
    also evaluates the system at set-up). It is 0 for undriven runs (nothing to count).
    ``wall_time`` covers building, integrating and measuring. Raises ValueError for sizes above
    ``max_dim`` (see :func:`check_supported`).
    """
    check_supported(p, max_dim)
    start = time.perf_counter()
    calls = 0

    # QuTiP calls this once per drive term per right-hand-side evaluation; counting here is the
    # only public hook QuTiP 5 offers into its compiled right-hand side.
    def coefficient(t: float) -> float:
        nonlocal calls
        calls += 1
        return _envelope(p, t)

    system = _build(p, coefficient)
    # QuTiP keeps spre(X) and spost(X) of the drive term as separate terms of the Liouvillian,
    # each evaluating the coefficient: calibrate the calls per right-hand side on one evaluation.
    calls_per_rhs = 1
    if p.driven:
        probe = qutip.liouvillian(qutip.QobjEvo([system.h0, [system.x, coefficient]]))
        calls = 0
        probe(0.0)
        calls_per_rhs = max(calls, 1)
    calls = 0  # QobjEvo construction also evaluates the coefficient
    t_out = np.linspace(0.0, p.n_steps * p.dt, p.n_steps + 1)
    rows: list[tuple[float, ...]] = []

    def measure(t: float, state: qutip.Qobj) -> float:
        eta = _envelope(p, t) if p.driven else 0.0
        if p.energy == "total":
            energy = qutip.expect(system.h0, state) + eta * qutip.expect(system.x, state)
        else:
            energy = qutip.expect(system.jz, state)
        rows.append(
            (
                t,
                float(np.real(energy)),
                system.qubit_entropy(state.ptrace(1)),
                float(qutip.entropy_vn(state.ptrace(0))),
                float(qutip.expect(system.num, state)),
                float(qutip.expect(system.top, state)),
                float(np.real(state.tr())),
            )
        )
        return 0.0

    opts = {"store_states": False}
    opts.update(options or {})
    qutip.mesolve(system.generator, system.rho0, t_out, system.c_ops, e_ops=[measure], options=opts)
    data = np.array(rows)
    if data.shape != (t_out.size, 7) or not np.allclose(data[:, 0], t_out, atol=1e-12):
        raise RuntimeError("QuTiP backend: e_ops were not evaluated exactly on the output grid")
    energy = data[:, 1] - data[0, 1]
    traj = Trajectory(
        params=p,
        t=t_out,
        energy=energy,
        s_qubits=data[:, 2],
        s_cavity=data[:, 3],
        photons=data[:, 4],
        top_fock=data[:, 5],
        trace=data[:, 6],
        rhs_evaluations=calls // calls_per_rhs if p.driven else 0,
    )
    flag_numerics(traj, stacklevel=3)
    traj.wall_time = time.perf_counter() - start
    return traj
