"""Table 1 forensics: which reading of the paper's set-up reproduces its Appendix A table?

Table 1 of arXiv:2510.26373 (Appendix A) lists E_max and S_c of the Dicke (D) and
Tavis-Cummings (TC) models at nmax in {2, 5, 10, 15, 20, 25}, with g = 0.1 and
kappa = gamma_relax = gamma_deph = 1e-3 (units of omega_q = 1, hbar = 1;
:data:`qbpaper.paper_data.TABLE1`). The paper states neither N, nor the setup, nor whether S_c
is the maximum over time or the final value. This module scans the plausible readings and
measures how far each is from the table. It never changes a default of
:class:`~qbpaper.params.Params`: the defaults follow ``shared/CONVENTIONS.md`` and the forensics
are reported beside them.

A :class:`Reading` is one value per factor:

* ``drive``: ``"lab"`` (the default: envelope eta(t) (a + a^dag) in the lab frame, no
  carrier), ``"carrier"`` (lab envelope x cos(omega_c t)), ``"rotating"`` (the envelope drive
  acting in the frame rotating at omega_c, i.e. a resonant drive without counter-rotating part)
  or ``"undriven"`` (no drive, cavity Fock |1>);
* ``energy``: ``"qubit"`` (<Jz>(t) - <Jz>(0), the default) or ``"total"`` (<H(t)> - <H(0)>);
* ``n``: the number of qubits N;
* ``dissipation``: ``"collective"`` (J-, 2Jz on the symmetric subspace) or ``"local"``;
* ``dephasing``: how "collapse operator proportional to Jz" is read (collective only):
  ``"2Jz"`` (the default, C = sqrt(gamma_deph) 2Jz = sqrt(gamma_deph) sum_j sigma^z_j) or
  ``"Jz"`` (C = sqrt(gamma_deph) Jz = sqrt(gamma_deph / 4) 2Jz, i.e. the run uses
  gamma_deph / 4; see :func:`dephasing_rate`);
* ``cutoff``: ``"largest"`` (nmax is the largest Fock number kept, Fock 0..nmax: the default)
  or ``"dimension"`` (nmax is the dimension, Fock 0..nmax-1: the run uses nmax - 1);
* ``s_c``: ``"max"`` (max over t of S_c(t), Eq. 15) or ``"final"`` (S_c(t_f), Eq. 16);
* ``t_final``: the time window t_f, 50 (the default) or 100 (units of 1/omega_q).

The first five factors (a :class:`Family`) decide which runs are needed; energy, s_c and t_f
are read off the same run: every run goes to t = 100 and records both energies
(:func:`simulate_windows`), and the observables of the shorter window come from the trajectory
truncated to t <= 50 (:func:`truncate`; the integrator's steps before t = 50 do not depend on
the end time, so this equals a t_f = 50 run to the solver tolerance, which the tests check).
This costs 2/3 of running both windows and half of running both energies.

Residual (one scalar): the root mean square of the log ratios ln(ours / paper) over the table
entries a reading has values for (all 24 after the full stage; the nmax in ``screen_nmax``
before). It is 0 exactly when our numbers equal the table's; exp(residual) is the typical factor
between them. The log ratio treats "twice too large" and "half as large" alike and gives inf to
a reading that yields 0 (the total energy of an undriven run never exceeds its start), where the
RMS of relative deviations ours / paper - 1 would score every all-zero reading a modest 1.0;
that measure is also reported (``metric="relative"``).

Staged search (:func:`scan`): stage 1 runs every family of the budget at the cheap cutoffs
nmax in {2, 5, 10} (12 of the 24 entries) and ranks the readings on them; stage 2 runs the
full nmax column for the ``finalists`` best families, the best family per table column and the
best family with the CONVENTIONS.md defaults;
stage 3 adds, up to ``extra`` families, every family that the screen cannot exclude. The
exclusion is exact: with k of K entries screened, the full RMS obeys
RMS_full >= sqrt(k / K) RMS_screen, so a reading with RMS_screen > sqrt(K / k) R* (R* the best
full residual) cannot beat R*. :meth:`ScanResult.unexcluded` lists what the caps left open.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final

import numpy as np
import pandas as pd

from qbpaper.grids import Grid
from qbpaper.model import build_generator
from qbpaper.observables import Observables, compute_observables
from qbpaper.paper_data import TABLE1, TABLE1_RATES, Table1Row
from qbpaper.params import Params
from qbpaper.solve import TotalEnergy, Trajectory, simulate

__all__ = [
    "BUDGETS",
    "COLUMNS",
    "CUTOFFS",
    "DEPHASINGS",
    "DRIVES",
    "ENERGIES",
    "Budget",
    "Family",
    "Reading",
    "SC_STATS",
    "ScanResult",
    "TABLE_NMAX",
    "WINDOWS",
    "WindowedTrajectory",
    "dephasing_rate",
    "deviations",
    "paper_table",
    "residual",
    "scan",
    "simulate_windows",
    "truncate",
]

DRIVES: Final = ("lab", "carrier", "rotating", "undriven")
ENERGIES: Final = ("qubit", "total")
DEPHASINGS: Final = ("2Jz", "Jz")
CUTOFFS: Final = ("largest", "dimension")
SC_STATS: Final = ("max", "final")
#: Deviation measures: ln(ours / paper) (the residual's) or ours / paper - 1.
METRICS: Final = ("log", "relative")
#: Time windows t_f (units of 1/omega_q); every run goes to the longest.
WINDOWS: Final = (50.0, 100.0)
#: Table 1's columns (as :class:`qbpaper.paper_data.Table1Row`) and cutoffs.
COLUMNS: Final = Table1Row._fields
TABLE_NMAX: Final = tuple(TABLE1)
MODELS: Final = ("dicke", "tc")
#: Params fields of each drive reading.
DRIVE_PARAMS: Final[Mapping[str, Mapping[str, Any]]] = {
    "lab": {"driven": True, "drive_frame": "lab", "drive_carrier": False},
    "carrier": {"driven": True, "drive_frame": "lab", "drive_carrier": True},
    "rotating": {"driven": True, "drive_frame": "rotating", "drive_carrier": False},
    "undriven": {"driven": False, "drive_frame": "lab", "drive_carrier": False, "n0": 1},
}
#: The factor values CONVENTIONS.md fixes as defaults (N is not fixed for Table 1).
DEFAULT_FACTORS: Final = {
    "drive": "lab",
    "energy": "qubit",
    "dissipation": "collective",
    "dephasing": "2Jz",
    "cutoff": "largest",
    "s_c": "max",
    "t_final": 50.0,
}


def _check(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise ValueError(f"invalid {name} {value!r}; one of {', '.join(map(str, allowed))}")


def dephasing_rate(gamma: float, dephasing: str) -> float:
    """The rate of our collective operator sqrt(rate) 2Jz that a reading of gamma means.

    ``"2Jz"``: C = sqrt(gamma) 2Jz, the rate is gamma. ``"Jz"``: C = sqrt(gamma) Jz
    = sqrt(gamma / 4) 2Jz, and D[C] is quadratic in C, so the rate is gamma / 4.
    """
    _check("dephasing", dephasing, DEPHASINGS)
    return gamma / 4.0 if dephasing == "Jz" else gamma


@dataclass(frozen=True, order=True)
class Family:
    """The factors that decide the runs: drive, N, dissipation, dephasing, cutoff."""

    drive: str = "lab"
    n: int = 1
    dissipation: str = "collective"
    dephasing: str = "2Jz"
    cutoff: str = "largest"

    def __post_init__(self) -> None:
        _check("drive", self.drive, DRIVES)
        _check("dissipation", self.dissipation, ("collective", "local"))
        _check("dephasing", self.dephasing, DEPHASINGS)
        _check("cutoff", self.cutoff, CUTOFFS)
        if self.dissipation == "local" and self.dephasing != "2Jz":
            raise ValueError("the 'Jz' dephasing reading is defined for collective dissipation")
        if isinstance(self.n, bool) or not isinstance(self.n, numbers.Integral) or self.n < 1:
            raise ValueError(f"invalid n {self.n!r}; a number of qubits >= 1")
        object.__setattr__(self, "n", int(self.n))

    def run_nmax(self, nmax: int) -> int:
        """The largest Fock number the run keeps for the paper's ``nmax``."""
        return nmax - 1 if self.cutoff == "dimension" else nmax

    def params(
        self, model: str, nmax: int, *, t_final: float = max(WINDOWS), **base: Any
    ) -> Params:
        """Params of the run for ``model`` at the paper's ``nmax``.

        ``base`` overrides the Table 1 values (g, kappa, gamma_relax, gamma_deph) before the
        reading is applied (the dephasing rate is converted by :func:`dephasing_rate`).
        """
        rates = {**TABLE1_RATES, **base}
        rates["gamma_deph"] = dephasing_rate(rates["gamma_deph"], self.dephasing)
        return Params(
            model=model,
            n=self.n,
            dissipation=self.dissipation,
            nmax=self.run_nmax(nmax),
            t_final=t_final,
            **DRIVE_PARAMS[self.drive],
            **rates,
        )

    @property
    def label(self) -> str:
        return f"{self.drive}, N={self.n}, {self.dissipation}, {self.dephasing}, {self.cutoff}"


