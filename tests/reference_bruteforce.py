"""Independent brute-force reference simulator for the test suite.

This module deliberately shares no code with the main engine (``qbpaper.model`` /
``qbpaper.solve``): it only reads the parameter container ``qbpaper.params.Params``.
It works in the full Hilbert space

    cavity Fock states 0..nmax  (x)  N explicit qubits (2^N),

in the LAB frame exactly as written in ``shared/CONVENTIONS.md``:

    H(t) = omega_c a^dag a + omega_q Jz + H_int + eta(t) (a + a^dag),   omega_q = 1,
    TC:    H_int = g (a^dag J- + a J+),
    Dicke: H_int = g (a + a^dag)(J+ + J-),
    eta(t) = eta0 exp(-(t - t0)^2 / (2 sigma^2))  [x cos(omega_c t) if drive_carrier].

The Lindblad equation is vectorised by column stacking, vec(A X B) = (B^T kron A) vec(X),
so that d vec(rho)/dt = (L0 + eta(t) L_drive) vec(rho), and integrated with
``scipy.integrate.solve_ivp`` (DOP853) at tight tolerances.

Basis conventions of this module: qubit basis index 0 = |g>, 1 = |e>;
sigma^z = |e><e| - |g><g| = diag(-1, 1), sigma^- = |g><e|; the global index of
|k> (x) |q_1 ... q_N> is k * 2^N + (binary number q_1 ... q_N).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

#: Largest full Hilbert-space dimension 2^N (nmax + 1) accepted.
MAX_DIM = 400

OBSERVABLES = ("t", "energy", "s_qubits", "s_cavity", "photons", "top_fock", "trace")


# ------------------------------------------------------------------ operators
def _site(op: sp.spmatrix, j: int, n: int) -> sp.csr_matrix:
    """``op`` acting on qubit j of n (identity on the others), as a 2^n sparse matrix."""
    left = sp.identity(2**j, dtype=complex, format="csr")
    right = sp.identity(2 ** (n - j - 1), dtype=complex, format="csr")
    return sp.kron(sp.kron(left, op), right, format="csr")


def build_operators(n: int, nmax: int) -> dict[str, object]:
    """Sparse operators on the full space cavity (x) qubits (and the per-site ones)."""
    dc, dq = nmax + 1, 2**n
    ic = sp.identity(dc, dtype=complex, format="csr")
    iq = sp.identity(dq, dtype=complex, format="csr")
    a_c = sp.diags(np.sqrt(np.arange(1, dc, dtype=float)), 1, format="csr").astype(complex)
    sm = sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]], dtype=complex))  # |g><e|
    sz = sp.csr_matrix(np.diag([-1.0, 1.0]).astype(complex))  # |e><e| - |g><g|
    sm_sites = [sp.kron(ic, _site(sm, j, n), format="csr") for j in range(n)]
    sz_sites = [sp.kron(ic, _site(sz, j, n), format="csr") for j in range(n)]
    jm = sum(sm_sites[1:], sm_sites[0]).tocsr()
    jz = (0.5 * sum(sz_sites[1:], sz_sites[0])).tocsr()
    a = sp.kron(a_c, iq, format="csr")
    top = sp.csr_matrix(([1.0 + 0j], ([nmax], [nmax])), shape=(dc, dc))
    return {
        "a": a,
        "num": (a.conj().T @ a).tocsr(),
        "jm": jm,
        "jp": jm.conj().T.tocsr(),
        "jz": jz,
        "sm_sites": sm_sites,
        "sz_sites": sz_sites,
        "top": sp.kron(top, iq, format="csr"),
        "dc": dc,
        "dq": dq,
        "dim": dc * dq,
    }


def hamiltonian_parts(p, ops: dict) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(H0, X) with H(t) = H0 + eta(t) X, X = a + a^dag, in the lab frame."""
    a, ad = ops["a"], ops["a"].conj().T
    if p.model == "tc":
        h_int = p.g * (ad @ ops["jm"] + a @ ops["jp"])
    elif p.model == "dicke":
        h_int = p.g * (a + ad) @ (ops["jp"] + ops["jm"])
    else:  # pragma: no cover - Params already validates
        raise ValueError(f"unknown model {p.model!r}")
    h0 = p.omega_c * ops["num"] + 1.0 * ops["jz"] + h_int
    return h0.tocsr(), (a + ad).tocsr()


