"""Differential tests of the language core: each case is a Julia-subset program run through the
Python API (`jlhlo.load(...).function(entry)(*args)`) on fresh random inputs and compared with an
independent NumPy/Python reference, dtype and shape exactly (see conftest.assert_same).

A case's `runs(rng)` gives one or more argument tuples (same types, so the program compiles once);
`expect(*args)` computes what Julia would return."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from conftest import assert_same, run_jl
from programs import ESCAPE, HEAT, NEWTON

f64, f32, f16, i64, i32, i8, u8, u64, b_ = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int8,
                                           np.uint8, np.uint64, np.bool_)
c64, c128 = np.complex64, np.complex128


@dataclass
class Case:
    name: str
    source: str
    entry: str
    runs: Callable[[np.random.Generator], list[tuple]]
    expect: Callable[..., Any]
    rtol: float | None = None
    atol: float | None = None


CASES: list[Case] = []


def case(name: str, source: str, entry: str, runs: Callable, expect: Callable, rtol=None, atol=None) -> None:
    CASES.append(Case(name, source, entry, runs, expect, rtol, atol))


def one(*make: Callable[[np.random.Generator], Any]) -> Callable:
    """runs() for a single call whose arguments are built by `make` from the rng."""
    return lambda rng: [tuple(m(rng) for m in make)]


def vec(n: int, dtype=f64) -> Callable:
    return lambda rng: rng.standard_normal(n).astype(dtype)


def mat(*shape: int, dtype=f64) -> Callable:
    return lambda rng: rng.standard_normal(shape).astype(dtype)


def ints(*shape: int, lo=-50, hi=50, dtype=i64) -> Callable:
    return lambda rng: rng.integers(lo, hi, size=shape).astype(dtype)


def sc(dtype=f64, lo=-3.0, hi=3.0) -> Callable:
    return lambda rng: dtype(rng.uniform(lo, hi))


def isc(lo=-100, hi=100, dtype=i64) -> Callable:
    return lambda rng: dtype(rng.integers(lo, hi))


def jl_div(a: int, b: int) -> int:          # Julia div / ÷: truncation toward zero
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def jl_rem(a: int, b: int) -> int:          # Julia rem / %: the dividend's sign
    return a - b * jl_div(a, b)


def wrap64(v: int) -> i64:
    v &= (1 << 64) - 1
    return i64(v - (1 << 64) if v >= 1 << 63 else v)


def wrap32(v: int) -> i32:
    v &= (1 << 32) - 1
    return i32(v - (1 << 32) if v >= 1 << 31 else v)


# =============================================================================== arithmetic, promotion
case("float_arith", """
f(x::Float64, y::Float64) = (x * y + 2x - y / 3, x - y, -x, x^2, x^3, x^-2, abs(x)^0.5, 2.0^y, x / y)
""", "f", one(sc(), sc(lo=0.5, hi=2.0)),
    lambda x, y: (f64(x * y + 2 * x - y / 3), f64(x - y), f64(-x), f64(x * x), f64(x ** 3), f64(1 / (x * x)),
                  f64(abs(x) ** 0.5), f64(2.0 ** y), f64(x / y)))

case("promotion_rules", """
function promo(x::Vector{Float32}, n::Int64, y::Float64, s::Float32)
    return (x .* 2.0, x .* 2, x .+ 1f0, n + 1.5f0, n / 2, n * y, x ./ 2, n + true, 2x,
            s * 2, s * 2.0, s + n, x .* Float16(2), Int32(3) + 4, Int32(3) + Int32(4), 1f0 / 3, 1 / 3,
            true + true, s / n, n * s)
end
""", "promo", one(vec(4, f32), isc(), sc(), sc(f32)),
    lambda x, n, y, s: (x.astype(f64) * 2.0, x * f32(2), x + f32(1), f32(n + 1.5), f64(n / 2), f64(n * y),
                        x / f32(2), i64(n + 1), f32(2) * x, f32(s * f32(2)), f64(f64(s) * 2.0), f32(s + f32(n)),
                        x * f32(2), i64(7), i32(7), f32(1) / f32(3), f64(1 / 3), i64(2), f32(s / f32(n)),
                        f32(f32(n) * s)))

case("int32_arith", """
f(a::Int32, b::Int32) = (a + b, a * b, a - b, a / b, a ÷ b, a % b, a + 1, a + Int32(1), -a, abs(a), a * 2.0f0)
""", "f", lambda rng: [(i32(17), i32(-5)), (i32(-40), i32(7))],
    lambda a, b: (i32(a + b), i32(a * b), i32(a - b), f64(int(a) / int(b)), i32(jl_div(int(a), int(b))),
                  i32(jl_rem(int(a), int(b))), i64(int(a) + 1), i32(a + 1), i32(-a), i32(abs(a)), f32(a) * f32(2)))

INTDIV = """
function intdiv(a::Int64, b::Int64)
    return (a ÷ b, div(a, b), a % b, rem(a, b), mod(a, b), a / b, fld(a, b), cld(a, b), divrem(a, b))
end
"""
case("int_division_signs", INTDIV, "intdiv",
     lambda rng: [(i64(a), i64(b)) for a, b in [(17, 5), (-17, 5), (17, -5), (-17, -5), (3, 7), (-3, 7), (0, -3),
                                                (15, 5), (-15, 5), (int(rng.integers(-10**6, 10**6)), 97)]],
     lambda a, b: (i64(jl_div(a, b)), i64(jl_div(a, b)), i64(jl_rem(a, b)), i64(jl_rem(a, b)), i64(int(a) % int(b)),
                   f64(int(a) / int(b)), i64(int(a) // int(b)), i64(-((-int(a)) // int(b))),
                   (i64(jl_div(a, b)), i64(jl_rem(a, b)))))

_FLOAT_PAIRS = [(f64(7.5), f64(2.0)), (f64(-7.5), f64(2.0)), (f64(7.5), f64(-2.0)), (f64(-7.5), f64(-2.0))]
case("float_rem_mod", """
f(x::Float64, y::Float64) = (x % y, rem(x, y), mod(x, y))
""", "f", lambda rng: _FLOAT_PAIRS,
    lambda x, y: (f64(math.fmod(x, y)), f64(math.fmod(x, y)), f64(x - y * math.floor(x / y))))

case("float_div_trunc", """
f(x::Float64, y::Float64) = (div(x, y), x ÷ y, trunc(x), x ÷ 1)
""", "f", lambda rng: _FLOAT_PAIRS,
    lambda x, y: (f64(math.trunc(x / y)), f64(math.trunc(x / y)), f64(math.trunc(x)), f64(math.trunc(x))))

case("int_power", """
f(a::Int64, n::Int64, x::Float64) = (a^2, a^3, 2^10, a^n, x^n, x^2, x^3.0, (-2)^3, 3^n)
""", "f", lambda rng: [(i64(7), i64(5), f64(1.1)), (i64(-3), i64(40), f64(-0.9)), (i64(2), i64(0), f64(2.5))],
    lambda a, n, x: (wrap64(int(a) ** 2), wrap64(int(a) ** 3), i64(1024), wrap64(int(a) ** int(n)), f64(x ** int(n)),
                     f64(x * x), f64(x ** 3.0), i64(-8), wrap64(3 ** int(n))), rtol=1e-12)

case("overflow_wraps", """
function ov(a::Int64, k::Int32)
    return (typemax(Int64) + 1, typemin(Int64) - 1, a * a, -typemin(Int64), typemax(Int64) + a,
            typemax(Int32) + Int32(1), k * k, typemax(Int32) + 1, abs(typemin(Int64)))
