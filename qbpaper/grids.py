"""Parameter grids: named axes over :class:`~qbpaper.params.Params`, the paper's grids, YAML files.

A grid is a product of *axes*. An axis is either one name with its values (``N: [2, 3, 4]``)
or several names with explicit combinations (``"gamma_relax,gamma_deph": [[1e-3, 1e-3],
[1e-3, 1e-2]]``), used where the paper's grid is not a full product (tuned-decay rates have
gamma_relax <= gamma_deph). The Dataset of a sweep has one dimension per name; combinations a
zipped axis does not list are NaN there.

Axis names are the Params field names, except ``N`` (field ``n``) and ``setup`` (values
``"driven"``/``"undriven"``, field ``driven``). The nine names of :data:`DIMS` are always
dimensions (length 1 when not varied); any other field is a dimension only when given as an axis,
otherwise it is a fixed parameter (a Dataset attribute). Integer values must fit the 32-bit
integers of netCDF3, in which sweep Datasets are saved (:data:`INT32`).

YAML grid file (read with ``yaml.safe_load``: no Python objects, no code)::

    name: my_grid                 # optional, default: the file name
    serves: my study              # optional: the figure or question it serves
    axes:
      model: [tc, dicke]
      setup: [driven, undriven]
      N: [2, 3, 4]
      g: 0.1                      # a scalar is one value
      "gamma_relax,gamma_deph": [[1.0e-3, 1.0e-3], [1.0e-3, 1.0e-2]]
    fixed: {t_final: 20}          # optional: other Params fields
    series: [{model: tc, N: 2}]   # optional: points whose time series are kept ('all' for all)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from qbpaper.params import SETUPS, Params

#: Dimensions every sweep Dataset has, in this order.
DIMS = ("model", "setup", "dissipation", "N", "g", "kappa", "gamma_relax", "gamma_deph", "nmax")
#: Axis name -> Params field name, where they differ.
_DIM_FIELD = {"N": "n", "setup": "driven"}
_FIELD_DIM = {v: k for k, v in _DIM_FIELD.items()}
PROFILES = ("quick", "paper")
_TOP_KEYS = ("name", "serves", "description", "axes", "fixed", "series")
#: The integers a netCDF3 file stores (32-bit): every integer of a grid must lie in this range.
INT32 = range(-(2**31), 2**31)


class GridError(ValueError):
    """A grid definition that cannot be run (unknown axis, empty axis, invalid value...)."""


def axis_names() -> tuple[str, ...]:
    """Every valid axis name: :data:`DIMS` first, then the other Params fields."""
    extra = tuple(_FIELD_DIM.get(f, f) for f in Params.field_names())
    return DIMS + tuple(n for n in extra if n not in DIMS)


def field_of(name: str) -> str:
    """The Params field an axis name sets."""
    return _DIM_FIELD.get(name, name)


_DEFAULTS = Params()


def field_type(field: str) -> type:
    """The Python type of a Params field (that of its default: bool, int, float or str)."""
    return type(getattr(_DEFAULTS, field))


def _kind(name: str) -> type:
    if name == "setup":
        return str
    return field_type(field_of(name))


def _coerce(name: str, value: Any) -> Any:
    """A YAML/Python value as the type of axis ``name``, or GridError."""
    kind = _kind(name)
    bad = GridError(f"invalid value for '{name}': {value!r} (expected {kind.__name__})")
    if kind is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(value, bool):
        raise bad
    if kind is str:
        if not isinstance(value, str):
            raise bad
        if name == "setup" and value not in SETUPS:
            raise GridError(f"invalid value for 'setup': {value!r} (one of {', '.join(SETUPS)})")
        return value
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise bad
        if value not in INT32:
            raise GridError(f"invalid value for '{name}': {value} (sweep Datasets are netCDF3, "
                            "whose integers are 32-bit: below 2**31)")  # fmt: skip
        return value
    if isinstance(value, str):  # PyYAML reads 1e-3 (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            raise bad from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise bad
    return float(value)


def _check_name(name: Any, where: str) -> str:
    valid = axis_names()
    if not isinstance(name, str) or name not in valid:
        hint = f" (use '{_FIELD_DIM[name]}')" if name in _FIELD_DIM else ""
        raise GridError(f"unknown {where} {name!r}{hint}; valid names: {', '.join(valid)}")
    return name


@dataclass(frozen=True)
class Axis:
    """One axis: ``names`` (one, or several zipped) and one tuple of values per combination."""

    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    @property
    def key(self) -> str:
        return ",".join(self.names)

    def spec(self) -> list[Any]:
        """Plain values for YAML: a list of values, or of lists for a zipped axis."""
        if len(self.names) == 1:
            return [v[0] for v in self.values]
        return [list(v) for v in self.values]


def _make_axis(key: str | tuple[str, ...], raw: Any) -> Axis:
    if isinstance(key, str):
        names = tuple(n.strip() for n in key.split(","))
    elif isinstance(key, tuple) and all(isinstance(n, str) for n in key):
        names = key
    else:
        raise GridError(f"unknown axis {key!r}; valid names: {', '.join(axis_names())}")
    for n in names:
        _check_name(n, "axis")
    if len(set(names)) != len(names):
        raise GridError(f"axis '{','.join(names)}' repeats a name")
    label = ",".join(names)
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raw = [raw]
    raw = list(raw)
    if not raw:
        raise GridError(f"axis '{label}' is empty")
    rows: list[tuple[Any, ...]] = []
    for item in raw:
        if len(names) == 1:
            rows.append((_coerce(names[0], item),))
            continue
        if isinstance(item, str | bytes) or not isinstance(item, Iterable):
            raise GridError(
                f"axis '{label}': each entry must list {len(names)} values, got {item!r}"
            )
        item = list(item)
        if len(item) != len(names):
            raise GridError(f"axis '{label}': entry {item!r} does not have {len(names)} values")
        rows.append(tuple(_coerce(n, v) for n, v in zip(names, item, strict=True)))
    if len(set(rows)) != len(rows):
        dup = next(r for r in rows if rows.count(r) > 1)
        shown = dup[0] if len(names) == 1 else list(dup)
        raise GridError(f"axis '{label}' lists {shown!r} twice")
    return Axis(names, tuple(rows))


@dataclass(frozen=True)
class Point:
    """One grid point: its coordinates (dimension -> value), position and parameters."""

    coords: dict[str, Any]
    index: tuple[int, ...]
    params: Params


def _params_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        out[field_of(name)] = (value == "driven") if name == "setup" else value
    return out


@dataclass(frozen=True)
class Grid:
    """A validated grid. Build it with :meth:`build`, :func:`get`, :func:`load` or :func:`parse`."""

    name: str
    axes: tuple[Axis, ...]
    fixed: tuple[tuple[str, Any], ...] = ()
    serves: str = ""
    description: str = ""
    profile: str = "custom"
    series: tuple[tuple[tuple[str, tuple[Any, ...]], ...], ...] | str = ()
    _points: list[Point] = field(default=None, init=False, repr=False, compare=False)  # type: ignore[assignment]

    # ----------------------------------------------------------------- construction
    @classmethod
    def build(
        cls,
        name: str,
        axes: Mapping[str | tuple[str, ...], Any],
        fixed: Mapping[str, Any] | None = None,
        *,
        serves: str = "",
        description: str = "",
        profile: str = "custom",
        series: Any = None,
    ) -> Grid:
        """A grid from plain values (lists, scalars, zipped keys "a,b"); raises GridError."""
        if not isinstance(name, str) or not name.strip():
            raise GridError(f"the grid name must be a non-empty string, got {name!r}")
        if not isinstance(axes, Mapping) or not axes:
            raise GridError("a grid needs an 'axes' mapping with at least one axis")
        built = [_make_axis(k, v) for k, v in axes.items()]
        seen: dict[str, str] = {}
        for ax in built:
            for n in ax.names:
                if n in seen:
                    raise GridError(f"'{n}' appears in two axes ('{seen[n]}' and '{ax.key}')")
                seen[n] = ax.key
        fixed_items: dict[str, Any] = {}
        if fixed is not None and not isinstance(fixed, Mapping):
            raise GridError(f"'fixed' must be a mapping of parameter: value, got {fixed!r}")
        for n, v in (fixed or {}).items():
            _check_name(n, "fixed parameter")
            if n in seen:
                raise GridError(f"'{n}' is both an axis and a fixed parameter")
            if n in DIMS:  # always a dimension: a one-value axis
                built.append(_make_axis(n, [v]))
                seen[n] = n
            else:
                fixed_items[n] = _coerce(n, v)
        for n in DIMS:  # canonical dimensions not given: the Params default
            if n not in seen:
                default = getattr(_DEFAULTS, field_of(n))
                built.append(
                    _make_axis(
                        n, ["driven" if default else "undriven"] if n == "setup" else [default]
                    )
                )
        order = {n: i for i, n in enumerate(axis_names())}
        built.sort(key=lambda ax: min(order[n] for n in ax.names))
        grid = cls(
            name=name.strip(),
            axes=tuple(built),
            fixed=tuple(sorted(fixed_items.items(), key=lambda kv: order[kv[0]])),
            serves=str(serves),
            description=str(description),
            profile=str(profile),
        )
        object.__setattr__(grid, "series", grid._check_series(series))
        grid.points()  # validate every point now, before any work
        return grid

    def replace(
        self,
        axes: Mapping[str, Any] | None = None,
        fixed: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Grid:
        """A new grid with some axes / fixed values / metadata changed (a name given in
        ``axes`` or ``fixed`` moves there)."""
        spec = self.to_dict()
        new_axes: dict[str, Any] = spec["axes"]
        new_fixed: dict[str, Any] = spec.get("fixed", {})
        for key, value in {**(axes or {}), **(fixed or {})}.items():
            names = {n.strip() for n in key.split(",")}
            for old in list(new_axes):
                if names & set(old.split(",")):
                    if len(old.split(",")) > 1 and names != set(old.split(",")):
                        raise GridError(
                            f"'{key}' is part of the zipped axis '{old}': replace "
                            f"the whole axis (key '{old}'; a YAML grid file can, "
                            "qbpaper sweep --set cannot)"
                        )
                    del new_axes[old]
            for n in names:
                new_fixed.pop(n, None)
            target = new_axes if (axes and key in axes) else new_fixed
            target[key] = value
        meta = {k: spec.get(k, getattr(self, k)) for k in ("serves", "description", "profile")}
        meta.update({k: v for k, v in changes.items() if k in meta})
        unknown = set(changes) - set(meta) - {"name", "series"}
        if unknown:
            raise TypeError(f"unknown Grid.replace arguments: {sorted(unknown)}")
        return Grid.build(
            changes.get("name", self.name),
            new_axes,
            new_fixed,
            series=changes.get("series", spec.get("series")),
            **meta,
        )

    # ----------------------------------------------------------------- structure
    @property
    def dims(self) -> tuple[str, ...]:
        """Dimension names, in the Dataset's order."""
        order = axis_names()
        present = {n for ax in self.axes for n in ax.names}
        return tuple(n for n in order if n in present)

    @cached_property
    def coords(self) -> dict[str, list[Any]]:
        """Dimension -> coordinate values (given order; zipped axes: sorted unique values)."""
        out: dict[str, list[Any]] = {}
        for ax in self.axes:
            for i, n in enumerate(ax.names):
                vals = list(dict.fromkeys(row[i] for row in ax.values))
                if len(ax.names) > 1 and all(isinstance(v, int | float) for v in vals):
                    vals.sort()
                out[n] = vals
        return {n: out[n] for n in self.dims}

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d]) for d in self.dims)

    @property
    def size(self) -> int:
        """Number of points computed (zipped axes count their combinations only)."""
        return math.prod(len(ax.values) for ax in self.axes)

    def fixed_params(self) -> dict[str, Any]:
        """Every Params field that is not a dimension, with its value (fixed or default)."""
        dims = set(self.dims)
        base = {f: getattr(_DEFAULTS, f) for f in Params.field_names()}
        base.update(_params_kwargs(dict(self.fixed)))
        return {f: v for f, v in base.items() if _FIELD_DIM.get(f, f) not in dims}

    def points(self) -> list[Point]:
        """All points, validated as Params (GridError naming the first invalid point)."""
        if self._points is not None:
            return self._points
        dims = self.dims
        pos = {d: {v: i for i, v in enumerate(self.coords[d])} for d in dims}
        fixed = _params_kwargs(dict(self.fixed))
        out = []
        for combo in itertools.product(*(ax.values for ax in self.axes)):
            coords: dict[str, Any] = {}
            for ax, row in zip(self.axes, combo, strict=True):
                coords.update(zip(ax.names, row, strict=True))
            coords = {d: coords[d] for d in dims}
            try:
                p = Params(**fixed, **_params_kwargs(coords))
            except (ValueError, TypeError) as exc:
                raise GridError(f"grid '{self.name}', point {_fmt(coords)}: {exc}") from None
            out.append(Point(coords, tuple(pos[d][coords[d]] for d in dims), p))
        object.__setattr__(self, "_points", out)
        return out

    def __iter__(self) -> Iterator[Point]:
        return iter(self.points())

    def __len__(self) -> int:
        return self.size

    # ----------------------------------------------------------------- time series selection
    def _check_series(self, series: Any) -> tuple | str:
        if series is None or series == [] or series == ():
            return ()
        if series == "all":
            self._check_common_time()
            return "all"
        if isinstance(series, Mapping):
            series = [series]
        if isinstance(series, str) or not isinstance(series, Iterable):
            raise GridError(f"'series' must be 'all' or a list of selectors, got {series!r}")
        out = []
        for sel in series:
            if not isinstance(sel, Mapping):
                raise GridError(f"a series selector must be a mapping, got {sel!r}")
            items = []
            for n, v in sel.items():
                if n not in self.dims:
                    raise GridError(f"series selector names {n!r}, not a dimension of the grid")
                vals = [v] if isinstance(v, str) or not isinstance(v, Iterable) else list(v)
                vals = [_coerce(n, x) for x in vals]
                for x in vals:
                    if x not in self.coords[n]:
                        raise GridError(f"series selector: {n}={x!r} is not on the grid")
                items.append((n, tuple(vals)))
            out.append(tuple(items))
        self._check_common_time()
        return tuple(out)

    def _check_common_time(self) -> None:
        if "t_final" in self.dims or "dt" in self.dims:
            raise GridError("time series need one time grid: t_final and dt cannot be axes")

    def keeps_series(self, point: Point) -> bool:
        """Whether the time series of ``point`` are kept in the Dataset."""
        if self.series == "all":
            return True
        return any(all(point.coords[n] in vals for n, vals in sel) for sel in self.series)

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML-able) that :func:`parse` turns back into this grid."""
        out: dict[str, Any] = {"name": self.name}
        if self.serves:
            out["serves"] = self.serves
        if self.description:
            out["description"] = self.description
        out["axes"] = {ax.key: ax.spec() for ax in self.axes}
        if self.fixed:
            out["fixed"] = dict(self.fixed)
        if self.series == "all":
            out["series"] = "all"
        elif self.series:
            out["series"] = [{n: list(v) for n, v in sel} for sel in self.series]
        return out

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def _fmt(coords: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in coords.items())


# --------------------------------------------------------------------------- YAML input
def parse(data: Any, *, default_name: str = "custom") -> Grid:
    """A grid from parsed YAML/JSON data (a mapping); raises GridError."""
    if not isinstance(data, Mapping):
        raise GridError(
            f"a grid file must hold a mapping at the top level, got {type(data).__name__}"
        )
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise GridError(
            f"unknown key {unknown[0]!r} in grid file; valid keys: {', '.join(_TOP_KEYS)}"
        )
    if "axes" not in data:
        raise GridError("a grid file needs an 'axes' mapping")
    return Grid.build(
        data.get("name", default_name),
        data["axes"],
        data.get("fixed"),
        serves=data.get("serves", ""),
        description=data.get("description", ""),
        profile="custom",
        series=data.get("series"),
    )


def load(path: str | Path) -> Grid:
    """A grid from a YAML file, read with a safe loader; raises GridError."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GridError(f"cannot read grid file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = " ".join(str(exc).split())
        raise GridError(f"malformed YAML in {path}: {msg}") from None
    try:
        return parse(data, default_name=path.stem)
    except GridError as exc:
        raise GridError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------- the paper's grids
