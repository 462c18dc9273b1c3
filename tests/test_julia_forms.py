"""Forms of Julia that public code uses and jlhlo once refused: keyword and positional splatting
(`f(args...; kws...)`, `max(v...)`, `[A...]`), `@evalpoly`, call-like macros (`@assert(c, msg)`),
`if` as an expression, `x[begin]`, `return a[i] = v`, `global` reads, `Val{N}` dispatch and
`Complex{T}` signatures. References are NumPy, written from Julia's manual."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same, cli, run_jl, write_jl
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo


def test_keyword_and_positional_splatting(rng):
    source = """
    scaled(a, b; scale=1.0, shift=0.0) = (a + b) * scale + shift
    forward(args...; kws...) = scaled(args...; kws...)
    function with_default(x; kwargs...)
        return scaled(x, x; shift=1.0, kwargs...)      # a later keyword replaces an earlier one
    end
    count_kws(; kws...) = length(kws)
    main(x) = (forward(x[1], x[2]; scale=3.0), forward(x[1], x[2]), with_default(x[3]; scale=2.0),
               with_default(x[3]; shift=-1.0), count_kws(; a=1, b=2.0), max(x...), hypot(x[1:2]...),
               [x...], (x...,), +(1:4...))
    """
    x = rng.standard_normal(3)
    want = ((x[0] + x[1]) * 3.0, x[0] + x[1], 2 * x[2] * 2.0 + 1.0, 2 * x[2] - 1.0, 2, np.max(x),
            np.hypot(x[0], x[1]), x, tuple(x), 10)
    assert_same(run_jl(source, "main", x), want)


def test_splatting_needs_a_length_known_when_compiling():
    source = """
    function main(x, n)
        s = 0.0
        for k in 1:n
            s += +((1:k)...)
        end
        return s
    end
    """
    with pytest.raises(JuliaError, match="known only at run time"):
        run_jl(source, "main", np.ones(3), 2)


def test_evalpoly_macro_and_call_like_macros(rng):
    source = """
    p(t) = @evalpoly(t, 1.0, -2.0, 0.5, 3.0)
    function main(x)
        @assert(all(isfinite, x), "finite input")
        y = @views(x[1:2] .+ 1)
        return (p.(x), 1 + @evalpoly(x[1], 2.0), y)
    end
    """
    x = rng.standard_normal(4)
    horner = 1.0 + x * (-2.0 + x * (0.5 + x * 3.0))
    assert_same(run_jl(source, "main", x), (horner, 3.0, x[:2] + 1), rtol=1e-14)
    with pytest.raises(JuliaError, match="AssertionError: finite input"):
        run_jl(source, "main", np.array([1.0, np.inf, 0.0, 0.0]))


def test_if_as_an_expression(rng):
    source = """
    function sign_of(v)
        s = if v > 0
            1.0
        elseif v < 0
            -1.0
        else
            0.0
        end
        return s
    end
    clip(v) = (if v > 1; 1.0 else v end) * 2
    function main(x)
        t = 0.0
        for v in x
            t += if v > 0; v else 0.0 end
        end
        none = if length(x) > 100; 1 end
        w = if x[1] > 0
            k = 3
            k * 2
        else
            0
        end
        return ([sign_of(v) for v in x], clip.(x), t, none, w)
    end
    """
    for trial in range(3):
        x = rng.standard_normal(5) * 2
        x[2] = 0.0
        want = (np.sign(x), np.minimum(x, 1.0) * 2, x[x > 0].sum(), None, 6 if x[0] > 0 else 0)
        assert_same(run_jl(source, "main", x), want)


def test_begin_in_indexing_and_returning_an_assignment(rng):
    source = """
    function set_and_return!(x, i, v)
        return x[i] = v
    end
    function bumped(n)
        return n += 2
    end
    function main(x, A)
        a = x[begin] + x[begin + 1]
        b = sum(x[begin:end-1])
        c = A[begin, end] + A[end, begin]
        s = 0.0
        for i in 2:length(x)
            s += sum(x[begin:i])
        end
        v = set_and_return!(x, 2, 5)
        return (a, b, c, (1, 2, 3)[begin], s, v, x, bumped(3))
    end
    """
    x, A = rng.standard_normal(4), rng.standard_normal((2, 3))
    s = sum(x[:i].sum() for i in range(2, 5))
    x2 = x.copy()
    x2[1] = 5.0
    want = (x[0] + x[1], x[:-1].sum(), A[0, -1] + A[-1, 0], 1, s, 5, x2, 5)
    assert_same(run_jl(source, "main", x, A), want, rtol=1e-14)


def test_global_variables_are_read_and_never_assigned(tmp_path):
    source = """
    const K = 3
    scale = 2.0
    global offset = 0.5
    function main(x)
        global scale
        return K * scale * x[1] + offset
    end
    """
    assert_same(run_jl(source, "main", np.array([1.5])), 3 * 2.0 * 1.5 + 0.5)
    for body in ("global count += 1", "global count\n    count = 2"):
        path = write_jl(tmp_path, f"count = 0\nfunction main(x)\n    {body}\n    return x[1]\nend\n")
        r = cli(path, "--entry", "main", "--args", "Float64[3]")
        assert r.status == 1 and "assigning the global variable `count` inside a function" in r.stderr, r.stderr


def test_val_dispatch_on_constants():
    source = """
    twice(::Val{N}) where {N} = N * 2
    pick(::Val{true}) = 1.0
    pick(::Val{false}) = 2.0
    pick(::Val{1}) = 3.0
    tuple_of(::Val{N}) where {N} = ntuple(i -> i * N, N)
    main(x) = (twice(Val(3)) + x[1], pick(Val(length(x) > 2)), pick(Val(1)), twice(Val{4}()),
               tuple_of(Val(3)))
    """
    assert_same(run_jl(source, "main", np.array([1.5, 2.0, 3.0])), (7.5, 1.0, 3.0, 8, (3, 6, 9)))
    with pytest.raises(JuliaError, match="must be an integer or Bool known when compiling"):
        run_jl(source.replace("Val(length(x) > 2)", "Val(x[1] > 0)"), "main", np.array([1.5, 2.0, 3.0]))


def test_complex_type_parameters(rng):
    source = """
    g(z::Complex{T}) where {T} = abs2(z) + real(z) + one(T)
    g(z::Complex{Float32}) = 0.0
    g(z::Number) = -1.0
    main(x) = (g(x[1] + 2im), g(ComplexF32(1, 2)), g(2.0), Complex(x[1], 2.0), Complex{Float32}(1, 2))
    """
    x = rng.standard_normal(2)
    z = complex(x[0], 2.0)
    want = (abs(z) ** 2 + z.real + 1.0, 0.0, -1.0, z, np.complex64(1 + 2j))
    assert_same(run_jl(source, "main", x), want, rtol=1e-14)
    with pytest.raises(JuliaError, match="no method matching Complex"):
        run_jl("main(x) = Complex(1, 2) * x[1]", "main", x)


def test_threads_loops_run_in_order():
    source = """
    function main(x)
        y = similar(x)
        Threads.@threads for i in eachindex(x)
            y[i] = 2x[i]
        end
        return y
    end
    """
    x = np.arange(5.0)
    assert_same(run_jl(source, "main", x), 2 * x)


def test_these_forms_print_in_the_typed_listing():
    f = jlhlo.load("main(x) = (if x > 0; x else -x end)").function("main")
    assert "main" in f.lower(1.0).typed_text()


def test_cartesian_and_linear_indices(rng):
    source = """
    function main(x)
        s = 0.0
        for I in CartesianIndices(x)
            s += x[I] * I[1] + I[2]
        end
        C = CartesianIndices(x)
        L = LinearIndices(x)
        t = 0
        for (k, l) in enumerate(L)
            t += k * l
        end
        u = 0.0
        for (I, v) in pairs(x)
            u += v * I[2]
        end
        w = [x[I] * 2 for I in CartesianIndices(x)]
        r = [I[1] for I in Iterators.reverse(CartesianIndices((2, 3)))]
        return (s, Tuple(C[2, 1]), Tuple(C[3]), L[2, 2], L[3], t, u, w, r, length(C), size(C))
    end
    """
    x = rng.standard_normal((2, 3))
    i, j = np.indices(x.shape) + 1
    want = ((x * i + j).sum(), (2, 1), (1, 2), 4, 3, sum(k * k for k in range(1, 7)), (x * j).sum(), 2 * x,
            np.array([[2, 2, 2], [1, 1, 1]]), 6, (2, 3))
    assert_same(run_jl(source, "main", x), want, rtol=1e-14)
    with pytest.raises(JuliaError, match="BoundsError"):
        run_jl("main(x) = Tuple(CartesianIndices(x)[7])", "main", x)


def test_typed_comprehensions_dotted_pipes_and_property_destructuring(rng):
    source = """
    struct P; x::Float64; y::Float64; end
    function main(v)
        a1 = Float64[i^2 for i in 1:3]
        a2 = Int[w > 0 for w in v]
        a3 = Float32[v[i] * j for i in 1:2, j in 1:2]
        (; a, b) = (a = v[1], b = 2)
        (; x, y) = P(v[2], 3.0)
        return (a1, a2, a3, v .|> abs, v .|> (w -> 2w) |> sum, a, b, x, y)
    end
    """
    v = rng.standard_normal(2)
    a3 = (v[:2, None] * np.array([1.0, 2.0])[None, :]).astype(np.float32)
    want = (np.array([1.0, 4.0, 9.0]), (v > 0).astype(np.int64), a3, np.abs(v), 2 * v.sum(), v[0], 2, v[1], 3.0)
    assert_same(run_jl(source, "main", v), want, rtol=1e-14)
    with pytest.raises(JuliaError, match="InexactError"):
        run_jl("main(v) = Int[w for w in v]", "main", np.array([0.5]))


def test_rounding_modes_repeat_cross_and_reductions_over_tuples(rng):
    source = """
    abstract type Shape end
    struct Circle <: Shape; r::Float64; end
    struct Square <: Shape; a::Float64; end
    area(c::Circle) = π * c.r^2
    area(s::Square) = s.a^2
    function main(x, k)
        shapes = (Circle(x[1]), Square(x[2]))
        return (round(x[1], RoundDown), round(x[1], RoundUp), round(x[1], RoundToZero), round(x[1], RoundNearest),
                round(Int, x[2], RoundDown), div(k, 2, RoundDown), div(k, 2, RoundUp), div(k, 2, RoundToZero),
                repeat(x[1:2], inner=2), repeat(x[1:2]; inner=2, outer=2), x × [0.0, 0.0, 1.0],
                sum(area, shapes), maximum(area, shapes))
    end
    """
    for trial in range(3):
        x, k = rng.standard_normal(3) * 3, int(rng.integers(-9, 10))
        areas = (np.pi * x[0] ** 2, x[1] ** 2)
        want = (np.floor(x[0]), np.ceil(x[0]), np.trunc(x[0]), np.round(x[0]), int(np.floor(x[1])), k // 2,
                -(-k // 2), int(k / 2), np.repeat(x[:2], 2), np.tile(np.repeat(x[:2], 2), 2),
                np.cross(x, [0.0, 0.0, 1.0]), areas[0] + areas[1], max(areas))
        assert_same(run_jl(source, "main", x, k), want, rtol=1e-14)


def test_vararg_tuple_signatures_and_base_odds_and_ends(rng):
    source = """
    function chepolsum(x::Float64, a::Tuple{Float64,Vararg{Float64}})
        s = 0.0
        for v in a
            s = s * x + v
        end
        return s
    end
    count_items(t::Tuple{Vararg{Int}}) = length(t)
    count_items(t::Tuple{Int,Vararg{Int}}) = 100 + length(t)
    three(t::Tuple{Vararg{Float64,3}}) = sum(t)
    items(t::Tuple{Vararg{T,N}}) where {T,N} = N
    function main(x)
        Base.depwarn("`f` is deprecated, use `g`", :f)
        q₋ = x[1]; q₊ = 2q₋
        s = 0.0
        for I in eachindex(IndexCartesian(), x)
            s += x[I] * I[2]
        end
        return (chepolsum(x[1], (1.0, 2.0, 3.0)), count_items(()), count_items((1, 2)), three((1.0, 2.0, 3.0)),
                items((1, 2, 3, 4)), q₊, s)
    end
    """
    x = rng.standard_normal((1, 3))
    t = x[0, 0]
    want = (((t + 2) * t) + 3, 0, 102, 6.0, 4, 2 * t, (x[0] * np.arange(1, 4)).sum())
    assert_same(run_jl(source, "main", x), want, rtol=1e-14)


def test_local_declarations_and_variables_first_assigned_in_a_loop(rng):
    """`local q` then a loop that assigns q: Julia carries q out of the loop (it was an internal
    error, "operand does not dominate this use"); where the loop may run zero times, a clear error."""
    source = """
    function main(v)
        local q
        for i in 1:3
            q = i * v[1]
        end
        local w::Float64
        w = 1                        # converted, as a typed local is
        if v[1] > 0
            z = 1.0
        end
        for i in 1:2
            z = i * v[1]
        end
        local u
        k = 0
        while k < 3
            k += 1
            u = k * v[1]
        end
        return (q, w, z, u)
    end
    """
    v = rng.standard_normal(1)
    assert_same(run_jl(source, "main", v), (3 * v[0], 1.0, 2 * v[0], 3 * v[0]))
    runtime_trips = "function main(v, n)\n    local q\n    for i in 1:n\n        q = i * v[1]\n    end\n    q\nend"
    with pytest.raises(JuliaError, match="may run zero times"):
        run_jl(runtime_trips, "main", v, 3)
    with pytest.raises(JuliaError, match="declared with `local`"):
        run_jl("function main(v)\n    local q\n    return q\nend", "main", v)


def test_typed_variable_declarations_convert_every_assignment(rng):
    """`s::Float64 = 0` makes s a Float64 for every later assignment (`s += i` with Int i stays
    Float64); jlhlo ignored the declaration, so the result was an Int."""
    source = """
    function main(v)
        local w::Float64
        w = 1
        x::Int = 2.0
        x = 3
        y::Float32 = v[1]
        s::Float64 = 0
        for i in 1:3
            s += i
        end
        return (w, x, y, s)
    end
    """
    v = rng.standard_normal(1)
    assert_same(run_jl(source, "main", v), (1.0, 3, np.float32(v[0]), 6.0))
    with pytest.raises(JuliaError, match="InexactError"):
        run_jl("function main(v)\n    x::Int = v[1]\n    x\nend", "main", np.array([1.5]))
    with pytest.raises(JuliaError, match=r"declared `a::Vector\{Float64\}`"):
        run_jl("function main(v)\n    a::Vector{Float64} = [1, 2]\n    a\nend", "main", v)


def test_if_expressions_whose_branches_return_and_inside_assert_messages(rng):
    """Found by the difftest's if-expression programs: `return if c; (if d; return a; end); b else e end`
    whose inner return is always taken was an UndefVarError of an internal name, and `;` inside an
    `if` expression ended an `@assert` statement, so its message was a syntax error."""
    source = """
    function f(q)
        k = length(q)
        s = sum(q)
        return if k == k; if sign(k) != 3; return abs(s) * round(s); end; exp(-0.5) else 2.5 end
    end
    function g(x)
        y = if x[1] > 0
            if x[2] > 0
                return 1.0
            end
            2.0
        else
            3.0
        end
        return y + 1
    end
    function h(x)
        s = 0.0
        for v in x
            t = if v < 0; continue; else v end
            s += t
        end
        @assert (if s >= 0; true else false end) "negative"
        @inbounds for i in 1:2
            @assert x[i] < 100 "too big"
        end
        return s
    end
    main(x) = (f(x), g(x), h(x))
    """
    for trial in range(4):
        x = rng.standard_normal(2)
        s = x.sum()
        want = (abs(s) * np.round(s), 1.0 if x[0] > 0 and x[1] > 0 else (3.0 if x[0] > 0 else 4.0),
                x[x >= 0].sum())
        assert_same(run_jl(source, "main", x), want)
    with pytest.raises(JuliaError, match="inside an `if` that is part of a larger expression"):
        run_jl("function main(x)\n    y = 2 * (if x[1] > 0; return 1.0 else 2.0 end)\n    y\nend", "main", x)


def test_isapprox_as_base_defines_it_and_invperm():
    """isapprox(Inf, Inf) was false (Inf - Inf is NaN), `atol` did not turn rtol's default off, and
    arrays had no method."""
    source = """
    main(x) = (isapprox(x, x .+ 1e-12), x ≈ x, Inf ≈ Inf, 1 ≈ 1.0000001, isapprox(1.0, 1.1; atol=0.2),
               isapprox(1.0, 1.1; rtol=0.01), isapprox(1.0, 1.0 + 1e-9; atol=1e-12), isapprox(NaN, NaN; nans=true),
               x ≈ [1.5, 2.1], 2 \\ 7, [Inf, 1.0] ≈ [Inf, 1.0], isapprox(1, 2), invperm(sortperm(x)))
    """
    want = (True, True, True, False, True, False, False, True, False, 3.5, True, False, np.array([1, 2]))
    assert_same(run_jl(source, "main", np.array([1.5, 2.0])), want)
    with pytest.raises(JuliaError, match="not a permutation"):
        run_jl("main(x) = invperm([1, 1, 2])", "main", np.array([1.0]))


def test_assert_messages_that_are_not_strings_and_c_type_names():
    """`@assert cond DimensionMismatch("...")` was a syntax error (only a string could follow the
    condition); its message is the exception as Julia's `string` shows it. `Cint`, `Cdouble`, ...
    are Base's names for scalar types."""
    source = """
    function main(x, M, N)
        @assert (M == N - 2) DimensionMismatch("len(dilation) != number of spatial dims")
        if typemin(Cint) <= M <= typemax(Cint)
            return Cint(M) + Cdouble(x[1])
        end
        return 0.0
    end
    """
    assert_same(run_jl(source, "main", np.array([1.5]), 2, 4), 3.5)
    with pytest.raises(JuliaError, match=r'AssertionError: DimensionMismatch\("len\(dilation\) != number'):
        run_jl(source, "main", np.array([1.5]), 2, 5)


