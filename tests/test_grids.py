"""Grids: the paper's named grids, aliases, zipped axes, YAML files and their errors."""

from __future__ import annotations

import math

import pytest

from qbpaper import grids
from qbpaper.grids import DIMS, Grid, GridError

K = [1e-3, 1e-2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
N_PAPER = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]


def test_every_named_grid_builds_in_both_profiles_with_the_same_axes():
    for name in grids.names():
        quick, paper = grids.get(name, "quick"), grids.get(name, "paper")
        assert quick.dims == paper.dims
        assert quick.dims[: len(DIMS)] == DIMS
        for g in (quick, paper):
            assert g.coords["model"] == ["tc", "dicke"]
            assert g.coords["setup"] == ["driven", "undriven"]
            assert g.coords["dissipation"] == ["collective"]
            assert len(g.points()) == g.size
        assert quick.size < paper.size
        assert max(quick.coords["N"]) <= 8


def test_paper_grids_follow_conventions():
    qi = grids.get("quasi_ideal", "paper")
    assert qi.coords["N"] == N_PAPER
    assert qi.coords["g"] == [round(0.05 * k, 10) for k in range(21)]
    assert qi.coords["kappa"] == qi.coords["gamma_relax"] == qi.coords["gamma_deph"] == [1e-3]
    cl = grids.get("cavity_leakage", "paper")
    assert cl.coords["kappa"] == K and cl.coords["g"] == [0.1] and cl.size == 10 * 12 * 4
    dr = grids.get("dephasing_relaxation", "paper")
    assert dr.coords["gamma_relax"] == K and dr.coords["gamma_deph"] == K
    assert dr.coords["kappa"] == [1e-3] and dr.size == 10 * 144 * 4

    def pairs(name):
        return {(p.params.gamma_relax, p.params.gamma_deph) for p in grids.get(name, "paper")}

    assert pairs("scaling_tuned") == {(1e-3, 1e-3), (1e-3, 1e-2), (1e-2, 1e-2)}
    deph = {0.1, 0.2, 0.3, 0.4, 0.5}
    assert pairs("scaling_intermediate") == {(1e-2, d) for d in deph}
    assert pairs("scaling_dephasing") == {(1e-3, d) for d in deph}
    assert pairs("scaling") == pairs("scaling_tuned") | pairs("scaling_intermediate") | pairs(
        "scaling_dephasing"
    )
    for name in ("scaling", "scaling_tuned", "scaling_intermediate", "scaling_dephasing"):
        g = grids.get(name, "paper")
        assert g.coords["N"] == N_PAPER and g.coords["g"] == [0.1] and g.coords["kappa"] == [1e-3]
    cut = grids.get("cutoff", "paper")
    assert cut.coords["nmax"] == [2, 5, 10, 15, 20, 25] and cut.coords["N"] == [1, 2, 3, 5, 10]
    assert {p.params.gamma_relax for p in cut} == {1e-3}


def test_aliases_resolve_to_the_figure_grids():
    expected = {
        "fig2": "quasi_ideal", "fig3": "quasi_ideal", "fig4": "cavity_leakage",
        "fig5": "cavity_leakage", "fig6": "dephasing_relaxation", "fig10": "dephasing_relaxation",
        "fig11": "scaling", "fig12": "scaling", "fig14": "scaling_tuned",
        "fig15": "scaling_intermediate", "fig16": "scaling_dephasing", "table1": "cutoff",
    }  # fmt: skip
    for alias, name in expected.items():
        assert grids.get(alias, profile="quick").name == name
    with pytest.raises(GridError, match="unknown grid 'fig99'"):
        grids.get("fig99")
    with pytest.raises(GridError, match="unknown profile"):
        grids.get("fig6", profile="full")


def test_axes_can_be_overridden_for_local_dissipation():
    g = grids.get("fig6", profile="quick", dissipation=["collective", "local"])
    base = grids.get("fig6", profile="quick")
    assert g.coords["dissipation"] == ["collective", "local"] and g.size == 2 * base.size
    with pytest.raises(GridError, match="zipped axis"):
        grids.get("fig14", gamma_deph=[0.1])