K = (1e-3, 1e-2) + tuple(round(0.1 * k, 10) for k in range(1, 11))  # Figs. 4-10, 12 values
N_PAPER = tuple(range(5, 51, 5))
G_PAPER = tuple(round(0.05 * k, 10) for k in range(21))  # step not given by the paper
BOTH = {"model": ["tc", "dicke"], "setup": ["driven", "undriven"], "dissipation": ["collective"]}
TUNED = [(1e-3, 1e-3), (1e-3, 1e-2), (1e-2, 1e-2)]  # {1e-3, 1e-2}^2 with relax <= deph
DEPH = (0.1, 0.2, 0.3, 0.4, 0.5)
RD = "gamma_relax,gamma_deph"


@dataclass(frozen=True)
class _Named:
    serves: str
    description: str
    quick: dict[str, Any]
    paper: dict[str, Any]
    aliases: tuple[str, ...] = ()


def _scaling(pairs: list[tuple[float, float]], n: Iterable[int]) -> dict[str, Any]:
    return {**BOTH, "N": list(n), "g": 0.1, "kappa": 1e-3, RD: [list(p) for p in pairs]}


_N_QUICK = (2, 3, 4, 5, 6)
_INTER = [(1e-2, d) for d in DEPH]
_DOM = [(1e-3, d) for d in DEPH]
_INTER_Q = [(1e-2, d) for d in (0.1, 0.3, 0.5)]
_DOM_Q = [(1e-3, d) for d in (0.1, 0.3, 0.5)]

