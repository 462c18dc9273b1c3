"""NumPy references for corpus functions (`bench/corpus.py`): `REFS[id] = dict(inputs=..., expected=...,
entry=...)`.

* `inputs(rng)` returns the arguments (a tuple): Python floats are Float64, ints Int64, NumPy scalars
  keep their type (np.float32(...) is Float32), arrays are Julia arrays of their dtype and shape.
* `expected(*inputs)` is what Julia returns, written from the function's documented meaning and
  Julia's semantics (1-based indexing, column-major, `/` on integers is Float64, `÷` truncates,
  `%` takes the dividend's sign, Int64 wraps, Float32 stays Float32 against integer literals, and
  is promoted by Float64 ones). Numbers are NumPy scalars of the Julia type (np.float64, np.int64,
  np.bool_), arrays keep Julia's element type, tuples are tuples.
* `entry` (optional) is Julia source defining `__corpus_entry`, called instead of the function:
  to pass a function argument (a lambda) or to return an array that a `f!` mutates (jlhlo passes
  arrays by value to the entry, so the mutation is observed through the returned array).

Each reference was checked by hand against Julia's documented semantics; the comment above it
says what the function computes where that is not obvious from its name.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

REFS: dict[str, dict] = {}

TA = "TheAlgorithms/Julia:src/"
FNC = "fncbook/FundamentalsNumericalComputation.jl:src/"
BB = "JuliaCI/BaseBenchmarks.jl:src/"
NN = "FluxML/NNlib.jl:src/"
MB = "JuliaLang/Microbenchmarks:julia/perf.jl:"
SF = "JuliaMath/SpecialFunctions.jl:src/"
MZ = "FluxML/model-zoo:"
RT = "JuliaMath/Roots.jl:src/"


def ref(uid: str, inputs, expected, entry: str | None = None) -> None:
    REFS[uid] = {"inputs": inputs, "expected": expected, **({"entry": entry} if entry else {})}


f64 = np.float64
f32 = np.float32
i64 = np.int64
b_ = np.bool_


def jdiv(a: int, b: int) -> int:
    """Julia's `÷` on integers: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def jrem(a: int, b: int) -> int:
    """Julia's `%` (rem) on integers: the sign of the dividend."""
    return a - b * jdiv(a, b)


def vec(rng, n=8):
    return rng.standard_normal(n)


def mutated(name: str, nargs: int = 1, ret: int = 1) -> str:
    """An entry that calls the mutating `name` and returns its argument number `ret`."""
    args = ", ".join(f"a{i}" for i in range(1, nargs + 1))
    return f"function __corpus_entry({args})\n    {name}({args})\n    return a{ret}\nend"


# ============================================================================ TheAlgorithms/Julia
ref(TA + "math/abs.jl:abs_val", lambda r: (-3.25,), lambda x: f64(abs(x)))
ref(TA + "math/abs.jl:abs_max", lambda r: (vec(r),),
    lambda x: f64(x[np.argmax(np.abs(x))]))          # the first element of largest magnitude (strict >)
ref(TA + "math/abs.jl:abs_min", lambda r: (vec(r),), lambda x: f64(x[np.argmin(np.abs(x))]))
ref(TA + "math/area.jl:surfarea_cube", lambda r: (1.5,), lambda s: f64(6 * s * s))
ref(TA + "math/area.jl:surfarea_cuboid", lambda r: (1.5, 2.0, 3.5),
    lambda a, w, h: f64(2 * (a * w + a * h + w * h)))
ref(TA + "math/area.jl:surfarea_sphere", lambda r: (1.5,), lambda x: f64(4 * math.pi * x * x))
ref(TA + "math/area.jl:area_heron_triangle", lambda r: (3.0, 4.0, 5.0), lambda a, b, c: f64(6.0))
ref(TA + "math/area.jl:area_trapezium", lambda r: (2.0, 3.0, 4.0), lambda a, b, h: f64(0.5 * (a + b) * h))
ref(TA + "math/area.jl:area_circle", lambda r: (2.0,), lambda x: f64(math.pi * x * x))
ref(TA + "math/area.jl:area_ellipse", lambda r: (2.0, 3.0), lambda a, b: f64(math.pi * a * b))
ref(TA + "math/area.jl:area_rhombus", lambda r: (2.0, 3.0), lambda a, b: f64(0.5 * a * b))
# sides * side_len^2 * cot(pi / sides) / 4 with an Int number of sides
ref(TA + "math/area.jl:area_regular_polygon", lambda r: (6, 2.0),
    lambda n, s: f64(n * s * s / math.tan(math.pi / n) / 4))


def _trapazoidal(a, b, n, f=lambda x: x * x + 1.0):
    x1, fx1, area = a, f(a), 0.0
    for _ in range(n):
        x2 = (b - a) / n + x1
        fx2 = f(x2)
        area += abs(fx2 + fx1) * (x2 - x1) / 2
        x1, fx1 = x2, fx2
    return f64(area)


ref(TA + "math/area.jl:trapazoidal_area", lambda r: (0.0, 2.0, 50), _trapazoidal,
    entry="__corpus_entry(a, b, n) = trapazoidal_area(x -> x^2 + 1.0, a, b, n)")
# round(mean absolute deviation, digits = 2): RoundNearest (ties to even), as np.round
ref(TA + "math/average_absolute_deviation.jl:average_absolute_deviation",
    lambda r: (np.array([2.0, 7.5, 1.25, 9.0, 4.0, 3.5]),),
    lambda x: f64(np.round(np.mean(np.abs(x - x.sum() / len(x))), 2)))
