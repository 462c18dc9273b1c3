"""Regression tests for wrong answers and internal errors found by users and by the differential
tester (tests/difftest). Each is a small program in the way a user would write it, with its answer
computed independently in NumPy from Julia's documented semantics, at every optimization level."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo
from jlhlo.api import flatten_host

LEVELS = (0, 1, 2)


def run_at(source: str, level: int, *args):
    f = jlhlo.load(source, filename="t.jl").function("main")
    lowered = f.lower(*args, optimize_level=level)
    return lowered.outputs(lowered.compile("cpu")(*flatten_host(tuple(args))))


def check(source: str, args: tuple, want, **tol) -> None:
    for level in LEVELS:
        try:
            assert_same(run_at(source, level, *args), want, **tol)
        except AssertionError as e:
            raise AssertionError(f"at -O{level}: {e}") from None


# ----------------------------------------------------------------------------- arrays changed in loops
def test_inplace_broadcast_in_a_loop_is_kept(rng):
    u0 = rng.standard_normal(5)
    for body in ("u .+= 1", "u .= u .+ 1", "@. u += 1", "u[:] .+= 1"):
        src = f"function main(u0)\n    u = copy(u0)\n    for _ in 1:3\n        {body}\n    end\n    return u\nend"
        check(src, (u0,), u0 + 3)


def test_element_update_survives_a_self_rebinding_in_the_loop():
    src = """
function main(v::Vector{Float64})
    for i in 1:1
        v[2] += 1.0
        v = v
    end
    return v
end"""
    check(src, (np.array([1.0, 2.0]),), np.array([1.0, 3.0]))


def test_array_rebound_in_a_loop_gets_its_own_storage(rng):
    x, g = rng.standard_normal(4), rng.standard_normal(4)
    src = """
function main(x, g)
    y = x
    for k in 1:3
        x = x .- 0.5 .* g
        x[1] += 1.0
    end
    return x, y
end"""
    want = x.copy()
    for _ in range(3):
        want = want - 0.5 * g
        want[0] += 1.0
    check(src, (x, g), (want, x))


def test_double_buffering_swaps_two_local_arrays(rng):
    a0 = rng.standard_normal(6)
    src = """
function main(a0)
    a = copy(a0)
    b = zeros(length(a0))
    for t in 1:3
        b .= 2 .* a
        a, b = b, a
    end
    return a, b
end"""
    a, b = a0.copy(), np.zeros(6)
    for _ in range(3):
        b[:] = 2 * a
        a, b = b, a
    check(src, (a0,), (a, b))


@pytest.mark.parametrize("c", [True, False])
def test_arrays_aliased_on_one_path_only(rng, c):
    src = """
function pick(c, a, b)
    if c
        return a
    end
    return b
end
function main(x::Vector{Float64}, z::Vector{Float64}, c::Bool)
    y = x
    if c
        y = x .* 2
    end
    y[1] = 0.0
    w = c ? x : z
    w[2] = 5.0
    x[3] = 7.0
    p = pick(c, x, z)
    p .+= 1
    k = 0
    while k < 2
        k += 1
        w[4] += k
    end
    return x, z, y .+ 0, w .+ 0, p .+ 0
end"""
    x0, z0 = rng.standard_normal(5), rng.standard_normal(5)
    x, z = x0.copy(), z0.copy()
    y = x * 2 if c else x
    y[0] = 0.0
    w = x if c else z
    w[1] = 5.0
    x[2] = 7.0
    p = x if c else z
    p += 1
    w[3] += 3
    check(src, (x0, z0, c), (x, z, y.copy(), w.copy(), p.copy()))


@pytest.mark.parametrize("n", [0, 2])
def test_argument_changed_in_place_then_rebound_in_a_loop(n):
    # until the first rebinding, x *is* the caller's array (and y's): the first iteration changes it
    src = """
function main(x::Vector{Float64}, n::Int64)
    y = x
    for k in 1:3
        x[1] += 1.0
        x = x .* 2
    end
    z = copy(y)
    w = z
    i = 0
    while i < n
        i += 1
        z = z .+ 1
    end
    w[2] = 100.0
    return x, y, z
end"""
    x = np.ones(3)
    y = x.copy()
    xs = y
    for _ in range(3):
        xs[0] += 1.0
        xs = xs * 2
    z = y.copy()
    w = z
    for _ in range(n):
        z = z + 1
    w[1] = 100.0
    check(src, (x, n), (xs, y, z))


def test_same_argument_twice_is_not_confused_with_another_call():
    src = """