end
""", "ov", lambda rng: [(i64(3037000500), i32(70000)), (i64(-5), i32(3))],
    lambda a, k: (i64(-2**63), i64(2**63 - 1), wrap64(int(a) ** 2), i64(-2**63), wrap64(2**63 - 1 + int(a)),
                  i32(-2**31), wrap32(int(k) ** 2), i64(2**31), i64(-2**63)))

case("uint8_int8_wrap", """
f(a::UInt8, b::Int8) = (a + a, a * UInt8(3), b + b, -b, a - UInt8(200), b * Int8(100))
""", "f", lambda rng: [(u8(200), i8(100)), (u8(7), i8(-128))],
    lambda a, b: (u8((int(a) * 2) % 256), u8((int(a) * 3) % 256), np.array((int(b) * 2 + 128) % 256 - 128, i8),
                  np.array((-int(b) + 128) % 256 - 128, i8), u8((int(a) - 200) % 256),
                  np.array((int(b) * 100 + 128) % 256 - 128, i8)))

case("bit_ops", """
function bits(a::Int64, b::Int64)
    return (a & b, a | b, xor(a, b), a ⊻ b, ~a, a << 3, a >> 2, a >>> 60, b << 63, (-1) >>> 1, !true,
            a & 0xff)
end
""", "bits", lambda rng: [(i64(a), i64(b)) for a, b in [(-123456789, 987654321), (5, 12), (int(rng.integers(-2**40, 2**40)), 1 << 20)]],
    lambda a, b: (i64(a & b), i64(a | b), i64(a ^ b), i64(a ^ b), i64(~a), wrap64(int(a) << 3), i64(int(a) >> 2),
                  i64((int(a) & (2**64 - 1)) >> 60), wrap64(int(b) << 63), i64(2**63 - 1), np.bool_(False),
                  i64(int(a) & 0xff)))

case("shift_runtime_counts", """
sh(a::Int64, n::Int64) = (a << n, a >> n, a >>> n)
""", "sh", lambda rng: [(i64(-1000), i64(n)) for n in (0, 1, 5, 63, 64, 70, -1, -3)],
    lambda a, n: ((wrap64(int(a) << int(n)) if n < 64 else i64(0)) if n >= 0 else i64(int(a) >> -int(n)),
                  (i64(int(a) >> min(int(n), 63))) if n >= 0 else (wrap64(int(a) << -int(n))),
                  (wrap64((int(a) & (2**64 - 1)) >> int(n)) if n < 64 else i64(0)) if n >= 0 else wrap64(int(a) << -int(n))))

case("float_math", """
function fm(x::Vector{Float64}, y::Float64)
    return (exp.(x), log.(abs.(x)), sqrt.(abs.(x)), sin.(x), cos.(x), tanh.(x), abs.(x), sign.(x),
            clamp.(x, -0.5, 0.5), max.(x, y), min.(x, y), floor.(x), ceil.(x), round.(x), max(y, 1.0),
            floor(Int, y), ceil(Int64, y), round(Int, y), √abs(y), ifelse.(x .> 0, x, -x))
end
""", "fm", lambda rng: [(np.concatenate([rng.standard_normal(5) * 3, [0.5, 1.5, 2.5, -0.5, -2.5, 0.0]]),
                        f64(rng.uniform(-3, 3)))],
    lambda x, y: (np.exp(x), np.log(np.abs(x)), np.sqrt(np.abs(x)), np.sin(x), np.cos(x), np.tanh(x), np.abs(x),
                  np.sign(x), np.clip(x, -0.5, 0.5), np.maximum(x, y), np.minimum(x, y), np.floor(x), np.ceil(x),
                  np.round(x), f64(max(y, 1.0)), i64(math.floor(y)), i64(math.ceil(y)), i64(np.round(y)),
                  f64(math.sqrt(abs(y))), np.abs(x)))

case("float32_math_stays_f32", """
function fm32(x::Vector{Float32})
    return (exp.(x), sqrt.(abs.(x)), tanh.(x), x .^ 2, 2 .* x .+ 1, x / 2, sum(x), maximum(x), x .- 0.5f0,
            sum(x) / length(x))
end
""", "fm32", one(vec(6, f32)),
    lambda x: (np.exp(x), np.sqrt(np.abs(x)), np.tanh(x), x * x, f32(2) * x + f32(1), x / f32(2), f32(x.sum()),
               f32(x.max()), x - f32(0.5), f32(x.sum() / f32(6))), rtol=1e-5, atol=1e-6)

case("juxtaposition_unicode", """
function uni(x::Float64, Δx::Float64)
    λ = 2x
    y = 3(x + 1)
    return (λ, y, x ≤ Δx, x ≥ Δx, x ≠ Δx, 2λ^2)
end
""", "uni", one(sc(), sc()),
    lambda x, d: (f64(2 * x), f64(3 * (x + 1)), np.bool_(x <= d), np.bool_(x >= d), np.bool_(x != d), f64(2 * (2 * x) ** 2)))

# =============================================================================== comparisons, logic
case("comparisons_chained", """
function cmp(a::Float64, b::Float64, n::Int64)
    return (a < b, a <= b, a > b, a >= b, a == b, a != b, 0.0 < a < 1.0, -1.0 <= a < b <= 2.0,
            n == 3.0, n < a, 1 < n <= 5, isless(a, b), a ≈ a + 1e-12, a ≈ b)
end
""", "cmp", lambda rng: [(f64(0.5), f64(1.5), i64(3)), (f64(2.0), f64(-1.0), i64(7)), (f64(0.25), f64(0.25), i64(1))]
    + [(f64(rng.uniform(-2, 2)), f64(rng.uniform(-2, 2)), i64(rng.integers(0, 8)))],
    lambda a, b, n: tuple(np.bool_(v) for v in (a < b, a <= b, a > b, a >= b, a == b, a != b, 0 < a < 1,
                                                 -1 <= a < b <= 2, n == 3, n < a, 1 < n <= 5, a < b, True,
                                                 abs(a - b) <= math.sqrt(2.220446049250313e-16) * max(abs(a), abs(b)))))

case("short_circuit_runtime", """
function sc(a::Float64, b::Float64, x::Vector{Float64})
    n = 0
    if a > 0 && b > 0
        n += 1
    end
    if a > 0 || b > 0
        n += 10
    end
    c = a > 0 && b > 0
    d = a > 0 || b > 0
    e = !(a > 0) && b > 0
    # the right side must not run when the left decides (it would write out of the loop's range)
    i = 1
    while i <= length(x) && x[i] < 0.5
        i += 1
    end
    return (n, c, d, e, i)
end
""", "sc", lambda rng: [(f64(a), f64(b), rng.uniform(-1, 1, 6)) for a, b in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)]]
    + [(f64(0.1), f64(0.2), np.full(6, -1.0))],
    lambda a, b, x: (i64((1 if a > 0 and b > 0 else 0) + (10 if a > 0 or b > 0 else 0)), np.bool_(a > 0 and b > 0), np.bool_(a > 0 or b > 0),
                     np.bool_(not a > 0 and b > 0), i64(next((k + 1 for k, v in enumerate(x) if v >= 0.5), len(x) + 1))))

case("short_circuit_statement_with_parenthesized_assignment", """
function sc(a::Float64, b::Float64)
    n = 0
    a > 0 && (n += 1)
    b > 0 || (n = n + 10)
    a < -1 && return -n
    return n
end
""", "sc", lambda rng: [(f64(a), f64(b)) for a, b in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-2.0, -1.0)]],
    lambda a, b: i64(-(10 if b <= 0 else 0) if a < -1 else (1 if a > 0 else 0) + (0 if b > 0 else 10)))

case("ternary_and_ifelse", """
function tern(x::Float64, n::Int64)
    a = x > 0 ? x : -x
    c = n > 2 ? 2x : 3x
    return (a, c, ifelse(n > 2, n, 0))
