"""The compiled kernels against the NumPy interpreter (the reference).

Bit for bit: double-double and hardware-format evaluation, float64 values;
the Jacobian equal wherever the interpreter's is finite (see ``kernels``);
fits and the polish LP to stated tolerances.  Parametrized over every op of
the registry, so a new op is checked (or its fallback is) without a new test.
The kernels are compiled (or loaded from numba's cache) once per session.
"""
import numpy as np
import pytest

from numsearch.primitives import interpret, kernels
from numsearch.primitives.formats import FORMATS
from numsearch.primitives.ops import OPS
from numsearch.primitives.program import Instr, Program
from numsearch.search.mutation import MutationContext, random_program

pytestmark = [pytest.mark.skipif(not kernels.available(), reason="numba kernels not available"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]

# inputs that reach every branch: signed zeros, subnormals, the ends of the
# range (split's 2^996, the quotient's tiny dividends), infinities, NaN,
# half-integers (rint's ties), powers of two (exponent's edges)
_SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.0 ** -1022, 2.0 ** -970, -2.0 ** -961, 1.0, -1.0, 0.5, -0.5, 1.5,
            2.5, -2.5, 3.0, 2.0 ** 52 + 1, 2.0 ** 53, 1e300, -1e300, 2.0 ** 997, 2.0 ** 1023, -1.7976931348623157e308,
            np.inf, -np.inf, np.nan, 0.1, -7.25, 1e-300, 2.0 ** -1000, 1.0 - 2.0 ** -53, 1e16 + 2.0]


def _inputs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    r = rng.normal(size=n) * 10.0 ** rng.integers(-320, 309, n)
    return np.concatenate([_SPECIAL, np.array(_SPECIAL) * 3.0, r, rng.uniform(-4, 4, 64)])