f(a::Float64, b::Float64) = a
function main(x::Float64, y::Float64)
    p = f(x, x)
    q = f(y, x)
    return p, q
end"""
    check(src, (1.0, 2.0), (np.float64(1.0), np.float64(2.0)))


def test_mutating_function_called_with_one_array_twice():
    src = """
function twice!(a, b)
    a .+= 1
    b .+= 1
    return nothing
end
function main(x::Vector{Float64}, y::Vector{Float64})
    twice!(x, x)
    twice!(x, y)
    return x, y
end"""
    x, y = np.zeros(3), np.zeros(3)
    check(src, (x, y), (x + 3, y + 1))


def test_tuple_with_a_value_twice_keeps_both():
    src = """
function main(a::Float64)
    if a > 0.0
        return (1.0, 2.0)
    end
    return (a, a)
end"""
    check(src, (5.0,), (np.float64(1.0), np.float64(2.0)))
    check(src, (-5.0,), (np.float64(-5.0), np.float64(-5.0)))


# ----------------------------------------------------------------------------- control flow
@pytest.mark.parametrize("n", [0, 27, 200])
def test_continue_inside_while(n):
    src = """
function main(n::Int64)
    k = 0
    steps = 0
    while k < 10
        k += 1
        if k % 3 != 0
            continue
        end
        steps += 1
    end
    return steps + (n > 100 ? 1 : 0) + 1
end"""
    check(src, (n,), np.int64(4 + (n > 100)))


def test_unconditional_continue_in_while():
    src = """
function main(n::Int64)
    w = 0
    while w < n
        w += 1
        continue
    end
    return w
end"""
    check(src, (3,), np.int64(3))


def test_conditional_continue_in_while():
    src = """
function main(a::Float64)
    w = 0
    s = 0.0
    while w < 5
        w += 1
        if a > 0.0
            continue
        end
        s += 1.0
    end
    return s
end"""
    check(src, (1.0,), np.float64(0.0))
    check(src, (-1.0,), np.float64(5.0))


def test_unreachable_return_in_a_loop():
    src = """
function main(a::Float64)
    for i in 1:3
        if false
            return 1
        end
    end
    return 2
end"""
    check(src, (1.0,), np.int64(2))


# ----------------------------------------------------------------------------- broadcasting user functions
def test_broadcast_function_branching_on_a_shared_argument():
    src = """
function s(p::Float64, q::Float64)
    if q > 1.0
        return 1.0
    end
    return p
end
main(x::Vector{Float64}, a::Float64) = s.(x, a)"""
    x = np.array([0.5, 2.0, 3.0])
    check(src, (x, 2.0), np.ones(3))
    check(src, (x, 0.5), x)


def test_broadcast_function_loops_a_per_element_number_of_times():
    src = """
function s(p::Float64)
    k = p > 1.0 ? 3 : 1
    t = 0.0
    for i in 1:k
        t += p
    end
    return t
end
main(x::Vector{Float64}) = s.(x)"""
    x = np.array([0.5, 2.0, 3.0])
    check(src, (x,), np.where(x > 1, 3 * x, x))


def test_broadcast_function_assigns_a_constant_in_a_loop():
    src = """
function s(p::Float64)
    for i in 1:2
        p = 1.0
    end
    return p
end
main(x::Vector{Float64}) = s.(x)"""
    check(src, (np.array([0.5, 2.0]),), np.ones(2))


def test_broadcast_function_that_needs_an_array_per_element_runs_as_a_loop(rng):
    src = """
function window_sum(i::Int64, w::Vector{Float64})
    return sum(w[i:i+2])
end
main(idx::Vector{Int64}, w::Vector{Float64}) = window_sum.(idx, Ref(w))"""
    w = rng.standard_normal(8)
    idx = np.array([1, 4, 6])
    check(src, (idx, w), np.array([w[i - 1:i + 2].sum() for i in idx]))


def test_broadcast_over_tuples_gives_a_tuple():
    src = "main(a::Int) = (first.(((a, 2), (3, 4))), (1, 2) .+ (10, 20), abs.((-1, 2.5)))"
    check(src, (1,), ((np.int64(1), np.int64(3)), (np.int64(11), np.int64(22)), (np.int64(1), np.float64(2.5))))


# ----------------------------------------------------------------------------- comprehensions and loop nests
def test_comprehension_reading_the_whole_array(rng):
    x = rng.standard_normal(6)
    check("main(x::Vector{Float64}) = [sum(x .< xi) for xi in x]", (x,),
          np.array([(x < xi).sum() for xi in x], dtype=np.int64))


def test_column_slice_in_a_loop(rng):
    a = rng.standard_normal((3, 4))
    src = """
