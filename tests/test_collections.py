"""Base functions over collections in `frontend/prelude/collections.jl` (sortperm, partialsort,
rotations, replace, mapslices, cumulative operations along dims, reductions with `init`, in-place
variants, minmax, tuples' all/any, `Colon()`), against NumPy references written from Julia's
documented semantics: stable sorts by `isless` (NaN last, -0.0 before 0.0, ties in index order
also with rev=true), `isequal` matching in `replace`, Base's widening of small integers in
sum/cumsum but not in reduce(+), element types and shapes exactly."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from conftest import assert_same, run_jl
from jlhlo.frontend.diagnostics import JuliaError


# ----------------------------------------------------------------------------- references
def _isless_key(v):
    """Julia's isless as a sort key: NaN (either sign) after everything, -0.0 before 0.0."""
    v = float(v)
    if math.isnan(v):
        return (1, 0.0, 0)
    return (0, v, 0 if math.copysign(1.0, v) < 0 else 1)


def sortperm_ref(x, key=_isless_key, rev=False):
    """1-based stable permutation (Python's sort is stable, also with reverse=True)."""
    return np.array(sorted(range(len(x)), key=lambda i: key(x[i]), reverse=rev), dtype=np.int64) + 1


def _bits_of_zeros(got, want):
    """assert_same treats -0.0 and 0.0 as equal; Julia's results keep the sign of a zero."""
    g, w = np.asarray(got), np.asarray(want)
    zeros = w == 0
    assert np.array_equal(np.signbit(g[zeros]), np.signbit(w[zeros])), (g, w)


def _tie_prone(rng, n, dtype=np.float64):
    """Few distinct values (ties), signed zeros and NaNs of both signs."""
    pool = np.array([-1.5, -0.0, 0.0, 0.5, 2.0, np.nan, -np.nan, 0.5, 3.25], dtype=np.float64)
    return rng.choice(pool, size=n).astype(dtype)


# ----------------------------------------------------------------------------- sorting
SORTING = """
function orders(x::AbstractVector{T}) where {T<:Real}
    p = sortperm(x)
    q = sortperm(x; rev=true)
    a = sortperm(x; by=abs)
    return p, q, a, x[p], partialsort(x, 3), partialsortperm(x, 3; rev=true), partialsort(x, 2:4),
           partialsortperm(x, 1:3; by=abs, rev=true), issorted(x[p]), issorted(x), issorted(x[q]; rev=true)
end
function by_lt(v::Vector{Int})
    down = sortperm(v; lt=(a, b) -> a > b)          # ties keep index order
    mod3 = sortperm(v; by=k -> mod(k, 3))
    return down, mod3, v[down], issorted(v[mod3]; by=k -> mod(k, 3)), issorted(v; lt=(a, b) -> a > b)
end
function sorted_by(x::AbstractVector{<:Real}, v::Vector{Int})
    y = copy(x)
    sort!(y; by=abs, rev=true)
    return sort(x; by=abs), y, sort(v; lt=(a, b) -> a > b), sort(v; by=k -> mod(k, 3), rev=true)
end
"""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sortperm_partialsort_issorted_floats(rng, dtype):
    x = _tie_prone(rng, 17, dtype)
    got = run_jl(SORTING, "orders", x)
    p, q, a = sortperm_ref(x), sortperm_ref(x, rev=True), sortperm_ref(x, key=lambda v: _isless_key(abs(v)))
    s = x[p - 1]
    want = (p, q, a, s, s[2], q[2], s[1:4], sortperm_ref(x, key=lambda v: _isless_key(abs(v)), rev=True)[:3],
            np.bool_(True), np.bool_(all(_isless_key(x[i]) >= _isless_key(x[i - 1]) for i in range(1, len(x)))),
            np.bool_(True))
    assert_same(got, want)
    _bits_of_zeros(got[3], s)
    assert np.isnan(got[3][-1]) or not np.isnan(x).any()        # NaN last, also a negative one