def test_in_place_forms_and_diagind(rng):
    """map!, broadcast!, sort!, reverse!, diagind; copyto! into a longer array overwrites the first
    elements (it was refused as a BoundsError)."""
    source = """
    function main(x, A)
        out = similar(x)
        map!(v -> 2v, out, x)
        y = copy(x)
        broadcast!(+, y, y, 1)
        s = copy(x)
        sort!(s)
        reverse!(s)
        z = zeros(length(x) + 2)
        copyto!(z, x)
        B = copy(A)
        B[diagind(B)] .= 0
        C = copy(A)
        C[diagind(C, 1)] .= -1
        return (out, y, s, z, B, C)
    end
    """
    x, A = rng.standard_normal(4), rng.standard_normal((3, 3))
    B, C = A.copy(), A.copy()
    np.fill_diagonal(B, 0)
    C[0, 1] = C[1, 2] = -1
    want = (2 * x, x + 1, np.sort(x)[::-1], np.concatenate([x, [0.0, 0.0]]), B, C)
    assert_same(run_jl(source, "main", x, A), want)
    with pytest.raises(JuliaError, match="BoundsError"):
        run_jl("function main(x)\n    y = zeros(2)\n    copyto!(y, x)\n    y\nend", "main", x)


def test_loops_inside_parenthesized_blocks():
    """`f(n) = (s = 0; while ...; end; s)`: a loop among the items of a block in parentheses was a
    syntax error; its value is `nothing`. A generator in parentheses stays a generator."""
    source = """
    collatz(n) = (s = 0; while n != 1; n = iseven(n) ? n ÷ 2 : 3n + 1; s += 1; end; s)
    total(x) = (s = 0.0; for v in x; s += v; end; s)
    main(n) = (collatz(n), total([1.0, 2.0]), (k = 1; if n > 5; k = 2 end; k), sum(i for i in 1:3),
               (for i in 1:2 end))
    """
    assert_same(run_jl(source, "main", 27), (111, 3.0, 2, 6, None))
    assert_same(run_jl(source, "main", 2), (1, 3.0, 1, 6, None))


