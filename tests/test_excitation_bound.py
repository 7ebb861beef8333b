"""The exact excitation bound of undriven Tavis-Cummings (qbpaper.model.excitation_bound).

Without drive, the TC Hamiltonian conserves n + m + N/2 and no channel raises it, so the solver
keeps only the states with at most n0 excitations. These tests check the premise on the full
model (nothing ever leaves the bound, and the cases without a bound do leave it), that the
capped run equals the full one, and that observers still see full-size blocks.
"""

import numpy as np
import pytest

from qbpaper import Params, simulate
from qbpaper.model import build_generator, excitation_bound

SERIES = ("energy", "s_qubits", "s_cavity", "photons", "top_fock", "trace")


def _lossy(**kw) -> Params:
    base = dict(kappa=0.05, gamma_relax=0.1, gamma_deph=0.2, detuning=0.1, g=0.3,
                nmax=4, t_final=8.0, dt=0.1)  # fmt: skip
    base.update(kw)
    return Params(**base)


def _population_above(blocks, gen, bound: int) -> float:
    """Population of the states holding more than ``bound`` excitations (full layout)."""
    p = gen.params
    total = 0.0
    for blk, rho in zip(gen.layout, blocks, strict=True):
        excitations = blk.fock_numbers() + blk.magnetic_numbers() + p.n / 2
        total += float(np.real(np.diagonal(rho))[excitations > bound + 1e-9].sum())
    return total


@pytest.mark.parametrize("dissipation", ["collective", "local"])
def test_full_model_never_leaves_the_bound_without_drive(dissipation):
    p = _lossy(model="tc", driven=False, n=4, n0=2, dissipation=dissipation)
    gen = build_generator(p, truncate=False)
    seen = []

    def observer(t, blocks, degeneracies):
        seen.append(_population_above(blocks, gen, 2))

    simulate(p, truncate=False, observer=observer)
    assert excitation_bound(p) == 2
    assert max(seen) < 1e-14


@pytest.mark.parametrize(
    "changes", [dict(model="dicke", driven=False), dict(model="tc", driven=True)]
)
def test_drive_and_counter_rotating_terms_leave_the_bound(changes):
    """Where excitation_bound gives None, capping would be wrong: the population does leave."""
    p = _lossy(n=3, n0=1, **changes)
    assert excitation_bound(p) is None
    gen = build_generator(p, truncate=False)
    seen = []
    simulate(p, observer=lambda t, blocks, d: seen.append(_population_above(blocks, gen, 1)))
    assert max(seen) > 1e-4


@pytest.mark.parametrize("dissipation", ["collective", "local"])
@pytest.mark.parametrize("n, n0", [(1, 1), (3, 1), (4, 2), (5, 3)])
def test_capped_run_equals_full_run(dissipation, n, n0):
    rng = np.random.default_rng(n * 10 + n0)
    p = _lossy(model="tc", driven=False, n=n, n0=n0, dissipation=dissipation,
               energy=str(rng.choice(["qubit", "total"])), rtol=1e-11, atol=1e-13)  # fmt: skip
    capped_gen = build_generator(p)
    full_gen = build_generator(p, truncate=False)
    assert capped_gen.truncated and not full_gen.truncated
    assert capped_gen.offsets[-1] < full_gen.offsets[-1]  # fewer states: the check bites
    capped, full = simulate(p), simulate(p, truncate=False)
    for name in SERIES:
        assert np.max(np.abs(getattr(capped, name) - getattr(full, name))) < 1e-9, name
    assert np.abs(capped.energy).max() > 1e-2 and capped.s_qubits.max() > 1e-2  # not still


def test_observer_sees_full_size_blocks_of_a_capped_run():
    p = _lossy(model="tc", driven=False, n=4, n0=1, dissipation="local", t_final=2.0)
    full = build_generator(p, truncate=False)
    shapes, traces = [], []

    def observer(t, blocks, degeneracies):
        shapes.append([b.shape for b in blocks])
        traces.append(sum(np.trace(b).real for b in blocks))
        assert degeneracies == [blk.degeneracy for blk in full.layout]

    simulate(p, observer=observer)
    assert all(s == [(blk.dim, blk.dim) for blk in full.layout] for s in shapes)
    assert np.allclose(traces, 1.0, atol=1e-8)


def test_capped_layout_sizes():
    """N = 50, n0 = 1: collective keeps 2 x 2 states (n <= 1, one excitation of the qubits at
    most), local keeps the two highest spins only."""
    collective = build_generator(Params(model="tc", n=50, driven=False, n0=1))
    assert [(bg.block.n_fock, bg.block.n_spin) for bg in collective.blocks] == [(2, 2)]
    local = build_generator(Params(model="tc", n=50, driven=False, n0=1, dissipation="local"))
    assert [bg.block.j for bg in local.blocks] == [25.0, 24.0]
    assert [(bg.block.n_fock, bg.block.n_spin) for bg in local.blocks] == [(2, 2), (1, 1)]
    assert len(local.layout) == 26
