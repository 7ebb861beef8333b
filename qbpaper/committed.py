"""Committed results: the paper-profile datasets under ``data/paper/`` that sweeps read first.

Data flow (one way): the solver fills the local cache (:mod:`qbpaper.cache`, per machine);
:func:`qbpaper.publish.export` turns the cached points of a named grid into
``data/paper/<grid>.nc`` with its provenance; those files are committed; this module reads them
for :func:`qbpaper.sweep.run_sweep`, which looks up every point the local cache lacks, so
``qbpaper book --profile paper`` on a fresh clone computes only what is missing.

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

import functools
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import xarray as xr

from qbpaper.cache import Record, cache_key
from qbpaper.grids import field_of, field_type
from qbpaper.params import MODEL_VERSION, Params

DATA_ENV = "QBPAPER_DATA"
_NOT_OBSERVABLES = ("warnings", "method", "error")


#: Relative agreement expected of one point computed twice (recomputed by the staleness test,
#: or re-exported from another cache). Absolute floors below which a difference is integrator
#: error, not a change: recomputing 270 random committed points (N <= 10) on 2026-12-04, with
#: integrator paths changed since some were computed, needed up to 8e-8 absolute (E_max =
#: 0.0235 under strong dephasing, rel 3.5e-6; entropies near 1e-3), global errors of a solve
#: at rtol 1e-9 on O(1) quantities, so energies, entropies, times and photon numbers get
#: AGREEMENT_RTOL itself as floor. top_fock_max is a small population compared with the cutoff
#: threshold 1e-4: it moved 3e-14 at 7e-9 (N <= 10) and 4e-11 at 1e-9 (a capped TC point,
#: N = 25), so its floor is 1e-9. trace_drift_max measures rounding itself (2e-15 -> 8e-8
#: between integrator paths) and is not compared.
AGREEMENT_RTOL = 1e-6
AGREEMENT_FLOORS = MappingProxyType({"top_fock_max": 1e-9})
NOT_COMPARED = ("trace_drift_max",)


def disagreeing_observables(stored: Mapping[str, float], fresh: Mapping[str, float]) -> list[str]:
    """The observables of one point whose ``fresh`` value departs from the ``stored`` one by
    more than ``AGREEMENT_RTOL`` relative plus the observable's floor, as "name = old
    committed, new now" (observables missing from either side are not compared)."""
    out = []
    for key, was in stored.items():
        now = fresh.get(key)
        if key in NOT_COMPARED or now is None or (np.isnan(was) and np.isnan(now)):
            continue
        floor = AGREEMENT_FLOORS.get(key, AGREEMENT_RTOL)
        if not abs(now - was) <= AGREEMENT_RTOL * abs(was) + floor:
            out.append(f"{key} = {was} committed, {now} now")
    return out


class CommittedDataWarning(UserWarning):
    """A file in the committed-data folder could not be read or is stale; it is skipped."""


def default_data_dir() -> Path:
    """``$QBPAPER_DATA`` if set, else ``<repository>/data/paper``."""
    env = os.environ.get(DATA_ENV, "")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1] / "data" / "paper"


def _field_value(name: str, value: Any) -> Any:
    """A Params field value back from netCDF (bools are stored as 0/1, ints may be int32)."""
    if isinstance(value, np.generic):
        value = value.item()
    kind = field_type(name)
    if kind is bool:
        return bool(value)
    if kind is int:
        return int(value)
    return value


def _axis_field(dim: str, value: Any) -> tuple[str, Any]:
    """The Params field and value an axis (or scalar coordinate) name and value set."""
    if isinstance(value, np.generic):
        value = value.item()
    name = field_of(dim)
    return name, (value == "driven") if dim == "setup" else _field_value(name, value)


def _cell_params(fixed: dict[str, Any], coords: dict[str, Any]) -> Params:
    return Params(**{**fixed, **dict(_axis_field(dim, value) for dim, value in coords.items())})


def dataset_records(ds: xr.Dataset) -> dict[str, Record]:
    """Every computed cell of a sweep Dataset as a cache :class:`Record`, keyed like the cache.

    Cells whose observables are all NaN (not on the grid, failed or missing) are skipped.
    A parameter is read from a dimension, else a scalar coordinate (what ``squeeze`` or
    ``sel`` leave of a dimension), else a ``param_<field>`` attribute. Raises ValueError if
    the dataset lacks the attributes a sweep writes, or leaves any parameter unstated: a
    default would key the points under parameters they were not computed with.
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
    fixed.update(
        _axis_field(str(name), coord.values[()])
        for name, coord in ds.coords.items()
        if coord.ndim == 0 and field_of(str(name)) in fields
    )
    unstated = fields - fixed.keys() - {field_of(d) for d in dims}
    if unstated:
        raise ValueError(
            f"the dataset does not state {', '.join(sorted(unstated))} (neither a dimension, "
            "a scalar coordinate nor a param_ attribute)"
        )
    stack = np.stack([ds[k].transpose(*dims).values for k in names], axis=-1)
    warn = ds["warnings"].transpose(*dims).values if "warnings" in ds else None
    method = ds["method"].transpose(*dims).values if "method" in ds else None
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
            method=str(method[index]) if method is not None else "",
        )
    return out


@functools.lru_cache(maxsize=4)
def _load_records(files: tuple[tuple[str, int, int, int], ...]) -> MappingProxyType:
    """Records of the given files (path, inode, mtime, size), memoised: every sweep looks
    here. A file that cannot be read, or is of another model version, is skipped with a
    :class:`CommittedDataWarning` naming it (one bad file must not stop every sweep)."""
    out: dict[str, Record] = {}
    for path, *_ in files:
        try:
            ds = xr.load_dataset(path, engine="scipy")
            version = str(ds.attrs.get("model_version"))
            if version != MODEL_VERSION:
                warnings.warn(
                    f"committed data {path}: model version {version}, not {MODEL_VERSION}; "
                    "ignored (recompute and re-export it)",
                    CommittedDataWarning,
                    stacklevel=2,
                )
                continue
            out.update(dataset_records(ds))
        except Exception as exc:  # a truncated file, an LFS pointer, a foreign netCDF
            reason = " ".join(str(exc).split()) or type(exc).__name__
            warnings.warn(
                f"committed data {path} skipped: {reason}", CommittedDataWarning, stacklevel=2
            )
    return MappingProxyType(out)


class CommittedStore:
    """Read-only lookup of committed points (all ``*.nc`` in a folder, current model version)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_data_dir()

    def __repr__(self) -> str:
        return f"CommittedStore({str(self.root)!r})"

    @property
    def records(self) -> Mapping[str, Record]:
        """Key -> Record of every readable, current committed point (re-read when a file's
        inode, mtime or size changes). Read it once per sweep: it stats every file."""
        if not self.root.is_dir():
            return MappingProxyType({})
        files = []
        for path in sorted(self.root.glob("*.nc")):
            st = path.stat()
            files.append((str(path), st.st_ino, st.st_mtime_ns, st.st_size))
        return _load_records(tuple(files))

    def get(self, key: str) -> Record | None:
        return self.records.get(key)

    def __len__(self) -> int:
        return len(self.records)
