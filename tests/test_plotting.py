"""Tests of qbpaper.plotting on small synthetic Datasets (structure, labels, normalisation)."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from qbpaper import plotting  # noqa: E402
from qbpaper.paper_data import REGIME_RATES  # noqa: E402

N = np.array([5, 10, 20, 30])
G = [0.0, 0.1, 0.5, 1.0]
K = [1e-3, 1e-2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def grid_ds(var: str, axes: dict[str, list], extra: dict[str, list] | None = None) -> xr.Dataset:
    """model x setup x N x <axes> (+ length-1 extra dims), values 1 + index sum (positive)."""
    coords = {"model": ["tc", "dicke"], "setup": ["driven", "undriven"], "N": N, **axes}
    coords.update(extra or {})
    shape = tuple(len(v) for v in coords.values())
    rng = np.random.default_rng(0)
    data = 1.0 + rng.random(shape)
    data[1] *= 3.0  # dicke larger than tc everywhere
    return xr.Dataset({var: (tuple(coords), data)}, coords=coords)


def panels(fig: plt.Figure) -> list:
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def colorbars(fig: plt.Figure) -> list:
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def mesh_max(ax: plt.Axes) -> float:
    return float(np.nanmax(ax.collections[0].get_array()))


def test_heatmap_n_g_layout_labels_and_row_normalisation() -> None:
    ds = grid_ds("E_max", {"g": G}, extra={"kappa": [1e-3], "dissipation": ["collective"]})
    fig = plotting.heatmap_n_g(ds, "E_max")
    axs = panels(fig)
    assert len(axs) == 4 and len(colorbars(fig)) == 2
    assert [ax.get_title() for ax in axs] == [
        "Dicke, undriven",
        "Tavis–Cummings, undriven",
        "Dicke, driven",
        "Tavis–Cummings, driven",
    ]
    for ax in axs:
        assert ax.get_xlabel() == plotting.AXIS_LABELS["g"] == "g / ω$_q$"
        assert ax.get_ylabel() == "N"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.1", "0.5", "1"]
    # each row divided by its max over both models: Dicke (x3) reaches 1, TC stays below
    assert mesh_max(axs[0]) == pytest.approx(1.0) and mesh_max(axs[2]) == pytest.approx(1.0)
    assert mesh_max(axs[1]) < 0.7 and mesh_max(axs[3]) < 0.7
    raw = ds["E_max"].sel(setup="undriven")
    expected = raw.sel(model="tc").values / float(raw.max())
    np.testing.assert_allclose(axs[1].collections[0].get_array().reshape(expected.shape), expected)
    cap = plotting.caption(fig)
    assert "E_max" in cap and "row" in cap and "kappa=0.001" in cap


def test_heatmap_n_kappa_categorical_axis() -> None:
    ds = grid_ds("S_q_max", {"kappa": K})
    fig = plotting.heatmap_n_kappa(ds, "S_q_max")
    axs = panels(fig)
    assert len(axs) == 4 and len(colorbars(fig)) == 2
    labels = [t.get_text() for t in axs[0].get_xticklabels()]
    assert labels == [
        "0.001",
        "0.01",
        "0.1",
        "0.2",
        "0.3",
        "0.4",
        "0.5",
        "0.6",
        "0.7",
        "0.8",
        "0.9",
        "1",
    ]
    assert axs[0].get_xlabel() == "κ / ω$_q$"
    assert "κ/ω_q" in plotting.caption(fig)


def test_heatmap_requires_selection_of_extra_dims() -> None:
    ds = grid_ds("E_max", {"g": G}, extra={"kappa": [1e-3, 1e-2]})
    with pytest.raises(ValueError, match="kappa"):
        plotting.heatmap_n_g(ds)
    fig = plotting.heatmap_n_g(ds, sel={"kappa": 0.01})
    assert len(panels(fig)) == 4
    with pytest.raises(ValueError, match="'g'"):
        plotting.heatmap_n_g(ds.isel(g=0))
    with pytest.raises(ValueError, match="no variable"):
        plotting.heatmap_n_g(ds, "P_max")


def test_heatmap_single_setup_gives_one_row() -> None:
    ds = grid_ds("E_max", {"g": G}).sel(setup="driven")  # setup becomes a scalar coordinate
    fig = plotting.heatmap_n_g(ds)
    assert len(panels(fig)) == 2 and len(colorbars(fig)) == 1


def rates_ds() -> xr.Dataset:
    rates = [1e-3, 0.1, 0.5]
    coords = {
        "model": ["tc", "dicke"],
        "N": [5, 20, 50],
        "gamma_relax": rates,
        "gamma_deph": rates,
        "setup": ["driven"],
        "g": [0.1],
    }
    shape = tuple(len(v) for v in coords.values())
    n = np.array(coords["N"], dtype=float).reshape(1, 3, 1, 1, 1, 1)
    data = n * (1.0 + np.random.default_rng(2).random(shape))
    return xr.Dataset({"tau": (tuple(coords), data)}, coords=coords)


def test_heatmap_rates_panels_per_n_and_model_normalisation() -> None:
    fig = plotting.heatmap_rates(rates_ds(), "tau")
    axs = panels(fig)
    assert len(axs) == 6 and len(colorbars(fig)) == 2
    assert axs[0].get_title() == "Dicke, N = 5" and axs[5].get_title() == "Tavis–Cummings, N = 50"
    assert axs[3].get_xlabel() == "γ$^z$ / ω$_q$"  # bottom row keeps its x label
    assert axs[0].get_ylabel() == "γ$^-$ / ω$_q$"  # first column keeps its y label
    for row in (axs[:3], axs[3:]):
        maxima = [mesh_max(ax) for ax in row]
        assert max(maxima) == pytest.approx(1.0)  # normalised per model over all N
        assert maxima[0] < maxima[2]  # N = 5 panel below N = 50 panel (data grow with N)
    fig2 = plotting.heatmap_rates(rates_ds(), "tau", ns=[5, 50])
    assert len(panels(fig2)) == 4


def test_heatmap_rates_needs_a_setup_choice() -> None:
    ds = rates_ds()
    two = xr.concat([ds, ds.assign_coords(setup=["undriven"])], dim="setup")
    with pytest.raises(ValueError, match="setup"):
        plotting.heatmap_rates(two, "tau")
    assert len(panels(plotting.heatmap_rates(two, "tau", sel={"setup": "undriven"}))) == 6


def regime_ds(outlier: bool = False) -> xr.Dataset:
    sizes = np.arange(5, 55, 5)
    coords = {
        "model": ["tc", "dicke"],
        "N": sizes,
        "gamma_relax": [1e-3, 1e-2],
        "gamma_deph": [1e-3, 1e-2, 0.1, 0.3],
        "g": [0.1],
        "kappa": [1e-3],
    }
    shape = tuple(len(v) for v in coords.values())
    n = sizes.reshape(1, -1, 1, 1, 1, 1).astype(float)
    rng = np.random.default_rng(3)
    data = {}
    for k, var in enumerate(("E_max", "tau", "P_max", "S_q_final", "S_c_final")):
        arr = 0.2 * n ** (1.0 - 0.4 * k) * np.exp(rng.normal(0, 0.01, shape))
        if outlier:
            arr[:, 4] *= 1.5
        data[var] = (tuple(coords), arr)
        data[var + "_refined"] = (tuple(coords), arr)
    return xr.Dataset(data, coords=coords)


def test_scaling_panels_structure() -> None:
    fig = plotting.scaling_panels(regime_ds(outlier=True), "tuned-decay", n_boot=100)
    axs = panels(fig)
    assert len(axs) == 10 and not colorbars(fig)
    assert axs[0].get_title().startswith("Dicke") and axs[1].get_title().startswith("Tavis")
    for ax in axs:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert ax.get_xlabel() == "N"
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert sum("α =" in t for t in texts) == 3  # three rate combinations
        assert "dropped (|z| > 2)" in texts
        crosses = [ln for ln in ax.lines if ln.get_marker() == "x" and len(ln.get_xdata())]
        assert any(25 in ln.get_xdata() for ln in crosses)  # the injected outlier is marked
    fits = fig.qbpaper_fits
    assert len(fits) == 5 * 2 * 3
    assert {"alpha", "ci_low", "ci_high", "n_dropped"} <= set(fits.columns)
    assert (fits["n_dropped"] >= 1).all()
    assert "tuned-decay" in plotting.caption(fig).lower()


def test_scaling_overview_structure() -> None:
    fig = plotting.scaling_overview(
        regime_ds(), ("E_max", "tau"), regimes=("tuned-decay",), n_boot=50
    )
    axs = panels(fig)
    assert len(axs) == 2
    texts = [t.get_text() for t in axs[0].get_legend().get_texts()]
    assert any(t.startswith("Dicke: α =") for t in texts)
    assert any(t.startswith("Tavis–Cummings: α =") for t in texts)
    assert axs[0].get_ylabel() == plotting.VAR_LABELS["E_max"]
    # the legend (titled with the panel's name) sits above the panel, never on the curves
    fig.canvas.draw()
    for ax in axs:
        legend = ax.get_legend()
        assert legend.get_title().get_text().startswith("tuned-decay: ")
        box, frame = legend.get_window_extent(), ax.get_window_extent()
        assert box.y0 >= frame.y1 - 1e-6
    with pytest.raises(ValueError, match="intermediate"):
        two_rates = regime_ds().sel(gamma_deph=[1e-3, 1e-2])
        plotting.scaling_overview(two_rates, ("E_max",), regimes=("intermediate",), n_boot=0)


def test_save_figure_writes_png_and_svg(tmp_path) -> None:
    ds = grid_ds("E_max", {"g": G})
    fig = plotting.heatmap_n_g(ds)
    png, svg = plotting.save_figure(fig, tmp_path / "sub" / "fig2")
    assert png.suffix == ".png" and svg.suffix == ".svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:2000]


def test_scaling_panels_survive_missing_data() -> None:
    ds = regime_ds()
    ds["tau_refined"].loc[{"model": "tc"}] = np.nan  # every TC tau point failed
    fig = plotting.scaling_panels(ds, "tuned-decay", observables=("E_max", "tau"), n_boot=50)
    fig.canvas.draw()
    ax = panels(fig)[3]  # Tavis-Cummings, tau
    assert ax.get_yscale() == "linear"
    assert any(t.get_text() == "no positive data" for t in ax.texts)
    assert all("no fit" in t.get_text() for t in ax.get_legend().get_texts()[:3])


def test_scaling_panels_mark_censored_charging_times_and_do_not_fit_them() -> None:
    ds = regime_ds()
    ds.attrs.update(param_t_final=50.0, param_dt=0.1)
    for var in ("tau", "tau_refined"):
        ds[var].loc[{"model": "dicke", "N": [40, 45, 50]}] = 50.0  # still charging at t_f
    fig = plotting.scaling_panels(ds, "tuned-decay", observables=("tau",), n_boot=50)
    dicke, tc = panels(fig)
    texts = [t.get_text() for t in dicke.get_legend().get_texts()]
    assert "τ = t_f: censored, not fitted" in texts
    assert "τ = t_f: censored, not fitted" not in [
        t.get_text() for t in tc.get_legend().get_texts()
    ]
    triangles = [ln for ln in dicke.lines if ln.get_marker() == "^" and len(ln.get_xdata())]
    assert len(triangles) == 3 and all(set(ln.get_xdata()) == {40, 45, 50} for ln in triangles)
    fits = fig.qbpaper_fits
    dicke_tau = fits[(fits["model"] == "dicke") & (fits["observable"] == "tau")]
    # fitted on N = 5..35 only: the injected exponent (1 - 0.4) survives, not flattened by t_f
    np.testing.assert_allclose(dicke_tau["alpha"], 0.6, atol=0.03)
    assert (dicke_tau["n_used"] <= 7).all()


def test_running_exponent_panels_draw_the_local_slopes_and_the_papers_values() -> None:
    ds = regime_ds()  # power laws with exponents 1.0, 0.6, 0.2, -0.2, -0.6 and 1 % noise
    fig = plotting.running_exponent_panels(ds, ("E_max", "tau"), regimes=("tuned-decay",))
    axs = panels(fig)
    assert len(axs) == 2
    e_max = axs[0]
    curves = [ln for ln in e_max.lines if ln.get_marker() == "."]
    assert len(curves) == 2 * 3  # two models, three rate combinations
    n = ds["N"].values.astype(float)
    for ln in curves:
        assert len(ln.get_xdata()) == 9  # between the 10 sizes
        np.testing.assert_allclose(ln.get_xdata(), np.sqrt(n[:-1] * n[1:]))
    # each drawn line is the slope between neighbours in log-log space of one curve
    expected = []
    for model in ("dicke", "tc"):
        for r, d in REGIME_RATES["tuned-decay"]:
            y = ds["E_max_refined"].sel(model=model, gamma_relax=r, gamma_deph=d).squeeze()
            expected.append(np.diff(np.log(y.values)) / np.diff(np.log(n)))
    drawn = [np.asarray(ln.get_ydata()) for ln in curves]
    for e in expected:
        assert any(np.allclose(e, d, rtol=1e-12) for d in drawn)
    assert e_max.get_xscale() == "log"
    texts = [t.get_text() for t in e_max.get_legend().get_texts()]
    assert "Dicke (paper: 1.00)" in texts
    assert any(t.startswith("Tavis–Cummings (paper: ~1") for t in texts)
    assert "local exponents" in plotting.caption(fig).lower()


def test_running_exponents_of_a_power_law_a_bend_and_a_hole() -> None:
    from qbpaper.scaling import running_exponents

    n = np.arange(5.0, 55.0, 5.0)
    rows = [n**1.3, np.where(n <= 25, n, n**2 / 25), np.where(n == 20, np.nan, n**0.5)]
    da = xr.DataArray(np.stack(rows), dims=("curve", "N"), coords={"N": n}, name="E_max")
    local = running_exponents(da)
    assert local.name == "E_max_running_exponent"
    np.testing.assert_allclose(local["N"].values, np.sqrt(n[:-1] * n[1:]))
    np.testing.assert_allclose(local.values[0], 1.3, rtol=1e-12)
    np.testing.assert_allclose(local.values[1], [1, 1, 1, 1, 2, 2, 2, 2, 2], rtol=1e-12)
    assert np.isnan(local.values[2][2:4]).all()  # the pairs 15-20 and 20-25 touch the hole
    np.testing.assert_allclose(np.delete(local.values[2], [2, 3]), 0.5, rtol=1e-12)
    shuffled = running_exponents(da.isel(N=[3, 0, 9, 1, 2, 4, 5, 6, 7, 8]))
    xr.testing.assert_allclose(shuffled, local)  # sorted by size first
    with pytest.raises(ValueError, match="distinct positive"):
        running_exponents(da.isel(N=[0, 0, 2]))
    with pytest.raises(ValueError, match="no dimension"):
        running_exponents(da, "g")