function main(A::Matrix{Float64})
    y = zeros(size(A, 2))
    for j in axes(A, 2)
        y[j] = sum(A[:, j])
    end
    return y
end"""
    check(src, (a,), a.sum(0))


def test_sliding_window_update_in_a_loop():
    src = """
function main(v::Vector{Float64}, w::Vector{Float64})
    for i in 1:4
        v[i] *= sum(w[i:i+3])
    end
    return v
end"""
    w = np.arange(7.0)
    check(src, (np.ones(4), w), np.array([w[i:i + 4].sum() for i in range(4)]))


def test_comprehension_assigning_an_outer_variable_is_refused():
    src = """
function main(n::Int64)
    s = 0
    v = [begin
        s += i
        s
    end for i in 1:3]
    return v
end"""
    with pytest.raises(JuliaError, match="assigns the variable `s`"):
        run_at(src, 2, 1)


# ----------------------------------------------------------------------------- parsing and arithmetic
def test_parenthesized_negation_is_the_base_of_a_power():
    src = "main(x::Float64, k::Int) = ((-x)^2, (-1)^k, -x^2, -2^2, (-2)^2, 2^-1, [1, 2] .^ -2, x^-1)"
    check(src, (3.0, 2), (np.float64(9.0), np.int64(1), np.float64(-9.0), np.int64(-4), np.int64(4),
                          np.float64(0.5), np.array([1.0, 0.25]), np.float64(1 / 3)))


def test_round_with_digits_and_sigdigits():
    src = "main(x::Float64, d::Int) = (round(x; digits=2), round(x; digits=d), floor(x; digits=1), " \
          "round(x; sigdigits=2), round(-x; digits=-1), trunc(-x; digits=1), round(Int, x))"
    check(src, (97.876, 1), (np.float64(97.88), np.float64(97.9), np.float64(97.8), np.float64(98.0),
                             np.float64(-100.0), np.float64(-97.8), np.int64(98)))


def test_unknown_keyword_of_a_builtin_is_an_error():
    with pytest.raises(JuliaError, match="unsupported keyword argument `digitz`"):
        run_at("main(x::Float64) = sqrt(x; digitz=2)", 2, 1.0)


def test_float_ranges_are_exact_decimals():
    src = """
function main(a::Float64, lo::Float64, st::Float64, hi::Float64)
    s = zeros(21)
    k = 1
    for i = -1.0:0.1:1.0
        s[k] = i + a
        k += 1
    end
    n = 0
    t = 0.0
    for x in lo:st:hi
        n += 1
        t = x
    end
    return s, collect(0.0:0.1:0.3), n, t
end"""
    got = run_at(src, 2, 0.0, 0.0, 0.1, 0.3)
    assert got[0].tolist() == [k / 10 for k in range(-10, 11)]
    assert got[1].tolist() == [0.0, 0.1, 0.2, 0.3]
    assert int(got[2]) == 4 and float(got[3]) == 0.3


def test_division_by_a_constant_rounds_as_written():
    # XLA would compute x / 10.0 as x * 0.1, which differs in the last bit
    got = run_at("main(n::Int64, d::Float64) = (Float64(n) / 10.0, 1.0 / sqrt(d), (d / 3.0) / 7.0)", 2, -7, 3.0)
    assert [float(v) for v in got] == [-7 / 10, 1 / np.sqrt(3.0), (3.0 / 3.0) / 7.0]


# ----------------------------------------------------------------------------- library
def test_norms(rng):
    x = rng.standard_normal(5)
    src = "main(x, p) = (norm(x), norm(x, Inf), norm(x, 1), norm(x, p), norm(x, -Inf), norm(x, 0), norm([0, 0]))"
    check(src, (x, 3.0), (np.float64(np.linalg.norm(x)), np.float64(np.abs(x).max()), np.float64(np.abs(x).sum()),
                          np.float64((np.abs(x) ** 3).sum() ** (1 / 3)), np.float64(np.abs(x).min()),
                          np.float64(5.0), np.float64(0.0)))


def test_isempty_and_sizes_known_at_run_time():
    src = "main(n::Int64, x::Matrix{Float64}, k::Int64) = (isempty(1:n), length(1:n), lastindex(x, k), size(x, k), " \
          "length(axes(x, k)))"
    x = np.zeros((3, 5))
    check(src, (0, x, 2), (np.bool_(True), np.int64(0), np.int64(5), np.int64(5), np.int64(5)))
    check(src, (4, x, 3), (np.bool_(False), np.int64(4), np.int64(1), np.int64(1), np.int64(1)))


def test_permutation_known_only_at_run_time_is_refused():
    with pytest.raises(JuliaError, match="must be known at compile time"):
        run_at("main(x::Matrix{Float64}, k::Int64) = permutedims(x, (k, 1))", 2, np.zeros((2, 3)), 2)


def test_pullback_with_a_constant_seed(rng):
    x = rng.standard_normal(4)
    src = """
