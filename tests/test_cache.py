"""The content-addressed cache: keys, atomic writes, corruption, concurrency, location."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import sweep_helpers
import xarray as xr

from qbpaper import cache as cache_mod
from qbpaper import params as params_mod
from qbpaper.cache import Cache, CacheCorruptionWarning, Record, cache_key
from qbpaper.params import Params
from qbpaper.sweep import LOG_ENV, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def _record(key: str = "ab" + "0" * 62) -> Record:
    series = {"t": np.linspace(0, 1, 11), "energy": np.sin(np.linspace(0, 1, 11))}
    return Record(key, {"n": 2}, {"E_max": 0.123456789, "tau": float("nan")}, ("w1",), series,
                  "solver.x", 0.5)  # fmt: skip


def _other_value(name: str):
    """A valid value of Params field ``name`` different from the default."""
    default = getattr(Params(), name)
    if isinstance(default, bool):
        candidates = [not default]
    elif isinstance(default, str):
        options = [v for v in vars(params_mod).values() if isinstance(v, tuple) and default in v]
        candidates = [x for opts in options for x in opts if x != default]
    elif isinstance(default, int):
        candidates = [default + 1, default - 1]
    else:
        candidates = [v for v in (default * 2, default / 2, default + 0.1) if v != default]
    for value in candidates:
        try:
            Params(**{name: value})
        except ValueError:
            continue
        return value
    raise AssertionError(f"no alternative value found for {name}")


def test_key_depends_on_every_parameter_the_model_version_and_the_solver(monkeypatch):
    base = Params()
    key = cache_key(base, "s")
    names = Params.field_names()
    keys = {cache_key(base.replace(**{f: _other_value(f)}), "s") for f in names}
    assert len(keys) == len(names) and key not in keys
    assert cache_key(Params(), "s") == key  # stable
    assert cache_key(base, "other") != key
    monkeypatch.setattr(cache_mod, "MODEL_VERSION", "999")
    assert cache_key(base, "s") != key


def test_put_get_round_trip_is_exact(tmp_path):
    store = Cache(tmp_path)
    rec = _record()
    path = store.put(rec)
    assert path == tmp_path / "ab" / (rec.key + ".qbc") and rec.key in store
    got = store.get(rec.key, {"n": 2})
    assert got.observables["E_max"] == rec.observables["E_max"] and np.isnan(got.observables["tau"])
    assert got.warnings == ("w1",) and got.solver == "solver.x"
    for k, v in rec.series.items():
        np.testing.assert_array_equal(got.series[k], v)
    assert store.get("cd" + "0" * 62) is None
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty", "other_params"])
def test_corrupt_entry_is_detected_reported_and_moved_aside(tmp_path, damage):
    store = Cache(tmp_path)
    rec = _record()
    path = store.put(rec)
    data = path.read_bytes()
    params = {"n": 2}
    if damage == "flip":
        i = len(data) - 100
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
    elif damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a cache entry at all")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        params = {"n": 3}
    with pytest.warns(CacheCorruptionWarning, match=re.escape(str(path))):
        assert store.get(rec.key, params) is None
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()
    store.put(rec)
    assert store.get(rec.key, {"n": 2}) is not None


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    store = Cache(tmp_path)

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_mod.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        store.put(_record())
    monkeypatch.undo()
    assert store.get(_record().key) is None
    assert list(tmp_path.rglob("*")) == [tmp_path / "ab"]


def test_concurrent_writers_never_corrupt_an_entry(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=ctx) as pool:
        done = list(pool.map(sweep_helpers.write_records, [str(tmp_path)] * 3, [1, 2, 3], [60] * 3))
    assert done == [60] * 3
    store = Cache(tmp_path)
    for i in range(4):
        rec = store.get(f"{i:02d}" + "0" * 62, {"i": i})
        assert rec is not None and rec.observables["E_max"] == i
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*.corrupt"))


def test_sweep_recomputes_only_a_corrupt_entry_and_names_it(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    grid = sweep_helpers.tiny_grid()
    fn = sweep_helpers.fake_simulate
    first = run_sweep(grid, 0, cache=tmp_path / "c", simulate=fn, progress=False)
    assert first.computed == grid.size
    victim = grid.points()[5]
    path = Cache(tmp_path / "c").path(cache_key(victim.params, "sweep_helpers.fake_simulate"))
    path.write_bytes(path.read_bytes()[:-10])
    log.unlink()
    with pytest.warns(CacheCorruptionWarning, match=re.escape(str(path))):
        again = run_sweep(grid, 0, cache=tmp_path / "c", simulate=fn, progress=False)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [x["key"] for x in lines] == [path.stem] and again.cached == grid.size - 1
    xr.testing.assert_identical(again.dataset, first.dataset)


def test_cache_location_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv(cache_mod.ENV_VAR, raising=False)
    assert cache_mod.resolve_cache_dir() == ROOT / "data" / "cache"
    monkeypatch.setenv(cache_mod.ENV_VAR, str(tmp_path / "env"))
    assert Cache().root == tmp_path / "env"
    assert Cache(tmp_path / "explicit").root == tmp_path / "explicit"
    run_sweep(sweep_helpers.tiny_grid(N=[1], model="tc", setup="driven"), 0,
              simulate=sweep_helpers.fake_simulate, progress=False)  # fmt: skip
    assert len(list((tmp_path / "env").rglob("*.qbc"))) == 1


def test_default_cache_folder_is_ignored_by_git():
    probe = "data/cache/ab/" + "0" * 64 + ".qbc"
    done = subprocess.run(["git", "check-ignore", "-q", probe], cwd=ROOT, check=False)
    assert done.returncode == 0, "data/cache/ must be git-ignored"


def test_entry_files_hold_no_pickle(tmp_path):
    path = Cache(tmp_path).put(_record())
    body = path.read_bytes()[len(cache_mod.MAGIC) + 32 :]
    import io

    with np.load(io.BytesIO(body), allow_pickle=False) as npz:
        assert sorted(npz.files) == ["meta", "s_energy", "s_t"]
    assert os.path.getsize(path) < 10_000


def test_stale_partial_writes_are_cleaned_fresh_ones_kept(tmp_path):
    store = Cache(tmp_path)
    store.put(_record())
    old, fresh = tmp_path / "ab" / ".abc.1.part", tmp_path / "ab" / ".abc.2.part"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(old, (1, 1))
    assert store.remove_stale_parts() == 1
    assert not old.exists() and fresh.exists()
    assert store.get(_record().key) is not None