def test_found_by_the_difftests_new_categories(rng):
    """`LinearIndices(A)[end]` was 1 (lastindex of a struct counted its fields: a silent wrong index),
    `LinearIndices(A)[end, 1]` and `CartesianIndices(A)[end, end]` had no method; one-argument
    `max`/`min`/`*` were MethodErrors; if-expressions inside loops, branches and broadcast `while`
    conditions were MLIR dominance errors."""
    source = """
    function main(A, v, a)
        s = 1.0
        if a > 4
            s = 0
            for i in 1:2
                s -= 1.0
                t = if a > 0; 2 else 1 end
            end
        end
        return (LinearIndices(A)[end], lastindex(CartesianIndices(A)), LinearIndices(A)[end, 1],
                Tuple(CartesianIndices(A)[end, end]), LinearIndices(A)[end - 1], max(v...), min(v...), *(v...),
                s, early(a, 1.0), g.([1.0, 5.0]))
    end
    function early(a, b)
        if a > 1
            for i in 1:3
                c = if b < 0.5; -1 else 1 end
                if c > 0
                    return i
                end
            end
        end
        return 0
    end
    function g(q)
        w = 0
        while w < 5 && (if q > 3; false else true end)
            w += 1
        end
        return w
    end
    """
    A, v = rng.standard_normal((2, 3)), rng.standard_normal(1)
    want = (6, 6, 2, (2, 3), 5, v[0], v[0], v[0], -2.0, 1, np.array([5, 0]))
    assert_same(run_jl(source, "main", A, v, 5.0), want)
    with pytest.raises(JuliaError, match=r"no method matching length\(::S\)"):
        run_jl("struct S; a; b; end\nmain(x) = length(S(1, 2))", "main", 1)


