"""The watched excitation cap of driven Tavis-Cummings (qbpaper.solve.CAP_TOLERANCE).

Driven TC keeps only the states of at most K excitations. That is an approximation, so the
solver watches the population on the cap's edge and restarts with a wider cap when it passes
CAP_TOLERANCE. The production cap starts at K = CAP_FIRST = 22, which only cuts anything at
N >= 25; these tests lower it (monkeypatch) so that it engages on small systems, and check
that the capped run matches the uncapped one and the brute-force reference, that the watch is
what makes it right, and that the failed attempts are counted.
"""

import re
import warnings

import numpy as np
import pytest
from reference_bruteforce import bruteforce_trajectory

from qbpaper import Params, chebyshev, simulate, solve
from qbpaper.model import Generator, build_generator

SERIES = ("energy", "s_qubits", "s_cavity", "photons", "top_fock", "trace")


def _driven(**kw) -> Params:
    base = dict(model="tc", driven=True, g=0.3, kappa=0.05, gamma_relax=0.1, gamma_deph=0.2,
                detuning=0.1, nmax=4, t_final=8.0, dt=0.1, rtol=1e-11, atol=1e-13)  # fmt: skip
    base.update(kw)
    return Params(**base)


def _cap_of(method: str) -> int | None:
    found = re.search(r"\+cap(\d+)$", method)
    return int(found.group(1)) if found else None


@pytest.fixture
def small_caps(monkeypatch):
    """Caps that start at one excitation and widen two at a time."""
    monkeypatch.setattr(solve, "CAP_FIRST", 1)
    monkeypatch.setattr(solve, "CAP_GROWTH", 2)


def _max_deviation(a, b) -> float:
    return max(float(np.max(np.abs(getattr(a, s) - getattr(b, s)))) for s in SERIES)


@pytest.mark.parametrize("dissipation, energy", [("collective", "qubit"), ("local", "qubit"),
                                                 ("collective", "total")])  # fmt: skip
def test_capped_run_matches_the_uncapped_one(small_caps, dissipation, energy):
    p = _driven(n=10, dissipation=dissipation, eta0=0.2, energy=energy)
    capped, full = simulate(p), simulate(p, truncate=False)
    cap = _cap_of(capped.method)
    assert cap is not None and 1 < cap < 10, capped.method  # widened, and still cutting
    assert _cap_of(full.method) is None
    assert _max_deviation(capped, full) < 1e-9
    assert capped.energy.max() > 0.01  # the drive did something


def test_the_edge_watch_is_what_keeps_it_right(small_caps, monkeypatch):
    """Without the watch (tolerance 1) the first cap stays, and the run is visibly wrong."""
    p = _driven(n=10, eta0=0.2)
    full = simulate(p, truncate=False)
    monkeypatch.setattr(solve, "CAP_TOLERANCE", 1.0)
    blind = simulate(p)
    assert _cap_of(blind.method) == 1
    assert _max_deviation(blind, full) > 1e-3


def test_failed_attempts_are_counted(small_caps, monkeypatch):
    p = _driven(n=10, eta0=0.2, t_final=4.0)
    widened = simulate(p)
    monkeypatch.setattr(solve, "CAP_FIRST", _cap_of(widened.method))
    direct = simulate(p)
    assert direct.method == widened.method
    assert widened.rhs_evaluations > direct.rhs_evaluations
    assert _max_deviation(widened, direct) == 0.0  # the same final run


def test_the_watch_follows_a_looser_atol(small_caps):
    """Below atol the edge population is noise: the watch uses max(CAP_TOLERANCE, atol), and
    the capped run then stays within the integrator's own error of the uncapped one."""
    assert solve.cap_tolerance(_driven(atol=1e-13)) == solve.CAP_TOLERANCE
    assert solve.cap_tolerance(_driven(atol=1e-8)) == 1e-8
    p = _driven(n=10, eta0=0.2, rtol=1e-6, atol=1e-8)
    with pytest.warns(solve.QbpaperWarning):  # loose tolerances: tiny negative eigenvalues
        capped, full = simulate(p), simulate(p, truncate=False)
    assert _cap_of(capped.method) is not None
    assert _max_deviation(capped, full) < 1e-5


@pytest.mark.parametrize("rtol, atol", [(1e-11, 1e-13), (1e-6, 1e-8)])
def test_every_application_of_the_generator_is_counted(small_caps, monkeypatch, rtol, atol):
    """rhs_evaluations counts every application: failed capped attempts, the Chebyshev tail
    and, with the series forced to diverge, its DOP853 fallback."""
    calls = [0]
    original = Generator.rhs

    def counting(self, *args, **kwargs):
        calls[0] += 1
        return original(self, *args, **kwargs)

    def diverge(*args, **kwargs):
        raise chebyshev.ChebyshevDivergence("forced")

    monkeypatch.setattr(Generator, "rhs", counting)
    p = _driven(n=10, eta0=0.2, sigma=1.0, t_final=25.0, rtol=rtol, atol=atol)
    for forced in (False, True):
        if forced:
            monkeypatch.setattr(chebyshev, "propagate", diverge)
        calls[0] = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", solve.QbpaperWarning)
            traj = simulate(p)
        assert _cap_of(traj.method) is not None
        assert traj.rhs_evaluations == calls[0], (forced, traj.method)