def test_sort_with_by_and_lt(rng):
    x, v = _tie_prone(rng, 15), rng.integers(-4, 5, size=12)
    by_abs = lambda t: _isless_key(abs(t))          # noqa: E731
    want = (x[sortperm_ref(x, key=by_abs) - 1], x[sortperm_ref(x, key=by_abs, rev=True) - 1],
            v[sortperm_ref(v, key=lambda k: -k) - 1], v[sortperm_ref(v, key=lambda k: k % 3, rev=True) - 1])
    got = run_jl(SORTING, "sorted_by", x, v)
    assert_same(got, want)
    _bits_of_zeros(got[0], want[0])


def test_sortperm_with_lt_and_by_on_integers(rng):
    v = rng.integers(-4, 5, size=12)
    got = run_jl(SORTING, "by_lt", v)
    down = sortperm_ref(v, key=lambda k: -k)
    mod3 = sortperm_ref(v, key=lambda k: k % 3)
    want = (down, mod3, v[down - 1], np.bool_(True), np.bool_(all(v[i] <= v[i - 1] for i in range(1, len(v)))))
    assert_same(got, want)


def test_sort_matrix_along_dims(rng):
    A = _tie_prone(rng, 12).reshape(3, 4)
    src = "f(A::Matrix{Float64}) = (sort(A; dims=1), sort(A; dims=2, rev=true), sort(A; dims=1, by=abs))"
    by_col = np.stack([A[sortperm_ref(A[:, j]) - 1, j] for j in range(4)], axis=1)
    by_row = np.stack([A[i, sortperm_ref(A[i], rev=True) - 1] for i in range(3)])
    by_abs = np.stack([A[sortperm_ref(A[:, j], key=lambda v: _isless_key(abs(v))) - 1, j] for j in range(4)], axis=1)
    got = run_jl(src, "f", A)
    assert_same(got, (by_col, by_row, by_abs))
    for g, w in zip(got, (by_col, by_row, by_abs)):
        _bits_of_zeros(g, w)


def test_sortperm_of_empty_and_single_vectors():
    src = "f(x::Vector{Float64}) = (sortperm(x), sortperm(x; rev=true), issorted(x))"
    assert_same(run_jl(src, "f", np.zeros(0)), (np.zeros(0, np.int64), np.zeros(0, np.int64), np.bool_(True)))
    assert_same(run_jl(src, "f", np.array([np.nan])), (np.array([1]), np.array([1]), np.bool_(True)))


# ----------------------------------------------------------------------------- rotations, shifts, reversal
REARRANGE = """
function turns(A::AbstractMatrix)
    return rotl90(A), rotr90(A), rot180(A), rotl90(A, 3), rotr90(A, -2), rot180(A, 5), rotl90(A, -4)
end
function shifts(A::AbstractMatrix, v::AbstractVector)
    B = copy(A)
    reverse!(B; dims=2)
    w = copy(v)
    reverse!(w, 2, 4)
    u = copy(v)
    circshift!(u, 2)
    D = similar(A)
    circshift!(D, A, (1, -1))
    return circshift(A, (1, -1)), circshift(A, 1), B, w, reverse!(copy(v)), u, D, clamp!(copy(A), -0.5, 0.5)
end
"""


@pytest.mark.parametrize("shape, dtype", [((3, 5), np.float64), ((4, 4), np.int64)])
def test_rotations_against_rot90(rng, shape, dtype):
    A = (rng.standard_normal(shape) * 10).astype(dtype)
    want = (np.rot90(A, 1), np.rot90(A, -1), np.rot90(A, 2), np.rot90(A, 3), np.rot90(A, 2), np.rot90(A, 2), A)
    assert_same(run_jl(REARRANGE, "turns", A), tuple(np.ascontiguousarray(w) for w in want))