end
""", "tern", lambda rng: [(f64(v), i64(n)) for v, n in [(2.0, 1), (-3.0, 4), (0.5, 3), (-0.25, 2)]],
    lambda x, n: (f64(abs(x)), f64(2 * x if n > 2 else 3 * x), i64(n if n > 2 else 0)))

case("nested_ternary_runtime", """
clip(x::Float64) = x > 1 ? 1.0 : x < -1 ? -1.0 : x
clip2(x::Float64) = x > 1 ? 1.0 : (x < -1 ? -1.0 : x)
nt(x::Float64) = (clip(x), clip2(x))
""", "nt", lambda rng: [(f64(v),) for v in (2.0, -3.0, 0.5, -0.25)],
    lambda x: (f64(1.0 if x > 1 else (-1.0 if x < -1 else x)),) * 2)

case("if_elseif_runtime", """
function piecewise(x::Float64)
    if x > 1.0
        y = 2x
    elseif x < -1.0
        y = -x
    elseif x == 0.0
        y = 100.0
    else
        y = x^2
    end
    return x >= 0 ? y : -y
end
""", "piecewise", lambda rng: [(f64(v),) for v in (2.0, -3.0, 0.5, -0.5, 0.0, float(rng.uniform(-3, 3)))],
    lambda x: f64((2 * x if x > 1 else (-x if x < -1 else (100.0 if x == 0 else x * x))) * (1 if x >= 0 else -1)))

case("if_constant_conditions", """
const DEBUG = false
const LEVEL = 3
function cc(x::Float64)
    y = x
    if DEBUG
        y = y + 1000.0
    end
    if LEVEL > 2
        y = y * 2
    elseif LEVEL > 1
        y = y * 3
    else
        y = y * 5
    end
    z = true ? y : [1.0]       # the untaken arm has another type: folded away, no merge
    if x isa Float64
        z += 1
    end
    return z
end
""", "cc", one(sc()), lambda x: f64(2 * x + 1))

case("if_without_else_and_type_stable_merge", """
function m(x::Float32, n::Int64)
    y = 0f0
    if n > 0
        y = x * n
    end
    if x < 0
        return -y
    end
    return y
end
""", "m", lambda rng: [(f32(v), i64(n)) for v, n in [(1.5, 2), (-1.5, 3), (2.0, 0), (-2.0, -1)]],
    lambda x, n: f32(-(f32(x) * f32(n)) if n > 0 and x < 0 else (f32(x) * f32(n) if n > 0 else f32(0))))

# =============================================================================== loops
case("for_ranges", """
function rg(n::Int64)
    s1 = 0
    for i in 1:n
        s1 += i
    end
    s2 = 0
    for i in 1:2:n
        s2 += i
    end
    s3 = 0
    for i in n:-1:1
        s3 = 10 * s3 + i % 10
    end
    s4 = 0
    for i in 10:-3:1
        s4 = s4 * 100 + i
    end
    s5 = 0
    for i in 5:1
        s5 += 1
    end
    s6 = 0.0
    for x in 1:4
        s6 += x / 2
    end
    s7 = 0
    for i = n:(n + 3)
        s7 += i
    end
    return (s1, s2, s3, s4, s5, s6, s7, length(1:2:n), sum(1:10), collect(1:4), collect(3:-1:1))
end
""", "rg", lambda rng: [(i64(n),) for n in (0, 1, 7, 12, int(rng.integers(2, 40)))],
    lambda n: (i64(sum(range(1, n + 1))), i64(sum(range(1, n + 1, 2))),
               _s3(n),
               i64(10070401), i64(0), f64(5.0), i64(4 * n + 6), i64(len(range(1, n + 1, 2))), i64(55),
               np.arange(1, 5, dtype=i64), np.array([3, 2, 1], i64)))

case("float_step_range_loop", """
function fr(n::Int64)
    s = 0.0
    for x in 0.5:0.5:2.0
        s += x
    end
    for x in 0.0:0.25:n
        s += x
    end
    return s
end
""", "fr", lambda rng: [(i64(n),) for n in (0, 1, 3)], lambda n: f64(5.0 + sum(0.25 * k for k in range(4 * n + 1))))

case("nested_loops_runtime_bounds", """
function nl(n::Int64, m::Int64)
    s = 0
    for i in 1:n
        for j in i:m
            s += i * j
        end
    end
    t = 0
    for i in 1:n, j in 1:m
        t += i - j
    end
    return (s, t)
end
""", "nl", lambda rng: [(i64(a), i64(b)) for a, b in [(3, 4), (0, 5), (5, 0), (6, 6), (int(rng.integers(1, 9)), int(rng.integers(1, 9)))]],
    lambda n, m: (i64(sum(i * j for i in range(1, n + 1) for j in range(i, m + 1))),
                  i64(sum(i - j for i in range(1, n + 1) for j in range(1, m + 1)))))

case("loop_over_arrays", """
function la(x::Vector{Float64}, X::Matrix{Float64}, k::Vector{Int64})
    s = 0.0
    for v in x
        s += v * v
    end
    h = 0.0
    for v in X            # column-major order
        h = 0.5 * h + v
    end
    p = 1
    for v in k
        p = p * 3 + v
    end
    idx = 0
    for i in eachindex(x)
        idx += i
    end
    ax = 0
    for j in axes(X, 2), i in axes(X, 1)
        ax += i * j
    end
    return (s, h, p, idx, ax)
end
""", "la", one(vec(5), mat(3, 4), ints(4)),
    lambda x, X, k: (f64((x * x).sum()), f64(_horner_half(X.flatten("F"))), wrap64(_p3(k)), i64(15),
                     i64(sum(i * j for i in range(1, 4) for j in range(1, 5)))))


def _s3(n):
    s = 0
    for i in range(n, 0, -1):
        s = 10 * s + i % 10
    return wrap64(s)


def _lt(x, v):
    s = f32(0)
    s = f32(s + f32(1) * x)
    s = f32(s + f32(2.5) * x)
    s = f64(s) + 3.0 * f64(x)
    s = s + f64(f32(4) * x)
    s = s + f64(x)
    sv = f32(v[0] + v[1] + v[2])
    s2 = f32(f32(2) * v[0] + f32(2) * v[1] + f32(2) * v[2])
    return (f64(s), f64(f64(sv) + f64(s2) + f64(sv)))


def _horner_half(vs):
    h = 0.0
    for v in vs:
        h = 0.5 * h + v
    return h


def _p3(k):
    p = 1
    for v in k:
        p = p * 3 + int(v)
    return p


case("loop_over_tuple_mixed_types_unrolled", """
function lt(x::Float32, v::Vector{Float32})
    items = (1, 2.5f0, 3.0, Int32(4), true)
    s = 0f0
    for it in items
        s += it * x        # type changes per item: Int64*Float32 = Float32, Float64 promotes
    end
    tot = 0.0
    for a in (v, 2v, sum(v))
        tot += sum(a)
    end
    return (s, tot)
end
""", "lt", one(sc(f32), vec(3, f32)),
    lambda x, v: _lt(x, v), rtol=1e-6)

case("while_newton", NEWTON, "newton_sqrt", lambda rng: [(f64(2.0),), (f64(1e6),), (f64(rng.uniform(0.1, 100)),)],
    lambda a: _newton(float(a)))


def _newton(a):
    x, it = a, 0
    while abs(x * x - a) > 1e-12 * a and it < 100:
        x = (x + a / x) / 2
        it += 1
    return f64(x), i64(it)


case("break_continue", """
function bc(x::Vector{Float64}, lim::Float64)
    s = 0.0
    n = 0
    for v in x
        if v < 0
            continue
        end
        if s + v > lim
            break
        end
        s += v
        n += 1
    end
    k = 0
    while true
        k += 1
        k >= 7 && break
    end
    c = 0
    for i in 1:10
        i % 3 == 0 && continue
        c += i
    end
    return (s, n, k, c)
end
""", "bc", lambda rng: [(rng.uniform(-1, 2, 10), f64(lim)) for lim in (0.0, 3.0, 100.0, float(rng.uniform(0, 6)))],
    lambda x, lim: _bc(x, lim) + (i64(7), i64(1 + 2 + 4 + 5 + 7 + 8 + 10)))


def _bc(x, lim):
    s, n = 0.0, 0
    for v in x:
        if v < 0:
            continue
        if s + v > lim:
            break
        s += v
        n += 1
    return (f64(s), i64(n))


case("early_return_in_nested_loop", """
function findfirst_pair(X::Matrix{Float64}, t::Float64)
    for j in 1:size(X, 2)
        for i in 1:size(X, 1)
            if X[i, j] > t
                return (i, j)
            end
        end
    end
    return (0, 0)
