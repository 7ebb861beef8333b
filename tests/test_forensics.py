"""Table 1 forensics (qbpaper.forensics): readings -> Params, the one-run windows and energies,
the residual, the staged scan's structure and its exclusion bound."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from reference_bruteforce import (
    build_operators,
    dissipator_super,
    liouvillian_parts,
    partial_traces,
)
from scipy.integrate import solve_ivp

from qbpaper import Params, simulate
from qbpaper.forensics import (
    BUDGETS,
    COLUMNS,
    DRIVES,
    TABLE_NMAX,
    Budget,
    Family,
    Reading,
    ScanResult,
    dephasing_rate,
    paper_table,
    residual,
    scan,
    simulate_windows,
    truncate,
)
from qbpaper.paper_data import TABLE1, TABLE1_RATES

# Small cutoffs are the point of Table 1: the solver's "cutoff too small" warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")


def entropy(rho):
    ev = np.linalg.eigvalsh(0.5 * (rho + rho.conj().T))
    ev = ev[ev > 1e-300]
    return float(-np.sum(ev * np.log(ev)))


# ----------------------------------------------------------------------------- readings
@pytest.mark.parametrize("drive", DRIVES)
def test_reading_maps_to_params(drive):
    r = Reading(drive, "total", 3, "collective", "Jz", "dimension", "final", 100)
    p = r.params("dicke", 10)
    assert (p.model, p.n, p.dissipation, p.energy, p.t_final) == ("dicke", 3, "collective",
                                                                 "total", 100.0)  # fmt: skip
    assert p.nmax == 9  # "dimension": Fock 0..nmax-1
    assert (p.g, p.kappa, p.gamma_relax) == (0.1, 1e-3, 1e-3)
    assert p.gamma_deph == pytest.approx(TABLE1_RATES["gamma_deph"] / 4)
    assert p.driven == (drive != "undriven")
    assert p.drive_carrier == (drive == "carrier")
    assert p.drive_frame == ("rotating" if drive == "rotating" else "lab")
    if drive == "undriven":
        assert p.n0 == 1
    default = Reading(drive, n=2).params("tc", 5)
    assert (default.nmax, default.gamma_deph, default.energy, default.t_final) == (
        5, 1e-3, "qubit", 50.0)  # fmt: skip
    assert Reading(n=4).is_default and not r.is_default


def test_defaults_untouched_and_bad_readings_rejected():
    # The forensics never change a default: the lab reading is Params() at Table 1's rates.
    assert Reading(n=10).params("tc", 10) == Params(n=10, nmax=10, **TABLE1_RATES)
    with pytest.raises(ValueError, match="drive"):
        Reading(drive="pulsed")
    with pytest.raises(ValueError, match="Jz"):
        Family("lab", 2, "local", "Jz")
    with pytest.raises(ValueError, match="t_final"):
        Reading(t_final=70)
    with pytest.raises(ValueError, match="n"):
        Family(n=0)


def test_budget_families_prune_as_documented():
    paper = BUDGETS["paper"].families()
    assert len(paper) == len(set(paper))
    local = [f for f in paper if f.dissipation == "local"]
    assert {f.n for f in local} == {2, 3, 5}  # N = 1 is collective; N = 10 pruned (cost)
    assert all(f.dephasing == "2Jz" for f in local)
    # 4 drives x (5 sizes x 2 dephasings x 2 cutoffs + 3 local sizes x 2 cutoffs)
    assert len(paper) == 4 * (5 * 2 * 2 + 3 * 2)
    quick = BUDGETS["quick"].families()
    assert {f.dissipation for f in quick} == {"collective"}
    assert BUDGETS["quick"].pruned()


def test_jz_reading_is_a_quarter_of_the_rate_explicitly():
    """C = sqrt(gamma) Jz, integrated explicitly on the 2^N x cavity space, equals our
    collective 2Jz channel at gamma / 4 (the "Jz" reading)."""
    gamma = 0.8
    fam = Family("undriven", 2, "collective", "Jz", "largest")
    p = fam.params("tc", 2, t_final=6.0, g=0.4, gamma_deph=gamma)
    assert p.gamma_deph == pytest.approx(dephasing_rate(gamma, "Jz")) == pytest.approx(0.2)
    ops = build_operators(p.n, p.nmax)
    l0, _ = liouvillian_parts(p.replace(gamma_deph=0.0), ops)
    ident = sp.identity(ops["dim"], dtype=complex, format="csr")
    l0 = l0 + dissipator_super(np.sqrt(gamma) * ops["jz"], ident)
    rho0 = np.zeros((ops["dim"], ops["dim"]), dtype=complex)
    k = p.n0 * ops["dq"]
    rho0[k, k] = 1.0
    times = p.dt * np.arange(p.n_steps + 1)
    sol = solve_ivp(lambda t, y: l0 @ y, (0, times[-1]), rho0.reshape(-1, order="F"),
                    t_eval=times, method="DOP853", rtol=1e-10, atol=1e-12)  # fmt: skip
    rhos = np.transpose(sol.y.reshape(ops["dim"], ops["dim"], -1, order="F"), (2, 0, 1))
    jz = np.real(np.einsum("ij,tji->t", ops["jz"].toarray(), rhos))
    s_c = [entropy(partial_traces(r, ops["dc"], ops["dq"])[0]) for r in rhos]
    ours = simulate(p)
    np.testing.assert_allclose(ours.energy, jz - jz[0], atol=1e-7)
    np.testing.assert_allclose(ours.s_cavity, s_c, atol=1e-7)
    # and the rate matters here: the 2Jz reading at the same gamma differs visibly
    other = simulate(p.replace(gamma_deph=gamma))
    assert np.max(np.abs(other.energy - ours.energy)) > 1e-3


# ----------------------------------------------------------------------------- one run
@pytest.mark.parametrize("drive", DRIVES)
@pytest.mark.parametrize("model", ["tc", "dicke"])
def test_one_long_run_gives_both_windows_and_energies(drive, model):
    """The t_f = 100 run, truncated to t <= 50, reproduces a t_f = 50 run; its total energy
    equals the engine's energy="total" option."""
    fam = Family(drive, 1, "collective", "2Jz", "largest")
    obs = simulate_windows(fam.params(model, 3)).observables().as_dict()
    for energy in ("qubit", "total"):
        reading = Reading(drive, energy, 1, "collective", "2Jz", "largest", "max", 50)
        short = simulate(reading.params(model, 3)).observables()
        assert obs[f"E_{energy}_max_t50"] == pytest.approx(short.E_max, abs=1e-7)
        if energy == "qubit":
            assert obs["S_c_max_t50"] == pytest.approx(short.S_c_max, abs=1e-7)
            assert obs["S_c_final_t50"] == pytest.approx(short.S_c_final, abs=1e-7)
    long_total = simulate(Reading(drive, "total", 1, t_final=100).params(model, 3))
    assert obs["E_total_max_t100"] == pytest.approx(long_total.energy.max(), abs=1e-9)
    assert obs["E_qubit_max_t100"] == pytest.approx(obs["E_max"], abs=1e-12)


