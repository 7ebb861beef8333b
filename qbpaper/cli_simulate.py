"""``qbpaper simulate``: one parameter point from the command line.

``--json`` prints one JSON object: the parameters used (``params``), the paper's observables on
the output grid (``E_max``, ``tau``, ``P_max``, ``S_q_max``, ``S_c_max``, ``S_q_final``,
``S_c_final``), the refined and diagnostic values under ``refined`` and ``diagnostics``, and the
run's ``warnings``. Bad input exits with status 2 and a one-line message naming the parameter.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from qbpaper.observables import PAPER_KEYS
from qbpaper.params import DISSIPATIONS, MODELS, Params

#: CLI option -> Params field, for the options that map one to one.
_OPTION_FIELDS = {
    "n": "n", "g": "g", "kappa": "kappa", "gamma_relax": "gamma_relax",
    "gamma_deph": "gamma_deph", "nmax": "nmax", "t_final": "t_final", "dt": "dt",
    "eta0": "eta0", "sigma": "sigma", "t0": "t0", "n0": "n0", "detuning": "detuning",
    "rtol": "rtol", "atol": "atol",
}  # fmt: skip


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    defaults = Params()
    sim = subparsers.add_parser(
        "simulate",
        help="simulate one parameter point and print its observables",
        description="Simulate one parameter point (units: omega_q = 1, hbar = 1).",
    )
    sim.add_argument("--model", default=defaults.model, help=f"one of {', '.join(MODELS)}")
    sim.add_argument("--n", type=str, default=str(defaults.n), help="number of qubits N >= 1")
    for name in ("g", "kappa", "gamma_relax", "gamma_deph"):
        sim.add_argument(f"--{name.replace('_', '-')}", dest=name, type=str,
                         default=str(getattr(defaults, name)))  # fmt: skip
    sim.add_argument("--dissipation", default=defaults.dissipation,
                     help=f"one of {', '.join(DISSIPATIONS)}")  # fmt: skip
    setup = sim.add_mutually_exclusive_group()
    setup.add_argument("--driven", dest="driven", action="store_true", default=True)
    setup.add_argument("--undriven", dest="driven", action="store_false")
    sim.add_argument("--nmax", type=str, default=str(defaults.nmax), help="Fock cutoff")
    sim.add_argument("--t-final", dest="t_final", type=str, default=str(defaults.t_final))
    sim.add_argument("--dt", type=str, default=str(defaults.dt), help="output step")
    for name in ("eta0", "sigma", "t0", "n0", "detuning", "rtol", "atol"):
        sim.add_argument(f"--{name}", type=str, default=str(getattr(defaults, name)))
    sim.add_argument("--energy", default=defaults.energy, help="qubit (default) or total")
    sim.add_argument("--drive-carrier", action="store_true",
                     help="multiply the drive envelope by cos(omega_c t) (extension)")  # fmt: skip
    sim.add_argument("--drive-frame", default="lab",
                     help="lab (default): eta(t)(a + a^dag) in the frame of Eqs. 1-7; rotating: "
                          "the same term in the frame rotating at omega_c")  # fmt: skip
    sim.add_argument("--backend", choices=("fast", "qutip"), default="fast",
                     help="fast (default) or qutip: the reference QuTiP mesolve / PIQS backend "
                          "at QuTiP's default tolerances, for small sizes")  # fmt: skip
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("--progress", action="store_true", help="show a progress bar")
    sim.set_defaults(func=run)


def _number(name: str, text: str, integer: bool) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"invalid parameter '{name}': not a number: {text!r}") from None
    if integer:
        if not value.is_integer():
            raise ValueError(f"invalid parameter '{name}': must be an integer, got {text!r}")
        return int(value)
    return value


def params_from_args(args: argparse.Namespace) -> Params:
    """Build validated Params from parsed CLI arguments (raises ValueError)."""
    values: dict[str, object] = {}
    for option, field_name in _OPTION_FIELDS.items():
        integer = field_name in ("n", "nmax", "n0")
        values[field_name] = _number(field_name, getattr(args, option), integer)
    return Params(
        model=args.model,
        dissipation=args.dissipation,
        driven=args.driven,
        energy=args.energy,
        drive_carrier=args.drive_carrier,
        drive_frame=args.drive_frame,
        **values,
    )


def _summary(params: Params, result: dict) -> str:
    lines = [
        f"qbpaper simulate: model={params.model} N={params.n} {params.setup} "
        f"dissipation={params.dissipation} g={params.g:g} kappa={params.kappa:g} "
        f"gamma_relax={params.gamma_relax:g} gamma_deph={params.gamma_deph:g} "
        f"nmax={params.nmax} t_final={params.t_final:g} dt={params.dt:g}",
    ]
    for key in PAPER_KEYS:
        lines.append(f"  {key:<10} {result[key]:.8g}")
    for key, value in result["refined"].items():
        lines.append(f"  {key:<16} {value:.8g}")
    lines.append(f"  wall time  {result['wall_time_s']:.3f} s")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from qbpaper.solve import QbpaperWarning, simulate

    try:
        params = params_from_args(args)
        if args.backend == "qutip":
            from qbpaper.backend_qutip import check_supported, simulate_qutip

            check_supported(params)
    except ValueError as exc:
        print(f"qbpaper simulate: error: {exc}", file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QbpaperWarning)  # printed once below instead
        if args.backend == "qutip":
            traj = simulate_qutip(params)
        else:
            traj = simulate(params, progress=args.progress)
    obs = traj.observables().as_dict()
    result: dict[str, object] = {"params": params.to_dict(), "backend": args.backend}
    result.update({k: obs[k] for k in PAPER_KEYS})
    result["refined"] = {k: v for k, v in obs.items() if k.endswith("_refined")}
    result["diagnostics"] = {
        k: obs[k] for k in ("photons_max", "top_fock_max", "trace_drift_max")
    } | {"rhs_evaluations": traj.rhs_evaluations}
    result["warnings"] = list(traj.warnings)
    result["wall_time_s"] = traj.wall_time
    for text in traj.warnings:
        print(f"qbpaper simulate: warning: {text}", file=sys.stderr)
    print(json.dumps(result, indent=2) if args.json else _summary(params, result))
    return 0
