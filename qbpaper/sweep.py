"""Sweeps: a :class:`~qbpaper.grids.Grid` -> an xarray Dataset of the scalar observables.

    from qbpaper import grids, sweep
    ds = sweep(grids.get("fig6", profile="quick"), workers=2)

Each point is looked up in the content-addressed cache (:mod:`qbpaper.cache`); only missing
points are computed: on a local process pool by default (``workers`` processes, BLAS threads set
to 1 in each), in this process with ``workers=0``, or on a Dask distributed cluster with
``client=`` or ``scheduler="tcp://host:port"``. On the local pool each worker writes its own
result to the cache as soon as it is computed, so a killed run loses at most the points in flight.
A point that fails is reported with its parameters, stored as NaN with its message in the
variable ``error``, never cached (a re-run retries it) and does not stop the rest of the grid.

The Dataset: dimensions ``grid.dims`` (model, setup, dissipation, N, g, kappa, gamma_relax,
gamma_deph, nmax, then any other axis), one float variable per name in
:data:`qbpaper.observables.OBSERVABLE_KEYS`, the string variables ``warnings`` (the solver's
warnings, newline-separated) and ``error`` (empty unless the point failed); combinations a zipped
axis does not list are NaN. Attributes: package and model versions, solver, grid name, profile
and YAML, the dissipation representation(s) and every fixed parameter as ``param_<field>``
(booleans as 0/1). Time series of the points selected by ``grid.series`` (or ``series=``) are
the variables energy, s_qubits, s_cavity, photons, top_fock over the grid dimensions plus ``t``,
NaN at the points not kept.

Set ``QBPAPER_SWEEP_LOG=FILE`` to have every solver call append one fsync'd JSON line
(key, status, pid) to FILE, e.g. to count calls.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import pickle
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from qbpaper.cache import Cache, Record, cache_key
from qbpaper.committed import CommittedStore
from qbpaper.environ import temporary_environ
from qbpaper.grids import Grid, Point
from qbpaper.grids import get as get_grid
from qbpaper.params import MODEL_VERSION, Params

SERIES_KEYS = ("energy", "s_qubits", "s_cavity", "photons", "top_fock")
LOG_ENV = "QBPAPER_SWEEP_LOG"
COMPUTE_ENV = "QBPAPER_COMPUTE"  # "0": sweeps compute nothing (cached and committed data only)
_FALSE_WORDS = ("0", "false", "no", "off")
BLAS_ENV = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
)  # fmt: skip
MAX_POOL_RESTARTS = 3
NETCDF_ENGINE = "scipy"  # netCDF3; no extra dependency


class SweepError(RuntimeError):
    """A sweep that cannot start (no cluster, unpicklable solver...)."""


class SweepPointWarning(UserWarning):
    """Some points of a sweep failed; the rest of the grid was computed."""


@dataclass(frozen=True)
class Task:
    """One point to compute (pickled to the worker)."""

    key: str
    params: Params
    simulate: Callable[[Params], Any]
    solver: str
    cache_root: str | None  # the worker writes the cache entry itself (local pool, serial)


@dataclass
class Failure:
    """A point that raised: its key, parameters, message and traceback."""

    key: str
    params: dict[str, Any]
    error: str
    traceback: str = ""
    coords: dict[str, Any] = field(default_factory=dict)


@dataclass
class SweepResult:
    """A sweep's Dataset and what happened: points computed, cached, failed; time taken."""

    dataset: xr.Dataset
    computed: int
    cached: int
    failures: list[Failure]
    elapsed: float
    cache_dir: Path | None
    committed: int = 0  # points taken from the committed datasets (qbpaper.committed)
    missing: int = 0  # points neither cached nor committed and not computed (compute=False)


# --------------------------------------------------------------------------- worker side
_CRITICAL = threading.Lock()  # held while a result is written; the watchdog waits for it


