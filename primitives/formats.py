"""Number formats: how every instruction of a program rounds.

A binary floating-point format is given by its significand precision ``p``
(bits, implicit bit included), the exponent ``emin`` of its smallest normal
number and its largest finite value.  Values of every format are carried in
float64 arrays; ``round`` maps float64 values to the nearest value of the
format (round to nearest, ties to even, gradual underflow, overflow to
infinity, or to NaN for formats without infinities), in one rounding.

A mixed format (``bfloat16@float32``) stores, rounds and counts ULPs in its
output format (bfloat16) while every instruction rounds to its ``compute``
format (float32): the result is rounded once more, to the output, at the
end, as ML frameworks evaluate transcendental functions in narrow formats.

``real`` is not a hardware format: programs evaluate in double-double
arithmetic (about 106 bits), so error figures are trustworthy far below 1e-15,
but they are stored, hashed, exported and ULP-counted as float64 programs
(``Format.hardware``, the one place that says so).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import Registry


@dataclass(frozen=True)
class Format:
    """A number format; ``precision`` is None for ``real`` (double-double)."""

    name: str
    precision: int | None
    emin: int
    max_finite: float
    has_inf: bool
    c_type: str          # the C type that carries values of this format
    numpy_dtype: str     # numpy / ml_dtypes dtype name of the format's storage
    description: str
    compute: str | None = None   # mixed formats: the format every instruction rounds to

    @property
    def op_format(self) -> "Format":
        """The format each instruction (and each constant) rounds to: ``compute``
        for a mixed format, the format itself otherwise."""
        return FORMATS[self.compute] if self.compute else self

    @property
    def is_real(self) -> bool:
        return self.precision is None

    @property
    def hardware(self) -> "Format":
        """The hardware format a program of this format is stored, hashed,
        exported (its code's semantics), timed and ULP-counted in: float64
        for ``real``, the format itself otherwise."""
        return FORMATS["float64"] if self.is_real else self

    @property
    def storage_dtype(self) -> np.dtype:
        """The NumPy dtype that stores one value of the format (ml_dtypes'
        for bfloat16 and the float8 formats)."""
        if self.numpy_dtype in ("float16", "float32", "float64"):
            return np.dtype(self.numpy_dtype)
        import ml_dtypes  # comes with jax
        return np.dtype(getattr(ml_dtypes, self.numpy_dtype))

    @property
    def eps(self) -> float:
        """Unit roundoff 2^-p (half the spacing of numbers just above 1)."""
        return 2.0 ** -(self.precision if self.precision else 106)

    def round(self, x: np.ndarray) -> np.ndarray:
        """Round float64 values to this format (RNE, one rounding)."""
        x = np.asarray(x, dtype=np.float64)
        if self.precision is None or self.precision >= 53:
            return x
        if self.name == "float32":
            with np.errstate(over="ignore"):
                return x.astype(np.float32).astype(np.float64)
        if self.name == "float16":
            with np.errstate(over="ignore"):
                return x.astype(np.float16).astype(np.float64)
        return _round_generic(x, self.precision, self.emin, self.max_finite, self.has_inf)

    def ulp(self, y: np.ndarray) -> np.ndarray:
        """Spacing of format numbers at |y|: 2^(max(e, emin) - p + 1), y = m 2^e, 1<=m<2
        (the subnormal spacing 2^(emin - p + 1) at y = 0)."""
        p = self.precision or 106
        y = np.abs(np.asarray(y, dtype=np.float64))
        _, e = np.frexp(y)
        e = np.where(y == 0, self.emin, np.maximum(e - 1, self.emin))  # at 0: the subnormal spacing
        return np.ldexp(1.0, e - p + 1)

    def representable(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask: which float64 values are exactly values of this format."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return (self.round(x) == x) | np.isnan(x)


def _round_generic(x: np.ndarray, p: int, emin: int, max_finite: float, has_inf: bool) -> np.ndarray:
    out = x.copy()
    finite = np.isfinite(x) & (x != 0)
    xf = x[finite]
    _, e = np.frexp(np.abs(xf))
    e = np.maximum(e - 1, emin)
    scale = (p - 1 - e).astype(np.int64)
    r = np.ldexp(np.rint(np.ldexp(xf, scale)), -scale)
    big = np.abs(r) > max_finite
    if big.any():
        r[big] = np.copysign(np.inf, r[big]) if has_inf else np.nan
    out[finite] = r
    if not has_inf:
        out[np.isinf(x)] = np.nan
    return out


FORMATS: Registry[Format] = Registry("format")


def _fmt(name, p, emin, max_finite, has_inf, c_type, numpy_dtype, description):
    FORMATS.register(name, Format(name, p, emin, max_finite, has_inf, c_type, numpy_dtype, description))


_fmt("real", None, -1022, float(np.finfo(np.float64).max), True, "double", "float64",
     "double-double evaluation (~106 bits): scores errors far below 1e-15")
_fmt("float64", 53, -1022, float(np.finfo(np.float64).max), True, "double", "float64",
     "IEEE binary64, every op rounded")
_fmt("float32", 24, -126, float(np.finfo(np.float32).max), True, "float", "float32",
     "IEEE binary32, every op rounded")
_fmt("float16", 11, -14, 65504.0, True, "float", "float16",
     "IEEE binary16, every op rounded")
_fmt("bfloat16", 8, -126, float.fromhex("0x1.fep127"), True, "float", "bfloat16",
     "bfloat16 (8-bit significand, float32 range), every op rounded")
_fmt("float8_e4m3fn", 4, -6, 448.0, False, "float", "float8_e4m3fn",
     "OCP FP8 E4M3 (no infinities; overflow gives NaN), every op rounded")
_fmt("float8_e5m2", 3, -14, 57344.0, True, "float", "float8_e5m2",
     "OCP FP8 E5M2, every op rounded")


def _mixed(out: str, compute: str):
    o, c = FORMATS[out], FORMATS[compute]
    FORMATS.register(f"{out}@{compute}", Format(
        f"{out}@{compute}", o.precision, o.emin, o.max_finite, o.has_inf, o.c_type, o.numpy_dtype,
        f"{out} results computed in {compute}: every op rounded to {compute}, the result once more to {out}",
        compute=compute))


for _out in ("float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"):
    _mixed(_out, "float32")


def get_format(name: str) -> Format:
    return FORMATS[name]