def test_comprehensions_and_generators_over_nothing():
    """Found by the difftest (seed 30280004441): a generator over an empty range whose body indexes
    an array (`sum(X[k] for k in 2:1)`) was an internal error (a gather of zero lanes). The body runs
    for no element; the element type is what it would have."""
    source = """
    main(X) = (sum(X[end, mod(k, 1) + 1] for k in 0:-1:1), sum(X[k] for k in 2:1), [X[k] for k in 2:1],
               [Int(X[k]) for k in 5:4], [X[k] for k in 1:0, j in 1:2])
    """
    want = (0.0, 0.0, np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 2)))
    assert_same(run_jl(source, "main", np.ones((4, 1))), want)


def test_return_of_a_tuple_after_a_condition(rng):
    """`x < 0 && return -1, 0.0` returns the tuple (Julia parses `return`'s operand as a tuple);
    it was `(x < 0 && return -1), 0.0`, refused."""
    source = """
    function classify(x)
        x < 0 && return -1, zero(x)
        x > 10 || return 1, x
        return 2, 2x
    end
    main(v) = (classify(v[1]), classify(-v[1]), classify(20 + v[2]))
    """
    v = np.abs(rng.standard_normal(2)) + 0.1
    assert_same(run_jl(source, "main", v), ((1, v[0]), (-1, 0.0), (2, 2 * (20 + v[1]))))