def solver_name(fn: Callable[..., Any]) -> str:
    """A stable name for a solver function (part of the cache key)."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _log_call(key: str, status: str) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    line = json.dumps({"key": key, "status": status, "pid": os.getpid()}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _record_of(task: Task, traj: Any, elapsed: float, cpu: float) -> Record:
    obs = traj.observables().as_dict()
    series = {"t": np.asarray(traj.t, dtype=np.float64)}
    series.update({k: np.asarray(getattr(traj, k), dtype=np.float64) for k in SERIES_KEYS})
    return Record(
        key=task.key,
        params=task.params.to_dict(),
        observables={k: float(v) for k, v in obs.items()},
        warnings=tuple(str(w) for w in getattr(traj, "warnings", ())),
        series=series,
        solver=task.solver,
        method=str(getattr(traj, "method", "")),
        elapsed=elapsed,
        cpu=cpu,
    )


def execute(task: Task) -> Record | Failure:
    """Compute one point; write its cache entry if ``task.cache_root``; never raises for a
    failing solver (returns a Failure)."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the solver's warnings are kept in the record
            traj = task.simulate(task.params)
            record = _record_of(task, traj, time.perf_counter() - start, time.process_time() - cpu)
    except Exception as exc:
        with _CRITICAL:
            _log_call(task.key, "failed")
        return Failure(
            task.key, task.params.to_dict(), f"{type(exc).__name__}: {exc}", traceback.format_exc()
        )
    with _CRITICAL:
        if task.cache_root is not None:
            Cache(task.cache_root).put(record)
        _log_call(task.key, "ok")
    return record


def _init_worker(main_pid: int) -> None:
    """Pool worker start: one BLAS thread; exit when the sweep's process is gone."""
    for name in BLAS_ENV:
        os.environ[name] = "1"
    threading.Thread(target=_watch_parent, args=(main_pid,), daemon=True).start()


def _watch_parent(main_pid: int) -> None:
    while True:
        time.sleep(0.2)
        if os.getppid() != main_pid:
            _CRITICAL.acquire()  # let a result being written finish, then stop
            os._exit(70)


def _single_blas_thread_env():
    """Set the BLAS thread variables to 1 while workers are started (they read them at import)."""
    return temporary_environ({name: "1" for name in BLAS_ENV})


# --------------------------------------------------------------------------- executors
OnResult = Callable[[Record | Failure], None]


def _failure(task: Task, message: str) -> Failure:
    return Failure(task.key, task.params.to_dict(), message)


def _run_serial(tasks: list[Task], on_result: OnResult) -> None:
    for task in tasks:
        on_result(execute(task))


def _run_pool(tasks: list[Task], workers: int, on_result: OnResult) -> None:
    ctx = multiprocessing.get_context("spawn")  # no fork of a threaded parent
    pending = list(tasks)
    restarts = idle = 0
    with _single_blas_thread_env():
        while pending:
            pool = ProcessPoolExecutor(
                max_workers=min(workers, len(pending)),
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
            done: set[str] = set()
            broken = False
            try:
                futures = {pool.submit(execute, t): t for t in pending}
                for fut in as_completed(futures):
                    task = futures[fut]
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    except Exception as exc:  # e.g. the cache write failed
                        result = _failure(task, f"{type(exc).__name__}: {exc}")
                    done.add(task.key)
                    on_result(result)
            except BaseException:
                _stop_pool(pool)
                raise
            pool.shutdown(wait=True)
            pending = [t for t in pending if t.key not in done]
            if not (pending and broken):
                continue
            restarts += 1
            idle = idle + 1 if not done else 0
            if restarts > MAX_POOL_RESTARTS or idle >= 2:
                hint = (
                    " before computing anything (in a script, guard the sweep with "
                    "`if __name__ == '__main__':`; spawned workers re-import it)"
                    if idle >= 2
                    else ""
                )
                message = f"a worker process died{hint}; pool broken {restarts} times"
                for task in pending:
                    on_result(_failure(task, message))
                return


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """End an interrupted pool now: cancel the queued points and terminate the workers.

    Without this, a Ctrl-C that reached the workers too (a terminal's, ``timeout -s INT``),
    twice, left the sweep waiting for good in concurrent.futures' exit hook, on workers that
    no longer received work (seen in 2 of 3 tries; the exact race was not traced). Finished
    points are already in the cache; a cache entry being written is left as an inert
    temporary file (``qbpaper.cache``). ``_processes`` is private, but the executor has no
    public way to end its workers.
    """
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for proc in workers:
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        proc.join(timeout=5)


def _run_dask(tasks: list[Task], client: Any, on_result: OnResult) -> None:
    from distributed import as_completed as dask_completed

    futures = client.map(execute, tasks, pure=False)
    by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
    for fut in dask_completed(futures):
        task = by_key[fut.key]
        try:
            result = fut.result()
        except Exception as exc:  # e.g. KilledWorker
            result = _failure(task, f"{type(exc).__name__}: {exc}")
        fut.release()
        on_result(result)


@contextlib.contextmanager
def _dask_client(client: Any, scheduler: str | None) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    try:
        from distributed import Client
    except ImportError:
        raise SweepError(
            "--scheduler needs dask.distributed: pip install 'qbpaper[dask]'"
        ) from None
    try:
        own = Client(scheduler, timeout="20s")
    except Exception as exc:
        raise SweepError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}") from None
    try:
        yield own
    finally:
        own.close()


