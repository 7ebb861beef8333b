"""Parity split of the undriven collective Dicke generator: two half-size blocks instead of one.

Without the drive, the Dicke Hamiltonian conserves the parity of the excitation number
``n + m + j`` (every coupling term, ``a J+``, ``a J-`` and their conjugates, changes it by 0
or 2), and each collective jump (``a``, ``J-``) flips it while collective dephasing keeps it.
The initial state (cavity ``|n0>``, all qubits down) has one parity, so the density matrix
stays block diagonal: ``rho = rho_EE + rho_OO`` over the even and odd states, and its
parity-mixed elements stay exactly zero. Storing only the two diagonal blocks halves the
numbers, the commutator's work and every stage combination of the integrators; the jumps
become "gathers" from one block into the other (:func:`qbpaper.kernels.add_gather_jump`).

Why hand-written: this is a change of storage for our dense block layout (see
:mod:`qbpaper.model`), which no library does for us; QuTiP's sparse Liouvillians skip the
zeros anyway, but at a far higher cost per nonzero (see the benchmark chapter).

The split is exact: the tests compare it with the unsplit run and with the brute-force
reference. It applies where :func:`applies` says so; the drive (``a + a^dag``) mixes the
parities, and the local channels act on many spin blocks (not split here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from qbpaper.kernels import add_gather_jump, commutator_decay
from qbpaper.model import BlockGenerator, Generator

#: Models the split is used for. Undriven Tavis-Cummings would qualify too, but its exact
#: excitation bound already makes it cheap (measured split gains there are not worth a second
#: code path).
MODELS = ("dicke",)


def applies(gen: Generator) -> bool:
    """Whether ``gen`` can be split by parity: undriven, collective, one uncapped block."""
    p = gen.params
    return (
        p.model in MODELS
        and not p.driven
        and p.dissipation == "collective"
        and len(gen.blocks) == 1
        and not gen.truncated
    )


@dataclass
class _SideBlock:
    """What BlockGenerator needs of a block: its dimension (no (n, m) grid here)."""

    dim: int


@dataclass
class _Gather:
    """``target[r, c] += w[r] w[c] source[src[r], src[c]]`` from block ``source`` (w = 0, src
    = 0 where the jump has no term)."""

    source: int
    weights: np.ndarray
    src: np.ndarray


@dataclass
class ParitySplit:
    """The generator on the even (0) and odd (1) blocks; ``pack``/``unpack`` convert a flat
    state of the unsplit one-block generator to this layout and back."""

    gen: Generator
    index: list[np.ndarray] = field(init=False)  # rows of the full block on each side
    sides: list[BlockGenerator] = field(init=False)
    gathers: list[list[_Gather]] = field(init=False)
    keep: np.ndarray = field(init=False)  # which time-dependent pieces of H act here

    def __post_init__(self) -> None:
        if not applies(self.gen):
            raise ValueError("the parity split needs an undriven, collective, one-block model")
        (bg,) = self.gen.blocks
        blk = bg.block
        parity = np.rint(blk.fock_numbers() + blk.magnetic_numbers() + blk.j).astype(int) % 2
        self.index = [np.flatnonzero(parity == 0), np.flatnonzero(parity == 1)]
        even, odd = self.index
        pieces = [bg.h_static, *bg.h_driven]
        keep = []
        for k, piece in enumerate(pieces):
            mixes = sp.csr_matrix(piece)[even][:, odd].count_nonzero() > 0
            if not mixes:
                keep.append(k)
            elif k not in (1, 2):  # only the drive (a, a^dag; coefficients 0 here) mixes
                raise ValueError(f"Hamiltonian piece {k} mixes the parities")
        if 0 not in keep:
            raise ValueError("the static Hamiltonian mixes the parities")
        self.keep = np.array([k - 1 for k in keep if k > 0], dtype=int)
        self.sides = []
        for rows in self.index:
            cut = [sp.csr_matrix(sp.csr_matrix(pieces[k])[rows][:, rows]) for k in keep]
            self.sides.append(
                BlockGenerator(
                    block=_SideBlock(rows.size),
                    h_static=cut[0],
                    h_driven=cut[1:],
                    coupling=sp.csr_matrix(bg.coupling[rows][:, rows]),
                    decay=np.ascontiguousarray(bg.decay[np.ix_(rows, rows)]),
                    jumps=[],
                )
            )
        self.gathers = [[], []]
        position = np.empty(blk.dim, dtype=np.int64)  # row of the full block -> row on its side
        for rows in self.index:
            position[rows] = np.arange(rows.size)
        for jump in bg.jumps:
            if jump.flat_weights is None:
                raise ValueError("only same-block (collective) jumps can be split")
            w, offset = jump.flat_weights, jump.flat_offset
            for side, rows in enumerate(self.index):
                wr = w[rows]
                active = np.flatnonzero(wr != 0.0)
                if active.size == 0:
                    continue
                sources = rows[active] + offset
                from_side = parity[sources]
                if np.any(from_side != from_side[0]):
                    raise ValueError("a jump reaches both parities")
                src = np.zeros(rows.size, dtype=np.int64)
                src[active] = position[sources]
                weights = np.zeros(rows.size)
                weights[active] = wr[active]
                self.gathers[side].append(_Gather(int(from_side[0]), weights, src))
        dim = blk.dim
        self._flat = [(rows[:, None] * dim + rows[None, :]).ravel() for rows in self.index]
        sizes = [rows.size**2 for rows in self.index]
        self.offsets = np.array([0, sizes[0], sizes[0] + sizes[1]])
        self._full_size = dim * dim

    def split(self, y: np.ndarray) -> list[np.ndarray]:
        """Views of a packed state as the even and the odd block."""
        off = self.offsets
        return [y[off[i] : off[i + 1]].reshape(rows.size, rows.size)
                for i, rows in enumerate(self.index)]  # fmt: skip

    def pack(self, full: np.ndarray) -> np.ndarray:
        """The packed state of a flat one-block state (its parity-mixed part is dropped)."""
        return np.concatenate([full[flat] for flat in self._flat])

    def unpack(self, y: np.ndarray) -> np.ndarray:
        """The flat one-block state of a packed one (zeros between the parities)."""
        full = np.zeros(self._full_size, dtype=complex)
        for flat, part in zip(self._flat, self.split(y), strict=True):
            full[flat] = part.ravel()
        return full

    def decay_flat(self) -> np.ndarray:
        """The element-wise decay G of both blocks, flattened like the packed state."""
        return np.concatenate([side.decay.ravel() for side in self.sides])

    def rhs(
        self, t: float, y: np.ndarray, include_decay: bool = True, out: np.ndarray | None = None
    ) -> np.ndarray:
        """dy/dt for a packed state (see :meth:`qbpaper.model.Generator.rhs`)."""
        coeffs = np.asarray(self.gen.coefficients(t))[self.keep]
        states = self.split(y)
        if out is None:
            out = np.empty_like(y)
        derivs = self.split(out)
        for side, rho, d in zip(self.sides, states, derivs, strict=True):
            h = side.hamiltonian(coeffs)
            decay = side.decay if include_decay else side.no_decay
            commutator_decay(rho, h.indptr, h.indices, h.data, decay, d, side.j_offsets,
                             side.j_weights)  # fmt: skip
        for d, gathers in zip(derivs, self.gathers, strict=True):
            for g in gathers:
                add_gather_jump(d, states[g.source], g.weights, g.src)
        return out