def test_circshift_reverse_clamp_in_place(rng):
    A = rng.standard_normal((3, 4))
    v = rng.standard_normal(6)
    w = v.copy()
    w[1:4] = w[1:4][::-1]
    want = (np.roll(A, (1, -1), axis=(0, 1)), np.roll(A, 1, axis=0), A[:, ::-1], w, v[::-1], np.roll(v, 2),
            np.roll(A, (1, -1), axis=(0, 1)), np.clip(A, -0.5, 0.5))
    assert_same(run_jl(REARRANGE, "shifts", A, v), want)


# ----------------------------------------------------------------------------- replace
REPLACE = """
function swaps(x::Vector{Float64}, n::Vector{Int})
    y = copy(x)
    replace!(y, NaN => 0.0, -0.0 => 5.0)
    m = copy(n)
    replace!(k -> k < 0 ? -k : k, m; count=2)
    return replace(x, NaN => -1.0, 0.0 => 7.0), y, replace(n, 2 => 2.5, 3 => 0),
           replace(n, 1 => 10, 1 => 20; count=2), replace(k -> 2k, n), m, replace(x)
end
"""


def _isequal(a, b):
    """Julia's isequal on numbers: NaN equals NaN, -0.0 differs from 0.0."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if a == 0 and b == 0 and (isinstance(a, float) or isinstance(b, float)):
        return math.copysign(1, a) == math.copysign(1, b)
    return a == b


def replace_ref(x, pairs, dtype, count=None):
    out, done = [], 0
    for v in x.tolist():
        new = v
        for old, rep in pairs:
            if _isequal(v, old) and (count is None or done < count):
                new, done = rep, done + 1
                break
        out.append(new)
    return np.array(out, dtype=dtype)


def test_replace_with_pairs_and_functions(rng):
    x = _tie_prone(rng, 15)
    n = rng.integers(-3, 4, size=12)
    got = run_jl(REPLACE, "swaps", x, n)
    m, flips = n.copy(), 0
    for i in range(len(m)):
        if m[i] < 0 and flips < 2:
            m[i], flips = -m[i], flips + 1
    want = (replace_ref(x, [(math.nan, -1.0), (0.0, 7.0)], np.float64),
            replace_ref(x, [(math.nan, 0.0), (-0.0, 5.0)], np.float64),
            replace_ref(n, [(2, 2.5), (3, 0)], np.float64),
            replace_ref(n, [(1, 10), (1, 20)], np.int64, count=2), 2 * n, m, x)
    assert_same(got, want)
    _bits_of_zeros(got[0], want[0])
    _bits_of_zeros(got[1], want[1])


def test_replace_count_must_not_be_negative():
    with pytest.raises(JuliaError, match="(?s)DomainError.*must not be negative"):
        run_jl("f(x::Vector{Int}, c::Int) = replace(x, 1 => 2; count=c)", "f", np.array([1, 2]), -1)


# ----------------------------------------------------------------------------- mapslices, diff, cumulative
SLICES = """
function slices(A::AbstractMatrix, C::AbstractArray{T,3}) where {T}
    cols = mapslices(c -> c ./ sum(c), A; dims=1)
    rows = mapslices(r -> maximum(r) - minimum(r), A; dims=2)
    ends = mapslices(v -> [first(v), last(v)], C; dims=2)
    return cols, rows, mapslices(sum, A; dims=(1,)), ends, diff(A; dims=2), diff(C; dims=3), diff(A[:, 1]; dims=1)
end
function running(A::AbstractMatrix, v::AbstractVector, b::Vector{Bool}, s::Vector{Int8})
    return cumsum(A; dims=1), cumsum(A; dims=2), cumprod(A; dims=2), accumulate(-, A; dims=2),
           accumulate(max, v; init=0.0), accumulate(+, s; init=0.5), cumsum(b), cumsum(s), cumprod(s),
           accumulate(+, s), cumsum(A; dims=3), cumsum(v; dims=1)
