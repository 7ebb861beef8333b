"""Speed benchmark: the engine (``qbpaper.simulate``) against plain QuTiP ``mesolve``.

One command::

    .venv/bin/python benchmarks/run.py [--quick] [--out benchmarks/results] [--only TEXT]

Every row (N, model, representation, rates, backend) runs in a fresh subprocess with one BLAS
thread and a timeout, so a slow row cannot hang the run and its peak memory is its own. The
parent collects the rows, compares each engine row with the QuTiP row of the same point (largest
deviation of the scalar observables and of the time series, and the speed ratio) and writes
``benchmark.json`` and ``benchmark.md`` to ``--out``. QuTiP runs at its DEFAULT options (what a
user runs), so the deviation mostly measures QuTiP's own error (rtol 1e-6, atol 1e-8).
"""

from __future__ import annotations

import os

# Single-threaded BLAS/OpenMP/numba in this process and (inherited) in every worker. Must be set
# before numpy is imported; threadpoolctl below also limits libraries already loaded.
for _var in (
    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS", "NUMBA_NUM_THREADS",
):  # fmt: skip
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SERIES = ("energy", "s_qubits", "s_cavity", "photons", "top_fock", "trace")
#: Scalar observables compared between backends (grid values of the paper's observables and the
#: refined peaks; ``tau`` is a grid time, so a one-step shift shows up as 0.1).
COMPARED = (
    "E_max", "tau", "P_max", "S_q_max", "S_c_max", "S_q_final", "S_c_final",
    "E_max_refined", "tau_refined", "P_max_refined", "photons_max",
)  # fmt: skip
RATES = {
    "all 1e-3": {"kappa": 1e-3, "gamma_relax": 1e-3, "gamma_deph": 1e-3},
    "deph 0.5": {"kappa": 1e-3, "gamma_relax": 1e-3, "gamma_deph": 0.5},
}
COMMON = {"g": 0.1}
BACKENDS = ("engine", "qutip")
#: The engine at QuTiP's default tolerances (rtol 1e-6, atol 1e-8) instead of its own (1e-9,
#: 1e-12): a like-for-like speed comparison, with the engine's error still below QuTiP's.
ENGINE_AT_QUTIP_TOL = "engine@qutip-tol"
QUTIP_TOLERANCES = {"rtol": 1e-6, "atol": 1e-8}


# ----------------------------------------------------------------------------- row plans
def _row(n: int, model: str, dissipation: str, rates: str, backend: str,
         setup: str = "driven", **numerics) -> dict:  # fmt: skip
    params = {"n": n, "model": model, "dissipation": dissipation, "driven": setup == "driven",
              **COMMON, **RATES[rates]}  # fmt: skip
    params.update(numerics)
    point = f"N={n} {model} {dissipation} {setup} [{rates}]"
    return {
        "id": f"{point} {backend}",
        "point": point,
        "n": n,
        "model": model,
        "dissipation": dissipation,
        "setup": setup,
        "rates": rates,
        "backend": backend,
        "params": params,
    }


