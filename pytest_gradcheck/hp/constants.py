"""Float64 roundings of well-known constants, recognised when high-precision code mixes them in.

``np.pi`` in a function evaluated at 40 digits is not pi but its float64 rounding, off by 1.2e-16 relative:
the reference derivative is then exact for a slightly different function, and agrees with the intended
one only to about 16 digits. Data (weights, inputs) are exact as given, so only values that are the
rounding of a famous irrational constant are reported.
"""

from __future__ import annotations

import math

import mpmath

__all__ = ["FLOAT64_CONSTANTS", "achieved_digits", "describe"]


def _table() -> dict[float, str]:
    mp = mpmath.MPContext()  # private: the global mpmath.mp is never touched
    mp.dps = 50
    pi, e = mp.pi, mp.e
    named = {
        "pi": pi, "2*pi": 2 * pi, "pi/2": pi / 2, "pi/4": pi / 4, "1/pi": 1 / pi, "2/pi": 2 / pi,
        "pi**2": pi**2, "sqrt(pi)": mp.sqrt(pi), "1/sqrt(pi)": 1 / mp.sqrt(pi), "2/sqrt(pi)": 2 / mp.sqrt(pi),
        "sqrt(2*pi)": mp.sqrt(2 * pi), "1/sqrt(2*pi)": 1 / mp.sqrt(2 * pi), "sqrt(2/pi)": mp.sqrt(2 / pi),
        "log(2*pi)/2": mp.log(2 * pi) / 2, "log(2*pi)": mp.log(2 * pi), "log(pi)": mp.log(pi),
        "e": e, "1/e": 1 / e, "sqrt(2)": mp.sqrt(2), "1/sqrt(2)": 1 / mp.sqrt(2), "sqrt(3)": mp.sqrt(3),
        "log(2)": mp.log(2), "log(10)": mp.log(10), "1/log(2)": 1 / mp.log(2), "1/log(10)": 1 / mp.log(10),
        "euler_gamma": mp.euler, "golden ratio": mp.phi,
    }
    table: dict[float, str] = {}
    for name, value in named.items():
        rounded = float(value)
        table.setdefault(rounded, name)
        table.setdefault(-rounded, "-" + name)
    return table


FLOAT64_CONSTANTS = _table()  # float64 value -> the constant it rounds


def describe(found: set[str] | list[str]) -> str:
    names = sorted(found)
    return ("float64 constant(s) " + ", ".join(names) + " inside the high-precision evaluation: the reference "
            f"is exact for f with those constants rounded to float64, and agrees with the exact-constant function "
            f"to about {achieved_digits():.0f} digits")


def achieved_digits() -> float:
    """Relative agreement of a function with one float64-rounded constant: half an ulp, about 16 digits."""
    return -math.log10(2.0**-53)
