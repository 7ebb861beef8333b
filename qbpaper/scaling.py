"""Power-law fits O(N) ~ N^alpha with the paper's outlier rule, and exponent tables.

The fit (Eq. 21 and Appendix B of arXiv:2510.26373)
----------------------------------------------------
``log y = alpha log n + c`` (natural logarithms) by ordinary least squares, then the paper's
outlier rule, applied ONCE:

1. preliminary least-squares fit on all points; residuals ``r_i``;
2. robust z-scores ``z_i = (r_i - median(r)) / (1.4826 MAD)``, ``MAD = median|r - median(r)|``
   (the usual median-centred robust z-score; 1.4826 makes 1.4826 MAD estimate a Gaussian
   standard deviation). The paper's "normalized residual" also reads as the uncentred
   ``z_i = r_i / (1.4826 MAD)`` (least-squares residuals have mean zero, not median zero):
   ``z_center="zero"`` gives that reading; the default stays the centred one;
3. drop points with ``|z_i| > 2`` and refit once on the kept points. No iteration.

Edge cases of the rule, chosen here because the paper does not say:

* ``1.4826 MAD <= 1e-12 * max(1, max|log y|)`` (``MAD == 0`` or residuals at the level of
  floating-point rounding, e.g. an exact power law): z is undefined; nothing is dropped.
* if the rule would leave fewer than 3 points, or a single distinct n, nothing is dropped
  (a note says so).

Uncertainties
-------------
``stderr`` is the classical OLS standard error of alpha on the kept points, and
``t_low, t_high`` the matching Student-t interval (df = n_used - 2). Neither knows that points
were dropped, and on clean Gaussian data the rule drops ~0.8 of 10 points on average, which
makes both too narrow: measured coverage of the nominal 95 % t interval after the rule is
~0.85 (10 points N = 5..50, 1000 seeds).

``ci_low, ci_high`` come from a bootstrap of the WHOLE procedure (``bootstrap="procedure"``,
default): resample the (n, y) pairs with replacement (2000 times by default), re-apply the
outlier rule, refit. By default (``ci_method="robust-t"``) the interval is
``alpha -+ t(n_used - 2) * boot_stderr`` with the robust bootstrap standard error
``boot_stderr = IQR / 1.349`` of the refitted alphas; ``ci_method="percentile"`` gives the 2.5
and 97.5 % quantiles of the refitted alphas instead. Measured coverage (mean width) of the
nominal 95 % intervals; alpha = 1.3, 10 points N = 5..50, Gaussian noise sigma = 0.02 in log y,
1000 seeds (500 for the last two rows); "t" is ``t_low..t_high``, "kept-pairs" is
``bootstrap="kept"``:

==============================  ============  ============  ============  ============
data                            robust-t      percentile    t             kept-pairs
==============================  ============  ============  ============  ============
clean                           0.92 (0.044)  0.93 (0.046)  0.85 (0.034)  0.82 (0.034)
one 3-sigma outlier at N = 20   0.94 (0.047)  0.94 (0.065)  0.87          0.83 (0.038)
one 25-sigma outlier at N = 20  0.97 (0.059)  0.99 (0.184)  0.87          0.82 (0.040)
y(N = 5) doubled                1.00 (1.07)   0.96 (0.39)   0.88 (0.091)
y(N = 50) doubled               0.99 (0.11)   0.96 (0.47)   0.94 (0.054)
==============================  ============  ============  ============  ============

Reading: every interval computed on the kept points alone is too narrow, because the rule
removes the largest residuals (selection). Resampling the whole procedure restores roughly
nominal coverage. Its weak spot is an outlier: a resample holding two or three copies of it
can mask it from the rule (the preliminary fit is ordinary least squares), and the quantiles
follow that tail; the IQR-based standard error ignores it for an outlier in the middle of the
range (hence the default), not for one at the smallest or largest N, where the OLS
preliminary fit is pulled hardest (high leverage). There every resampling interval is wide:
read it as "the exponent hinges on the rule's outcome" and compare ``t_low..t_high`` and
``dropped``. ``bootstrap="kept"`` (pairs bootstrap of the kept points only, without the rule)
is available for comparison. The seed is fixed by default (``seed=0``): results are
reproducible.

Invalid input (y <= 0, NaN or inf, n <= 0, fewer than 3 points, a single distinct n) raises
:class:`PowerLawFitError` (a ``ValueError``); ``errors="nan"`` returns a result whose numbers are
NaN and whose ``note`` says why; ``nan_policy="omit"`` drops NaN points first (recorded in
``omitted``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike
from scipy import stats

from qbpaper.paper_data import (
    EXPONENT_OBSERVABLES,
    MODELS,
    REGIME_G,
    REGIME_KAPPA,
    REGIME_RATES,
    REGIMES,
    paper_exponent,
)
from qbpaper.truncation import CUTOFF_LIMITED

__all__ = [
    "MAD_SCALE",
    "PowerLawFit",
    "PowerLawFitError",
    "Z_CENTERS",
    "Z_MAX",
    "CENSORED",
    "CURVATURE_TOLERANCE",
    "INCONCLUSIVE",
    "MIN_SIZE_FRACTION",
    "UNINFORMATIVE_WIDTH",
    "censored_tau",
    "exponent_table",
    "fit_power_law",
    "fit_power_law_da",
    "half_range_exponents",
    "outlier_mask",
    "regime_data",
    "regime_fits",
    "running_exponents",
    "select",
]

#: Scale making 1.4826 * MAD a consistent estimate of a Gaussian standard deviation.
MAD_SCALE = 1.4826
#: The paper's threshold on |z| (Appendix B).
Z_MAX = 2.0
#: What the rule's z-scores are measured from: the median residual (default) or zero.
ZCenter = Literal["median", "zero"]
Z_CENTERS: tuple[str, ...] = get_args(ZCenter)
_MAD_RTOL = 1e-12
_SXX_TOL = 1e-14
_MIN_POINTS = 3
_IQR_SIGMA = 1.3490  # IQR of a unit Gaussian
_WIDE = 4.0  # exponent_table flags curves whose bootstrap interval is this much wider than t
#: Variables fitted for each observable when ``refined=True`` (grid-independent maxima).
_REFINED = {"E_max": "E_max_refined", "tau": "tau_refined", "P_max": "P_max_refined"}
#: A curve's 95 % interval wider than this (in exponent units) cannot tell a constant
#: (alpha = 0) from an extensive (alpha = 1) observable: exponent_table does not count it as
#: evidence either way.
UNINFORMATIVE_WIDTH = 1.0
#: exponent_table fits a curve only when it has finite points at this fraction of the sizes
#: of the data (and at least 3): an incomplete grid is not silently fitted on a few sizes.
MIN_SIZE_FRACTION = 0.5
#: Row verdict when no curve decides: every interval overlaps the paper's range but is wider
#: than UNINFORMATIVE_WIDTH.
INCONCLUSIVE = "inconclusive"
#: Row verdict of tau and P_max when too few points remain once the charging times at the end
#: of the time window are left out.
CENSORED = "censored (tau = t_f)"
_CENSORED_OBSERVABLES = ("tau", "P_max")
#: exponent_table flags a curve as not one power law when the exponents fitted on the smaller
#: and the larger half of its kept sizes (:func:`half_range_exponents`) differ by more than
#: this: over twice the median width (0.1) of the paper's reported ranges, so a fit over
#: another range of N would give a visibly different exponent. Curvature is a property of the
#: data, not of the outlier rule; the paper's Eq. 21 assumes one power law and does not test it.
CURVATURE_TOLERANCE = 0.25
#: Fewest points for :func:`half_range_exponents` (3 per half).
_MIN_HALF_POINTS = 6
#: Narrowest half :func:`half_range_exponents` fits: its largest N at least this factor times
#: its smallest. On a narrower half the slope of 3 points is too noisy for the 0.25 test
#: (measured: an exact power law with 2 % log noise, kept only at N = 25..50, is flagged 10 %
#: of the time without this guard; over N = 5..50: 0 % with 2 % noise, 5 % with 5 %); the
#: paper's grid N = 5..50 gives halves spanning factors 5 and 1.67.
_MIN_HALF_SPAN = 1.5


class PowerLawFitError(ValueError):
    """Input that a power-law fit cannot use (non-positive or NaN y, too few points, ...)."""


@dataclass(frozen=True)
class PowerLawFit:
    """Result of :func:`fit_power_law`: ``y ~ exp(intercept) * n**alpha``.

    alpha, intercept: slope and intercept of ``log y = alpha log n + intercept`` (natural logs),
        refitted on the kept points.
    stderr, intercept_stderr: classical OLS standard errors on the kept points.
    ci_low, ci_high: bootstrap ``level`` interval of alpha (see module docstring for the method).
    t_low, t_high: Student-t ``level`` interval ``alpha -+ t * stderr`` on the kept points.
    r2: coefficient of determination of the refit in log space (1 when log y is constant).
    dropped: the n values removed by the outlier rule; ``dropped_index`` their positions in ``n``.
    n_used: number of points in the refit.
    n, z, kept: all fitted n values, their robust z-scores (NaN when the rule was not applied or
        MAD vanished) and whether each was kept.
    alpha_prelim: slope of the preliminary fit on all points.
    mad_sigma: 1.4826 * MAD of the preliminary residuals (log space).
    boot_stderr: robust bootstrap standard error of alpha, IQR / 1.349 of the replicates.
    n_boot: number of valid bootstrap replicates; bootstrap, ci_method: methods used.
    omitted: n values removed as NaN with ``nan_policy="omit"``.
    note: empty, or why a number is NaN or a rule was not applied.
    """

    alpha: float
    intercept: float
    stderr: float
    ci_low: float
    ci_high: float
    r2: float
    dropped: tuple[float, ...]
    n_used: int
    intercept_stderr: float = math.nan
    t_low: float = math.nan
    t_high: float = math.nan
    level: float = 0.95
    alpha_prelim: float = math.nan
    mad_sigma: float = math.nan
    n: tuple[float, ...] = ()
    z: tuple[float, ...] = ()
    kept: tuple[bool, ...] = ()
    dropped_index: tuple[int, ...] = ()
    boot_stderr: float = math.nan
    n_boot: int = 0
    bootstrap: str = "procedure"
    ci_method: str = "robust-t"
    omitted: tuple[float, ...] = ()
    note: str = ""

    @property
    def ci(self) -> tuple[float, float]:
        """The bootstrap interval ``(ci_low, ci_high)``."""
        return (self.ci_low, self.ci_high)

    @property
    def ok(self) -> bool:
        """True when alpha is a number (False for ``errors="nan"`` results)."""
        return math.isfinite(self.alpha)

    def predict(self, n: ArrayLike) -> np.ndarray:
        """The fitted power law ``exp(intercept) * n**alpha`` at ``n``."""
        return np.exp(self.intercept) * np.asarray(n, dtype=float) ** self.alpha

    def format(self, digits: int = 2) -> str:
        """``"alpha [ci_low, ci_high]"``, e.g. ``"1.02 [0.97, 1.06]"``."""
        if not self.ok:
            return "n/a"
        f = f".{digits}f"
        return f"{self.alpha:{f}} [{self.ci_low:{f}}, {self.ci_high:{f}}]"

    @classmethod
    def invalid(cls, note: str, level: float = 0.95) -> PowerLawFit:
        """A result with NaN numbers and ``note`` saying why."""
        nan = math.nan
        return cls(nan, nan, nan, nan, nan, nan, (), 0, level=level, note=note)


# ------------------------------------------------------------------ batched least squares


def _masked_ols(
    x: np.ndarray, y: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OLS along the last axis using the points where ``m`` is True.

    Returns slope, intercept, sxx, number of points and residual sum of squares; the slope is
    NaN where sxx vanishes (fewer than two distinct x).
    """
    w = m.astype(float)
    cnt = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = (w * x).sum(-1) / cnt
        ym = (w * y).sum(-1) / cnt
        dx = x - xm[..., None]
        sxx = (w * dx * dx).sum(-1)
        a = (w * dx * (y - ym[..., None])).sum(-1) / sxx
        a = np.where(sxx > _SXX_TOL, a, np.nan)
        c = ym - a * xm
        r = y - (a[..., None] * x + c[..., None])
        rss = (w * r * r).sum(-1)
    return a, c, sxx, cnt, rss


