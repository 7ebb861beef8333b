"""The top-Fock summary: counts, maxima and shares over a sweep-shaped Dataset."""

from __future__ import annotations

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