def test_unnamed_parameters_with_defaults_bind_static_parameters(rng):
    """`f(a, ::Int = 3)` and `h(a, ::Type{T} = Float64) where {T}`: Julia defines h(a) as
    h(a, Float64), so T is bound by the default; a default that does not match its parameter's type
    is a MethodError."""
    source = """
    g(a, ::Int = 3) = a + 1
    h(a, ::Type{T} = Float64) where {T} = T(a)
    k(a, b::T = 2.0) where {T} = T
    main(x) = (g(x), g(x, 5), h(2), h(2, Float32), k(1) === Float64, k(1, 3) === Int, h(x) isa Float64)
    """
    x = rng.standard_normal()
    assert_same(run_jl(source, "main", x), (x + 1, x + 1, 2.0, np.float32(2.0), True, True, True))
    with pytest.raises(JuliaError, match="MethodError: no method matching f"):
        run_jl("f(a, b::Int = 2.5) = a + b\nmain(x) = f(x)", "main", 1.0)


def test_slurping_destructuring_and_arrays(rng):
    """`a, rest... = t` (Julia 1.9): a tuple's rest is a tuple, an array's a Vector; arrays
    destructure in linear (column-major) order."""
    source = """
    function main(v, A)
        p, q... = (1, 2.0, v[1])
        first_, mid..., last_ = (1, 2, 3, 4.5)
        a, b = v
        c, r... = v
        m11, m21, m12 = A
        return p, q, first_, mid, last_, a, b, c, r, (m11, m21, m12)
    end
    """
    v, A = rng.standard_normal(4), rng.standard_normal((2, 2))
    want = (1, (2.0, v[0]), 1, (2, 3), 4.5, v[0], v[1], v[0], v[1:], (A[0, 0], A[1, 0], A[0, 1]))
    assert_same(run_jl(source, "main", v, A), want)
    with pytest.raises(JuliaError, match="BoundsError: cannot destructure 2 values into 3 names"):
        run_jl("function main(v)\n a, b, c = v\n return a\nend", "main", np.ones(2))


def test_keyword_arguments_of_anonymous_and_local_functions(rng):
    source = """
    function main(x, scale)
        k = (a; s = 2) -> a * s
        k2 = (a, b; s = scale, rest...) -> (a + b) * s + length(rest)
        k3 = function (a; s) a - s end
        shifted(a; by = 1.0) = a + by
        return (k(x), k(x; s = 4), k2(1, x), k2(1, x; s = 1, u = 5, w = 6), k3(x; s = 3), shifted(x),
                shifted(x; by = scale))
    end
    """
    x, scale = rng.standard_normal(), rng.standard_normal()
    want = (2 * x, 4 * x, (1 + x) * scale, (1 + x) + 2, x - 3, x + 1.0, x + scale)
    assert_same(run_jl(source, "main", x, scale), want)
    with pytest.raises(JuliaError, match="UndefKeywordError: keyword argument `s` not assigned"):
        run_jl("main(x) = (a; s) -> a - s\nmain2(x) = main(x)(x)", "main2", 1.0)


def test_subtype_queries_on_types():
    """`T <: AbstractFloat` is decided when compiling; a concrete type's only subtype is itself, and
    array types compare without their sizes."""
    source = """
    function main(x, y)
        T = eltype(x)
        return (Float64 <: Real, T <: AbstractFloat, Int <: AbstractFloat, Real <: Number, Number <: Real,
                Vector{Float64} <: AbstractVector, Vector{Float64} <: AbstractVector{Float32},
                typeof(x) <: AbstractArray{<:Real}, typeof(x) <: typeof(y), Float32 <: Float64, Real >: Int,
                Union{Int, Float64} <: Real, Float64 <: Union{Int, Float64}, (T <: Integer ? 1 : 2.0))
    end
    """
    want = (True, True, False, True, False, True, False, True, True, False, True, True, True, 2.0)
    assert_same(run_jl(source, "main", np.ones(2), np.ones(5)), want)