def _same_bits(a, b):
    """Equal bit patterns (NaNs of any payload count as equal)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | (a.view(np.int64) == b.view(np.int64))))


def _programs_for(op):
    """Programs applying ``op`` to x, to constants of every kind and to
    double-doubles with a nonzero low part (x/3, x*x - c)."""
    ar = OPS[op].arity
    consts = (3.0, 0.75, -2.5, 2.0 ** -1030, 1e300, -0.0)
    pre = (Instr("div", ("x", "c0")), Instr("fma", ("x", "x", "c1")))
    refs = ["x", "v0", "v1", "c2", "c3", "c4", "c5"]
    rng = np.random.default_rng(hash(op) % 2**32)
    progs = []
    for _ in range(12):
        args = tuple(refs[int(i)] for i in rng.integers(0, len(refs), ar))
        if all(a.startswith("c") for a in args):
            args = ("v0",) + args[1:]
        progs.append(Program(consts, pre + (Instr(op, args),), "v2"))
    return progs


@pytest.fixture(scope="module")
def x():
    return _inputs()


def test_every_op_has_an_opcode_or_falls_back():
    for name in OPS:
        p = Program((1.5,), (Instr(name, ("x",) * OPS[name].arity),), "v0")
        assert (kernels.encode(p) is not None) == (name in kernels.OPCODES)
        assert kernels.ARITY.get(name, OPS[name].arity) == OPS[name].arity


@pytest.mark.parametrize("op", OPS.names())
def test_double_double_bit_for_bit(op, x):
    for p in _programs_for(op):
        got, want = kernels.evaluate(p, x, "real"), interpret.evaluate(p, x, "real")
        assert _same_bits(got[0], want[0]) and _same_bits(got[1], want[1]), p.text()


@pytest.mark.parametrize("op", OPS.names())
@pytest.mark.parametrize("fmt", [f for f in FORMATS.names() if f != "real"])
def test_hardware_format_bit_for_bit(op, fmt, x):
    xf = FORMATS[fmt].round(x)
    for p in _programs_for(op)[:6]:
        assert _same_bits(kernels.evaluate(p, xf, fmt), interpret.evaluate(p, xf, fmt)), (fmt, p.text())


def _check_jacobian(p, x, consts=None):
    v, J = kernels.value_and_jacobian(p, x, consts)
    v0, J0 = interpret.value_and_jacobian(p, x, consts)
    assert _same_bits(v, v0), p.text()
    fin = np.isfinite(J0)
    assert np.array_equal(J[fin], J0[fin]), p.text()
    assert np.array_equal(np.isfinite(J).all(axis=1), fin.all(axis=1)), p.text()


@pytest.mark.parametrize("op", OPS.names())
def test_value_and_jacobian(op, x):
    for p in _programs_for(op):
        _check_jacobian(p, x)


def test_random_programs_every_op():
    rng = np.random.default_rng(7)
    ctx = MutationContext(ops=tuple(OPS.names()))
    x = np.concatenate([np.linspace(-3, 3, 101), _SPECIAL])
    for _ in range(150):
        p = random_program(rng, ctx, int(rng.integers(1, 12)))
        for fmt in ("real", "float64", "float32", "bfloat16"):
            got, want = kernels.evaluate(p, x, fmt), interpret.evaluate(p, x, fmt)
            if fmt == "real":
                assert _same_bits(got[0], want[0]) and _same_bits(got[1], want[1]), p.text()
            else:
                assert _same_bits(got, want), (fmt, p.text())
        _check_jacobian(p, x)
        if p.consts:
            _check_jacobian(p, x, rng.normal(size=len(p.consts)))


def test_fallback_where_no_kernel():
    p = Program((1.5,), (Instr("fma", ("x", "x", "c0")),), "v0")
    assert not kernels.supported(p, "float64") and kernels.supported(p, "real") and kernels.supported(p, "float32")
    x = _inputs(50)
    assert _same_bits(kernels.evaluate(p, x, "float64"), interpret.evaluate(p, x, "float64"))
    with kernels.use_kernels(False):
        assert not kernels.available()
        assert _same_bits(kernels.evaluate(p, x, "real")[1], interpret.evaluate(p, x, "real")[1])


def test_polish_lp_dense_and_highs_agree():
    """The dense simplex's optimum equals HiGHS's to 1e-12 (its answer where
    it accepts one), and the direct HiGHS call is linprog's bit for bit."""
    from numsearch.search import minimax_lp
    from numsearch.search._fit_nb import minimax_lp as dense
    rng = np.random.default_rng(3)
    for t in range(60):
        m, k = int(rng.integers(3, 50)), int(rng.integers(1, 9))
        J, r = rng.normal(size=(m, k)), rng.normal(size=m)
        if t % 4 == 0:
            J[:, 0] = 0.0  # a column the residual does not depend on
        A = np.vstack([np.hstack([J, -np.ones((m, 1))]), np.hstack([-J, -np.ones((m, 1))])])
        b = np.concatenate([-r, r])
        rho = float(10.0 ** rng.uniform(-3, 1))
        ref = minimax_lp._linprog(A, b, rho)
        direct = minimax_lp._direct(A, b, rho)
        assert (ref is None) == (direct is None) and (ref is None or np.array_equal(ref, direct))
        z, ok = dense(A, b, rho)
        assert ok and abs(z[-1] - ref[-1]) <= 1e-12 * max(1.0, abs(ref[-1]))
        assert np.all(A @ z <= b + 1e-9) and np.all(np.abs(z[:-1]) <= rho + 1e-12)


def test_fits_agree_with_the_reference_path():
    """Compiled fitting (LM/Lawson, SLP, dense LPs) against the NumPy/linprog
    path on the same starts: polynomial and rational fits of 2^x, whose minimax
    constants are unique, to 1% of the error."""
    from numsearch.evaluators.task import Task, TaskData
    from numsearch.primitives.program import parse_program
    from numsearch.search.fitting import FitConfig, fit_constants
    d = TaskData(Task("exp2", 0.0, 1.0))
    fx = (d.x_fit, d.ref_fit[0], d.w_fit)
    texts = ["c0 = 1\nc1 = 0.7\nc2 = 0.2\nv0 = mul(x, c2)\nv1 = add(v0, c1)\nv2 = mul(v1, x)\nv3 = add(v2, c0)\nreturn v3",
             "c0 = 1\nc1 = 3\nc2 = -2\nv0 = add(x, c1)\nv1 = div(c2, v0)\nv2 = add(v1, c0)\nreturn v2"]
    for text in texts:
        p = parse_program(text)
        errs = []
        for on in (False, True):
            with kernels.use_kernels(on):
                errs.append(fit_constants(p, fx, d.ref_fit, np.random.default_rng(0), FitConfig())[1])
        assert abs(errs[1] / errs[0] - 1) < 0.01, (text, errs)


