"""Searching as Julia code does it. A search that may find nothing (`findfirst`, `findlast`,
`findnext`, `findprev`, a hand-written linear search) returns `nothing` there, and callers guard
with `isnothing`/`something`/`=== nothing`, methods for `::Nothing`, a variable that starts as
`nothing` and is set in a loop. Such a value is a `Union{Nothing, T}`: calls split on it, and where
it is `nothing` and a method does not take it the program throws Julia's MethodError when it runs.
The index of an element of a matrix (`argmax(A)`) is a CartesianIndex. References are NumPy,
written from Julia's manual."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same, cli, write_jl
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

LEVELS = (0, 2)


def run_at(source: str, level: int, *args, entry: str = "main"):
    f = jlhlo.load(source, filename="t.jl").function(entry)
    lowered = f.lower(*args, optimize_level=level)
    return lowered.outputs(lowered.compile("cpu")(*lowered.host_inputs(args)))


def first_index(hits) -> int | None:
    """Julia's findfirst on a Bool vector: the 1-based index of the first true, else nothing."""
    where = np.flatnonzero(hits)
    return int(where[0]) + 1 if where.size else None


def last_index(hits) -> int | None:
    where = np.flatnonzero(hits)
    return int(where[-1]) + 1 if where.size else None


SEARCHES = """
function main(x::Vector{Float64}, t::Float64, k::Int)
    a = findfirst(v -> v > t, x)
    b = findlast(x .> t)
    c = something(findfirst(>(t), x), 0)
    d = isnothing(findfirst(==(t), x))
    e = findnext(v -> v < t, x, k)
    p = findprev(x .< t, k)
    first_or_minus = a === nothing ? -1 : a
    last_or_zero = b !== nothing ? b : 0
    return (first_or_minus, last_or_zero, c, d, something(e, -5), isnothing(p) ? -7 : 10p)
end
"""


def test_searches_that_may_find_nothing(rng):
    for trial in range(6):
        x = rng.standard_normal(7)
        t = float(rng.choice([-3.0, 0.0, 0.5, 3.0, x[2]]))
        k = int(rng.integers(1, 8))
        e = first_index(x[k - 1:] < t)
        p = last_index(x[:k] < t)
        want = (first_index(x > t) or -1, last_index(x > t) or 0, first_index(x > t) or 0,
                first_index(x == t) is None, -5 if e is None else e + k - 1, -7 if p is None else 10 * p)
        for level in LEVELS:
            got = run_at(SEARCHES, level, x, t, k)
            assert tuple(int(g) for g in got) == tuple(int(w) for w in want), (x, t, k, got, want)
            assert all(np.asarray(g).dtype == (np.bool_ if isinstance(w, bool) else np.int64)
                       for g, w in zip(got, want))


LINEAR_SEARCH = """
function position_of(xs, target; atol=1e-9)
    for (i, v) in enumerate(xs)
        if abs(v - target) <= atol
            return i
        end
    end
    return nothing
end

function first_crossing(y, level)
    crossing = nothing
    for i in 2:length(y)
        if crossing === nothing && y[i-1] < level <= y[i]
            crossing = i
        end
    end
    return crossing
end

function main(xs::Vector{Float64}, target::Float64, level::Float64)
    i = position_of(xs, target)
    i === nothing && return (0.0, -1)
    j = first_crossing(xs, level)
    if isnothing(j)
        return (xs[i], 0)
    end
    return (xs[i] * 2, j)
end
"""


def test_functions_that_return_nothing_and_callers_that_check(rng):
    for trial in range(6):
        xs = np.round(rng.standard_normal(8), 1)
        target = float(xs[rng.integers(8)]) if trial % 3 else 9.0
        level = float(rng.choice([0.0, 0.3, 5.0]))
        i = first_index(np.abs(xs - target) <= 1e-9)
        j = next((k + 1 for k in range(1, 8) if xs[k - 1] < level <= xs[k]), None)
        want = (0.0, -1) if i is None else (xs[i - 1], 0) if j is None else (xs[i - 1] * 2, j)
        for level_ in LEVELS:
            got = run_at(LINEAR_SEARCH, level_, xs, target, level)
            assert_same(got, (np.float64(want[0]), np.int64(want[1])))