NAMED: dict[str, _Named] = {
    "quasi_ideal": _Named(
        "Figs. 2-3",
        "E_max and S_q over N x g; kappa = gamma_relax = gamma_deph = 1e-3 "
        "(paper profile: g = 0, 0.05, ..., 1.0, a step the paper does not state)",
        quick={**BOTH, "N": [2, 3, 4, 6], "g": [0.0, 0.25, 0.5, 0.75, 1.0]},
        paper={**BOTH, "N": list(N_PAPER), "g": list(G_PAPER)},
        aliases=("fig2", "fig3"),
    ),
    "cavity_leakage": _Named(
        "Figs. 4-5",
        "E_max and S_q over kappa x N; g = 0.1, gamma_relax = gamma_deph = 1e-3",
        quick={**BOTH, "N": [2, 3, 4, 6], "kappa": [1e-3, 0.1, 0.5, 1.0]},
        paper={**BOTH, "N": list(N_PAPER), "kappa": list(K)},
        aliases=("fig4", "fig5"),
    ),
    "dephasing_relaxation": _Named(
        "Figs. 6-10",
        "E_max, S_c, S_q, tau, P_max over gamma_relax x gamma_deph, per N; g = 0.1, kappa = 1e-3",
        quick={
            **BOTH,
            "N": [2, 4],
            "gamma_relax": [1e-3, 0.1, 0.5, 1.0],
            "gamma_deph": [1e-3, 0.1, 0.5, 1.0],
        },
        paper={**BOTH, "N": list(N_PAPER), "gamma_relax": list(K), "gamma_deph": list(K)},
        aliases=("fig6", "fig7", "fig8", "fig9", "fig10"),
    ),
    "scaling": _Named(
        "Figs. 11-12",
        "all three scaling regimes (union of scaling_tuned, scaling_intermediate "
        "and scaling_dephasing); g = 0.1, kappa = 1e-3",
        quick=_scaling(TUNED + _INTER_Q + _DOM_Q, _N_QUICK),
        paper=_scaling(TUNED + _INTER + _DOM, N_PAPER),
        aliases=("fig11", "fig12"),
    ),
    "scaling_tuned": _Named(
        "Fig. 14",
        "tuned decay: (gamma_relax, gamma_deph) in {1e-3, 1e-2}^2, relax <= deph; "
        "g = 0.1, kappa = 1e-3",
        quick=_scaling(TUNED, _N_QUICK),
        paper=_scaling(TUNED, N_PAPER),
        aliases=("fig14",),
    ),
    "scaling_intermediate": _Named(
        "Fig. 15",
        "intermediate: gamma_relax = 1e-2, gamma_deph in 0.1..0.5; g = 0.1, kappa = 1e-3",
        quick=_scaling(_INTER_Q, _N_QUICK),
        paper=_scaling(_INTER, N_PAPER),
        aliases=("fig15",),
    ),
    "scaling_dephasing": _Named(
        "Fig. 16",
        "dephasing-dominated: gamma_relax = 1e-3, gamma_deph in 0.1..0.5; g = 0.1, kappa = 1e-3",
        quick=_scaling(_DOM_Q, _N_QUICK),
        paper=_scaling(_DOM, N_PAPER),
        aliases=("fig16",),
    ),
    "cutoff": _Named(
        "Table 1",
        "cavity cutoff convergence: nmax in {2, 5, 10, 15, 20, 25}; g = 0.1, rates "
        "1e-3 (paper profile: N in {1, 2, 3, 5, 10}, which the paper does not state)",
        quick={**BOTH, "N": [1, 2, 3], "nmax": [2, 5, 10, 15, 20, 25]},
        paper={**BOTH, "N": [1, 2, 3, 5, 10], "nmax": [2, 5, 10, 15, 20, 25]},
        aliases=("table1",),
    ),
}
ALIASES = {alias: name for name, spec in NAMED.items() for alias in spec.aliases}


def names() -> tuple[str, ...]:
    """Names of the paper's grids."""
    return tuple(NAMED)


def resolve(name: str) -> str:
    """A grid name from a name or an alias (``fig6``, ``table1``); raises GridError."""
    key = name.strip().lower().replace("-", "_").replace(" ", "")
    if key in NAMED:
        return key
    if key in ALIASES:
        return ALIASES[key]
    raise GridError(
        f"unknown grid {name!r}; known grids: {', '.join(NAMED)} (aliases: {', '.join(ALIASES)})"
    )


def get(name: str, profile: str = "quick", **axes: Any) -> Grid:
    """A named grid (or alias) in a profile; keyword arguments replace or add axes, e.g.
    ``get("fig6", profile="quick", dissipation=["collective", "local"])``."""
    key = resolve(name)
    if profile not in PROFILES:
        raise GridError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    spec = NAMED[key]
    grid = Grid.build(
        key,
        getattr(spec, profile),
        serves=spec.serves,
        description=spec.description,
        profile=profile,
    )
    return grid.replace(axes=axes) if axes else grid


def listing() -> list[tuple[str, str, str]]:
    """(name, serves, description) of every named grid."""
    return [(n, s.serves, s.description) for n, s in NAMED.items()]