ref(TA + "math/average_mean.jl:mean", lambda r: (vec(r),), lambda x: f64(x.sum() / len(x)))
ref(TA + "math/average_median.jl:median", lambda r: (vec(r),), lambda x: f64(np.median(x)))


def _bab(S, tol=1e-6):
    xn = S / 2
    while tol <= abs(xn * xn - S):
        xn = 0.5 * (xn + S / xn)
    return f64(xn)


ref(TA + "math/babylonian_sqrt.jl:bab_sqrt", lambda r: (10.0,), _bab)
# floor(log2(n)) + 1 is a Float64
ref(TA + "math/binary_length.jl:bin_length", lambda r: (37,), lambda n: f64(math.floor(math.log2(n)) + 1))
ref(TA + "math/binary_length.jl:bin_length_long", lambda r: (37,), lambda n: i64(n.bit_length()))
ref(TA + "math/binary_length.jl:bin_length_short", lambda r: (37,), lambda n: i64(n.bit_length()))
# the repository's own ceil/floor (x - trunc(x) compared with 0)
ref(TA + "math/ceil.jl:ceil", lambda r: (2.25,), lambda x: f64(3.0))
ref(TA + "math/floor.jl:floor", lambda r: (-2.25,), lambda x: f64(-3.0))
ref(TA + "math/combination.jl:combination", lambda r: (10, 3), lambda n, k: i64(math.comb(n, k)))
ref(TA + "math/permutation.jl:permutation", lambda r: (10, 3), lambda n, k: i64(math.perm(n, k)))
ref(TA + "math/eulers_totient.jl:totient", lambda r: (36,),
    lambda n: i64(sum(1 for i in range(1, n + 1) if math.gcd(i, n) == 1)))
ref(TA + "math/least_common_multiple.jl:least_common_multiple", lambda r: (12, 18), lambda a, b: i64(36))


def _line_length(a, b, steps=100, f=lambda x: x * x):
    x1, fx1, total = a, f(a), 0.0
    for _ in range(steps):
        x2 = (b - a) / steps + x1
        fx2 = f(x2)
        total += math.hypot(x2 - x1, fx2 - fx1)
        x1, fx1 = x2, fx2
    return f64(total)


ref(TA + "math/line_length.jl:line_length", lambda r: (0.0, 1.0), _line_length,
    entry="__corpus_entry(a, b) = line_length(x -> x^2, a, b)")
# trunc(cbrt(64))^3 == 64: exact only if cbrt(64.0) is 4.0, as Julia's is
ref(TA + "math/perfect_cube.jl:perfect_cube", lambda r: (64,), lambda n: b_(True))
ref(TA + "math/perfect_square.jl:perfect_square", lambda r: (49,), lambda n: b_(True))
ref(TA + "math/prime_check.jl:prime_check", lambda r: (97,), lambda n: b_(True))
# (n / 2) * (2a + (n - 1) d): Float64 because of `/`
ref(TA + "math/sum_of_arithmetic_series.jl:sum_ap", lambda r: (1, 2, 10), lambda a, d, n: f64(100.0))
ref(TA + "math/sum_of_geometric_progression.jl:sum_gp", lambda r: (1.0, 0.5, 10),
    lambda a, q, n: f64(a / (1 - q) * (1 - q ** n)))
ref(TA + "math/volume.jl:vol_cube", lambda r: (1.5,), lambda s: f64(s ** 3))
ref(TA + "math/volume.jl:vol_cuboid", lambda r: (1.5, 2.0, 3.0), lambda a, b, c: f64(a * b * c))
ref(TA + "math/volume.jl:vol_cone", lambda r: (3.0, 2.0), lambda a, h: f64(a * h / 3.0))
ref(TA + "math/volume.jl:vol_right_circ_cone", lambda r: (1.5, 2.0), lambda r_, h: f64(math.pi * r_ ** 2 * h / 3.0))
ref(TA + "math/volume.jl:vol_sphere", lambda r: (1.5,), lambda x: f64(4 / 3 * math.pi * x ** 3))
ref(TA + "math/volume.jl:vol_circular_cylinder", lambda r: (1.5, 2.0), lambda x, h: f64(math.pi * x ** 2 * h))
# digits through Float64 divisions (temp / 10): 153 = 1 + 125 + 27
ref(TA + "math/armstrong_number.jl:is_armstrong", lambda r: (153,), lambda n: b_(True))
# the divisor-count loop divides `n /= i` (n becomes a Float64): 36 = 2^2 3^2 has 9 divisors
ref(TA + "math/divisors.jl:num_divisors", lambda r: (36,), lambda n: i64(9))
ref(TA + "math/mersenne_prime.jl:is_mersenne_prime", lambda r: (7,), lambda n: b_(True))
for _name in ("bubble_sort!", "exchange_sort!", "insertion_sort!", "selection_sort!"):
    ref(TA + f"sorts/{_name[:-1]}.jl:{_name}", lambda r: (r.standard_normal(9),), lambda a: np.sort(a),
        entry=mutated(_name))
ref(TA + "sorts/heap_sort.jl:heap_sort!", lambda r: (r.standard_normal(9),), lambda a: np.sort(a),
    entry=mutated("heap_sort!"))
