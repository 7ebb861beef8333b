"""The engine against an independent brute-force Lindblad simulation on the 2^N x cavity space.

For N <= 4, every observable of both models x both setups x both representations agrees to 1e-6
at random parameter points (seeded), including the degeneracy-corrected local qubit entropy and
the total-energy option.
"""

import itertools

import numpy as np
import pytest
from reference_bruteforce import bruteforce_trajectory

from qbpaper import Params, simulate
from qbpaper.observables import OBSERVABLE_KEYS, compute_observables
from qbpaper.solve import Trajectory

TOLERANCE = 1e-6
SERIES = ("energy", "s_qubits", "s_cavity", "photons", "top_fock")
CASES = list(itertools.product(("tc", "dicke"), (True, False), ("collective", "local")))


def _random_params(rng: np.random.Generator, model: str, driven: bool, dissipation: str, n: int):
    return Params(
        model=model,
        driven=driven,
        dissipation=dissipation,
        n=n,
        nmax=int(rng.integers(3, 6)) if n <= 3 else 4,
        g=float(rng.uniform(0.05, 0.8)),
        kappa=float(rng.choice([0.0, rng.uniform(0, 0.3)])),
        gamma_relax=float(rng.uniform(0, 0.3)),
        gamma_deph=float(rng.uniform(0, 0.4)),
        detuning=float(rng.choice([0.0, rng.uniform(-0.2, 0.2)])),
        eta0=float(rng.uniform(0.3, 1.2)),
        n0=int(rng.integers(1, 3)),  # undriven from the vacuum would be trivially still
        energy=str(rng.choice(["qubit", "total"])),
        **_drive_reading(rng),
        t_final=10.0,
        dt=0.1,
        method=str(rng.choice(["dop853", "lawson", "auto"])),  # every path meets the reference
    )


def _drive_reading(rng: np.random.Generator) -> dict:
    """The default lab-frame envelope, the lab carrier, or the rotating-frame drive."""
    choice = rng.choice(["lab", "carrier", "rotating"], p=[0.4, 0.3, 0.3])
    return {"drive_carrier": bool(choice == "carrier"),
            "drive_frame": "rotating" if choice == "rotating" else "lab"}  # fmt: skip


def _reference_observables(p: Params, ref: dict) -> dict:
    traj = Trajectory(
        params=p,
        t=ref["t"],
        energy=ref["energy"],
        s_qubits=ref["s_qubits"],
        s_cavity=ref["s_cavity"],
        photons=ref["photons"],
        top_fock=ref["top_fock"],
        trace=ref["trace"],
    )
    return compute_observables(traj).as_dict()


@pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")  # small nmax is deliberate here
@pytest.mark.parametrize(("model", "driven", "dissipation"), CASES)
def test_agrees_with_bruteforce(model, driven, dissipation, record_property):
    seed = CASES.index((model, driven, dissipation))
    rng = np.random.default_rng(1000 + seed)
    worst = 0.0
    for n in (1, 2, 3, 4) if dissipation == "local" else (2, 4):
        p = _random_params(rng, model, driven, dissipation, n)
        ours = simulate(p)
        ref = bruteforce_trajectory(p)
        assert np.ptp(ref["energy"]) > 1e-3 and np.max(ref["s_qubits"]) > 1e-3  # not vacuous
        for name in SERIES:
            dev = float(np.max(np.abs(getattr(ours, name) - ref[name])))
            worst = max(worst, dev)
            assert dev < TOLERANCE, (name, p)
        mine = ours.observables().as_dict()
        theirs = _reference_observables(p, ref)
        for key in OBSERVABLE_KEYS:
            if key in ("trace_drift_max",):
                continue
            dev = abs(mine[key] - theirs[key])
            worst = max(worst, dev)
            assert dev < TOLERANCE, (key, mine[key], theirs[key], p)
    record_property("max_deviation", worst)
    print(f"max deviation {model} {driven} {dissipation}: {worst:.2e}")


@pytest.mark.filterwarnings("ignore::qbpaper.QbpaperWarning")
@pytest.mark.parametrize(("model", "dissipation"), [("tc", "local"), ("dicke", "collective")])
@pytest.mark.parametrize("energy", ["qubit", "total"])
def test_rotating_frame_drive_agrees_with_bruteforce(model, dissipation, energy):
    """drive_frame='rotating' (a resonant drive in the lab) against the lab-frame reference."""
    p = Params(model=model, dissipation=dissipation, n=2, nmax=5, g=0.3, kappa=0.05,
               gamma_relax=0.02, gamma_deph=0.03, eta0=0.4, t0=3.0, sigma=1.0,
               drive_frame="rotating", energy=energy, t_final=8.0)  # fmt: skip
    ours = simulate(p)
    ref = bruteforce_trajectory(p)
    lab = simulate(p.replace(drive_frame="lab"))
    # Not vacuous: the two drive readings give clearly different dynamics.
    assert np.max(np.abs(ref["photons"] - lab.photons)) > 0.05
    for name in SERIES:
        assert np.max(np.abs(getattr(ours, name) - ref[name])) < TOLERANCE, name