def plan(quick: bool) -> list[dict]:
    """The rows of the benchmark (``quick``: tiny sizes for a smoke test)."""
    if quick:
        small = {"nmax": 6, "t_final": 5.0, "dt": 0.1}
        rows = [_row(3, "tc", "collective", "all 1e-3", b, **small) for b in BACKENDS]
        rows.append(_row(3, "tc", "collective", "all 1e-3", ENGINE_AT_QUTIP_TOL, **small,
                         **QUTIP_TOLERANCES))  # fmt: skip
        rows += [_row(2, "dicke", "local", "deph 0.5", b, **small) for b in BACKENDS]
        rows.append(_row(4, "dicke", "collective", "all 1e-3", "engine", **small))
        rows.append(_row(3, "dicke", "collective", "all 1e-3", "engine", "undriven", **small))
        return rows
    full = {"nmax": 10, "t_final": 50.0, "dt": 0.1}
    points = [("tc", "all 1e-3"), ("dicke", "all 1e-3"), ("tc", "deph 0.5")]
    rows = []
    for dissipation, n in (("collective", 20), ("local", 10)):
        for model, rates in points:
            rows += [_row(n, model, dissipation, rates, b, **full) for b in BACKENDS]
            rows.append(_row(n, model, dissipation, rates, ENGINE_AT_QUTIP_TOL, **full,
                             **QUTIP_TOLERANCES))  # fmt: skip
    # Undriven (cavity |1>, no drive): TC keeps only its exact excitation bound, and the
    # constant generator is propagated by Chebyshev from t = 0.
    for model in ("tc", "dicke"):
        rows += [_row(20, model, "collective", "all 1e-3", b, "undriven", **full) for b in BACKENDS]
    rows += [_row(50, "tc", "collective", rates, "engine", **full) for rates in RATES]
    rows.append(_row(50, "dicke", "collective", "all 1e-3", "engine", **full))
    rows.append(_row(50, "dicke", "collective", "all 1e-3", "engine", "undriven", **full))
    rows.append(_row(50, "tc", "local", "all 1e-3", "engine", "undriven", **full))
    rows.append(_row(50, "tc", "local", "all 1e-3", "engine", **full))
    # Local Dicke has no excitation cap (counter-rotating terms): the costliest local point.
    rows.append(_row(50, "dicke", "local", "all 1e-3", "engine", **full))
    return rows


# ----------------------------------------------------------------------------- worker
def _rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(spec: dict, result_path: Path) -> None:
    """Run one row in this (fresh) process and write its measurements as JSON."""
    import warnings

    from threadpoolctl import threadpool_limits

    from qbpaper import Params, simulate

    if spec["backend"] == "qutip":
        from qbpaper.backend_qutip import simulate_qutip as run
    else:
        run = simulate
    p = Params(**spec["params"])
    out: dict[str, Any] = {"rss_baseline_mib": _rss_mib()}
    with threadpool_limits(limits=1), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        # Warm-up: the same point cut to two output steps, so that one-time costs per process
        # (numba loading or compiling its kernels, QuTiP's first-call set-up) are not charged
        # to the row; a sweep pays them once per worker. Reported as warmup_s.
        start = time.perf_counter()
        try:
            run(p.replace(t_final=min(p.t_final, 2 * p.dt)))
        except ValueError:
            pass  # reported by the timed call below
        out["warmup_s"] = time.perf_counter() - start
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    with threadpool_limits(limits=1), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            traj = run(p)
        except ValueError as exc:  # e.g. size not supported by the QuTiP backend
            out.update(status="unsupported", error=str(exc))
            result_path.write_text(json.dumps(out))
            return
        wall = time.perf_counter() - start
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    out.update(
        status="ok",
        wall_s=wall,
        cpu_s=cpu,
        rhs_evaluations=traj.rhs_evaluations if traj.rhs_evaluations > 0 else None,
        peak_rss_mib=_rss_mib(),
        observables=traj.observables().as_dict(),
        warnings=list(traj.warnings),
        series={k: getattr(traj, k).tolist() for k in ("t", *SERIES)},
    )
    result_path.write_text(json.dumps(out))