function main(x::Vector{Float64})
    l, back = pullback(x -> sum(abs2, x), x)
    return l, back(1.0)[1]
end"""
    check(src, (x,), (np.float64((x ** 2).sum()), 2 * x))


def test_gradient_with_respect_to_the_same_array_twice(rng):
    x = rng.standard_normal(3)
    check("main(x) = gradient((a, b) -> sum(a .* b), x, x)", (x,), (x, x))


def test_batched_mul_then_reduce_at_every_level(rng):
    a = rng.standard_normal((5, 4, 6)).astype(np.float32)
    b = rng.standard_normal((4, 5, 6)).astype(np.float32)
    s = np.einsum("ijk,jlk->ilk", a, b)
    check("function main(a, b)\n    s = batched_mul(a, b)\n    return s ./ sum(s; dims=1)\nend", (a, b),
          s / s.sum(0, keepdims=True), rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- assignments as values
def test_value_of_assignments_and_chained_assignment():
    src = """
function main(A::Vector{Float64}, y::Vector{Float64})
    f!(dx, y) = (dx .= y .* 2)
    g!(a) = a .+= 1
    h!(a) = (a[2] = 7)
    p = q = A[3] = 5.0
    n = 1
    m = (n += 2)
    return f!(A, y)[1], g!(y)[1], h!(A), A, y, p, q, m, n
end"""
    check(src, (np.zeros(3), np.ones(3)),
          (np.float64(2.0), np.float64(2.0), np.int64(7), np.array([2.0, 7.0, 2.0]), np.array([2.0, 2.0, 2.0]),
           np.float64(5.0), np.float64(5.0), np.int64(3), np.int64(3)))


# ----------------------------------------------------------------------------- refusals instead of guesses
@pytest.mark.parametrize("src, message", [
    ("main(a::Float64) = length([[a, 2.0], [3.0, 4.0]])", "vector of arrays"),
    ("main(a::Float64) = length([])", "Vector{Any}"),
    ("main(x::Matrix{Float32}) = size(Dense(4, 8, relu)(x))", "no method matching Dense"),
])
def test_constructs_jlhlo_cannot_compile_faithfully_are_refused(src, message):
    with pytest.raises(JuliaError, match=message):
        run_at(src, 2, *( (1.0,) if "a::" in src else (np.ones((4, 3), np.float32),)))


# ----------------------------------------------------------------------------- views share their parent's storage
def test_views_returned_from_functions_stay_views():
    src = """
col(A, j) = view(A, :, j)
tail2(v) = @view v[2:end]
function main(A::Matrix{Float64}, x::Vector{Float64})
    c = col(A, 2)
    c .= 0.0
    t = tail2(x)
    t[1] = 9.0
    s = sum(tail2(t))
    return A, x, s
end"""
    A = np.ones((2, 3))
    A[:, 1] = 0
    check(src, (np.ones((2, 3)), np.arange(4.0)), (A, np.array([0.0, 9.0, 2.0, 3.0]), np.float64(5.0)))


def test_views_read_and_write_their_parent(rng):
    src = """
function bump!(v)
    v .+= 1
    return nothing