end
""", "findfirst_pair", lambda rng: _pairs_runs(rng.standard_normal((4, 5))),
    lambda X, t: next(((i64(i + 1), i64(j + 1)) for j in range(X.shape[1]) for i in range(X.shape[0]) if X[i, j] > t),
                      (i64(0), i64(0))))

def _pairs_runs(X):
    return [(X, f64(t)) for t in (-10.0, 0.5, 1.5, 10.0)]




def _escape(cr, ci):
    zr = zi = 0.0
    for n in range(1, 81):
        if zr * zr + zi * zi > 4.0:
            return n - 1
        zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
    return 80


case("broadcast_user_function_with_loop", ESCAPE, "escape_grid",
     one(lambda rng: rng.uniform(-2.0, 0.5, (5, 6)), lambda rng: rng.uniform(-1.0, 1.0, (5, 6))),
     lambda cr, ci: np.vectorize(_escape, otypes=[i64])(cr, ci))

# =============================================================================== tuples, named tuples, structs
case("tuples_destructuring", """
swap(a, b) = (b, a)
function tup(x::Float64, v::Vector{Float64})
    t = (x, 2x, v)
    a, b, c = t
    p, q = swap(a, b)
    n = length(t)
    nested = ((1, 2.0), (x,))
    (u, w), (z,) = nested
    a, b = b, a
    fib1, fib2 = 0, 1
    for i in 1:10
        fib1, fib2 = fib2, fib1 + fib2
    end
    return (p, q, n, t[2], t[end][1], u + w + z, a, b, fib1, first(t), last(t), sum(c), (x, (x, x)))
end
""", "tup", one(sc(), vec(3)),
    lambda x, v: (f64(2 * x), f64(x), i64(3), f64(2 * x), f64(v[0]), f64(1 + 2.0 + x), f64(2 * x), f64(x), i64(55),
                  f64(x), v, f64(v.sum()), (f64(x), (f64(x), f64(x)))))

case("named_tuples", """
function nt(x::Float64, v::Vector{Float32})
    p = (a = x, b = v, c = 3)
    q = (; scale = 2.0, shift = p.c)
    return (p.a * q.scale + q.shift, p.b, p, p[2], q)
end
""", "nt", one(sc(), vec(2, f32)),
    lambda x, v: (f64(2 * x + 3), v, {"a": f64(x), "b": v, "c": i64(3)}, v, {"scale": f64(2.0), "shift": i64(3)}))

case("named_tuple_symbol_index", """
nts(x::Float64) = (a = x, b = 2)[:a] * 2
""", "nts", one(sc()), lambda x: f64(2 * x))

STRUCTS = """
abstract type Shape end
struct Circle <: Shape
    r::Float64
end
struct Rect <: Shape
    w::Float64
    h::Float64
end
area(c::Circle) = pi * c.r^2
area(r::Rect) = r.w * r.h
area(s::Shape) = -1.0
perimeter(s::Shape) = 0.0
perimeter(c::Circle) = 2pi * c.r

struct Point{T}
    x::T
    y::T
end
norm2(p::Point) = p.x * p.x + p.y * p.y
add(p::Point, q::Point) = Point(p.x + q.x, p.y + q.y)
scale(p::Point{T}, s::T) where T = Point(p.x * s, p.y * s)

struct Dense{M,V}
    W::M
    b::V
end
(d::Dense)(x) = tanh.(d.W * x .+ d.b)

struct Affine
    a::Float64
    b::Float64
end
(f::Affine)(x::Float64) = f.a * x + f.b
(f::Affine)(x::Vector{Float64}) = f.a .* x .+ f.b

function shapes(r::Float64, w::Float64, h::Float64)
    s = (Circle(r), Rect(w, h), Circle(2r))
    tot = 0.0
    for sh in s
        tot += area(sh) + perimeter(sh)
    end
    return (tot, s[2].w, Rect(h, w))
end

function points(x::Float32, y::Float32)
    p = Point(x, y)
    q = add(p, Point(1f0, 2f0))
    r = scale(q, 2f0)
    return (norm2(p), r.x, r.y, r, Point(1, 2).x)
end

function mlp(W1::Matrix{Float32}, b1::Vector{Float32}, W2::Matrix{Float32}, b2::Vector{Float32}, x::Matrix{Float32})
    l1 = Dense(W1, b1)
    l2 = Dense(W2, b2)
    return l2(l1(x))
end

callaff(x::Float64, v::Vector{Float64}) = (Affine(2.0, x)(3.0), Affine(x, 1.0)(v))
"""
case("structs_abstract_supertype", STRUCTS, "shapes", one(sc(lo=0.1), sc(lo=0.1), sc(lo=0.1)),
     lambda r, w, h: (f64(math.pi * r * r + 2 * math.pi * r + w * h + math.pi * 4 * r * r + 4 * math.pi * r), f64(w),
                      {"w": f64(h), "h": f64(w)}))
case("structs_parametric_f32", STRUCTS, "points", one(sc(f32), sc(f32)),
     lambda x, y: (f32(x * x + y * y), f32((x + f32(1)) * f32(2)), f32((y + f32(2)) * f32(2)),
                   {"x": f32((x + f32(1)) * f32(2)), "y": f32((y + f32(2)) * f32(2))}, i64(1)))
case("structs_callable_dense", STRUCTS, "mlp",
     one(mat(8, 5, dtype=f32), vec(8, f32), mat(3, 8, dtype=f32), vec(3, f32), mat(5, 4, dtype=f32)),
     lambda W1, b1, W2, b2, x: np.tanh(W2 @ np.tanh(W1 @ x + b1[:, None]) + b2[:, None]).astype(f32), rtol=1e-4, atol=1e-5)
case("structs_callable_methods", STRUCTS, "callaff", one(sc(), vec(3)),
     lambda x, v: (f64(6.0 + x), x * v + 1.0))

case("operator_overloading", """
struct V2
    x::Float64
    y::Float64
end
Base.:+(a::V2, b::V2) = V2(a.x + b.x, a.y + b.y)
Base.:*(s::Real, a::V2) = V2(s * a.x, s * a.y)
import Base: -
-(a::V2) = V2(-a.x, -a.y)
ov(x::Float64, y::Float64) = (V2(x, y) + V2(1.0, 2.0), 2 * V2(x, y), -V2(x, y), 1 + 2)
""", "ov", one(sc(), sc()),
    lambda x, y: ({"x": f64(x + 1), "y": f64(y + 2)}, {"x": f64(2 * x), "y": f64(2 * y)}, {"x": f64(-x), "y": f64(-y)},
                  i64(3)))

# =============================================================================== dispatch
DISPATCH = """
kind(x::Integer) = 1
kind(x::AbstractFloat) = 2
kind(x::Real) = 3
kind(x::Number) = 4
kind(x) = 5
kind(x::Bool) = 6
arr(x::AbstractArray) = 1
arr(x::AbstractVector) = 2
arr(x::Vector{Float64}) = 3
arr(x::Matrix) = 4
arr(x::Matrix{Int64}) = 5
w(x::T) where T<:Real = 1
w(x::T) where T<:AbstractFloat = 2
el(x::AbstractArray{T}) where T<:AbstractFloat = one(T) + zero(eltype(x))
el(x::AbstractArray{T}) where T<:Integer = T(7)
abstract type Animal end
abstract type Dog <: Animal end
struct Puppy <: Dog end
struct Cat <: Animal end
struct Fish end
speak(a::Animal) = 10
speak(d::Dog) = 20
speak(x) = 30
function disp(i::Int64, i32::Int32, f::Float64, f32::Float32, b::Bool, z::ComplexF64, v::Vector{Float64},
              M::Matrix{Float64}, vf::Vector{Float32}, vi::Vector{Int64})
    k = (kind(i), kind(i32), kind(f), kind(f32), kind(b), kind(z), kind(v), kind(UInt8(1)))
    a = (arr(v), arr(M), arr(vf), arr(vi), arr(zeros(Int64, 2, 2)))
    ww = (w(i), w(f), w(f32), w(b))
    e = (el(v), el(vf), el(vi))
    s = (speak(Puppy()), speak(Cat()), speak(Fish()), speak(1.0))
    return (k, a, ww, e, s)
