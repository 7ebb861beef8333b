"""qbpaper: executable companion to arXiv:2510.26373 (quantum superabsorption in a lossy cavity).

Units: hbar = 1, frequencies and rates in units of the qubit frequency omega_q = 1.

    from qbpaper import Params, simulate, sweep, grids
    traj = simulate(Params(model="tc", n=20, g=0.1, gamma_deph=0.3))
    obs = traj.observables()
    ds = sweep(grids.get("fig6", profile="quick"), workers=2)

Note: ``qbpaper.sweep`` is the function; the module is reachable as ``qbpaper.sweep`` in
``from qbpaper.sweep import run_sweep`` imports.
"""

from importlib.metadata import PackageNotFoundError, version

from qbpaper import grids
from qbpaper.observables import OBSERVABLE_KEYS, Observables
from qbpaper.params import Params
from qbpaper.solve import QbpaperWarning, Trajectory, simulate
from qbpaper.sweep import run_sweep, sweep

try:
    __version__ = version("qbpaper")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "OBSERVABLE_KEYS",
    "Observables",
    "Params",
    "QbpaperWarning",
    "Trajectory",
    "__version__",
    "grids",
    "run_sweep",
    "simulate",
    "sweep",
]