ref(TA + "sorts/counting_sort.jl:counting_sort!", lambda r: (r.integers(-5, 6, 10).astype(np.int64),),
    lambda a: np.sort(a), entry=mutated("counting_sort!"))
ref(TA + "searches/linear_search.jl:linear_search", lambda r: (np.array([4, 9, 1, 7, 9, 3]), 9),
    lambda a, k: i64(2))
ref(TA + "matrix/determinant.jl:determinant", lambda r: (r.standard_normal((4, 4)) + 4 * np.eye(4),),
    lambda a: f64(np.linalg.det(a)))


def _doolittle(a):
    n = a.shape[0]
    L, U = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            U[i, j] = a[i, j] - sum(L[i, k] * U[k, j] for k in range(i))
        for k in range(i, n):
            if i == k:
                L[i, i] = 1.0
            else:
                L[k, i] = (a[k, i] - sum(L[k, j] * U[j, i] for j in range(i))) / U[i, i]
    return L, U


ref(TA + "matrix/lu_decompose.jl:lu_decompose", lambda r: (r.standard_normal((4, 4)) + 4 * np.eye(4),), _doolittle)
# Gauss-Jordan on the augmented matrix [A b]: [I x] with A x = b
ref(TA + "matrix/gauss_jordan_elim.jl:gauss_jordan",
    lambda r: (np.hstack([r.standard_normal((3, 3)) + 4 * np.eye(3), r.standard_normal((3, 1))]),),
    lambda m: np.hstack([np.eye(3), np.linalg.solve(m[:, :3], m[:, 3:])]))
ref(TA + "matrix/rotation_matrix.jl:rotation_matrix", lambda r: (0.7,),
    lambda t: np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]))
ref(TA + "statistics/pearson_correlation.jl:pearson_correlation", lambda r: (vec(r), vec(r)),
    lambda x, y: f64(np.corrcoef(x, y)[0, 1]))
ref(TA + "statistics/variance.jl:variance", lambda r: (vec(r),), lambda x: f64(np.var(x, ddof=1)))
ref(TA + "basic/difference_arr.jl:create_diff_arr", lambda r: (vec(r),),
    lambda x: np.concatenate([x[:1], np.diff(x)]))
ref(TA + "basic/difference_arr.jl:calculate_arr", lambda r: (vec(r),), lambda x: np.cumsum(x))
ref(TA + "project_euler/problem_002.jl:problem_002", lambda r: (4000000,), lambda n: i64(4613732))
ref(TA + "project_euler/problem_003.jl:problem_003", lambda r: (600851475143,), lambda n: i64(6857))
ref(TA + "project_euler/problem_004.jl:is_palindrome", lambda r: (906609,), lambda n: b_(True))
ref(TA + "project_euler/problem_005.jl:problem_005", lambda r: (20,), lambda n: i64(232792560))
ref(TA + "project_euler/problem_006.jl:problem_006", lambda r: (100,), lambda n: i64(25164150))
ref(TA + "project_euler/problem_011.jl:problem_011", lambda r: (), lambda: i64(70600674))
def _zeller(day, month, year):
    if month <= 2:
        month += 12
        year -= 1
    K, J = jrem(year, 100), jdiv(year, 100)
    h = day + jdiv(13 * (month + 1), 4) + K + jdiv(K, 4) + jdiv(J, 4) - 2 * J
    return i64(jrem(h + 4, 7))


def _problem_019(start, end):
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    res, cur = 0, int(_zeller(1, 1, start))
    for year in range(start, end + 1):
        leap = year % 400 == 0 or (year % 100 != 0 and year % 4 == 0)
        for m, nd in enumerate(days, 1):
            cur += nd
            if m == 2 and leap:
                cur += 1
            cur = jrem(cur, 7)
            res += cur == 0
    return i64(res)


ref(TA + "project_euler/problem_019.jl:problem_019", lambda r: (1901, 2000), _problem_019)
ref(TA + "project_euler/problem_019.jl:zeller_congruence", lambda r: (15, 3, 2024), _zeller)


def _euler(x0, h=1e-2, f=lambda x, t: -x):
    steps = int(math.floor((1.0 - 0.0) / h))
    x, t = np.empty(steps), np.empty(steps)
    x[0], t[0] = x0, 0.0
    for i in range(steps - 1):
        x[i + 1] = x[i] + h * f(x[i], t[i])
        t[i + 1] = t[i] + h
    return x, t


ref(TA + "math/euler_method.jl:euler_method", lambda r: (1.0,), _euler,
    entry="__corpus_entry(x0) = euler_method((x, t) -> -x, x0, (0.0, 1.0))")

# ============================================================================ FNC (Driscoll & Braun)


def _horner(c, x):
    y = c[-1]
    for k in range(len(c) - 2, -1, -1):
        y = x * y + c[k]
    return f64(y)


ref(FNC + "chapter01.jl:horner", lambda r: (vec(r, 6), 0.7), _horner)
ref(FNC + "chapter02.jl:forwardsub", lambda r: (np.tril(r.standard_normal((5, 5))) + 5 * np.eye(5), vec(r, 5)),
    lambda L, b: np.linalg.solve(L, b))
ref(FNC + "chapter02.jl:backsub", lambda r: (np.triu(r.standard_normal((5, 5))) + 5 * np.eye(5), vec(r, 5)),
    lambda U, b: np.linalg.solve(U, b))