end
"""
case("dispatch_specificity", DISPATCH, "disp",
     one(isc(), isc(dtype=i32), sc(), sc(f32), lambda rng: True, lambda rng: complex(rng.standard_normal(), 1.0),
         vec(2), mat(2, 2), vec(2, f32), ints(3)),
     lambda *a: ((i64(1), i64(1), i64(2), i64(2), i64(6), i64(4), i64(5), i64(1)),
                 (i64(3), i64(4), i64(2), i64(2), i64(5)),
                 (i64(1), i64(2), i64(2), i64(1)),
                 (f64(1.0), f32(1.0), i64(7)),
                 (i64(20), i64(10), i64(30), i64(30))))

case("dispatch_diagonal_typevar", """
w(x::T, y::T) where T = 3
w(x, y) = 4
v(x::T, y::T) where T<:Number = 1
v(x::Number, y::Number) = 2
dd(i::Int64, f::Float64, g::Float32) = (w(i, i), w(i, f), w(g, g), w(f, g), v(i, i), v(i, f), v(f, f))
""", "dd", one(isc(), sc(), sc(f32)), lambda *a: tuple(i64(k) for k in (3, 4, 3, 4, 1, 2, 1)))

# =============================================================================== arguments, closures, higher order
case("keyword_args", """
f(x; a=2.0, scale=1.0, shift=0) = (x + a) * scale + shift
h(x; k=3) = x^k
n(x::Vector{Float64}; m=length(x)) = m * sum(x)
function kw(x::Float64, v::Vector{Float64})
    s = 2.0
    return (f(x), f(x; a=3.0), f(x; scale=2.0), f(x; a=3.0, shift=1), f(x; shift=5, scale=s), h(x), h(x; k=2), n(v),
            n(v; m=10))
end
""", "kw", one(sc(), vec(3)),
    lambda x, v: (f64(x + 2), f64(x + 3), f64((x + 2) * 2), f64(x + 3 + 1), f64((x + 2) * 2 + 5), f64(x ** 3),
                  f64(x * x), f64(3 * v.sum()), f64(10 * v.sum())))

case("default_positional_args", """
f(x, a=2.0) = x + a
g(x::Vector{Float64}, n=length(x)) = n * sum(x)
k(x, a=1.0; scale=2.0) = (x + a) * scale
dp(x::Float64, v::Vector{Float64}) = (f(x), f(x, 3.0), g(v), g(v, 10), k(x), k(x, 0.0), k(x; scale=1.0))
""", "dp", one(sc(), vec(3)),
    lambda x, v: (f64(x + 2), f64(x + 3), f64(3 * v.sum()), f64(10 * v.sum()), f64((x + 1) * 2), f64(2 * x), f64(x + 1)))

case("varargs_and_splat", """
addall(xs...) = sum(xs)
count_args(xs...) = length(xs)
firstrest(a, rest...) = a * length(rest)
function va(x::Float64, t::Tuple{Float64,Float64})
    return (addall(x, 2.0, 3.0), count_args(), count_args(1, 2.0, x), firstrest(x, 1, 2), addall(t...), max(t...),
            min(x, 1.0, -1.0))
end
""", "va", one(sc(), lambda rng: (f64(rng.standard_normal()), f64(rng.standard_normal()))),
    lambda x, t: (f64(x + 5), i64(0), i64(3), f64(2 * x), f64(t[0] + t[1]), f64(max(t)), f64(min(x, -1.0))))

case("operators_in_call_syntax", """
ops(x::Float64) = (+(1, 2, 3), *(x, 2.0), -(x), +(x), /(1, 4), max(1, 2))
""", "ops", one(sc()), lambda x: (i64(6), f64(2 * x), f64(-x), f64(x), f64(0.25), i64(2)))

case("closures_anonymous", """
function clo(x::Vector{Float64}, a::Float64)
    addA = y -> y + a
    scaleX = i -> x[i] * a
    g = (p, q) -> p * q + a
    k = z -> addA(2z)
    return (addA(1.0), scaleX(2), g(2.0, 3.0), k(1.0), map(addA, x), (y -> y - a).(x))
end
""", "clo", one(vec(4), sc()),
    lambda x, a: (f64(1 + a), f64(x[1] * a), f64(6 + a), f64(2 + a), x + a, x - a))

case("nested_named_function", """
function outer(x::Float64)
    inner(y) = 2y + x
    compose(f, h) = z -> f(h(z))
    return (inner(1.0), compose(inner, inner)(x))
end
""", "outer", one(sc()), lambda x: (f64(2 + x), f64(2 * (2 * x + x) + x)))

case("anonymous_function_long_form", """
function an(x::Float64)
    sq = function (y)
        return y * y
    end
    inc = map(function (t)
                  t + 1
              end, [1.0, 2.0])
    return (sq(x), inc)
end
""", "an", one(sc()), lambda x: (f64(x * x), np.array([2.0, 3.0])))

case("closure_sees_later_assignment", """
function later(x::Float64)
    a = 1.0
    g = y -> y + a
    a = x          # Julia closures capture the variable, not its value at creation
    return g(1.0)
end
""", "later", one(sc()), lambda x: f64(1.0 + x))

case("closure_mutates_captured_array", """
function cm(x::Vector{Float64})
    acc = zeros(3)
    bump! = i -> begin
        acc[i] += x[i]
        nothing
    end
    for i in 1:3
        bump!(i)
        bump!(i)
    end
    return acc
end
""", "cm", one(vec(3)), lambda x: 2 * x)

case("map_reduce_family", """
function hof(v::Vector{Float64}, w::Vector{Float64}, scale::Float64)
    return (map(x -> x^2 + 1, v), reduce(+, v), reduce(max, v), mapreduce(abs, max, v), mapreduce(x -> 2x, +, v),
            sum(abs2, v), sum(x -> x > 0 ? 1 : 0, v), map(+, v, w), map(x -> x * scale, v), prod(x -> 1 + x, v),
            maximum(abs, v), minimum(v), any(x -> x > 1.0, v), all(x -> x > -10.0, v), count(x -> x > 0, v),
            sum((1, 2, 3)), map(x -> 2x, (1, 2.0)), reduce(*, (2, 3, 4)), extrema(v))
end
""", "hof", one(vec(5), vec(5), sc()),
    lambda v, w, s: (v ** 2 + 1, f64(v.sum()), f64(v.max()), f64(np.abs(v).max()), f64(2 * v.sum()), f64((v * v).sum()),
                     i64((v > 0).sum()), v + w, v * s, f64(np.prod(1 + v)), f64(np.abs(v).max()), f64(v.min()),
                     np.bool_((v > 1).any()), np.bool_(True), i64((v > 0).sum()), i64(6), (i64(2), f64(4.0)), i64(24),
                     (f64(v.min()), f64(v.max()))))

# =============================================================================== broadcasting
case("broadcast_julia_alignment", """
sq(x) = x * x + 1
function bc(X::Matrix{Float64}, v::Vector{Float64}, r::Matrix{Float64}, c::Vector{Float64})
    Y = copy(X)
    Y .+= 1.0
    Z = similar(X)
    Z .= X .* 2
    @. Y = Y + 2 * X
    return (X .+ v, X .* r, sin.(X) ./ 2 .- v, v .* r, 2 .+ X, sq.(X), X .- X[1:1, :], v .+ c, Y, Z, X .^ 2,
            max.(X, 0.0), X .> 0, (X .> 0) .& (X .< 1), ifelse.(X .> 0, 1, -1))
