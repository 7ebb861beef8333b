"""Operators and the master-equation generator, one total-spin block at a time.

Representation
--------------
The state is stored as a list of dense blocks ``P_j``, one per total spin ``j`` of the qubits,
each an operator on ``cavity (nmax+1) x spin (2j+1)`` with row index ``n * (2j+1) + (m + j)``
(Fock number ``n``, magnetic number ``m`` ascending). The blocks are *weighted*: the true
2^N-dimensional state is ``sum_j P_j / d_j`` repeated over the ``d_j`` degenerate copies of
spin ``j``, so ``sum_j Tr P_j = 1`` and each ``P_j`` holds probabilities of order one (better for
absolute integrator tolerances than PIQS's per-copy blocks, which scale as ``1/d_j``).

* ``collective``: a single block ``j = N/2`` (the symmetric subspace, dimension N+1) with
  collapse operators ``sqrt(gamma_relax) J-`` and ``sqrt(gamma_deph) 2 Jz``.
* ``local``: every ``j`` from N/2 down to 0 or 1/2, exact for Eqs. (18)-(19) (one sigma^- and
  one sigma^z channel per qubit). The local channels couple block ``j`` to ``j +- 1``; their
  coefficients are those of PIQS (Shammah et al., PRA 98, 063815 (2018); ``qutip.piqs``),
  re-derived here in double precision and written in separable form. PIQS stores the same
  weighted blocks (its ``dicke_blocks`` divides by d_j to get one copy); its dephasing operator
  is sigma^z/2, so its dephasing rate is ``4 * gamma_deph`` in our convention.

Frame
-----
The equations are integrated in the frame rotating with ``omega_c (a^dag a + Jz)``. This frame
change is exact (not an approximation): the TC coupling becomes static, the Dicke
counter-rotating terms pick up ``exp(+-2 i omega_c t)``, the drive becomes
``eta(t) (a e^{-i omega_c t} + a^dag e^{i omega_c t})`` (or ``eta(t) (a + a^dag)`` with
``drive_frame="rotating"``, a drive defined in this frame), a static ``(omega_q - omega_c) Jz``
remains, and the dissipators, ``<Jz>``, ``<a^dag a>`` and both reduced entropies are unchanged.

Generator per block
-------------------
``dP_j/dt = -i (H(t) P_j - P_j H(t)) + G_j * P_j + sum_k A_k P_src(k) A_k^T``
where ``H(t) = H_static + sum_k c_k(t) H_k`` is Hermitian, ``G_j`` (element-wise) holds every
decay that is diagonal in this basis (the anticommutator parts of all channels and the collective
dephasing ``-2 gamma_deph (m - m')^2``), and the real matrices ``A_k`` are the jump terms.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from qbpaper.kernels import add_shift_jump, commutator_decay
from qbpaper.params import Params


def spin_values(n_qubits: int) -> list[float]:
    """Total spins j present for N qubits, from N/2 down to 0 (N even) or 1/2 (N odd)."""
    top = n_qubits / 2
    return [top - k for k in range(int(math.floor(top)) + 1)]


def degeneracy(n_qubits: int, j: float) -> int:
    """Number of copies d_j of spin j among N spin-1/2 (exact integer)."""
    k = int(round(n_qubits / 2 - j))
    return math.comb(n_qubits, k) - (math.comb(n_qubits, k - 1) if k >= 1 else 0)


def drive_envelope(t: float, p: Params) -> float:
    """Lab-frame drive amplitude eta(t) of Eq. (5), times cos(omega_c t) if ``drive_carrier``."""
    if not p.driven:
        return 0.0
    value = p.eta0 * math.exp(-((t - p.t0) ** 2) / (2.0 * p.sigma**2))
    if p.drive_carrier:
        value *= math.cos(p.omega_c * t)
    return value


@dataclass
class SpinBlock:
    """Operators of one total-spin block on cavity x spin-j (index n*(n_spin) + m + j).

    ``cap`` (None: keep everything) keeps only the Fock numbers ``n <= cap`` and the magnetic
    numbers ``m + j <= cap``: the rectangle that holds every state with at most ``cap``
    excitations above the block's lowest state (see :func:`excitation_bound`).
    """

    j: float
    degeneracy: int
    nmax: int
    cap: int | None = None
    m: np.ndarray = field(init=False)  # magnetic numbers, ascending from -j
    n_fock: int = field(init=False)  # Fock levels kept: 0 .. n_fock - 1
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        top = self.j if self.cap is None else min(self.j, self.cap - self.j)
        self.m = np.arange(-self.j, top + 0.5, 1.0)
        self.n_fock = self.nmax + 1 if self.cap is None else min(self.nmax, self.cap) + 1
        self.dim = self.n_fock * self.m.size

    @property
    def holds_top_fock(self) -> bool:
        """Whether Fock level nmax is among the kept levels."""
        return self.n_fock == self.nmax + 1

    @property
    def edge_spin(self) -> int | None:
        """Index of the highest kept magnetic level where the cap cuts the spin, else None."""
        return self.n_spin - 1 if self.n_spin < self.full_spin else None

    def edge_fock(self, feeds_lower_block: bool = False) -> int | None:
        """The highest kept Fock level where the cap cuts it below nmax, else None.

        With ``feeds_lower_block`` (local channels: they move n unchanged to block j - 1,
        whose cap is one lower) also at cap == nmax: n = cap leaves the kept states there
        even though this block holds all of its Fock levels.
        """
        if self.cap is None:
            return None
        if self.cap < self.nmax or (feeds_lower_block and self.cap == self.nmax):
            return self.n_fock - 1
        return None

    @property
    def full_spin(self) -> int:
        """2j + 1, the spin dimension without the cap."""
        return int(round(2 * self.j)) + 1

    @property
    def n_spin(self) -> int:
        return self.m.size

    @property
    def shape4(self) -> tuple[int, int, int, int]:
        """Shape of a block viewed as rho[n, m, n', m']."""
        return (self.n_fock, self.n_spin, self.n_fock, self.n_spin)

    # Hand-written rather than qutip.jmat/destroy: we need m ascending and block-local indices,
    # and the matrices are two lines each in scipy.sparse.
    def spin_lower(self) -> sp.csr_matrix:
        """J- on spin j: <m-1|J-|m> = sqrt((j+m)(j-m+1))."""
        coeff = np.sqrt((self.j + self.m[1:]) * (self.j - self.m[1:] + 1.0))
        return sp.diags(coeff, 1, shape=(self.n_spin, self.n_spin), format="csr")

    def cavity_lower(self) -> sp.csr_matrix:
        """a on the kept Fock levels: <n-1|a|n> = sqrt(n)."""
        size = self.n_fock
        return sp.diags(np.sqrt(np.arange(1, size)), 1, shape=(size, size), format="csr")

    def on_block(self, cavity_op: sp.spmatrix | None, spin_op: sp.spmatrix | None) -> sp.csr_matrix:
        """cavity_op (x) spin_op on this block; None means identity."""
        c = sp.identity(self.n_fock, format="csr") if cavity_op is None else cavity_op
        s = sp.identity(self.n_spin, format="csr") if spin_op is None else spin_op
        return sp.kron(c, s, format="csr")

    def fock_numbers(self) -> np.ndarray:
        """Fock number n of each row of the block."""
        return np.repeat(np.arange(self.n_fock, dtype=float), self.n_spin)

    def magnetic_numbers(self) -> np.ndarray:
        """Magnetic number m of each row of the block."""
        return np.tile(self.m, self.n_fock)


@dataclass(frozen=True)
class Shift:
    """A one-dimensional shift map: target[t0 + i] <- weights[i] * source[s0 + i]."""

    source_start: int
    target_start: int
    weights: np.ndarray

    @classmethod
    def from_matrix(cls, matrix: sp.spmatrix) -> Shift:
        """The shift map of a matrix with at most one nonzero per row and per column, along a
        single diagonal over a contiguous range (every jump operator of this model)."""
        coo = sp.coo_matrix(matrix)
        keep = coo.data != 0
        rows, cols, vals = coo.row[keep], coo.col[keep], coo.data[keep]
        order = np.argsort(cols)
        rows, cols, vals = rows[order], cols[order], vals[order]
        if rows.size == 0 or np.any(np.diff(cols) != 1) or np.any(np.diff(rows) != 1):
            raise ValueError("not a contiguous single-diagonal shift")
        return cls(int(cols[0]), int(rows[0]), np.asarray(vals, dtype=float))


@dataclass
class Jump:
    """A jump term ``A @ P_source @ A.T`` with ``A = cavity (x) spin`` (rates folded in).

    Both factors are shifts, so the term is a weighted slice of the source block:
    ``target[tn, tm, tn', tm'] += W[n, m] W[n', m'] source[sn, sm, sn', sm']`` (4-D views).
    Evaluated as one fused pass (:func:`qbpaper.kernels.add_shift_jump`) instead of sparse
    products: two sparse-dense products and transposes per jump cost ~5x more (N = 20).
    """

    source: int
    cavity: Shift
    spin: Shift
    # Same-block jumps as a diagonal shift of the flat index (see flatten()); None otherwise.
    flat_weights: np.ndarray | None = None
    flat_offset: int = 0

    def flatten(self, n_cavity: int, n_spin: int) -> Jump:
        """This jump, for source and target blocks of the same shape, as flat weights w and an
        offset o: ``target[r, c] += w[r] w[c] source[r + o, c + o]``."""
        cn, cm = self.cavity, self.spin
        weights = np.zeros(n_cavity * n_spin)
        for a, wn in enumerate(cn.weights):
            row = (cn.target_start + a) * n_spin + cm.target_start
            weights[row : row + cm.weights.size] = wn * cm.weights
        offset = (cn.source_start - cn.target_start) * n_spin + cm.source_start - cm.target_start
        return Jump(self.source, cn, cm, weights, offset)

    def add_to(self, target4: np.ndarray, source4: np.ndarray) -> None:
        cn, cm = self.cavity, self.spin
        add_shift_jump(target4, source4, cn.source_start, cn.target_start, cn.weights,
                       cm.source_start, cm.target_start, cm.weights)  # fmt: skip


@dataclass
class BlockGenerator:
    """Everything needed to evaluate dP_j/dt for one block."""

    block: SpinBlock
    h_static: sp.csr_matrix
    h_driven: list[sp.csr_matrix]  # matrices multiplying the time-dependent coefficients
    coupling: sp.csr_matrix  # a^dag J- + a J+ (without g), for <H_int>
    decay: np.ndarray  # element-wise diagonal decay G_j (dim x dim, real)
    jumps: list[Jump]
    # H(t) on the union sparsity pattern of all Hamiltonian pieces: its data is rewritten in
    # place at each evaluation (adding scipy sparse matrices allocates and dominated the cost).
    h_work: sp.csr_matrix = field(init=False, repr=False)
    no_decay: np.ndarray = field(init=False, repr=False)  # zeros, for the Lawson split
    h_pieces: np.ndarray = field(init=False, repr=False)  # (1 + K, nnz): static, then driven
    # The same-block jumps in flat form (offsets, weights (n, dim)), fused into the commutator.
    j_offsets: np.ndarray = field(init=False, repr=False)
    j_weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        union = abs(self.h_static) + sum((abs(m) for m in self.h_driven), 0 * self.h_static)
        union = sp.csr_matrix(union)
        union.sort_indices()
        rows = np.repeat(np.arange(union.shape[0]), np.diff(union.indptr))
        cols = union.indices
        # Values of each piece on the union pattern, by entry (an empty pattern -- a one-state
        # block of an excitation-capped layout -- gives an empty row rather than an index error).
        pieces = [np.asarray(m.tocsr()[rows, cols]).reshape(-1) if rows.size else np.zeros(0)
                  for m in [self.h_static, *self.h_driven]]  # fmt: skip
        self.h_pieces = np.array(pieces, dtype=complex)
        self.no_decay = np.zeros_like(self.decay)
        self.h_work = sp.csr_matrix(
            (self.h_pieces[0].copy(), union.indices.copy(), union.indptr.copy()),
            shape=union.shape,
        )
        flat = [j for j in self.jumps if j.flat_weights is not None]
        self.j_offsets = np.array([j.flat_offset for j in flat], dtype=np.int64)
        self.j_weights = np.array([j.flat_weights for j in flat], dtype=float).reshape(
            len(flat), self.block.dim
        )

    def hamiltonian(self, coefficients: np.ndarray) -> sp.csr_matrix:
        """H(t) for the given time-dependent coefficients (a view reused between calls)."""
        np.dot(np.concatenate(([1.0], coefficients)), self.h_pieces, out=self.h_work.data)
        return self.h_work


@dataclass
class Generator:
    """The master-equation generator in the rotating frame, as blocks (see module docstring)."""

    params: Params
    blocks: list[BlockGenerator]
    coefficients: Callable[[float], np.ndarray]  # t -> c_k(t) for the h_driven terms
    # Every block of the representation without the excitation cap (see build_generator).
    layout: list[SpinBlock] = field(default_factory=list)
    # Whether the blocks are cut by an approximate excitation cap (build_generator's ``cap``),
    # whose edge population the caller must watch; False for the exact bound.
    capped: bool = False

    @property
    def truncated(self) -> bool:
        """Whether the blocks are capped to an exact excitation bound (fewer or smaller)."""
        return [b.block.dim for b in self.blocks] != [b.dim for b in self.layout]

    def expand(self, blocks: list[np.ndarray]) -> list[np.ndarray]:
        """The blocks of a (possibly capped) state on the full layout, zeros elsewhere."""
        if not self.truncated:
            return blocks
        full = []
        for index, whole in enumerate(self.layout):
            big = np.zeros((whole.dim, whole.dim), dtype=complex)
            if index < len(blocks):
                blk = self.blocks[index].block
                big.reshape(whole.shape4)[
                    : blk.n_fock, : blk.n_spin, : blk.n_fock, : blk.n_spin
                ] = blocks[index].reshape(blk.shape4)
            full.append(big)
        return full

    # Cached: split() runs on every RHS evaluation, and the block layout never changes.
    @functools.cached_property
    def sizes(self) -> list[int]:
        return [b.block.dim for b in self.blocks]

    @functools.cached_property
    def offsets(self) -> np.ndarray:
        sizes = np.array([d * d for d in self.sizes])
        return np.concatenate([[0], np.cumsum(sizes)])

    def split(self, y: np.ndarray) -> list[np.ndarray]:
        """Views of the flat state vector as the list of square blocks."""
        off = self.offsets
        return [y[off[i] : off[i + 1]].reshape(d, d) for i, d in enumerate(self.sizes)]

    def initial_state(self) -> np.ndarray:
        """Flat initial state: all qubits |g> (j = N/2, m = -N/2), cavity |0> or |n0>."""
        p = self.params
        y = np.zeros(self.offsets[-1], dtype=complex)
        top = self.blocks[0].block
        n_init = p.n0 if not p.driven else 0
        index = n_init * top.n_spin  # m = -j is position 0
        self.split(y)[0][index, index] = 1.0
        return y

    def decay_flat(self) -> np.ndarray:
        """The element-wise decay G of every block, flattened like the state vector."""
        return np.concatenate([bg.decay.ravel() for bg in self.blocks])

    def rhs(
        self, t: float, y: np.ndarray, include_decay: bool = True, out: np.ndarray | None = None
    ) -> np.ndarray:
        """dy/dt for the flat state vector y (complex); without G * y if not include_decay.

        Written into ``out`` (a contiguous flat array like y, not aliasing it) when given.
        """
        coeffs = self.coefficients(t)
        states = self.split(y)
        if out is None:
            out = np.empty_like(y)
        derivs = self.split(out)
        for i, bg in enumerate(self.blocks):
            rho = states[i]
            h = bg.hamiltonian(coeffs)
            d = derivs[i]
            decay = bg.decay if include_decay else bg.no_decay
            # The same-block jumps are fused into this pass (kernels.commutator_decay).
            commutator_decay(rho, h.indptr, h.indices, h.data, decay, d, bg.j_offsets,
                             bg.j_weights)  # fmt: skip
            for jump in bg.jumps:
                if jump.flat_weights is None:  # to or from a neighbouring block (local)
                    jump.add_to(
                        d.reshape(bg.block.shape4),
                        states[jump.source].reshape(self.blocks[jump.source].block.shape4),
                    )
        return out


def _rotating_coefficients(p: Params) -> Callable[[float], np.ndarray]:
    """c_k(t) for [a, a^dag] (drive) and, for Dicke, [a J-, a^dag J+] (counter-rotating)."""
    wc = p.omega_c
    g = p.g
    dicke = p.model == "dicke"

    rotating_drive = p.drive_frame == "rotating"

    def coefficients(t: float) -> np.ndarray:
        eta = drive_envelope(t, p)
        phase = complex(math.cos(wc * t), math.sin(wc * t))  # e^{i wc t}
        # A lab-frame drive eta (a + a^dag) picks up the frame's phases; a drive defined in the
        # rotating frame (drive_frame="rotating") does not.
        c = [eta, eta] if rotating_drive else [eta * phase.conjugate(), eta * phase]
        if dicke:
            phase2 = phase * phase
            c += [g * phase2.conjugate(), g * phase2]
        return np.array(c, dtype=complex)

    return coefficients


def _local_transfer(p: Params, target: SpinBlock, source: SpinBlock, kind: str) -> Shift | None:
    """Jump matrix (real) bringing block ``source`` into ``target`` for a local channel.

    Returns the spin factor as a :class:`Shift` (the cavity factor is the identity), or None
    when the channel is off. ``kind`` is one of PIQS's separable terms, written for the source
    spin J and magnetic number M (and likewise M' on the other side):
      emission within j (gamma2):   from (j, M) to (j, M-1), u = sqrt((J+M)(J-M+1)),
                                    c = gE/2 (N/2+1)/(J(J+1))
      emission j+1 -> j (gamma3):   (J, M) -> (J-1, M-1), u = sqrt((J+M)(J+M-1)),
                                    c = gE/2 (N/2+J+1)/(J(2J+1))
      emission j-1 -> j (gamma4):   (J, M) -> (J+1, M-1), u = sqrt((J-M+1)(J-M+2)),
                                    c = gE/2 (N/2-J)/((J+1)(2J+1))
      dephasing j+1 -> j (gamma5):  (J, M) -> (J-1, M), u = sqrt(J^2-M^2),
                                    c = gD/2 (N/2+J+1)/(J(2J+1))
      dephasing j-1 -> j (gamma6):  (J, M) -> (J+1, M), u = sqrt((J+1)^2-M^2),
                                    c = gD/2 (N/2-J)/((J+1)(2J+1))
    with gE = gamma_relax and gD = 4 gamma_deph (PIQS's dephasing is sigma^z/2); the PIQS
    rate c u(M) u(M') becomes the jump matrix sqrt(c) u(M) |m><M| (identity on the cavity).
    """
    n_half = p.n / 2
    big_j = source.j
    g_e = p.gamma_relax
    g_d = 4.0 * p.gamma_deph
    big_m = source.m
    if kind == "emission_same":
        if g_e == 0 or big_j <= 0:
            return None
        u = np.sqrt(np.clip((big_j + big_m) * (big_j - big_m + 1.0), 0, None))
        c = g_e / 2 * (n_half + 1) / (big_j * (big_j + 1))
        shift = -1
    elif kind == "emission_down":
        if g_e == 0 or big_j <= 0:
            return None
        u = np.sqrt(np.clip((big_j + big_m) * (big_j + big_m - 1.0), 0, None))
        c = g_e / 2 * (n_half + big_j + 1) / (big_j * (2 * big_j + 1))
        shift = -1
    elif kind == "emission_up":
        if g_e == 0:
            return None
        u = np.sqrt(np.clip((big_j - big_m + 1.0) * (big_j - big_m + 2.0), 0, None))
        c = g_e / 2 * (n_half - big_j) / ((big_j + 1) * (2 * big_j + 1))
        shift = -1
    elif kind == "dephasing_down":
        if g_d == 0 or big_j <= 0:
            return None
        u = np.sqrt(np.clip(big_j**2 - big_m**2, 0, None))
        c = g_d / 2 * (n_half + big_j + 1) / (big_j * (2 * big_j + 1))
        shift = 0
    elif kind == "dephasing_up":
        if g_d == 0:
            return None
        u = np.sqrt(np.clip((big_j + 1) ** 2 - big_m**2, 0, None))
        c = g_d / 2 * (n_half - big_j) / ((big_j + 1) * (2 * big_j + 1))
        shift = 0
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    if c <= 0:
        return None
    weight = math.sqrt(c)
    rows, cols, vals = [], [], []
    for col, (mm, uu) in enumerate(zip(big_m, u, strict=True)):
        m_target = mm + shift
        if uu == 0 or not target.m[0] - 1e-9 <= m_target <= target.m[-1] + 1e-9:
            continue
        rows.append(int(round(m_target + target.j)))
        cols.append(col)
        vals.append(weight * uu)
    if not vals:
        return None
    spin_map = sp.csr_matrix((vals, (rows, cols)), shape=(target.n_spin, source.n_spin))
    return Shift.from_matrix(spin_map)


def _local_diagonal_decay(p: Params, block: SpinBlock) -> np.ndarray:
    """PIQS gamma1 for local emission and dephasing (element-wise over (m, m')), our rates."""
    n = float(p.n)
    j = block.j
    m = block.magnetic_numbers()
    mm, mp = m[:, None], m[None, :]
    g_e = p.gamma_relax
    g_d = 4.0 * p.gamma_deph
    losses = g_e / 2 * (n + mm + mp)
    if j <= 0:
        dephase = np.full_like(losses, g_d * n / 4)
    else:
        dephase = g_d / 2 * (n / 2 - mm * mp * (n / 2 + 1) / (j * (j + 1)))
    return -(losses + dephase)


def excitation_bound(p: Params) -> int | None:
    """The most excitations ``n + m + N/2`` the dynamics can ever hold, when the model bounds
    it exactly; None when it does not.

    Undriven Tavis-Cummings: the RWA coupling and the detuning conserve ``n + m + N/2``, the
    dephasing channels leave it unchanged, and cavity loss and qubit emission (collective or
    local) only lower it, so a run that starts with the ``n0`` photons of the undriven setup
    never holds more. The drive and the Dicke counter-rotating terms change it (no bound).
    """
    if p.model == "tc" and not p.driven:
        return p.n0
    return None


def _block_layout(p: Params, bound: int | None) -> list[SpinBlock]:
    """The blocks of the representation, each capped to ``bound`` excitations if given.

    Block j's lowest state holds ``N/2 - j`` excitations, so it keeps the rectangle
    ``n, m + j <= bound - (N/2 - j)`` (every state with at most ``bound`` excitations), and
    blocks whose lowest state already exceeds the bound are left out: no state with at most
    ``bound`` excitations lives there, and no channel raises the excitation number.
    """
    spins = [p.n / 2] if p.dissipation == "collective" else spin_values(p.n)
    layout = []
    for j in spins:
        cap = None if bound is None else bound - int(round(p.n / 2 - j))
        if cap is not None and cap < 0:
            break  # spins descend, so every later block holds more excitations still
        layout.append(SpinBlock(j=j, degeneracy=degeneracy(p.n, j), nmax=p.nmax, cap=cap))
    return layout


def build_generator(p: Params, *, truncate: bool = True, cap: int | None = None) -> Generator:
    """The generator for one parameter point, in the rotating frame (see module docstring).

    With ``truncate`` (default) and an exact excitation bound (:func:`excitation_bound`), only
    the states within the bound are kept; the dynamics never leaves them, so this is exact, not
    an approximation (tests compare it with ``truncate=False`` and the brute-force reference).

    ``cap`` (with ``truncate``) keeps only the states of at most ``cap`` excitations in the
    same way where no exact bound is smaller. That IS an approximation: population can leave
    through the cap's edge, which the caller must watch (``Generator.capped``,
    :meth:`SpinBlock.edge_spin`; :func:`qbpaper.solve.simulate` does, and widens the cap).
    """
    bound = excitation_bound(p) if truncate else None
    capped = False
    if truncate and cap is not None and (bound is None or cap < bound):
        bound, capped = cap, True
    blocks = _block_layout(p, bound)
    coefficients = _rotating_coefficients(p)
    generators = []
    for index, blk in enumerate(blocks):
        a = blk.on_block(blk.cavity_lower(), None)
        jm = blk.on_block(None, blk.spin_lower())
        jz = sp.diags(blk.magnetic_numbers(), format="csr")
        coupling = a.T @ jm + a @ jm.T
        h_static = (1.0 - p.omega_c) * jz + p.g * coupling
        h_driven = [a, a.T]
        if p.model == "dicke":
            h_driven += [a @ jm, (a @ jm).T]
        n_row = blk.fock_numbers()
        m_row = blk.magnetic_numbers()
        # Cavity loss: anticommutator part on the diagonal, jump a P a^T.
        decay = -0.5 * p.kappa * (n_row[:, None] + n_row[None, :])
        jumps: list[Jump] = []
        spin_identity = Shift(0, 0, np.ones(blk.n_spin))
        if p.kappa > 0 and blk.n_fock > 1:
            lower = Shift.from_matrix(math.sqrt(p.kappa) * blk.cavity_lower())
            jumps.append(Jump(index, lower, spin_identity))
        if p.dissipation == "collective":
            jpjm = (blk.j + m_row) * (blk.j - m_row + 1.0)  # <m|J+ J-|m>
            decay = decay - 0.5 * p.gamma_relax * (jpjm[:, None] + jpjm[None, :])
            decay = decay - 2.0 * p.gamma_deph * (m_row[:, None] - m_row[None, :]) ** 2
            if p.gamma_relax > 0 and blk.n_spin > 1:
                spin_lower = Shift.from_matrix(math.sqrt(p.gamma_relax) * blk.spin_lower())
                jumps.append(Jump(index, _cavity_identity(blk, blk), spin_lower))
        else:
            decay = decay + _local_diagonal_decay(p, blk)
            neighbours = {"emission_same": index, "dephasing_down": index - 1,
                          "emission_down": index - 1, "emission_up": index + 1,
                          "dephasing_up": index + 1}  # fmt: skip
            for kind, src in neighbours.items():
                if 0 <= src < len(blocks):
                    spin = _local_transfer(p, blk, blocks[src], kind)
                    if spin is not None:
                        jumps.append(Jump(src, _cavity_identity(blk, blocks[src]), spin))
        jumps = [j.flatten(blk.n_fock, blk.n_spin) if j.source == index else j for j in jumps]
        generators.append(
            BlockGenerator(
                block=blk,
                h_static=h_static.astype(complex).tocsr(),
                h_driven=[h.astype(complex).tocsr() for h in h_driven],
                coupling=coupling.tocsr(),
                decay=decay,
                jumps=jumps,
            )
        )
    layout = _block_layout(p, None)
    gen = Generator(params=p, blocks=generators, coefficients=coefficients, layout=layout)
    gen.capped = capped and gen.truncated
    return gen


def _cavity_identity(target: SpinBlock, source: SpinBlock) -> Shift:
    """The identity on the Fock levels both blocks keep (a local channel leaves n alone)."""
    return Shift(0, 0, np.ones(min(target.n_fock, source.n_fock)))


def drive_off_time(p: Params) -> float:
    """The time after which |eta(t)| stays below DRIVE_NEGLIGIBLE (0 if undriven).

    The amplitude's size decides: a negative eta0 is the same drive with the opposite phase.
    """
    amplitude = abs(p.eta0)
    if not p.driven or amplitude <= DRIVE_NEGLIGIBLE:
        return 0.0
    return p.t0 + p.sigma * math.sqrt(2.0 * math.log(amplitude / DRIVE_NEGLIGIBLE))


#: Drive amplitude (omega_q units) below which the drive is dropped after its peak: its whole
#: remaining effect, ~ DRIVE_NEGLIGIBLE * sigma * sqrt(nmax), is far below the tolerances.
DRIVE_NEGLIGIBLE = 1e-14


def constant_generator(gen: Generator) -> tuple[Generator, float]:
    """The generator with the drive off, time-independent: and its frame frequency w.

    TC is constant in the rotating frame (w = 0). Dicke is constant only in the lab frame
    (w = omega_c), where H = omega_c a^dag a + omega_q Jz + g (a + a^dag)(J+ + J-): its state
    there is the rotating one turned by ``exp(-i w t (a^dag a + Jz))``, element
    ``[r, c]`` times ``exp(-i w t (N_r - N_c))`` with ``N = n + m`` (:func:`frame_numbers`).
    The dissipators are the same in both frames.
    """
    p = gen.params
    w = p.omega_c if p.model == "dicke" else 0.0
    blocks = []
    for bg in gen.blocks:
        h = bg.h_static
        if p.model == "dicke":  # the counter-rotating terms at t = 0, plus the frame's own
            h = h + p.g * (bg.h_driven[2] + bg.h_driven[3])
            h = h + w * sp.diags(frame_numbers(bg.block)).astype(complex)
        blocks.append(
            BlockGenerator(
                block=bg.block,
                h_static=sp.csr_matrix(h),
                h_driven=[],
                coupling=bg.coupling,
                decay=bg.decay,
                jumps=bg.jumps,
            )  # fmt: skip
        )
    const = Generator(params=p, blocks=blocks, coefficients=lambda t: np.zeros(0, dtype=complex),
                      layout=gen.layout, capped=gen.capped)  # fmt: skip
    return const, w


def frame_numbers(block: SpinBlock) -> np.ndarray:
    """a^dag a + Jz of each row of a block (the frame rotation's generator)."""
    return block.fock_numbers() + block.magnetic_numbers()


class SpectrumParts(NamedTuple):
    """What bounds a constant generator's spectrum, part by part (omega_q units).

    ``spread``: the largest eigenvalue spread of a block's Hamiltonian (computed exactly), so
    ``-i [H, .]`` has eigenvalues within ``|Im| <= spread``; ``decay_min``, ``decay_max``: the
    range of the element-wise decay G (real, <= 0); ``jump``: the largest sum over the jumps
    into one block of ``||A||^2``, a bound on the norm of the jump terms ``A P A^T``."""

    spread: float
    decay_min: float
    decay_max: float
    jump: float


def spectrum_parts(gen: Generator) -> SpectrumParts:
    """The parts of :class:`SpectrumParts` for the generator at t = 0."""
    spread = decay_min = decay_max = jump = 0.0
    for bg in gen.blocks:
        h = bg.hamiltonian(gen.coefficients(0.0)).toarray()
        energies = np.linalg.eigvalsh(0.5 * (h + h.conj().T))
        spread = max(spread, float(energies[-1] - energies[0]))
        decay_min = min(decay_min, float(bg.decay.min()))
        decay_max = max(decay_max, float(bg.decay.max()))
        into = 0.0
        for j in bg.jumps:
            if j.flat_weights is not None:
                into += float(np.max(np.abs(j.flat_weights))) ** 2
            else:
                into += (float(np.max(np.abs(j.cavity.weights)))
                         * float(np.max(np.abs(j.spin.weights)))) ** 2  # fmt: skip
        jump = max(jump, into)
    return SpectrumParts(spread, decay_min, decay_max, jump)


def spectral_bounds(gen: Generator) -> tuple[float, float, float]:
    """Bounds on the spectrum of a constant generator: (spread, decay_min, decay_max).

    The Hamiltonian's spread bounds the imaginary parts, the element-wise decay the real parts,
    and the jump terms widen both ranges by their norm bound (:func:`spectrum_parts`).
    """
    parts = spectrum_parts(gen)
    return parts.spread + parts.jump, parts.decay_min - parts.jump, parts.decay_max + parts.jump