end
function main(x::Vector{Float64}, A::Matrix{Float64}, c::Bool)
    y = copy(x)
    v = view(y, 2:3)
    v[1] = 10.0
    y[3] = 20.0
    a = v[2]
    @views z = y[1:2]
    z .*= 2
    bump!(view(y, 3:4))
    w = @view A[:, 2]
    w .= 0
    if c
        v .+= 100.0
    end
    k = 0
    while k < 2
        k += 1
        v[k] += 1
    end
    s = 0.0
    @views for j in 1:2
        s += sum(A[:, j])
    end
    return y, a, A, s, copy(v), sum(view(A, 2:3))
end"""
    x, A = np.arange(5.0), rng.standard_normal((2, 3))
    for c in (True, False):
        y = x.copy()
        y[1] = 10.0
        y[2] = 20.0
        a = y[2]
        y[0:2] *= 2
        y[2:4] += 1
        B = A.copy()
        B[:, 1] = 0
        if c:
            y[1:3] += 100
        y[1:3] += 1
        s = B[:, 0].sum() + B[:, 1].sum()
        check(src, (x, A, c), (y, np.float64(a), B, np.float64(s), y[1:3], np.float64(B.reshape(-1, order="F")[1:3].sum())))


@pytest.mark.parametrize("body, message", [
    ("u = view(y, 1:2)\n    for i in 1:2\n        u = view(y, i:i+1)\n    end\n    return copy(u)", "rebound inside this loop to a view"),
    ("g!(a, b) = (a .+= b)\n    g!(view(y, 1:2), y[3:4])\n    g!(view(y, 1:2), view(y, 2:3))\n    return y", "also gets as a view"),
])
def test_views_jlhlo_cannot_keep_are_refused(body, message):
    src = f"function main(x::Vector{{Float64}})\n    y = copy(x)\n    {body}\nend"
    with pytest.raises(JuliaError, match=message):
        run_at(src, 2, np.arange(4.0))


@pytest.mark.parametrize("a, b", [(1.0, 1.0), (1.0, 0.0), (-1.0, 1.0), (-1.0, 0.0)])
def test_views_and_arrays_chosen_in_nested_branches(a, b):
    src = """
function main(x::Vector{Float64}, z::Vector{Float64}, a::Float64, b::Float64)
    y = view(x, 1:2)
    if a > 0
        if b > 0
            y = z
        else
            y = view(x, 2:3)
        end
    else
        y = z .+ 0
    end
    y[1] = 100.0
    x[3] += 1.0
    s = sum(y)
    v = view(x, 1:2)
    if b > 0.5
        v = view(x, 3:4)
    end
    v .*= 2
    r = @view x[end:-1:1]
    r[1] = -1.0
    return x, z, s, v .+ 0
end"""
    x, z = np.arange(4.0), np.arange(10.0, 12.0)
    y = x[0:2]
    if a > 0:
        y = z if b > 0 else x[1:3]
    else:
        y = z + 0
    y[0] = 100.0
    x[2] += 1.0
    s = y.sum()
    v = x[2:4] if b > 0.5 else x[0:2]
    v *= 2
    x[3] = -1.0
    check(src, (np.arange(4.0), np.arange(10.0, 12.0), a, b), (x, z, np.float64(s), v.copy()))


@pytest.mark.parametrize("k", [1, 2])
def test_tuple_indexed_at_run_time(k):
    src = """
function main(x, y, k)
    t = (1.0, 2.5, -3.0)
    s = (x, y)
    a = s[k]
    a[1] = 42.0
    n = (1, 2)[k] + t[k + 1]
    return x, y, n, ((1, 2.0), (3, 4.0))[k]
end"""
    x, y = np.zeros(2), np.ones(2)
    (x if k == 1 else y)[0] = 42.0
    check(src, (np.zeros(2), np.ones(2), k),
          (x, y, np.float64(k + (2.5, -3.0)[k - 1]), ((np.int64(1), np.float64(2.0)), (np.int64(3), np.float64(4.0)))[k - 1]))


def test_early_return_of_an_array_from_a_loop():
    src = """
function newton(x::Vector{Float64})
    for i in 1:20
        if sum(abs2, x) < 1e-6
            return x
        end
        x = x .* 0.5
    end
    return x
end
main(x) = newton(x)"""
    check(src, (np.ones(3),), np.full(3, 0.5 ** 11))


def test_identity_isequal_and_isless_on_signed_zeros_and_nan():
    src = """
struct P
    x::Float64
