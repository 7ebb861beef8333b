"""The top-Fock summary: counts, maxima and shares over a sweep-shaped Dataset."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from qbpaper.truncation import top_fock_summary


def _ds() -> xr.Dataset:
    top = np.array(
        [  # model x N x g
            [[0.0, 1e-5, 2e-4], [1e-3, 0.02, np.nan]],  # dicke
            [[0.0, 0.0, 0.0], [0.0, 5e-5, 0.0]],  # tc
        ]
    )
    coords = {"model": ["dicke", "tc"], "N": [5, 10], "g": [0.1, 0.5, 1.0]}
    return xr.Dataset({"top_fock_max": (("model", "N", "g"), top)}, coords=coords)


def test_summary_counts_shares_and_skips_missing_points() -> None:
    table = top_fock_summary(_ds())
    assert list(table.index.names) == ["model", "N"]
    assert table.loc[("dicke", 10), "points"] == 2  # the NaN point is not counted
    assert table.loc[("dicke", 10), "largest"] == pytest.approx(0.02)
    assert table.loc[("dicke", 10), "> 0.0001 (%)"] == pytest.approx(100.0)
    assert table.loc[("dicke", 10), "> 0.01 (%)"] == pytest.approx(50.0)
    assert table.loc[("dicke", 5), "> 0.0001 (%)"] == pytest.approx(100 / 3)
    assert table.loc[("tc", 10), "largest"] == pytest.approx(5e-5)
    assert (table.xs("tc", level="model")["> 0.0001 (%)"] == 0).all()
    by_model = top_fock_summary(_ds(), by=["model"])
    assert by_model.loc["dicke", "points"] == 5 and by_model.loc["tc", "points"] == 6


def test_summary_errors_name_what_is_missing() -> None:
    with pytest.raises(ValueError, match="top_fock_max"):
        top_fock_summary(_ds().rename(top_fock_max="other"))
    with pytest.raises(ValueError, match="setup"):
        top_fock_summary(_ds(), by=["model", "setup"])


@pytest.mark.parametrize(("factor", "flagged"), [(0.9, False), (1.1, True)])
def test_solver_warning_and_summary_share_one_limit(factor, flagged) -> None:
    """A point the solver flags as 'cutoff too small' is exactly one the summary counts above
    its first level (both read truncation.TOP_FOCK_LIMIT)."""
    from types import SimpleNamespace

    from qbpaper.params import Params
    from qbpaper.solve import QbpaperWarning, flag_numerics
    from qbpaper.truncation import LEVELS, TOP_FOCK_LIMIT

    top = factor * TOP_FOCK_LIMIT
    traj = SimpleNamespace(
        params=Params(), top_fock=np.array([0.0, top]), trace=np.ones(2), warnings=[]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QbpaperWarning)
        flag_numerics(traj)
    assert any("cutoff too small" in w for w in traj.warnings) is flagged
    ds = xr.Dataset(
        {"top_fock_max": (("model", "N"), [[top]])}, coords={"model": ["dicke"], "N": [5]}
    )
    share = top_fock_summary(ds).loc[("dicke", 5), f"> {LEVELS[0]:g} (%)"]
    assert bool(share == 100.0) is flagged
