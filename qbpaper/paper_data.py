"""Numbers the paper reports, kept for side-by-side comparison (never for tuning).

Sources in arXiv:2510.26373v2: the scaling exponents of Sec. IV.3 and Appendix B (Figs. 11-12,
14-16) and Table 1 of Appendix A. All rates are in units of omega_q.

Exponents
---------
``PAPER_EXPONENTS[regime][model][observable]`` is a :class:`PaperExponent` holding the text as
the paper (and ``shared/CONVENTIONS.md``) writes it and a closed range ``(low, high)`` with
``low <= high``:

* a range "a to b" is stored as ``(min(a, b), max(a, b))`` (the paper writes negative ranges as
  ``[-0.02, -0.20]``, i.e. largest first);
* an approximate value "~x" is stored as ``(x - 0.05, x + 0.05)`` (``approximate=True``);
* an exact value "x" (e.g. "1.00", "0") is stored as the point ``(x, x)``.

Regimes (``REGIME_RATES``): the (gamma_relax, gamma_deph) combinations of Figs. 14-16, with
g = 0.1 and kappa = 1e-3 (``REGIME_G``, ``REGIME_KAPPA``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

__all__ = [
    "APPROX_HALF_WIDTH",
    "EXPONENT_OBSERVABLES",
    "MODELS",
    "PAPER_EXPONENTS",
    "PaperExponent",
    "REGIMES",
    "REGIME_G",
    "REGIME_KAPPA",
    "REGIME_RATES",
    "Regime",
    "TABLE1",
    "TABLE1_RATES",
    "Table1Row",
    "paper_exponent",
]

Regime = Literal["tuned-decay", "intermediate", "dephasing-dominated"]
REGIMES: Final[tuple[str, ...]] = ("tuned-decay", "intermediate", "dephasing-dominated")
MODELS: Final[tuple[str, ...]] = ("dicke", "tc")
#: Observables with a reported exponent, in the order of the tables of the book.
EXPONENT_OBSERVABLES: Final[tuple[str, ...]] = ("E_max", "tau", "P_max", "S_q_final", "S_c_final")
#: Half-width given to an approximate value "~x".
APPROX_HALF_WIDTH: Final[float] = 0.05


@dataclass(frozen=True)
class PaperExponent:
    """One reported exponent: ``text`` as written, closed range ``[low, high]`` in numbers."""

    text: str
    low: float
    high: float
    approximate: bool
    source: str

    @property
    def range(self) -> tuple[float, float]:
        """``(low, high)``."""
        return (self.low, self.high)


def _parse(text: str, source: str) -> PaperExponent:
    """Parse "a to b", "~x" or "x" into a :class:`PaperExponent` (see module docstring)."""
    t = text.strip()
    if " to " in t:
        a, b = (float(s) for s in t.split(" to "))
        return PaperExponent(text, min(a, b), max(a, b), False, source)
    if t.startswith("~"):
        x = float(t[1:])
        return PaperExponent(text, x - APPROX_HALF_WIDTH, x + APPROX_HALF_WIDTH, True, source)
    x = float(t)
    return PaperExponent(text, x, x, False, source)


# Rows of the table "Exponents the paper reports" of CONVENTIONS.md, checked against the text
# of Sec. IV.3 and Appendix B: regime, model -> (alpha_E, alpha_tau, alpha_P, alpha_Sc^f,
# alpha_Sq^f) exactly as written there.
_RAW: Final = {
    ("tuned-decay", "dicke"): ("1.00", "0", "1.00", "~0", "~0"),
    ("tuned-decay", "tc"): ("~1", "~-0.50", "~1.50", "0.2 to 0.4", "~0"),
    ("intermediate", "dicke"): (
        "0.80 to 0.96",
        "-0.02 to -0.20",
        "0.96 to 1.00",
        "-0.36 to -0.54",
        "-0.06 to -0.11",
    ),
    ("intermediate", "tc"): (
        "1.08 to 1.26",
        "~-0.48",
        "1.57 to 1.73",
        "-0.40 to -0.73",
        "-0.08 to -0.12",
    ),
    ("dephasing-dominated", "dicke"): (
        "0.79 to 0.96",
        "-0.02 to -0.23",
        "0.96 to 1.02",
        "-0.39 to -0.57",
        "-0.20 to -0.31",
    ),
    ("dephasing-dominated", "tc"): (
        "1.07 to 1.25",
        "~-0.49",
        "1.56 to 1.73",
        "-0.39 to -0.68",
        "-0.24 to -0.43",
    ),
}
_RAW_ORDER: Final = ("E_max", "tau", "P_max", "S_c_final", "S_q_final")
_FIGURE: Final = {"tuned-decay": "14", "intermediate": "15", "dephasing-dominated": "16"}


def _build() -> MappingProxyType:
    out: dict[str, dict[str, MappingProxyType]] = {r: {} for r in REGIMES}
    for (regime, model), texts in _RAW.items():
        src = f"Sec. IV.3 and App. B, Fig. {_FIGURE[regime]}"
        out[regime][model] = MappingProxyType(
            {obs: _parse(t, src) for obs, t in zip(_RAW_ORDER, texts, strict=True)}
        )
    return MappingProxyType({r: MappingProxyType(m) for r, m in out.items()})


#: regime -> model ("dicke", "tc") -> observable -> PaperExponent (read-only mappings).
PAPER_EXPONENTS: Final = _build()


def paper_exponent(regime: str, model: str, observable: str) -> PaperExponent:
    """The paper's exponent for one regime, model and observable; ``KeyError`` names the choices.

    ``observable`` may carry a ``_refined`` suffix (``E_max_refined`` -> ``E_max``).
    """
    obs = observable.removesuffix("_refined")
    if regime not in PAPER_EXPONENTS:
        raise KeyError(f"unknown regime {regime!r}; choose one of {REGIMES}")
    if model not in PAPER_EXPONENTS[regime]:
        raise KeyError(f"unknown model {model!r}; choose one of {MODELS}")
    if obs not in PAPER_EXPONENTS[regime][model]:
        raise KeyError(f"no reported exponent for {observable!r}; reported: {_RAW_ORDER}")
    return PAPER_EXPONENTS[regime][model][obs]


#: Regime -> (gamma_relax, gamma_deph) combinations of Figs. 14-16 (units of omega_q).
REGIME_RATES: Final[MappingProxyType] = MappingProxyType(
    {
        "tuned-decay": ((1e-3, 1e-3), (1e-3, 1e-2), (1e-2, 1e-2)),
        "intermediate": tuple((1e-2, d) for d in (0.1, 0.2, 0.3, 0.4, 0.5)),
        "dephasing-dominated": tuple((1e-3, d) for d in (0.1, 0.2, 0.3, 0.4, 0.5)),
    }
)
REGIME_G: Final[float] = 0.1
REGIME_KAPPA: Final[float] = 1e-3


class Table1Row(NamedTuple):
    """One row of Table 1 (Appendix A): E_max and S_c for Dicke (D) and Tavis-Cummings (TC)."""

    E_max_dicke: float
    E_max_tc: float
    S_c_dicke: float
    S_c_tc: float


#: Table 1 of Appendix A: nmax -> (E_max D, E_max TC, S_c D, S_c TC); g = 0.1, all rates 1e-3.
#: The paper does not state N, the setup (driven/undriven) or whether S_c is the maximum over
#: time or the final value for this table; a comparison must say which it assumes.
TABLE1: Final[MappingProxyType] = MappingProxyType(
    {
        2: Table1Row(0.03459, 0.15814, 0.06171, 0.06331),
        5: Table1Row(0.23127, 0.80604, 0.10332, 0.25676),
        10: Table1Row(0.49374, 0.99073, 0.08294, 0.62638),
        15: Table1Row(0.49452, 0.99294, 0.08393, 0.63075),
        20: Table1Row(0.49452, 0.99294, 0.08393, 0.63075),
        25: Table1Row(0.49452, 0.99294, 0.08393, 0.63075),
    }
)
#: The parameters of Table 1: g, kappa, gamma_relax, gamma_deph (units of omega_q).
TABLE1_RATES: Final[MappingProxyType] = MappingProxyType(
    {"g": 0.1, "kappa": 1e-3, "gamma_relax": 1e-3, "gamma_deph": 1e-3}
)
