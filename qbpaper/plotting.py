"""Figures of the paper, one function per figure kind; each returns a matplotlib Figure.

* :func:`heatmap_n_g`   - N x g heatmaps, 2x2 (rows undriven/driven, columns Dicke/TC), Figs. 2-3;
* :func:`heatmap_n_kappa` - N x kappa heatmaps, same layout, categorical kappa axis, Figs. 4-5;
* :func:`heatmap_rates` - gamma_relax x gamma_deph heatmaps, one panel per N, rows = models,
  Figs. 6-10;
* :func:`scaling_panels` - log-log fits of one regime, rows = observables, columns = models,
  Figs. 14-16;  :func:`scaling_overview` - all regimes side by side, Figs. 11-12.

Conventions: rates and g in units of omega_q, axis labels say so ("g / ω_q"); energies in
units of omega_q, times in 1/omega_q, entropies in nats. Heatmaps use a categorical (index)
axis for every parameter, labelled with the parameter values. Normalisation follows the
captions: Figs. 2-5 divide each row (setup) by the maximum over both models in that row;
Figs. 6-10 divide each model's row by its maximum over all panels (all N). One colorbar per
row. Every figure carries a caption string in ``fig.qbpaper_caption`` (read it with
:func:`caption`); scaling figures also carry their fits in ``fig.qbpaper_fits`` (a DataFrame).

Dimensions of length 1 are squeezed; other extra dimensions must be fixed with ``sel``
(a mapping passed to :func:`qbpaper.scaling.select`, floats matched with a tolerance).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
import xarray as xr
from matplotlib.figure import Figure

from qbpaper.paper_data import MODELS, REGIMES, paper_exponent
from qbpaper.scaling import (
    ensure_dim,
    get_var,
    regime_fits,
    running_exponents,
    select,
    squeeze_to,
)

__all__ = [
    "AXIS_LABELS",
    "VAR_LABELS",
    "caption",
    "heatmap_n_g",
    "heatmap_n_kappa",
    "heatmap_rates",
    "running_exponent_panels",
    "save_figure",
    "scaling_overview",
    "scaling_panels",
]

#: Display names of the dataset variables (mathtext), with units of omega_q where they apply.
VAR_LABELS: dict[str, str] = {
    "E_max": r"$E_{\max}$ / ω$_q$",
    "tau": r"$\tau$ · ω$_q$",
    "P_max": r"$\bar{P}_{\max}$ / ω$_q^2$",
    "S_q_max": r"$S_q$ (nats)",
    "S_c_max": r"$S_c$ (nats)",
    "S_q_final": r"$S_q^f$ (nats)",
    "S_c_final": r"$S_c^f$ (nats)",
    "photons_max": r"max $\langle a^\dagger a\rangle$",
    "top_fock_max": r"max $p(n_{\max})$",
    "trace_drift_max": "max |tr ρ - 1|",
}
_SHORT = {
    "E_max": r"$E_{\max}$",
    "tau": r"$\tau$",
    "P_max": r"$\bar{P}_{\max}$",
    "S_q_max": r"$S_q$",
    "S_c_max": r"$S_c$",
    "S_q_final": r"$S_q^f$",
    "S_c_final": r"$S_c^f$",
}
_PLAIN = {
    "E_max": "E_max",
    "tau": "τ",
    "P_max": "P̄_max",
    "S_q_max": "S_q",
    "S_c_max": "S_c",
    "S_q_final": "S_q^f",
    "S_c_final": "S_c^f",
}
_PLAIN_AXIS = {"g": "g/ω_q", "kappa": "κ/ω_q", "gamma_relax": "γ⁻/ω_q", "gamma_deph": "γᶻ/ω_q"}
#: Axis labels of the parameters (units of omega_q).
AXIS_LABELS: dict[str, str] = {
    "N": "N",
    "g": "g / ω$_q$",
    "kappa": "κ / ω$_q$",
    "gamma_relax": "γ$^-$ / ω$_q$",
    "gamma_deph": "γ$^z$ / ω$_q$",
    "nmax": "$n_{\\max}$",
}
_MODEL_NAMES = {"dicke": "Dicke", "tc": "Tavis–Cummings"}
_MODEL_LINES = {"dicke": "-", "tc": "--"}  # as Fig. 11: Dicke solid, TC dashed
_SETUP_ORDER = ("undriven", "driven")
_CMAP = "viridis"


def _base(var: str) -> str:
    return var.removesuffix("_refined")


def _var_label(var: str) -> str:
    return VAR_LABELS.get(_base(var), var)


def _plain(var: str) -> str:
    """Plain-text (unicode) name for captions."""
    return _PLAIN.get(_base(var), _base(var))


def _short(var: str) -> str:
    return _SHORT.get(_base(var), _base(var))


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """The companion's figure style (seaborn ticks, compact fonts), without global side effects."""
    rc = {
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 7,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "figure.dpi": 100,
    }
    with sns.axes_style("ticks"), plt.rc_context(rc):
        yield


