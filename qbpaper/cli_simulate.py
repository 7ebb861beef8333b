"""``qbpaper simulate``: one parameter point from the command line.

``--json`` prints one JSON object: the parameters used (``params``), the paper's observables on
the output grid (``E_max``, ``tau``, ``P_max``, ``S_q_max``, ``S_c_max``, ``S_q_final``,
``S_c_final``), the refined and diagnostic values under ``refined`` and ``diagnostics``, the
run's ``warnings`` and the ``units``. Bad input exits with status 2 and a one-line message naming
the parameter; so do sizes whose density matrix would exceed 2**31 entries
(:data:`qbpaper.params.MAX_STATE_ENTRIES`; :func:`qbpaper.params.largest_n` gives the largest N
per cutoff), and options that the chosen setup or backend would ignore (``--n0``
without ``--undriven``, a drive option with it, tolerances with ``--backend qutip``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from qbpaper.observables import PAPER_KEYS
from qbpaper.params import DISSIPATIONS, MAX_STATE_ENTRIES, MODELS, Params, largest_n

#: CLI option -> Params field, for the options that map one to one.
_OPTION_FIELDS = {
    "n": "n", "g": "g", "kappa": "kappa", "gamma_relax": "gamma_relax",
    "gamma_deph": "gamma_deph", "nmax": "nmax", "t_final": "t_final", "dt": "dt",
    "eta0": "eta0", "sigma": "sigma", "t0": "t0", "n0": "n0", "detuning": "detuning",
    "rtol": "rtol", "atol": "atol",
}  # fmt: skip


#: Units of the numbers simulate prints (the conventions of qbpaper.params).
UNITS = {
    "hbar": 1,
    "omega_q": 1,
    "energy, frequencies, rates": "omega_q",
    "times": "1/omega_q",
    "entropies": "nats (natural log)",
    "power": "omega_q^2",
}

#: Options that only the driven setup uses, and the tolerances only the fast backend uses.
_DRIVE_OPTIONS = ("eta0", "sigma", "t0", "drive_carrier", "drive_frame")
_TOLERANCE_OPTIONS = ("rtol", "atol")

_DEFAULT = " (default: %(default)s)"
_HELP = {
    "g": "qubit-cavity coupling g",
    "kappa": "cavity loss rate kappa",
    "gamma_relax": "qubit relaxation rate",
    "gamma_deph": "qubit dephasing rate",
    "eta0": "drive amplitude eta0 (driven setup)",
    "sigma": "drive width sigma (driven setup)",
    "t0": "drive centre t0 (driven setup)",
    "n0": "initial Fock state of the undriven setup",
    "detuning": "omega_q - omega_c",
    "rtol": "relative tolerance of the fast solver",
    "atol": "absolute tolerance of the fast solver",
}


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    defaults = Params()
    sim = subparsers.add_parser(
        "simulate",
        help="simulate one parameter point and print its observables",
        description="Simulate one parameter point (units: hbar = 1, frequencies, rates and "
        "energies in units of omega_q = 1, times in 1/omega_q; entropies in nats). A negative "
        "value may follow its option (--detuning -1e-2) or be joined to it (--detuning=-1e-2).",
    )
    sim.add_argument("--model", default=defaults.model,
                     help=f"one of {', '.join(MODELS)}" + _DEFAULT)  # fmt: skip
    sim.add_argument("--n", type=str, default=str(defaults.n),
                     help="number of qubits N >= 1; N and --nmax are bounded by the density "
                     f"matrix, at most {MAX_STATE_ENTRIES:,} entries (at nmax 10: "
                     f"N <= {largest_n(10, 'collective')} collective, "
                     f"{largest_n(10, 'local')} local)" + _DEFAULT)  # fmt: skip
    for name in ("g", "kappa", "gamma_relax", "gamma_deph"):
        flag, default = f"--{name.replace('_', '-')}", str(getattr(defaults, name))
        sim.add_argument(flag, dest=name, type=str, default=default, help=_HELP[name] + _DEFAULT)
    sim.add_argument("--dissipation", default=defaults.dissipation,
                     help=f"one of {', '.join(DISSIPATIONS)}" + _DEFAULT)  # fmt: skip
    setup = sim.add_mutually_exclusive_group()
    setup.add_argument("--driven", dest="driven", action="store_true", default=True,
                       help="cavity |0>, qubits |g>, Gaussian drive on (the default)")  # fmt: skip
    setup.add_argument("--undriven", dest="driven", action="store_false",
                       help="cavity |n0>, qubits |g>, no drive")  # fmt: skip
    sim.add_argument(
        "--nmax",
        type=str,
        default=str(defaults.nmax),
        help="Fock cutoff (levels 0..nmax)" + _DEFAULT,
    )
    sim.add_argument("--t-final", dest="t_final", type=str, default=str(defaults.t_final),
                     help="end of the time window t_f" + _DEFAULT)  # fmt: skip
    sim.add_argument("--dt", type=str, default=str(defaults.dt), help="output step" + _DEFAULT)
    for name in ("eta0", "sigma", "t0", "n0", "detuning", "rtol", "atol"):
        sim.add_argument(f"--{name}", type=str, default=str(getattr(defaults, name)),
                         help=_HELP[name] + _DEFAULT)  # fmt: skip
    sim.add_argument(
        "--energy",
        default=defaults.energy,
        help="qubit: <Jz>(t) - <Jz>(0); total: <H(t)> - <H(0)>" + _DEFAULT,
    )
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


def _given(args: argparse.Namespace, name: str) -> bool:
    """Whether an option was set to something other than its default (numbers by value)."""
    value = getattr(args, name)
    if name == "drive_carrier":
        return bool(value)
    if name == "drive_frame":
        return value != "lab"
    return float(value) != float(getattr(Params(), name))  # run() has checked it is a number


def check_ignored_options(args: argparse.Namespace) -> None:
    """Refuse options the run would silently ignore (raises ValueError naming them)."""
    if args.driven and _given(args, "n0"):
        raise ValueError("--n0 sets the undriven initial state; add --undriven (the driven "
                         "setup starts from the cavity vacuum)")  # fmt: skip
    if not args.driven:
        drive = [f"--{n.replace('_', '-')}" for n in _DRIVE_OPTIONS if _given(args, n)]
        if drive:
            verb = "shapes" if len(drive) == 1 else "shape"
            raise ValueError(f"{', '.join(drive)} {verb} the drive, which --undriven turns off")
    if getattr(args, "backend", "fast") == "qutip":
        tol = [f"--{n}" for n in _TOLERANCE_OPTIONS if _given(args, n)]
        if tol:
            verb = "applies" if len(tol) == 1 else "apply"
            raise ValueError(f"{', '.join(tol)} {verb} to the fast backend; --backend qutip "
                             "runs at QuTiP's default tolerances")  # fmt: skip
        if args.progress:
            raise ValueError("--progress applies to the fast backend; --backend qutip shows none")


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
        check_ignored_options(args)
        if args.backend == "qutip":
            from qbpaper.backend_qutip import check_supported, simulate_qutip

            check_supported(params)
    except ValueError as exc:
        print(f"qbpaper simulate: error: {exc}", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QbpaperWarning)  # printed once below instead
            if args.backend == "qutip":
                traj = simulate_qutip(params)
            else:
                traj = simulate(params, progress=args.progress)
    except MemoryError:
        print(f"qbpaper simulate: error: not enough memory for N={params.n}, nmax="
              f"{params.nmax} ({params.dissipation} representation, "
              f"{params.n_steps + 1} output times)",
              file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        print("qbpaper simulate: interrupted", file=sys.stderr)
        return 130
    obs = traj.observables().as_dict()
    result: dict[str, object] = {"params": params.to_dict(), "backend": args.backend,
                                 "units": UNITS}  # fmt: skip
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