DISPATCH = """
describe(i::Int) = 2i
describe(::Nothing) = -1
or_zero(x::Union{Nothing, Int}) = x === nothing ? 0 : x
main(x::Vector{Float64}, t::Float64) = (describe(findfirst(>(t), x)) + describe(findlast(<(t), x)),
                                        or_zero(findfirst(>(t), x)))
"""


def test_methods_for_nothing_are_chosen_when_the_program_runs(rng):
    for t in (-5.0, 0.0, 5.0):
        x = rng.standard_normal(5)
        a, b = first_index(x > t), last_index(x < t)
        want = ((-1 if a is None else 2 * a) + (-1 if b is None else 2 * b), a or 0)
        for level in LEVELS:
            assert_same(run_at(DISPATCH, level, x, t), tuple(np.int64(w) for w in want))


UNCHECKED = """
function main(x::Vector{Float64}, t::Float64)
    i = findfirst(>(t), x)
    return x[i] + i
end
"""


def test_using_nothing_where_a_number_is_needed_throws_when_it_happens():
    x = np.array([0.25, 0.75, 0.5])
    for level in LEVELS:
        assert_same(run_at(UNCHECKED, level, x, 0.6), np.float64(0.75 + 2))
        with pytest.raises(JuliaError, match="unable to check bounds for indices of type Nothing") as e:
            run_at(UNCHECKED, level, x, 0.9)
        assert e.value.span.line == 4
    plus = UNCHECKED.replace("x[i] + i", "i + 1")
    with pytest.raises(JuliaError, match=r"MethodError: no method matching \+\(::Nothing, ::Int64\)"):
        run_at(plus, 2, x, 0.9)


def test_the_entry_returns_nothing_or_the_value(tmp_path):
    source = "main(x::Vector{Float64}, t::Float64) = (findfirst(>(t), x), findlast(>(t), x))\n"
    x = np.array([0.25, 0.75, 0.5])
    assert run_at(source, 2, x, 0.4) == (2, 3)
    assert run_at(source, 2, x, 0.9) == (None, None)
    path = write_jl(tmp_path, source)
    assert cli(path, "--call", "main([0.25, 0.75, 0.5], 0.9)", "--run").out.strip() == "(nothing, nothing)"
    assert cli(path, "--call", "main([0.25, 0.75, 0.5], 0.6)", "--run").out.strip() == "(2, 2)"


PRINTED = """
function main(x::Vector{Float64}, t::Float64)
    i = findfirst(>(t), x)
    println("found: ", i)
    return 0
end
"""


def test_printing_a_union_shows_nothing_or_the_value(tmp_path):
    path = write_jl(tmp_path, PRINTED)
    assert cli(path, "--call", "main([0.25, 0.75], 0.5)", "--run").out.splitlines()[0] == "found: 2"
    assert cli(path, "--call", "main([0.25, 0.75], 0.9)", "--run").out.splitlines()[0] == "found: nothing"


GRADIENT = """
function weighted(w, x, t)
    i = findfirst(>(t), x)
    i === nothing && return sum(abs2, w)
    return w[i] * sum(w)
end
main(w::Vector{Float64}, x::Vector{Float64}, t::Float64) = gradient(w -> weighted(w, x, t), w)[1]
"""


def test_gradient_through_a_search(rng):
    w, x = rng.standard_normal(4), rng.standard_normal(4)
    for t in (-9.0, 0.0, 9.0):
        i = first_index(x > t)
        if i is None:
            want = 2 * w
        else:
            want = np.full(4, w[i - 1])
            want[i - 1] += w.sum()
        for level in LEVELS:
            assert_same(run_at(GRADIENT, level, w, x, t), want, rtol=1e-12)


def test_nothing_or_a_float_or_an_int_is_promoted_as_documented():
    source = """
function main(x::Vector{Float64}, t::Float64)
    i = findfirst(>(t), x)
    y = i === nothing ? 0.5 : i
    return y
end
"""
    got = [run_at(source, 2, np.array([0.25, 0.75]), t) for t in (0.5, 0.9)]
    assert_same(got[0], np.float64(2.0))        # Union{Float64, Int64}: promoted, as documented
    assert_same(got[1], np.float64(0.5))