def caption(fig: Figure) -> str:
    """The caption string attached to a figure made here (``fig.qbpaper_caption``)."""
    return str(getattr(fig, "qbpaper_caption", ""))


def save_figure(fig: Figure, path_stem: str | Path, *, dpi: int = 150) -> tuple[Path, Path]:
    """Save ``fig`` as ``<path_stem>.png`` and ``<path_stem>.svg``; returns both paths.

    Parent folders are created. A suffix on ``path_stem`` is replaced.
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png, dpi=dpi, bbox_inches="tight")
    fig.savefig(svg, bbox_inches="tight")
    return png, svg


# ------------------------------------------------------------------ helpers


def _fmt_val(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):g}"
    return str(v)


def _fixed(da: xr.DataArray) -> str:
    """Scalar coordinates of ``da`` as "name=value" text for captions."""
    items = [
        f"{k}={_fmt_val(v.values.item())}"
        for k, v in da.coords.items()
        if v.ndim == 0 and k not in ("curve",)
    ]
    return ", ".join(items)


def _ordered(values: Sequence[Any], order: Sequence[Any]) -> list[Any]:
    vals = list(values)
    return [v for v in order if v in vals] + [v for v in vals if v not in order]


def _normaliser(arr: np.ndarray) -> float:
    """Maximum used to normalise ``arr`` (1 when it is not a positive number)."""
    with np.errstate(all="ignore"):
        m = float(np.nanmax(arr)) if np.isfinite(arr).any() else math.nan
    return m if math.isfinite(m) and m > 0 else 1.0


def _categorical_ticks(ax: Any, axis: str, values: Sequence[Any], max_labels: int = 12) -> None:
    step = max(1, math.ceil(len(values) / max_labels))
    pos = np.arange(0, len(values), step)
    labels = [_fmt_val(values[i]) for i in pos]
    if axis == "x":
        ax.set_xticks(pos + 0.5, labels, rotation=90 if len(values) > 6 else 0)
    else:
        ax.set_yticks(pos + 0.5, labels)


def _heatmap(ax: Any, z: np.ndarray, xvals: Sequence[Any], yvals: Sequence[Any], **kw: Any) -> Any:
    """Draw ``z[y, x]`` on categorical axes; returns the QuadMesh."""
    mesh = ax.pcolormesh(
        np.arange(len(xvals) + 1), np.arange(len(yvals) + 1), np.ma.masked_invalid(z), **kw
    )
    _categorical_ticks(ax, "x", xvals)
    _categorical_ticks(ax, "y", yvals)
    ax.set_xlim(0, len(xvals))
    ax.set_ylim(0, len(yvals))
    return mesh


def _prepare(
    ds: xr.Dataset | xr.DataArray,
    var: str,
    layout: Sequence[str],
    axes: Sequence[str],
    sel: Mapping[Hashable, Any] | None,
) -> xr.DataArray:
    da = select(get_var(ds, var), sel)
    for d in axes:
        if d not in da.dims:
            raise ValueError(f"{var}: needs a {d!r} dimension to plot; dims are {da.dims}")
    for d in layout:
        da = ensure_dim(da, d)
    return squeeze_to(da, (*layout, *axes), what=var)


# ------------------------------------------------------------------ Figs. 2-5


def _row_normalised_2x2(
    ds: xr.Dataset | xr.DataArray,
    var: str,
    xdim: str,
    sel: Mapping[Hashable, Any] | None,
    normalise: bool,
    figs: str,
) -> Figure:
    da = _prepare(ds, var, ("setup", "model"), ("N", xdim), sel)
    setups = _ordered(da["setup"].values.tolist(), _SETUP_ORDER)
    models = _ordered(da["model"].values.tolist(), MODELS)
    xvals = da[xdim].values.tolist()
    nvals = da["N"].values.tolist()
    with _style():
        fig, axs = plt.subplots(
            len(setups),
            len(models),
            figsize=(3.6 * len(models) + 1.2, 3.0 * len(setups) + 0.4),
            layout="constrained",
            squeeze=False,
        )
        for i, s in enumerate(setups):
            row = da.sel(setup=s).transpose("model", "N", xdim)
            scale = _normaliser(row.values) if normalise else 1.0
            mesh = None
            for j, m in enumerate(models):
                ax = axs[i, j]
                z = row.sel(model=m).values / scale
                kw = {"vmin": 0.0, "vmax": 1.0} if normalise else {"vmin": np.nanmin(row.values)}
                if not normalise:
                    kw["vmax"] = np.nanmax(row.values)
                mesh = _heatmap(ax, z, xvals, nvals, cmap=_CMAP, **kw)
                ax.set_title(f"{_MODEL_NAMES.get(m, m)}, {s}")
                ax.set_xlabel(AXIS_LABELS.get(xdim, xdim))
                ax.set_ylabel(AXIS_LABELS["N"])
            label = f"{_short(var)} / row max" if normalise else _var_label(var)
            fig.colorbar(mesh, ax=list(axs[i]), label=label, shrink=0.9)
    norm = (
        "Each row (setup) is divided by its maximum over both models and all points, as in the "
        f"captions of Figs. {figs}."
        if normalise
        else "Not normalised."
    )
    fixed = _fixed(da)
    fig.qbpaper_caption = (
        f"{_plain(var)} ({var}) as a function of N and {_PLAIN_AXIS.get(xdim, xdim)}; rows: "
        f"{', '.join(setups)}; columns: {', '.join(_MODEL_NAMES.get(m, m) for m in models)}. "
        f"{norm}" + (f" Fixed: {fixed}." if fixed else "")
    )
    return fig


def heatmap_n_g(
    ds: xr.Dataset | xr.DataArray,
    var: str = "E_max",
    *,
    sel: Mapping[Hashable, Any] | None = None,
    normalise: bool = True,
) -> Figure:
    """N x g heatmaps of ``var`` (Figs. 2-3): rows undriven, driven; columns Dicke, TC.

    Needs dims ``N`` and ``g`` and a ``setup`` and ``model`` dimension or coordinate. Each row is
    divided by the maximum over both models in that row (``normalise=False`` plots raw values).
    """
    return _row_normalised_2x2(ds, var, "g", sel, normalise, "2-3")


def heatmap_n_kappa(
    ds: xr.Dataset | xr.DataArray,
    var: str = "E_max",
    *,
    sel: Mapping[Hashable, Any] | None = None,
    normalise: bool = True,
) -> Figure:
    """N x kappa heatmaps of ``var`` (Figs. 4-5), layout and normalisation as :func:`heatmap_n_g`.

    The kappa axis is categorical: one column per kappa value (the paper's 12 values).
    """
    return _row_normalised_2x2(ds, var, "kappa", sel, normalise, "4-5")


# ------------------------------------------------------------------ Figs. 6-10


def heatmap_rates(
    ds: xr.Dataset | xr.DataArray,
    var: str = "E_max",
    *,
    ns: Sequence[int] | None = None,
    sel: Mapping[Hashable, Any] | None = None,
    normalise: bool = True,
) -> Figure:
    """gamma_relax x gamma_deph heatmaps (Figs. 6-10): one panel per N, rows = models.

    x axis: gamma_deph (γ^z), y axis: gamma_relax (γ^-), both categorical. ``ns`` picks the
    sizes shown (default: all). Each model's row is divided by its maximum over all shown
    panels ("model-normalised", as in the captions). A ``setup`` with several values must be
    fixed with ``sel={"setup": ...}``.
    """
    if ns is not None:
        sel = {**(sel or {}), "N": list(ns)}
    da = _prepare(ds, var, ("model",), ("N", "gamma_relax", "gamma_deph"), sel)
    models = _ordered(da["model"].values.tolist(), MODELS)
    nvals = da["N"].values.tolist()
    xv = da["gamma_deph"].values.tolist()
    yv = da["gamma_relax"].values.tolist()
    with _style():
        fig, axs = plt.subplots(
            len(models),
            len(nvals),
            figsize=(2.4 * len(nvals) + 1.2, 2.6 * len(models) + 0.4),
            layout="constrained",
            squeeze=False,
            sharex=True,
            sharey=True,
        )
        for i, m in enumerate(models):
            block = da.sel(model=m).transpose("N", "gamma_relax", "gamma_deph")
            scale = _normaliser(block.values) if normalise else 1.0
            kw = (
                {"vmin": 0.0, "vmax": 1.0}
                if normalise
                else {"vmin": np.nanmin(block.values), "vmax": np.nanmax(block.values)}
            )
            mesh = None
            for j, n in enumerate(nvals):
                ax = axs[i, j]
                mesh = _heatmap(ax, block.sel(N=n).values / scale, xv, yv, cmap=_CMAP, **kw)
                ax.set_title(f"{_MODEL_NAMES.get(m, m)}, N = {n}")
                ax.set_xlabel(AXIS_LABELS["gamma_deph"])
                ax.set_ylabel(AXIS_LABELS["gamma_relax"])
                ax.label_outer()
            label = f"{_short(var)} / model max" if normalise else _var_label(var)
            fig.colorbar(mesh, ax=list(axs[i]), label=label, shrink=0.9)
    fixed = _fixed(da)
    norm = (
        "Each model's row is divided by its maximum over all panels (model-normalised, as in "
        "Figs. 6-10)."
        if normalise
        else "Not normalised."
    )
    fig.qbpaper_caption = (
        f"{_plain(var)} ({var}) as a function of γ⁻ (relaxation, vertical) and γᶻ "
        f"(dephasing, horizontal), rates in units of ω_q, one panel per N; rows: "
        f"{', '.join(_MODEL_NAMES.get(m, m) for m in models)}. {norm}"
        + (f" Fixed: {fixed}." if fixed else "")
    )
    return fig


# ------------------------------------------------------------------ Figs. 11-12, 14-16

_SCALING_OBS = ("S_c_final", "S_q_final", "E_max", "tau", "P_max")


def _draw_curve(
    ax: Any,
    n: np.ndarray,
    y: np.ndarray,
    fit: xr.Dataset,
    color: Any,
    ls: str,
    label: str | None,
    censored: np.ndarray | None = None,
) -> None:
    """Data (kept: filled circles, dropped: crosses, censored and left out of the fit: open
    triangles), fitted line, legend label with alpha.

    ``label=None`` leaves the curve out of the legend.
    """
    dropped = np.asarray(fit["dropped"].values, dtype=bool)
    ok = np.isfinite(y) & (y > 0)
    if censored is not None and censored.any():
        at_end = ok & censored
        ax.plot(n[at_end], y[at_end], "^", ms=5, mfc="none", color=color, ls="none")
        ok = ok & ~censored
    ax.plot(n[ok & ~dropped], y[ok & ~dropped], "o", ms=3.5, color=color, ls="none")
    if (ok & dropped).any():
        ax.plot(n[ok & dropped], y[ok & dropped], "x", ms=7, mew=1.6, color=color, ls="none")
    a = float(fit["alpha"])
    if math.isfinite(a):
        nn = np.geomspace(n.min(), n.max(), 50)
        yy = np.exp(float(fit["intercept"])) * nn**a
        lo, hi = float(fit["ci_low"]), float(fit["ci_high"])
        ci = f" [{lo:.2f}, {hi:.2f}]" if math.isfinite(lo) else ""
        text = "_nolegend_" if label is None else f"{label}: α = {a:.2f}{ci}"
        ax.plot(nn, yy, ls=ls, color=color, lw=1.2, label=text)
    elif label is not None:
        ax.plot([], [], ls=ls, color=color, label=f"{label}: no fit")


def _fits_frame(fits: dict[str, xr.Dataset], regime: str) -> pd.DataFrame:
    frames = []
    for obs, f in fits.items():
        df = f[["alpha", "ci_low", "ci_high", "stderr", "r2", "n_used", "n_dropped"]].to_dataframe()
        df = df.reset_index()[
            ["model", "curve", "alpha", "ci_low", "ci_high", "stderr", "r2", "n_used", "n_dropped"]
        ]
        df.insert(0, "observable", obs)
        df.insert(0, "regime", regime)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


class _PlainLogFormatter(mticker.LogFormatter):
    """Label the ticks that LogFormatter would label, as plain numbers ("0.4", "20")."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:.3g}" if super().__call__(x, pos) else ""


def _loglog(ax: Any, n: np.ndarray, y: np.ndarray) -> None:
    """Log-log axes with the sizes as x ticks and plain-number y tick labels.

    Without any positive finite ``y`` the y axis stays linear and the panel says so.
    """
    yv = np.asarray(y, dtype=float)
    if not (np.isfinite(yv) & (yv > 0)).any():
        ax.text(0.5, 0.5, "no positive data", transform=ax.transAxes, ha="center", va="center")
    else:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PlainLogFormatter(labelOnlyBase=False))
        ax.yaxis.set_minor_formatter(
            _PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1))
        )
    _size_axis(ax, n)


