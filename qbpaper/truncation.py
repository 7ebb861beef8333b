"""How far the cavity cutoff limits a sweep: the population of the top Fock level.

The cavity keeps the Fock states 0..nmax, which is exact only while the top level |nmax>
stays empty. Every point records ``top_fock_max`` = max over t of <nmax| rho_cavity(t)
|nmax> (dimensionless, 0 to 1), and the solver warns above :data:`TOP_FOCK_LIMIT` (defined
here, so that the analysis need not import the engine). This module summarises that
diagnostic over a sweep Dataset, so that a reader sees which models and sizes of a grid are
limited by the cutoff (the paper's nmax = 10 for every grid but Table 1's).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["CUTOFF_LIMITED", "LEVELS", "TOP_FOCK_LIMIT", "top_fock_summary"]

#: Population of the top Fock level above which the solver flags the cutoff as too small
#: (:func:`qbpaper.solve.simulate` records a warning).
TOP_FOCK_LIMIT = 1e-4
#: A point counts as cutoff-limited when its top-Fock population exceeds this: a percent of
#: the cavity population on the last kept level (observables then move by several percent
#: or more when nmax is raised; chapter 7 measures it).
CUTOFF_LIMITED = 1e-2
#: Top-Fock populations reported by :func:`top_fock_summary`: the solver's warning limit and
#: the level above which we call a point cutoff-limited.
LEVELS: tuple[float, ...] = (TOP_FOCK_LIMIT, CUTOFF_LIMITED)


def top_fock_summary(
    ds: xr.Dataset, *, by: Sequence[str] = ("model", "N"), levels: Sequence[float] = LEVELS
) -> pd.DataFrame:
    """Per combination of the ``by`` dimensions: the number of points with a value, the
    largest top-Fock population and, for each of ``levels``, the share of points above it
    (percent). Points without a value (NaN: not computed or failed) are left out; a
    combination without any is dropped. Raises ``ValueError`` when ``ds`` lacks
    ``top_fock_max`` or one of ``by``."""
    if "top_fock_max" not in ds.data_vars:
        raise ValueError("dataset has no variable 'top_fock_max'")
    da = ds["top_fock_max"]
    missing = [d for d in by if d not in da.dims and d not in da.coords]
    if missing:
        raise ValueError(f"cannot group by {missing}: dimensions are {list(da.dims)}")
    frame = da.to_dataframe().reset_index()
    frame = frame[np.isfinite(frame["top_fock_max"])]
    grouped = frame.groupby(list(by), sort=True)["top_fock_max"]
    out = pd.DataFrame({"points": grouped.size(), "largest": grouped.max()})
    for level in levels:
        out[f"> {level:g} (%)"] = grouped.apply(lambda v, lv=level: 100.0 * float(np.mean(v > lv)))
    return out