CARTESIAN = """
function main(A::Matrix{Float64}, B::Array{Float64, 3})
    m, c = findmax(A)
    i, j = Tuple(argmin(A))
    A[c] = -A[c]
    k = argmax(B)
    return (m, c[1], c[2], i, j, A, B[k], k[3], argmax(vec(A)), length(c))
end
"""


def test_the_index_of_a_matrix_element_is_a_cartesian_index(rng, tmp_path):
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((2, 3, 2))
    r, c = np.unravel_index(np.argmax(A), A.shape)             # Julia's keys: (row, column), 1-based
    i, j = np.unravel_index(np.argmin(A), A.shape)
    k = np.unravel_index(np.argmax(B), B.shape)
    flipped = A.copy()
    flipped[r, c] = -flipped[r, c]
    want = (A.max(), r + 1, c + 1, i + 1, j + 1, flipped, B.max(), k[2] + 1,
            np.argmax(flipped.ravel(order="F")) + 1, 2)
    for level in LEVELS:
        got = run_at(CARTESIAN, level, A.copy(), B)
        assert_same(got, tuple(np.float64(w) if isinstance(w, float) else w if isinstance(w, np.ndarray)
                               else np.int64(w) for w in want))
    shown = cli(write_jl(tmp_path, "main(A::Matrix{Float64}) = argmax(A)\n"), "--call", "main([1.0 5.0; 3.0 2.0])",
                "--run").out.strip()
    assert shown == "CartesianIndex(1, 2)"



ALONG_DIMS = """
function main(A::Array{Float64,3})
    vals, at = findmax(A; dims=2)
    return (vals, map(I -> I[2], at), map(I -> I[1], argmin(A; dims=1)), findmin(A; dims=(1, 3))[1],
            [I[3] for I in argmax(A; dims=3)])
end
"""


def first_extremum(values, largest: bool) -> int:
    """The 0-based position findmax/findmin report in one slice: the first NaN if there is one (the
    extremum is then NaN), else the first largest/smallest in isless's order (-0.0 below 0.0)."""
    nans = [k for k, v in enumerate(values) if np.isnan(v)]
    if nans:
        return nans[0]
    keys = [(float(v), not np.signbit(v)) for v in values]
    best = max(keys) if largest else min(keys)
    return keys.index(best)


def test_extrema_along_dims_and_their_cartesian_indices(rng):
    """findmax/findmin/argmax/argmin with `dims`: each slice's extremum and the CartesianIndex of
    its first occurrence (NaN wins, 0.0 is above -0.0, as Julia's isless orders them)."""
    A = np.round(rng.standard_normal((3, 4, 2)), 0)       # rounded: ties in most slices
    A[0, 1, 0], A[2, 3, 1], A[1, 2, 0] = np.nan, -0.0, 0.0
    for level in LEVELS:
        vals, where2, where1, mins, where3 = run_at(ALONG_DIMS, level, A)
        want2 = np.array([[[first_extremum(A[i, :, k], True) + 1 for k in range(2)]] for i in range(3)])
        assert_same(where2, want2)
        want_vals = np.take_along_axis(A, want2 - 1, axis=1)
        assert np.array_equal(vals, want_vals, equal_nan=True) and np.array_equal(np.signbit(vals),
                                                                                   np.signbit(want_vals))
        want1 = np.array([[[first_extremum(A[:, j, k], False) + 1 for k in range(2)] for j in range(4)]])
        assert_same(where1, want1)
        want3 = np.array([[[first_extremum(A[i, j, :], True) + 1] for j in range(4)] for i in range(3)])
        assert_same(where3, want3)
        flat = [A[:, j, :].ravel(order="F") for j in range(4)]
        want_mins = np.array([[[flat[j][first_extremum(flat[j], False)]] for j in range(4)]])
        assert np.array_equal(mins, want_mins, equal_nan=True)