def test_truncate():
    traj = simulate(Params(n=1, nmax=2, t_final=2.0, driven=False))
    part = truncate(traj, 1.0)
    assert part.t[-1] == pytest.approx(1.0) and len(part.t) == 11
    np.testing.assert_array_equal(part.s_cavity, traj.s_cavity[:11])
    assert part.params.t_final == pytest.approx(1.0)
    with pytest.raises(ValueError, match="truncate"):
        truncate(traj, 3.0)


# ----------------------------------------------------------------------------- residual
def test_residual_of_the_paper_itself_is_zero():
    table = paper_table()
    assert list(table.columns) == list(COLUMNS) and tuple(table.index) == TABLE_NMAX
    assert table.loc[10, "E_max_tc"] == TABLE1[10].E_max_tc
    assert residual(table) == 0.0
    assert residual(table, metric="relative") == 0.0
    assert residual(2 * table) == pytest.approx(math.log(2))
    assert residual(2 * table, metric="relative") == pytest.approx(1.0)
    half = table.copy()
    half["S_c_tc"] *= 0.5
    assert residual(half, columns=["S_c_tc"]) == pytest.approx(math.log(2))
    assert residual(half) == pytest.approx(math.log(2) / 2)  # 6 of 24 entries off
    assert residual(half.loc[[2, 5]]) == pytest.approx(math.log(2) / 2)  # missing rows skipped
    zero = table.copy()
    zero.loc[2, "E_max_dicke"] = 0.0
    assert residual(zero) == math.inf
    assert math.isnan(residual(table.iloc[:0]))


