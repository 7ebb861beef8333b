"""qbpaper: executable companion to arXiv:2510.26373 (quantum superabsorption in a lossy cavity).

Units: hbar = 1, frequencies and rates in units of the qubit frequency omega_q = 1.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qbpaper")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