end
function main(a, b, v)
    w = v
    return (a === b, a == b, isequal(a, b), isless(a, b), isless(b, a), NaN === NaN, isequal(NaN, NaN), 1 === 1.0,
            isequal(1, 1.0), P(-0.0) == P(0.0), P(NaN) == P(NaN), (1, -0.0) == (1, 0.0), isequal((1, -0.0), (1, 0.0)),
            v === w, v === copy(v), v == copy(v), isequal([NaN], [NaN]), [NaN] == [NaN], isless(NaN, 1.0),
            isless(1.0, NaN), max(a, b), min(b, a))
end"""
    t, f = np.bool_(True), np.bool_(False)
    check(src, (-0.0, 0.0, np.ones(2)), (f, t, f, t, f, t, t, f, t, f, t, t, f, t, f, t, t, f, f, t, np.float64(0.0),
                                        np.float64(-0.0)))
    got = run_at(src, 2, -0.0, 0.0, np.ones(2))
    assert not np.signbit(got[-2]) and np.signbit(got[-1])


def test_checks_inside_a_broadcast_in_a_loop():
    # the InexactError check of round.(Int64, ...) is made for every element: one code for the loop
    src = """
function main(a::Float64, x::Vector{Float64})
    s = 0
    for i in 2:6
        s += sum(round.(Int64, x .* i))
    end
    return s, gradient(y -> 1.0, a)
end"""
    x = np.array([0.5, 1.0, 2.0])
    check(src, (1.0, x), (np.int64(sum(np.round(x * i).astype(np.int64).sum() for i in range(2, 7))), (np.float64(0.0),)))


@pytest.mark.parametrize("a", [0.0, 1.5, 3.0])
def test_loops_rebinding_arrays_to_arrays_from_before_the_loop(a):
    src = """
function first_neg(xs::Vector{Float64}, ys::Vector{Float64})
    for i in 1:3
        if xs[i] < 0
            return xs
        end
    end
    return ys
end
function main(x::Vector{Float64}, y::Vector{Float64}, a::Float64)
    r = first_neg(x, y)
    r[1] = 99.0
    z = y
    for k in 1:3
        if a > k
            z = x
        elseif k == 2
            z[2] += 1.0
        end
    end
    z[3] = -5.0
    w = x
    for k in 1:2
        if a > 2.5
            w = w .* 2
        else
            w[1] += 1
        end
    end
    return x, y, w .+ 0
end"""
    x, y = np.array([1.0, -2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    x0, y0 = x.copy(), y.copy()
    r = x if (x < 0).any() else y
    r[0] = 99.0
    z = y
    for k in range(1, 4):
        if a > k:
            z = x
        elif k == 2:
            z[1] += 1.0
    z[2] = -5.0
    w = x
    for _ in range(2):
        if a > 2.5:
            w = w * 2
        else:
            w[0] += 1
    check(src, (x0, y0, a), (x, y, w.copy()))


def test_comprehension_whose_closures_and_inner_comprehensions_see_its_variable():
    src = "main(x) = ([count(w -> w < u, x) for u in x], [sum([a * b for a in x]) for b in x], [sum(map(a -> a - b, x)) for b in x])"
    x = np.array([1, 5, 3])
    check(src, (x,), (np.array([(x < u).sum() for u in x]), x.sum() * x, x.sum() - 3 * x))


def test_comprehension_variables_do_not_outlive_it():
    src = """
function main(a::Float64, x::Vector{Int64})
    for k in (1, -2, 1)
        v = [1.0f0 for j in 1:5]
    end
    i = 7
    w = [i * 2 for i in x]
    return a, i, w
end"""
    check(src, (1.0, np.array([1, 2])), (np.float64(1.0), np.int64(7), np.array([2, 4])))


@pytest.mark.parametrize("corner", [1.0, -5.0])
def test_branch_on_a_shared_number_inside_a_generator(corner):
    # one arm gives a value per element, the other one value for all: broadcast inside its arm
    src = """
function main(a::Float64, b::Float64, A::Matrix{Float64}, v::Vector{Float64})
    s = A[1, 2]
    return sum(s >= 1.0 ? A[i, 1] : min(a, b) for i in eachindex(v))
end"""
    A = np.arange(6.0).reshape(3, 2) + corner
    want = A[:2, 0].sum() if A[0, 1] >= 1.0 else 2 * min(0.5, 0.3)
    check(src, (0.5, 0.3, A, np.ones(2)), np.float64(want))
