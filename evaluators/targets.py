"""Target functions: an mpmath name (``exp2``, ``erf``, ...) or a safe expression in x.

Expressions are parsed with Python's ``ast`` into a whitelisted tree (numbers,
``x``, ``pi``, ``e``, + - * / **, and the functions below) and evaluated by
walking that tree with mpmath: user text is never executed.  ``Target.numpy``
walks the same tree with NumPy/SciPy in float64 (a fast reference, accurate to
a few float64 ulps away from cancellation; see ``numpy_functions``), and
``Target.array`` with any table of array functions (e.g. jax.numpy).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property

import mpmath


class TargetError(ValueError):
    pass


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


# name -> (mpmath function, sympy builder name or callable)
FUNCTIONS = {
    "exp": (mpmath.exp, "exp"),
    "exp2": (lambda x: mpmath.power(2, x), lambda s, a: s.Integer(2) ** a),
    "expm1": (mpmath.expm1, lambda s, a: s.exp(a) - 1),
    "log": (mpmath.log, "log"),
    "log2": (lambda x: mpmath.log(x, 2), lambda s, a: s.log(a, 2)),
    "log10": (mpmath.log10, lambda s, a: s.log(a, 10)),
    "log1p": (mpmath.log1p, lambda s, a: s.log(1 + a)),
    "sqrt": (mpmath.sqrt, "sqrt"),
    "cbrt": (mpmath.cbrt, "cbrt"),
    "rsqrt": (lambda x: 1 / mpmath.sqrt(x), lambda s, a: 1 / s.sqrt(a)),
    "sin": (mpmath.sin, "sin"), "cos": (mpmath.cos, "cos"), "tan": (mpmath.tan, "tan"),
    "asin": (mpmath.asin, "asin"), "acos": (mpmath.acos, "acos"), "atan": (mpmath.atan, "atan"),
    "sinh": (mpmath.sinh, "sinh"), "cosh": (mpmath.cosh, "cosh"), "tanh": (mpmath.tanh, "tanh"),
    "asinh": (mpmath.asinh, "asinh"), "atanh": (mpmath.atanh, "atanh"),
    "erf": (mpmath.erf, "erf"), "erfc": (mpmath.erfc, "erfc"),
    "gamma": (mpmath.gamma, "gamma"), "lgamma": (mpmath.loggamma, "loggamma"),
    "sigmoid": (_sigmoid, lambda s, a: 1 / (1 + s.exp(-a))),
}
_NAMED_CONSTANTS = {"pi": (lambda: mpmath.pi, "pi"), "e": (lambda: mpmath.e, "E")}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _check(node: ast.AST, text: str) -> None:
    """Reject anything outside the whitelist, naming the offending piece."""
    if isinstance(node, ast.Expression):
        return _check(node.body, text)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left, text)
        return _check(node.right, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _check(node.operand, text)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return None
    if isinstance(node, ast.Name):
        if node.id == "x" or node.id in _NAMED_CONSTANTS:
            return None
        raise TargetError(f"unknown name {node.id!r} in {text!r} (use x, pi, e)")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id not in FUNCTIONS:
            raise TargetError(f"unknown function {node.func.id!r} in {text!r}")
        if len(node.args) != 1:
            raise TargetError(f"{node.func.id} takes one argument in {text!r}")
        return _check(node.args[0], text)
    raise TargetError(f"unsupported syntax in {text!r}: {ast.dump(node)[:40]}")


# mpmath values beyond 2^(2^16) in size are far outside every format: they are
# saturated (to +-inf, or 0), and functions whose result would be that large are
# not computed (exp(10**10**10) would need a number of 10^10 digits: it hangs).
_HUGE = 2 ** 16
_GROWTH = {"exp": (mpmath.inf, 0), "exp2": (mpmath.inf, 0), "expm1": (mpmath.inf, -1), "sinh": (mpmath.inf, -mpmath.inf),
           "cosh": (mpmath.inf, mpmath.inf), "sigmoid": (1, 0), "gamma": (mpmath.inf, 0)}
_PERIODIC = ("sin", "cos", "tan")


def _bounded(v):
    """v with magnitudes beyond 2^(2^16) saturated (see _HUGE)."""
    if isinstance(v, mpmath.mpf) and v and mpmath.isfinite(v):
        m = mpmath.mag(v)
        if m > _HUGE:
            return mpmath.inf if v > 0 else -mpmath.inf
        if m < -_HUGE:
            return mpmath.mpf(0)
    return v


def _mp_call(name: str, a):
    """FUNCTIONS[name] at a, without computing results beyond 2^(2^16)."""
    if isinstance(a, mpmath.mpf) and mpmath.isfinite(a):
        if name in _GROWTH and abs(a) > (5000 if name == "gamma" else _HUGE):
            hi, lo = _GROWTH[name]
            return mpmath.mpf(hi if a > 0 else lo)
        if name in _PERIODIC and mpmath.mag(a) > 2048:
            return mpmath.nan      # no meaningful phase beyond every format's range
    return _bounded(FUNCTIONS[name][0](a))


def _mp_pow(a, b):
    """a ** b, saturated without computing it when |a ** b| is beyond 2^(2^16)."""
    if isinstance(a, mpmath.mpf) and isinstance(b, mpmath.mpf) and mpmath.isfinite(a) and mpmath.isfinite(b) and a and b:
        with mpmath.workprec(53):
            size = b * mpmath.log(abs(a), 2)
        if abs(size) > _HUGE:
            if a < 0 and b != mpmath.floor(b):
                return mpmath.nan
            if size < 0:
                return mpmath.mpf(0)
            odd = a < 0 and abs(b) < 2 ** 64 and int(b) % 2 == 1
            return -mpmath.inf if odd else mpmath.inf
    return _bounded(a ** b)


def _walk(node: ast.AST, x, lib: str):
    """Evaluate the checked tree with mpmath (lib='mp') or build it in SymPy."""
    if isinstance(node, ast.Expression):
        return _walk(node.body, x, lib)
    if isinstance(node, ast.BinOp):
        a, b = _walk(node.left, x, lib), _walk(node.right, x, lib)
        op = _BINOPS[type(node.op)]
        if lib == "mp":
            if op == "**":
                return _mp_pow(a, b)
            return _bounded(a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b)
        return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b if op == "/" else a ** b
    if isinstance(node, ast.UnaryOp):
        v = _walk(node.operand, x, lib)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Constant):
        if lib == "mp":
            return mpmath.mpf(node.value)
        import sympy
        return sympy.Integer(node.value) if isinstance(node.value, int) else sympy.Float(node.value)
    if isinstance(node, ast.Name):
        if node.id == "x":
            return x
        mpf, sname = _NAMED_CONSTANTS[node.id]
        if lib == "mp":
            return mpf()
        import sympy
        return getattr(sympy, sname)
    assert isinstance(node, ast.Call)
    arg = _walk(node.args[0], x, lib)
    mpf, sform = FUNCTIONS[node.func.id]
    if lib == "mp":
        return _mp_call(node.func.id, arg)
    import sympy
    return getattr(sympy, sform)(arg) if isinstance(sform, str) else sform(sympy, arg)


@dataclass(frozen=True)
class Target:
    """The function to approximate: ``text`` is a function name or an expression in x."""

    text: str

    def __post_init__(self):
        self.tree  # parse now, so bad text fails at spec time

    @property
    def expression(self) -> str:
        """The text as an expression in x (a plain function name f becomes f(x))."""
        text = self.text.strip()
        return f"{text}(x)" if text in FUNCTIONS else text

    @cached_property
    def tree(self) -> ast.Expression:
        text = self.expression
        if len(text) > 500:
            raise TargetError("target expression longer than 500 characters")
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            raise TargetError(f"cannot parse target {self.text!r}") from None
        _check(tree, self.text)
        return tree

    def mp(self, x):
        """The target at an mpmath number x, at mpmath's current precision."""
        return _walk(self.tree, mpmath.mpf(x), "mp")

    def sympy(self):
        import sympy
        return _walk(self.tree, sympy.Symbol("x"), "sympy")

    def array(self, x, funcs: dict):
        """The target on an array x with the functions of ``funcs`` (a name ->
        callable table like ``numpy_functions()``; keys "/", "**", "pi", "e"
        override division, power and the constants)."""
        return _walk_array(self.tree.body, x, funcs)

    def numpy(self, x):
        """The target in float64 with NumPy/SciPy: each op and function rounds
        once (glibc/SciPy accuracy, about 1 float64 ulp each), so the result is
        within a few float64 ulps of the true value unless the expression
        cancels.  NaN where mpmath's value is undefined or complex (poles,
        x/0, log(-1), cbrt(-8), ...), like ``evaluators.reference``."""
        import numpy as np
        with np.errstate(all="ignore"):
            return np.asarray(self.array(np.asarray(x, dtype=np.float64), numpy_functions()), dtype=np.float64)