def collapse_operators(p, ops: dict) -> list[sp.csr_matrix]:
    """Collapse operators C (rates folded in) for the chosen representation."""
    cs = []
    if p.kappa > 0:
        cs.append(np.sqrt(p.kappa) * ops["a"])
    if p.dissipation == "local":
        if p.gamma_relax > 0:
            cs += [np.sqrt(p.gamma_relax) * s for s in ops["sm_sites"]]
        if p.gamma_deph > 0:
            cs += [np.sqrt(p.gamma_deph) * s for s in ops["sz_sites"]]
    elif p.dissipation == "collective":
        if p.gamma_relax > 0:
            cs.append(np.sqrt(p.gamma_relax) * ops["jm"])
        if p.gamma_deph > 0:
            cs.append(np.sqrt(p.gamma_deph) * 2.0 * ops["jz"])
    else:  # pragma: no cover - Params already validates
        raise ValueError(f"unknown dissipation {p.dissipation!r}")
    return [c.tocsr() for c in cs]


# ------------------------------------------------------------------ superoperators
def _spre(a: sp.spmatrix, ident: sp.spmatrix) -> sp.csr_matrix:
    """vec(A X) = (I kron A) vec(X) (column stacking)."""
    return sp.kron(ident, a, format="csr")


def _spost(b: sp.spmatrix, ident: sp.spmatrix) -> sp.csr_matrix:
    """vec(X B) = (B^T kron I) vec(X) (column stacking)."""
    return sp.kron(b.T, ident, format="csr")


def commutator_super(h: sp.spmatrix, ident: sp.spmatrix) -> sp.csr_matrix:
    """Superoperator of rho -> -i [H, rho]."""
    return (-1j * (_spre(h, ident) - _spost(h, ident))).tocsr()


def dissipator_super(c: sp.spmatrix, ident: sp.spmatrix) -> sp.csr_matrix:
    """Superoperator of D[C] rho = C rho C^dag - 1/2 {C^dag C, rho}."""
    cdc = (c.conj().T @ c).tocsr()
    sandwich = sp.kron(c.conj(), c, format="csr")  # vec(C X C^dag) = (conj(C) kron C) vec X
    return (sandwich - 0.5 * _spre(cdc, ident) - 0.5 * _spost(cdc, ident)).tocsr()