class _Bar:
    def __init__(self, total):
        self.total, self.count, self.resets, self.closed = total, 0, 0, 0

    def update(self, k):
        self.count += k

    def reset(self):
        self.count, self.resets = 0, self.resets + 1

    def set_postfix_str(self, text):
        self.postfix = text

    def close(self):
        self.closed += 1


def test_one_progress_bar_rewound_on_each_restart(small_caps, monkeypatch):
    bars = []
    monkeypatch.setattr(solve, "_progress_bar", lambda total, on: bars.append(_Bar(total))
                        or bars[-1])  # fmt: skip
    p = _driven(n=10, eta0=0.2, t_final=4.0)
    traj = simulate(p, progress=True)
    restarts = (_cap_of(traj.method) - solve.CAP_FIRST) // solve.CAP_GROWTH
    assert restarts > 0
    (bar,) = bars
    assert (bar.resets, bar.closed) == (restarts, 1)
    assert bar.count == bar.total == p.n_steps


@pytest.mark.parametrize("dissipation", ["collective", "local"])
def test_capped_run_matches_brute_force(small_caps, monkeypatch, dissipation):
    """At N = 4 a cap still cuts only with a looser watch (1e-9: errors ~ 1e-8, far below the
    reference's 1e-6); the brute-force reference knows nothing of caps or blocks."""
    monkeypatch.setattr(solve, "CAP_TOLERANCE", 1e-9)
    p = _driven(n=4, nmax=3, dissipation=dissipation, eta0=0.02, g=0.1, rtol=1e-11,
                atol=1e-14)  # fmt: skip
    traj = simulate(p)
    assert _cap_of(traj.method) is not None, traj.method  # the check bites
    assert build_generator(p, cap=_cap_of(traj.method)).capped
    ref = bruteforce_trajectory(p, rtol=1e-11, atol=1e-14)
    # The drive is weak here (E_max ~ 1e-4), so the tolerance is 1e-9 rather than 1e-6.
    assert traj.energy.max() > 3e-5
    for name in ("energy", "s_qubits", "s_cavity", "photons"):
        assert np.max(np.abs(getattr(traj, name) - ref[name])) < 1e-9, name


@pytest.mark.parametrize(
    "changes",
    [dict(model="dicke"), dict(driven=False), dict(n=24)],
)
def test_no_cap_where_it_cannot_help_or_is_not_watched(changes):
    """Dicke (counter-rotating terms), undriven TC (its bound is exact) and N < CAP_FIRST + 3
    start without the approximate cap; driven TC at N = 50 starts with it."""
    assert solve.first_cap(_driven(**{"n": 40, **changes})) is None
    assert solve.first_cap(_driven(n=50)) == solve.CAP_FIRST
    assert build_generator(_driven(n=50), cap=solve.CAP_FIRST).capped
    assert not build_generator(_driven(n=50, driven=False), cap=solve.CAP_FIRST).capped


def test_observer_turns_the_cap_off(small_caps):
    p = _driven(n=10, eta0=0.2, t_final=1.0)
    sizes = []
    traj = simulate(p, observer=lambda t, blocks, d: sizes.append(blocks[0].shape))
    assert _cap_of(traj.method) is None
    assert set(sizes) == {(55, 55)}


@pytest.mark.parametrize("dissipation", ["collective", "local"])
@pytest.mark.parametrize("cap", [2, 3, 4, 5])
def test_every_state_that_couples_out_of_the_cap_is_on_the_watched_edge(dissipation, cap):
    """Basis state by basis state: where the uncapped generator moves population (or
    coherence) out of the kept states, the edge measure of that state is positive. Covers
    the Hamiltonian (drive and coupling at the cut levels) and the jumps between local
    blocks, whose caps differ by one."""
    p = _driven(n=8, nmax=3, dissipation=dissipation, t_final=1.0)
    capped, full = build_generator(p, cap=cap), build_generator(p, truncate=False)
    assert capped.capped
    reduced = solve.ReducedStates(capped, None)
    t = p.t0  # drive at its peak
    y = np.zeros(capped.offsets[-1], dtype=complex)
    leaking = 0
    for index, block in enumerate(capped.split(y)):
        for s in range(block.shape[0]):
            y[:] = 0.0
            capped.split(y)[index][s, s] = 1.0
            blocks = capped.split(y)
            embedded = np.concatenate([b.ravel() for b in capped.expand(blocks)])
            exact = full.rhs(t, embedded)
            approx = np.concatenate(
                [b.ravel() for b in capped.expand(capped.split(capped.rhs(t, y)))]
            )
            leaks = np.max(np.abs(exact - approx)) > 1e-12
            edge = reduced.measure(reduced(blocks)).edge
            assert edge > 0 or not leaks, (index, s)
            leaking += leaks
    assert leaking > 0  # the check bites