ref(FNC + "chapter03.jl:lsnormal", lambda r: (r.standard_normal((7, 3)), vec(r, 7)),
    lambda A, b: np.linalg.lstsq(A, b, rcond=None)[0])
ref(FNC + "chapter03.jl:lsqrfact", lambda r: (r.standard_normal((7, 3)), vec(r, 7)),
    lambda A, b: np.linalg.lstsq(A, b, rcond=None)[0])

# ============================================================================ JuliaCI/BaseBenchmarks.jl
ref(BB + "simd/SIMDBenchmarks.jl:perf_axpy!", lambda r: (0.5, vec(r), vec(r)), lambda a, x, y: y + a * x)
ref(BB + "simd/SIMDBenchmarks.jl:perf_inner", lambda r: (vec(r), vec(r)), lambda x, y: f64(np.dot(x, y)))
# s over k in div(n,4):div(n,2), 1-based: X[2..4] for n = 8
ref(BB + "simd/SIMDBenchmarks.jl:perf_sum_reduce", lambda r: (vec(r),), lambda x: f64(x[1:4].sum()))
ref(BB + "simd/SIMDBenchmarks.jl:perf_manual_example!", lambda r: (vec(r), vec(r), np.zeros(8)),
    lambda x, y, z: f64(((x - y) ** 2).sum()))
ref(BB + "simd/SIMDBenchmarks.jl:perf_two_reductions", lambda r: (vec(r), vec(r), vec(r)),
    lambda x, y, z: f64((1 + x.sum() + z.sum()) * (1 + 2 * y.sum())))
# Y * (Z > Y) * (Z < Y) * ...: always zero (Bool factors), -0.0 where Y is negative
ref(BB + "simd/SIMDBenchmarks.jl:perf_conditional_loop!", lambda r: (vec(r), vec(r), vec(r)),
    lambda x, y, z: y * ((z > y) * (z < y) * (z >= y) * (z <= y)).astype(np.float64))
ref(BB + "simd/SIMDBenchmarks.jl:perf_auto_axpy!", lambda r: (0.5, vec(r), vec(r)), lambda a, x, y: y + a * x)
ref(BB + "simd/SIMDBenchmarks.jl:perf_auto_inner", lambda r: (vec(r), vec(r)), lambda x, y: f64(np.dot(x, y)))
ref(BB + "simd/SIMDBenchmarks.jl:perf_auto_sum_reduce", lambda r: (vec(r),), lambda x: f64(x[1:4].sum()))
ref(BB + "simd/SIMDBenchmarks.jl:perf_auto_manual_example!", lambda r: (vec(r), vec(r), np.zeros(8)),
    lambda x, y, z: f64(((x - y) ** 2).sum()))
ref(BB + "simd/SIMDBenchmarks.jl:perf_auto_two_reductions", lambda r: (vec(r), vec(r), vec(r)),
    lambda x, y, z: f64((1 + x.sum() + z.sum()) * (1 + 2 * y.sum())))
ref(BB + "array/sumindex.jl:perf_sumelt", lambda r: (r.standard_normal((4, 3)),), lambda a: f64(a.sum()))
ref(BB + "array/sumindex.jl:perf_sumelt_boundscheck", lambda r: (r.standard_normal((4, 3)),), lambda a: f64(a.sum()))
ref(BB + "micro/methods.jl:perf_micro_pisum", lambda r: (),
    lambda: f64(np.cumsum(1.0 / np.arange(1, 10001, dtype=np.float64) ** 2)[-1]))


def _mandel(z):
    c = z
    for n in range(1, 81):
        if abs(z) > 2:
            return n - 1
        z = z * z + c
    return 80


ref(BB + "micro/methods.jl:mandel", lambda r: (complex(-0.75, 0.1),), lambda z: i64(_mandel(z)))
ref(BB + "micro/methods.jl:stdmean", lambda r: (vec(r) + 3,), lambda x: f64(np.std(x, ddof=1) / np.mean(x)))


def _spectral(n):
    def A(i, j):
        return 1.0 / ((i + j) * (i + j + 1.0) / 2.0 + i + 1.0)
    M = np.array([[A(i, j) for j in range(n)] for i in range(n)])
    u, v = np.ones(n), np.zeros(n)
    for _ in range(10):
        w = M @ u
        v = M.T @ w
        w = M @ v
        u = M.T @ w
    return f64(math.sqrt(np.dot(u, v) / np.dot(v, v)))


ref(BB + "shootout/spectralnorm.jl:perf_spectralnorm", lambda r: (8,), _spectral)
ref(BB + "shootout/spectralnorm.jl:A", lambda r: (2, 3),
    lambda i, j: f64(1.0 / ((i + j) * (i + j + 1.0) / 2.0 + i + 1.0)))


def _ismandel(z):
    c = z
    for _ in range(50):
        if z.real * z.real + z.imag * z.imag > 4:       # abs2
            return b_(False)
        z = z * z + c
    return b_(True)


ref(BB + "shootout/mandelbrot.jl:ismandel", lambda r: (complex(-0.5, 0.3),), _ismandel)


def _laplace(N):
    u = np.zeros((N, N))
    u[0, :] = 1
    dx2 = dy2 = 0.1 * 0.1
    for _ in range(2 ** 10):
        new = u.copy()
        new[1:-1, 1:-1] = (((u[:-2, 1:-1] + u[2:, 1:-1]) * dy2 + (u[1:-1, :-2] + u[1:-1, 2:]) * dx2)
                           * (1 / (2 * (dx2 + dy2))))
        u = new
    return u