def _z_center(value: str) -> str:
    if value not in Z_CENTERS:
        raise ValueError(f"z_center must be one of {Z_CENTERS}, got {value!r}")
    return value


def _rule(
    x: np.ndarray, y: np.ndarray, z_max: float, z_center: str = "median"
) -> tuple[np.ndarray, ...]:
    """The paper's one-pass MAD rule along the last axis (batched); ``z_center`` "median"
    (default) or "zero" is what the z-scores are measured from (module docstring).

    Returns (kept mask, z-scores, preliminary slope, 1.4826*MAD, fallback flag), where the
    fallback flag marks rows in which the rule would leave < 3 points or one distinct x and so
    drops nothing.
    """
    full = np.ones(y.shape, dtype=bool)
    a, c, _, _, _ = _masked_ols(x, y, full)
    r = y - (a[..., None] * x + c[..., None])
    med = np.median(r, axis=-1, keepdims=True)
    sigma = MAD_SCALE * np.median(np.abs(r - med), axis=-1, keepdims=True)
    scale = np.maximum(1.0, np.max(np.abs(y), axis=-1, keepdims=True))
    tiny = ~(sigma > _MAD_RTOL * scale)  # also True for NaN
    centre = med if z_center == "median" else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(tiny, np.nan, (r - centre) / np.where(tiny, 1.0, sigma))
    kept = ~(np.abs(z) > z_max)  # NaN z -> kept
    _, _, sxx, cnt, _ = _masked_ols(x, y, kept)
    fallback = (cnt < _MIN_POINTS) | ~(sxx > _SXX_TOL)
    kept = np.where(fallback[..., None], True, kept)
    return kept, z, a, sigma[..., 0], fallback


