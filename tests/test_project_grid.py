"""``benchmarks/project_grid.py``: its power-law fit and what it reads from a cache.

Structure and arithmetic only: no assertion on any timing.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import pytest

from qbpaper.cache import Cache, Record, cache_key
from qbpaper.params import Params

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "project_grid.py"


@pytest.fixture(scope="module")
def projector() -> ModuleType:
    spec = importlib.util.spec_from_file_location("qbpaper_project_grid", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fit_recovers_a_power_law(projector):
    log_c, a = projector.fit([(n, 0.02 * n**2.5) for n in (5, 10, 20, 40)])
    assert a == pytest.approx(2.5) and math.exp(log_c) == pytest.approx(0.02)
    assert projector.fit([(10, 1.0), (10, 2.0)]) is None  # one size: no exponent


def test_cached_points_are_grouped_by_model_setup_and_integrator(projector, tmp_path):
    cache = Cache(tmp_path)
    points = [Params(model="dicke", n=n, driven=False, gamma_deph=d) for n in (2, 4) for d in
              (1e-3, 0.5)] + [Params(model="tc", n=3, dissipation="local")]  # fmt: skip
    for i, p in enumerate(points):
        key = cache_key(p, "test")
        cache.put(Record(key, p.to_dict(), {}, solver="test", cpu=1.0 + i))
    groups = projector.measured(tmp_path, [])
    # the local point is left out; undriven Dicke splits by the integrator auto picks
    assert sum(len(v) for v in groups.values()) == 4
    assert set(groups) == {("dicke", "undriven", projector.group_of(p)[2]) for p in points[:4]}
    assert projector.main(["--cache", str(tmp_path), "--sample", "0.001"]) == 0


def test_since_keeps_only_entries_written_from_then_on(projector, tmp_path):
    import os

    cache = Cache(tmp_path)
    old, new = Params(model="tc", n=3), Params(model="tc", n=4)
    for p in (old, new):
        cache.put(Record(cache_key(p, "test"), p.to_dict(), {}, solver="test", cpu=1.0))
    os.utime(cache.path(cache_key(old, "test")), (1.0e9, 1.0e9))  # written in 2001
    assert sum(len(v) for v in projector.measured(tmp_path, []).values()) == 2
    kept = projector.measured(tmp_path, [], since=1.5e9)
    assert [n for v in kept.values() for n, _ in v] == [4]
    assert projector.main(["--cache", str(tmp_path), "--sample", "0.001",
                           "--since", "2020-01-01T00:00"]) == 0  # fmt: skip
