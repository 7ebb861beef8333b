"""Validated, frozen parameters of one simulation point.

Conventions (see ``shared/CONVENTIONS.md``): hbar = 1, all frequencies and rates in units of
the qubit frequency omega_q = 1, times in units of 1/omega_q. The detuning is
``detuning = omega_q - omega_c`` (the paper's Delta_c), so the cavity frequency is
``omega_c = 1 - detuning``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

MODELS = ("tc", "dicke")
DISSIPATIONS = ("collective", "local")
ENERGIES = ("qubit", "total")
METHODS = ("auto", "lawson", "dop853")
DRIVE_FRAMES = ("lab", "rotating")
SETUPS = ("driven", "undriven")

#: Bumped whenever a change to the physics or numerics can change a result (cache key).
MODEL_VERSION = "1"

#: Most complex entries the density matrix of a point may take (:func:`state_entries`): one
#: copy of 2**31 entries is 32 GiB (the integrators keep over ten) and its flat index outgrows
#: a 32-bit integer. :func:`largest_n` gives the sizes it allows; the paper's largest points
#: need under 2**24.
MAX_STATE_ENTRIES = 2**31


@dataclass(frozen=True)
class Params:
    """One parameter point of the paper's model; every field has the paper's default.

    Physical fields
    ---------------
    model: ``"tc"`` (Tavis-Cummings, RWA) or ``"dicke"`` (with counter-rotating terms).
    n: number of qubits N >= 1.
    g: collective-coupling constant per qubit, units of omega_q.
    kappa, gamma_relax, gamma_deph: cavity loss, qubit relaxation (sigma^-) and qubit pure
        dephasing (sigma^z) rates, units of omega_q, as in Eqs. (17)-(19).
    dissipation: ``"collective"`` (J-, 2Jz on the symmetric subspace) or ``"local"``
        (Eqs. 18-19 as written, exact in the permutation-invariant Dicke basis).
    driven: True for the driven setup (cavity |0>, qubits |g..g>, Gaussian drive);
        False for undriven (cavity Fock |n0>, qubits |g..g>, no drive).
    detuning: omega_q - omega_c.
    eta0, sigma, t0: Gaussian drive eta(t) = eta0 exp(-(t - t0)^2 / (2 sigma^2)), Eq. (5).
    drive_carrier: if True, multiply the envelope by cos(omega_c t) (documented extension;
        the paper's default is the envelope alone).
    drive_frame: ``"lab"`` (default): the drive term eta(t) (a + a^dag) acts in the frame of
        Eqs. (1)-(7); ``"rotating"``: it acts in the frame rotating at omega_c, i.e. the lab
        drive is eta(t) (a e^{i omega_c t} + a^dag e^{-i omega_c t}), a resonant drive without
        counter-rotating part (an alternative reading of the paper, for Table 1 forensics).
    n0: initial Fock number of the cavity in the undriven setup.

    Numerical fields
    ----------------
    nmax: largest Fock number kept (Fock states 0..nmax, dimension nmax + 1). N and nmax are
        bounded together: the density matrix may take at most :data:`MAX_STATE_ENTRIES`
        entries (:func:`state_entries`, counted without the excitation truncation a run may
        apply, since the driven cap can widen to none).
    t_final, dt: output grid t = 0, dt, ..., t_final (t_final rounded to a whole number of dt).
    energy: ``"qubit"`` for E(t) = <Jz>(t) - <Jz>(0) (default) or ``"total"`` for
        <H(t)> - <H(0)> of Eq. (8).
    rtol, atol: integrator tolerances.
    method: ``"lawson"`` (integrating-factor Dormand-Prince 5(4): element-wise decays exact,
        fast when dephasing makes the problem stiff), ``"dop853"`` (SciPy's explicit 8th-order
        method, re-implemented in qbpaper.rk853; fastest when mild) or ``"auto"`` (default:
        lawson when the largest element-wise decay rate exceeds 10 omega_q and 4 times the
        Hamiltonian's eigenvalue spread plus a third of the jump terms' norm bound, see
        ``qbpaper.solve.choose_method``; dop853 otherwise,
        switching to Chebyshev propagation (qbpaper.chebyshev) once the drive is off and the
        generator constant).
    """

    model: str = "tc"
    n: int = 10
    g: float = 0.1
    kappa: float = 1e-3
    gamma_relax: float = 1e-3
    gamma_deph: float = 1e-3
    dissipation: str = "collective"
    driven: bool = True
    nmax: int = 10
    detuning: float = 0.0
    eta0: float = 1.0
    sigma: float = 2.0
    t0: float = 5.0
    drive_carrier: bool = False
    drive_frame: str = "lab"
    n0: int = 1
    t_final: float = 50.0
    dt: float = 0.1
    energy: str = "qubit"
    rtol: float = 1e-9
    atol: float = 1e-12
    method: str = "auto"
    _validated: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    # ----------------------------------------------------------------- derived values
    @property
    def setup(self) -> str:
        """``"driven"`` or ``"undriven"``."""
        return "driven" if self.driven else "undriven"

    @property
    def omega_c(self) -> float:
        """Cavity frequency omega_c = omega_q - detuning (omega_q = 1)."""
        return 1.0 - self.detuning

    @property
    def n_steps(self) -> int:
        """Number of output intervals: the grid has ``n_steps + 1`` points."""
        return int(round(self.t_final / self.dt))

    def replace(self, **changes: Any) -> Params:
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """All public fields as plain Python values (JSON-serialisable)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def state_entries(n: int, nmax: int, dissipation: str) -> int:
    """Complex entries of the whole density matrix in the engine's representation
    (:mod:`qbpaper.model`): ``sum_j ((nmax + 1) (2j + 1))**2`` over the total spins j it keeps
    (N/2 alone with collective channels; N/2, N/2 - 1, ... down to 0 or 1/2 with local ones).
    Exact, in closed form, for any size."""
    if dissipation == "collective":
        spin = (n + 1) ** 2
    elif n % 2 == 0:  # 2j + 1 = 1, 3, ..., N + 1
        k = n // 2 + 1
        spin = k * (2 * k - 1) * (2 * k + 1) // 3
    else:  # 2j + 1 = 2, 4, ..., N + 1
        k = (n + 1) // 2
        spin = 2 * k * (k + 1) * (2 * k + 1) // 3
    return (nmax + 1) ** 2 * spin


def largest_n(nmax: int, dissipation: str) -> int:
    """Largest number of qubits N whose density matrix fits :data:`MAX_STATE_ENTRIES` at this
    cutoff (0 when not even N = 1 fits). Bisection on :func:`state_entries`, which grows with N."""
    if isinstance(nmax, bool) or not isinstance(nmax, numbers.Integral) or nmax < 0:
        raise ValueError(f"nmax must be an integer >= 0, got {nmax!r}")
    if dissipation not in DISSIPATIONS:
        raise ValueError(f"dissipation must be one of {DISSIPATIONS}, got {dissipation!r}")
    low, high = 0, 1
    while state_entries(high, nmax, dissipation) <= MAX_STATE_ENTRIES:
        low, high = high, 2 * high
    while high - low > 1:  # state_entries(low) fits, state_entries(high) does not
        mid = (low + high) // 2
        low, high = (
            (mid, high)
            if state_entries(mid, nmax, dissipation) <= MAX_STATE_ENTRIES
            else (low, mid)
        )
    return low


def _approx(x: int) -> str:
    """A positive integer of any size, in scientific notation from 1e15 on (``1.2e+42``)."""
    if x < 10**15:
        return str(x)
    exponent = int(math.log10(x))  # exact ints: no float overflow
    while x >= 10 ** (exponent + 1):
        exponent += 1
    while x < 10**exponent:
        exponent -= 1
    mantissa = f"{x / 10**exponent:.1f}"
    if mantissa == "10.0":
        mantissa, exponent = "1.0", exponent + 1
    return f"{mantissa}e+{exponent}"


def _check_size(p: Params) -> None:
    """Refuse a point whose density matrix exceeds :data:`MAX_STATE_ENTRIES`, naming N or
    nmax, whichever contributes the larger factor."""
    entries = state_entries(p.n, p.nmax, p.dissipation)
    if entries <= MAX_STATE_ENTRIES:
        return
    cavity = (p.nmax + 1) ** 2
    _fail(
        "n" if entries // cavity >= cavity else "nmax",
        f"N = {_approx(p.n)} with nmax = {_approx(p.nmax)} needs a {p.dissipation} density "
        f"matrix of {_approx(entries)} complex entries, above the limit 2**31 (32 GiB a copy)",
    )


def _fail(name: str, message: str) -> None:
    raise ValueError(f"invalid parameter '{name}': {message}")


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _validate(p: Params) -> None:
    """Raise ValueError naming the first offending parameter."""
    if p.model not in MODELS:
        _fail("model", f"{p.model!r} is not one of {', '.join(MODELS)}")
    if p.dissipation not in DISSIPATIONS:
        _fail("dissipation", f"{p.dissipation!r} is not one of {', '.join(DISSIPATIONS)}")
    if p.method not in METHODS:
        _fail("method", f"{p.method!r} is not one of {', '.join(METHODS)}")
    if p.energy not in ENERGIES:
        _fail("energy", f"{p.energy!r} is not one of {', '.join(ENERGIES)}")
    if not isinstance(p.driven, bool):
        _fail("driven", f"must be True or False, got {p.driven!r}")
    if not isinstance(p.drive_carrier, bool):
        _fail("drive_carrier", f"must be True or False, got {p.drive_carrier!r}")
    if p.drive_frame not in DRIVE_FRAMES:
        _fail("drive_frame", f"{p.drive_frame!r} is not one of {', '.join(DRIVE_FRAMES)}")
    if p.drive_carrier and p.drive_frame != "lab":
        _fail("drive_carrier", "a carrier is only defined for drive_frame='lab'")
    for name in ("n", "nmax", "n0"):
        if not _is_int(getattr(p, name)):
            _fail(name, f"must be an integer, got {getattr(p, name)!r}")
        object.__setattr__(p, name, int(getattr(p, name)))
    if p.n < 1:
        _fail("n", f"the number of qubits must be >= 1, got {p.n}")
    if p.nmax < 1:
        _fail("nmax", f"the Fock cutoff must be >= 1, got {p.nmax}")
    if p.n0 < 0:
        _fail("n0", f"the initial Fock number must be >= 0, got {p.n0}")
    if not p.driven and p.n0 > p.nmax:
        _fail("n0", f"the initial Fock state |{p.n0}> does not fit below nmax = {p.nmax}")
    _check_size(p)
    floats = (
        "g", "kappa", "gamma_relax", "gamma_deph", "detuning", "eta0", "sigma", "t0",
        "t_final", "dt", "rtol", "atol",
    )  # fmt: skip
    for name in floats:
        value = getattr(p, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail(name, f"must be a real number, got {value!r}")
        if not math.isfinite(value):
            _fail(name, f"must be finite, got {value!r}")
        object.__setattr__(p, name, float(value))
    for name in ("kappa", "gamma_relax", "gamma_deph"):
        if getattr(p, name) < 0:
            _fail(name, f"a rate must be >= 0, got {getattr(p, name)!r}")
    if p.g < 0:
        _fail("g", f"the coupling must be >= 0, got {p.g!r}")
    if p.sigma <= 0:
        _fail("sigma", f"the pulse width must be > 0, got {p.sigma!r}")
    if p.omega_c <= 0:
        _fail("detuning", f"omega_c = 1 - detuning must be > 0, got {p.omega_c!r}")
    if p.t_final <= 0:
        _fail("t_final", f"must be > 0, got {p.t_final!r}")
    if p.dt <= 0:
        _fail("dt", f"the output step must be > 0, got {p.dt!r}")
    if p.dt > p.t_final:
        _fail("dt", f"the output step {p.dt!r} exceeds t_final = {p.t_final!r}")
    if abs(p.n_steps * p.dt - p.t_final) > 1e-9 * max(1.0, p.t_final):
        _fail("dt", f"t_final = {p.t_final!r} is not a whole number of steps dt = {p.dt!r}")
    for name in ("rtol", "atol"):
        if getattr(p, name) <= 0:
            _fail(name, f"a tolerance must be > 0, got {getattr(p, name)!r}")
    object.__setattr__(p, "_validated", True)