# Jacobi iterations: the devec version swaps two arrays, the vec one assigns from copies of slices,
# the sub one from views (Julia's broadcast unaliases them): all three are the same iteration
ref(BB + "problem/Laplacian.jl:perf_laplace_iter_devec", lambda r: (6,), _laplace)
ref(BB + "problem/Laplacian.jl:perf_laplace_iter_vec", lambda r: (6,), _laplace)
ref(BB + "problem/Laplacian.jl:perf_laplace_iter_sub", lambda r: (6,), _laplace)

# ============================================================================ JuliaLang/Microbenchmarks
def _mandel_mb(z):
    c = z
    for n in range(1, 81):
        if z.real * z.real + z.imag * z.imag > 4:
            return n - 1
        z = z * z + c                      # z^2 of a Complex{Float64} is z*z
    return 80


ref(MB + "mandel", lambda r: (complex(-0.75, 0.1),), lambda z: i64(_mandel_mb(z)))


def _mandelperf():
    # [mandel(complex(r, i)) for i = -1.0:0.1:1.0, r = -2.0:0.1:0.5]: i runs along the first dimension;
    # the elements of a float range are the exact decimals rounded once (Julia's rational ranges)
    out = np.zeros((21, 26), dtype=np.int64)
    for a in range(21):
        for b in range(26):
            out[a, b] = _mandel_mb(complex(float(Fraction(b - 20, 10)), float(Fraction(a - 10, 10))))
    assert out.sum() == 14791              # perf.jl's own @test
    return out


ref(MB + "mandelperf", lambda r: (), _mandelperf)
ref(MB + "pisum", lambda r: (), lambda: f64(np.cumsum(1.0 / np.arange(1, 10001, dtype=np.float64) ** 2)[-1]))

# ============================================================================ FluxML/NNlib.jl activations


def _sigm(x):
    t = math.exp(-abs(x))
    return 1 / (1 + t) if x >= 0 else t / (1 + t)


def _softplus(x):
    return math.log1p(math.exp(x)) if x < 0 else x + math.log1p(math.exp(-x))


ref(NN + "activations.jl:σ", lambda r: (-0.8,), lambda x: f64(_sigm(x)))
ref(NN + "activations.jl:hardσ", lambda r: (0.9,), lambda x: f64(min(max((x + 3) / 6, 0), 1)))
ref(NN + "activations.jl:hardtanh", lambda r: (f32(-1.7),), lambda x: f32(-1.0))
ref(NN + "activations.jl:relu", lambda r: (-0.8,), lambda x: f64(0.0))
# leakyrelu(x) with the default a = 0.01 as oftf(x, 0.01): a Float32 for a Float32 x
ref(NN + "activations.jl:leakyrelu", lambda r: (f32(-2.5),), lambda x: f32(f32(0.01) * x))
ref(NN + "activations.jl:relu6", lambda r: (7.5,), lambda x: f64(6.0))
ref(NN + "activations.jl:elu", lambda r: (-0.8,), lambda x: f64(math.exp(x) - 1))
ref(NN + "activations.jl:gelu_tanh", lambda r: (0.8,),
    lambda x: f64(x / 2 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))))
ref(NN + "activations.jl:gelu_sigmoid", lambda r: (0.8,),
    lambda x: f64(x * _sigm(math.sqrt(8 / math.pi) * x * (1 + 0.044715 * x * x))))
ref(NN + "activations.jl:swish", lambda r: (-0.8,), lambda x: f64(x * _sigm(x)))
ref(NN + "activations.jl:hardswish", lambda r: (0.9,), lambda x: f64(x * min(max((x + 3) / 6, 0), 1)))
ref(NN + "activations.jl:lisht", lambda r: (-0.8,), lambda x: f64(x * math.tanh(x)))
ref(NN + "activations.jl:selu", lambda r: (-0.8,),
    lambda x: f64(1.0507009873554804934193349852946 * 1.6732632423543772848170429916717 * (math.exp(x) - 1)))
ref(NN + "activations.jl:celu", lambda r: (-0.8,), lambda x: f64(math.exp(x) - 1))
ref(NN + "activations.jl:trelu", lambda r: (0.8,), lambda x: f64(0.0))
ref(NN + "activations.jl:softsign", lambda r: (-0.8,), lambda x: f64(x / (1 + abs(x))))
ref(NN + "activations.jl:softplus", lambda r: (-0.8,), lambda x: f64(_softplus(x)))
ref(NN + "activations.jl:logσ", lambda r: (-0.8,), lambda x: f64(-_softplus(-x)))
ref(NN + "activations.jl:logcosh", lambda r: (0.8,), lambda x: f64(math.log(math.cosh(x))))
ref(NN + "activations.jl:mish", lambda r: (-0.8,), lambda x: f64(x * math.tanh(_softplus(x))))
ref(NN + "activations.jl:tanhshrink", lambda r: (0.8,), lambda x: f64(x - math.tanh(x)))
ref(NN + "activations.jl:softshrink", lambda r: (-0.8,), lambda x: f64(x + 0.5))
ref(NN + "activations.jl:tanh_fast", lambda r: (f32(0.8),), lambda x: f32(math.tanh(x)))
ref(NN + "activations.jl:sigmoid_fast", lambda r: (f32(-0.8),), lambda x: f32(_sigm(x)))
ref(NN + "activations.jl:deriv_gelu_tanh", lambda r: (0.8,), lambda x: f64(
    (lambda lam, a: (lambda om: (1 + om) / 2 + x * lam * (x * x * 0.08943 + (1 + a * x * x)) * (1 - om * om) / 2)(
        math.tanh(lam * x * (1 + a * x * x))))(math.sqrt(2 / math.pi), 0.044715)))
