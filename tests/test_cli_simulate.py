"""``qbpaper simulate``: JSON output and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from qbpaper.cli import main

FAST = ["--n", "2", "--nmax", "4", "--t-final", "2", "--dt", "0.5"]


def _run(args):
    return subprocess.run(
        [sys.executable, "-m", "qbpaper.cli", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_has_the_documented_keys():
    proc = _run([*FAST, "--model", "dicke", "--dissipation", "local", "--undriven", "--json"])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("E_max", "tau", "P_max", "S_q_max", "S_c_max", "S_q_final", "S_c_final"):
        assert isinstance(out[key], float), key
    assert out["params"]["model"] == "dicke" and out["params"]["driven"] is False
    assert out["params"]["dissipation"] == "local" and out["params"]["n"] == 2
    assert "E_max_refined" in out["refined"] and "tau_refined" in out["refined"]


def test_json_values_match_the_python_api():
    from qbpaper import Params, simulate

    proc = _run([*FAST, "--g", "0.4", "--gamma-deph", "0.1", "--json"])
    out = json.loads(proc.stdout)
    obs = simulate(Params(n=2, nmax=4, t_final=2.0, dt=0.5, g=0.4, gamma_deph=0.1)).observables()
    assert out["E_max"] == pytest.approx(obs.E_max, abs=1e-12)
    assert out["S_q_final"] == pytest.approx(obs.S_q_final, abs=1e-12)


def test_human_summary(capsys):
    assert main(["simulate", *FAST]) == 0
    text = capsys.readouterr().out
    assert "E_max" in text and "tau" in text


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--n", "0"], "n"),
        (["--n", "-3"], "n"),
        (["--kappa", "-0.1"], "kappa"),
        (["--gamma-relax", "nan"], "gamma_relax"),
        (["--gamma-deph", "inf"], "gamma_deph"),
        (["--nmax", "0"], "nmax"),
        (["--dt", "0"], "dt"),
        (["--dt", "-1"], "dt"),
        (["--dt", "5", "--t-final", "2"], "dt"),
        (["--model", "rabi"], "model"),
        (["--dissipation", "global"], "dissipation"),
        (["--n", "two"], "n"),
        (["--gamma-relax", "-1e-3"], "gamma_relax"),  # a negative number, not an option
        (["--n0", "2"], "--undriven"),  # the driven setup would ignore n0
        (["--undriven", "--sigma", "3"], "--sigma"),  # ... the undriven one the drive
        (["--undriven", "--drive-carrier"], "--drive-carrier"),
        (["--backend", "qutip", "--rtol", "1e-3"], "--rtol"),  # ... QuTiP our tolerances
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_parameter(args, name):
    proc = _run([*FAST, *args, "--json"])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert name in lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--n", "1e20"], "n"),  # used to end in a SciPy traceback (spin labels lose precision)
        (["--n", "100000", "--model", "dicke"], "n"),  # used to exit 1: MemoryError
        (["--n", "2000", "--dissipation", "local"], "n"),
        (["--nmax", "1e12"], "nmax"),
    ],
)
def test_absurd_sizes_exit_2_with_one_line_naming_the_parameter(args, name):
    proc = _run([*FAST, *args, "--json"])
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"qbpaper simulate: error: invalid parameter '{name}'")
    assert "above the limit 2**31" in lines[0] and proc.stdout == ""


def test_negative_values_with_an_exponent_follow_their_option():
    out = json.loads(_run([*FAST, "--detuning", "-1e-2", "--eta0", "-1E0", "--json"]).stdout)
    assert out["params"]["detuning"] == -0.01 and out["params"]["eta0"] == -1.0


def test_json_states_its_units():
    out = json.loads(_run([*FAST, "--json"]).stdout)
    assert out["units"]["omega_q"] == 1 and out["units"]["hbar"] == 1
    assert out["units"]["times"] == "1/omega_q" and "nats" in out["units"]["entropies"]


def test_driven_and_undriven_are_exclusive():
    proc = _run([*FAST, "--driven", "--undriven"])
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def test_qutip_backend_agrees_through_the_cli():
    fast = json.loads(_run([*FAST, "--g", "0.3", "--json"]).stdout)
    proc = _run([*FAST, "--g", "0.3", "--backend", "qutip", "--json"])
    assert proc.returncode == 0, proc.stderr
    ref = json.loads(proc.stdout)
    assert ref["backend"] == "qutip" and fast["backend"] == "fast"
    # QuTiP's default tolerances (rtol 1e-6) bound the agreement here.
    assert ref["E_max"] == pytest.approx(fast["E_max"], abs=1e-4)
    assert ref["S_q_final"] == pytest.approx(fast["S_q_final"], abs=1e-4)


def test_qutip_backend_refuses_sizes_it_cannot_hold():
    proc = _run(["--n", "50", "--dissipation", "local", "--backend", "qutip", "--json"])
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def test_interrupt_exits_130_with_one_line(monkeypatch, capsys):
    import importlib

    solve = importlib.import_module("qbpaper.solve")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(solve, "simulate", interrupted)
    assert main(["simulate", *FAST]) == 130
    assert capsys.readouterr().err == "qbpaper simulate: interrupted\n"


def test_qutip_backend_refuses_progress(capsys):
    assert main(["simulate", *FAST, "--backend", "qutip", "--progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--progress applies to the fast backend" in err
