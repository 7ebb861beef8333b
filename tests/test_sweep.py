"""Sweeps: Dataset vs point-by-point simulate, resume after SIGKILL, Dask, failures, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import sweep_helpers
import xarray as xr

from qbpaper import __version__, grids
from qbpaper.cache import Cache, cache_key
from qbpaper.cli import main as cli_main
from qbpaper.observables import OBSERVABLE_KEYS
from qbpaper.params import MODEL_VERSION
from qbpaper.solve import simulate
from qbpaper.sweep import (
    LOG_ENV,
    SERIES_KEYS,
    SweepPointWarning,
    load_dataset,
    run_sweep,
    save_dataset,
    sweep,
)

HERE = Path(__file__).resolve().parent


def _calls(log: Path) -> list[dict]:
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def test_dataset_equals_simulate_point_by_point(tmp_path):
    grid = sweep_helpers.tiny_grid().replace(series=[{"model": "dicke", "N": 2}])
    ds = sweep(grid, workers=2, cache=tmp_path, progress=False)
    assert set(OBSERVABLE_KEYS) <= set(ds.data_vars)
    assert ds.E_max.dims == grid.dims and ds.sizes["N"] == 2
    kept = 0
    for pt in grid.points():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traj = simulate(pt.params)
        here = ds.sel(pt.coords)
        for key, value in traj.observables().as_dict().items():
            np.testing.assert_allclose(float(here[key]), value, rtol=1e-12, atol=0, err_msg=key)
        assert str(here.warnings.values) == "\n".join(traj.warnings)
        assert str(here.error.values) == ""
        if pt.coords["model"] == "dicke" and pt.coords["N"] == 2:
            kept += 1
            for key in SERIES_KEYS:
                np.testing.assert_allclose(here[key].values, getattr(traj, key), rtol=1e-12)
        else:
            assert np.isnan(here["energy"].values).all()
    assert kept == 2
    np.testing.assert_array_equal(ds.t.values, traj.t)
    assert ds.attrs["qbpaper_version"] == __version__ and ds.attrs["model_version"] == MODEL_VERSION
    assert ds.attrs["dissipation"] == "collective" and ds.attrs["param_t_final"] == 2.0
    assert ds.attrs["solver"] == "qbpaper.solve.simulate"
    # A second sweep is read from the cache and gives the same Dataset.
    again = run_sweep(grid, 2, cache=tmp_path, progress=False)
    assert again.cached == grid.size and again.computed == 0
    xr.testing.assert_identical(again.dataset, ds)


def test_zipped_axes_leave_missing_combinations_nan(tmp_path):
    grid = sweep_helpers.tiny_grid(**{"gamma_relax,gamma_deph": [[1e-3, 1e-3], [1e-3, 1e-2],
                                                                 [1e-2, 1e-2]]})  # fmt: skip
    ds = sweep(grid, 0, cache=False, simulate=sweep_helpers.fake_simulate, progress=False)
    assert ds.sizes["gamma_relax"] == 2 and ds.sizes["gamma_deph"] == 2
    assert np.isnan(ds.E_max.sel(gamma_relax=1e-2, gamma_deph=1e-3)).all()
    assert np.isfinite(ds.E_max.sel(gamma_relax=1e-3, gamma_deph=1e-2)).all()
    assert int(np.isfinite(ds.E_max).sum()) == grid.size


def test_netcdf_round_trip(tmp_path):
    grid = sweep_helpers.tiny_grid(drive_carrier=[False, True]).replace(series="all")
    ds = sweep(grid, 0, cache=False, simulate=sweep_helpers.fake_simulate, progress=False)
    path = save_dataset(ds, tmp_path / "out" / "x.nc")
    back = load_dataset(path)
    xr.testing.assert_equal(back, ds)
    assert back.attrs["param_t_final"] == ds.attrs["param_t_final"]
    assert grids.parse(__import__("yaml").safe_load(back.attrs["grid_yaml"])) == grid
    assert not list(path.parent.glob("*.tmp"))


def test_failing_point_is_reported_and_the_rest_computed(tmp_path, monkeypatch, capsys):
    log = tmp_path / "calls.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    grid = sweep_helpers.tiny_grid(g=[0.1, 0.2], model="tc", setup="driven")
    with pytest.warns(SweepPointWarning, match="2 of 4 points failed"):
        res = run_sweep(grid, 2, cache=tmp_path / "c", simulate=sweep_helpers.flaky_simulate)
    err = capsys.readouterr().err
    assert "point failed (model=tc, setup=driven" in err and "g=0.2" in err
    assert "solver exploded at g=0.2" in err
    ds = res.dataset
    assert np.isnan(ds.E_max.sel(g=0.2)).all() and np.isfinite(ds.E_max.sel(g=0.1)).all()
    assert (ds.photons_max.sel(g=0.1) == 1.0).all()  # workers ran with one BLAS thread
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7"  # restored in the parent
    assert (ds.error.sel(g=0.2) == "RuntimeError: solver exploded at g=0.2").all()
    assert len(res.failures) == 2 and all(f.coords["g"] == 0.2 for f in res.failures)
    assert "solver exploded" in res.failures[0].traceback
    # Failures are not cached: a re-run retries exactly them.
    with pytest.warns(SweepPointWarning):
        again = run_sweep(grid, 0, cache=tmp_path / "c", simulate=sweep_helpers.flaky_simulate,
                          progress=False)  # fmt: skip
    assert again.cached == 2 and len(again.failures) == 2
    statuses = [c["status"] for c in _calls(log)]
    assert statuses.count("ok") == 2 and statuses.count("failed") == 4


def test_progress_plain_lines_when_not_a_terminal(capsys):
    grid = sweep_helpers.tiny_grid()
    sweep(grid, 0, cache=False, simulate=sweep_helpers.fake_simulate)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("sweep tiny (custom): 8 points, 0 cached, 8 to compute")
    assert any("8/8 points computed (0 failed)" in x and "eta" in x for x in lines)
    assert "\r" not in "".join(lines)


# --------------------------------------------------------------------------- resume after SIGKILL
_KILLED_RUN = """
import sys, sweep_helpers
from qbpaper.sweep import sweep
sweep(sweep_helpers.resume_grid(), 2, cache=sys.argv[1], simulate=sweep_helpers.slow_simulate,
      progress=False)