@dataclass(frozen=True)
class Reading:
    """One reading of Table 1's set-up: a value per factor (see the module docstring)."""

    drive: str = "lab"
    energy: str = "qubit"
    n: int = 1
    dissipation: str = "collective"
    dephasing: str = "2Jz"
    cutoff: str = "largest"
    s_c: str = "max"
    t_final: float = 50.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", self.family.n)  # validates the run factors
        _check("energy", self.energy, ENERGIES)
        _check("s_c", self.s_c, SC_STATS)
        _check("t_final", float(self.t_final), WINDOWS)
        object.__setattr__(self, "t_final", float(self.t_final))

    @classmethod
    def factor_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def family(self) -> Family:
        return Family(self.drive, self.n, self.dissipation, self.dephasing, self.cutoff)

    def params(self, model: str, nmax: int, **base: Any) -> Params:
        """Params of a direct run of this reading (its energy and t_final) at the paper's nmax."""
        p = self.family.params(model, nmax, t_final=self.t_final, **base)
        return p.replace(energy=self.energy)

    def values(self, obs: Mapping[str, float], model: str) -> dict[str, float]:
        """This reading's E_max and S_c for ``model`` from a :func:`simulate_windows` record."""
        w = _window_tag(self.t_final)
        return {
            f"E_max_{model}": obs[f"E_{self.energy}_max_{w}"],
            f"S_c_{model}": obs[f"S_c_{self.s_c}_{w}"],
        }

    @property
    def is_default(self) -> bool:
        """True if every factor CONVENTIONS.md fixes has its default value (any N)."""
        return all(getattr(self, k) == v for k, v in DEFAULT_FACTORS.items())

    @property
    def label(self) -> str:
        return (
            f"{self.drive} drive, E {self.energy}, N={self.n}, {self.dissipation}, "
            f"deph {self.dephasing}, nmax {self.cutoff}, S_c {self.s_c}, t_f={self.t_final:g}"
        )


