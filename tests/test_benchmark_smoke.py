"""Smoke test of ``benchmarks/run.py``: ``--quick`` end to end, and the timeout/unsupported rows.

Structure only: no assertion on any timing.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "run.py"
ROW_KEYS = {
    "id", "point", "n", "model", "dissipation", "setup", "rates", "backend", "params", "status",
    "load_before", "wall_s", "cpu_s", "rhs_evaluations", "peak_rss_mib", "rss_baseline_mib",
    "observables", "warnings", "max_dev_observables", "max_dev_observable_key",
    "max_dev_series", "speedup_vs_qutip", "warmup_s",
}  # fmt: skip


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("qbpaper_benchmark_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_quick_json_structure(quick_run: Path) -> None:
    report = json.loads((quick_run / "benchmark.json").read_text())
    meta = report["meta"]
    assert meta["quick"] is True
    assert len(meta["load_start"]) == 3 and len(meta["load_end"]) == 3
    assert {"python", "numpy", "scipy", "qutip", "git", "cpu_count"} <= set(meta["environment"])
    rows = report["rows"]
    runner = _load_runner()
    assert [r["id"] for r in rows] == [r["id"] for r in runner.plan(quick=True)]
    assert {r["backend"] for r in rows} == {"engine", "qutip", "engine@qutip-tol"}
    assert {r["dissipation"] for r in rows} == {"collective", "local"}
    for r in rows:
        assert ROW_KEYS <= set(r), ROW_KEYS - set(r)
        assert r["status"] == "ok", r
        assert "series" not in r  # time series stay out of the result file
        assert r["peak_rss_mib"] >= r["rss_baseline_mib"] > 0
        assert r["rhs_evaluations"] > 0  # QuTiP's (counted via the drive) rows are driven
    paired = [r for r in rows if r["backend"] == "engine" and r["speedup_vs_qutip"] is not None]
    assert len(paired) == 2  # the engine-only rows have no partner
    for r in paired:
        assert r["max_dev_observable_key"] in runner.COMPARED
        # QuTiP runs at its default tolerances: agreement to its own accuracy, not better.
        assert 0 <= r["max_dev_observables"] < 1e-3
        assert 0 <= r["max_dev_series"] < 1e-3
    loose = [r for r in rows if r["backend"] == "engine@qutip-tol"]
    assert len(loose) == 1 and loose[0]["speedup_vs_qutip"] is not None
    assert loose[0]["params"]["rtol"] == 1e-6 and loose[0]["max_dev_observables"] < 1e-3


def test_quick_markdown_table(quick_run: Path) -> None:
    text = (quick_run / "benchmark.md").read_text()
    assert text.startswith("# Benchmark: engine vs QuTiP mesolve (--quick)")
    assert "load average" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| N | model | repr | setup | rates | backend | status | wall [s]")
    n_rows = len(json.loads((quick_run / "benchmark.json").read_text())["rows"])
    assert len(table) == 1 + n_rows


def test_timeout_is_recorded(tmp_path: Path) -> None:
    runner = _load_runner()
    spec = runner._row(50, "tc", "local", "all 1e-3", "engine", nmax=10, t_final=50.0)
    record = runner.run_row(spec, timeout=1.0, workdir=tmp_path)
    assert record["status"] == "timeout" and record["timeout_s"] == 1.0
    runner.compare([record])
    assert "timeout (1 s)" in runner.to_markdown(_report([record]))


def test_unsupported_size_is_recorded(tmp_path: Path) -> None:
    runner = _load_runner()
    spec = runner._row(50, "tc", "local", "all 1e-3", "qutip", nmax=10)
    runner.worker(spec, tmp_path / "row.json")  # in-process: check_supported fails at once
    out = json.loads((tmp_path / "row.json").read_text())
    assert out["status"] == "unsupported" and "QuTiP backend" in out["error"]


def _report(rows: list[dict]) -> dict:
    """A minimal report around ``rows`` for :func:`to_markdown`."""
    env = dict.fromkeys(("git", "cpu", "python", "numpy", "scipy", "qutip"), "x")
    meta = {"quick": False, "started": "s", "finished": "f", "total_s": 1.0}
    meta.update(load_start=[0.0] * 3, load_end=[0.0] * 3, environment={**env, "cpu_count": 1})
    return {"meta": meta, "rows": rows}
