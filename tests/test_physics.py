"""Physics invariants and analytic limits of the engine, in both representations."""

import math
import warnings

import numpy as np
import pytest

from qbpaper import Params, simulate
from qbpaper.model import build_generator, degeneracy, spin_values

LOSSLESS = {"kappa": 0.0, "gamma_relax": 0.0, "gamma_deph": 0.0}


def _short(**changes):
    base = {"n": 3, "nmax": 5, "t_final": 12.0, "dt": 0.1, "g": 0.3}
    base.update(changes)
    return Params(**base)


def test_degeneracies_count_all_2_to_the_n_states():
    for n in range(1, 13):
        total = sum(degeneracy(n, j) * int(2 * j + 1) for j in spin_values(n))
        assert total == 2**n


@pytest.mark.parametrize("dissipation", ["collective", "local"])
@pytest.mark.parametrize("model", ["tc", "dicke"])
def test_state_stays_a_density_matrix(model, dissipation):
    """Trace 1, hermiticity and eigenvalues >= -1e-8 of the (true) state along a lossy run."""
    p = _short(model=model, dissipation=dissipation, kappa=0.05, gamma_relax=0.1,
               gamma_deph=0.2, n=4)  # fmt: skip
    seen = []

    def observer(t, blocks, degeneracies):
        trace = sum(np.trace(b).real for b in blocks)
        herm = max(float(np.max(np.abs(b - b.conj().T))) for b in blocks)
        low = min(
            float(np.linalg.eigvalsh(b).min()) / d
            for b, d in zip(blocks, degeneracies, strict=True)
        )
        seen.append((trace, herm, low))

    simulate(p, observer=observer)
    arr = np.array(seen)
    assert len(arr) == p.n_steps + 1
    assert np.max(np.abs(arr[:, 0] - 1.0)) < 1e-8
    assert np.max(arr[:, 1]) < 1e-10
    assert np.min(arr[:, 2]) > -1e-8


@pytest.mark.parametrize("dissipation", ["collective", "local"])
@pytest.mark.parametrize("model", ["tc", "dicke"])
@pytest.mark.parametrize("driven", [True, False])
def test_closed_system_entropies_are_equal(model, dissipation, driven):
    traj = simulate(_short(model=model, dissipation=dissipation, driven=driven, **LOSSLESS))
    assert np.max(np.abs(traj.s_qubits - traj.s_cavity)) < 1e-7
    assert traj.s_qubits.max() > 1e-2  # the check is not vacuous


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_undriven_tc_rabi_time(n):
    """From |1>|G> without loss: E_max = 1 at tau = pi / (2 g sqrt(N))."""
    g = 0.1
    expected = math.pi / (2 * g * math.sqrt(n))
    p = Params(model="tc", n=n, g=g, driven=False, n0=1, nmax=2,
               t_final=math.ceil(expected) + 2.0, dt=0.05, **LOSSLESS)  # fmt: skip
    obs = simulate(p).observables()
    assert obs.E_max_refined == pytest.approx(1.0, abs=1e-6)
    assert obs.tau_refined == pytest.approx(expected, abs=1e-5)
    assert abs(obs.tau - expected) <= p.dt / 2 + 1e-9


@pytest.mark.parametrize("model", ["tc", "dicke"])
def test_drive_sign_does_not_matter(model):
    """eta0 -> -eta0 is undone by a -> -a, J+- -> -J+- (exp(i pi (a^dag a + Jz))), which
    leaves H_int, the dissipators and the initial state alone: every series must agree. The
    run outlasts the drive, so the drive-free tail of method "auto" is covered too."""
    common = dict(model=model, n=2, g=0.3, nmax=6, t_final=25.0, driven=True, gamma_deph=0.05)
    plus = simulate(Params(eta0=1.0, **common))
    minus = simulate(Params(eta0=-1.0, **common))
    assert plus.observables().E_max > 0.1
    for name in ("energy", "s_qubits", "s_cavity", "photons"):
        np.testing.assert_allclose(getattr(minus, name), getattr(plus, name), atol=1e-8)


@pytest.mark.parametrize("model", ["tc", "dicke"])
def test_total_energy_is_conserved_when_closed_and_undriven(model):
    p = _short(model=model, driven=False, energy="total", **LOSSLESS)
    traj = simulate(p)
    assert np.max(np.abs(traj.energy)) < 1e-7
    qubit = simulate(p.replace(energy="qubit"))
    assert qubit.energy.max() > 0.1  # energy does flow between cavity and qubits