# --------------------------------------------------------------------------- the solver
def _window_tag(window: float) -> str:
    return f"t{window:g}"


def window_keys(window: float) -> tuple[str, ...]:
    """Observable names :func:`simulate_windows` stores for one window."""
    w = _window_tag(window)
    return (
        f"E_qubit_max_{w}",
        f"E_total_max_{w}",
        f"S_c_max_{w}",
        f"S_c_final_{w}",
        f"top_fock_max_{w}",
    )


def truncate(traj: Trajectory, t_final: float) -> Trajectory:
    """The trajectory restricted to t <= t_final (same params except t_final)."""
    keep = traj.t <= t_final + 1e-9 * max(1.0, t_final)
    if not keep.any() or t_final > traj.t[-1] + 1e-9 * max(1.0, t_final):
        raise ValueError(f"cannot truncate a run to t_f = {t_final} (it ends at {traj.t[-1]})")
    return Trajectory(
        params=traj.params.replace(t_final=float(traj.t[keep][-1])),
        t=traj.t[keep],
        energy=traj.energy[keep],
        s_qubits=traj.s_qubits[keep],
        s_cavity=traj.s_cavity[keep],
        photons=traj.photons[keep],
        top_fock=traj.top_fock[keep],
        trace=traj.trace[keep],
        warnings=list(traj.warnings),
        method=traj.method,
    )


@dataclass(frozen=True)
class WindowedObservables:
    """The run's observables plus, per window, both energies' E_max and S_c max/final."""

    base: Observables
    windows: Mapping[str, float]

    def as_dict(self) -> dict[str, float]:
        return {**self.base.as_dict(), **{k: float(v) for k, v in self.windows.items()}}


@dataclass
class WindowedTrajectory(Trajectory):
    """A :class:`Trajectory` (qubit energy) that also holds the total energy <H(t)> - <H(0)>."""

    total_energy: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def observables(self) -> WindowedObservables:  # type: ignore[override]
        out: dict[str, float] = {}
        for window in WINDOWS:
            if window > self.t[-1] + 1e-9 * window:
                continue
            part = truncate(self, window)
            obs = compute_observables(part)
            w = _window_tag(window)
            out[f"E_qubit_max_{w}"] = obs.E_max
            out[f"E_total_max_{w}"] = float(np.max(self.total_energy[: len(part.t)]))
            out[f"S_c_max_{w}"] = obs.S_c_max
            out[f"S_c_final_{w}"] = obs.S_c_final
            out[f"top_fock_max_{w}"] = obs.top_fock_max
        return WindowedObservables(compute_observables(self), out)


def simulate_windows(p: Params) -> WindowedTrajectory:
    """One run of ``p`` with the qubit energy (``p.energy`` is ignored) and, alongside, the
    total energy <H(t)> - <H(0)> (both with omega_q = 1); a sweep solver (importable by name).

    Its observables hold E_max (both energies), S_c max and final and the top-Fock population
    for every window of :data:`WINDOWS` up to ``p.t_final``.
    """
    p = p.replace(energy="qubit")
    probe = TotalEnergy(build_generator(p, truncate=False))  # observers see full-size blocks
    total: list[float] = []

    def observer(t: float, blocks: list[np.ndarray], degeneracies: list[int]) -> None:
        total.append(probe(t, blocks))

    traj = simulate(p, observer=observer)
    if len(total) != len(traj.t):  # pragma: no cover - the solver calls it once per time
        raise RuntimeError("the observer missed output times")
    energy = np.asarray(total) - total[0]
    return WindowedTrajectory(**{f.name: getattr(traj, f.name) for f in fields(traj)},
                              total_energy=energy)  # fmt: skip


# --------------------------------------------------------------------------- residuals
def paper_table(table: Mapping[int, Table1Row] = TABLE1) -> pd.DataFrame:
    """Table 1 as a DataFrame: index nmax, columns :data:`COLUMNS`."""
    frame = pd.DataFrame.from_dict({k: row._asdict() for k, row in table.items()}, orient="index")
    return frame[list(COLUMNS)].rename_axis("nmax")


def deviations(
    ours: pd.DataFrame, table: pd.DataFrame | None = None, *, metric: str = "log"
) -> pd.DataFrame:
    """Deviations of ours from the paper per entry (nmax x column), NaN where ours is missing.

    ``metric="log"``: ln(ours / paper) (-inf where ours <= 0); ``"relative"``: ours / paper - 1.
    """
    _check("metric", metric, METRICS)
    ref = paper_table() if table is None else table
    return _compare(ours.reindex(index=ref.index, columns=ref.columns).astype(float), ref, metric)


def _compare(ours: pd.DataFrame, ref: pd.DataFrame, metric: str) -> pd.DataFrame:
    """ln(ours / ref) (-inf where ours <= 0) or ours / ref - 1, entry by entry (same labels)."""
    if metric == "relative":
        return ours / ref - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.log(ours.clip(lower=0.0) / ref)
    return dev.where(ours.isna() | (ours > 0), -np.inf)