def _size_axis(ax: Any, n: np.ndarray) -> None:
    """Log x axis labelled with (at most about six of) the sizes ``n`` as plain numbers."""
    ax.set_xscale("log")
    nv = np.unique(np.asarray(n, dtype=float))
    step = max(1, math.ceil(nv.size / 6))
    ax.xaxis.set_major_locator(mticker.FixedLocator(nv[::step]))
    ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())


def _dropped_handle(ax: Any, censored: xr.DataArray | None = None) -> None:
    ax.plot([], [], "x", color="0.4", ms=6, mew=1.4, label="dropped (|z| > 2)")
    if censored is not None and bool(censored.any()):
        ax.plot([], [], "^", color="0.4", mfc="none", ms=5, label="τ = t_f: censored, not fitted")


def scaling_panels(
    ds: xr.Dataset,
    regime: str,
    *,
    observables: Sequence[str] = _SCALING_OBS,
    setup: str | None = None,
    sel: Mapping[Hashable, Any] | None = None,
    refined: bool = True,
    **fit_kwargs: Any,
) -> Figure:
    """Log-log scaling fits of one regime (Figs. 14-16): rows = observables, columns = models.

    Each (gamma_relax, gamma_deph) combination of the regime (and each setup, unless ``setup``
    is given) is one curve: data as circles, points dropped by the outlier rule as crosses, the
    fitted power law as a line (Dicke solid, TC dashed), and its exponent with the bootstrap
    interval in the legend. Fits are those of :func:`qbpaper.scaling.exponent_table` with the
    same keyword arguments (:func:`qbpaper.scaling.regime_fits`: ``refined`` and
    ``fit_kwargs``; NaN points omitted; charging times at the end of the window drawn as open
    triangles and left out of the tau and P_max fits; a curve with too few sizes not fitted);
    they are attached as ``fig.qbpaper_fits``. A panel without positive data
    keeps a linear y axis and says so.
    """
    fits: dict[str, xr.Dataset] = {}
    data: dict[str, xr.DataArray] = {}
    censored: dict[str, xr.DataArray] = {}
    for obs in observables:
        data[obs], fits[obs], censored[obs] = regime_fits(
            ds, obs, regime, setup=setup, sel=sel, refined=refined, **fit_kwargs
        )
    models = _ordered(data[observables[0]]["model"].values.tolist(), MODELS)
    curves = data[observables[0]]["curve"].values.tolist()
    palette = sns.color_palette("viridis", n_colors=max(len(curves), 2))
    with _style():
        fig, axs = plt.subplots(
            len(observables),
            len(models),
            figsize=(7.2 * len(models), 2.7 * len(observables)),
            layout="constrained",
            squeeze=False,
        )
        for i, obs in enumerate(observables):
            n = data[obs]["N"].values.astype(float)
            for j, m in enumerate(models):
                ax = axs[i, j]
                for k, c in enumerate(curves):
                    y = data[obs].sel(model=m, curve=c).values.astype(float)
                    f = fits[obs].sel(model=m, curve=c)
                    cen = censored[obs].sel(model=m, curve=c).values
                    _draw_curve(ax, n, y, f, palette[k], _MODEL_LINES.get(m, "-"), str(c), cen)
                _dropped_handle(ax, censored[obs].sel(model=m))
                _loglog(ax, n, data[obs].sel(model=m).values)
                ax.set_xlabel(AXIS_LABELS["N"])
                ax.set_ylabel(_var_label(obs))
                ax.set_title(f"{_MODEL_NAMES.get(m, m)}: {_short(obs)}")
                # beside the panel: ten curves' labels inside it would cover the data
                ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.qbpaper_fits = _fits_frame(fits, regime)
    fixed = _fixed(data[observables[0]])
    fig.qbpaper_caption = (
        f"{regime.capitalize()} regime: log-log fits O ~ N^α of "
        f"{', '.join(_plain(o) for o in observables)} (rows) for "
        f"{' and '.join(_MODEL_NAMES.get(m, m) for m in models)} (columns); r = γ⁻/ω_q, "
        "d = γᶻ/ω_q. Lines: least-squares fits after the one-pass MAD outlier rule "
        "(|z| > 2, App. B); crosses: dropped points; legend: α with its 95 % bootstrap interval."
        + (" E_max, τ and P_max refined between grid points." if refined else "")
        + (f" Fixed: {fixed}." if fixed else "")
    )
    return fig


