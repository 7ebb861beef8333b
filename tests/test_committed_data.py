"""Committed paper-profile data (data/paper/*.nc): round trip through sweeps, and staleness.

``test_committed_points_recompute`` recomputes a random sample of 10 committed points with the
current engine and requires agreement to 1e-6: it catches data that went stale when the physics
or the solver changed without a MODEL_VERSION bump. Only points that cost a few seconds are
sampled (N <= 10), so the test fits in CI; the seed is printed for a failing run to be repeated
with QBPAPER_TEST_SEED.
"""

from __future__ import annotations

import datetime
import os
import random
import subprocess

import numpy as np
import pytest
import xarray as xr
from sweep_helpers import fake_simulate, tiny_grid

from qbpaper import simulate
from qbpaper.book import note_missing
from qbpaper.committed import (
    CommittedDataWarning,
    CommittedStore,
    dataset_records,
    default_data_dir,
    disagreeing_observables,
)
from qbpaper.params import MODEL_VERSION, Params
from qbpaper.publish import ExportError, export, provenance
from qbpaper.sweep import run_sweep, save_dataset

SAMPLE = 10
MAX_N_SAMPLED = 10


def test_disagreeing_observables_catch_small_values_and_forgive_rounding():
    stored = {"E_max": 0.02, "top_fock_max": 3e-6, "S_q_final": 1e-3, "trace_drift_max": 1e-15}
    assert disagreeing_observables(stored, stored) == []
    rounding = {"E_max": 0.02 + 1e-7, "top_fock_max": 3e-6 + 5e-11,
                "S_q_final": 1e-3 + 1e-7, "trace_drift_max": 1e-8}  # fmt: skip
    assert disagreeing_observables(stored, rounding) == []
    for key in ("E_max", "top_fock_max", "S_q_final"):
        tenfold = {**stored, key: 10 * stored[key]}
        expected = f"{key} = {stored[key]} committed, {tenfold[key]} now"
        assert disagreeing_observables(stored, tenfold) == [expected]


def test_round_trip_through_committed_store(tmp_path):
    grid = tiny_grid("committed_rt")
    first = run_sweep(grid, 0, cache=tmp_path / "cache", committed=False, progress=False)
    save_dataset(first.dataset, tmp_path / "data" / "tiny.nc")
    again = run_sweep(
        grid, 0, cache=False, committed=tmp_path / "data", compute=False, progress=False
    )
    assert again.computed == 0 and again.committed == grid.size and again.missing == 0
    for name in ("E_max", "tau", "S_q_final", "S_c_max"):
        np.testing.assert_array_equal(again.dataset[name].values, first.dataset[name].values)
    assert (again.dataset["warnings"].values == first.dataset["warnings"].values).all()
    assert (again.dataset["method"].values == first.dataset["method"].values).all()


def test_each_point_records_its_integrator_path(tmp_path):
    """The integrator path ('auto' resolves per point) travels from the solve through the cache
    and the committed file to the dataset."""
    grid = tiny_grid("committed_method")
    first = run_sweep(grid, 0, cache=tmp_path / "cache", committed=False, progress=False)
    for pt in grid.points():
        expected = simulate(pt.params).method
        assert expected and first.dataset["method"].values[pt.index] == expected
    cached = run_sweep(grid, 0, cache=tmp_path / "cache", committed=False, progress=False)
    assert cached.computed == 0
    assert (cached.dataset["method"].values == first.dataset["method"].values).all()
    save_dataset(first.dataset, tmp_path / "data" / "tiny.nc")
    records = CommittedStore(tmp_path / "data").records
    assert {rec.method for rec in records.values()} == set(first.dataset["method"].values.ravel())


def test_missing_points_are_nan_without_compute(tmp_path):
    grid = tiny_grid("committed_missing")
    part = grid.replace(axes={"N": [1]})
    done = run_sweep(part, 0, cache=False, committed=False, progress=False)
    save_dataset(done.dataset, tmp_path / "part.nc")
    result = run_sweep(grid, 0, cache=False, committed=tmp_path, compute=False, progress=False)
    ds = result.dataset
    assert result.committed == part.size and result.missing == grid.size - part.size
    assert ds.attrs["n_missing"] == grid.size - part.size
    assert np.isfinite(ds.E_max.sel(N=1)).all() and np.isnan(ds.E_max.sel(N=2)).all()