def test_reductions_into_an_array(rng):
    """sum!/prod!/maximum!/minimum!/any!/all!(r, A) reduce over r's dimensions of size 1 (also
    trailing ones r lacks) and convert to r's element type; other sizes must match A's."""
    source = """
    function main(A, B)
        r = zeros(1, size(A, 2))
        sum!(r, A)
        r2 = zeros(size(A, 1))
        maximum!(r2, A)
        r3 = zeros(Int, size(A))
        sum!(r3, round.(Int, A))
        r4 = fill(false, 1, 1, size(B, 3))
        any!(r4, B .> 1)
        r5 = ones(size(A, 1), 1)
        prod!(r5, A)
        return r, r2, r3, r4, minimum!(zeros(1, 1), A), r5, all!(fill(true, size(B, 1)), B .> -1)
    end
    """
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((2, 2, 3))
    want = (A.sum(0, keepdims=True), A.max(1), np.round(A).astype(np.int64), (B > 1).any((0, 1), keepdims=True),
            A.min(keepdims=True), A.prod(1, keepdims=True), (B > -1).all((1, 2)))
    assert_same(run_jl(source, "main", A, B), want, rtol=1e-14)
    with pytest.raises(JuliaError, match=r"DimensionMismatch: reduction on array of size \(3, 4\) with output of "
                                         r"size \(2,\)"):
        run_jl("main(A) = sum!(zeros(2), A)", "main", A)