@pytest.mark.parametrize("model", ["tc", "dicke"])
@pytest.mark.parametrize("driven", [True, False])
def test_local_equals_collective_for_one_qubit(model, driven):
    p = _short(model=model, driven=driven, n=1, kappa=0.05, gamma_relax=0.1, gamma_deph=0.3)
    a = simulate(p.replace(dissipation="collective"))
    b = simulate(p.replace(dissipation="local"))
    for name in ("energy", "s_qubits", "s_cavity", "photons"):
        assert np.max(np.abs(getattr(a, name) - getattr(b, name))) < 1e-9, name


def test_local_and_collective_differ_for_two_qubits_with_dephasing():
    p = _short(n=2, gamma_deph=0.2, gamma_relax=0.0, kappa=0.0)
    a = simulate(p.replace(dissipation="collective"))
    b = simulate(p.replace(dissipation="local"))
    assert np.max(np.abs(a.s_qubits - b.s_qubits)) > 1e-3
    # Local dephasing leaves the symmetric subspace: lower-j blocks get populated.
    populations = []
    simulate(
        p.replace(dissipation="local"),
        observer=lambda t, blocks, d: populations.append(np.trace(blocks[-1]).real),
    )
    assert max(populations) > 1e-3


def test_generator_preserves_trace_for_random_block_states():
    """d/dt Tr rho = 0 for arbitrary Hermitian block states, every local channel on."""
    rng = np.random.default_rng(1)
    for n in (3, 4, 5):
        p = Params(n=n, nmax=2, model="dicke", dissipation="local", kappa=0.2,
                   gamma_relax=0.3, gamma_deph=0.4)  # fmt: skip
        gen = build_generator(p)
        parts = []
        for bg in gen.blocks:
            x = rng.normal(size=(bg.block.dim,) * 2) + 1j * rng.normal(size=(bg.block.dim,) * 2)
            parts.append((x @ x.conj().T).ravel())
        dy = gen.rhs(1.3, np.concatenate(parts))
        assert abs(sum(np.trace(b) for b in gen.split(dy))) < 1e-10