def residual(
    ours: pd.DataFrame,
    table: pd.DataFrame | None = None,
    *,
    columns: Iterable[str] | None = None,
    metric: str = "log",
) -> float:
    """Root mean square of :func:`deviations` over the entries ours has (NaN if none).

    ``ours``: index nmax, columns a subset of :data:`COLUMNS`; ``columns`` restricts the
    entries (e.g. one column for the per-column best). 0 exactly when ours equals the table;
    inf (log metric) when one of ours is <= 0.
    """
    dev = deviations(ours, table, metric=metric)
    if columns is not None:
        dev = dev[list(columns)]
    values = dev.to_numpy(dtype=float).ravel()
    values = values[~np.isnan(values)]
    return float(np.sqrt(np.mean(values**2))) if values.size else math.nan


# --------------------------------------------------------------------------- budgets
@dataclass(frozen=True)
class Budget:
    """What a scan runs: factor values, sizes, the screen's cutoffs and the stage caps.

    Local dissipation is skipped at N = 1 (it equals collective with the 2Jz reading there,
    a tested identity) and above ``local_max_n`` (cost).
    """

    sizes: tuple[int, ...]
    drives: tuple[str, ...] = DRIVES
    dissipations: tuple[str, ...] = ("collective",)
    dephasings: tuple[str, ...] = DEPHASINGS
    cutoffs: tuple[str, ...] = CUTOFFS
    local_max_n: int = 5
    screen_nmax: tuple[int, ...] = (2, 5, 10)
    finalists: int = 3
    extra: int = 2

    def families(self) -> list[Family]:
        out = []
        for drive in self.drives:
            for n in self.sizes:
                for dissipation in self.dissipations:
                    if dissipation == "local" and not (2 <= n <= self.local_max_n):
                        continue
                    dephasings = self.dephasings if dissipation == "collective" else ("2Jz",)
                    for dephasing in dephasings:
                        for cutoff in self.cutoffs:
                            out.append(Family(drive, n, dissipation, dephasing, cutoff))
        return out

    def pruned(self) -> list[str]:
        """Plain-language list of what this budget leaves out of the full factor space."""
        notes = []
        for name, full, ours in (
            ("drives", DRIVES, self.drives),
            ("dephasing readings", DEPHASINGS, self.dephasings),
            ("cutoff readings", CUTOFFS, self.cutoffs),
        ):
            if set(ours) != set(full):
                notes.append(f"{name}: only {', '.join(ours)}")
        if "local" not in self.dissipations:
            notes.append("local dissipation not run (collective only)")
        else:
            notes.append(
                "local dissipation only for 2 <= N <= "
                f"{self.local_max_n} (at N = 1 it equals collective with the 2Jz reading)"
            )
        notes.append(
            f"sizes: only N in {list(self.sizes)} (the paper's grids run to N = 50, and its "
            "Appendix A argues at N = 50; larger N for every reading is beyond the budget)"
        )
        notes.append(
            f"full nmax columns only for the {self.finalists} best families of the screen "
            f"(nmax in {list(self.screen_nmax)}), the best family per column, the best "
            f"family with the defaults, and up to {self.extra} families the screen could not "
            "exclude"
        )
        return notes


BUDGETS: Final[Mapping[str, Budget]] = {
    # CI/teaching: ~1 CPU-minute; the Jz dephasing reading and local dissipation left out.
    "quick": Budget(
        sizes=(1, 2, 3),
        dissipations=("collective",),
        dephasings=("2Jz",),
        finalists=2,
        extra=1,
    ),
    "paper": Budget(
        sizes=(1, 2, 3, 5, 10),
        dissipations=("collective", "local"),
        local_max_n=5,
        finalists=4,
        extra=4,
    ),
}


# --------------------------------------------------------------------------- the scan
_RUN_AXIS = "setup,drive_frame,drive_carrier,dissipation,gamma_deph,N,nmax"


def _run_row(family: Family, model: str, nmax: int) -> tuple[Any, ...]:
    p = family.params(model, nmax)
    return (p.setup, p.drive_frame, p.drive_carrier, p.dissipation, p.gamma_deph, p.n, p.nmax)


def _grid(name: str, runs: Iterable[tuple[Family, int]]) -> Grid:
    rows = list(dict.fromkeys(_run_row(f, "tc", nmax) for f, nmax in runs))
    return Grid.build(
        name,
        {
            "model": list(MODELS),
            _RUN_AXIS: [list(r) for r in rows],
            **{k: v for k, v in TABLE1_RATES.items() if k != "gamma_deph"},
        },
        {"t_final": max(WINDOWS)},
        serves="Table 1 forensics",
        description="readings of Table 1's set-up (qbpaper.forensics)",
    )


def _records(ds: Any) -> dict[tuple[Any, ...], dict[str, float]]:
    """(model, *run row) -> observables of every computed point of a sweep Dataset."""
    names = [v for v in ds.data_vars if ds[v].dtype.kind == "f"]
    frame = ds[names].to_dataframe().dropna(how="all", subset=names)
    frame = frame.reset_index()
    out = {}
    for row in frame.to_dict("records"):
        key = (
            row["model"],
            row["setup"],
            row["drive_frame"],
            bool(row["drive_carrier"]),
            row["dissipation"],
            float(row["gamma_deph"]),
            int(row["N"]),
            int(row["nmax"]),
        )
        out[key] = {k: float(row[k]) for k in names}
    return out


