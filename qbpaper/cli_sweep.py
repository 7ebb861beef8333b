"""``qbpaper sweep``: run a named grid (or a YAML grid file) and write its Dataset.

    qbpaper sweep --list
    qbpaper sweep fig6 --profile quick --workers 2 --out fig6.nc
    qbpaper sweep --grid my_grid.yaml --scheduler tcp://10.0.0.1:8786 --cache /scratch/qbcache
    qbpaper sweep cutoff --set dissipation=collective,local --dry-run
    qbpaper sweep scaling --profile paper --cached-only --out scaling.nc
    qbpaper export scaling cutoff          # cached points -> data/paper/<grid>.nc (committed)

Exit status: 0 done; 1 some points failed (the Dataset is still written); 2 bad input (one line
on stderr, nothing computed); 130 interrupted (Ctrl-C: finished points stay cached).
"""

from __future__ import annotations

import argparse
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

from qbpaper.cli_paths import check_folder

_USAGE = "qbpaper sweep: error: "


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    sw = subparsers.add_parser(
        "sweep",
        help="run a parameter grid (cached) and write an xarray Dataset",
        description="Run a named grid of the paper or a YAML grid file; results are cached, so "
        "a re-run computes only the missing points.",
    )
    sw.add_argument("name", nargs="?", help="grid name or alias (see --list)")
    sw.add_argument("--list", action="store_true", help="list the named grids and exit")
    sw.add_argument("--grid", metavar="FILE.yaml", help="run the grid defined in a YAML file")
    sw.add_argument("--profile", help="quick (default) or paper: the size of a named grid "
                    "(a grid file sets its own points; refused with --grid)")  # fmt: skip
    sw.add_argument("--workers", metavar="K", help="local worker processes (0: in this process; "
                    "default: every CPU this process may use)")  # fmt: skip
    sw.add_argument("--scheduler", metavar="ADDR", help="run on this Dask distributed scheduler")
    sw.add_argument("--cache", metavar="DIR", help="cache folder (default: $QBPAPER_CACHE, "
                    "else data/cache/ in the project)")  # fmt: skip
    sw.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    sw.add_argument("--out", metavar="FILE.nc", help="write the Dataset here (netCDF)")
    sw.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=V[,V]",
                    help="set an axis or a fixed parameter, e.g. dissipation=collective,local "
                    "or t_final=20 (repeatable)")  # fmt: skip
    sw.add_argument("--series", metavar="all", help="keep the time series of all points ('all')")
    sw.add_argument("--dry-run", action="store_true", help="show the grid size and cache hits")
    sw.add_argument("--quiet", action="store_true", help="no progress output")
    sw.add_argument("--cached-only", action="store_true",
                    help="compute nothing: cached/committed points, NaN for others")  # fmt: skip
    sw.add_argument("--no-committed", action="store_true",
                    help="ignore the committed datasets (data/paper/, $QBPAPER_DATA)")  # fmt: skip
    sw.set_defaults(func=run)

    ex = subparsers.add_parser(
        "export",
        help="write computed points of named grids to data/paper/<grid>.nc (for committing)",
        description="Write the points of named grids found in the cache (or already committed) "
        "to netCDF files with provenance attributes; computes nothing.",
    )
    ex.add_argument("names", nargs="+", help="grid names or aliases")
    ex.add_argument("--profile", default="paper", help="paper (default) or quick")
    ex.add_argument("--dissipation", default="collective", help="collective (default) or local")
    ex.add_argument("--cache", metavar="DIR", help="cache folder to read")
    ex.add_argument("--data", metavar="DIR",
                    help="committed-data folder, read and written: the points already "
                    "committed are taken from DIR's files (not from $QBPAPER_DATA) besides the "
                    "cache, and DIR/<grid>.nc is written (default: $QBPAPER_DATA, else "
                    "data/paper/)")  # fmt: skip
    ex.add_argument("--replace", action="store_true",
                    help="overwrite committed points whose cached values differ (refused "
                    "otherwise)")  # fmt: skip
    ex.set_defaults(func=run_export)


def _fail(message: str) -> int:
    print(_USAGE + " ".join(str(message).split()), file=sys.stderr)
    return 2


_WORDS = {"true": True, "false": False, "null": None, "none": None, "~": None}


def _scalar(text: str) -> Any:
    """One ``--set`` value: a decimal integer, a float (1e-3, 0.5), true/false, null/none, else
    the text (quotes stripped). Written by hand rather than read as YAML: PyYAML follows YAML
    1.1, which reads 010 as octal 8 and 1:30 as 90, and 1e-3 as a string."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    digits = text.lstrip("+-")
    if digits.isdigit() and digits.isascii():
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _parse_overrides(items: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``NAME=V1,V2`` items -> (axes, fixed); values typed by :func:`_scalar`."""
    from qbpaper.grids import DIMS, GridError

    axes: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise GridError(f"--set expects NAME=VALUE[,VALUE...], got {item!r}")
        values = [_scalar(v) for v in text.split(",")]
        if name in axes or name in fixed:
            raise GridError(f"--set {name} given twice; give all its values in one --set")
        if name in DIMS or len(values) > 1:
            axes[name] = values
        else:
            fixed[name] = values[0]
    return axes, fixed


def _list() -> int:
    from qbpaper.grids import NAMED, get

    for name, spec in NAMED.items():
        counts = "/".join(str(get(name, p).size) for p in ("quick", "paper"))
        aliases = ", ".join(spec.aliases)
        print(f"{name:<21} {spec.serves:<12} points quick/paper {counts:<10} aliases: {aliases}")
    return 0