def liouvillian_parts(p, ops: dict) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(L0, L_drive) with d vec(rho)/dt = (L0 + eta(t) L_drive) vec(rho)."""
    ident = sp.identity(ops["dim"], dtype=complex, format="csr")
    h0, x = hamiltonian_parts(p, ops)
    l0 = commutator_super(h0, ident)
    for c in collapse_operators(p, ops):
        l0 = l0 + dissipator_super(c, ident)
    return l0.tocsr(), commutator_super(x, ident)


def drive_envelope(p, t: float) -> float:
    """eta(t), including the optional carrier cos(omega_c t); 0 if undriven."""
    if not p.driven:
        return 0.0
    eta = p.eta0 * np.exp(-((t - p.t0) ** 2) / (2.0 * p.sigma**2))
    if p.drive_carrier:
        eta *= np.cos(p.omega_c * t)
    return float(eta)


# ------------------------------------------------------------------ observables
def entropy(rho: np.ndarray) -> float:
    """Von Neumann entropy (natural log) of a density matrix; tiny negatives clipped."""
    evals = np.linalg.eigvalsh(0.5 * (rho + rho.conj().T))
    evals = evals[evals > 0.0]
    return float(-np.sum(evals * np.log(evals)))


def partial_traces(rho: np.ndarray, dc: int, dq: int) -> tuple[np.ndarray, np.ndarray]:
    """(rho_cavity, rho_qubits) from the full density matrix (cavity (x) qubits order)."""
    r = rho.reshape(dc, dq, dc, dq)
    return np.einsum("iaja->ij", r), np.einsum("iaib->ab", r)


def _expect(op: sp.spmatrix, rhos: np.ndarray) -> np.ndarray:
    """Re Tr(O rho) for a stack of density matrices rhos[t]."""
    return np.real(np.einsum("ij,tji->t", op.toarray(), rhos))


# ------------------------------------------------------------------ driver
def check_size(n: int, nmax: int) -> None:
    dim = 2**n * (nmax + 1)
    if dim > MAX_DIM:
        raise ValueError(
            f"brute-force space too large: 2^N (nmax+1) = 2^{n} x {nmax + 1} = {dim} > {MAX_DIM}"
        )


def bruteforce_trajectory(
    p,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    return_rho: bool = False,
) -> dict[str, np.ndarray]:
    """Brute-force lab-frame Lindblad trajectory of the parameter point ``p``.

    ``p`` is a ``qbpaper.params.Params``; its own ``rtol``/``atol`` are ignored (this
    reference uses ``rtol``/``atol`` given here). Returns a dict of arrays over the grid
    t = 0, dt, ..., t_final with keys ``t``, ``energy``, ``s_qubits``, ``s_cavity``,
    ``photons``, ``top_fock``, ``trace``; with ``return_rho=True`` also ``rho`` (shape
    (n_times, dim, dim), full density matrices, cavity (x) qubits ordering).
    """
    check_size(p.n, p.nmax)
    ops = build_operators(p.n, p.nmax)
    dc, dq, dim = ops["dc"], ops["dq"], ops["dim"]
    l0, ldrive = liouvillian_parts(p, ops)
    h0, x = hamiltonian_parts(p, ops)

    n_steps = int(round(p.t_final / p.dt))
    times = p.dt * np.arange(n_steps + 1)

    k0 = 0 if p.driven else p.n0
    psi_index = k0 * dq  # all qubits in |g> -> qubit index 0
    rho0 = np.zeros((dim, dim), dtype=complex)
    rho0[psi_index, psi_index] = 1.0
    y0 = rho0.reshape(-1, order="F")

    # drive_frame="rotating": the lab drive is eta (a e^{i wc t} + a^dag e^{-i wc t})
    #   = eta cos(wc t) X + eta sin(wc t) Y with X = a + a^dag, Y = i (a - a^dag).
    a = ops["a"]
    y_op = (1j * (a - a.conj().T)).tocsr()
    ident = sp.identity(dim, dtype=complex, format="csr")
    ly = commutator_super(y_op, ident).tocsr()

    def drive_xy(t: float) -> tuple[float, float]:
        eta = drive_envelope(p, t)
        if getattr(p, "drive_frame", "lab") == "rotating":
            return eta * np.cos(p.omega_c * t), eta * np.sin(p.omega_c * t)
        return eta, 0.0

    if p.driven:

        def rhs(t, y):
            cx, cy = drive_xy(t)
            out = l0 @ y + cx * (ldrive @ y)
            return out + cy * (ly @ y) if cy != 0.0 else out

    else:

        def rhs(t, y):
            return l0 @ y

    sol = solve_ivp(rhs, (0.0, times[-1]), y0, method="DOP853", t_eval=times, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"brute-force integration failed: {sol.message}")

    # rhos[t] = rho(t) (undo column stacking)
    rhos = np.transpose(sol.y.reshape(dim, dim, len(times), order="F"), (2, 0, 1))

    if p.energy == "qubit":
        jz = _expect(ops["jz"], rhos)
        energy = jz - jz[0]
    else:
        cxy = np.array([drive_xy(t) for t in times]).reshape(len(times), 2)
        h_t = _expect(h0, rhos) + cxy[:, 0] * _expect(x, rhos) + cxy[:, 1] * _expect(y_op, rhos)
        energy = h_t - h_t[0]

    s_q = np.empty(len(times))
    s_c = np.empty(len(times))
    for i, rho in enumerate(rhos):
        rc, rq = partial_traces(rho, dc, dq)
        s_c[i] = entropy(rc)
        s_q[i] = entropy(rq)

    out = {
        "t": times,
        "energy": energy,
        "s_qubits": s_q,
        "s_cavity": s_c,
        "photons": _expect(ops["num"], rhos),
        "top_fock": _expect(ops["top"], rhos),
        "trace": np.real(np.einsum("tii->t", rhos)),
    }
    if return_rho:
        out["rho"] = rhos
    return out