"""


def _group_alive(pgid: int) -> bool:
    """Whether a live (non-zombie) process is left in process group ``pgid``."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _wait_group_gone(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            return
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail("worker processes outlived the killed sweep")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_resume_after_sigkill_loses_nothing_and_computes_nothing_twice(tmp_path, monkeypatch):
    grid = sweep_helpers.resume_grid()
    log, cache_dir = tmp_path / "calls.log", tmp_path / "cache"
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    env.update({LOG_ENV: str(log), sweep_helpers.SLEEP_ENV: "0.25"})
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, str(cache_dir)], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(_calls(log)) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep did not start"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # the sweep's own process, not its workers
        proc.wait()
        _wait_group_gone(proc.pid, timeout=20)  # workers notice and stop
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
    before = _calls(log)
    assert 3 <= len(before) < grid.size, "the kill must land midway"
    on_disk = {p.stem for p in cache_dir.rglob("*.qbc")}
    assert on_disk == {c["key"] for c in before}  # every logged point was written, and only those

    monkeypatch.setenv(LOG_ENV, str(log))
    resumed = run_sweep(grid, 0, cache=cache_dir, simulate=sweep_helpers.slow_simulate,
                        progress=False)  # fmt: skip
    calls = _calls(log)
    keys = [c["key"] for c in calls]
    assert len(keys) == grid.size and len(set(keys)) == grid.size  # none lost, none twice
    assert {c["status"] for c in calls} == {"ok"}
    assert resumed.cached == len(before) and resumed.computed == grid.size - len(before)

    monkeypatch.delenv(LOG_ENV)
    straight = run_sweep(grid, 0, cache=tmp_path / "fresh", simulate=sweep_helpers.slow_simulate,
                         progress=False)  # fmt: skip
    xr.testing.assert_identical(resumed.dataset, straight.dataset)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_cli_exits_cleanly_when_ctrl_c_reaches_the_whole_group_twice(tmp_path):
    """A terminal's Ctrl-C (or ``timeout -s INT``) signals the sweep and its workers; twice in
    a row it used to leave the sweep waiting forever on a worker in concurrent.futures' exit
    hook. It must exit with 130 at once, keep what it finished, and leave no worker behind."""
    cache_dir = tmp_path / "cache"
    argv = [sys.executable, "-m", "qbpaper.cli", "sweep", "fig6", "--set", "N=2",
            "--set", "t_final=10", "--set", "dissipation=local", "--no-committed",
            "--cache", str(cache_dir), "--workers", "1", "--quiet"]  # fmt: skip
    # Default SIGINT in the child, as under a terminal: a shell starts background jobs with
    # SIGINT ignored, Python then installs no KeyboardInterrupt handler, and a test run launched
    # that way saw the sweep finish untouched (exit 0).
    proc = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=_default_sigint)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(list(cache_dir.rglob("*.qbc"))) < 2:  # the worker is busy with its points
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep did not start"
            time.sleep(0.05)
        for _ in range(2):
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.3)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the interrupted sweep hangs")
        err = proc.stderr.read().decode()
        _wait_group_gone(proc.pid, timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
    assert code == 130, err
    assert "interrupted; finished points are cached" in err and "Traceback" not in err
    assert len(list(cache_dir.rglob("*.qbc"))) >= 2


# --------------------------------------------------------------------------- Dask
def test_dask_local_cluster_gives_the_same_dataset(tmp_path):
    distributed = pytest.importorskip("distributed")
    grid = sweep_helpers.tiny_grid(model="tc").replace(series=[{"N": 2}])
    local = sweep(grid, 2, cache=tmp_path / "local", progress=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=40,
    ) as cluster:  # fmt: skip
        by_address = run_sweep(grid, scheduler=cluster.scheduler_address, cache=tmp_path / "d",
                               progress=False)  # fmt: skip
        with distributed.Client(cluster) as client:
            pids = set(client.run(os.getpid).values())
            by_client = sweep(grid, client=client, cache=False, progress=False)
    assert len(pids) == 2 and os.getpid() not in pids
    assert by_address.computed == grid.size
    xr.testing.assert_identical(by_address.dataset, local)
    xr.testing.assert_identical(by_client, local)
    # The client wrote the cache: a local re-run finds every point.
    assert run_sweep(grid, 0, cache=tmp_path / "d", progress=False).cached == grid.size


# --------------------------------------------------------------------------- CLI
def test_cli_list_prints_each_grid_and_its_figure(capsys):
    assert cli_main(["sweep", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [x.split()[0] for x in lines] == list(grids.names())
    serves = dict(zip(grids.names(), (x.split(None, 1)[1] for x in lines), strict=True))
    assert serves["quasi_ideal"].startswith("Figs. 2-3")
    assert serves["dephasing_relaxation"].startswith("Figs. 6-10")
    assert serves["cutoff"].startswith("Table 1")


def test_cli_runs_a_grid_file_and_writes_netcdf(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(LOG_ENV, str(tmp_path / "calls.log"))
    spec = tmp_path / "g.yaml"
    spec.write_text("name: mine\naxes: {model: tc, N: [1, 2], nmax: 2}\nfixed: {t_final: 1}\n")
    out = tmp_path / "mine.nc"
    argv = ["sweep", "--grid", str(spec), "--workers", "0", "--cache", str(tmp_path / "c"),
            "--out", str(out), "--quiet"]  # fmt: skip
    assert cli_main(argv) == 0
    ds = load_dataset(out)
    assert ds.sizes["N"] == 2 and np.isfinite(ds.E_max).all() and ds.attrs["grid"] == "mine"
    assert len(_calls(tmp_path / "calls.log")) == 2
    assert len(list((tmp_path / "c").rglob("*.qbc"))) == 2
    assert cli_main(argv + ["--set", "dissipation=collective,local"]) == 0
    assert load_dataset(out).sizes["dissipation"] == 2
    assert len(_calls(tmp_path / "calls.log")) == 4  # only the new points
    capsys.readouterr()
    assert cli_main(["sweep", "--grid", str(spec), "--cache", str(tmp_path / "c"), "--dry-run",
                     "--set", "dissipation=collective,local"]) == 0  # fmt: skip
    assert "4 points" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "fig99"], "unknown grid 'fig99'"),
        (["sweep", "fig6", "--profile", "full"], "unknown profile 'full'"),
        (["sweep", "fig6", "--workers", "two"], "--workers must be a whole number"),
        (["sweep"], "give a grid NAME"),
        (["sweep", "fig6", "--set", "colour=red"], "unknown fixed parameter 'colour'"),
        (["sweep", "fig6", "--set", "N=0"], "the number of qubits must be >= 1"),
        (["sweep", "fig6", "--out", "x.csv"], "--out must name a .nc file"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("qbpaper sweep: error:")


@pytest.mark.parametrize("profile", ["paper", "quick"])
def test_cli_refuses_profile_with_a_grid_file(tmp_path, capsys, profile):
    """A grid file sets its own points: --profile used to be ignored without a word."""
    spec = tmp_path / "g.yaml"
    spec.write_text("axes: {model: tc, N: [1, 2], nmax: 2}\n")
    argv = ["sweep", "--grid", str(spec), "--cache", str(tmp_path / "c"), "--dry-run",
            "--no-committed"]  # fmt: skip
    assert cli_main([*argv, "--profile", profile]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qbpaper sweep: error: --profile"), err
    assert cli_main(argv) == 0  # without it, the same run is fine


def test_cli_unwritable_out_fails_before_any_work(tmp_path, monkeypatch, capsys):
    log = tmp_path / "calls.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    folder = tmp_path / "taken.nc"
    folder.mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    base = ["sweep", "fig6", "--set", "N=1", "--cache", str(tmp_path / "c"), "--workers", "0"]
    for out, message in ((folder, "is a folder"), (blocker / "x.nc", "cannot create the folder")):
        assert cli_main([*base, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not log.exists()


def test_cli_bad_grid_file_fails_before_any_work(tmp_path, monkeypatch, capsys):
    log = tmp_path / "calls.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    bad = tmp_path / "bad.yaml"
    bad.write_text("axes: {model: tc, N: [1, 2], nmax: [2, -1]}\n")
    cache_dir = tmp_path / "c"
    assert cli_main(["sweep", "--grid", str(bad), "--cache", str(cache_dir)]) == 2
    err = capsys.readouterr().err
    assert "nmax" in err and str(bad) in err and err.count("\n") == 1
    assert not log.exists() and not cache_dir.exists()


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("axes: {model: tc, N: [1, 2147483648], nmax: 2}", "N"),
        # n0 is valid for Params (the driven setup ignores it) but not storable
        ("axes: {model: tc, setup: driven, N: 1, nmax: 2}\nfixed: {n0: 2147483648}", "n0"),
    ],
)
def test_cli_integers_netcdf3_cannot_store_fail_before_any_work(tmp_path, monkeypatch, capsys,
                                                                spec, name):  # fmt: skip
    log = tmp_path / "calls.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    grid_file = tmp_path / "big.yaml"
    grid_file.write_text(spec + "\n")
    cache_dir = tmp_path / "c"
    argv = ["sweep", "--grid", str(grid_file), "--cache", str(cache_dir), "--workers", "0",
            "--no-committed", "--quiet", "--out", str(tmp_path / "big.nc")]  # fmt: skip
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"invalid value for '{name}': 2147483648" in err, err
    assert "netCDF3" in err and "2**31" in err
    assert not log.exists() and not cache_dir.exists()


def test_cache_key_used_by_sweep_is_the_documented_one(tmp_path):
    grid = sweep_helpers.tiny_grid(model="tc", setup="driven", N=[1])
    sweep(grid, 0, cache=tmp_path, simulate=sweep_helpers.fake_simulate, progress=False)
    key = cache_key(grid.points()[0].params, "sweep_helpers.fake_simulate")
    assert Cache(tmp_path).get(key) is not None


@pytest.mark.parametrize(
    ("text", "value"),
    [("010", 10), ("08", 8), ("-3", -3), ("1e-3", 1e-3), ("0.5", 0.5), ("1:30", "1:30"),
     ("true", True), ("False", False), ("null", None), ("local", "local"), ("'2'", "2")],
)  # fmt: skip
def test_set_values_are_read_as_plain_numbers_not_yaml_1_1(text, value):
    """PyYAML (YAML 1.1) reads 010 as octal 8 and 1:30 as sexagesimal 90."""
    from qbpaper.cli_sweep import _scalar

    assert _scalar(text) == value and type(_scalar(text)) is type(value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "t_final=1:30"], "t_final"),
        (["--set", "N=2", "--set", "N=3"], "--set N given twice"),
    ],
)
def test_cli_set_rejects_unreadable_and_repeated_values(argv, message, capsys):
    assert cli_main(["sweep", "fig6", "--dry-run", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_cli_bad_input_or_dry_run_creates_no_out_folder(tmp_path, capsys):
    out = tmp_path / "new" / "x.nc"
    assert cli_main(["sweep", "fig99", "--out", str(out)]) == 2
    cache = str(tmp_path / "c")
    assert cli_main(["sweep", "fig6", "--set", "N=1", "--cache", cache, "--dry-run",
                     "--out", str(out)]) == 0  # fmt: skip
    assert "--out is not written in a dry run" in capsys.readouterr().out
    assert not (tmp_path / "new").exists()


def test_cli_cache_that_is_a_file_fails_before_any_work(tmp_path, monkeypatch, capsys):
    log = tmp_path / "calls.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    blocker = tmp_path / "afile"
    blocker.write_text("")
    for cache in (blocker, blocker / "c"):
        argv = ["sweep", "fig6", "--set", "N=1", "--cache", str(cache), "--workers", "0"]
        assert cli_main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot create the folder" in err, err
    assert cli_main(["export", "cutoff", "--cache", str(blocker), "--data",
                     str(tmp_path / "d")]) == 2  # fmt: skip
    assert "it is a file" in capsys.readouterr().err
    assert not log.exists()


@pytest.mark.parametrize(
    ("extra", "says"),
    [([], "finished points are cached"), (["--no-cache"], "finished points are not kept")],
)
def test_cli_interrupt_message_says_whether_points_were_kept(tmp_path, monkeypatch, capsys,
                                                             extra, says):  # fmt: skip
    import importlib

    sweep_module = importlib.import_module("qbpaper.sweep")  # the package exports a function

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_module, "run_sweep", interrupted)
    previous = signal.getsignal(signal.SIGINT)
    try:
        cache = [] if extra else ["--cache", str(tmp_path / "c")]
        assert cli_main(["sweep", "fig6", "--set", "N=1", *cache, *extra]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    assert says in capsys.readouterr().err


def test_cli_dry_run_counts_a_corrupt_entry_as_to_compute(tmp_path, capsys):
    spec = tmp_path / "g.yaml"
    spec.write_text("name: mine\naxes: {model: tc, N: [1, 2], nmax: 2}\nfixed: {t_final: 1}\n")
    cache = tmp_path / "c"
    base = ["sweep", "--grid", str(spec), "--cache", str(cache), "--no-committed"]
    assert cli_main([*base, "--workers", "0", "--quiet"]) == 0
    entry = sorted(cache.rglob("*.qbc"))[0]
    entry.write_bytes(b"garbage")
    capsys.readouterr()
    with pytest.warns(UserWarning, match="corrupt cache entry"):
        assert cli_main([*base, "--dry-run"]) == 0
    assert "1 cached, 0 committed, 1 to compute" in capsys.readouterr().out
    assert cli_main([*base, "--dry-run", "--cached-only"]) == 0
    # the first dry run moved the corrupt entry aside: now it is simply absent
    out = capsys.readouterr().out
    assert "1 cached, 0 committed, 1 missing (not computed" in out


def test_cli_prints_cache_and_committed_data_warnings_as_one_line_each(tmp_path):
    spec = tmp_path / "g.yaml"
    spec.write_text("name: mine\naxes: {model: tc, N: [1, 2], nmax: 2}\nfixed: {t_final: 1}\n")
    cache, data = tmp_path / "c", tmp_path / "d"
    argv = ["sweep", "--grid", str(spec), "--cache", str(cache), "--no-committed"]
    assert cli_main([*argv, "--workers", "0", "--quiet"]) == 0
    sorted(cache.rglob("*.qbc"))[0].write_bytes(b"garbage")
    data.mkdir()
    (data / "bad.nc").write_text("not netCDF")
    proc = subprocess.run(
        [sys.executable, "-m", "qbpaper.cli", *argv[:-1], "--dry-run"],
        env=dict(os.environ, QBPAPER_DATA=str(data)), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, proc.stderr
    assert {x.split(": ")[2].split()[0] for x in lines} == {"corrupt", "committed"}, lines
    for line in lines:
        assert line.startswith("qbpaper sweep: warning: ") and "Warning" not in line
        assert ".py:" not in line


def test_cli_sweep_honours_compute_off_in_the_environment(tmp_path, monkeypatch, capsys):
    log = tmp_path / "calls.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    monkeypatch.setenv("QBPAPER_COMPUTE", "0")
    spec = tmp_path / "g.yaml"
    spec.write_text("name: mine\naxes: {model: tc, N: [1, 2], nmax: 2}\nfixed: {t_final: 1}\n")
    out = tmp_path / "mine.nc"
    argv = ["sweep", "--grid", str(spec), "--cache", str(tmp_path / "c"), "--no-committed"]
    assert cli_main([*argv, "--dry-run"]) == 0
    assert "2 missing (not computed" in capsys.readouterr().out
    assert cli_main([*argv, "--workers", "0", "--quiet", "--out", str(out)]) == 0
    assert not log.exists() and np.isnan(load_dataset(out).E_max).all()


def test_cli_export_writes_a_grid_named_twice_once(tmp_path, capsys):
    data = tmp_path / "d"
    argv = ["export", "fig6", "fig7", "dephasing_relaxation", "--profile", "quick",
            "--cache", str(tmp_path / "c"), "--data", str(data)]  # fmt: skip
    assert cli_main(argv) == 0
    assert capsys.readouterr().out.count("wrote ") == 1


def test_cli_export_help_says_data_is_also_read(capsys):
    """--data names the folder export reads committed points from, not only where it writes."""
    with pytest.raises(SystemExit):
        cli_main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "read and written" in text and "(not from $QBPAPER_DATA)" in text