def _family_values(
    family: Family, nmaxs: Iterable[int], records: Mapping[tuple[Any, ...], Mapping[str, float]]
) -> pd.DataFrame:
    """Our values of every reading of ``family``: index reading factors + nmax, COLUMNS."""
    rows = []
    for energy in ENERGIES:
        for s_c in SC_STATS:
            for window in WINDOWS:
                reading = Reading(
                    family.drive, energy, family.n, family.dissipation, family.dephasing,
                    family.cutoff, s_c, window,
                )  # fmt: skip
                for nmax in nmaxs:
                    row = {**asdict(reading), "nmax": nmax}
                    for model in MODELS:
                        obs = records.get((model, *_run_row(family, model, nmax)))
                        if obs is None:  # a failed point
                            row.update({f"E_max_{model}": math.nan, f"S_c_{model}": math.nan})
                        else:
                            row.update(reading.values(obs, model))
                    rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.set_index([*Reading.factor_names(), "nmax"])[list(COLUMNS)]


def _reading_of(key: Sequence[Any]) -> Reading:
    return Reading(**dict(zip(Reading.factor_names(), key, strict=True)))


@dataclass
class ScanResult:
    """Our Table 1 values for every scanned reading, and how the staged search went.

    ``values``: index = the reading's factors + nmax (the paper's), columns :data:`COLUMNS`;
    rows exist for the screen's nmax for every family, and for every nmax of Table 1 for the
    families in ``full``. ``stages``: per sweep, points computed/cached/failed and seconds.
    """

    budget: Budget
    values: pd.DataFrame
    families: list[Family]
    full: list[Family]
    stages: list[dict[str, Any]]
    elapsed: float = 0.0
    failures: int = 0

    @property
    def computed(self) -> bool:
        """Whether any Table 1 entry has a value: False when every point was missing, e.g. in a
        build that computes nothing (``qbpaper book --no-compute``) without cached points."""
        return bool(np.isfinite(self.values[list(COLUMNS)].to_numpy(dtype=float)).any())

    # ------------------------------------------------------------------ scores
    def deviation_frame(self, metric: str = "log") -> pd.DataFrame:
        """:func:`deviations` of every row of ``values`` (same index)."""
        _check("metric", metric, METRICS)
        ref = paper_table().reindex(self.values.index.get_level_values("nmax"))
        ours = self.values[list(COLUMNS)].astype(float)
        ref.index = ours.index
        return _compare(ours, ref, metric)

    def scores(
        self,
        *,
        nmax: Iterable[int] | None = None,
        columns: Iterable[str] | None = None,
        metric: str = "log",
    ) -> pd.Series:
        """:func:`residual` of every reading (index: the factors), over the given rows and
        columns of Table 1 (default all), from the entries each reading has."""
        dev = self.deviation_frame(metric)
        if nmax is not None:
            dev = dev[dev.index.get_level_values("nmax").isin(list(nmax))]
        if columns is not None:
            dev = dev[list(columns)]
        levels = list(Reading.factor_names())
        count = dev.notna().groupby(level=levels).sum().sum(axis=1)
        total = (dev**2).groupby(level=levels).sum().sum(axis=1)
        return np.sqrt(total / count.where(count > 0))

    def is_full(self) -> pd.Series:
        """Per reading: True if it was run at all of Table 1's rows."""
        names = list(Reading.factor_names())
        full = set(self.full)
        idx = self.values.index.droplevel("nmax").unique()
        return pd.Series([_reading_of(k).family in full for k in idx], index=idx.set_names(names))

    def has_all(self, columns: Iterable[str] | None = None) -> pd.Series:
        """Per reading: True if it has a finite value at every row of Table 1 in ``columns``
        (default all four): a residual over fewer entries (a failed point) would not be
        comparable with the others, so the rankings leave such a reading out."""
        cols = list(columns) if columns is not None else list(COLUMNS)
        names = list(Reading.factor_names())
        rows = self.values[self.values.index.get_level_values("nmax").isin(TABLE_NMAX)]
        count = rows[cols].notna().groupby(level=names).sum().sum(axis=1)
        idx = self.values.index.droplevel("nmax").unique().set_names(names)
        return count.reindex(idx).fillna(0) == len(TABLE_NMAX) * len(cols)

    # ------------------------------------------------------------------ rankings
    def readings(self) -> list[Reading]:
        return [_reading_of(k) for k in self.values.index.droplevel("nmax").unique()]

    def reading_values(self, reading: Reading) -> pd.DataFrame:
        """Our Table 1 (index nmax, COLUMNS) under one reading."""
        key = tuple(asdict(reading).values())
        return self.values.xs(key, level=list(Reading.factor_names()))

    def ranking(self) -> pd.DataFrame:
        """One row per reading, best first: ``residual`` (log RMS over all 24 entries; NaN if
        only screened), ``residual_screen`` (over the screen's rows), ``rms_relative`` (RMS of
        ours / paper - 1 over the entries it has), ``max_relative`` (largest |ours/paper - 1|),
        ``stage`` ("full", "screen", "full, failed point": run at every cutoff but missing
        an entry, so without a full residual, or "not computed": no value at all, e.g. in a
        ``--no-compute`` build; "no value (failed or not computed)" if the scan had failures)
        and ``default`` (the CONVENTIONS.md factors, any N)."""
        full = self.is_full()
        complete = full & self.has_all()
        full = full.reindex(complete.index)
        names = list(Reading.factor_names())
        has_any = self.values[list(COLUMNS)].notna().any(axis=1).groupby(level=names).any()
        has_any = has_any.reindex(complete.index).fillna(False).astype(bool)
        # a Series, not a bare array: the frame aligns its columns by index, not by position
        stage = pd.Series(
            np.where(
                ~has_any,
                "not computed" if not self.failures else "no value (failed or not computed)",
                np.where(complete, "full", np.where(full, "full, failed point", "screen")),
            ),
            index=complete.index,
        )
        frame = pd.DataFrame({
            "residual": self.scores().where(complete),
            "residual_screen": self.scores(nmax=self.budget.screen_nmax),
            "rms_relative": self.scores(metric="relative"),
            "max_relative": self.deviation_frame("relative").abs().groupby(
                level=list(Reading.factor_names())).max().max(axis=1),
            "stage": stage,
        })  # fmt: skip
        frame["default"] = [_reading_of(k).is_default for k in frame.index]
        return frame.sort_values(["residual", "residual_screen"], na_position="last")

    def best(self) -> tuple[Reading, float]:
        """The closest reading (smallest full residual) and its residual."""
        ranked = self.ranking()
        return _reading_of(ranked.index[0]), float(ranked["residual"].iloc[0])

    def best_default(self) -> tuple[Reading, float]:
        """The best reading with every CONVENTIONS.md default (any N) and its residual
        (full if run at every cutoff, else the screen residual)."""
        ranked = self.ranking()
        defaults = ranked[ranked["default"]]
        score = defaults["residual"].iloc[0]
        if not math.isfinite(score):
            score = defaults["residual_screen"].iloc[0]
        return _reading_of(defaults.index[0]), float(score)

    def per_column(self) -> pd.DataFrame:
        """For each Table 1 column: the reading that reproduces it best (full columns only),
        its column residual, and our values beside the paper's."""
        table = paper_table()
        full = self.is_full()
        rows = []
        for column in COLUMNS:
            score = self.scores(columns=[column]).where(full & self.has_all([column])).dropna()
            score = score[np.isfinite(score)]
            if score.empty:
                continue
            key = score.idxmin()
            reading = _reading_of(key)
            ours = self.reading_values(reading)[column]
            rows.append({
                "column": column,
                "reading": reading.label,
                "residual": float(score.min()),
                **{f"ours nmax={k}": float(ours.get(k, math.nan)) for k in table.index},
                **{f"paper nmax={k}": float(table.loc[k, column]) for k in table.index},
            })  # fmt: skip
        names = ["column", "reading", "residual", *(f"ours nmax={k}" for k in table.index),
                 *(f"paper nmax={k}" for k in table.index)]  # fmt: skip
        return pd.DataFrame(rows, columns=names).set_index("column")

    def per_column_readings(self) -> dict[str, Reading]:
        """Column -> the reading that reproduces it best (full columns only)."""
        full = self.is_full()
        out = {}
        for column in COLUMNS:
            score = self.scores(columns=[column]).where(full & self.has_all([column])).dropna()
            score = score[np.isfinite(score)]
            if not score.empty:
                out[column] = _reading_of(score.idxmin())
        return out

    def per_model_readings(self) -> dict[str, tuple[Reading, float]]:
        """Model -> (the reading that best reproduces its two columns, E_max and S_c: 12
        entries, full readings only; that residual)."""
        full = self.is_full()
        out = {}
        for model in MODELS:
            cols = [f"E_max_{model}", f"S_c_{model}"]
            score = self.scores(columns=cols).where(full & self.has_all(cols)).dropna()
            score = score[np.isfinite(score)]
            if not score.empty:
                out[model] = (_reading_of(score.idxmin()), float(score.min()))
        return out

    def per_model(self) -> pd.DataFrame:
        """:meth:`per_model_readings` as a table (model, reading, residual)."""
        rows = [
            {"model": m, "reading": r.label, "residual": score}
            for m, (r, score) in self.per_model_readings().items()
        ]
        return pd.DataFrame(rows, columns=["model", "reading", "residual"]).set_index("model")

    def comparison(self, reading: Reading) -> pd.DataFrame:
        """Paper beside ours for one reading: index nmax, columns (paper | ours | relative
        deviation ours/paper - 1, column)."""
        table = paper_table()
        ours = self.reading_values(reading).reindex(table.index)
        dev = deviations(ours, table, metric="relative")
        return pd.concat({"paper": table, "ours": ours, "relative deviation": dev}, axis=1)

    def unexcluded(self) -> pd.DataFrame:
        """Screened-only readings the screen cannot exclude from beating the closest full
        reading, overall (``target`` "all"), in one column (the column's name) or for one
        model's two columns ("dicke", "tc"): those with RMS_screen <= sqrt(K / k) x the best
        full residual (see the module docstring)."""
        full = self.is_full()
        if not full.any():
            return pd.DataFrame()
        screen = list(self.budget.screen_nmax)
        factor = math.sqrt(len(TABLE_NMAX) / len(screen))
        targets: dict[str, list[str] | None] = {"all": None}
        targets.update({c: [c] for c in COLUMNS})
        targets.update({m: [f"E_max_{m}", f"S_c_{m}"] for m in MODELS})
        parts = []
        for target, cols in targets.items():
            best = float(self.scores(columns=cols)[full & self.has_all(cols)].min())
            score = self.scores(nmax=screen, columns=cols)[~full]
            open_ = score[score <= factor * best]
            if open_.empty:
                continue
            frame = open_.rename("residual_screen").to_frame()
            frame["bound"] = frame["residual_screen"] / factor
            frame["best_full"] = best
            frame["target"] = target
            parts.append(frame)
        if not parts:
            return pd.DataFrame()
        return pd.concat(parts).sort_values("bound")

    def factor_summary(self) -> pd.DataFrame:
        """Per factor and value: the best screen residual and the best full residual of the
        readings with that value (which values of each factor fit the table best)."""
        ranked = self.ranking()
        rows = []
        for name in Reading.factor_names():
            values = ranked.index.get_level_values(name)
            for value in dict.fromkeys(values):
                part = ranked[values == value]
                rows.append({
                    "factor": name,
                    "value": value,
                    "best residual_screen": float(part["residual_screen"].min()),
                    "best residual": float(part["residual"].min()),
                })  # fmt: skip
        return pd.DataFrame(rows).set_index(["factor", "value"])

    def undriven_tc_spread(self) -> tuple[float, float]:
        """(largest spread over nmax of our undriven TC E_max and S_c, over every undriven
        reading; the paper's spread of its TC columns over the same nmax). NaN if not run."""
        undriven = self.values[self.values.index.get_level_values("drive") == "undriven"]
        if undriven.empty:
            return math.nan, math.nan
        levels = list(Reading.factor_names())
        cols = ["E_max_tc", "S_c_tc"]
        spread = undriven[cols].groupby(level=levels).agg(np.ptp).max().max()
        nmaxs = sorted(set(undriven.index.get_level_values("nmax")))
        paper = paper_table().loc[nmaxs, cols]
        return float(spread), float((paper.max() - paper.min()).max())

    def summary(self) -> str:
        """Plain-language conclusions phrased from the numbers (Markdown)."""
        if not self.computed:
            return (
                "- No reading has a value: none of the scan's points was computed or found in "
                "the cache (a build with `--no-compute` computes none), so there is nothing to "
                "compare with Table 1. Run the chapter without `--no-compute` to compute them."
            )
        ranked = self.ranking()
        best, score = self.best()
        row = ranked.iloc[0]
        lines = [
            f"- Closest reading: **{best.label}**, residual {score:.3f} (RMS of ln(ours/paper) "
            f"over the 24 entries: a typical factor {math.exp(score):.2f}; RMS relative "
            f"deviation {row['rms_relative']:.0%}, largest {row['max_relative']:.0%}).",
        ]
        if score <= math.log(1.02):
            lines.append("- It reproduces Table 1 to about the paper's quoted precision (2 %).")
        else:
            sizes = ", ".join(str(n) for n in self.budget.sizes)
            lines.append(
                f"- No scanned reading (N in {{{sizes}}}) reproduces Table 1: even the closest "
                f"is off by a typical factor {math.exp(score):.2f}, far beyond the table's ~1 % "
                "convergence claim."
            )
        defaults = ranked[ranked["default"] & ranked["residual"].notna()]
        if not defaults.empty:
            position = list(ranked.index).index(defaults.index[0]) + 1
            d = _reading_of(defaults.index[0])
            lines.append(
                f"- With the defaults of `CONVENTIONS.md` (unchanged here), the best size is N = "
                f"{d.n}: residual {defaults['residual'].iloc[0]:.3f}, rank {position} of the "
                f"{int(ranked['residual'].notna().sum())} readings with a full residual "
                f"(of {len(ranked)} readings scanned)."
            )
        per_col = self.per_column_readings()
        if per_col:
            distinct = len(set(per_col.values()))
            scores = self.per_column()["residual"]
            verdict = (
                "one reading is best for every column"
                if distinct == 1
                else f"{distinct} different readings: no single reading is best for all columns"
            )
            parts = ", ".join(f"{c} by {r.label} ({scores[c]:.3f})" for c, r in per_col.items())
            lines.append(f"- Column by column ({verdict}): {parts}.")
        models = self.per_model()
        if len(models) == 2:
            good = models[models["residual"] <= math.log(1.1)]
            names = {"tc": "TC", "dicke": "Dicke"}
            parts = "; ".join(
                f"{names[m]} by {row['reading']} (residual {row['residual']:.3f}, typical "
                f"factor {math.exp(row['residual']):.3f})"
                for m, row in models.iterrows()
            )
            if len(good) == 1:
                bad = names[next(m for m in models.index if m not in good.index)]
                verdict = (
                    f"the {names[good.index[0]]} columns are reproduced to within about 10 % "
                    f"by one reading, the {bad} columns by none: the set-up factors scanned "
                    f"do not explain the {bad} mismatch"
                )
            elif len(good) == 2:
                verdict = "each model's columns are reproduced to within about 10 % by a reading"
            else:
                verdict = "neither model's columns are reproduced to within 10 % by any reading"
            lines.append(f"- Each model alone ({verdict}): {parts}.")
        spread, paper_spread = self.undriven_tc_spread()
        if math.isfinite(spread):
            if spread < 1e-6 <= paper_spread:
                verdict = (
                    "so the undriven setup cannot have produced Table 1 (its TC column "
                    "varies with nmax)"
                )
            else:
                verdict = "so this check does not exclude the undriven setup"
            lines.append(
                f"- Undriven TC conserves the excitation number: our E_max and S_c change by at "
                f"most {spread:.1e} across nmax, while the paper's TC columns change by "
                f"{paper_spread:.3f} over the same cutoffs, {verdict}."
            )
        factors = self.factor_summary()["best residual_screen"]
        preferred = []
        for name in Reading.factor_names():
            if name == "n":
                continue
            part = factors.xs(name, level="factor")
            if len(part) > 1:
                preferred.append(f"{name} = {part.idxmin()} ({part.min():.3f} vs "
                                 f"{part.drop(part.idxmin()).min():.3f})")  # fmt: skip
        if preferred:
            lines.append(
                "- Best screen residual per factor value (best vs next best): "
                + "; ".join(preferred)
                + "."
            )
        open_ = self.unexcluded()
        n_all = n_col = 0
        if not open_.empty:
            n_all = len(open_[open_["target"] == "all"].index.unique())
            n_col = len(open_[open_["target"] != "all"].index.unique())
        lines.append(
            f"- Staging: {len(self.full)} of {len(self.families)} families were run over every "
            f"nmax. By the bound test, {n_all} screened-only readings could still beat the "
            f"closest overall and {n_col} the best of some column or model; "
            + (
                "none was missed."
                if n_all + n_col == 0
                else "they were not run in full (budget cap), so "
                + (
                    "the per-column and per-model bests are exact within the scan but "
                    if n_col == 0
                    else ""
                )
                + "the ranking is not guaranteed."
            )
        )
        return "\n".join(lines)

    def figure(self, readings: Mapping[str, Reading]) -> Any:
        """Four panels (one per Table 1 column) of the paper's values and ours under the given
        readings (label -> reading), against nmax."""
        import matplotlib.pyplot as plt

        table = paper_table()
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.2), constrained_layout=True)
        for ax, column in zip(axes, COLUMNS, strict=True):
            ax.plot(table.index, table[column], "ko-", label="paper (Table 1)")
            for name, reading in readings.items():
                ours = self.reading_values(reading)[column]
                ax.plot(ours.index, ours.to_numpy(), "o--", label=name, alpha=0.8)
            ax.set_title(column)
            ax.set_xlabel("nmax")
        axes[0].legend(fontsize=8)
        return fig