def _workers(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--workers must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise ValueError(f"--workers must be >= 0, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from qbpaper import grids
    from qbpaper.sweep import SweepError, plan_sweep, run_sweep, save_dataset, sweeps_compute

    if args.list:
        return _list()
    try:
        if args.name and args.grid:
            raise ValueError("give a grid NAME or --grid FILE.yaml, not both")
        if not args.name and not args.grid:
            raise ValueError("give a grid NAME, --grid FILE.yaml or --list")
        profile = _profile(args.profile, args.grid)
        workers = _workers(args.workers)
        if args.scheduler and args.workers is not None:
            raise ValueError("--workers applies to the local pool; the cluster sets its own")
        if args.no_cache and args.cache:
            raise ValueError("--cache and --no-cache exclude each other")
        grid = grids.load(args.grid) if args.grid else grids.get(args.name, profile)
        axes, fixed = _parse_overrides(args.overrides)
        if axes or fixed:
            grid = grid.replace(axes=axes, fixed=fixed)
        if args.series is not None:
            if args.series != "all":
                raise ValueError("--series takes 'all' (use a grid file for selectors)")
            grid = grid.replace(series="all")
        out = _check_out(args.out) if args.out and not args.dry_run else None
        if not args.no_cache:
            _check_cache(args.cache)
    except ValueError as exc:  # GridError is a ValueError
        return _fail(exc)

    cache: Any = False if args.no_cache else (args.cache or None)
    committed = False if args.no_committed else None
    compute = not args.cached_only and sweeps_compute()  # QBPAPER_COMPUTE=0 also turns it off
    if args.dry_run:
        found = plan_sweep(grid, cache=cache, committed=committed, compute=compute)
        dims = ", ".join(f"{d}={n}" for d, n in zip(grid.dims, grid.shape, strict=True))
        rest = (
            f"{len(found.missing)} to compute"
            if compute
            else f"{len(found.missing)} missing (not computed: --cached-only or QBPAPER_COMPUTE=0)"
        )
        print(
            f"grid {grid.name} ({grid.profile}): {grid.size} points over {dims}; "
            f"{found.cached} cached, {found.committed} committed, {rest}"
            + ("; --out is not written in a dry run" if args.out else "")
        )
        return 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=_point_warning())  # summarised below
            result = run_sweep(
                grid,
                workers,
                scheduler=args.scheduler,
                cache=cache,
                progress=not args.quiet,
                committed=committed,
                compute=compute,
            )
    except SweepError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        # One Ctrl-C is enough: a second one (or a group-wide SIGINT arriving twice) must not
        # turn the clean exit into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        kept = (
            "--no-cache: finished points are not kept"
            if cache is False
            else "finished points are cached"
        )
        print(f"qbpaper sweep: interrupted; {kept}", file=sys.stderr)
        return 130
    ds = result.dataset
    if out is not None:
        try:
            path = save_dataset(ds, out)
        except OSError as exc:  # checked before the sweep; the folder changed since
            print(f"qbpaper sweep: error: cannot write {args.out!r}: {exc.strerror or exc} "
                  "(the computed points are cached)", file=sys.stderr)  # fmt: skip
            return 1
        print(f"wrote {path}")
    else:
        sizes = ", ".join(f"{d}={n}" for d, n in ds.sizes.items())
        print(
            f"grid {grid.name} ({grid.profile}): Dataset over {sizes} "
            "(use --out FILE.nc to save it)"
        )
    for failure in result.failures:
        where = ", ".join(f"{k}={v}" for k, v in failure.coords.items())
        print(f"qbpaper sweep: point failed ({where}): {failure.error}", file=sys.stderr)
    return 1 if result.failures else 0


def _profile(profile: str | None, grid_file: str | None) -> str:
    """The profile of a named grid ("quick" if not given); refused with a grid file, whose
    points it would not change."""
    from qbpaper.grids import PROFILES

    if grid_file and profile is not None:
        raise ValueError("--profile sizes a named grid; a grid file (--grid) sets its own "
                         "points, so drop --profile")  # fmt: skip
    profile = "quick" if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: quick, paper")
    return profile


def _check_out(path: str) -> Path:
    """Refuse an --out the Dataset could not be written to, before anything is computed;
    returns it with ``~`` expanded. Its folder is created only when the Dataset is written."""
    out = Path(path).expanduser()
    if out.suffix != ".nc":
        raise ValueError(f"--out must name a .nc file, got {path!r}")
    if out.is_dir():
        raise ValueError(f"--out {path!r} is a folder; name a .nc file")
    check_folder(out.parent, "--out")
    return out


def _check_cache(path: str | None) -> None:
    """Refuse a cache folder that cannot hold entries (e.g. a file), before anything runs."""
    from qbpaper.cache import resolve_cache_dir

    check_folder(resolve_cache_dir(path), "--cache")


def _point_warning() -> type[Warning]:
    from qbpaper.sweep import SweepPointWarning

    return SweepPointWarning


def run_export(args: argparse.Namespace) -> int:
    from qbpaper import grids
    from qbpaper.params import DISSIPATIONS
    from qbpaper.publish import ExportError, export

    def fail(message: object) -> int:
        print("qbpaper export: error: " + " ".join(str(message).split()), file=sys.stderr)
        return 2

    try:
        profile = _profile(args.profile, None)  # export's own default: paper
        if args.dissipation not in DISSIPATIONS:
            raise ValueError(f"unknown dissipation {args.dissipation!r}; valid: collective, local")
        names = list(dict.fromkeys(grids.resolve(n) for n in args.names))  # fig6 fig7: once
        _check_cache(args.cache)
        done = export(names, profile=profile, cache=args.cache, root=args.data,
                      dissipation=args.dissipation, replace=args.replace)  # fmt: skip
    except (ValueError, ExportError) as exc:
        return fail(exc)
    for item in done:
        print(f"wrote {item.path}: {item.present} of {item.total} points")
    return 0