end
"""


def test_mapslices_and_diff_along_dims(rng):
    A = rng.uniform(0.5, 2.0, (3, 4))
    C = rng.standard_normal((2, 3, 4)).astype(np.float32)
    got = run_jl(SLICES, "slices", A, C)
    want = (A / A.sum(axis=0, keepdims=True), (A.max(axis=1) - A.min(axis=1))[:, None], A.sum(axis=0, keepdims=True),
            np.stack([C[:, 0, :], C[:, -1, :]], axis=1), np.diff(A, axis=1), np.diff(C, axis=2), np.diff(A[:, 0]))
    assert_same(got, want)


def test_mapslices_refuses_several_dims():
    with pytest.raises(JuliaError, match="several dimensions"):
        run_jl("f(A::Matrix{Float64}) = mapslices(sum, A; dims=(1, 2))", "f", np.ones((2, 2)))


def test_cumulative_operations_keep_julias_element_types(rng):
    A = rng.standard_normal((3, 4))
    v = rng.standard_normal(6)
    b = rng.random(9) < 0.5
    s = rng.integers(60, 127, size=5).astype(np.int8)          # sums overflow Int8: Base widens to Int64
    got = run_jl(SLICES, "running", A, v, b, s)
    acc_max = np.maximum.accumulate(np.concatenate([[0.0], v]))[1:]
    want = (np.cumsum(A, axis=0), np.cumsum(A, axis=1), np.cumprod(A, axis=1), np.subtract.accumulate(A, axis=1),
            acc_max, 0.5 + np.cumsum(s.astype(np.float64)), np.cumsum(b.astype(np.int64)),
            np.cumsum(s.astype(np.int64)), np.cumprod(s.astype(np.int64)),
            np.cumsum(s, dtype=np.int8),                      # accumulate(+) does not widen: it wraps
            A, v.cumsum())
    with np.errstate(over="ignore"):
        assert_same(got, want)


def test_cumulative_operations_of_empty_arrays():
    src = "f(x::Vector{Float64}, A::Matrix{Int}) = (cumsum(x), cumprod(A; dims=2), diff(A; dims=1), accumulate(+, x; init=1))"
    assert_same(run_jl(src, "f", np.zeros(0), np.zeros((0, 3), np.int64)),
                (np.zeros(0), np.zeros((0, 3), np.int64), np.zeros((0, 3), np.int64), np.zeros(0)))


# ----------------------------------------------------------------------------- reductions with init
REDUCE = """
function folds(x::AbstractVector{T}, A::AbstractMatrix) where {T}
    e = x[1:0]
    return sum(abs2, x; init=zero(T)), sum(x; init=10), prod(x; init=2.0), maximum(x; init=100.0),
           minimum(abs, x; init=0.0), reduce(+, x; init=1.0), mapreduce(abs, max, x; init=-1.0),
           sum(e; init=3.0), maximum(e; init=-Inf), sum(A; dims=1, init=1.0), maximum(A; dims=2, init=0.0),
           reduce(-, x; init=0.0), mapreduce(v -> 2v, -, x; init=1.0), reduce((a, b) -> a * b + 1, x),
           foldl(-, x), foldl((a, b) -> 2a - b, x; init=1.0)
end
function small_ints(s::Vector{Int8}, u::Vector{UInt8})
    return reduce(+, s), reduce(*, s), mapreduce(identity, +, u), sum(s), sum(u), prod(s; init=Int8(1)),
           reduce(+, s; init=Int8(0)), sum(s; dims=1)