# ----------------------------------------------------------------------------- parent
def run_row(spec: dict, timeout: float, workdir: Path) -> dict:
    """Run one row in a subprocess; returns the row record (status ok/timeout/error/...)."""
    fd, name = tempfile.mkstemp(suffix=".json", dir=workdir)
    os.close(fd)
    result_path = Path(name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    cmd += ["--result", str(result_path)]
    keys = ("id", "point", "n", "model", "dissipation", "setup", "rates", "backend")
    record = {k: spec[k] for k in keys}
    record["params"] = spec["params"]
    record["load_before"] = list(os.getloadavg())
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # the child is killed by subprocess.run
        record.update(status="timeout", wall_s=None, timeout_s=timeout)
        return record
    record["process_s"] = time.perf_counter() - start
    if proc.returncode != 0 or not result_path.stat().st_size:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        record.update(status="error", returncode=proc.returncode, error="\n".join(tail))
        return record
    record.update(json.loads(result_path.read_text()))
    return record


def _max_abs(a: list[float], b: list[float]) -> float:
    return max((abs(x - y) for x, y in zip(a, b, strict=True)), default=0.0)


def compare(rows: list[dict]) -> None:
    """Add deviation and speed ratio of every engine row against its QuTiP partner (in place)."""
    qutip_rows = {r["point"]: r for r in rows if r["backend"] == "qutip" and r["status"] == "ok"}
    for r in rows:
        r.setdefault("max_dev_observables", None)
        r.setdefault("max_dev_observable_key", None)
        r.setdefault("max_dev_series", None)
        r.setdefault("speedup_vs_qutip", None)
        ref = qutip_rows.get(r["point"])
        if not r["backend"].startswith("engine") or r["status"] != "ok" or ref is None:
            continue
        devs = {k: abs(r["observables"][k] - ref["observables"][k]) for k in COMPARED}
        key = max(devs, key=devs.get)
        r["max_dev_observables"] = devs[key]
        r["max_dev_observable_key"] = key
        r["max_dev_series"] = max(_max_abs(r["series"][k], ref["series"][k]) for k in SERIES)
        r["speedup_vs_qutip"] = ref["wall_s"] / r["wall_s"] if r["wall_s"] else None


def _git_describe() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _source_hash() -> str:
    """Short SHA-256 of the package sources, to tell apart runs of uncommitted engine states."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "qbpaper").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict:
    import numpy
    import scipy

    try:
        import qutip

        qutip_version = qutip.__version__
    except ImportError:  # pragma: no cover
        qutip_version = None
    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "qutip": qutip_version,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "git": _git_describe(),
        "engine_sha256": _source_hash(),
        "blas_threads": 1,
    }


def _fmt(value: Any, spec: str = ".3g") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def to_markdown(report: dict) -> str:
    """The result table (one row per benchmark row) with the run's context."""
    meta = report["meta"]
    env = meta["environment"]
    lines = [
        "# Benchmark: engine vs QuTiP mesolve" + (" (--quick)" if meta["quick"] else ""),
        "",
        f"- started {meta['started']}, finished {meta['finished']}, "
        f"total {meta['total_s']:.0f} s; git {env['git']}, "
        f"qbpaper sources sha256 {env.get('engine_sha256', 'n/a')}",
        f"- load average (1/5/15 min) at start {_loads(meta['load_start'])}, "
        f"at end {_loads(meta['load_end'])}; {env['cpu_count']} cores ({env['cpu']}); "
        "every row single-threaded in its own subprocess, rows run one after another",
        f"- python {env['python']}, numpy {env['numpy']}, scipy {env['scipy']}, "
        f"qutip {env['qutip']}",
        "- engine: `qbpaper.simulate` (its default rtol 1e-9, atol 1e-12, method auto: DOP853,"
        " Lawson when stiff, Chebyshev once the generator is constant); qutip: "
        "`qbpaper.backend_qutip.simulate_qutip` = `qutip.mesolve` at QuTiP's DEFAULT options "
        "(adams, rtol 1e-6, atol 1e-8), lab frame; local = PIQS Dicke basis; "
        f"{ENGINE_AT_QUTIP_TOL}: the engine at QuTiP's tolerances (rtol 1e-6, atol 1e-8), "
        "like for like",
        "- wall/CPU: the simulate call only (build + integrate + observables), not the imports,"
        " after a warm-up call in the same process (the point cut to t_f = 2 dt; column"
        " warm-up: its wall time, mostly numba loading its compiled kernels for the engine);"
        " peak RSS: whole worker process (+run: growth over the baseline after imports);"
        " RHS evals for QuTiP = drive-coefficient calls / calls per RHS (matches zvode's count)",
        "- deviations: engine row vs the QuTiP row of the same point; max over the scalar "
        "observables (key named) and over the time series; speedup = QuTiP wall / engine wall",
        "",
        "| N | model | repr | setup | rates | backend | status | wall [s] | CPU [s] | RHS evals "
        "| peak RSS [MiB] (+run) | max dev obs (key) | max dev series | speedup | warm-up [s] "
        "| load 1m |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        dev_obs = _fmt(r.get("max_dev_observables"), ".2e")
        if r.get("max_dev_observable_key"):
            dev_obs += f" ({r['max_dev_observable_key']})"
        status = r["status"]
        if status == "timeout":
            status = f"timeout ({r['timeout_s']:.0f} s)"
        speed = r.get("speedup_vs_qutip")
        lines.append(
            "| "
            + " | ".join(
                [
                    str(r["n"]),
                    r["model"],
                    r["dissipation"],
                    r["setup"],
                    r["rates"],
                    r["backend"],
                    status,
                    _fmt(r.get("wall_s"), ".2f"),
                    _fmt(r.get("cpu_s"), ".2f"),
                    _fmt(r.get("rhs_evaluations")),
                    _rss(r),
                    dev_obs,
                    _fmt(r.get("max_dev_series"), ".2e"),
                    "n/a" if speed is None else f"{speed:.2f}x",
                    _fmt(r.get("warmup_s"), ".2f"),
                    f"{r['load_before'][0]:.2f}",
                ]
            )
            + " |"
        )
    problems = [r for r in report["rows"] if r["status"] not in ("ok", "timeout")]
    warned = [r for r in report["rows"] if r.get("warnings")]
    if problems or warned:
        lines += ["", "## Notes", ""]
    for r in problems:
        lines.append(f"- {r['id']}: {r['status']}: {r.get('error', '')}".rstrip())
    for r in warned:
        lines.append(f"- {r['id']}: warnings: {'; '.join(r['warnings'])}")
    return "\n".join(lines) + "\n"


def _rss(row: dict) -> str:
    """Peak RSS and, in parentheses, its growth over the post-import baseline."""
    if row.get("peak_rss_mib") is None:
        return "n/a"
    return f"{row['peak_rss_mib']:.0f} (+{row['peak_rss_mib'] - row['rss_baseline_mib']:.0f})"


def _loads(values: list[float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per row (default 1200, quick 120)"
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run only rows whose id contains TEXT"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker), args.result)
        return 0

    timeout = args.timeout or (120.0 if args.quick else 1200.0)
    rows_plan = plan(args.quick)
    if args.only:
        rows_plan = [r for r in rows_plan if any(text in r["id"] for text in args.only)]
    args.out.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now().astimezone()
    load_start = list(os.getloadavg())
    rows = []
    with tempfile.TemporaryDirectory(prefix="qbpaper-bench-") as tmp:
        for i, spec in enumerate(rows_plan, 1):
            print(f"[{i}/{len(rows_plan)}] {spec['id']} ...", end=" ", flush=True)
            record = run_row(spec, timeout, Path(tmp))
            shown = record.get("wall_s")
            print(record["status"], "" if shown is None else f"{shown:.2f} s", flush=True)
            rows.append(record)
    compare(rows)
    finished = _dt.datetime.now().astimezone()
    for r in rows:
        r.pop("series", None)  # kept out of the result file (size); rerun to get them
    report = {
        "meta": {
            "quick": args.quick,
            "command": " ".join([Path(sys.executable).name, "benchmarks/run.py", *sys.argv[1:]]),
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "total_s": (finished - started).total_seconds(),
            "load_start": load_start,
            "load_end": list(os.getloadavg()),
            "timeout_s": timeout,
            "environment": environment(),
        },
        "rows": rows,
    }
    (args.out / "benchmark.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = to_markdown(report)
    (args.out / "benchmark.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