def test_chapters_name_the_points_a_no_compute_build_lacks(tmp_path, capsys):
    """note_missing (the chapters' line under a sweep) names the sizes without a point, leaves
    out combinations a zipped axis does not list, and is silent when every point is there."""
    grid = tiny_grid("committed_note_missing", **{"g,kappa": [[0.1, 1e-3], [0.2, 1e-2]]})
    part = grid.replace(axes={"N": [1]})
    save_dataset(run_sweep(part, 0, cache=False, committed=False, progress=False).dataset,
                 tmp_path / "part.nc")  # fmt: skip
    ds = run_sweep(grid, 0, cache=False, committed=tmp_path, compute=False,
                   progress=False).dataset  # fmt: skip
    assert note_missing(ds) == [{"N": 2}]
    line = capsys.readouterr().out
    assert "not computed" in line and "N=2" in line and "N=1" not in line
    # (g, kappa) is zipped: (0.1, 1e-2) and (0.2, 1e-3) are NaN but not points of the grid
    cells = note_missing(ds, by=["N", "g", "kappa"])
    assert cells == [{"N": 2, "g": 0.1, "kappa": 1e-3}, {"N": 2, "g": 0.2, "kappa": 1e-2}]
    capsys.readouterr()
    with pytest.raises(ValueError, match="not dimensions"):
        note_missing(ds, by=["no_such_axis"])
    full = run_sweep(part, 0, cache=False, committed=tmp_path, compute=False,
                     progress=False).dataset  # fmt: skip
    assert note_missing(full) == [] and capsys.readouterr().out == ""


def test_stale_model_version_is_ignored(tmp_path):
    grid = tiny_grid("committed_stale")
    ds = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    ds.attrs["model_version"] = "0-stale"
    save_dataset(ds, tmp_path / "stale.nc")
    with pytest.warns(CommittedDataWarning, match="model version 0-stale"):
        assert len(CommittedStore(tmp_path)) == 0


def test_unreadable_files_are_skipped_with_a_warning(tmp_path):
    grid = tiny_grid("committed_bad", N=[1])
    good = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    save_dataset(good, tmp_path / "good.nc")
    (tmp_path / "junk.nc").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    save_dataset(xr.Dataset({"x": ("a", [1.0])}), tmp_path / "foreign.nc")
    with pytest.warns(CommittedDataWarning) as caught:
        result = run_sweep(grid, 0, cache=False, committed=tmp_path, compute=False,
                           progress=False)  # fmt: skip
    assert result.committed == grid.size
    text = " ".join(str(w.message) for w in caught)
    assert "junk.nc" in text and "foreign.nc" in text


def test_export_refuses_to_drop_committed_points(tmp_path):
    data = tmp_path / "data"
    other = run_sweep(tiny_grid("other"), 0, cache=False, committed=False, progress=False,
                      simulate=fake_simulate).dataset  # fmt: skip
    save_dataset(other, data / "cutoff.nc")  # points the cutoff grid does not have
    with pytest.raises(ExportError, match="holds 8 points"):
        export(["cutoff"], profile="paper", cache=tmp_path / "empty", root=data)
    # Re-exporting the same grid keeps its points and is allowed:
    first = export(["cutoff"], profile="quick", cache=tmp_path / "empty", root=tmp_path / "q")
    assert first[0].path.name == "cutoff_quick.nc" and first[0].present == 0
    again = export(["cutoff"], profile="quick", cache=tmp_path / "empty", root=tmp_path / "q")
    assert again[0].present == 0


def test_export_refuses_to_change_committed_values_unless_told(tmp_path):
    """The cache is read before the committed files: a point whose cached value differs from
    the committed one (other code or settings, same model version) must not replace it
    silently."""
    from qbpaper.cache import Cache, Record, cache_key
    from qbpaper.grids import get as get_grid
    from qbpaper.observables import OBSERVABLE_KEYS
    from qbpaper.sweep import solver_name

    points = get_grid("cutoff", "quick").points()[:2]
    solver = solver_name(simulate)

    def fill(root, value):
        store = Cache(root)
        for pt in points:
            key = cache_key(pt.params, solver)
            values = dict.fromkeys(OBSERVABLE_KEYS, value)
            store.put(Record(key, pt.params.to_dict(), values, solver=solver))

    fill(tmp_path / "a", 0.25)
    fill(tmp_path / "b", 0.75)
    fill(tmp_path / "c", 0.25 * (1 + 1e-9))  # a rounding-level difference is no change
    data = tmp_path / "data"

    def committed_e_max():
        values = xr.load_dataset(data / "cutoff_quick.nc", engine="scipy").E_max.values
        return sorted(values[np.isfinite(values)])

    export(["cutoff"], profile="quick", cache=tmp_path / "a", root=data)
    export(["cutoff"], profile="quick", cache=tmp_path / "c", root=data)
    with pytest.raises(ExportError, match="2 points .* would change value"):
        export(["cutoff"], profile="quick", cache=tmp_path / "b", root=data)
    assert committed_e_max() == pytest.approx([0.25, 0.25], rel=1e-8)
    export(["cutoff"], profile="quick", cache=tmp_path / "b", root=data, replace=True)
    assert committed_e_max() == [0.75, 0.75]