end
""", "bc", one(mat(3, 4), vec(3), mat(1, 4), vec(3)),
    lambda X, v, r, c: (X + v[:, None], X * r, np.sin(X) / 2 - v[:, None], v[:, None] * r, 2 + X, X * X + 1,
                        X - X[0:1, :], v + c, X + 1 + 2 * X, 2 * X, X * X, np.maximum(X, 0), X > 0,
                        (X > 0) & (X < 1), np.where(X > 0, 1, -1).astype(i64)))

case("broadcast_3d", """
bc3(A::Array{Float32,3}, v::Vector{Float32}, m::Matrix{Float32}, w::Vector{Float32}) =
    (A .+ v, A .* m, A .+ reshape(w, 1, 1, :), A .* reshape(w, 1, 1, 2) .+ m)
""", "bc3", one(mat(3, 4, 2, dtype=f32), vec(3, f32), mat(3, 4, dtype=f32), vec(2, f32)),
    lambda A, v, m, w: (A + v[:, None, None], A * m[:, :, None], A + w[None, None, :],
                        A * w[None, None, :] + m[:, :, None]))

# =============================================================================== reductions
case("reductions_dims", """
function red(X::Matrix{Float64}, B::Matrix{Bool}, K::Matrix{Int64})
    return (sum(X), sum(X; dims=1), sum(X; dims=2), sum(X; dims=(1, 2)), prod(X; dims=1), maximum(X; dims=2),
            minimum(X; dims=1), maximum(X), minimum(X), any(B), all(B), any(B; dims=1), all(B; dims=2),
            count(B), count(B; dims=1), sum(K), sum(K; dims=2), maximum(K; dims=1), sum(B), prod(K[1, :]),
            cumsum(X[:, 2]), cumsum(K[1, :]))
end
""", "red", one(mat(3, 4), lambda rng: rng.uniform(size=(3, 4)) < 0.5, ints(3, 4, lo=-9, hi=9)),
    lambda X, B, K: (f64(X.sum()), X.sum(0, keepdims=True), X.sum(1, keepdims=True), X.sum((0, 1), keepdims=True),
                     X.prod(0, keepdims=True), X.max(1, keepdims=True), X.min(0, keepdims=True), f64(X.max()),
                     f64(X.min()), np.bool_(B.any()), np.bool_(B.all()), B.any(0, keepdims=True),
                     B.all(1, keepdims=True), i64(B.sum()), B.sum(0, keepdims=True).astype(i64), i64(K.sum()),
                     K.sum(1, keepdims=True), K.max(0, keepdims=True), i64(B.sum()), i64(np.prod(K[0])),
                     np.cumsum(X[:, 1]), np.cumsum(K[0])))

case("argmax_argmin", """
am(x::Vector{Float64}, k::Vector{Int64}) = (argmax(x), argmin(x), argmax(k), argmin(k))
""", "am", one(vec(7), lambda rng: rng.permutation(9).astype(i64)),
    lambda x, k: (i64(np.argmax(x) + 1), i64(np.argmin(x) + 1), i64(np.argmax(k) + 1), i64(np.argmin(k) + 1)))

case("reductions_3d_dims", """
red3(A::Array{Float32,3}) = (sum(A; dims=2), maximum(A; dims=3), sum(A; dims=(1, 3)), sum(A))
""", "red3", one(mat(2, 3, 4, dtype=f32)),
    lambda A: (A.sum(1, keepdims=True), A.max(2, keepdims=True), A.sum((0, 2), keepdims=True), f32(A.sum())),
    rtol=1e-5, atol=1e-5)

case("softmax_family", """
function sm(x::Matrix{Float32}, y::Matrix{Float64})
    return (softmax(x; dims=1), softmax(x; dims=2), logsumexp(x; dims=2), logsumexp(y; dims=1), logsoftmax(y; dims=2),
            logsoftmax(y; dims=1), softmax(y), logsumexp(y))