def test_compiled_lm_follows_the_reference():
    """The compiled LM/Lawson loop is the NumPy one step for step (LAPACK's
    gelsd, NumPy's summation order): bit for bit wherever NumPy and numba
    share a LAPACK build (this test asks it of 4 in 5 runs), within 1.2%
    of the fitted error everywhere."""
    from numsearch.evaluators.task import Task, TaskData
    from numsearch.search import fitting
    from numsearch.search.mutation import mutate
    d = TaskData(Task("exp2", 0.0, 1.0))
    fx = (d.x_fit, d.ref_fit[0], d.w_fit)
    rng = np.random.default_rng(11)
    ctx = MutationContext()
    runs = exact = 0
    p = random_program(rng, ctx, 4)
    while runs < 40:
        p = mutate(p, rng, ctx) if p.ops < 9 else random_program(rng, ctx, 4)
        if not p.consts:
            continue
        start = fitting.random_constants(rng, len(p.consts))
        with kernels.use_kernels(False):
            c0, e0 = fitting._lm(p, start, fx, 15, 10)
        c1, e1 = fitting._lm(p, start, fx, 15, 10)
        runs += 1
        exact += bool(np.array_equal(c0, c1) and e0 == e1)
        assert e0 == e1 or abs(e1 / e0 - 1) <= 0.012, (p.text(), e0, e1)
    assert exact >= 0.8 * runs


def test_max_error_bit_for_bit():
    from numsearch.evaluators import accuracy
    rng = np.random.default_rng(5)
    ctx = MutationContext(ops=tuple(OPS.names()))
    x = np.concatenate([np.linspace(-3, 3, 101), _SPECIAL])
    ref = interpret.evaluate(Program((), (Instr("mul", ("x", "x")),), "v0"), x, "real")
    ref = (np.where(np.arange(x.size) % 7 == 0, np.inf, ref[0]), ref[1])
    for _ in range(60):
        p = random_program(rng, ctx, int(rng.integers(1, 8)))
        y = interpret.evaluate(p, x, "real")
        for w in (np.ones_like(x), 1 / np.abs(ref[0]), np.full_like(x, np.nan)):
            got = accuracy.max_error(y, ref, w)
            with kernels.use_kernels(False):
                want = accuracy.max_error(y, ref, w)
            assert got == want or (np.isnan(got) and np.isnan(want)), p.text()


@pytest.mark.parametrize("fmt", [f for f in FORMATS.names() if f != "real"] + ["q36"])
def test_rounding_bit_for_bit(fmt, x):
    from numsearch.search.fhash import _Q
    f = _Q if fmt == "q36" else FORMATS[fmt]
    assert _same_bits(kernels.round_to(f, x), f.round(x))


def test_numba_is_imported_lazily_and_can_be_switched_off():
    import subprocess
    import sys
    from conftest import ROOT
    code = ("import sys, numpy as np\n"
            "import numsearch.search.evaluate, numsearch.search.fitting\n"
            "assert 'numba' not in sys.modules\n"
            "from numsearch.primitives import kernels\n"
            "assert not kernels.available() and 'numba' not in sys.modules\n"
            "from numsearch.evaluators.task import Task\n"
            "r = numsearch.search.evaluate.Evaluator(Task('exp2', 0.0, 1.0)).evaluate_one(\n"
            "    numsearch.primitives.program.parse_program('c0 = 1\\nv0 = add(x, c0)\\nreturn v0'))\n"
            "assert 0 < r.error < 1 and 'numba' not in sys.modules\n")
    env = {**__import__("os").environ, "NUMSEARCH_KERNELS": "0"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT.parent, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_stale_numba_code_of_a_changed_dependency_is_dropped(tmp_path):
    """numba caches a function's code keyed on its own file only: the cache of a module
    that compiled in another module's functions is deleted when that module's source
    changes (and only then), so the old code is not run after an upgrade."""
    from numsearch.primitives._nbcache import drop_stale
    mod, dep, cache = tmp_path / "user_nb.py", tmp_path / "dep_nb.py", tmp_path / "__pycache__"
    mod.write_text("x = 1\n")
    dep.write_text("y = 1\n")
    cache.mkdir()
    files = [cache / "user_nb.f-10.py311.nbi", cache / "user_nb.f-10.py311.1.nbc"]
    other = cache / "dep_nb.g-3.py311.nbi"
    for f in files + [other]:
        f.write_text("compiled")
    assert drop_stale(str(mod), (str(dep),)) and not any(f.exists() for f in files)   # no digest yet: dropped
    for f in files:
        f.write_text("compiled again")
    assert not drop_stale(str(mod), (str(dep),)) and all(f.exists() for f in files)   # unchanged: kept
    dep.write_text("y = 2\n")
    assert drop_stale(str(mod), (str(dep),)) and not any(f.exists() for f in files) and other.exists()