def _walk_array(node: ast.AST, x, funcs: dict):
    """Evaluate the checked tree on an array with the callables in ``funcs``."""
    if isinstance(node, ast.BinOp):
        a, b = _walk_array(node.left, x, funcs), _walk_array(node.right, x, funcs)
        op = _BINOPS[type(node.op)]
        if op in funcs:
            return funcs[op](a, b)
        return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b if op == "/" else a ** b
    if isinstance(node, ast.UnaryOp):
        v = _walk_array(node.operand, x, funcs)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Constant):
        try:
            return float(node.value)
        except OverflowError:  # an int beyond float64
            return float("inf") if node.value > 0 else float("-inf")
    if isinstance(node, ast.Name):
        return x if node.id == "x" else funcs[node.id]
    return funcs[node.func.id](_walk_array(node.args[0], x, funcs))


def numpy_functions() -> dict:
    """name -> float64 NumPy/SciPy form of every FUNCTIONS entry, plus "/",
    "**", "pi", "e"; domain edges follow mpmath (NaN where it is undefined)."""
    import numpy as np
    import scipy.special as sc

    nan = np.nan

    def div(a, b):
        return np.where(np.asarray(b) == 0, nan, np.divide(a, b))

    def power(a, b):
        return np.where((np.asarray(a) == 0) & (np.asarray(b) < 0), nan, np.power(a, b))

    def gamma(a):
        return np.where((a <= 0) & (a == np.floor(a)), nan, sc.gamma(a))

    return {
        "/": div, "**": power, "pi": np.pi, "e": np.e,
        "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1,
        "log": np.log, "log2": np.log2, "log10": np.log10, "log1p": np.log1p,
        "sqrt": np.sqrt, "cbrt": lambda a: np.where(a < 0, nan, np.cbrt(a)),
        "rsqrt": lambda a: np.where(a == 0, nan, 1.0 / np.sqrt(a)),
        "sin": np.sin, "cos": np.cos, "tan": np.tan,
        "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
        "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
        "asinh": np.arcsinh, "atanh": np.arctanh,
        "erf": sc.erf, "erfc": sc.erfc, "gamma": gamma,
        "lgamma": lambda a: np.where(a <= 0, nan, sc.gammaln(a)),  # mpmath: complex for x < 0
        "sigmoid": sc.expit,
    }