# --------------------------------------------------------------------------- progress
class _Progress:
    """tqdm bar with ETA on a terminal; else one plain line per chunk (5 %) of points."""

    def __init__(self, name: str, total: int, enabled: bool, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.name = name
        self.total = total
        self.done = self.failed = 0
        self.t0 = time.perf_counter()
        self.chunk = max(1, math.ceil(total / 20))
        self.bar = None

    def start(self) -> None:
        """Open the tqdm bar (terminal only), after any header line."""
        self.t0 = time.perf_counter()
        if self.enabled and self.total > 0 and _isatty(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total,
                desc=f"sweep {self.name}",
                unit="pt",
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.05,
            )

    def say(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.bar is not None:
            self.bar.update(1)
            if failed:
                self.bar.set_postfix(failed=self.failed)
        elif self.enabled and (self.done % self.chunk == 0 or self.done == self.total):
            spent = time.perf_counter() - self.t0
            eta = spent / self.done * (self.total - self.done)
            self.say(
                f"sweep {self.name}: {self.done}/{self.total} points computed "
                f"({self.failed} failed), elapsed {_hms(spent)}, eta {_hms(eta)}"
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# --------------------------------------------------------------------------- the sweep
def _default_simulate() -> Callable[[Params], Any]:
    from qbpaper.solve import simulate

    return simulate


def _observable_keys(records: dict[str, Record]) -> list[str]:
    try:
        from qbpaper.observables import OBSERVABLE_KEYS

        keys = list(OBSERVABLE_KEYS)
    except ImportError:  # pragma: no cover - the physics modules ship with the package
        keys = []
    for rec in records.values():
        keys += [k for k in rec.observables if k not in keys]
    return keys


def _cost(p: Params) -> float:
    """Rough relative cost, to start the expensive points first."""
    dim = (
        (p.n + 1) * (p.nmax + 1) if p.dissipation == "collective" else (p.n + 1) ** 2 * (p.nmax + 1)
    )
    return dim**2 * (2.0 if p.model == "dicke" else 1.0) * p.t_final


def _resolve_cache(cache: Any) -> Cache | None:
    if cache is False:
        return None
    if isinstance(cache, Cache):
        return cache
    return Cache(None if cache is True else cache)


def sweeps_compute() -> bool:
    """False when the environment switches computing off (``QBPAPER_COMPUTE=0``/false/no/off)."""
    return os.environ.get(COMPUTE_ENV, "1").strip().lower() not in _FALSE_WORDS


def _resolve_committed(committed: Any) -> CommittedStore | None:
    if committed is False:
        return None
    if isinstance(committed, CommittedStore):
        return committed
    return CommittedStore(None if committed is True else committed)


def _fmt_coords(coords: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in coords.items())


@dataclass
class Lookup:
    """Where the points of a grid come from before anything is computed."""

    points: list[Point]
    keys: list[str]  # cache keys, in the order of ``points``
    records: dict[str, Record]  # the points found: cached or committed
    cached: int
    committed: int
    missing: list[str]  # keys found nowhere, costliest first

    @property
    def by_key(self) -> dict[str, Point]:
        return dict(zip(self.keys, self.points, strict=True))


def _lookup(
    grid: Grid, solver: str, store: Cache | None, shelf: CommittedStore | None, compute: bool
) -> Lookup:
    """Look every point of ``grid`` up in the cache, then in the committed data. Cache entries
    are read and checked (a corrupt one is moved aside and counts as missing). A committed
    point whose series the grid keeps counts as missing when computing: committed data hold
    scalars only."""
    points = grid.points()
    keys = [cache_key(pt.params, solver) for pt in points]
    records: dict[str, Record] = {}
    if store is not None:
        for key, pt in zip(keys, points, strict=True):
            rec = store.get(key, pt.params.to_dict())
            if rec is not None:
                records[key] = rec
    n_cached = len(records)
    n_committed = 0
    if shelf is not None and len(records) < len(keys):
        shelved = shelf.records  # read once: the property stats every file
        for key, pt in zip(keys, points, strict=True):
            rec = None if key in records else shelved.get(key)
            # (when not computing, a committed point's scalars are used and its series stay NaN)
            if rec is not None and (not compute or not grid.keeps_series(pt) or rec.series):
                records[key] = rec
                n_committed += 1
    cost = {k: _cost(pt.params) for k, pt in zip(keys, points, strict=True)}
    missing = sorted((k for k in keys if k not in records), key=lambda k: -cost[k])
    return Lookup(points, keys, records, n_cached, n_committed, missing)


def plan_sweep(
    grid: Grid,
    *,
    cache: str | os.PathLike[str] | Cache | bool | None = None,
    committed: str | os.PathLike[str] | CommittedStore | bool | None = None,
    compute: bool | None = None,
    simulate: Callable[[Params], Any] | None = None,
) -> Lookup:
    """What :func:`run_sweep` with the same arguments would find and compute, computing
    nothing (``qbpaper sweep --dry-run``)."""
    if compute is None:
        compute = sweeps_compute()
    solver = solver_name(simulate or _default_simulate())
    return _lookup(grid, solver, _resolve_cache(cache), _resolve_committed(committed), compute)


def run_sweep(
    grid: Grid | str,
    workers: int | None = None,
    *,
    profile: str = "quick",
    client: Any = None,
    scheduler: str | None = None,
    cache: str | os.PathLike[str] | Cache | bool | None = None,
    simulate: Callable[[Params], Any] | None = None,
    series: Any = None,
    progress: bool | None = None,
    committed: str | os.PathLike[str] | CommittedStore | bool | None = None,
    compute: bool | None = None,
) -> SweepResult:
    """Run a grid (or a grid name with ``profile``); see the module docstring.

    workers: local processes (default: the usable CPUs; 0 = in this process).
    client / scheduler: a ``dask.distributed.Client`` or a scheduler address to run there.
    cache: a folder, a Cache, True/None (default location) or False (no cache).
    simulate: the solver, ``Params -> Trajectory`` (default :func:`qbpaper.solve.simulate`);
        it must be importable by name to run in worker processes.
    series: which points keep their time series (replaces ``grid.series``): 'all' or selectors.
    progress: None = on (tqdm on a terminal, plain lines otherwise); False = silent.
    committed: where to look up points missing from the cache (:mod:`qbpaper.committed`): a
        folder, a CommittedStore, None/True (``data/paper`` or ``$QBPAPER_DATA``) or False.
    compute: False computes nothing: points found nowhere are NaN (``n_missing`` attribute).
        None (default): True unless the environment sets ``QBPAPER_COMPUTE=0`` (what
        ``qbpaper book --no-compute`` does for the chapters it executes).
    """
    if compute is None:
        compute = sweeps_compute()
    start = time.perf_counter()
    if isinstance(grid, str):
        grid = get_grid(grid, profile=profile)
    if series is not None:
        grid = grid.replace(series=series)
    if workers is not None and (isinstance(workers, bool) or workers < 0):
        raise ValueError(f"workers must be >= 0, got {workers!r}")
    use_dask = client is not None or scheduler is not None
    fn = simulate or _default_simulate()
    solver = solver_name(fn)
    store = _resolve_cache(cache)
    found = _lookup(grid, solver, store, _resolve_committed(committed), compute)
    points, keys, records, missing = found.points, found.keys, found.records, found.missing
    by_key = found.by_key
    n_cached, n_committed = found.cached, found.committed
    not_computed = 0 if compute else len(missing)
    if not compute:
        missing = []
    if workers is None:
        workers = _usable_cpus()
    serial = not use_dask and (workers == 0 or len(missing) == 1)
    if missing and not serial and not use_dask:
        _check_picklable(fn)
    if store is not None and missing:
        store.remove_stale_parts()
    local_root = str(store.root) if (store is not None and not use_dask) else None
    tasks = [Task(k, by_key[k].params, fn, solver, local_root) for k in missing]

    show = progress is not False
    bar = _Progress(grid.name, len(missing), show)
    where = (
        "a Dask cluster"
        if use_dask
        else "this process"
        if serial
        else f"{min(workers, len(missing))} worker processes"
    )
    bar.say(
        f"sweep {grid.name} ({grid.profile}): {len(points)} points, {n_cached} cached, "
        + (f"{n_committed} committed, " if n_committed else "")
        + (f"{not_computed} missing (not computed: compute=False)" if not compute else "")
        + (f"{len(missing)} to compute" + (f" on {where}" if missing else "") if compute else "")
    )
    bar.start()
    failures: dict[str, Failure] = {}

    def on_result(result: Record | Failure) -> None:
        pt = by_key[result.key]
        if isinstance(result, Record):
            if use_dask and store is not None:
                store.put(result)
            records[result.key] = result
        else:
            result.coords = dict(pt.coords)
            failures[result.key] = result
            bar.say(f"sweep {grid.name}: point failed ({_fmt_coords(pt.coords)}): {result.error}")
        bar.advance(isinstance(result, Failure))

    try:
        if not tasks:
            pass
        elif use_dask:
            with _dask_client(client, scheduler) as cl:
                _run_dask(tasks, cl, on_result)
        elif serial:
            _run_serial(tasks, on_result)
        else:
            _run_pool(tasks, workers, on_result)
    finally:
        bar.close()
    ds = build_dataset(grid, points, keys, records, failures, solver)
    if not compute:
        ds.attrs["n_missing"] = not_computed
    elapsed = time.perf_counter() - start
    computed = len(missing) - len(failures)
    bar.say(
        f"sweep {grid.name}: done in {_hms(elapsed)}: {computed} computed, {n_cached} cached, "
        + (f"{n_committed} committed, " if n_committed else "")
        + (f"{not_computed} missing, " if not_computed else "")
        + f"{len(failures)} failed"
    )
    if failures:
        warnings.warn(
            f"sweep {grid.name}: {len(failures)} of {len(points)} points failed (NaN in the "
            "Dataset, message in its variable 'error'); first: "
            f"{_fmt_coords(next(iter(failures.values())).coords)}: "
            f"{next(iter(failures.values())).error}",
            SweepPointWarning,
            stacklevel=2,
        )
    return SweepResult(
        ds,
        computed,
        n_cached,
        list(failures.values()),
        elapsed,
        store.root if store is not None else None,
        committed=n_committed,
        missing=not_computed,
    )


def sweep(grid: Grid | str, workers: int | None = None, **kwargs: Any) -> xr.Dataset:
    """Run a grid and return its Dataset (see :func:`run_sweep` for the options)."""
    return run_sweep(grid, workers, **kwargs).dataset


def _usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _check_picklable(fn: Callable[..., Any]) -> None:
    """Fail early if spawned workers could not import the solver."""
    problem = ""
    try:
        pickle.dumps(fn)
    except Exception as exc:
        problem = str(exc)
    main = sys.modules.get("__main__")
    if getattr(fn, "__module__", "") == "__main__" and not getattr(main, "__file__", None):
        problem = "it is defined interactively (a notebook or REPL)"
    if problem:
        raise SweepError(
            f"the solver {solver_name(fn)} cannot be sent to worker processes ({problem}); "
            "define it in an importable module or use workers=0"
        )


# --------------------------------------------------------------------------- Dataset
def _attr(value: Any) -> Any:
    """A netCDF-serialisable attribute value (no bools, no None)."""
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return ""
    return value


def _package_version() -> str:
    import qbpaper

    return str(getattr(qbpaper, "__version__", "unknown"))


def build_dataset(
    grid: Grid,
    points: list[Point],
    keys: list[str],
    records: dict[str, Record],
    failures: dict[str, Failure],
    solver: str,
) -> xr.Dataset:
    """The Dataset of a grid from its point records (see the module docstring)."""
    dims = grid.dims
    shape = grid.shape
    names = _observable_keys(records)
    values = {k: np.full(shape, np.nan) for k in names}
    warn = np.full(shape, "", dtype=object)
    method = np.full(shape, "", dtype=object)
    error = np.full(shape, "", dtype=object)
    kept: list[tuple[Point, Record]] = []
    for pt, key in zip(points, keys, strict=True):
        rec = records.get(key)
        if rec is None:
            if key in failures:
                error[pt.index] = failures[key].error
            continue
        for k, v in rec.observables.items():
            values[k][pt.index] = v
        warn[pt.index] = "\n".join(rec.warnings)
        method[pt.index] = rec.method
        if grid.keeps_series(pt) and rec.series:  # committed records hold no series
            kept.append((pt, rec))
    variables: dict[str, Any] = {k: (dims, v) for k, v in values.items()}
    variables["warnings"] = (dims, warn.astype(str))
    variables["method"] = (dims, method.astype(str))
    variables["error"] = (dims, error.astype(str))
    coords: dict[str, Any] = {d: np.asarray(grid.coords[d]) for d in dims}
    if kept:
        t = kept[0][1].series["t"]
        for k in SERIES_KEYS:
            arr = np.full(shape + (len(t),), np.nan)
            for pt, rec in kept:
                if len(rec.series["t"]) != len(t) or not np.allclose(rec.series["t"], t):
                    raise ValueError(f"time grids differ between kept points ({pt.coords})")
                arr[pt.index] = rec.series[k]
            variables[k] = (dims + ("t",), arr)
        coords["t"] = t
    attrs = {
        "title": f"qbpaper sweep '{grid.name}'",
        "grid": grid.name,
        "profile": grid.profile,
        "serves": grid.serves,
        "qbpaper_version": _package_version(),
        "model_version": MODEL_VERSION,
        "solver": solver,
        "dissipation": ",".join(grid.coords["dissipation"]),
        "n_points": grid.size,
        "n_failed": len(failures),
        "missing_values": "NaN: a combination not on the grid (zipped axes) or a failed point "
        "(see the variable 'error')",
        "grid_yaml": grid.to_yaml(),
    }
    attrs.update({f"param_{k}": _attr(v) for k, v in grid.fixed_params().items()})
    ds = xr.Dataset(variables, coords=coords, attrs=attrs)
    ds["warnings"].attrs["description"] = "solver warnings, newline-separated"
    ds["method"].attrs["description"] = (
        "integrator path of the solve (Trajectory.method), e.g. dop853+chebyshev; empty: not "
        "computed, or computed before the path was recorded"
    )
    ds["error"].attrs["description"] = "error message of a failed point, else empty"
    if "t" in ds.coords:
        ds["t"].attrs["units"] = "1/omega_q"
    return ds


def save_dataset(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` as netCDF (scipy engine, netCDF3) atomically; returns the path."""
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".nc.tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a dataset is an ordinary, readable file
        ds.to_netcdf(tmp, engine=NETCDF_ENGINE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def load_dataset(path: str | os.PathLike[str]) -> xr.Dataset:
    """Read a Dataset written by :func:`save_dataset` into memory."""
    return xr.load_dataset(path, engine=NETCDF_ENGINE)