end
""", "sm", one(mat(4, 5, dtype=f32), mat(3, 6)),
    lambda x, y: (_softmax(x, 0), _softmax(x, 1), _lse(x, 1), _lse(y, 0), y - _lse(y, 1), y - _lse(y, 0), _softmax(y, 0),
                  f64(np.log(np.exp(y).sum()))), rtol=1e-5, atol=1e-6)


def _softmax(x, axis):
    e = np.exp(x.astype(f64) - x.max(axis, keepdims=True))
    return (e / e.sum(axis, keepdims=True)).astype(x.dtype)


def _lse(x, axis):
    return np.log(np.exp(x.astype(f64)).sum(axis, keepdims=True)).astype(x.dtype)


# =============================================================================== linear algebra, shapes
case("matmul_adjoint", """
function mm(A::Matrix{Float64}, B::Matrix{Float64}, v::Vector{Float64}, w::Vector{Float64})
    return (A * B, A' * v, v' * v, transpose(A) * A, A * w, dot(v, v), norm(w), A', adjoint(v) * v)
end
""", "mm", one(mat(3, 4), mat(4, 2), vec(3), vec(4)),
    lambda A, B, v, w: (A @ B, A.T @ v, f64(v @ v), A.T @ A, A @ w, f64(v @ v), f64(np.linalg.norm(w)),
                        A.T.copy(), f64(v @ v)))

case("matmul_dtypes", """
mmt(A::Matrix{Float32}, B::Matrix{Float32}, K::Matrix{Int64}, L::Matrix{Int64}, C::Matrix{Float64}) = (A * B, K * L, A * C)
""", "mmt", one(mat(2, 3, dtype=f32), mat(3, 2, dtype=f32), ints(2, 3, lo=-5, hi=5), ints(3, 4, lo=-5, hi=5), mat(3, 2)),
    lambda A, B, K, L, C: (A @ B, K @ L, A.astype(f64) @ C), rtol=1e-5, atol=1e-6)

case("row_vector_times_matrix", """
rv(v::Vector{Float64}, A::Matrix{Float64}, w::Vector{Float64}) = (v' * A, v' * A * w, transpose(v) * v)
""", "rv", one(vec(3), mat(3, 4), vec(4)), lambda v, A, w: ((v @ A)[None, :], f64(v @ A @ w), f64(v @ v)))

case("reshape_vec_permutedims", """
function shapes(X::Matrix{Float64}, A::Array{Float64,3})
    return (reshape(X, 2, 6), vec(X), permutedims(X, (2, 1)), X[:, 2], X[2:3, [1, 3]], reshape(X, :, 3), X[:],
            permutedims(A, (3, 1, 2)), size(A), size(A, 2), ndims(A), length(A), X[5], X[end, 1], X[end], transpose(X),
            hcat(X, X), vcat(X, X), hcat(X[:, 1], X[:, 2]), vcat(X[:, 1], X[:, 2]), reshape(A, 6, 4), permutedims(X))
end
""", "shapes", one(mat(3, 4), mat(2, 3, 4)),
    lambda X, A: (X.reshape((2, 6), order="F"), X.flatten("F"), X.T.copy(), X[:, 1].copy(), X[1:3][:, [0, 2]],
                  X.reshape((4, 3), order="F"), X.flatten("F"), np.transpose(A, (2, 0, 1)).copy(),
                  (i64(2), i64(3), i64(4)), i64(3), i64(3), i64(24), f64(X.flatten("F")[4]), f64(X[-1, 0]),
                  f64(X[-1, -1]), X.T.copy(), np.hstack([X, X]), np.vstack([X, X]), np.stack([X[:, 0], X[:, 1]], 1),
                  np.concatenate([X[:, 0], X[:, 1]]), A.reshape((6, 4), order="F"), X.T.copy()))

case("comprehensions_array_literals", """
function comp(x::Vector{Float64}, a::Float64)
    M = [i * j for i in 1:3, j in 1:4]
    sq = [x[i]^2 for i in 1:length(x)]
    ev = [2v for v in x]
    lit = [1.0, a, 3.0]
    mixed = [1, 2.5]
    ints = [1, 2, 3]
    m2 = [1.0 2.0; 3.0 a]
    row = [a 2a 3a]
    cat1 = [x; x]
    g = sum(i^2 for i in 1:4)
    return (M, sq, ev, lit, mixed, ints, m2, row, cat1, g)
end
""", "comp", one(vec(5), sc()),
    lambda x, a: (np.outer(np.arange(1, 4), np.arange(1, 5)).astype(i64), x ** 2, 2 * x, np.array([1.0, a, 3.0]),
                  np.array([1.0, 2.5]), np.array([1, 2, 3], i64), np.array([[1.0, 2.0], [3.0, a]]),
                  np.array([[a, 2 * a, 3 * a]]), np.concatenate([x, x]), i64(30)))

case("bool_array_literal", """
bl(x::Float64) = ([true, false], [x > 0, false, true], [false, true])
""", "bl", one(sc()), lambda x: (np.array([True, False]), np.array([x > 0, False, True]), np.array([False, True])))

case("typed_array_literal", """
tal(a::Float64) = (Float32[1, 2], Int64[], Float64[a, 1])
""", "tal", one(sc()), lambda a: (np.array([1, 2], f32), np.zeros(0, i64), np.array([a, 1.0])))

case("constructors_zeros_ones_fill_similar_copy", """
function ctor(x::Vector{Float32}, X::Matrix{Float64})
    a = zeros(3)
    b = zeros(Float32, 2, 3)
    c = ones(Int64, 4)
    d = fill(2.5f0, 2, 2)
    e = fill(7, 3)
    f = similar(x)
    f .= 1
    g = zeros(size(X))
    h = copy(x)
    h[1] = 100f0
    k = ones(Bool, 2)
    l = zeros(Int32, (2,))
    return (a, b, c, d, e, f, g, h, x, k, l, zero(X), one(3.0f0), zero(Int32), similar(X, Int64, 2, 2) .* 0,
            fill(true, 1, 2))
end
""", "ctor", one(vec(3, f32), mat(2, 3)),
    lambda x, X: (np.zeros(3), np.zeros((2, 3), f32), np.ones(4, i64), np.full((2, 2), 2.5, f32), np.full(3, 7, i64),
                  np.ones(3, f32), np.zeros((2, 3)), np.concatenate([[f32(100)], x[1:]]).astype(f32), x,
                  np.ones(2, bool), np.zeros(2, i32), np.zeros((2, 3)), f32(1), i32(0),
                  np.zeros((2, 2), i64), np.ones((1, 2), bool)))

case("type_values_compare", """
tv(x::Vector{Float32}, n::Int64) = (eltype(x) == Float32, typeof(n) == Int64, Float32 == Float64, x isa Vector{Float32},
                                   Int64 == Int64, eltype(x) != Float64)
""", "tv", one(vec(2, f32), isc()), lambda x, n: tuple(np.bool_(b) for b in (True, True, False, True, True, True)))

case("indexing_and_slice_assignment", """
function idx(X::Matrix{Float64}, v::Vector{Float64}, i::Int64)
    Y = copy(X)
    Y[1, 2] = 0.0
    Y[2, :] = v[1:4]
    Y[:, 1] .= -1.0
    Y[3, 2:end] .*= 2
    Z = zeros(3, 4)
    Z[2:end-1, 2:3] .= 5.0
    Z[end] = 9.0
    w = copy(v)
    w[i] = 42.0
    w[end-1:end] = [7.0, 8.0]
    return (Y, Z, w, X[i, i], v[2:3], X[:, end], X[[1, 3], :])
end
""", "idx", lambda rng: [(rng.standard_normal((3, 4)), rng.standard_normal(6), i64(k)) for k in (1, 2)],
    lambda X, v, i: _idx(X, v, int(i)))


def _idx(X, v, i):
    Y = X.copy()
    Y[0, 1] = 0
    Y[1, :] = v[:4]
    Y[:, 0] = -1
    Y[2, 1:] *= 2
    Z = np.zeros((3, 4))
    Z[1:2, 1:3] = 5
    Z[-1, -1] = 9
    w = v.copy()
    w[i - 1] = 42
    w[-2:] = [7, 8]
    return (Y, Z, w, f64(X[i - 1, i - 1]), v[1:3].copy(), X[:, -1].copy(), X[[0, 2], :])


case("runtime_start_fixed_length_slice", """
function rs(v::Vector{Float64}, i::Int64)
    w = copy(v)
    w[i:i+1] = [7.0, 8.0]
    return (v[i:i+2], w)
end
""", "rs", lambda rng: [(rng.standard_normal(6), i64(k)) for k in (1, 3)],
    lambda v, i: (v[i - 1:i + 2].copy(), np.concatenate([v[:i - 1], [7.0, 8.0], v[i + 1:]])))

case("stencil_slices", HEAT, "heat", lambda rng: [(rng.standard_normal((6, 7)), i64(s)) for s in (0, 1, 5)],
    lambda u0, steps: _heat(u0, steps))


def _heat(u0, steps):
    u = u0.copy()
    for _ in range(steps):
        c = u[1:-1, 1:-1]
        u[1:-1, 1:-1] = c + 0.1 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * c)
    return u


# =============================================================================== mutation and aliasing
case("aliasing_and_mutating_calls", """
function scale!(y, a)
    for i in eachindex(y)
        y[i] *= a
    end
    return nothing
end
function setfirst!(y::Vector{Float64}, v)
    y[1] = v
    y
end
function alias(x::Vector{Float64})
    a = copy(x)
    b = a
    b[1] = 0.0            # changes a too
    c = copy(a)
    c[2] = -1.0           # does not change a
    scale!(a, 2.0)        # seen here
    r = setfirst!(c, 5.0)
    r[3] = 6.0            # r is c
    d = a
    d = d .+ 1.0          # rebinding: a unchanged
    e = a[1:2]            # slicing copies
    e[1] = 99.0
    a .+= 0.5
    return (a, b, c, d, e)
end
""", "alias", one(vec(4)),
    lambda x: _alias(x))


def _alias(x):
    a = x.copy()
    a[0] = 0
    c = a.copy()
    c[1] = -1
    a *= 2
    c[0] = 5
    c[2] = 6
    d = a + 1
    e = a[:2].copy()
    e[0] = 99
    a = a + 0.5
    return (a, a.copy(), c, d, e)


case("mutation_in_runtime_loop_and_branch", """
function running(x::Vector{Float64})
    out = similar(x)
    acc = 0.0
    for i in eachindex(x)
        acc += x[i]
        out[i] = acc
    end
    y = out
    y[1] = -1.0
    z = copy(x)
    for i in 1:length(z)
        if z[i] < 0
            z[i] = 0.0
        end
    end
    return (out, z)
end
""", "running", one(vec(6)),
    lambda x: (np.concatenate([[-1.0], np.cumsum(x)[1:]]), np.maximum(x, 0)))

case("struct_field_array_is_shared", """
struct Holder
    a::Vector{Float64}
end
function sh(x::Vector{Float64})
    v = copy(x)
    h = Holder(v)
    h.a[1] = 7.0        # the struct holds a reference to v
    return (v, h.a)
end
""", "sh", one(vec(3)), lambda x: (np.concatenate([[7.0], x[1:]]),) * 2)

# =============================================================================== globals, recursion
case("const_globals", """
const N = 4
const SCALE = 2.5f0
const OFFS = (1.0, 2.0)
function cg(x::Vector{Float32})
    acc = zeros(Float32, N)
    for i in 1:N
        acc[i] = SCALE * x[i]
    end
    return (acc, OFFS[2] * N)
end
""", "cg", one(vec(4, f32)), lambda x: (f32(2.5) * x, f64(8.0)))

case("const_global_array", """
const W = [1.0, 2.0, 3.0, 4.0]
const M = [1.0 2.0; 3.0 4.0]
cga(x::Vector{Float64}) = (W .* x, sum(W), M * x[1:2])
""", "cga", one(vec(4)), lambda x: (np.array([1.0, 2, 3, 4]) * x, f64(10.0), np.array([[1.0, 2], [3, 4]]) @ x[:2]))

case("recursion_on_types_applychain", """
applychain(::Tuple{}, x) = x
applychain(fs::Tuple, x) = applychain(Base.tail(fs), first(fs)(x))
struct Scale
    a::Float64
end
(s::Scale)(x) = s.a .* x
struct Shift
    b::Float64
end
(s::Shift)(x) = x .+ s.b
function run_chain(x::Vector{Float64})
    chain = (Scale(2.0), Shift(1.0), x -> x .^ 2, Scale(0.5), sum)
    return applychain(chain, x)
end
""", "run_chain", one(vec(5)), lambda x: f64((0.5 * (2 * x + 1) ** 2).sum()))

case("recursion_on_constants", """
fact(n) = n == 0 ? 1 : n * fact(n - 1)
fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2)
pw(x, n) = n == 0 ? one(x) : x * pw(x, n - 1)
rsum(t::Tuple{}) = 0.0
rsum(t::Tuple) = first(t) + rsum(Base.tail(t))
rc(x::Float64) = (fact(10), fib(12), pw(x, 5), rsum((x, 1.0, 2.0)), x * fact(3))
""", "rc", one(sc()), lambda x: (i64(3628800), i64(144), f64(x ** 5), f64(x + 3.0), f64(6 * x)), rtol=1e-12)

# =============================================================================== dtypes end to end
DTYPE_SRC = """
ident(x) = x
twice(x) = x .+ x
neg(x) = -x
keep(x) = (copy(x), abs.(x), x .* one(eltype(x)), zero(x))
"""
_DTYPES = [f64, f32, i64, i32, i8, u8, f16, u64]


def _arr(rng, dt, shape):
    if np.dtype(dt).kind == "f":
        return rng.standard_normal(shape).astype(dt)
    if np.dtype(dt).kind == "u":
        return rng.integers(0, 100, shape).astype(dt)
    return rng.integers(-100, 100, shape).astype(dt)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=["scalar", "vector", "matrix"])
@pytest.mark.parametrize("dt", _DTYPES + [np.bool_], ids=lambda d: np.dtype(d).name)
def test_dtypes_end_to_end(dt, shape, rng):
    x = _arr(rng, dt, shape) if dt is not np.bool_ else rng.uniform(size=shape) < 0.5
    x = np.asarray(x)
    if x.shape == ():
        x = x[()]          # a numpy scalar: a Julia scalar of that type
    assert_same(run_jl(DTYPE_SRC, "ident", x), np.asarray(x))
    if dt is np.bool_:     # Bool + Bool is Int64 in Julia; -true is -1
        assert_same(run_jl(DTYPE_SRC, "twice", x), np.asarray(x).astype(i64) * 2)
        assert_same(run_jl(DTYPE_SRC, "neg", x), -np.asarray(x).astype(i64))
        return
    with np.errstate(over="ignore"):
        assert_same(run_jl(DTYPE_SRC, "twice", x), np.asarray(x + x))
        assert_same(run_jl(DTYPE_SRC, "neg", x), np.asarray(-x))
        xa = np.asarray(x)
        want = (xa.copy(), np.abs(xa), xa.copy(), np.zeros_like(xa))
    assert_same(run_jl(DTYPE_SRC, "keep", x), want)


case("python_scalars_and_bools", """
f(x::Float64, n::Int64, b::Bool) = (x + n, b ? n : -n, !b, b & (n > 0), b + 1)
""", "f", lambda rng: [(1.5, 3, True), (-2.0, -4, False)],
    lambda x, n, b: (f64(x + n), i64(n if b else -n), np.bool_(not b), np.bool_(b and n > 0), i64(b + 1)))

# =============================================================================== complex
case("complex_numbers", """
function cx(z::ComplexF64, w::ComplexF64, x::Float64)
    return (z + w, z * w, z - w, real(z), imag(z), conj(z), abs(z), z * x, z + 1, abs2(w), z / w, exp(z),
            complex(x, 2x))
