"""Projected cost of the whole paper grid (issue 3), from measured per-point costs.

Reads the CPU seconds of every point in the sweep cache (recorded by ``qbpaper sweep`` for each
solve) and of the engine rows of benchmark result files (``--benchmark``), groups the points by
(model, setup, integrator that ``method="auto"`` picks), fits
``cost = c N^a`` per group by least squares in log-log, and sums the fit over every point of
the paper-profile grids (collective representation). Groups with measurements at fewer than two
sizes borrow the median exponent of the others. Which integrator a point gets takes an
eigenvalue computation (0.45 s at N = 50), so the sums run over a seeded random sample of each
grid (``--sample``, default 10 %) scaled to the grid's size. This is a projection, not a
measurement: it says which groups dominate, not the minute.

    .venv/bin/python benchmarks/project_grid.py [--cache DIR] [--workers 2] [--sample 0.1] \
        [--benchmark benchmarks/results/benchmark.json ...] [--since 2026-12-02T16:20]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qbpaper import grids  # noqa: E402
from qbpaper.cache import decode, resolve_cache_dir  # noqa: E402
from qbpaper.model import build_generator  # noqa: E402
from qbpaper.params import Params  # noqa: E402
from qbpaper.solve import choose_method  # noqa: E402

PAPER_GRIDS = ("quasi_ideal", "cavity_leakage", "dephasing_relaxation", "scaling", "cutoff")


def group_of(p: Params) -> tuple[str, str, str]:
    """(model, setup, integrator) of a point; undriven TC has its own, bounded, cost."""
    method = p.method if p.method != "auto" else choose_method(build_generator(p))
    return (p.model, p.setup, method)


def measured(
    cache_dir: Path, benchmarks: list[Path], since: float | None = None
) -> dict[tuple[str, str, str], list[tuple[int, float]]]:
    """(N, CPU seconds) of every cached collective point and benchmark engine row, by group;
    with ``since`` (a POSIX time), only the cache files written from then on."""
    found: list[tuple[Params, float]] = []
    for path in cache_dir.glob("*/*.qbc"):
        if since is not None and path.stat().st_mtime < since:
            continue
        record = decode(path.read_bytes(), path.stem)
        found.append((Params(**record.params), record.cpu))
    for path in benchmarks:
        for row in json.loads(path.read_text())["rows"]:
            if row["backend"] == "engine" and row.get("status") == "ok":
                found.append((Params(**row["params"]), float(row["cpu_s"])))
    by_group: dict[tuple[str, str, str], list[tuple[int, float]]] = defaultdict(list)
    for p, cpu in found:
        if p.dissipation == "collective" and cpu > 0:
            by_group[group_of(p)].append((p.n, cpu))
    return by_group


def fit(samples: list[tuple[int, float]]) -> tuple[float, float] | None:
    """(log c, a) of cost = c N^a, or None with fewer than two sizes."""
    n = np.array([s[0] for s in samples], dtype=float)
    if np.unique(n).size < 2:
        return None
    a, log_c = np.polyfit(np.log(n), np.log([s[1] for s in samples]), 1)
    return float(log_c), float(a)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=float, default=0.1, help="fraction of each grid")
    parser.add_argument("--benchmark", type=Path, action="append", default=[],
                        help="a benchmark.json; its engine rows count as measurements")  # fmt: skip
    parser.add_argument("--since", default=None,
                        help="only cache entries written from this ISO time on (UTC "
                             "if no zone), e.g. to project the solver after a change")  # fmt: skip
    args = parser.parse_args(argv)
    since = None
    if args.since is not None:
        when = datetime.datetime.fromisoformat(args.since)
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        since = when.timestamp()
    samples = measured(resolve_cache_dir(args.cache), args.benchmark, since)
    if not samples:
        print("no cached collective points: run some sweeps first")
        return 1
    fits = {g: fit(s) for g, s in samples.items()}
    exponents = [f[1] for f in fits.values() if f is not None]
    default_a = float(np.median(exponents)) if exponents else 3.0
    print("group (model, setup, integrator): samples, N range, fitted cost = c N^a")
    for g, s in sorted(samples.items()):
        ns = sorted({n for n, _ in s})
        f = fits[g]
        shown = f"c = {math.exp(f[0]):.3g} s, a = {f[1]:.2f}" if f else "one size"
        print(f"  {g}: {len(s)}, N {ns[0]}..{ns[-1]}, {shown}")

    def cost(p: Params) -> float | None:
        g = group_of(p)
        if g not in samples:
            return None
        f = fits[g]
        if f is None:  # one size measured: its mean, scaled with the median exponent
            n0, c0 = samples[g][0][0], float(np.mean([c for _, c in samples[g]]))
            return c0 * (p.n / n0) ** default_a
        return math.exp(f[0]) * p.n ** f[1]

    total = 0.0
    unknown: dict[tuple[str, str, str], float] = defaultdict(float)
    by_group: dict[tuple[str, str, str], float] = defaultdict(float)
    rng = np.random.default_rng(0)
    for name in PAPER_GRIDS:
        points = grids.get(name, profile="paper").points()
        size = max(1, round(args.sample * len(points)))
        sample = [points[i] for i in rng.choice(len(points), size=size, replace=False)]
        scale = len(points) / size
        grid_total = 0.0
        for point in sample:
            c = cost(point.params)
            if c is None:
                unknown[group_of(point.params)] += scale
            else:
                grid_total += c * scale
                by_group[group_of(point.params)] += c * scale
        total += grid_total
        print(f"{name}: {len(points)} points ({size} sampled), {grid_total / 3600:.1f} core-hours")
    print(f"total: {total / 3600:.1f} core-hours = {total / 3600 / args.workers:.1f} h "
          f"on {args.workers} workers (projected)")  # fmt: skip
    for g, seconds in sorted(by_group.items(), key=lambda item: -item[1]):
        print(f"  {g}: {seconds / 3600:.1f} core-hours")
    for g, count in unknown.items():
        print(f"  not projected (no measurement of this group): {g}: ~{count:.0f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