end
"""


def _foldl(op, init, xs):
    acc = init
    for v in xs:
        acc = op(acc, v)
    return acc


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reductions_with_init(rng, dtype):
    x = rng.standard_normal(7).astype(dtype)
    A = rng.standard_normal((3, 2))
    got = run_jl(REDUCE, "folds", x, A)
    f = x.astype(np.float64)
    T = np.dtype(dtype).type
    want = (T((x * x).sum()), T(10 + f.sum()) if dtype == np.float32 else 10 + f.sum(), 2.0 * np.prod(f),
            np.float64(max(100.0, f.max())), np.float64(0.0), 1.0 + f.sum(), np.float64(max(-1.0, abs(f).max())),
            3.0, -np.inf, 1.0 + A.sum(axis=0, keepdims=True), np.maximum(0.0, A.max(axis=1, keepdims=True)),
            _foldl(lambda a, b: a - b, 0.0, f), _foldl(lambda a, b: a - 2 * b, 1.0, f),
            T(_foldl(lambda a, b: a * b + 1, f[0], f[1:])), T(_foldl(lambda a, b: a - b, f[0], f[1:])),
            _foldl(lambda a, b: 2 * a - b, 1.0, f))
    want = tuple(np.asarray(w) if not isinstance(w, np.ndarray) else w for w in want)
    assert_same(got, want, rtol=1e-5 if dtype == np.float32 else None, atol=1e-5 if dtype == np.float32 else None)


def test_reduce_plus_does_not_widen_small_integers_but_sum_does(rng):
    s = rng.integers(60, 127, size=6).astype(np.int8)
    u = rng.integers(100, 255, size=6).astype(np.uint8)
    got = run_jl(REDUCE, "small_ints", s, u)
    with np.errstate(over="ignore"):
        want = (np.add.reduce(s, dtype=np.int8), np.multiply.reduce(s, dtype=np.int8), np.add.reduce(u, dtype=np.uint8),
                s.astype(np.int64).sum(), u.astype(np.uint64).sum(), np.prod(s.astype(np.int64)),
                np.add.reduce(s, dtype=np.int8), np.array([s.astype(np.int64).sum()]))
    assert_same(got, want)


def test_reduce_with_a_user_operator_folds_like_base_beyond_a_block():
    """Base's mapreduce_impl: left to right within 1024 elements, halves joined pairwise."""
    x = np.arange(1.0, 3001.0)

    def impl(lo, hi):
        if lo == hi:
            return x[lo]
        if hi - lo < 1024:
            return functools.reduce(lambda a, b: a - b, x[lo + 1:hi + 1], x[lo])
        mid = lo + ((hi - lo) >> 1)
        return impl(lo, mid) - impl(mid + 1, hi)
    assert_same(run_jl("f(x) = reduce((a, b) -> a - b, x)", "f", x), np.float64(impl(0, len(x) - 1)))


# ----------------------------------------------------------------------------- small things
MISC = """
function small(x::Vector{Float64}, n::Vector{Int}, A::Matrix{Float64})
    t = (x[1] > 0, x[2] > 0, x[3] > 0)
    c = Colon()
    return minmax(x[1], x[2]), minmax(x[4], x[5]), minmax(x[5], x[4]), minmax(x[6], x[1]), minmax(n[1], n[2]),
           all(t), any(t), all(v -> v < 1, x), any(v -> v > 0, (n[1], x[1])), all(()), any(()),
           prod(()), reshape(1:6, 2, 3), reshape(0.5:0.5:3.0, (3, 2)), A[c, 2], sum(A; dims=c)
end
"""


def test_minmax_tuples_ranges_colon(rng):
    x = rng.standard_normal(6)
    x[3], x[4] = -0.0, (np.nan if rng.random() < 0.5 else 0.0)    # signed zeros and NaN, at run time
    n = rng.integers(-5, 5, size=2)
    A = rng.standard_normal((2, 3))
    got = run_jl(MISC, "small", x, n, A)

    def mm(a, b):                                # Julia's minmax of two floats: (min, max), NaN wins
        if math.isnan(a) or math.isnan(b):
            return (np.float64(np.nan), np.float64(np.nan))
        lo = min(a, b) if a != b else (a if math.copysign(1, a) < 0 else b)
        hi = max(a, b) if a != b else (b if math.copysign(1, a) < 0 else a)
        return (np.float64(lo), np.float64(hi))
    i, j = int(n[0]), int(n[1])
    t = x[:3] > 0
    want = (mm(x[0], x[1]), mm(x[3], x[4]), mm(x[4], x[3]), mm(x[5], x[0]), (np.int64(min(i, j)), np.int64(max(i, j))),
            np.bool_(t.all()), np.bool_(t.any()), np.bool_((x < 1).all()), np.bool_(i > 0 or x[0] > 0),
            np.bool_(True), np.bool_(False), np.int64(1), np.arange(1, 7).reshape(3, 2).T,
            np.arange(0.5, 3.01, 0.5).reshape(2, 3).T, A[:, 1], np.float64(A.sum()))
    assert_same(got, want)
    for g, w in zip(got[1] + got[2], mm(x[3], x[4]) + mm(x[4], x[3])):
        _bits_of_zeros(g, w)


