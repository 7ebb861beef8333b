"""Scalar observables of a trajectory: the definitions of CONVENTIONS.md in one place.

* ``E_max = max_t E(t)`` on the output grid t = 0, dt, ..., t_final.
* ``tau``: the first grid time at which E(t) >= E_max - 1e-6 * max(1, E_max) (Eq. 9; the
  tolerance makes later peaks of lossless runs, which tie with the first to ~1e-7, not win).
* ``P_max = E_max / tau`` (Eq. 10); defined as 0 when tau = 0, i.e. when no energy beyond the
  tie tolerance was stored (for instance g = 0).
* ``S_q_max``, ``S_c_max``: maxima over the grid (Eq. 15); ``S_q_final``, ``S_c_final``: values
  at t_final (Eq. 16). Natural log.
* ``*_refined``: the peak located between grid points by the parabola through the three samples
  around the grid peak (the first-reaching one for E); if the peak is on the grid edge or the
  parabola is not concave the grid value is kept. ``P_max_refined = E_max_refined / tau_refined``.
  The parabola is only as good as the grid's resolution of the peak: it rises above the grid
  peak by at most 1/8 of the drop to the lower neighbour, and where the dynamics are fast on
  the scale of dt that can overshoot a bound, e.g. ``S_q_max_refined`` 0.726 > ln 2 for the
  undriven collective Tavis-Cummings battery at N = 50, g = 0.95, dt = 0.1 (paper-profile
  ``quasi_ideal``; ``S_q_max`` there stays <= ln 2). The fits use refined values only at the
  scaling grids' g = 0.1, where the exchange is slow.
* Diagnostics: ``photons_max`` (max <a^dag a>), ``top_fock_max`` (max population of Fock level
  nmax), ``trace_drift_max`` (max |Tr rho - 1|).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from qbpaper.solve import Trajectory

#: Names of the scalar observables, in the order sweeps store them.
OBSERVABLE_KEYS = (
    "E_max", "tau", "P_max", "S_q_max", "S_c_max", "S_q_final", "S_c_final",
    "E_max_refined", "tau_refined", "P_max_refined", "S_q_max_refined", "S_c_max_refined",
    "photons_max", "top_fock_max", "trace_drift_max",
)  # fmt: skip

#: Keys printed by ``qbpaper simulate --json`` as the grid values of the paper's observables.
PAPER_KEYS = ("E_max", "tau", "P_max", "S_q_max", "S_c_max", "S_q_final", "S_c_final")


@dataclass(frozen=True)
class Observables:
    """The scalar observables of one run (see module docstring for definitions)."""

    E_max: float
    tau: float
    P_max: float
    S_q_max: float
    S_c_max: float
    S_q_final: float
    S_c_final: float
    E_max_refined: float
    tau_refined: float
    P_max_refined: float
    S_q_max_refined: float
    S_c_max_refined: float
    photons_max: float
    top_fock_max: float
    trace_drift_max: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def first_peak_index(values: np.ndarray) -> int:
    """Index of the first sample within 1e-6 * max(1, max) of the maximum."""
    peak = float(np.max(values))
    tolerance = 1e-6 * max(1.0, abs(peak))
    return int(np.argmax(values >= peak - tolerance))


def refine_peak(t: np.ndarray, values: np.ndarray, index: int) -> tuple[float, float]:
    """(t_peak, value_peak) of the parabola through samples index-1, index, index+1.

    Falls back to the grid sample when the index is on the edge, the parabola is not concave,
    or its vertex leaves [t[index-1], t[index+1]].
    """
    grid = (float(t[index]), float(values[index]))
    if index <= 0 or index >= len(values) - 1:
        return grid
    t0, t1, t2 = t[index - 1 : index + 2]
    y0, y1, y2 = values[index - 1 : index + 2]
    h = t1 - t0
    curvature = (y0 - 2 * y1 + y2) / h**2  # second difference (uniform grid)
    if not curvature < 0:
        return grid
    slope = (y2 - y0) / (2 * h)
    shift = -slope / curvature
    if abs(shift) > h:
        return grid
    return float(t1 + shift), float(y1 + 0.5 * slope * shift)


def _power(energy: float, tau: float) -> float:
    return energy / tau if tau > 0 else 0.0


def compute_observables(traj: Trajectory) -> Observables:
    """All scalar observables of a trajectory."""
    t, e = traj.t, traj.energy
    i_tau = first_peak_index(e)
    e_max = float(np.max(e))
    tau = float(t[i_tau])
    tau_ref, e_ref = refine_peak(t, e, i_tau) if tau > 0 else (tau, e_max)
    i_sq = int(np.argmax(traj.s_qubits))
    i_sc = int(np.argmax(traj.s_cavity))
    return Observables(
        E_max=e_max,
        tau=tau,
        P_max=_power(e_max, tau),
        S_q_max=float(traj.s_qubits[i_sq]),
        S_c_max=float(traj.s_cavity[i_sc]),
        S_q_final=float(traj.s_qubits[-1]),
        S_c_final=float(traj.s_cavity[-1]),
        E_max_refined=e_ref,
        tau_refined=tau_ref,
        P_max_refined=_power(e_ref, tau_ref),
        S_q_max_refined=refine_peak(t, traj.s_qubits, i_sq)[1],
        S_c_max_refined=refine_peak(t, traj.s_cavity, i_sc)[1],
        photons_max=float(np.max(traj.photons)),
        top_fock_max=float(np.max(traj.top_fock)),
        trace_drift_max=float(np.max(np.abs(traj.trace - 1.0))),
    )
