"""Publishing computed points: named grids from the cache -> ``data/paper/<grid>.nc`` to commit.

The last step of the one-way flow cache -> committed datasets (read back by
:mod:`qbpaper.committed`). :func:`export` computes nothing: it takes the points of a grid that
the local cache (or an earlier export) holds, writes them with :func:`provenance` attributes,
and refuses to drop points an existing file holds that the new grid does not (exporting a
smaller grid over a larger one would silently delete committed results).
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from qbpaper.cache import Cache
from qbpaper.committed import dataset_records, default_data_dir, disagreeing_observables
from qbpaper.grids import get as get_grid
from qbpaper.sweep import NETCDF_ENGINE, run_sweep, save_dataset


class ExportError(RuntimeError):
    """An export that would lose or change committed points, or cannot be written."""


@dataclass(frozen=True)
class Exported:
    """One written file: its path, the points present and the points of the grid."""

    path: Path
    present: int
    total: int


#: Tracked changes anywhere in the repository but the committed datasets.
_DIRTY_CHECK = ("status", "--porcelain", "--untracked-files=no", "--", ":(top)",
                ":(top,exclude)data/paper")  # fmt: skip


def git_commit(start: Path | None = None) -> str:
    """The checked-out git commit of the package's repository ('unknown' outside git);
    '+dirty' is appended when tracked files have uncommitted changes, except the committed
    datasets under ``data/paper/`` (what an export writes: exporting two grids in a row must
    not mark the second as made from uncommitted code)."""
    where = str(start or Path(__file__).resolve().parent)
    try:
        head = subprocess.run(
            ["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, *_DIRTY_CHECK],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def provenance() -> dict[str, Any]:
    """Attributes recording where and how a committed dataset was made.

    ``git_commit`` is the checkout that *exported* the file; its points were computed, possibly
    earlier, by code of the same ``model_version`` (the cache key includes it), and the test
    ``tests/test_committed_data.py`` recomputes a sample with the current code.
    """
    import numpy
    import scipy

    from qbpaper import __version__

    return {
        "qbpaper_version": __version__,
        "git_commit": git_commit(),
        "git_commit_note": "the exporting checkout; points computed at the same model_version",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "host": platform.node(),
    }


def _file_stem(grid_name: str, profile: str, dissipation: str) -> str:
    stem = grid_name if profile == "paper" else f"{grid_name}_{profile}"
    return stem if dissipation == "collective" else f"{stem}_{dissipation}"


def export(
    names: Iterable[str],
    *,
    profile: str = "paper",
    cache: str | os.PathLike[str] | Cache | None = None,
    root: str | os.PathLike[str] | None = None,
    dissipation: str = "collective",
    replace: bool = False,
) -> list[Exported]:
    """Write ``<root>/<grid>.nc`` for each named grid from the points already computed (the
    local cache, or the files already in ``root``); nothing is computed.

    The file is ``<grid>.nc`` for the paper profile and collective channels, else
    ``<grid>_<profile>[_<dissipation>].nc``. Raises :class:`ExportError` if an existing file
    holds points the new one would not (a different grid under the same name), or if a point
    it holds would get different values (beyond what computing a point twice gives, see
    :func:`~qbpaper.committed.disagreeing_observables`): the cache is read before the committed
    files, so a point recomputed by other code or settings of the same model version would
    otherwise replace the committed value silently. ``replace=True`` accepts such changes.
    """
    folder = Path(root).expanduser() if root is not None else default_data_dir()
    written = []
    for name in names:
        grid = get_grid(name, profile=profile, dissipation=[dissipation])
        path = folder / f"{_file_stem(grid.name, profile, dissipation)}.nc"
        result = run_sweep(grid, cache=cache, committed=folder, compute=False, progress=False)
        ds = result.dataset
        if path.exists():
            try:
                old = dataset_records(xr.load_dataset(path, engine=NETCDF_ENGINE))
            except Exception as exc:  # unreadable: say so rather than overwrite blindly
                raise ExportError(f"cannot read the existing {path}: {exc}") from None
            kept = dataset_records(ds)
            lost = [key for key in old if key not in kept]
            if lost:
                raise ExportError(
                    f"{path} holds {len(lost)} points that grid {grid.name!r} ({profile}) "
                    "does not; export to another folder (--data) or remove the file first"
                )
            changed = {
                k: diff
                for k in old
                if (diff := disagreeing_observables(old[k].observables, kept[k].observables))
            }
            if changed and not replace:
                key, diff = next(iter(changed.items()))
                raise ExportError(
                    f"{len(changed)} points of {path} would change value, e.g. {diff[0]} at "
                    f"{old[key].params}; the cache holds results of other code or settings. "
                    "Export with replace (--replace) to overwrite them"
                )
        present = int(np.isfinite(ds["E_max"]).sum()) if "E_max" in ds else 0
        ds.attrs.update(provenance())
        ds.attrs.update(
            representation=dissipation,
            n_present=present,
            n_missing=grid.size - present,
            note="NaN marks points not computed yet (n_missing) or not on the grid; the solver "
            "tolerances are the attributes param_rtol and param_atol",
        )
        try:
            written.append(Exported(save_dataset(ds, path), present, grid.size))
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc}") from None
    return written
