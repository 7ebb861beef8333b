"""Time evolution of one parameter point; returns a :class:`Trajectory`.

Mild problems are integrated with DOP853 (8th-order Runge-Kutta with error control; SciPy's
method, re-implemented with fused stage arithmetic in :mod:`qbpaper.rk853`), stiff ones with
the integrating-factor scheme of :mod:`qbpaper.integrate`. With ``method="auto"``, a mild run
switches to Chebyshev propagation (:mod:`qbpaper.chebyshev`) once the drive is off (at once when
undriven): the generator is then constant, in the rotating frame for TC and in the lab frame
for Dicke. Only the current state is kept in
memory; the output grid ``t = 0, dt, ..., t_final`` is filled from each step's dense output and
the observables are computed there on the fly (never all states).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from qbpaper import chebyshev, parity
from qbpaper.integrate import integrate_lawson
from qbpaper.model import (
    Generator,
    build_generator,
    constant_generator,
    drive_envelope,
    drive_off_time,
    frame_numbers,
    spectral_bounds,
    spectrum_parts,
)
from qbpaper.observables import Observables, compute_observables
from qbpaper.params import Params
from qbpaper.rk853 import integrate_dop853
from qbpaper.truncation import TOP_FOCK_LIMIT

#: Largest tolerated |Tr rho - 1| along the run before a warning is recorded.
TRACE_DRIFT_LIMIT = 1e-8
#: With method="auto", the Lawson integrator is chosen when the largest element-wise decay
#: rate |G| (omega_q units) exceeds both STIFF_DECAY and STIFF_RATIO times the Hamiltonian's
#: eigenvalue spread S (see :func:`choose_method`). DOP853's step is set by accuracy at
#: ~ 1 / S and it is stable while |G| h stays below ~6, so the decay it tolerates grows with S.
#: Measured crossovers (driven, N = 20, evaluations DOP853 / Lawson): TC (S = 11.3) |G| = 16:
#: 3710 / 7093, |G| = 40: 5657 / 5929, |G| = 80: 10079 / 5575; Dicke (S = 21.3) |G| = 40:
#: 9958 / 20725, |G| = 80: 11099 / 17251, |G| = 120: 15809 / 16255 (but 23.5 s / 18.2 s of
#: wall: Lawson's stages are cheaper), |G| = 160: 21557 / 15475, |G| = 240: 33971 / 13891.
#: Dicke undriven N = 50, gamma_deph = 0.01 (|G| = 56, S = 53): 138 s against 489 s of CPU
#: with the former fixed threshold |G| > 10.
#: The jump terms (norm bound J, :func:`qbpaper.model.spectrum_parts`) are explicit in both
#: integrators, so they raise the threshold only by STIFF_JUMP_WEIGHT J, not by 4 J as when J was
#: counted into S (until 2026-12-04). Measured with strong relaxation (CPU s, DOP853 (auto) /
#: Lawson, one core, the other busy): TC N = 50 (capped, S = 25.8) (gamma_relax, gamma_deph) =
#: (0.3, 0.5), |G| = 580, J = 191: 74.5 / 11.2; (0.3, 0.001), |G| = J = 191: 18.0 / 9.7;
#: (0.1, 0.1), |G| = 129, J = 64: 20.6 / 5.8; TC N = 30 (0.5, 0.1): 22.5 / 9.4; Dicke N = 30
#: (0.6, 0.2): 80.4 / 68.2; against DOP853: Dicke N = 20 (S = 21.2) (1, 0.001), |G| = J = 110:
#: 15.8 / 26.4 (so the weight lies between 0.23 and 0.46); ties: TC N = 20 (0.5, 0.001),
#: Dicke N = 20 (0.5, 0.2). The price is accuracy at the default tolerances: Lawson (5th order)
#: lands farther from a tight reference than DOP853 (TC N = 30 (0.5, 0.1): S_q^f and the trace
#: 2.5e-7 off, tau_refined 1.7e-6, against 1e-9 and 6e-8 for DOP853); the 129 committed points
#: at N <= 10 that the rule moved to Lawson changed by at most 1.4e-7 (tau_refined).
STIFF_DECAY = 10.0
STIFF_RATIO = 4.0
STIFF_JUMP_WEIGHT = 1.0 / 3.0
#: Driven Tavis-Cummings keeps only the states of at most K excitations (n + m + N/2; see
#: :func:`qbpaper.model.build_generator`'s ``cap``): the RWA coupling conserves the number and only
#: the drive raises it, so the population thins out fast with K. The cap is approximate, so every
#: output checks the population on its edge (highest kept spin level, and Fock level where the cap
#: cuts below nmax, or equals it in the local representation, whose channels carry n into the next
#: lower block with a cap one lower; tests/test_excitation_cap.py checks that every state coupled
#: out is on this edge); above CAP_TOLERANCE the run restarts with a wider cap, up to no cap at all.
#: Measured (N = 50, g = 0.1, driven, rates 1e-3; largest deviation of the scalar observables / time
#: series from the uncapped run, edge population): K = 14: 4.3e-5 / 1.3e-4, 3.5e-6; K = 18: 8.3e-9 /
#: 3.3e-8, 1.4e-9; K = 22: 8.5e-11 / 1.1e-9 (the integrator's own error), 9.6e-14, in 5.5 s of CPU
#: against 39.7 s uncapped. So the error is about 5-40 times the edge population, and 1e-12 keeps it
#: below the integrator's tolerance. Not used for Dicke: its counter-rotating terms create
#: excitations in pairs (N = 30, g = 0.1: still 5.5e-5 of deviation at K = 26 of 30), so the cap
#: would only add restarts. With a looser atol than 1e-12 the edge population is only known to
#: about atol, so the watch uses max(CAP_TOLERANCE, atol) (:func:`cap_tolerance`): a noise-level
#: edge would otherwise restart runs for nothing, and an error of a few atol is what the
#: integrator allows anyway.
CAP_TOLERANCE = 1e-12
CAP_FIRST = 22
CAP_GROWTH = 4


class QbpaperWarning(UserWarning):
    """A numerical-honesty warning about one simulation (cutoff too small, trace drift)."""


@dataclass
class Trajectory:
    """Time series of one run on the output grid (units: omega_q = 1, hbar = 1).

    ``energy`` is E(t) per ``params.energy``; ``s_qubits``/``s_cavity`` are von Neumann
    entropies (natural log) of the reduced qubit and cavity states; ``photons`` is <a^dag a>;
    ``top_fock`` is the population of Fock level nmax; ``trace`` is Tr rho.
    """

    params: Params
    t: np.ndarray
    energy: np.ndarray
    s_qubits: np.ndarray
    s_cavity: np.ndarray
    photons: np.ndarray
    top_fock: np.ndarray
    trace: np.ndarray
    warnings: list[str] = field(default_factory=list)
    rhs_evaluations: int = 0
    wall_time: float = 0.0
    method: str = ""  # the integrator actually used

    def observables(self) -> Observables:
        """E_max, tau, P_max and the entropy maxima / final values (grid and refined)."""
        return compute_observables(self)


def von_neumann_entropy(eigenvalues: np.ndarray) -> float:
    """-sum p ln p over the positive eigenvalues (natural log)."""
    ev = eigenvalues[eigenvalues > 1e-300]
    return float(-np.sum(ev * np.log(ev)))


@dataclass
class _Measurement:
    """Instantaneous expectation values read off the block state."""

    jz: float
    photons: float
    top_fock: float
    trace: float
    s_qubits: float
    s_cavity: float
    min_eigenvalue: float
    edge: float = 0.0  # population on the edge of an approximate excitation cap (else 0)


class TotalEnergy:
    """Lab-frame <H(t)> of Eq. (1), with the drive at time t, from the rotating-frame blocks.

    Back in the lab frame <a> and <a J-> pick up e^{-i wc t} and e^{-2 i wc t}; <a^dag a>, <Jz>
    and <a^dag J- + a J+> are frame-invariant. The needed operators' nonzeros are gathered once
    (a sparse ``multiply(rho.T).sum()`` per call cost more than a small system's integration).
    """

    #: The rotating-frame expectation values it needs, and how often each lowers a^dag a + Jz
    #: (the power of e^{i wc t} it picks up from the lab frame: see ReducedStates).
    NAMES = ("a", "coupling", "a_jm")
    LOWERS = (1, 0, 2)

    def __init__(self, gen: Generator) -> None:
        self.params = gen.params
        self.blocks = []
        for bg in gen.blocks:
            ops = {"a": bg.h_driven[0], "coupling": bg.coupling}
            if self.params.model == "dicke":
                ops["a_jm"] = bg.h_driven[2]
            pairs = {}
            for name, op in ops.items():
                coo = op.tocoo()  # Tr(op rho) = sum op[r, c] rho[c, r]
                pairs[name] = (coo.col, coo.row, np.asarray(coo.data, dtype=complex))
            self.blocks.append((bg.block.magnetic_numbers(), bg.block.fock_numbers(), pairs))

    def sums(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        """<a>, <a^dag J- + a J+> and <a J-> (0 for TC) in the rotating frame, in NAMES order."""
        sums = dict.fromkeys(self.NAMES, 0.0j)
        for (_, _, pairs), rho in zip(self.blocks, blocks, strict=True):
            for name, (rows, cols, data) in pairs.items():
                sums[name] += complex(np.dot(data, rho[rows, cols]))
        return np.array([sums[name] for name in self.NAMES])

    def energy(self, t: float, jz: float, photons: float, sums: np.ndarray) -> float:
        """<H(t)> from <Jz>, <a^dag a> and :meth:`sums`."""
        p = self.params
        wc = p.omega_c
        back = complex(math.cos(wc * t), -math.sin(wc * t))  # e^{-i wc t}
        a, coupling, a_jm = sums
        energy = wc * photons + jz + p.g * coupling.real
        if p.model == "dicke":
            energy += 2.0 * p.g * (a_jm * back * back).real
        # Drive term: eta (a + a^dag) in the lab frame; with drive_frame="rotating" the lab drive
        # is eta (a e^{i wc t} + h.c.), whose mean is 2 eta Re <a>_rotating.
        drive_phase = 1.0 if p.drive_frame == "rotating" else back
        energy += 2.0 * drive_envelope(t, p) * (a * drive_phase).real
        return float(energy)

    def __call__(self, t: float, blocks: Sequence[np.ndarray]) -> float:
        jz = photons = 0.0
        for (m, n, _), rho in zip(self.blocks, blocks, strict=True):
            diag = np.real(np.diagonal(rho))
            jz += float(diag @ m)
            photons += float(diag @ n)
        return self.energy(t, jz, photons, self.sums(blocks))


class ReducedStates:
    """The part of the state the observables read, as one flat complex vector, linear in rho.

    Per block: the reduced spin state (n_spin x n_spin) and the reduced cavity state
    (n_fock x n_fock); then, for ``energy="total"``, :meth:`TotalEnergy.sums`. Linear, so an
    integrator that builds the state as a sum of terms can reduce the terms and sum those.
    ``lowers[i]`` is how often entry i lowers ``a^dag a + Jz`` (m - m' for a spin entry
    [m, m']): in the frame rotating at omega_c the entry is ``e^{i wc t lowers}`` times its
    lab-frame value.
    """

    def __init__(self, gen: Generator, total_energy: TotalEnergy | None) -> None:
        self.gen = gen
        self.total_energy = total_energy
        self.slices: list[tuple[slice, slice]] = []
        lowers = []
        start = 0
        for bg in gen.blocks:
            blk = bg.block
            spin = slice(start, start + blk.n_spin**2)
            cavity = slice(spin.stop, spin.stop + blk.n_fock**2)
            self.slices.append((spin, cavity))
            start = cavity.stop
            ms, ns = np.arange(blk.n_spin), np.arange(blk.n_fock)
            lowers += [(ms[:, None] - ms[None, :]).ravel(), (ns[:, None] - ns[None, :]).ravel()]
        if total_energy is not None:
            lowers.append(np.array(TotalEnergy.LOWERS))
        self.lowers = np.concatenate(lowers).astype(float)
        self.size = self.lowers.size

    def __call__(self, blocks: Sequence[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
        vec = np.empty(self.size, dtype=complex) if out is None else out
        for bg, rho, (spin, cavity) in zip(self.gen.blocks, blocks, self.slices, strict=True):
            four = rho.reshape(bg.block.shape4)
            vec[spin] = np.einsum("nanb->ab", four).ravel()
            vec[cavity] = np.einsum("imjm->ij", four).ravel()
        if self.total_energy is not None:
            vec[-3:] = self.total_energy.sums(blocks)
        return vec

    def measure(self, vec: np.ndarray) -> _Measurement:
        """Expectation values and entropies from a reduced vector (see class docstring)."""
        p = self.gen.params
        jz = photons = top = trace = 0.0
        rho_cavity = np.zeros((p.nmax + 1, p.nmax + 1), dtype=complex)
        s_qubits = edge = 0.0
        min_eig = math.inf
        for bg, (spin, cavity) in zip(self.gen.blocks, self.slices, strict=True):
            blk = bg.block
            rho_spin = vec[spin].reshape(blk.n_spin, blk.n_spin)
            rho_cav = vec[cavity].reshape(blk.n_fock, blk.n_fock)
            spin_diag = np.real(np.diagonal(rho_spin))
            cav_diag = np.real(np.diagonal(rho_cav))
            if self.gen.capped:  # the marginals' edge levels bound the edge's population
                if blk.edge_spin is not None:
                    edge += float(spin_diag[blk.edge_spin])
                fock = blk.edge_fock(feeds_lower_block=p.dissipation == "local")
                if fock is not None:
                    edge += float(cav_diag[fock])
            weight = float(spin_diag.sum())
            trace += weight
            jz += float(spin_diag @ blk.m)
            photons += float(cav_diag @ np.arange(blk.n_fock))
            if blk.holds_top_fock:  # a block capped below nmax leaves Fock level nmax empty
                top += float(cav_diag[-1])
            rho_cavity[: blk.n_fock, : blk.n_fock] += rho_cav
            ev = np.linalg.eigvalsh(0.5 * (rho_spin + rho_spin.conj().T))
            min_eig = min(min_eig, float(ev.min()))
            # True 2^N entropy: each block is spread over d_j copies.
            s_qubits += von_neumann_entropy(ev) + max(weight, 0.0) * math.log(blk.degeneracy)
        ev_c = np.linalg.eigvalsh(0.5 * (rho_cavity + rho_cavity.conj().T))
        return _Measurement(
            jz=jz,
            photons=photons,
            top_fock=top,
            trace=trace,
            s_qubits=s_qubits,
            s_cavity=von_neumann_entropy(ev_c),
            min_eigenvalue=min(min_eig, float(ev_c.min())),
            edge=edge,
        )

    def energy(self, t: float, vec: np.ndarray, m: _Measurement) -> float:
        """E(t) before subtracting E(0): <Jz> (omega_q = 1), or <H(t)> for energy="total"."""
        if self.total_energy is None:
            return m.jz
        return self.total_energy.energy(t, m.jz, m.photons, vec[-3:])


Observer = Callable[[float, list[np.ndarray], list[int]], None]


def simulate(
    p: Params,
    *,
    progress: bool = False,
    observer: Observer | None = None,
    truncate: bool = True,
) -> Trajectory:
    """Integrate the master equation for one parameter point and return its trajectory.

    ``observer(t, blocks, degeneracies)``, if given, is called at every output time with the
    rotating-frame state as its weighted j-blocks (see :mod:`qbpaper.model`), every block of the
    representation at its full size even where the solver kept fewer states (exact excitation
    bound); the true state is ``blocks[k] / degeneracies[k]`` repeated ``degeneracies[k]``
    times. It must not modify them.

    ``truncate=False`` keeps every state even where the model bounds the excitation number
    exactly (undriven TC, :func:`qbpaper.model.excitation_bound`) and turns off the watched
    excitation cap of driven TC (:data:`CAP_TOLERANCE`): same results to within the
    tolerances, slower; for checking both. The cap is also off when an observer is given (it
    must see every full state once).

    Records (and emits as :class:`QbpaperWarning`) a warning when the top Fock level's
    population exceeds 1e-4 (cutoff too small) or Tr rho drifts by more than 1e-8.
    BLAS runs on one thread here: the operands are small or sparse, and threaded BLAS on
    them is slower (measured 200x slower on a loaded 2-core machine).
    """
    start = time.perf_counter()
    cap = first_cap(p) if truncate and observer is None else None
    evaluations = 0
    bar = _progress_bar(p.n_steps, progress)  # one bar for the run, rewound on a restart
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            while True:
                try:
                    traj = _simulate(p, bar=bar, observer=observer, truncate=truncate, cap=cap)
                    break
                except _CapExceeded as exc:  # population reached the cap's edge: widen it
                    evaluations += exc.evaluations
                    cap = next_cap(p, cap)
                    if bar is not None:
                        bar.reset()
                        bar.set_postfix_str(f"cap widened to {cap or 'none'}")
    finally:
        if bar is not None:
            bar.close()
    traj.rhs_evaluations += evaluations
    traj.wall_time = time.perf_counter() - start
    return traj


def first_cap(p: Params) -> int | None:
    """The excitation cap a run starts with (None: no cap); see :data:`CAP_TOLERANCE`."""
    if p.model != "tc" or not p.driven:
        return None
    return CAP_FIRST if CAP_FIRST < p.n - 2 else None  # where it cuts off a few spin levels


def cap_tolerance(p: Params) -> float:
    """The edge population above which a capped run restarts: CAP_TOLERANCE, or atol where
    that is looser (the edge is not resolved below it); see :data:`CAP_TOLERANCE`."""
    return max(CAP_TOLERANCE, p.atol)


def next_cap(p: Params, cap: int | None) -> int | None:
    """The wider cap after ``cap`` was exceeded; None (no cap) once it would keep everything."""
    wider = (cap or 0) + max(CAP_GROWTH, (cap or 0) // 3)
    return wider if wider < p.n + p.nmax else None


class _CapExceeded(Exception):
    """The population on the excitation cap's edge passed CAP_TOLERANCE (internal)."""

    def __init__(self, edge: float, t: float) -> None:
        super().__init__(f"edge population {edge:.3g} at t = {t:g}")
        self.evaluations = 0


def _simulate(
    p: Params, *, bar, observer: Observer | None, truncate: bool, cap: int | None
) -> Trajectory:
    start = time.perf_counter()
    gen = build_generator(p, truncate=truncate, cap=cap)
    if not gen.capped:
        cap = None
    n_out = p.n_steps + 1
    t_out = np.linspace(0.0, p.n_steps * p.dt, n_out)
    columns = {k: np.empty(n_out) for k in ("energy", "s_q", "s_c", "n", "top", "trace")}
    min_eigenvalue = math.inf
    edge_tolerance = cap_tolerance(p)

    # Undriven collective Dicke: integrate the even and odd parity blocks only (qbpaper.parity);
    # the observables still see the full block (unpack).
    split = parity.ParitySplit(gen) if parity.applies(gen) else None
    work = split if split is not None else gen
    norm_size = int(gen.offsets[-1])  # error norms average over the full block either way
    y0 = gen.initial_state() if split is None else split.pack(gen.initial_state())
    reduced = ReducedStates(gen, TotalEnergy(gen) if p.energy == "total" else None)
    degeneracies = [blk.degeneracy for blk in gen.layout]
    reference = {}

    def record_reduced(index: int, t: float, vec: np.ndarray) -> None:
        nonlocal min_eigenvalue
        m = reduced.measure(vec)
        value = reduced.energy(t, vec, m)
        if index == 0:
            reference["energy"] = value
        columns["energy"][index] = value - reference["energy"]
        columns["s_q"][index] = m.s_qubits
        columns["s_c"][index] = m.s_cavity
        columns["n"][index] = m.photons
        columns["top"][index] = m.top_fock
        columns["trace"][index] = m.trace
        min_eigenvalue = min(min_eigenvalue, m.min_eigenvalue)
        if m.edge > edge_tolerance:
            raise _CapExceeded(m.edge, t)

    def record(index: int, t: float, y: np.ndarray) -> None:
        blocks = gen.split(y if split is None else split.unpack(y))
        if observer is not None:
            observer(t, gen.expand(blocks), degeneracies)
        record_reduced(index, t, reduced(blocks))

    final_state = {}

    def record_with_progress(index: int, t: float, y: np.ndarray) -> None:
        record(index, t, y)
        if index == last:
            final_state["y"] = y.copy() if split is None else split.unpack(y)
        if bar is not None and index > 0:
            bar.update(1)

    decay = work.decay_flat()
    method = choose_method(gen) if p.method == "auto" else p.method
    # With method="auto" and no observer (it needs every full state), a mild run switches to
    # Chebyshev propagation once the generator is constant (see _constant_tail).
    tail = _constant_tail(gen, t_out) if (p.method == "auto" and method == "dop853"
                                          and observer is None) else None  # fmt: skip
    last = tail.start if tail is not None else n_out - 1
    calls = [0]  # right-hand sides and tail applications, also of a run stopped by the cap

    def rhs(t: float, y: np.ndarray, out: np.ndarray) -> None:
        calls[0] += 1
        work.rhs(t, y, include_decay=method != "lawson", out=out)

    try:
        if method == "lawson":
            integrate_lawson(rhs, decay, y0, t_out, record_with_progress, rtol=p.rtol,
                             atol=p.atol, norm_size=norm_size)  # fmt: skip
        else:
            integrate_dop853(rhs, y0, t_out[: last + 1], record_with_progress, rtol=p.rtol,
                             atol=p.atol, norm_size=norm_size)  # fmt: skip
        if tail is not None:
            calls[0] += tail.run(final_state["y"], reduced, record_reduced, bar)
            method += "+chebyshev"
    except _CapExceeded as exc:
        exc.evaluations = calls[0] + (tail.applied if tail is not None else 0)
        raise
    evaluations = calls[0]
    if split is not None:
        method += "+parity"
    if cap is not None:
        method += f"+cap{cap}"

    traj = Trajectory(
        params=p,
        t=t_out,
        energy=columns["energy"],
        s_qubits=columns["s_q"],
        s_cavity=columns["s_c"],
        photons=columns["n"],
        top_fock=columns["top"],
        trace=columns["trace"],
        rhs_evaluations=evaluations,
        method=method,
    )
    flag_numerics(traj, min_eigenvalue=min_eigenvalue, stacklevel=4)
    traj.wall_time = time.perf_counter() - start
    return traj


def choose_method(gen: Generator) -> str:
    """The integrator ``method="auto"`` uses: "lawson" when the element-wise decay makes the
    problem stiff for DOP853 (largest |G| above STIFF_DECAY and above STIFF_RATIO times the
    Hamiltonian's eigenvalue spread at t = 0 plus STIFF_JUMP_WEIGHT times the jump terms'
    norm bound), "dop853" otherwise."""
    decay_max = float(np.max(np.abs(gen.decay_flat())))
    if decay_max <= STIFF_DECAY:
        return "dop853"
    parts = spectrum_parts(gen)
    threshold = STIFF_RATIO * parts.spread + STIFF_JUMP_WEIGHT * parts.jump
    return "lawson" if decay_max > threshold else "dop853"


@dataclass
class _ConstantTail:
    """Chebyshev propagation (:mod:`qbpaper.chebyshev`) from output index ``start`` on, where
    the generator ``const`` is constant in its frame (frequency ``w``, see
    :func:`qbpaper.model.constant_generator`)."""

    gen: Generator
    const: Generator
    w: float
    ellipse: chebyshev.Ellipse
    t_out: np.ndarray
    start: int
    applied: int = 0
    split: parity.ParitySplit | None = None  # propagate the parity blocks only (undriven Dicke)

    def to_frame(self, y: np.ndarray, t: float, sign: float) -> np.ndarray:
        """The rotating-frame state in the tail's frame (sign -1) or back (sign +1)."""
        if self.w == 0.0:
            return y
        out = np.empty_like(y)
        for blk_gen, src, dst in zip(self.gen.blocks, self.gen.split(y), self.gen.split(out),
                                     strict=True):  # fmt: skip
            numbers = frame_numbers(blk_gen.block)
            phase = np.exp(sign * 1j * self.w * t * numbers)
            np.multiply(src, phase[:, None] * phase.conj()[None, :], out=dst)
        return out

    def run(self, y: np.ndarray, reduced: ReducedStates, record_reduced, bar) -> int:
        """Propagate y (rotating frame, at t_out[start]) to the end, recording every output;
        returns the applications of the generator (also counted in ``applied`` as they happen,
        so a run stopped inside the tail still knows them). Falls back to DOP853 from the last
        output reached if the series diverges (spectrum outside the ellipse)."""
        t_out, p = self.t_out, self.gen.params
        dt = float(t_out[1] - t_out[0])
        per_step = max(1, int(self.ellipse.longest_step() / dt + 1e-9))
        index = self.start
        y = self.to_frame(y, float(t_out[index]), -1.0)
        self.applied = 0
        work, split = (self.const, None) if self.split is None else (self.split, self.split)
        if split is not None:
            y = split.pack(y)

        def apply(v: np.ndarray, out: np.ndarray) -> None:
            self.applied += 1
            work.rhs(0.0, v, out=out)

        def reduce(v: np.ndarray) -> np.ndarray:
            return reduced(self.const.split(v if split is None else split.unpack(v)))

        while index < len(t_out) - 1:
            stop = min(index + per_step, len(t_out) - 1)
            times = t_out[index + 1 : stop + 1] - t_out[index]
            try:
                y_new, rows, _ = chebyshev.propagate(apply, y, times, self.ellipse, reduce,
                                                     tol=p.atol)  # fmt: skip
            except chebyshev.ChebyshevDivergence:
                full = y if split is None else split.unpack(y)
                self._fallback(full, index, reduced, record_reduced)  # counts into applied
                return self.applied
            for k, row in enumerate(rows, start=index + 1):
                t = float(t_out[k])
                vec = row * np.exp(1j * self.w * t * reduced.lowers) if self.w else row
                record_reduced(k, t, vec)
                if bar is not None:
                    bar.update(1)
            y, index = y_new, stop
        return self.applied

    def _fallback(self, y, index, reduced, record_reduced) -> None:
        t_out = self.t_out
        y_rot = self.to_frame(y, float(t_out[index]), +1.0)

        def record(k: int, t: float, state: np.ndarray) -> None:
            if k > 0:
                record_reduced(index + k, t, reduced(self.gen.split(state)))

        def rhs(t: float, v: np.ndarray, out: np.ndarray) -> None:
            self.applied += 1  # counted as they happen: the cap may stop the fallback too
            self.gen.rhs(t, v, out=out)

        p = self.gen.params
        integrate_dop853(rhs, y_rot, t_out[index:], record, rtol=p.rtol, atol=p.atol)


def _constant_tail(gen: Generator, t_out: np.ndarray) -> _ConstantTail | None:
    """The Chebyshev tail of a run, or None where there is none worth having: the drive never
    ends inside the window, or the spectrum is not the imaginary-dominated kind the ellipse
    of :class:`qbpaper.chebyshev.Ellipse` covers (e.g. g = 0 and resonant: no spread)."""
    dt = float(t_out[1] - t_out[0])
    start = int(math.ceil(drive_off_time(gen.params) / dt - 1e-9))
    if start >= len(t_out) - 1:
        return None
    const, w = constant_generator(gen)
    try:
        ellipse = chebyshev.Ellipse.around(*spectral_bounds(const))
    except ValueError:
        return None
    split = parity.ParitySplit(const) if parity.applies(const) else None
    return _ConstantTail(gen, const, w, ellipse, t_out, max(start, 0), split=split)


def flag_numerics(
    traj: Trajectory, *, min_eigenvalue: float = math.inf, stacklevel: int = 2
) -> None:
    """Record (in ``traj.warnings``) and emit the numerical-honesty warnings of a run.

    Flags a top-Fock population above TOP_FOCK_LIMIT (cutoff too small), a trace drift above
    TRACE_DRIFT_LIMIT, and a reduced-state eigenvalue below -1e-8.
    """
    p = traj.params
    found = []
    top_max = float(traj.top_fock.max())
    if top_max > TOP_FOCK_LIMIT:
        found.append(
            f"cutoff too small: population of Fock level nmax={p.nmax} reached {top_max:.3g} "
            f"(> {TOP_FOCK_LIMIT:g}); increase nmax"
        )
    drift = float(np.max(np.abs(traj.trace - 1.0)))
    if drift > TRACE_DRIFT_LIMIT:
        found.append(f"trace drift {drift:.3g} exceeds {TRACE_DRIFT_LIMIT:g}; tighten rtol/atol")
    if min_eigenvalue < -1e-8:
        found.append(f"negative reduced-state eigenvalue {min_eigenvalue:.3g}; tighten rtol/atol")
    traj.warnings.extend(found)
    for text in found:
        warnings.warn(text, QbpaperWarning, stacklevel=stacklevel)


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="simulate", unit="t")
