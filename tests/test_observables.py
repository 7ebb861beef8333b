"""The observable definitions on analytic time series (independent of the solver)."""

import numpy as np
import pytest

from qbpaper import Params
from qbpaper.observables import compute_observables, first_peak_index, refine_peak
from qbpaper.solve import Trajectory


def _trajectory(t, energy, s_q=None, s_c=None):
    zeros = np.zeros_like(t)
    return Trajectory(
        params=Params(t_final=float(t[-1]), dt=float(t[1] - t[0])),
        t=t,
        energy=energy,
        s_qubits=zeros if s_q is None else s_q,
        s_cavity=zeros if s_c is None else s_c,
        photons=zeros,
        top_fock=zeros,
        trace=np.ones_like(t),
    )


def test_tau_is_the_first_peak_within_tolerance():
    t = np.linspace(0, 10, 101)
    e = np.zeros_like(t)
    e[30] = 1.0 - 5e-7  # ties with the later, slightly higher peak within 1e-6
    e[70] = 1.0
    obs = compute_observables(_trajectory(t, e))
    assert obs.E_max == 1.0
    assert obs.tau == pytest.approx(3.0)
    e[30] = 1.0 - 5e-6  # no longer a tie
    assert compute_observables(_trajectory(t, e)).tau == pytest.approx(7.0)


def test_tolerance_scales_with_large_energies():
    values = np.array([0.0, 10.0 - 5e-6, 0.0, 10.0, 0.0])
    assert first_peak_index(values) == 1
    values[1] = 10.0 - 2e-5
    assert first_peak_index(values) == 3


def test_refined_peak_recovers_an_off_grid_maximum():
    def signal(time):
        return np.cos(0.3 * (time - 7.03)) ** 2 * np.exp(-0.001 * time)

    fine = np.linspace(6.5, 7.5, 1_000_001)
    t_peak = fine[np.argmax(signal(fine))]  # true maximum, shifted by the damping
    t = np.linspace(0, 20, 201)
    e = signal(t)
    obs = compute_observables(_trajectory(t, e, s_q=e, s_c=0.5 * e))
    assert abs(obs.tau - t_peak) <= 0.05 + 1e-12
    assert obs.tau_refined == pytest.approx(t_peak, abs=2e-4)
    assert obs.E_max_refined >= obs.E_max
    assert obs.P_max == pytest.approx(obs.E_max / obs.tau)
    assert obs.P_max_refined == pytest.approx(obs.E_max_refined / obs.tau_refined)
    assert obs.S_q_max_refined >= obs.S_q_max
    assert obs.S_c_final == pytest.approx(0.5 * e[-1])


def test_refine_falls_back_on_edges_and_non_concave_samples():
    t = np.linspace(0, 1, 11)
    rising = t**2
    assert refine_peak(t, rising, 10) == (1.0, 1.0)
    flat = np.ones_like(t)
    assert refine_peak(t, flat, 5) == (t[5], 1.0)


def test_no_charging_gives_zero_time_and_zero_power():
    t = np.linspace(0, 5, 51)
    obs = compute_observables(_trajectory(t, np.zeros_like(t)))
    assert obs.tau == 0.0 and obs.P_max == 0.0 and obs.P_max_refined == 0.0