def test_zipped_axis_lists_only_its_combinations():
    g = grids.get("scaling_tuned", "quick")
    assert g.coords["gamma_relax"] == [1e-3, 1e-2] and g.coords["gamma_deph"] == [1e-3, 1e-2]
    assert g.size == math.prod(g.shape) * 3 // 4
    assert all(p.params.gamma_relax <= p.params.gamma_deph for p in g)


def test_points_map_axis_names_to_params():
    g = Grid.build("x", {"N": [3], "setup": ["undriven"], "detuning": [0.0, 0.1]}, {"n0": 2})
    assert g.dims[-1] == "detuning"
    p = g.points()[1]
    assert p.params.n == 3 and p.params.driven is False and p.params.detuning == 0.1
    assert p.params.n0 == 2 and g.fixed_params()["n0"] == 2
    assert p.coords["setup"] == "undriven" and p.index[-1] == 1


def test_yaml_round_trip_and_string_exponents(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(
        "name: mine\nserves: a study\naxes:\n  model: tc\n  N: [1, 2]\n"
        "  gamma_relax,gamma_deph: [[1e-3, 1e-3], [1e-3, 0.1]]\n"
        "fixed: {t_final: 2, nmax: 2}\nseries: [{N: 1}]\n"
    )
    g = grids.load(path)
    assert g.name == "mine" and g.coords["gamma_relax"] == [1e-3] and g.size == 4
    assert g.coords["nmax"] == [2] and dict(g.fixed)["t_final"] == 2.0
    again = tmp_path / "again.yaml"
    again.write_text(g.to_yaml())
    assert grids.load(again) == g
    assert [g.keeps_series(p) for p in g] == [True, True, False, False]


BAD_FILES = {
    "unknown axis": ("axes: {N: [1], colour: [red]}", "unknown axis 'colour'"),
    "numeric axis": ("axes: {1: [2]}", "unknown axis 1"),
    "field name for N": ("axes: {n: [1, 2]}", "use 'N'"),
    "empty axis": ("axes: {N: []}", "axis 'N' is empty"),
    "invalid N": ("axes: {N: [0, 1]}", "the number of qubits must be >= 1"),
    "negative rate": ("axes: {kappa: [-0.1]}", "a rate must be >= 0"),
    "unknown model": ("axes: {model: [jc]}", "'jc' is not one of"),
    "bad setup": ("axes: {setup: [pumped]}", "invalid value for 'setup'"),
    "non-number": ("axes: {g: [abc]}", "invalid value for 'g'"),
    "fractional N": ("axes: {N: [1.5]}", "invalid value for 'N'"),
    "duplicate": ("axes: {g: [0.1, 0.1]}", "lists 0.1 twice"),
    "zip length": ("axes: {'gamma_relax,gamma_deph': [[0.1]]}", "does not have 2 values"),
    "axis twice": ("axes: {g: [0.1]}\nfixed: {g: 0.2}", "both an axis and a fixed"),
    "unknown key": ("axes: {g: [0.1]}\nworkers: 4", "unknown key 'workers'"),
    "no axes": ("name: x", "needs an 'axes' mapping"),
    "not a mapping": ("- 1\n- 2", "must hold a mapping"),
    "malformed": ("axes: {N: [1, 2}\n", "malformed YAML"),
    "bad series": ("axes: {N: [1]}\nseries: [{N: 3}]", "N=3 is not on the grid"),
    "invalid point": ("axes: {setup: [undriven], nmax: [1]}\nfixed: {n0: 2}", "n0"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_grid_files_give_a_clear_error(tmp_path, case):
    text, message = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(GridError, match=message.replace("(", r"\(").replace("[", r"\[")) as err:
        grids.load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_yaml_cannot_construct_python_objects_or_run_code(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [
        f"axes: !!python/object/apply:os.system ['touch {marker}']",
        f"axes: {{N: [1]}}\nname: !!python/object/apply:os.system ['touch {marker}']",
        "axes: !!python/name:os.system",
        "axes: {N: !!python/tuple [1, 2]}",
    ]
    for text in payloads:
        path = tmp_path / "evil.yaml"
        path.write_text(text)
        with pytest.raises(GridError, match="malformed YAML"):
            grids.load(path)
    assert not marker.exists()