def outlier_mask(
    n: ArrayLike, y: ArrayLike, *, z_max: float = Z_MAX, z_center: ZCenter = "median"
) -> np.ndarray:
    """Boolean mask of the points the paper's rule keeps (True = kept); inputs as in the fit."""
    nn, yy, _ = _validate(n, y, "raise")
    kept, *_ = _rule(np.log(nn), np.log(yy), z_max, _z_center(z_center))
    return np.asarray(kept)


# ------------------------------------------------------------------ public scalar fit


def _validate(
    n: ArrayLike, y: ArrayLike, nan_policy: str
) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    nn = np.asarray(n, dtype=float)
    yy = np.asarray(y, dtype=float)
    if nn.ndim != 1 or yy.ndim != 1 or nn.shape != yy.shape:
        raise PowerLawFitError(
            f"n and y must be 1-d arrays of equal length, got shapes {nn.shape} and {yy.shape}"
        )
    if nan_policy not in ("raise", "omit"):
        raise ValueError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    bad = np.isnan(nn) | np.isnan(yy)
    omitted: tuple[float, ...] = ()
    if bad.any():
        if nan_policy == "raise":
            raise PowerLawFitError(
                f"NaN at n = {_fmt_n(nn[bad])}; pass nan_policy='omit' to fit without them"
            )
        omitted = tuple(float(v) for v in nn[bad])
        nn, yy = nn[~bad], yy[~bad]
    if not np.isfinite(nn).all() or not np.isfinite(yy).all():
        raise PowerLawFitError("n and y must be finite (inf found)")
    if (nn <= 0).any():
        raise PowerLawFitError(f"n must be positive; got n = {_fmt_n(nn[nn <= 0])}")
    if (yy <= 0).any():
        raise PowerLawFitError(
            f"y must be positive for a log-log fit; y <= 0 at n = {_fmt_n(nn[yy <= 0])} "
            f"(values {yy[yy <= 0].tolist()})"
        )
    if nn.size < _MIN_POINTS:
        raise PowerLawFitError(f"a power-law fit needs at least 3 points, got {nn.size}")
    if np.unique(nn).size < 2:
        raise PowerLawFitError("a power-law fit needs at least two distinct n values")
    return nn, yy, omitted


def _fmt_n(v: np.ndarray) -> str:
    return ", ".join(f"{x:g}" for x in np.asarray(v).ravel())