end
""", "cx", one(lambda rng: complex(*rng.standard_normal(2)), lambda rng: complex(*rng.standard_normal(2)), sc()),
    lambda z, w, x: (c128(z + w), c128(z * w), c128(z - w), f64(z.real), f64(z.imag), c128(z.conjugate()), f64(abs(z)),
                     c128(z * x), c128(z + 1), f64(abs(w) ** 2), c128(z / w), c128(np.exp(z)), c128(complex(x, 2 * x))))

case("imaginary_unit_im", """
iu(z::ComplexF64, x::Float64) = (2im * z, x + 1im, im * z)
""", "iu", one(lambda rng: complex(*rng.standard_normal(2)), sc()),
    lambda z, x: (c128(2j * z), c128(x + 1j), c128(1j * z)))

case("complex_arrays_f32", """
cxa(z::Vector{ComplexF32}, v::Vector{Float32}) = (z .* v, z .+ 1f0, real.(z), abs.(z), sum(z), conj.(z) .* z)
""", "cxa", one(lambda rng: (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(c64), vec(4, f32)),
    lambda z, v: (z * v, z + f32(1), z.real.copy(), np.abs(z), c64(z.sum()), np.conj(z) * z), rtol=1e-5, atol=1e-6)

# =============================================================================== misc library
case("library_misc", """
function misc(x::Vector{Float64}, n::Int64)
    return (mean(x), iseven(n), isodd(n), clamp(n, 0, 10), max(n, 3), min(2.0, n), abs(-n), sign(n), hypot(3.0, 4.0),
            typemax(Int32), eps(Float64), Float32(n), Int64(4.0), Int32(n), float(n), convert(Float64, n),
            zero(n) + one(n), inv(2.0), exp2(3.0), log2(8.0), cumprod(x[1:3]), diff(x), sqrt(4), exp(0), isnan(x[1]),
            isinf(1 / 0), NaN != NaN, Inf > 1e308)
end
""", "misc", lambda rng: [(rng.standard_normal(5), i64(n)) for n in (-7, 4, 12)],
    lambda x, n: (f64(x.mean()), np.bool_(n % 2 == 0), np.bool_(n % 2 == 1), i64(min(max(n, 0), 10)), i64(max(n, 3)),
                  f64(min(2.0, n)), i64(abs(n)), i64(np.sign(n)), f64(5.0), i32(2**31 - 1), f64(2.0 ** -52), f32(n),
                  i64(4), i32(n), f64(n), f64(n), i64(1), f64(0.5), f64(8.0), f64(3.0), np.cumprod(x[:3]), np.diff(x),
                  f64(2.0), f64(1.0), np.bool_(False), np.bool_(True), np.bool_(True), np.bool_(True)), rtol=1e-12)

case("signbit_negative_zero", """
sb(x::Float64) = (signbit(x), copysign(1.0, x), -x)
""", "sb", lambda rng: [(f64(-0.0),), (f64(0.0),), (f64(-2.0),)],
    lambda x: (np.bool_(math.copysign(1, x) < 0), f64(math.copysign(1.0, x)), f64(-x)))


# ----------------------------------------------------------------------------- the runner
@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_case(c: Case, rng: np.random.Generator) -> None:
    for args in c.runs(rng):
        got = run_jl(c.source, c.entry, *args)
        want = c.expect(*args)
        try:
            assert_same(got, want, c.rtol, c.atol)
        except AssertionError as e:
            raise AssertionError(f"{c.entry}{tuple(_show(a) for a in args)}: {e}") from None


def _show(a: Any) -> Any:
    if isinstance(a, np.ndarray) and a.size > 6:
        return f"{a.dtype}{list(a.shape)}"
    return a


def test_cases_have_unique_names() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


def test_one_compile_per_signature() -> None:
    """Calling a function again with arguments of the same types reuses the executable."""
    from conftest import function
    src = "h(x::Float64) = x + 1.0\n"
    f = function(src, "h")
    f(1.0)
    n = len(f._cache)
    for v in (2.0, -3.0, f64(4.0)):
        assert_same(f(v), f64(v + 1.0))
    assert len(f._cache) == n
