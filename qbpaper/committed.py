"""Committed results: the paper-profile datasets under ``data/paper/`` that sweeps read first.

Data flow (one way): the solver fills the local cache (:mod:`qbpaper.cache`, per machine);
:func:`export` turns the cached points of a named grid into ``data/paper/<grid>.nc`` with its
provenance (package version, git commit, date, representation, tolerances); those files are
committed; :func:`qbpaper.sweep.run_sweep` looks up in them every point the local cache lacks,
so ``qbpaper book --profile paper`` on a fresh clone computes only what is missing.

A committed dataset is trusted only if its ``model_version`` attribute equals
:data:`qbpaper.params.MODEL_VERSION` (bumped when the physics changes); the test
``tests/test_committed_data.py`` recomputes a random sample of committed points to catch data
that went stale without a version bump. Each cell of a dataset is mapped back to its full
:class:`~qbpaper.params.Params` (its coordinates plus the ``param_<field>`` attributes) and
keyed like the cache, so any grid that contains the point finds it. Committed datasets hold the
scalar observables only: a point whose time series a grid keeps is computed again.

Location: ``$QBPAPER_DATA`` if set, else ``data/paper`` in the repository.
"""

from __future__ import annotations

import datetime
import functools
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from qbpaper.cache import Record, cache_key
from qbpaper.params import MODEL_VERSION, Params

DATA_ENV = "QBPAPER_DATA"
_BOOL_FIELDS = ("driven", "drive_carrier")
_INT_FIELDS = ("n", "nmax", "n0")
_DIM_FIELD = {"N": "n", "setup": "driven"}
_NOT_OBSERVABLES = ("warnings", "error")


def default_data_dir() -> Path:
    """``$QBPAPER_DATA`` if set, else ``<repository>/data/paper``."""
    env = os.environ.get(DATA_ENV, "")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1] / "data" / "paper"


def git_commit(start: Path | None = None) -> str:
    """The checked-out git commit of the package's repository ('unknown' outside git);
    '+dirty' is appended when tracked files have uncommitted changes."""
    where = str(start or Path(__file__).resolve().parent)
    try:
        head = subprocess.run(
            ["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def provenance() -> dict[str, Any]:
    """Attributes recording where and how a committed dataset was made."""
    import numpy
    import scipy

    from qbpaper import __version__

    return {
        "qbpaper_version": __version__,
        "git_commit": git_commit(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "host": platform.node(),
    }


def _field_value(name: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if name in _BOOL_FIELDS:
        return bool(value)
    if name in _INT_FIELDS:
        return int(value)
    return value


def _cell_params(fixed: dict[str, Any], coords: dict[str, Any]) -> Params:
    kwargs = dict(fixed)
    for dim, value in coords.items():
        name = _DIM_FIELD.get(dim, dim)
        if isinstance(value, np.generic):
            value = value.item()
        kwargs[name] = (value == "driven") if dim == "setup" else _field_value(name, value)
    return Params(**kwargs)


def dataset_records(ds: xr.Dataset) -> dict[str, Record]:
    """Every computed cell of a sweep Dataset as a cache :class:`Record`, keyed like the cache.

    Cells whose observables are all NaN (not on the grid, failed or missing) are skipped.
    Raises ValueError if the dataset lacks the attributes a sweep writes.
    """
    if "solver" not in ds.attrs:
        raise ValueError("not a qbpaper sweep dataset (no 'solver' attribute)")
    solver = str(ds.attrs["solver"])
    fields = set(Params.field_names())
    fixed = {
        name[len("param_") :]: _field_value(name[len("param_") :], value)
        for name, value in ds.attrs.items()
        if name.startswith("param_") and name[len("param_") :] in fields
    }
    names = [
        k
        for k, v in ds.data_vars.items()
        if k not in _NOT_OBSERVABLES and "t" not in v.dims and v.dtype.kind == "f"
    ]
    if not names:
        return {}
    dims = list(ds[names[0]].dims)
    stack = np.stack([ds[k].transpose(*dims).values for k in names], axis=-1)
    warn = ds["warnings"].transpose(*dims).values if "warnings" in ds else None
    out: dict[str, Record] = {}
    for index in np.ndindex(*stack.shape[:-1]):
        values = stack[index]
        if np.all(np.isnan(values)):
            continue
        coords = {d: ds[d].values[i] for d, i in zip(dims, index, strict=True)}
        params = _cell_params(fixed, coords)
        key = cache_key(params, solver)
        text = str(warn[index]) if warn is not None else ""
        out[key] = Record(
            key=key,
            params=params.to_dict(),
            observables={k: float(v) for k, v in zip(names, values, strict=True)},
            warnings=tuple(line for line in text.split("\n") if line),
            solver=solver,
        )
    return out


@functools.lru_cache(maxsize=4)
def _load_records(files: tuple[tuple[str, int, int], ...]) -> dict[str, Record]:
    """Records of the given files (path, mtime, size): memoised, as every sweep looks here."""
    out: dict[str, Record] = {}
    for path, _, _ in files:
        ds = xr.load_dataset(path, engine="scipy")
        if str(ds.attrs.get("model_version")) != MODEL_VERSION:
            continue
        out.update(dataset_records(ds))
    return out


class CommittedStore:
    """Read-only lookup of committed points (all ``*.nc`` in a folder, current model version)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_data_dir()

    def __repr__(self) -> str:
        return f"CommittedStore({str(self.root)!r})"

    @property
    def records(self) -> dict[str, Record]:
        if not self.root.is_dir():
            return {}
        files = tuple(
            (str(path), path.stat().st_mtime_ns, path.stat().st_size)
            for path in sorted(self.root.glob("*.nc"))
        )
        return _load_records(files)

    def get(self, key: str) -> Record | None:
        return self.records.get(key)

    def __len__(self) -> int:
        return len(self.records)


def export(
    names: Iterable[str],
    *,
    profile: str = "paper",
    cache: Any = None,
    root: str | os.PathLike[str] | None = None,
    dissipation: str = "collective",
) -> list[tuple[Path, int, int]]:
    """Write ``<root>/<grid>.nc`` for each named grid from the points already computed (local
    cache or already-committed data; nothing is computed), with :func:`provenance` attributes.

    Returns (path, points present, points of the grid) per file. ``dissipation`` picks the
    representation; a non-default one is written as ``<grid>_<dissipation>.nc``.
    """
    from qbpaper.grids import get as get_grid
    from qbpaper.sweep import run_sweep, save_dataset

    folder = Path(root).expanduser() if root is not None else default_data_dir()
    written = []
    for name in names:
        grid = get_grid(name, profile=profile, dissipation=[dissipation])
        result = run_sweep(grid, cache=cache, committed=folder, compute=False, progress=False)
        ds = result.dataset
        present = int(np.isfinite(ds["E_max"]).sum()) if "E_max" in ds else 0
        ds.attrs.update(provenance())
        ds.attrs["representation"] = dissipation
        ds.attrs["n_present"] = present
        ds.attrs["n_missing"] = grid.size - present
        ds.attrs["note"] = (
            "NaN marks points not computed yet (n_missing) or not on the grid; the solver "
            "tolerances are the attributes param_rtol and param_atol"
        )
        stem = grid.name if dissipation == "collective" else f"{grid.name}_{dissipation}"
        written.append((save_dataset(ds, folder / f"{stem}.nc"), present, grid.size))
    return written