def scaling_overview(
    ds: xr.Dataset,
    observables: Sequence[str] = ("S_q_final", "S_c_final"),
    *,
    regimes: Sequence[str] = REGIMES,
    setup: str | None = None,
    sel: Mapping[Hashable, Any] | None = None,
    refined: bool = True,
    **fit_kwargs: Any,
) -> Figure:
    """Scaling across regimes (Figs. 11-12): rows = regimes, columns = observables.

    Each panel compares the two models (Dicke solid, TC dashed) over all curves of the regime;
    the legend gives, per model, the range of fitted exponents over the curves. Use
    ``observables=("S_q_final", "S_c_final")`` for Fig. 11 and ``("E_max", "tau", "P_max")``
    for Fig. 12. Regimes absent from ``ds`` raise ``ValueError`` (pass ``regimes=``).
    """
    colors = dict(zip(MODELS, sns.color_palette("colorblind", 2), strict=True))
    all_fits: list[pd.DataFrame] = []
    with _style():
        fig, axs = plt.subplots(
            len(regimes),
            len(observables),
            figsize=(4.2 * len(observables), 3.5 * len(regimes)),
            layout="constrained",
            squeeze=False,
        )
        for i, regime in enumerate(regimes):
            for j, obs in enumerate(observables):
                ax = axs[i, j]
                d, f, cen = regime_fits(
                    ds, obs, regime, setup=setup, sel=sel, refined=refined, **fit_kwargs
                )
                all_fits.append(_fits_frame({obs: f}, regime))
                n = d["N"].values.astype(float)
                for m in _ordered(d["model"].values.tolist(), MODELS):
                    for c in d["curve"].values.tolist():
                        fc = f.sel(model=m, curve=c)
                        y = d.sel(model=m, curve=c).values.astype(float)
                        cc = cen.sel(model=m, curve=c).values
                        line = _MODEL_LINES.get(m, "-")
                        _draw_curve(ax, n, y, fc, colors.get(m), line, None, cc)
                    a = f["alpha"].sel(model=m).values
                    a = a[np.isfinite(a)]
                    rng = (
                        "no fit"
                        if a.size == 0
                        else (f"{a[0]:.2f}" if a.size == 1 else f"{a.min():.2f} to {a.max():.2f}")
                    )
                    name = f"{_MODEL_NAMES.get(m, m)}: α = {rng}"
                    ax.plot([], [], ls=_MODEL_LINES.get(m, "-"), color=colors.get(m), label=name)
                _dropped_handle(ax, cen)
                _loglog(ax, n, d.values)
                ax.set_xlabel(AXIS_LABELS["N"])
                ax.set_ylabel(_var_label(obs))
                # above the panel, titled with the panel's name: inside, "best" still covered
                # curves that fill the panel (e.g. driven intermediate P_max, dephasing-dominated
                # S_c^f)
                ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False,
                          title=f"{regime}: {_short(obs)}",
                          title_fontsize=plt.rcParams["axes.titlesize"])  # fmt: skip
    fig.qbpaper_fits = pd.concat(all_fits, ignore_index=True)
    fig.qbpaper_caption = (
        f"Log-log scaling of {', '.join(_plain(o) for o in observables)} (columns) across the "
        f"dissipation regimes (rows: {', '.join(regimes)}); Dicke solid, Tavis–Cummings dashed; "
        "one line per rate combination of the regime. Legend: range of fitted exponents α over "
        "the curves (one-pass MAD outlier rule, App. B); crosses: dropped points."
    )
    return fig