def test_folds_from_either_end_and_selections_by_a_function(rng):
    source = """
    main(x, A) = (mapfoldl(abs, +, x), mapfoldl(v -> v^2, -, x; init = 1.0), foldr(-, x), foldr(-, (1, 2, 3)),
                  mapfoldr(abs, -, x), foldr(-, x; init = 10.0), reverse((1, 2.0, true)),
                  argmax(abs, x), argmin(abs, x), findmax(abs, A), findmin(v -> -v, x))
    """
    x, A = rng.standard_normal(5), rng.standard_normal((3, 3))

    def foldr(op, xs, init=None):
        v = xs[-1] if init is None else init
        for item in (xs[-2::-1] if init is None else xs[::-1]):
            v = op(item, v)
        return v
    k = int(np.argmax(np.abs(A).T.reshape(-1)))       # first largest in column-major order
    want = (np.sum(np.abs(x)), foldr(lambda a, b: b - a, list(x ** 2)[::-1], 1.0), foldr(lambda a, b: a - b, list(x)),
            2, foldr(lambda a, b: a - b, list(np.abs(x))), foldr(lambda a, b: a - b, list(x), 10.0), (True, 2.0, 1),
            x[np.argmax(np.abs(x))], x[np.argmin(np.abs(x))], (np.abs(A).T.reshape(-1)[k], (k % 3 + 1, k // 3 + 1)),
            (-np.max(x), int(np.argmax(x)) + 1))
    got = run_jl(source, "main", x, A)
    assert_same(got[:9], want[:9], rtol=1e-14)
    assert_same((got[9][0], tuple(got[9][1]["I"])), want[9])
    assert_same(got[10], want[10])


def test_binomial_and_reinterpret(rng):
    """binomial as Base computes it (negative n, k > n, OverflowError where the result does not fit
    Int64); reinterpret between numbers of the same size."""
    source = """
    main(x, n) = (binomial(10, 3), binomial(-5, 3), binomial(66, 33), binomial(5, 7), binomial(Int32(8), Int32(4)),
                  binomial(n, 2), reinterpret(UInt64, x[1]), reinterpret(Int64, 1.0),
                  reinterpret(Float32, Int32(1065353216)), reinterpret(Float64, reinterpret(UInt64, x)))
    over(n) = binomial(n, 33)
    """
    x = rng.standard_normal(3)
    want = (120, -35, 7219428434016265740, 0, np.int32(70), 45, x[:1].view(np.uint64)[0],
            np.float64(1.0).view(np.int64), np.float32(1.0), x)
    assert_same(run_jl(source, "main", x, 10), want)
    with pytest.raises(JuliaError, match="OverflowError"):
        run_jl(source, "over", 67)
    with pytest.raises(JuliaError, match="sizes differ"):
        run_jl("main(x) = reinterpret(Int32, x)", "main", 1.0)


def test_type_aliases_plain_and_parametric(rng):
    source = """
    const Vec = Vector{Float64}
    const AA3{T} = AbstractArray{T,3}
    const AA{N,T} = AbstractArray{T,N}
    const ComplexOrReal{T} = Union{T,Complex{T}}
    const MinHeap{T} = Heap{T,Int}
    struct Heap{T,K}
        tree::Vector{T}
    end
    rank(x::AA3) = 3
    rank(x::AA{2}) = 2
    rank(x::Vec) = 1
    twice(z::ComplexOrReal{Float64}) = 2z
    twice(z::ComplexOrReal{Float32}) = 3z
    top(h::MinHeap) = h.tree[1]
    main(x) = (rank(x), rank(reshape(x, 2, 3)), rank(reshape(x, 1, 2, 3)), twice(x[1]), twice(Float32(x[2])),
               twice(x[3] + 2im), top(Heap{Float64,Int}(x)))
    """
    x = rng.standard_normal(6)
    want = (1, 2, 3, 2 * x[0], np.float32(3) * np.float32(x[1]), np.complex128(2 * (x[2] + 2j)), x[0])
    assert_same(run_jl(source, "main", x), want, rtol=1e-6)


def test_constructors_with_explicit_type_parameters(rng, tmp_path):
    source = """
    struct Pt{T<:Real}
        x::T
        y::T
    end
    struct Tagged{T,N}
        w::Vector{T}
    end
    main(a) = (p = Pt{Float32}(1, a); q = Pt{Int}(2, 3);
               (p.x + p.y, q.x + q.y, typeof(p) == Pt{Float32}, Tagged{Float64,3}([a]).w[1]))
    inexact(a) = Pt{Int}(a, 2)
    shown(a) = Pt{Float64}(1, a)
    """
    a = rng.standard_normal()
    assert_same(run_jl(source, "main", a), (np.float32(1) + np.float32(a), 5, True, a))
    with pytest.raises(JuliaError, match=r"InexactError: Int64\(x\) with x a non-integral"):
        run_jl(source, "inexact", 1.5)
    out = cli(write_jl(tmp_path, source), "--call", "shown(2.5)", "--run")
    assert out.stdout.strip() == "Pt{Float64}(1.0, 2.5)"       # Julia's show names the parameters


def test_real_of_a_type_and_isreal(rng):
    source = """
    main(x, w) = (z = w + 2im; (real(Float32) == Float32, real(typeof(z)) == Float64, convert(real(typeof(z)), 2),
                  isreal(x), isreal(z), isreal(real(z) + 0im), isreal([x, x])))
    """
    x, w = rng.standard_normal(2)
    assert_same(run_jl(source, "main", x, w), (True, True, 2.0, True, False, True, True))


def test_adjoint_juxtaposed_with_an_identifier(rng):
    """`A'x` is `A' * x` (Julia's juxtaposition after a postfix `'`), binding tighter than `/` and
    looser than `^`: `1 / a'b` is `1 / (a' * b)`, `a'b^2` is `a' * b^2`."""
    source = "main(A, x, a, b) = (A'x, x'x, x'A'A*x, -a'b^2, 1 / a'b, x'sin.(x), [x'x for _ in 1:2])"
    A, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    a, b = rng.standard_normal(2)
    want = (A.T @ x, x @ x, x @ A.T @ A @ x, -a * b**2, 1 / (a * b), x @ np.sin(x), np.full(2, x @ x))
    assert_same(run_jl(source, "main", A, x, a, b), want, rtol=1e-12)


def test_parenthesized_expression_juxtaposed_with_an_identifier(rng):
    """`(x - 1)x` is `(x - 1) * x`, as tight as `2x`: `1 / (x)y` is `1 / (x * y)`, `(x + y)y^2` is
    `(x + y) * y^2`; a call followed by an identifier (`sin(x)y`) stays a syntax error."""
    source = "main(x, y) = ((x - 1)x, (x + y)y^2 / 6, 1 / (x)y, -(x)y, (2x + y)sin(y), (x)im)"
    x, y = rng.standard_normal(2)
    want = ((x - 1) * x, (x + y) * y**2 / 6, 1 / (x * y), -(x * y), (2 * x + y) * np.sin(y), np.complex128(x * 1j))
    assert_same(run_jl(source, "main", x, y), want, rtol=1e-12)
    with pytest.raises(JuliaError, match="unexpected identifier `y`"):
        run_jl("main(x, y) = sin(x)y", "main", x, y)


def test_a_parameter_named_in(rng):
    """Flux's own `Dense(in::Integer, out::Integer, σ = identity)`: `in` names a parameter."""
    source = """
    function layer(in::Integer, out::Integer, scale = 1.0)
        return fill(scale, out, in)
    end
    main(x) = (size(layer(2, 3)), sum(layer(2, 3, x[1])), 2.0 in x, [v for v in x])
    """
    x = rng.standard_normal(2)
    assert_same(run_jl(source, "main", x), ((3, 2), 6 * x[0], False, x), rtol=1e-14)


def test_splatted_indices(rng):
    source = """
    function main(A, js)
        I = (2, 1)
        A[I...] = 10.0
        s = 0.0
        for k in axes(A, 1)
            s += A[k, js...]
        end
        return (A[I...], s, A[(1, 2)...], copy(A))
    end
    """
    A, js = rng.standard_normal((2, 3)), np.array([3])
    B = A.copy()
    B[1, 0] = 10.0
    assert_same(run_jl(source, "main", A, js), (10.0, B[0, 2] + B[1, 2], B[0, 1], B))


def test_an_operator_called_with_several_arguments_is_one_operand(rng):
    """`+(a, b)` and `-(x...)` are calls of the operator, so `^` applies to their result (difftest seed
    5101: `+(x...) ^ 2` squared the tuple); `-(3)^2` is `-(3^2)` and `-((1, 2))` is a MethodError."""
    source = "main(x) = (+(x...) ^ 2, +(1, 2)^2, -(3)^2, -(1, 2)^2, 2 - -(x[1], x[2])^2, *(x...), ==(1, 1))"
    x = rng.standard_normal(2)
    want = ((x[0] + x[1]) ** 2, 9, -9, 1, 2 - (x[0] - x[1]) ** 2, x[0] * x[1], True)
    assert_same(run_jl(source, "main", x), want, rtol=1e-14)
    with pytest.raises(JuliaError, match=r"no method matching -\(::Tuple\{Int64, Int64\}\)"):
        run_jl("main(x) = -((1, 2))", "main", x)


def test_named_tuple_types_written_out(rng):
    """`NamedTuple{(:a, :b), Tuple{Float64, Int64}}` in signatures, comparisons and `Vector{...}(undef, n)`
    (it was "unsupported type expression")."""
    source = """
    kind(p::NamedTuple{(:a, :b)}) = 1
    kind(p::NamedTuple{(:a,), Tuple{Float64}}) = 2
    kind(p::NamedTuple) = 3
    function main(x)
        ps = Vector{NamedTuple{(:a, :b), Tuple{Float64, Int64}}}(undef, length(x))
        for i in eachindex(ps)
            ps[i] = (a = x[i], b = i)
        end
        return (kind((a = x[1], b = 1)), kind((a = x[1],)), kind((a = 1,)), kind((c = 2,)),
                typeof(ps[1]) == NamedTuple{(:a, :b), Tuple{Float64, Int64}}, ps[1].a, ps[3].b)
    end
    """
    x = rng.standard_normal(3)
    assert_same(run_jl(source, "main", x), (1, 2, 3, 3, True, x[0], 3))


CURLY_CONSTRUCTORS = """
struct Pt{T<:Real}
    x::T
    y::T
    Pt{T}(x, y) where {T<:Real} = x < 0 ? new{T}(-x, y) : new{T}(x, y)
end
Pt(x::T, y::T) where {T<:Real} = Pt{T}(x, y)

struct Box{T, HT}
    lo::T
    hi::HT
    function Box{T, HT}(lo, hi) where {T, HT}
        lo <= hi || throw(ArgumentError("empty box"))
        return new{T, HT}(lo, hi)
    end
end

mutable struct Tree{T}
    vals::Vector{T}
    n::Int
end
function Tree{T}(size::Int, rootval::T) where {T}
    v = zeros(T, size)
    v[1] = rootval
    return Tree{T}(v, 1)
end

function main(a::Float64, hi::Int)
    p = Pt(a, 2.0)
    q = Pt{Float32}(a, 3)                # new{T} converts to the field types
    b = Box{Float64, Int}(a, hi)
    t = Tree{Float64}(4, a)              # the outer S{T} method, then the default S{T}(fields...)
    return (p.x, q.x, q.y, b.lo, b.hi, t.vals, t.n, typeof(q) == Pt{Float32})
end
"""


def test_constructors_written_with_their_type_parameters(rng):
    a = -abs(rng.standard_normal())
    want = (-a, np.float32(-a), np.float32(3.0), a, 5, np.array([a, 0.0, 0.0, 0.0]), 1, True)
    assert_same(run_jl(CURLY_CONSTRUCTORS, "main", a, 5), want)
    with pytest.raises(JuliaError, match="ArgumentError: empty box"):
        run_jl(CURLY_CONSTRUCTORS, "main", 10.0, 5)
    # with only `S{T}(...)` inner constructors, `S(...)` and `S{T}` of other arguments have no method
    for call, shown in (("Pt(a, a)", r"Pt\(::Float64, ::Float64\)"), ("Pt{Float32}(a)", r"Pt\{Float32\}\(::Float64\)")):
        source = CURLY_CONSTRUCTORS.replace("struct Box", f"f(a) = {call}\nstruct Box", 1)
        source = source.replace("struct Pt{T<:Real}\n    x::T\n    y::T\n    Pt{T}(x, y) where {T<:Real} = x < 0 ? "
                                "new{T}(-x, y) : new{T}(x, y)\nend\nPt(x::T, y::T) where {T<:Real} = Pt{T}(x, y)",
                                "struct Pt{T<:Real}\n    x::T\n    y::T\n    Pt{T}(x, y) where {T<:Real} = new{T}(x, y)\nend")
        with pytest.raises(JuliaError, match="MethodError: no method matching " + shown):
            run_jl(source, "f", 1.0)


def test_a_parameter_with_its_own_where(rng):
    source = """
    total(A::AbstractArray{T,3} where T) = sum(A)
    scale(x::Vector{S} where {S<:Real}, a::Real) = a .* x
    function count2(v::AbstractVector{T} where T<:Number; k::Int = 2)
        return k * length(v)
    end
    main(A, x) = (total(A), scale(x, 2), count2(x; k = 3))
    """
    A, x = rng.standard_normal((2, 3, 4)), rng.standard_normal(5)
    assert_same(run_jl(source, "main", A, x), (A.sum(), 2 * x, 15), rtol=1e-14)
    with pytest.raises(JuliaError, match="MethodError: no method matching total"):
        run_jl(source.replace("main(A, x) = (total(A)", "main(A, x) = (total(x)"), "main", A, x)
    with pytest.raises(JuliaError, match="shadows the method's `T`"):
        run_jl("f(x::T, v::Vector{T} where T) where T = x\nmain(x) = f(x, [x])", "main", 1.0)


def test_hex_floats_simd_ivdep_and_a_lambda_after_an_operator(rng):
    source = """
    model(x) = 2 .* x
    act(state) = state |> model |> (out) -> (3 .+ out) / 2       # `->` binds tightest on its left
    shifted(x) = 1.0 + x -> x^2                                  # 1.0 + (x -> x^2): an error if called
    function total(x)
        s = 0.0
        @simd ivdep for i in eachindex(x)
            s += x[i] * 0x1.8p1                                  # a hexadecimal Float64: 3.0
        end
        return s
    end
    main(x) = (act(x), x[1] |> y -> y^2 + 1, total(x), 0x1p-2, -0x1.4cd7d691cb913p-2, 0x10)
    """
    x = rng.standard_normal(3)
    want = ((3 + 2 * x) / 2, x[0] ** 2 + 1, 3.0 * x.sum(), 0.25, float.fromhex("-0x1.4cd7d691cb913p-2"), np.uint8(16))
    assert_same(run_jl(source, "main", x), want, rtol=1e-14)
    with pytest.raises(JuliaError, match=r"MethodError: no method matching \+\(::Float64, ::"):
        run_jl(source.replace("main(x) = (", "main(x) = (shifted(1.0), "), "main", x)


def test_return_of_a_ternary_after_and_or(rng):
    # `c && return a ? b : d` returns the ternary (it was parsed as `(c && return a) ? b : d`)
    source = """
    function f(x, e)
        x == Inf && return e ? NaN : zero(x)
        x < 0 || return x > 1 ? 2x : 3x
        return -1.0
    end
    main(x, e) = f(x, e)
    """
    for x, e, want in ((0.5, True, 1.5), (np.inf, True, np.nan), (np.inf, False, 0.0), (2.0, True, 4.0),
                       (-1.0, True, -1.0)):
        assert_same(run_jl(source, "main", x, e), np.float64(want))