def _sweep(name: str, runs: list[tuple[Family, int]], workers: int, cache: Any, progress: bool):
    from qbpaper.sweep import run_sweep

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failed points are counted and shown as NaN
        result = run_sweep(
            _grid(name, runs),
            workers=workers,
            cache=cache,
            simulate=simulate_windows,
            progress=progress,
        )
    return result


def scan(
    budget: Budget | str = "quick",
    *,
    workers: int = 2,
    cache: Any = None,
    progress: bool = False,
) -> ScanResult:
    """Run the staged scan of a budget (``"quick"``, ``"paper"`` or a :class:`Budget`).

    Points go through :func:`qbpaper.sweep.run_sweep` with the solver
    :func:`simulate_windows` (cached and parallel; ``cache`` as there).
    """
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ValueError(f"unknown budget {budget!r}; one of {', '.join(BUDGETS)}")
        budget = BUDGETS[budget]
    start = time.perf_counter()
    families = budget.families()
    screen = list(budget.screen_nmax)
    rest = [n for n in TABLE_NMAX if n not in screen]
    records: dict[tuple[Any, ...], dict[str, float]] = {}
    stages: list[dict[str, Any]] = []
    failures = 0

    def run(name: str, runs: list[tuple[Family, int]]) -> None:
        nonlocal failures
        if not runs:
            return
        res = _sweep(name, runs, workers, cache, progress)
        records.update(_records(res.dataset))
        failures += len(res.failures)
        stages.append(
            {
                "stage": name,
                "families": len({f for f, _ in runs}),
                "points": int(res.dataset.attrs["n_points"]),
                "computed": res.computed,
                "cached": res.cached,
                "failed": len(res.failures),
                "seconds": res.elapsed,
            }
        )

    run("screen", [(f, n) for f in families for n in screen])
    values = pd.concat([_family_values(f, screen, records) for f in families])
    result = ScanResult(budget, values, families, [], stages)

    # Stage 2: the best families of the screen, overall and per column.
    ranked = result.ranking()
    finalists = list(dict.fromkeys(_reading_of(k).family for k in ranked.index))
    finalists = finalists[: budget.finalists]
    defaults = ranked[ranked["default"]]
    if not defaults.empty:  # the defaults always get a full residual to compare with
        finalists.append(_reading_of(defaults.index[0]).family)
    for column in COLUMNS:
        score = result.scores(nmax=screen, columns=[column])
        score = score[np.isfinite(score)]
        if not score.empty:
            finalists.append(_reading_of(score.idxmin()).family)
    finalists = list(dict.fromkeys(finalists))
    run("full", [(f, n) for f in finalists for n in rest])
    result.full = finalists

    def refresh() -> None:
        parts = [_family_values(f, TABLE_NMAX if f in result.full else screen, records)
                 for f in families]  # fmt: skip
        result.values = pd.concat(parts)

    refresh()
    # Stage 3: families the screen cannot exclude, lowest bound first, up to `extra`.
    open_ = result.unexcluded()
    if budget.extra > 0 and not open_.empty:
        extra = list(dict.fromkeys(_reading_of(k).family for k in open_.index))
        extra = extra[: budget.extra]
        run("extension", [(f, n) for f in extra for n in rest])
        result.full = result.full + extra
        refresh()
    result.failures = failures
    result.elapsed = time.perf_counter() - start
    return result