def running_exponent_panels(
    ds: xr.Dataset,
    observables: Sequence[str] = _SCALING_OBS,
    *,
    regimes: Sequence[str] = REGIMES,
    setup: str | None = None,
    sel: Mapping[Hashable, Any] | None = None,
    refined: bool = True,
) -> Figure:
    """Is each curve one power law? Local exponents d ln O / d ln N between neighbouring sizes
    (:func:`qbpaper.scaling.running_exponents`) for every curve of Figs. 14-16: rows =
    observables, columns = regimes, Dicke solid, Tavis–Cummings dashed, and the paper's
    reported exponent as a band (a line for a single value) in the model's colour.

    The curves are those of :func:`qbpaper.scaling.exponent_table` (same ``setup``, ``sel``,
    ``refined``); charging times at the end of the window (tau = t_f, censored there) are
    left out of tau and P_max, so a pair touching one has no local exponent. No outlier rule is
    applied: a point that the fit drops shows here as a spike. The y range is set by the
    central 90 % of the local exponents and the paper's values; a panel says how many lie
    outside it.
    """
    colors = dict(zip(MODELS, sns.color_palette("colorblind", 2), strict=True))
    with _style():
        fig, axs = plt.subplots(
            len(observables),
            len(regimes),
            figsize=(4.0 * len(regimes), 2.5 * len(observables)),
            layout="constrained",
            squeeze=False,
            sharex=True,
        )
        for i, obs in enumerate(observables):
            for j, regime in enumerate(regimes):
                ax = axs[i, j]
                data, _, censored = regime_fits(
                    ds, obs, regime, setup=setup, sel=sel, refined=refined, n_boot=0
                )
                local = running_exponents(data.where(~censored))
                n_mid = local["N"].values.astype(float)
                shown = [np.asarray(local.values, dtype=float).ravel()]
                for m in _ordered(local["model"].values.tolist(), MODELS):
                    ls, color = _MODEL_LINES.get(m, "-"), colors.get(m)
                    for c in local["curve"].values.tolist():
                        ax.plot(n_mid, local.sel(model=m, curve=c).values, ls=ls, marker=".",
                                ms=3, lw=0.8, alpha=0.7, color=color)  # fmt: skip
                    pe = paper_exponent(regime, m, obs)
                    shown.append(np.array([pe.low, pe.high]))
                    if pe.high > pe.low:
                        ax.axhspan(pe.low, pe.high, color=color, alpha=0.18, lw=0)
                    else:
                        ax.axhline(pe.low, color=color, lw=2.0, alpha=0.5)
                    ax.plot([], [], ls=ls, color=color,
                            label=f"{_MODEL_NAMES.get(m, m)} (paper: {pe.text})")  # fmt: skip
                values = np.concatenate(shown)
                values = values[np.isfinite(values)]
                if values.size:
                    low, high = np.quantile(values, [0.05, 0.95])
                    paper = shown[1:]
                    low = min([low, *(p[0] for p in paper)])
                    high = max([high, *(p[1] for p in paper)])
                    pad = 0.1 * max(high - low, 0.2)
                    ax.set_ylim(low - pad, high + pad)
                    lv = np.asarray(local.values, dtype=float)
                    off = int(np.sum((lv < low - pad) | (lv > high + pad)))
                    if off:
                        ax.text(0.02, 0.03, f"{off} off scale", transform=ax.transAxes,
                                fontsize=8, color="0.3")  # fmt: skip
                _size_axis(ax, data["N"].values)
                ax.set_xlabel(AXIS_LABELS["N"])
                ax.set_ylabel(f"local exponent of {_short(obs)}")
                ax.set_title(f"{regime}: {_short(obs)}")
                ax.legend(frameon=False, fontsize=7)
    fig.qbpaper_caption = (
        "Local exponents d ln O / d ln N between neighbouring sizes (plotted at their geometric "
        f"mean) of {', '.join(_plain(o) for o in observables)} (rows) in the three regimes "
        "(columns); one line per rate combination (and setup when pooled), Dicke solid, "
        "Tavis–Cummings dashed; bands: the paper's reported exponent. One power law would give "
        "flat lines; no outlier rule, so a point the fits drop shows as a spike."
    )
    return fig