def test_all_of_a_tuple_needs_bools():
    with pytest.raises(JuliaError, match="TypeError: non-boolean"):
        run_jl("f(x::Int) = all((x, 2))", "f", 1)


def test_in_place_variants_convert_like_setindex():
    """Julia's clamp!/circshift! store through setindex!: a value the element type cannot hold is an
    InexactError, not a truncation."""
    src = "f(v::Vector{Int}, lo::Float64) = (clamp!(copy(v), lo, 2.0), circshift!(similar(v), Float64.(v), 1))"
    assert_same(run_jl(src, "f", np.array([1, 5, 3]), 0.0), (np.array([1, 2, 2]), np.array([3, 1, 5])))
    with pytest.raises(JuliaError, match="InexactError"):
        run_jl(src, "f", np.array([1, 5, 3]), 1.5)


def test_reverse_in_place_bounds_and_ranges():
    src = """
f(v::Vector{Int}, i::Int) = (reverse!(copy(v), i, 3), cumsum(1:4), cumprod(2:4), accumulate(+, 1:3; init=0.5))"""
    v = np.array([4, 5, 6, 7])
    assert_same(run_jl(src, "f", v, 2), (np.array([4, 6, 5, 7]), np.array([1, 3, 6, 10]), np.array([2, 6, 24]),
                                         np.array([1.5, 3.5, 6.5])))
    assert_same(run_jl(src, "f", v, 5)[0], v)             # start after stop: nothing to do, no check
    with pytest.raises(JuliaError, match="BoundsError"):
        run_jl(src, "f", v, 0)


# ----------------------------------------------------------------------------- slices, copies, medians
SLICE_VIEWS = """
using Statistics
function slices(T::Array{Float64, 3}, M::Matrix{Float64})
    sums = [sum(s) for s in eachslice(T; dims=3)]
    peaks = [maximum(s) for s in eachslice(T; dims=(1,))]
    for r in eachslice(M; dims=1)       # views: writes reach M
        r .*= 2
    end
    return sums, peaks, M, median(T), median(M; dims=2), median(T; dims=3)
end
function copies(dest::Matrix{Float64}, src::Vector{Float64}, d::Int, s::Int, n::Int)
    copyto!(dest, d, src, s, n)
    return dest
end
"""


def test_eachslice_views_and_median_along_dims(rng):
    T, M = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 5))
    got = run_jl(SLICE_VIEWS, "slices", T, M.copy())
    want = (T.sum((0, 1)), T.max((1, 2)), 2 * M, np.float64(np.median(T.reshape(-1))),
            np.median(2 * M, axis=1, keepdims=True), np.median(T, axis=2, keepdims=True))
    assert_same(got, want)


@pytest.mark.parametrize("d, s, n", [(2, 1, 3), (1, 4, 5), (7, 2, 0), (10, 1, 6)])
def test_copyto_with_offsets_writes_n_elements_in_memory_order(rng, d, s, n):
    dest, src = rng.standard_normal((3, 5)), rng.standard_normal(8)
    want = dest.copy()
    flat = want.reshape(-1, order="F")       # Julia's linear indices are column-major
    for i in range(n):
        flat[d - 1 + i] = src[s - 1 + i]
    want = flat.reshape(3, 5, order="F")
    assert_same(run_jl(SLICE_VIEWS, "copies", dest, src, d, s, n), want)


def test_copyto_past_the_end_is_a_bounds_error(rng):
    with pytest.raises(JuliaError, match="BoundsError"):
        run_jl(SLICE_VIEWS, "copies", np.zeros((3, 5)), np.ones(8), 12, 1, 5)