def _synthetic(factors: dict[Reading, tuple[float, bool]]) -> ScanResult:
    """A ScanResult whose values are the paper's times a factor per reading (full or screen)."""
    budget = Budget(sizes=(1,))
    table = paper_table()
    frames = []
    for reading, (factor, full) in factors.items():
        rows = TABLE_NMAX if full else budget.screen_nmax
        part = (table.loc[list(rows)] * factor).reset_index()
        for name, value in reversed(list(vars(reading).items())):
            part.insert(0, name, value)
        frames.append(part)
    values = pd.concat(frames).set_index([*Reading.factor_names(), "nmax"])
    families = list(dict.fromkeys(r.family for r in factors))
    full = [r.family for r, (_, f) in factors.items() if f]
    return ScanResult(budget, values, families, full, [])


def test_ranking_best_and_exclusion_bound():
    a, b, c = Reading(n=1), Reading(n=2), Reading(n=3)
    result = _synthetic({a: (1.1, True), b: (1.05, False), c: (2.0, False)})
    best, score = result.best()
    assert best == a and score == pytest.approx(math.log(1.1))
    ranked = result.ranking()
    assert ranked["stage"].tolist() == ["full", "screen", "screen"]
    assert ranked["residual_screen"].iloc[1] == pytest.approx(math.log(1.05))

    # the defaults' rank counts only the readings with a full residual, and says how many
    other = _synthetic(
        {Reading(n=1, energy="total"): (1.05, True), a: (1.1, True), b: (1.01, False)}
    )
    assert (
        "N = 1: residual 0.095, rank 2 of the 2 readings with a full residual (of 3 readings "
        "scanned)" in other.summary()
    )
    open_ = result.unexcluded()
    # b could still beat a (its full residual is only bounded below by ln(1.05)/sqrt(2));
    # c cannot (ln 2 / sqrt(2) > ln 1.1)
    keys = {k[2] for k in open_.index}
    assert keys == {2}
    assert set(open_["target"]) == {"all", *COLUMNS, "dicke", "tc"}
    cols = result.per_column()
    assert list(cols.index) == list(COLUMNS)
    np.testing.assert_allclose(cols["residual"], math.log(1.1))
    comp = result.comparison(a)
    np.testing.assert_allclose(comp["relative deviation"].to_numpy(), 0.1)


def test_exclusion_bound_holds():
    rng = np.random.default_rng(7)
    for _ in range(20):
        ours = paper_table() * np.exp(rng.normal(0, 0.5, size=(6, 4)))
        screen = paper_table().loc[[2, 5, 10]]
        assert residual(ours) >= math.sqrt(12 / 24) * residual(ours, screen) - 1e-12


# ----------------------------------------------------------------------------- the scan
def test_tiny_scan_structure_and_cache(tmp_path):
    budget = Budget(sizes=(1,), drives=("undriven",), dephasings=("2Jz",),
                    cutoffs=("largest",), finalists=1, extra=0)  # fmt: skip
    result = scan(budget, workers=0, cache=tmp_path)
    assert result.failures == 0
    assert result.full == [Family("undriven", 1)]
    assert list(result.values.columns) == list(COLUMNS)
    assert result.values.index.names == [*Reading.factor_names(), "nmax"]
    assert len(result.readings()) == 2 * 2 * 2  # energy x S_c statistic x t_f
    reading = Reading("undriven", "qubit", 1, s_c="final", t_final=50)
    ours = result.reading_values(reading)
    assert tuple(ours.index) == TABLE_NMAX
    # Evidence the scan must be able to show: undriven TC conserves the excitation number, so
    # its column does not depend on nmax >= 1 at all.
    assert np.ptp(ours["E_max_tc"]) < 1e-8 and np.ptp(ours["S_c_tc"]) < 1e-8
    direct = simulate(reading.params("dicke", 5)).observables()
    assert ours.loc[5, "E_max_dicke"] == pytest.approx(direct.E_max, abs=1e-7)
    assert ours.loc[5, "S_c_dicke"] == pytest.approx(direct.S_c_final, abs=1e-7)
    ranked = result.ranking()
    assert len(ranked) == 8 and (ranked["stage"] == "full").all()
    total = ranked.xs("total", level="energy")["residual"]
    assert np.isinf(total).all()  # an undriven run never stores total energy
    assert np.isfinite(ranked["residual"].iloc[0])
    again = scan(budget, workers=0, cache=tmp_path)
    assert sum(s["computed"] for s in again.stages) == 0
    pd.testing.assert_frame_equal(again.values, result.values)