def test_cached_only_uses_committed_scalars_of_series_points(tmp_path):
    grid = tiny_grid("committed_series_ro", N=[1])
    ds = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    save_dataset(ds, tmp_path / "scalars.nc")
    result = run_sweep(grid.replace(series="all"), 0, cache=False, committed=tmp_path,
                       compute=False, progress=False)  # fmt: skip
    assert result.committed == grid.size and result.computed == 0
    np.testing.assert_array_equal(result.dataset.E_max.values, ds.E_max.values)


def test_points_with_kept_series_are_recomputed(tmp_path):
    grid = tiny_grid("committed_series", N=[1])
    ds = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    save_dataset(ds, tmp_path / "scalars.nc")
    result = run_sweep(
        grid.replace(series="all"), 0, cache=False, committed=tmp_path, progress=False
    )
    assert result.committed == 0 and result.computed == grid.size
    assert "energy" in result.dataset


def test_cells_map_back_to_their_params():
    grid = tiny_grid("committed_keys", g=[0.1, 0.3])
    ds = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    records = dataset_records(ds)
    assert len(records) == grid.size
    wanted = {pt.params for pt in grid.points()}
    assert {Params(**rec.params) for rec in records.values()} == wanted


def test_a_squeezed_axis_keeps_its_value_as_a_scalar_coordinate(tmp_path):
    """squeeze() turns the length-1 kappa axis into a scalar coordinate; its points must stay
    keyed at kappa = 0.5, not fall back to the default kappa and be served for it."""
    grid = tiny_grid("committed_squeezed", kappa=[0.5])
    ds = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    squeezed = ds.squeeze()
    assert "kappa" not in squeezed.E_max.dims and float(squeezed.kappa) == 0.5
    assert {rec.params["kappa"] for rec in dataset_records(squeezed).values()} == {0.5}
    save_dataset(squeezed, tmp_path / "data" / "squeezed.nc")
    default_kappa = grid.replace(axes={"kappa": [Params().kappa]})
    served = run_sweep(
        default_kappa, 0, cache=False, committed=tmp_path / "data", compute=False, progress=False
    )
    assert served.committed == 0 and served.missing == default_kappa.size
    again = run_sweep(
        grid, 0, cache=False, committed=tmp_path / "data", compute=False, progress=False
    )
    assert again.committed == grid.size


def test_a_dataset_that_leaves_a_parameter_unstated_is_refused(tmp_path):
    grid = tiny_grid("committed_unstated", kappa=[0.5])
    ds = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    dropped = ds.isel(kappa=0, drop=True)  # kappa is now stated nowhere
    with pytest.raises(ValueError, match="does not state kappa"):
        dataset_records(dropped)
    save_dataset(dropped, tmp_path / "dropped.nc")
    with pytest.warns(CommittedDataWarning, match="does not state kappa"):
        assert len(CommittedStore(tmp_path)) == 0


def test_provenance_names_commit_and_date():
    info = provenance()
    assert info["git_commit"] and info["created"][:4].isdigit()
    assert info["qbpaper_version"]


def _committed_files():
    root = default_data_dir()
    return sorted(root.glob("*.nc")) if root.is_dir() else []


@pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")
def test_committed_points_recompute():
    files = _committed_files()
    assert files, f"no committed datasets in {default_data_dir()} (they belong to the repo)"
    candidates = []
    for path in files:
        ds = xr.load_dataset(path, engine="scipy")
        assert "git_commit" in ds.attrs and "created" in ds.attrs, f"{path.name}: no provenance"
        assert str(ds.attrs["model_version"]) == MODEL_VERSION, (
            f"{path.name} is of model version {ds.attrs['model_version']}, the code of "
            f"{MODEL_VERSION}: recompute the grid and re-export it (qbpaper export)"
        )
        for rec in dataset_records(ds).values():
            if rec.params["n"] <= MAX_N_SAMPLED:
                candidates.append((path.name, rec))
    assert len(candidates) >= SAMPLE, "too few cheap committed points to sample"
    # A new sample every day, the same within a day (repeat one with QBPAPER_TEST_SEED).
    seed = int(os.environ.get("QBPAPER_TEST_SEED", datetime.date.today().strftime("%Y%m%d")))
    sample = random.Random(seed).sample(candidates, SAMPLE)
    for name, rec in sample:
        p = Params(**rec.params)
        stale = disagreeing_observables(rec.observables, simulate(p).observables().as_dict())
        assert not stale, f"stale committed data in {name} (seed {seed}) at {p}: {stale}"


@pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")
def test_a_committed_capped_point_recomputes():
    """The sample above stays at N <= 10, where the excitation cap of driven TC never engages
    (it starts at N = 25): recompute one committed point that was computed with it, at the
    smallest capped size (a few seconds), so that the cap's code path is checked for staleness
    too."""
    from qbpaper.solve import first_cap

    candidates = []
    for path in _committed_files():
        ds = xr.load_dataset(path, engine="scipy")
        if ds.attrs.get("representation") != "collective":
            continue
        for rec in dataset_records(ds).values():
            p = Params(**rec.params)
            if first_cap(p) is not None and p.n == 25 and p.gamma_deph < 0.1:
                candidates.append((path.name, p, rec))
    assert candidates, "no committed capped point (driven TC, N = 25) to recompute"
    seed = int(os.environ.get("QBPAPER_TEST_SEED", datetime.date.today().strftime("%Y%m%d")))
    name, p, rec = random.Random(seed).choice(candidates)
    traj = simulate(p)
    assert "+cap" in traj.method, traj.method
    stale = disagreeing_observables(rec.observables, traj.observables().as_dict())
    assert not stale, f"stale committed data in {name} (seed {seed}) at {p}: {stale}"


def test_environment_switches_computing_off(tmp_path, monkeypatch):
    """QBPAPER_COMPUTE=0 (set by `qbpaper book --no-compute` for its kernels) computes nothing."""
    monkeypatch.setenv("QBPAPER_COMPUTE", "0")
    grid = tiny_grid("committed_env", N=[1])
    result = run_sweep(grid, 0, cache=tmp_path, committed=False, progress=False)
    assert result.computed == 0 and result.missing == grid.size
    assert np.isnan(result.dataset.E_max).all()
    explicit = run_sweep(grid, 0, cache=tmp_path, committed=False, compute=True, progress=False)
    assert explicit.computed == grid.size


def test_export_cli_writes_provenance_and_rejects_bad_input(tmp_path, capsys):
    from qbpaper.cli import main

    out = tmp_path / "data"
    code = main(["export", "cutoff", "--profile", "quick", "--data", str(out),
                 "--cache", str(tmp_path / "empty-cache")])  # fmt: skip
    assert code == 0
    ds = xr.load_dataset(out / "cutoff_quick.nc", engine="scipy")
    assert ds.attrs["n_present"] == 0 and ds.attrs["n_missing"] == ds.attrs["n_points"]
    assert ds.attrs["representation"] == "collective" and "git_commit" in ds.attrs
    assert main(["export", "no_such_grid", "--data", str(out)]) == 2
    assert "unknown grid" in capsys.readouterr().err


def test_commit_is_dirty_for_code_changes_not_for_exported_data(tmp_path):
    from qbpaper.publish import git_commit

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    (tmp_path / "data" / "paper").mkdir(parents=True)
    (tmp_path / "data" / "paper" / "grid.nc").write_text("v1")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    clean = git_commit(tmp_path)
    assert len(clean) == 40
    (tmp_path / "data" / "paper" / "grid.nc").write_text("v2")  # a fresh export
    assert git_commit(tmp_path) == clean
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path) == clean + "+dirty"


@pytest.mark.parametrize("compute", [True, False])
def test_plan_counts_what_the_sweep_then_does(tmp_path, compute):
    """The dry-run plan and the real run agree, including committed points of a grid that
    keeps series (recomputed when computing, their scalars used otherwise) and a corrupt
    cache entry (missing, not cached)."""
    from qbpaper.cache import CacheCorruptionWarning
    from qbpaper.sweep import plan_sweep

    grid = tiny_grid("plan_counts", N=[1])
    ds = run_sweep(grid, 0, cache=False, committed=False, progress=False).dataset
    save_dataset(ds, tmp_path / "scalars.nc")
    cache = tmp_path / "c"
    small = grid.replace(axes={"model": ["tc"], "setup": ["driven"]})
    run_sweep(small, 0, cache=cache, committed=False, progress=False)
    (entry,) = cache.rglob("*.qbc")
    entry.write_bytes(b"garbage")
    series = grid.replace(series="all")
    with pytest.warns(CacheCorruptionWarning):
        plan = plan_sweep(series, cache=cache, committed=tmp_path, compute=compute)
    assert plan.cached == 0  # the corrupt entry was moved aside, not counted
    assert plan.committed == (0 if compute else grid.size)
    assert len(plan.missing) == (grid.size if compute else 0)
    result = run_sweep(series, 0, cache=cache, committed=tmp_path, compute=compute,
                       progress=False)  # fmt: skip
    assert result.committed == plan.committed and result.cached == plan.cached
    assert result.computed == len(plan.missing)
