"""qbpaper: executable companion to arXiv:2510.26373 (quantum superabsorption in a lossy cavity).

Units: hbar = 1, frequencies and rates in units of the qubit frequency omega_q = 1.

    from qbpaper import Params, simulate
    traj = simulate(Params(model="tc", n=20, g=0.1, gamma_deph=0.3))
    obs = traj.observables()
"""

from importlib.metadata import PackageNotFoundError, version

from qbpaper.observables import OBSERVABLE_KEYS, Observables
from qbpaper.params import Params
from qbpaper.solve import QbpaperWarning, Trajectory, simulate

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
    "simulate",
]