def test_exclusion_bound_factor_is_sqrt_two():
    """Screen residuals 1.2x and 1.6x the best full one: the first can still win (1.2 < sqrt 2),
    the second cannot (1.6 > sqrt 2). A bound factor of 1 or 2 fails one of the two."""
    best = math.log(1.1)
    a, d, e = Reading(n=1), Reading(n=2), Reading(n=3)
    result = _synthetic(
        {a: (1.1, True), d: (math.exp(1.2 * best), False), e: (math.exp(1.6 * best), False)}
    )
    assert {k[2] for k in result.unexcluded().index} == {2}


def test_a_full_reading_with_a_failed_entry_is_not_ranked_as_full():
    a, b = Reading(n=1), Reading(n=2)
    result = _synthetic({a: (1.2, True), b: (1.05, True)})
    assert result.best()[0] == b
    result.values.loc[tuple(vars(b).values()) + (25,), "E_max_tc"] = np.nan  # a failed point
    key = tuple(vars(b).values())
    assert result.is_full().loc[key] and not result.has_all().loc[key]
    assert result.best()[0] == a
    ranked = result.ranking()
    assert ranked.loc[key, "stage"] == "full, failed point" and np.isnan(
        ranked.loc[key, "residual"]
    )
    assert result.unexcluded().empty  # it was run in full: not a reading the budget left out
    # still the best of the columns it has in full
    assert result.per_column_readings()["S_c_tc"] == b
    assert result.per_column_readings()["E_max_tc"] == a


def test_stage_labels_follow_their_readings_not_row_positions():
    """The full reading sorts after the screened one in the factor index: its label must
    still say "full" (the labels were once placed by position)."""
    screened, run_in_full = Reading(n=1), Reading(n=2)
    result = _synthetic({run_in_full: (1.1, True), screened: (1.05, False)})  # unsorted order
    ranked = result.ranking()
    stage = {k[2]: v for k, v in ranked["stage"].items()}
    assert stage == {1: "screen", 2: "full"}
    assert (ranked["stage"] == "full").eq(np.isfinite(ranked["residual"])).all()


def test_a_scan_with_no_computed_point_reports_it_instead_of_failing():
    """A build that computes nothing (``qbpaper book --no-compute``) and finds no cached point
    gives a scan of NaN: every table of the chapter must still come out, the per-column table
    empty with its columns, and the summary must say nothing was computed."""
    a, b = Reading(n=1), Reading(n=2)
    result = _synthetic({a: (math.nan, True), b: (math.nan, False)})
    assert not result.computed
    assert _synthetic({a: (1.1, True)}).computed
    cols = result.per_column()
    assert cols.empty and cols.index.name == "column"
    assert {"reading", "residual", "ours nmax=2", "paper nmax=25"} <= set(cols.columns)
    assert result.per_model().empty
    ranked = result.ranking()
    assert ranked["residual"].isna().all()
    assert (ranked["stage"] == "not computed").all()  # not "full, failed point"
    failed = _synthetic({a: (math.nan, True), b: (1.1, True)})
    failed.failures = 12  # a computing scan whose points of reading a all failed
    assert failed.ranking().loc[tuple(vars(a).values()), "stage"] == (
        "no value (failed or not computed)"
    )
    best, score = result.best()
    assert math.isnan(score)
    assert result.comparison(best)["ours"].isna().all().all()
    assert math.isnan(result.best_default()[1])
    assert result.factor_summary()["best residual"].isna().all()
    assert "nothing to compare" in result.summary()
    assert result.figure({"closest": best}) is not None