def half_range_exponents(n: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Least-squares exponents of ``y ~ n**alpha`` on the smaller and on the larger half of the
    given sizes ``n`` (by count, after sorting; log-log, no outlier rule; with an odd count the
    middle size is in both halves), a goodness-of-fit check of one power law over the range: a
    straight line in log-log space gives the same exponent on both halves. ``(nan, nan)``
    with fewer than 6 points, or when a half has fewer than 3 distinct sizes or spans less
    than a factor 1.5 in n (too noisy). ``n, y``: positive, finite, same length."""
    nn, yy = np.asarray(n, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if nn.shape != yy.shape:
        raise ValueError(f"n and y differ in length: {nn.size} vs {yy.size}")
    if not (np.all(np.isfinite(nn)) and np.all(np.isfinite(yy))):
        raise ValueError("n and y must be finite (drop NaN points first)")
    if np.any(nn <= 0) or np.any(yy <= 0):
        raise ValueError("n and y must be positive for a log-log fit")
    m = nn.size
    if m < _MIN_HALF_POINTS:
        return math.nan, math.nan
    order = np.argsort(nn, kind="stable")
    x, ly = np.log(nn[order]), np.log(yy[order])
    slopes = []
    for part in (slice(0, math.ceil(m / 2)), slice(m // 2, m)):
        if np.unique(x[part]).size < _MIN_POINTS or np.ptp(x[part]) < math.log(_MIN_HALF_SPAN):
            return math.nan, math.nan
        slopes.append(float(stats.linregress(x[part], ly[part]).slope))
    return slopes[0], slopes[1]


def running_exponents(da: xr.DataArray, dim: str = "N") -> xr.DataArray:
    """Local exponents ``d ln y / d ln n`` between consecutive sizes along ``dim``: the slope
    of the straight line through each pair of neighbouring points in log-log space, placed at
    their geometric mean size (coordinate ``dim`` of the result, one fewer value). A single
    power law gives the same value everywhere; a trend shows the curve bending and that the
    fitted exponent depends on the range of sizes. A pair with a NaN or non-positive value
    gives NaN (no interpolation over holes). Sizes are sorted first; other dimensions are
    kept."""
    if dim not in da.dims:
        raise ValueError(f"{da.name or 'data'} has no dimension {dim!r}; dims are {da.dims}")
    da = da.sortby(dim)
    n = np.asarray(da[dim].values, dtype=float)
    if n.size < 2 or np.any(n <= 0) or np.any(np.diff(n) <= 0):
        raise ValueError(f"{dim} must hold two or more distinct positive sizes, got {n}")
    with np.errstate(invalid="ignore", divide="ignore"):
        logy = np.log(da.where(da > 0))
    ln = np.log(n)
    slope = logy.diff(dim, label="lower") / xr.DataArray(np.diff(ln), dims=dim)
    mid = np.exp(0.5 * (ln[:-1] + ln[1:]))
    return slope.assign_coords({dim: mid}).rename(
        f"{da.name}_running_exponent" if da.name else None
    )


def fit_power_law(
    n: ArrayLike,
    y: ArrayLike,
    *,
    reject_outliers: bool = True,
    z_max: float = Z_MAX,
    z_center: ZCenter = "median",
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    bootstrap: Literal["procedure", "kept"] = "procedure",
    ci_method: Literal["robust-t", "percentile"] = "robust-t",
    nan_policy: Literal["raise", "omit"] = "raise",
    errors: Literal["raise", "nan"] = "raise",
) -> PowerLawFit:
    """Fit ``y = exp(c) n**alpha`` in log-log space with the paper's one-pass MAD outlier rule.

    Parameters
    ----------
    n, y: sizes (e.g. the qubit number N) and a positive observable, 1-d, same length.
    reject_outliers: apply the rule of Appendix B (default); False gives the plain OLS fit.
    z_max: threshold on |z|; the paper uses 2 (do not tune it to chase agreement).
    z_center: ``"median"`` (default) measures z from the median residual, ``"zero"`` from 0
        (the uncentred reading of the paper's "normalized residual"; module docstring).
    n_boot: bootstrap replicates (0 skips the bootstrap; ci_low/ci_high are then NaN).
    level: confidence level of ``ci_*`` and ``t_*``.
    seed: seed or Generator of the bootstrap; fixed by default, so results are reproducible.
    bootstrap: ``"procedure"`` resamples all points and re-applies the rule (default; sound
        coverage), ``"kept"`` resamples the kept points and refits without the rule.
    ci_method: ``"robust-t"`` (default) ``alpha -+ t(n_used - 2) * boot_stderr`` with the
        robust bootstrap standard error, or ``"percentile"`` quantiles of the replicates.
    nan_policy: ``"raise"`` (default) or ``"omit"`` NaN points.
    errors: ``"raise"`` (default) raises :class:`PowerLawFitError` on invalid input; ``"nan"``
        returns :meth:`PowerLawFit.invalid` with the reason in ``note``.

    See the module docstring for the rule's edge cases and the measured interval coverage.
    """
    if errors not in ("raise", "nan"):
        raise ValueError(f"errors must be 'raise' or 'nan', got {errors!r}")
    if bootstrap not in ("procedure", "kept"):
        raise ValueError(f"bootstrap must be 'procedure' or 'kept', got {bootstrap!r}")
    if ci_method not in ("percentile", "robust-t"):
        raise ValueError(f"ci_method must be 'percentile' or 'robust-t', got {ci_method!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    z_center = _z_center(z_center)
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    try:
        nn, yy, omitted = _validate(n, y, nan_policy)
    except PowerLawFitError as exc:
        if errors == "nan":
            return PowerLawFit.invalid(str(exc), level)
        raise

    x, ly = np.log(nn), np.log(yy)
    notes: list[str] = []
    if reject_outliers:
        kept, z, a0, sigma, fallback = _rule(x, ly, z_max, z_center)
        a0, sigma = float(a0), float(sigma)
        if not sigma > _MAD_RTOL * max(1.0, float(np.max(np.abs(ly)))):
            notes.append("MAD of residuals vanishes: no point dropped")
        if bool(fallback):
            notes.append("rule would leave < 3 points: no point dropped")
    else:
        kept = np.ones(nn.size, dtype=bool)
        z = np.full(nn.size, np.nan)
        a0, sigma = math.nan, math.nan
    a, c, sxx, cnt, rss = (float(v) for v in _masked_ols(x, ly, kept))
    if math.isnan(a0):
        a0 = float(_masked_ols(x, ly, np.ones(nn.size, dtype=bool))[0])
    n_used = int(cnt)
    dof = n_used - 2
    s2 = rss / dof
    stderr = math.sqrt(s2 / sxx)
    xm = float(x[kept].mean())
    intercept_stderr = math.sqrt(s2 * (1.0 / n_used + xm * xm / sxx))
    q = float(stats.t.ppf(0.5 + level / 2, dof))
    yk = ly[kept]
    sst = float(((yk - yk.mean()) ** 2).sum())
    r2 = 1.0 - rss / sst if sst > 0 else 1.0

    ci_low = ci_high = boot_stderr = math.nan
    n_valid = 0
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        if bootstrap == "procedure":
            xs, ys = x, ly
        else:
            xs, ys = x[kept], ly[kept]
        idx = rng.integers(0, xs.size, size=(n_boot, xs.size))
        bx, by = xs[idx], ys[idx]
        if bootstrap == "procedure" and reject_outliers:
            bm = _rule(bx, by, z_max, z_center)[0]
        else:
            bm = np.ones(bx.shape, dtype=bool)
        ba = _masked_ols(bx, by, bm)[0]
        ba = ba[np.isfinite(ba)]
        n_valid = int(ba.size)
        if n_valid >= 0.9 * n_boot:
            q25, q75 = np.quantile(ba, [0.25, 0.75])
            boot_stderr = float(q75 - q25) / _IQR_SIGMA
            if ci_method == "percentile":
                ci_low, ci_high = (
                    float(v) for v in np.quantile(ba, [0.5 - level / 2, 0.5 + level / 2])
                )
            else:
                ci_low, ci_high = a - q * boot_stderr, a + q * boot_stderr
        else:
            notes.append(
                f"only {n_valid} of {n_boot} bootstrap resamples had two distinct n: no interval"
            )
    drop_idx = tuple(int(i) for i in np.flatnonzero(~kept))
    return PowerLawFit(
        alpha=a,
        intercept=c,
        stderr=stderr,
        ci_low=ci_low,
        ci_high=ci_high,
        r2=r2,
        dropped=tuple(float(nn[i]) for i in drop_idx),
        n_used=n_used,
        intercept_stderr=intercept_stderr,
        t_low=a - q * stderr,
        t_high=a + q * stderr,
        level=level,
        alpha_prelim=a0,
        mad_sigma=sigma,
        n=tuple(float(v) for v in nn),
        z=tuple(float(v) for v in z),
        kept=tuple(bool(v) for v in kept),
        dropped_index=drop_idx,
        boot_stderr=boot_stderr,
        n_boot=n_valid,
        bootstrap=bootstrap,
        ci_method=ci_method,
        omitted=omitted,
        note="; ".join(notes),
    )


# ------------------------------------------------------------------ xarray form

_DA_SCALARS = (
    "alpha",
    "intercept",
    "stderr",
    "ci_low",
    "ci_high",
    "t_low",
    "t_high",
    "r2",
    "alpha_prelim",
    "mad_sigma",
    "boot_stderr",
)


def fit_power_law_da(
    da: xr.DataArray,
    dim: str = "N",
    *,
    errors: Literal["raise", "nan"] = "raise",
    **kwargs: Any,
) -> xr.Dataset:
    """Fit ``da ~ dim**alpha`` along ``dim`` for every combination of the other dimensions.

    ``dim`` must be a dimension with a positive numeric coordinate (the sizes). Keyword
    arguments go to :func:`fit_power_law` (same defaults: paper's rule, 2000 bootstrap
    resamples, ``seed=0`` for every curve). Returns a Dataset over the remaining dimensions
    with ``alpha, intercept, stderr, ci_low, ci_high, t_low, t_high, r2, alpha_prelim,
    mad_sigma, boot_stderr, n_used, n_dropped, n_boot, n_omitted, note`` and ``dropped`` (bool,
    also over ``dim``: True where the rule removed the point). With ``errors="nan"`` an invalid
    curve gives NaN and a ``note`` instead of an exception.
    """
    if not isinstance(da, xr.DataArray):
        raise TypeError(f"expected an xarray.DataArray, got {type(da).__name__}")
    if dim not in da.dims:
        raise ValueError(f"{da.name or 'data'} has no dimension {dim!r}; dims are {da.dims}")
    nvals = np.asarray(da[dim].values, dtype=float)
    other = [d for d in da.dims if d != dim]
    arr = da.transpose(*other, dim).values.astype(float)
    flat = arr.reshape(-1, nvals.size)
    out = {k: np.full(flat.shape[0], np.nan) for k in _DA_SCALARS}
    n_used = np.zeros(flat.shape[0], dtype=int)
    n_dropped = np.zeros(flat.shape[0], dtype=int)
    n_boot = np.zeros(flat.shape[0], dtype=int)
    n_omitted = np.zeros(flat.shape[0], dtype=int)
    notes = np.empty(flat.shape[0], dtype=object)
    dropped = np.zeros(flat.shape, dtype=bool)
    for i, row in enumerate(flat):
        try:
            f = fit_power_law(nvals, row, errors=errors, **kwargs)
        except PowerLawFitError as exc:
            pos = _unravel(i, arr)
            where = {d: da[d].values[j].item() for d, j in zip(other, pos, strict=True)}
            raise PowerLawFitError(f"curve at {where}: {exc}") from exc
        for k in _DA_SCALARS:
            out[k][i] = getattr(f, k)
        n_used[i], n_dropped[i], n_boot[i] = f.n_used, len(f.dropped), f.n_boot
        n_omitted[i] = len(f.omitted)
        notes[i] = f.note
        if f.ok:
            # map kept flags back to positions (NaN points omitted count as not dropped)
            pos = np.flatnonzero(~np.isnan(row)) if f.omitted else np.arange(row.size)
            dropped[i, pos[list(f.dropped_index)]] = True
    shape = arr.shape[:-1]
    coords = {k: v for k, v in da.coords.items() if dim not in v.dims}
    data_vars: dict[str, Any] = {k: (other, v.reshape(shape)) for k, v in out.items()}
    data_vars.update(
        n_used=(other, n_used.reshape(shape)),
        n_dropped=(other, n_dropped.reshape(shape)),
        n_boot=(other, n_boot.reshape(shape)),
        n_omitted=(other, n_omitted.reshape(shape)),
        note=(other, notes.reshape(shape)),
        dropped=((*other, dim), dropped.reshape(arr.shape)),
    )
    ds = xr.Dataset(data_vars, coords={**coords, dim: da[dim]})
    ds.attrs.update(
        fitted=str(da.name),
        method="log y = alpha log N + c, OLS; one-pass MAD rule |z| > 2 (App. B); "
        f"bootstrap={kwargs.get('bootstrap', 'procedure')}",
        level=kwargs.get("level", 0.95),
    )
    return ds


def _unravel(i: int, arr: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.unravel_index(i, arr.shape[:-1])) if arr.ndim > 1 else ()


# ------------------------------------------------------------------ dataset selection helpers


def _isclose_index(values: np.ndarray, value: Any) -> np.ndarray:
    """Positions in ``values`` equal to ``value`` (floats compared with a relative tolerance)."""
    values = np.asarray(values)
    if values.dtype.kind in "fiu" and isinstance(value, int | float | np.number):
        return np.flatnonzero(np.isclose(values.astype(float), float(value), rtol=1e-9, atol=0))
    return np.flatnonzero(values == value)


def select(obj: xr.DataArray | xr.Dataset, sel: Mapping[Hashable, Any] | None) -> Any:
    """``obj.sel(sel)`` with tolerant float matching; a scalar coordinate must match the value.

    A list value selects several entries (the dimension is kept). Raises ``ValueError`` naming
    the available values when a value is missing.
    """
    if not sel:
        return obj
    for dim, value in sel.items():
        if dim not in obj.coords and dim not in obj.dims:
            raise ValueError(f"cannot select {dim}={value!r}: no such coordinate")
        coord = np.atleast_1d(obj[dim].values)
        many = isinstance(value, list | tuple | np.ndarray)
        idx = np.concatenate([_isclose_index(coord, v) for v in (value if many else [value])])
        if idx.size == 0 or (many and idx.size < len(value)):
            raise ValueError(f"{dim}={value!r} not found; available: {coord.tolist()}")
        if dim not in obj.dims:  # scalar coordinate that matches
            continue
        obj = obj.isel({dim: idx if many else int(idx[0])})
    return obj


def squeeze_to(da: xr.DataArray, keep: Sequence[str], what: str = "") -> xr.DataArray:
    """Squeeze every length-1 dimension not in ``keep``; a longer one raises ``ValueError``."""
    for d in list(da.dims):
        if d in keep:
            continue
        if da.sizes[d] == 1:
            da = da.squeeze(d)
        else:
            vals = da[d].values.tolist() if d in da.coords else list(range(da.sizes[d]))
            raise ValueError(
                f"{what or da.name}: dimension {d!r} has {len(vals)} values {vals}; select one, "
                f"e.g. sel={{{d!r}: {vals[0]!r}}}"
            )
    return da


def ensure_dim(da: xr.DataArray, dim: str) -> xr.DataArray:
    """Turn a scalar coordinate ``dim`` into a length-1 dimension; error if it is absent."""
    if dim in da.dims:
        return da
    if dim in da.coords:
        return da.expand_dims(dim)
    raise ValueError(f"{da.name}: needs a {dim!r} dimension or coordinate; dims are {da.dims}")


def get_var(ds: xr.Dataset | xr.DataArray, var: str) -> xr.DataArray:
    """``ds[var]`` with an error listing the available variables."""
    if isinstance(ds, xr.DataArray):
        return ds
    if var not in ds.data_vars:
        raise ValueError(f"dataset has no variable {var!r}; it has {sorted(ds.data_vars)}")
    return ds[var]


# ------------------------------------------------------------------ regimes and tables


def _rate_label(r: float, d: float) -> str:
    return f"r={r:g}, d={d:g}"


def regime_data(
    ds: xr.Dataset | xr.DataArray,
    var: str,
    regime: str,
    *,
    setup: str | None = None,
    sel: Mapping[Hashable, Any] | None = None,
) -> xr.DataArray:
    """The curves of one regime: ``var`` over dims ``("model", "curve", "N")``.

    One curve per (gamma_relax, gamma_deph) combination of the regime (``REGIME_RATES``) found
    in ``ds`` and, when ``setup`` is None and ``ds`` has several setups, per setup (pooled: the
    paper reports one range per model over its curves and does not say which setups it
    fitted). The ``curve`` coordinate holds a label; ``gamma_relax``, ``gamma_deph`` and
    ``setup`` ride along as coordinates on it.
    Combinations absent from ``ds`` are skipped; none present raises ``ValueError``. Other
    dimensions of length 1 are squeezed; longer ones must be fixed with ``sel``.
    """
    if regime not in REGIME_RATES:
        raise ValueError(f"unknown regime {regime!r}; choose one of {REGIMES}")
    da = get_var(ds, var)
    da = select(da, sel)
    if setup is not None:
        da = select(da, {"setup": setup})
    if "N" not in da.dims:
        raise ValueError(f"{var}: needs an 'N' dimension; dims are {da.dims}")
    for name, ref in (("g", REGIME_G), ("kappa", REGIME_KAPPA)):
        if name in da.coords and da[name].ndim == 0 and not np.isclose(float(da[name]), ref):
            warnings.warn(
                f"regime {regime!r} is defined at {name}={ref:g}; data have {name}="
                f"{float(da[name]):g}",
                stacklevel=2,
            )
    for rate in ("gamma_relax", "gamma_deph"):
        if rate not in da.coords:
            raise ValueError(f"{var}: needs a {rate!r} coordinate to select regime {regime!r}")
    da = ensure_dim(ensure_dim(da, "gamma_relax"), "gamma_deph")
    da = ensure_dim(da, "model")
    has_setup = "setup" in da.dims and da.sizes["setup"] > 1
    curves = []
    for r, d in REGIME_RATES[regime]:
        ir = _isclose_index(da["gamma_relax"].values, r)
        idd = _isclose_index(da["gamma_deph"].values, d)
        if ir.size == 0 or idd.size == 0:
            continue
        sub = da.isel(gamma_relax=int(ir[0]), gamma_deph=int(idd[0]))
        setups = list(sub["setup"].values) if has_setup else [None]
        for s in setups:
            c = sub.sel(setup=s) if s is not None else sub
            c = squeeze_to(c, ("model", "N"), what=var)
            sname = str(c["setup"].values) if "setup" in c.coords else ""
            label = _rate_label(r, d) + (f", {sname}" if has_setup else "")
            c = c.drop_vars([v for v in ("gamma_relax", "gamma_deph", "setup") if v in c.coords])
            curves.append(
                c.expand_dims(curve=[label]).assign_coords(
                    gamma_relax=("curve", [r]), gamma_deph=("curve", [d]), setup=("curve", [sname])
                )
            )
    if not curves:
        raise ValueError(
            f"none of the rate combinations of regime {regime!r} {REGIME_RATES[regime]} is in "
            f"the data (gamma_relax={da['gamma_relax'].values.tolist()}, "
            f"gamma_deph={da['gamma_deph'].values.tolist()})"
        )
    out = xr.concat(curves, dim="curve", coords="different", compat="equals", join="outer")
    out.attrs.update(regime=regime, variable=var)
    return out.transpose("model", "curve", "N")


def _differs(gap: float) -> str:
    """The gap to two decimals; one under 0.005 with one significant figure, never "0.00"."""
    return f"differs by {gap:.2f}" if gap >= 0.005 else f"differs by {gap:.1g}"


def censored_tau(
    ds: xr.Dataset, *, t_final: float | None = None, dt: float | None = None
) -> xr.DataArray:
    """True where the charging time lies at the end of the time window: E(t) was still rising
    at t_f, so tau (and P_max = E_max/tau) is a bound set by the window, not a property of the
    battery.

    Uses the grid ``tau`` (else ``tau_refined``): censored when tau >= t_f - dt/2, i.e. the
    maximum is the last sample. ``t_final`` and ``dt`` come from a ``t_final``/``dt``
    coordinate of ``ds``, else its ``param_t_final``/``param_dt`` attributes (as sweeps write
    them), else the defaults of :class:`qbpaper.params.Params`; arguments override all three.
    """
    from qbpaper.params import Params  # local: keeps scaling importable without the engine

    var = "tau" if "tau" in ds.data_vars else _REFINED["tau"]
    if var not in ds.data_vars:
        raise ValueError(f"dataset has no variable 'tau' or {_REFINED['tau']!r}")
    defaults = Params()

    def window(name: str, given: float | None) -> Any:
        if given is not None:
            return given
        if name in ds.coords:
            return ds[name]
        return float(ds.attrs.get(f"param_{name}", getattr(defaults, name)))

    tf, step = window("t_final", t_final), window("dt", dt)
    return (ds[var] >= tf - 0.5 * step).rename("tau_censored")


def regime_fits(
    ds: xr.Dataset | xr.DataArray,
    obs: str,
    regime: str,
    *,
    setup: str | None = None,
    sel: Mapping[Hashable, Any] | None = None,
    refined: bool = True,
    censor: bool = True,
    **fit_kwargs: Any,
) -> tuple[xr.DataArray, xr.Dataset, xr.DataArray]:
    """One observable of one regime fitted curve by curve, as :func:`exponent_table` fits it.

    Returns ``(curves, fits, censored)``: the data over ``("model", "curve", "N")`` (all
    points, for plotting), the :func:`fit_power_law_da` results per curve, and a boolean mask
    of the points left out as censored (tau and P_max only, see :func:`censored_tau`; all False
    otherwise, or with ``censor=False``, or when ``ds`` holds no tau). A curve with finite,
    uncensored points at fewer than :data:`MIN_SIZE_FRACTION` of the sizes (or fewer than 3)
    is not fitted; ``fits`` then has NaN and ``fits["short"]`` is True. ``fits.attrs["need"]``
    is that number of points. ``obs`` is a base name (E_max, tau, P_max, S_q_final, ...);
    with ``refined=True`` E_max, tau and P_max use their refined variables. NaN points are
    omitted (``nan_policy="omit"``) unless ``fit_kwargs`` says otherwise.
    """
    base = obs.removesuffix("_refined")
    var = _REFINED.get(base, base) if refined else base
    curves = regime_data(ds, var, regime, setup=setup, sel=sel)
    censored = xr.zeros_like(curves, dtype=bool)
    has_tau = isinstance(ds, xr.Dataset) and any(
        v in ds.data_vars for v in ("tau", _REFINED["tau"])
    )
    if censor and has_tau and base in _CENSORED_OBSERVABLES:
        assert isinstance(ds, xr.Dataset)
        with_mask = ds.assign(tau_censored=censored_tau(ds).astype(float))
        at_end = regime_data(with_mask, "tau_censored", regime, setup=setup, sel=sel) > 0
        censored = at_end & np.isfinite(curves)
    kept = curves.where(~censored)
    need = max(_MIN_POINTS, math.ceil(MIN_SIZE_FRACTION * curves.sizes["N"]))
    short = np.isfinite(kept).sum("N") < need
    kw = {"nan_policy": "omit", **fit_kwargs, "errors": "nan"}
    fits = fit_power_law_da(kept.where(~short), "N", **kw)
    fits["short"] = short
    fits.attrs["need"] = need
    return curves, fits, censored


def exponent_table(
    ds: xr.Dataset,
    regime: str,
    *,
    setup: str | None = None,
    sel: Mapping[Hashable, Any] | None = None,
    refined: bool = True,
    observables: Sequence[str] = EXPONENT_OBSERVABLES,
    censor: bool = True,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Our scaling exponents beside the paper's for one regime (Figs. 14-16, App. B).

    For each model and observable, every curve of the regime (one per (gamma_relax,
    gamma_deph) combination, and per setup when ``setup`` is None and several are present; see
    :func:`regime_data`) is fitted separately with :func:`fit_power_law` (keyword arguments are
    passed on). Like the paper, which reports one range over its curves, a row summarises the
    curves: ``alpha`` is the median of the curve exponents, ``alpha_low``/``alpha_high`` their
    range, and ``ci_low``/``ci_high`` the envelope of their 95 % intervals (min ci_low, max
    ci_high; a curve without an interval enters as its exponent).

    The verdict is reached curve by curve. A curve agrees when its interval overlaps the
    paper's range (touching counts) and differs when it misses it; an interval that overlaps
    but is wider than :data:`UNINFORMATIVE_WIDTH` is inconclusive (it would "agree" with
    almost anything) and not counted. The row is "agrees" when every counted curve agrees,
    "partly" when some do, "differs by X" when none does (X: the gap of the closest curve),
    :data:`INCONCLUSIVE` when no curve is counted, and "no fit" when no curve could be fitted.
    ``curves_agree`` gives "k of n" counted curves that agree, per setup when setups are
    pooled, and how many were inconclusive. Each interval misses its true exponent with
    probability ~5 %, so with many curves a lone miss ("partly", n - 1 of n) can be chance.
    ``note`` flags failed fits, curves whose bootstrap interval is > 4x their t interval (an
    outlier that can mask itself from the rule; see the module docstring) and curves that are
    not one power law (:func:`half_range_exponents` of their kept points differ by more than
    :data:`CURVATURE_TOLERANCE`, out of the curves that could be checked; the exponent of such
    a curve depends on the range of N fitted), and counts the fitted points whose top-Fock
    population exceeds
    :data:`qbpaper.truncation.CUTOFF_LIMITED` (when ``ds`` has ``top_fock_max``).

    Missing points (NaN, e.g. failed or not yet computed sweep points) are left out of a curve
    (``nan_policy="omit"``) and counted in ``note``; a curve is fitted only with finite points
    at :data:`MIN_SIZE_FRACTION` of the sizes and at least 3 of them.

    With ``censor=True`` (default) and a tau variable in ``ds``, the points whose charging
    time is the end of the time window (:func:`censored_tau`) are left out of the tau and
    P_max curves, and counted in ``note``: there tau = t_f is set by the window, and a curve
    of them has exponent 0 by construction. A row left without a fitted curve, some of them
    lost that way, is :data:`CENSORED`.

    ``refined=True`` (default) fits ``E_max_refined``, ``tau_refined``, ``P_max_refined``
    (maxima located between grid points) for E_max, tau and P_max; ``False`` the grid values.

    Returns a DataFrame indexed by (model, observable) with columns ``paper, ours, alpha,
    ci_low, ci_high, verdict, curves_agree, alpha_low, alpha_high, paper_low, paper_high,
    n_curves, n_dropped, note``; ``attrs`` records the regime and the curves used.
    """
    if regime not in REGIME_RATES:
        raise ValueError(f"unknown regime {regime!r}; choose one of {REGIMES}")
    limited = None
    if "top_fock_max" in ds.data_vars:
        limited = regime_data(ds, "top_fock_max", regime, setup=setup, sel=sel) > CUTOFF_LIMITED
    rows = []
    labels: list[str] = []
    for obs in observables:
        base = obs.removesuffix("_refined")
        curves, fits, censored = regime_fits(
            ds, base, regime, setup=setup, sel=sel, refined=refined, censor=censor, **fit_kwargs
        )
        labels = [str(v) for v in curves["curve"].values]
        n_sizes, need = curves.sizes["N"], fits.attrs["need"]
        models = [m for m in MODELS if m in curves["model"].values]
        for model in models:
            f = fits.sel(model=model)
            pe = paper_exponent(regime, model, base)
            good = np.isfinite(f["alpha"].values)
            short = f["short"].values
            n_short = int(short.sum())
            n_censored = int(censored.sel(model=model).sum())
            # curves that would have been fitted without the censored points
            uncensored = np.isfinite(curves.sel(model=model)).sum("N").values >= need
            lost_to_censoring = bool(np.any(short & uncensored))
            notes = sorted({str(v) for v in f["note"].values[~short] if v})
            n_fail = int((~good).sum()) - n_short
            failed = [f"{n_fail} curve(s) not fitted"] if n_fail > 0 else []
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = (f["ci_high"] - f["ci_low"]).values / (f["t_high"] - f["t_low"]).values
            n_wide = int((ratio > _WIDE).sum())
            # omitted points of fitted curves, less the censored ones (counted on their own)
            n_cens_fitted = int(censored.sel(model=model).sum("N").values[good].sum())
            n_nan = int(f["n_omitted"].values[good].sum()) - n_cens_fitted
            if n_censored:
                notes.insert(
                    0, f"{n_censored} point(s) with tau at the window's end t_f left out (censored)"
                )
            if limited is not None:
                used = np.isfinite(curves.sel(model=model)) & ~censored.sel(model=model)
                used = used & ~f["short"]
                n_lim = int((limited.sel(model=model) & used).sum())
                if n_lim:
                    notes.append(
                        f"{n_lim} of {int(used.sum())} fitted point(s) cutoff-limited (top Fock "
                        f"population > {CUTOFF_LIMITED:g})"
                    )
            if n_short:
                notes.append(
                    f"{n_short} curve(s) with points at fewer than {need} of {n_sizes} sizes "
                    "not fitted"
                )
            if n_nan:
                notes.append(f"{n_nan} NaN point(s) omitted from fitted curves")
            n_curved, n_checked, worst = _curved_curves(
                curves.sel(model=model), f, censored.sel(model=model)
            )
            if n_curved:
                notes.append(
                    f"{n_curved} of {n_checked} checked curve(s) not one power law (exponents "
                    f"on the smaller and larger half of the kept sizes differ by > "
                    f"{CURVATURE_TOLERANCE:g}; most: {worst})"
                )
            if n_wide:
                notes.append(
                    f"{n_wide} curve(s) with a bootstrap interval > {_WIDE:g}x the t interval "
                    "(the exponent hinges on the outlier rule)"
                )
            row: dict[str, Any] = {
                "model": model,
                "observable": base,
                "paper": pe.text,
                "paper_low": pe.low,
                "paper_high": pe.high,
                "n_curves": int(good.sum()),
                "n_dropped": int(f["n_dropped"].values[good].sum()),
                "note": "; ".join(failed + notes),
            }
            if good.any():
                a = f["alpha"].values[good]
                # A curve without an interval (too few distinct resamples, e.g. 3 points)
                # enters as its exponent: the envelope holds every curve.
                lows = np.where(np.isfinite(f["ci_low"].values[good]), f["ci_low"].values[good], a)
                highs = np.where(
                    np.isfinite(f["ci_high"].values[good]), f["ci_high"].values[good], a
                )
                lo, hi = float(lows.min()), float(highs.max())
                setups = np.asarray(f["setup"].values)[good] if "setup" in f.coords else None
                has_ci = np.isfinite(f["ci_low"].values[good]) & np.isfinite(
                    f["ci_high"].values[good]
                )
                verdict, agree_text = _curve_verdict(
                    lows, highs, pe.low, pe.high, setups, has_interval=has_ci
                )
                row.update(
                    alpha=float(np.median(a)),
                    alpha_low=float(a.min()),
                    alpha_high=float(a.max()),
                    ci_low=lo,
                    ci_high=hi,
                    verdict=verdict,
                    curves_agree=agree_text,
                )
                amin, amax = f"{a.min():.2f}", f"{a.max():.2f}"
                span = amin if amin == amax else f"{amin} to {amax}"
                # without any interval the envelope is the exponents alone: do not print it
                # as a bracket, which would read as a perfectly determined exponent
                bracket = f"[{lo:.2f}, {hi:.2f}]" if has_ci.any() else "[no interval]"
                row["ours"] = f"{span} {bracket}"
            else:
                row.update(
                    alpha=math.nan,
                    alpha_low=math.nan,
                    alpha_high=math.nan,
                    ci_low=math.nan,
                    ci_high=math.nan,
                    ours="n/a",
                    verdict=CENSORED if lost_to_censoring else "no fit",
                    curves_agree="",
                )
            rows.append(row)
    cols = [
        "paper",
        "ours",
        "alpha",
        "ci_low",
        "ci_high",
        "verdict",
        "curves_agree",
        "alpha_low",
        "alpha_high",
        "paper_low",
        "paper_high",
        "n_curves",
        "n_dropped",
        "note",
    ]
    df = pd.DataFrame(rows).set_index(["model", "observable"])[cols]
    df.attrs.update(regime=regime, curves=labels, refined=refined)
    return df


def _curved_curves(
    curves: xr.DataArray, fits: xr.Dataset, censored: xr.DataArray
) -> tuple[int, int, str]:
    """Of the fitted curves (over ``("curve", "N")``), how many fail :func:`half_range_exponents`
    by more than :data:`CURVATURE_TOLERANCE` on the points their fit kept (finite, not
    censored, not dropped by the rule), how many could be checked, and the worst one as
    ``"a on N = 5-25 vs b on N = 30-50"``."""
    sizes = np.asarray(curves["N"].values, dtype=float)
    count, checked, worst, gap = 0, 0, "", -1.0
    for label in curves["curve"].values:
        fit = fits.sel(curve=label)
        if not np.isfinite(fit["alpha"].item()):
            continue
        y = curves.sel(curve=label).values
        used = np.isfinite(y) & ~censored.sel(curve=label).values & ~fit["dropped"].values
        n, v = sizes[used], y[used]
        low, high = half_range_exponents(n, v)  # a fitted curve has positive values
        if not np.isfinite(low):
            continue
        checked += 1
        if abs(high - low) > CURVATURE_TOLERANCE:
            count += 1
            if abs(high - low) > gap:
                m = n.size
                ns = np.sort(n)
                lo_n, hi_n = ns[: math.ceil(m / 2)], ns[m // 2 :]
                gap = abs(high - low)
                a, b = round(low, 2) + 0.0, round(high, 2) + 0.0  # + 0.0: no "-0.00"
                worst = (
                    f"{a:.2f} on N = {lo_n[0]:g}-{lo_n[-1]:g} vs {b:.2f} on "
                    f"N = {hi_n[0]:g}-{hi_n[-1]:g}"
                )
    return count, checked, worst


def _curve_verdict(
    lows: np.ndarray,
    highs: np.ndarray,
    plo: float,
    phi: float,
    setups: np.ndarray | None = None,
    *,
    has_interval: np.ndarray | None = None,
) -> tuple[str, str]:
    """Row verdict from the curves' intervals [lows, highs] against the paper's [plo, phi]
    (see :func:`exponent_table`), and the text "k of n" decisive curves that agree (per setup
    when several). A curve is decisive when its interval misses the paper's range (of any
    width) or overlaps it while no wider than UNINFORMATIVE_WIDTH; "differs by" is the gap of
    the closest decisive curve. A curve without an interval (``has_interval`` False: too few
    distinct bootstrap resamples) is inconclusive whatever its exponent."""
    overlaps = (highs >= plo) & (lows <= phi)
    vague = overlaps & ((highs - lows) > UNINFORMATIVE_WIDTH)
    if has_interval is not None:
        vague = vague | ~np.asarray(has_interval, dtype=bool)
    decisive = ~vague
    n_vague = int(vague.sum())
    tail = f"; {n_vague} inconclusive" if n_vague else ""
    if not decisive.any():
        return INCONCLUSIVE, f"0 of 0 decisive{tail}"
    agrees = overlaps & decisive
    k, n = int(agrees.sum()), int(decisive.sum())
    text = f"{k} of {n}"
    names = [str(x) for x in setups] if setups is not None else []
    if len(set(names) - {""}) > 1:
        parts = []
        for name in dict.fromkeys(names):
            mine = np.asarray(names) == name
            m = int((decisive & mine).sum())
            part = f"{name} {int((agrees & mine).sum())} of {m}" if m else f"{name} none decisive"
            parts.append(part)
        text += " (" + ", ".join(parts) + ")"
    text += tail
    if k == n:
        return "agrees", text
    if k > 0:
        return "partly", text
    # no decisive curve agrees: the gap of the closest one (curves on both sides of the
    # paper's range must not make an envelope that "agrees")
    gaps = np.maximum(plo - highs, lows - phi)[decisive]
    return _differs(float(gaps.min())), text