ref(NN + "activations.jl:deriv_softsign", lambda r: (-0.8,), lambda x: f64(1 / (1 + abs(x)) ** 2))
ref(NN + "activations.jl:deriv_hardswish", lambda r: (0.9,), lambda x: f64(x / 3 + 0.5))


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else (out.reshape(()) if axis is None else np.squeeze(out, axis))


ref(NN + "softmax.jl:logsumexp", lambda r: (vec(r),), lambda x: f64(_logsumexp(x)))
# logsoftmax!(out, x) along dims = 1 (columns), returning out
ref(NN + "softmax.jl:logsoftmax!", lambda r: (np.zeros((4, 3)), r.standard_normal((4, 3))),
    lambda out, x: x - _logsumexp(x, axis=0, keepdims=True))
ref(NN + "softmax.jl:∇softmax!", lambda r: (np.zeros((4, 3)), r.standard_normal((4, 3)), r.random((4, 3))),
    lambda dx, dy, y: dy * y - y * np.sum(dy * y, axis=0, keepdims=True))
ref(NN + "ctc.jl:logaddexp", lambda r: (-0.5, 1.2), lambda a, b: f64(1.2 + math.log(1 + math.exp(-1.7))))
ref(NN + "audio/mel.jl:_hz_to_mel", lambda r: (440.0,), lambda f: f64(2595 * math.log10(1 + f / 700)))
ref(NN + "audio/mel.jl:_mel_to_hz", lambda r: (549.64,), lambda m: f64(700 * (10 ** (m / 2595) - 1)))
# Float32 keywords (amin = 1f-10, top_db = 80f0) against a Float64 input: Float64 throughout, with
# amin the Float64 value of the Float32 1f-10
ref(NN + "audio/spectrogram.jl:power_to_db", lambda r: (np.array([1e-12, 1e-9, 1e-3, 0.5, 2.0, 100.0]),),
    lambda s: (lambda ls: np.maximum(ls, ls.max() - 80.0))(
        10.0 * (np.log10(np.maximum(float(f32(1e-10)), s)) - np.log10(1.0))))
# all Float32: ref .* 10f0 .^ (s_db .* 0.1f0)
ref(NN + "audio/spectrogram.jl:db_to_power", lambda r: (np.array([-20.0, -3.0, 0.0, 6.5, 30.0], dtype=f32),),
    lambda s: (f32(1) * f32(10) ** (s * f32(0.1))).astype(f32))
ref(NN + "sampling.jl:unnormalize", lambda r: (0.3, 8), lambda c, n: f64(((c + 1.0) * 0.5) * (n - 1.0) + 1.0))
# min(8, max(1, 9.5)): Int and Float64 promote to Float64
ref(NN + "sampling.jl:clip_coordinate", lambda r: (9.5, 8), lambda c, n: f64(8.0))
ref(NN + "utils.jl:safe_div", lambda r: (3.0, 0.0), lambda x, y: f64(3.0))
ref(NN + "dim_helpers.jl:flipweight", lambda r: (r.standard_normal((3, 3, 2, 2)).astype(f32),),
    lambda w: w[::-1, ::-1, :, :].copy())
ref(NN + "rotation.jl:_bilinear_helper", lambda r: (2.7, 3.2, 2.0, 3.0),
    lambda y, x, yf, xf: (f64(y - yf), f64(1 - (y - yf)), f64(x - xf), f64(1 - (x - xf))))

# ============================================================================ FluxML/model-zoo
# globals ϵ = 1f0, ϵ_MIN = 1f-2, ϵ_DECAY = 995f-3: all Float32
ref(MZ + "contrib/games/differentiable-programming/cartpole/DQN.jl:get_ϵ", lambda r: (3,),
    lambda e: f32(max(f32(1e-2), min(f32(1), f32(1) - np.log10(f32(e) * f32(0.995))))))
ref(MZ + "contrib/games/differentiable-programming/trebuchet/DDPG.jl:lerp", lambda r: (0.3, 2, 10),
    lambda x, lo, hi: f64(x * (hi - lo) + lo))
ref(MZ + "other/housing/housing.jl:meansquarederror", lambda r: (r.standard_normal((1, 6)), r.standard_normal((1, 6))),
    lambda a, b: f64(((a - b) ** 2).sum() / 6))
ref(MZ + "tutorials/60-minute-blitz/60-minute-blitz.jl:f", lambda r: (0.7,), lambda x: f64(3 * x * x + 2 * x + 1))
ref(MZ + "tutorials/60-minute-blitz/60-minute-blitz.jl:df", lambda r: (0.7,), lambda x: f64(6 * x + 2))
ref(MZ + "tutorials/60-minute-blitz/60-minute-blitz.jl:mysin", lambda r: (0.7,),
    lambda x: f64(sum((-1) ** k * x ** (1 + 2 * k) / math.factorial(1 + 2 * k) for k in range(6))))
