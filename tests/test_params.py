"""Validation of the parameter object: each impossible value names its parameter."""

import math

import pytest

from qbpaper import Params


def test_defaults_are_the_papers():
    p = Params()
    assert (p.eta0, p.sigma, p.t0) == (1.0, 2.0, 5.0)
    assert (p.nmax, p.t_final, p.n0, p.detuning) == (10, 50.0, 1, 0.0)
    assert p.kappa == p.gamma_relax == p.gamma_deph == 1e-3
    assert p.energy == "qubit" and p.dissipation == "collective" and p.driven
    assert p.n_steps == 500 and p.omega_c == 1.0


def test_frozen_and_replace_revalidates():
    p = Params()
    with pytest.raises(AttributeError):
        p.n = 3  # type: ignore[misc]
    assert p.replace(n=3).n == 3
    with pytest.raises(ValueError, match="'n'"):
        p.replace(n=0)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"n": 0}, "n"),
        ({"n": 2.5}, "n"),
        ({"nmax": 0}, "nmax"),
        ({"kappa": -1e-3}, "kappa"),
        ({"gamma_relax": math.nan}, "gamma_relax"),
        ({"gamma_deph": math.inf}, "gamma_deph"),
        ({"g": -0.1}, "g"),
        ({"dt": 0.0}, "dt"),
        ({"dt": -0.1}, "dt"),
        ({"dt": 60.0}, "dt"),
        ({"dt": 0.3, "t_final": 1.0}, "dt"),
        ({"t_final": 0.0}, "t_final"),
        ({"model": "jaynes"}, "model"),
        ({"dissipation": "global"}, "dissipation"),
        ({"energy": "free"}, "energy"),
        ({"sigma": 0.0}, "sigma"),
        ({"detuning": 1.5}, "detuning"),
        ({"driven": False, "n0": 11}, "n0"),
        ({"rtol": 0.0}, "rtol"),
        ({"drive_frame": "interaction"}, "drive_frame"),
        ({"drive_frame": "rotating", "drive_carrier": True}, "drive_carrier"),
    ],
)
def test_bad_values_raise_value_error_naming_the_parameter(changes, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        Params(**changes)


def test_integer_valued_floats_are_accepted_as_integers():
    p = Params(n=4.0, nmax=5.0)
    assert isinstance(p.n, int) and p.n == 4 and isinstance(p.nmax, int)


@pytest.mark.parametrize("dissipation", ["collective", "local"])
def test_state_entries_counts_the_engines_blocks(dissipation):
    from qbpaper.model import _block_layout
    from qbpaper.params import state_entries

    for n in range(1, 14):
        p = Params(n=n, nmax=3, dissipation=dissipation)
        assert state_entries(n, 3, dissipation) == sum(b.dim**2 for b in _block_layout(p, None))


@pytest.mark.parametrize("dissipation", ["collective", "local"])
@pytest.mark.parametrize("nmax", [1, 10, 25, 300])
def test_largest_n_is_the_boundary_params_enforces(dissipation, nmax):
    from qbpaper.params import largest_n

    n = largest_n(nmax, dissipation)
    assert n >= 1
    Params(n=n, nmax=nmax, dissipation=dissipation)
    # the message names N or nmax, whichever contributes the larger factor
    with pytest.raises(ValueError, match="invalid parameter 'n(max)?': .* above the limit"):
        Params(n=n + 1, nmax=nmax, dissipation=dissipation)


@pytest.mark.parametrize("nmax", [10.5, True, -1, "10"])
def test_largest_n_refuses_a_cutoff_that_is_not_a_count(nmax):
    from qbpaper.params import largest_n

    with pytest.raises(ValueError, match="nmax must be an integer"):
        largest_n(nmax, "collective")
    with pytest.raises(ValueError, match="dissipation must be one of"):
        largest_n(10, "bogus")


def test_largest_n_is_zero_when_the_cavity_alone_is_too_large():
    from qbpaper.params import largest_n

    assert largest_n(10**5, "collective") == 0
    with pytest.raises(ValueError, match="invalid parameter 'nmax'"):
        Params(n=1, nmax=10**5)


def test_size_limit_admits_the_papers_points_and_refuses_larger():
    for model in ("tc", "dicke"):
        Params(model=model, n=50, nmax=25, dissipation="local")  # the paper's largest, and more
    Params(n=4211)  # the documented bounds at nmax = 10
    Params(n=471, dissipation="local")
    for changes, name in [({"n": 4212}, "n"), ({"n": 472, "dissipation": "local"}, "n"),
                          ({"n": 10**400}, "n"), ({"nmax": 10**12}, "nmax")]:  # fmt: skip
        with pytest.raises(ValueError, match=f"invalid parameter '{name}': .* above the limit"):
            Params(**changes)