def test_warnings_recorded_for_small_cutoff():
    p = Params(model="dicke", n=3, g=0.8, nmax=1, t_final=5.0, dt=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traj = simulate(p)
    assert any("cutoff" in w for w in traj.warnings)
    assert any("cutoff" in str(c.message) for c in caught)


def test_no_warning_for_a_converged_point():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = simulate(_short(n=2, nmax=10, t_final=5.0))
    assert traj.warnings == []


@pytest.mark.parametrize("dissipation", ["collective", "local"])
def test_integrators_agree_in_a_stiff_case(dissipation):
    """Lawson (exact element-wise decay) and DOP853 give the same trajectory when stiff."""
    p = _short(n=5, dissipation=dissipation, gamma_deph=0.8, gamma_relax=0.05, kappa=0.02)
    lawson = simulate(p.replace(method="lawson"))
    dop = simulate(p.replace(method="dop853"))
    assert lawson.method == "lawson" and dop.method == "dop853"
    for name in ("energy", "s_qubits", "s_cavity", "photons"):
        assert np.max(np.abs(getattr(lawson, name) - getattr(dop, name))) < 1e-7, name


def test_auto_picks_lawson_only_when_stiff():
    assert simulate(_short(n=5, gamma_deph=0.8, t_final=1.0)).method == "lawson"
    assert simulate(_short(n=5, gamma_deph=1e-3, t_final=1.0)).method == "dop853"


@pytest.mark.parametrize(
    "model, gamma_deph, expected",
    [("tc", 0.05, "dop853"), ("tc", 0.1, "lawson"), ("dicke", 0.05, "dop853"),
     ("dicke", 0.1, "dop853"), ("dicke", 0.2, "lawson")],
)  # fmt: skip
def test_stiffness_is_judged_against_the_spread(model, gamma_deph, expected):
    # N = 20: the largest decay 2 gamma_deph N^2 (40, 80, 160) is above the fixed 10 omega_q
    # every time; DOP853 stays the faster choice while it is below ~4x the Hamiltonian's
    # eigenvalue spread (TC 11.3, Dicke 21.3), as measured (solve.STIFF_RATIO).
    from qbpaper.solve import choose_method

    gen = build_generator(Params(model=model, n=20, gamma_deph=gamma_deph))
    assert choose_method(gen) == expected


@pytest.mark.parametrize(
    "model, gamma_relax, gamma_deph, expected",
    [("tc", 0.3, 0.1, "lawson"), ("dicke", 1.0, 1e-3, "dop853"), ("tc", 0.5, 0.5, "lawson")],
)  # fmt: skip
def test_strong_relaxation_counts_its_jumps_once(model, gamma_relax, gamma_deph, expected):
    # N = 20, as measured (solve.STIFF_JUMP_WEIGHT): TC (0.3, 0.1) has |G| = 83 against a
    # spread of 11.2 and jumps of 33, and Lawson was 1.55x faster; counted into the spread, the
    # jumps had sent it to DOP853. Dicke (1, 0.001), |G| = jumps = 110: DOP853 1.7x faster.
    from qbpaper.model import spectrum_parts
    from qbpaper.solve import STIFF_RATIO, choose_method

    p = Params(model=model, n=20, gamma_relax=gamma_relax, gamma_deph=gamma_deph)
    gen = build_generator(p)
    assert choose_method(gen) == expected
    parts = spectrum_parts(gen)
    assert parts.jump > parts.spread  # a case where the jumps dominate the old threshold
    if (model, gamma_relax) == ("tc", 0.3):
        decay = float(np.max(np.abs(gen.decay_flat())))
        assert decay < STIFF_RATIO * (parts.spread + parts.jump)  # the former rule: dop853


def test_fused_kernel_matches_the_scipy_reference():
    """The numba commutator kernel equals -i(HP - PH) + G*P computed with SciPy/NumPy."""
    from qbpaper.kernels import _commutator_decay_py, commutator_decay

    rng = np.random.default_rng(3)
    gen = build_generator(
        Params(n=7, nmax=4, model="dicke", detuning=0.1, kappa=0.3, gamma_relax=0.2)
    )
    bg = gen.blocks[0]
    h = bg.hamiltonian(gen.coefficients(2.3))
    x = rng.normal(size=h.shape) + 1j * rng.normal(size=h.shape)
    rho = x + x.conj().T
    expected, got = np.empty_like(rho), np.empty_like(rho)
    _commutator_decay_py(rho, h.indptr, h.indices, h.data, bg.decay, expected)
    commutator_decay(rho, h.indptr, h.indices, h.data, bg.decay, got, np.zeros(0, np.int64),
                     np.zeros((0, bg.block.dim)))  # fmt: skip
    assert np.max(np.abs(got - expected)) < 1e-12
    assert np.max(np.abs(expected)) > 1.0
    # With the same-block jumps fused in (cavity loss and J-, flat shifts of +-dim and 1).
    assert bg.j_offsets.size == 2
    expected_j = np.empty_like(rho)
    _commutator_decay_py(rho, h.indptr, h.indices, h.data, bg.decay, expected_j, bg.j_offsets,
                         bg.j_weights)  # fmt: skip
    commutator_decay(rho, h.indptr, h.indices, h.data, bg.decay, got, bg.j_offsets, bg.j_weights)
    assert np.max(np.abs(got - expected_j)) < 1e-12
    assert np.max(np.abs(expected_j - expected)) > 1e-3


def test_fused_jump_kernel_matches_the_numpy_reference():
    """The numba jump kernel equals the NumPy 4-D slice expression, for a cross-block shift."""
    from qbpaper.kernels import _add_shift_jump_py, add_shift_jump

    rng = np.random.default_rng(5)
    source = rng.normal(size=(4, 5, 4, 5)) + 1j * rng.normal(size=(4, 5, 4, 5))
    target = rng.normal(size=(4, 3, 4, 3)) + 1j * rng.normal(size=(4, 3, 4, 3))
    args = (1, 0, rng.random(3), 1, 0, rng.random(3))  # cavity a (n -> n-1), spin j -> j-1
    expected, got = target.copy(), target.copy()
    _add_shift_jump_py(expected, source, *args)
    add_shift_jump(got, source, *args)
    assert np.max(np.abs(got - expected)) < 1e-13
    assert np.max(np.abs(expected - target)) > 0.1


def test_flat_jump_kernel_matches_the_4d_form():
    """Same-block jumps as flat diagonal shifts equal the 4-D shift form, for every jump of a
    collective and of a local generator (cavity loss, J-, local emission within a block)."""
    from qbpaper.kernels import _add_flat_jump_py
    from qbpaper.model import Jump

    rng = np.random.default_rng(11)
    for p in (Params(n=5, nmax=3, kappa=0.2, gamma_relax=0.1),
              Params(n=4, nmax=2, kappa=0.2, gamma_relax=0.1, dissipation="local")):  # fmt: skip
        gen = build_generator(p)
        for bg in gen.blocks:
            flat = [j for j in bg.jumps if j.flat_weights is not None]
            assert flat, "every block has same-block jumps here"
            for jump in flat:
                x = rng.normal(size=(bg.block.dim,) * 2) + 1j * rng.normal(size=(bg.block.dim,) * 2)
                four = np.zeros_like(x)
                Jump(jump.source, jump.cavity, jump.spin).add_to(
                    four.reshape(bg.block.shape4), x.reshape(bg.block.shape4)
                )
                ref = np.zeros_like(x)
                _add_flat_jump_py(ref, x, jump.flat_weights, jump.flat_offset)
                assert np.max(np.abs(four)) > 0.01
                assert np.max(np.abs(ref - four)) < 1e-13