ref(MZ + "tutorials/60-minute-blitz/60-minute-blitz.jl:myloss",
    lambda r: (r.standard_normal((3, 4)), r.standard_normal(3), r.standard_normal(4)),
    lambda W, b, x: f64((W @ x + b).sum()))


def _logsig(x):
    return -np.logaddexp(0.0, -x)


# Flux.logitbinarycrossentropy(ŷ, y) = mean((1 - y) .* ŷ .- logσ.(ŷ))
ref(MZ + "vision/dcgan_mnist/dcgan_mnist.jl:discriminator_loss", lambda r: (vec(r), vec(r)),
    lambda a, b: f64(np.mean(-_logsig(a)) + np.mean(b - _logsig(b))))
ref(MZ + "vision/dcgan_mnist/dcgan_mnist.jl:generator_loss", lambda r: (vec(r),), lambda a: f64(np.mean(-_logsig(a))))
ref(MZ + "vision/cdcgan_mnist/cGAN_mnist.jl:discr_loss", lambda r: (vec(r).astype(f32), vec(r).astype(f32)),
    lambda a, b: f32(np.mean(-_logsig(a.astype(f64))) + np.mean(b - _logsig(b.astype(f64)))))
# sqrt.((σ .^ (2t) .- 1f0) ./ 2f0 ./ log(σ)) with σ = 25f0: Float32 for a Float32 t
ref(MZ + "vision/diffusion_mnist/diffusion_mnist.jl:marginal_prob_std", lambda r: (r.random(6).astype(f32),),
    lambda t: np.sqrt((f32(25) ** (2 * t) - f32(1)) / f32(2) / np.log(f32(25))).astype(f32))
ref(MZ + "vision/diffusion_mnist/diffusion_plot.jl:diffusion_coeff", lambda r: (r.random(6),), lambda t: 25.0 ** t)
ref(MZ + "vision/diffusion_mnist/diffusion_mnist.jl:expand_dims", lambda r: (vec(r),), lambda x: x.reshape(1, 1, 8))
ref(MZ + "other/fizzbuzz/fizzbuzz.jl:features", lambda r: (14,), lambda x: np.array([2.0, 4.0, 14.0]))


def _onehot_cols(r, k=10, n=5):
    y = np.zeros((k, n))
    y[r.integers(0, k, n), np.arange(n)] = 1.0
    return y


ref(MZ + "vision/spatial_transformer/spatial_transformer.jl:accuracy",
    lambda r: (r.standard_normal((10, 5)), _onehot_cols(r)),
    lambda yh, y: f64(np.mean(np.argmax(yh, axis=0) == np.argmax(y, axis=0))))

# ============================================================================ JuliaMath/SpecialFunctions.jl
ref(SF + "SpecialFunctions.jl:fastabs", lambda r: (-2.5,), lambda x: f64(2.5))
ref(SF + "beta_inc.jl:esum", lambda r: (-0.3, 0.5), lambda mu, x: f64(math.exp(mu + x)))


def _en_taylor(nu, start, z0, d):
    a = math.exp(z0) * start
    asum = a
    dpf = -d
    eps = 10 * np.spacing(abs(asum))            # 10 * eps(real(asum))
    for k in range(101):
        a_pre = dpf + a * d * (nu - k - 1) / (k + 1)
        a = a_pre / z0
        prev = asum
        asum += a
        if abs(prev - asum) < eps:
            break
        dpf *= -d / (k + 2)
    return f64(math.exp(-z0) * asum)


ref(SF + "expint.jl:En_taylor", lambda r: (1.5, 0.2, 2.0, 0.1), _en_taylor)
ref(SF + "expint.jl:En_safeexpmult", lambda r: (1.2, 0.5), lambda z, a: f64(math.exp(z) * a))
ref(SF + "gamma.jl:signflip", lambda r: (3, 2.5), lambda m, z: f64(-2.5))
ref(SF + "gamma.jl:pow_oftype", lambda r: (1.5, 2, 0.5), lambda x, y, p: f64(2.0 ** 0.5))

# ============================================================================ JuliaMath/Roots.jl


def _secant(a, b, f=lambda x: x * x - 2.0, maxevals=100):
    nan = math.nan
    rtol = 8 * np.spacing(1.0)
    fa, fb = f(a), f(b)
    if fb == fa:
        return f64(nan)
    for _ in range(maxevals):
        m = b - (b - a) * fb / (fb - fa)
        fm = f(m)
        if fm == 0:
            return f64(m)
        if math.isnan(fm):
            return f64(nan)
        if abs(fm) <= max(0.0, abs(m) * rtol):
            return f64(m)
        if fm == fb:
            if np.sign(fm) * np.sign(f(np.nextafter(m, math.inf))) <= 0:
                return f64(m)
            if np.sign(fm) * np.sign(f(np.nextafter(m, -math.inf))) <= 0:
                return f64(m)
            return f64(nan)
        a, b, fa, fb = b, m, fb, fm
    return f64(nan)


ref(RT + "simple.jl:secant", lambda r: (1.0, 2.0), _secant,
    entry="__corpus_entry(a, b) = secant(x -> x^2 - 2.0, a, b)")
ref(RT + "simple.jl:qq", lambda r: (1.0, 2.5, 4.5), lambda a, b, c: f64((c - b) / (b - a)))
ref(RT + "utils.jl:quad_vertex", lambda r: (1.0, 0.5, 2.0, -0.3, 3.0, 1.1),
    lambda c, fc, b, fb, a, fa: f64(
        ((a + b) - (fb - fa) / (b - a) / ((fb - fc) / (b - c) - (fb - fa) / (b - a)) * (c - a)) / 2))
