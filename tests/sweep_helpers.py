"""Solver stand-ins and tiny grids for the sweep tests (importable by worker processes)."""

from __future__ import annotations

import os
import time

import numpy as np

from qbpaper.grids import Grid
from qbpaper.params import Params
from qbpaper.solve import Trajectory

#: Seconds slow_simulate sleeps before solving (read in the worker).
SLEEP_ENV = "QBPAPER_TEST_SLEEP"
#: Tiny numerics: cheap real solves.
TINY = {"nmax": 2, "t_final": 2.0}


def fake_simulate(p: Params) -> Trajectory:
    """A cheap analytic stand-in with the shape of qbpaper.solve.simulate."""
    t = np.linspace(0.0, p.n_steps * p.dt, p.n_steps + 1)
    w = p.g * np.sqrt(p.n) + 0.1 * (2.0 if p.model == "dicke" else 1.0)
    decay = np.exp(-(p.kappa + p.gamma_relax + p.gamma_deph) * t)
    scale = 1.0 if p.driven else 0.7
    energy = 0.5 * p.n * scale * (1.0 - np.cos(w * t)) * decay
    s = np.log(2.0) * np.sin(0.5 * w * t) ** 2 * decay
    return Trajectory(
        params=p,
        t=t,
        energy=energy,
        s_qubits=s,
        s_cavity=0.5 * s,
        photons=0.1 * energy,
        top_fock=np.full_like(t, 1e-7 * p.nmax),
        trace=np.ones_like(t),
        warnings=[f"fake warning for N={p.n}"] if p.n == 1 else [],
    )


def slow_simulate(p: Params) -> Trajectory:
    """The real solver after an optional sleep ($QBPAPER_TEST_SLEEP seconds)."""
    from qbpaper.solve import simulate

    time.sleep(float(os.environ.get(SLEEP_ENV, "0") or 0))
    return simulate(p)


def flaky_simulate(p: Params) -> Trajectory:
    """g = 0.2 raises; otherwise fake_simulate with photons = the worker's OPENBLAS_NUM_THREADS
    (to check that workers run one BLAS thread)."""
    if p.g == 0.2:
        raise RuntimeError("solver exploded at g=0.2")
    traj = fake_simulate(p)
    traj.photons = np.full_like(traj.t, float(_startup_env().get("OPENBLAS_NUM_THREADS", "-1")))
    return traj


def _startup_env() -> dict[str, str]:
    """The environment this process started with (what BLAS saw at import), on Linux."""
    try:
        raw = open("/proc/self/environ", "rb").read()
    except OSError:
        return dict(os.environ)
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, _, v in pairs}


def tiny_grid(name: str = "tiny", **axes: object) -> Grid:
    """Both models and setups, N in {1, 2}, tiny numerics (8 points)."""
    spec: dict[str, object] = {
        "model": ["tc", "dicke"],
        "setup": ["driven", "undriven"],
        "N": [1, 2],
        "nmax": TINY["nmax"],
    }
    spec.update(axes)
    return Grid.build(name, spec, {"t_final": TINY["t_final"]})


def resume_grid() -> Grid:
    """24 tiny points for the kill-and-resume test."""
    return tiny_grid("resume", g=[0.1, 0.2, 0.3])


def write_records(root: str, seed: int, rounds: int) -> int:
    """Write the same few records many times (concurrent-writer test); returns writes done."""
    from qbpaper.cache import Cache, Record

    cache = Cache(root)
    rng = np.random.default_rng(seed)
    for i in range(rounds):
        key = f"{i % 4:02d}" + "0" * 62
        series = {"t": np.arange(2000.0), "energy": np.full(2000, float(i % 4))}
        rec = Record(key, {"i": i % 4}, {"E_max": float(i % 4)}, (), series, "test", 0.0)
        cache.put(rec)
        time.sleep(float(rng.uniform(0, 0.002)))
    return rounds