ref(RT + "utils.jl:inverse_quadratic_step", lambda r: (1.0, 2.0, 3.0, -1.0, 0.5, 2.0),
    lambda a, b, c, fa, fb, fc: f64(a * fb * fc / (fa - fb) / (fa - fc) + b * fa * fc / (fb - fa) / (fb - fc)
                                    + c * fa * fb / (fc - fa) / (fc - fb)))
ref(RT + "utils.jl:secant_step", lambda r: (1.0, 2.0, -1.0, 2.0),
    lambda a, b, fa, fb: f64(a - fa * (b - a) / (fb - fa)))
ref(RT + "utils.jl:guarded_secant_step", lambda r: (1.0, 2.0, -1.0, 2.0),
    lambda a, b, fa, fb: (f64(2.0 - 2.0 / 3.0), b_(False)))
ref(RT + "utils.jl:choose_smallest", lambda r: (1.0, 2.0, -0.5, 0.25), lambda a, b, fa, fb: (f64(2.0), f64(0.25)))
ref(RT + "utils.jl:_extrema", lambda r: (vec(r),), lambda x: (f64(x.min()), f64(x.max())))
# the midpoint of the bit patterns of |x| and |y|, with the sign of x + y
ref(RT + "Bracketing/bisection.jl:__middle", lambda r: (1.0, 3.0),
    lambda x, y: f64(np.sign(x + y) * ((np.array([abs(x)]).view(np.uint64) + np.array([abs(y)]).view(np.uint64))
                                       >> np.uint64(1)).view(np.float64)[0]))


def _newton_quadratic(a, b, d, fa, fb, fd, k):
    def f_ab(a, b, fa, fb):
        return (fb - fa) / (b - a)
    A = (f_ab(b, d, fb, fd) - f_ab(a, b, fa, fb)) / (d - a)
    B = f_ab(a, b, fa, fb)
    if A == 0 or not math.isfinite(A):
        return f64(a - fa / B)
    r = a if np.sign(A) * np.sign(fa) > 0 else b
    for _ in range(k):
        P = fa + B * (r - a) + A * (r - a) * (r - b)
        dP = B + A * (2 * r - a - b)
        r -= P / dP
    return f64(r)


ref(RT + "Bracketing/alefeld_potra_shi.jl:newton_quadratic", lambda r: (1.0, 2.0, 3.0, -1.0, 0.5, 2.5, 3),
    _newton_quadratic)

# ============================================================================ more BaseBenchmarks


def _mandel_abs(z):
    c = z
    for n in range(1, 81):
        if abs(z) > 2:                 # abs of a Complex is hypot, as Python's
            return n - 1
        z = z * z + c
    return 80


def _micro_mandel():
    out = np.zeros((21, 26), dtype=np.int64)
    for a in range(21):
        for b in range(26):
            out[a, b] = _mandel_abs(complex(float(Fraction(b - 20, 10)), float(Fraction(a - 10, 10))))
    return out


ref(BB + "micro/methods.jl:perf_micro_mandel", lambda r: (), _micro_mandel)
# the Benchmarks Game's maximum number of flips for n = 7
ref(BB + "shootout/fannkuch.jl:perf_fannkuch", lambda r: (7,), lambda n: i64(16))
ref(BB + "problem/ChaosGame.jl:dist", lambda r: ({"x": 1.0, "y": 2.0, "z": 3.0}, {"x": 4.0, "y": 6.0, "z": 3.0}),
    lambda u, v: f64(5.0))
ref(BB + "problem/ChaosGame.jl:linear_combination",
    lambda r: ({"x": 1.0, "y": 2.0, "z": 3.0}, {"x": 4.0, "y": 6.0, "z": 3.0}, 0.25),
    lambda u, v, l1: {k: f64(u[k] * l1 + v[k] * (1 - l1)) for k in ("x", "y", "z")})
ref(BB + "problem/Raytracer.jl:unitize", lambda r: ({"x": 3.0, "y": 0.0, "z": 4.0},),
    lambda v: {"x": f64(0.6), "y": f64(0.0), "z": f64(0.8)})
ref(BB + "misc/MiscellaneousBenchmarks.jl:pathcost",
    lambda r: (r.random((5, 5)), np.array([1, 3, 5, 2, 4, 1])),
    lambda d, p: f64(sum(d[p[i] - 1, p[i + 1] - 1] for i in range(len(p) - 1))))
# s = 0; s += v[1] n times (s becomes a Float64 at the first addition)
ref(BB + "scalar/ScalarBenchmarks.jl:perf_iterate_indexed", lambda r: (3, vec(r)), lambda n, v: f64(v[0] + v[0] + v[0]))
ref(BB + "scalar/ScalarBenchmarks.jl:perf_iterate_in", lambda r: (2, vec(r)), lambda n, v: f64(2 * v.sum()))
ref(BB + "union/UnionBenchmarks.jl:perf_sum", lambda r: (vec(r),), lambda x: f64(x.sum()))
ref(BB + "union/UnionBenchmarks.jl:perf_sum4", lambda r: (vec(r),), lambda x: f64(x.sum()))
ref(BB + "union/UnionBenchmarks.jl:perf_countnothing", lambda r: (vec(r),), lambda x: i64(0))
