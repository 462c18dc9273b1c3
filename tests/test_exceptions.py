"""`throw`, `error` and `@assert` as Julia code uses them: argument guards, failed searches, loops
whose only way out on bad input is an exception. The first exception reached is reported after the
run with Julia's exception type, message and line (a typed `JuliaError` from the API, exit 1 from
the CLI); without one the program's value is Julia's, computed here in NumPy. A throw reached on
every path is a compile error."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same, cli, write_jl
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

LEVELS = (0, 2)


def run_at(source: str, level: int, *args, check_bounds: bool = True):
    f = jlhlo.load(source, filename="t.jl").function("main", check_bounds=check_bounds)
    lowered = f.lower(*args, optimize_level=level)
    return lowered.outputs(lowered.compile("cpu")(*lowered.host_inputs(args)))


def outcome(source: str, *args, **options):
    """The value at every level, or the exception's (line, message); the same at every level."""
    seen = []
    for level in LEVELS:
        try:
            seen.append(("value", run_at(source, level, *args, **options)))
        except JuliaError as e:
            seen.append(("error", (e.span.line, str(e.args[0]))))
    for other in seen[1:]:
        assert other[0] == seen[0][0] and (other[0] == "value" or other[1] == seen[0][1]), seen
    return seen[0]


GUARDS = """
function safe_log(x)
    x <= 0 && throw(DomainError(x, "log of a non-positive number"))
    return log(x)
end
function checked_div(a, b)
    b != 0 || throw(ArgumentError("division by zero"))
    return a / b
end
function piecewise(a)
    if a > 1
        y = 2a
    elseif a > -1
        y = a^2
    else
        error("a = ", a, " is below -1")
    end
    return y + 1
end
main(x::Float64, b::Float64, a::Float64) = safe_log(x) + checked_div(x, b) + piecewise(a)
"""


def test_argument_guards(rng):
    for _ in range(12):
        x, b, a = (float(v) for v in np.round(rng.uniform(-3, 3, 3), 1))
        kind, got = outcome(GUARDS, x, b, a)
        if x <= 0:
            assert (kind, got) == ("error", (3, "DomainError with $(x):\nlog of a non-positive number"))
        elif b == 0:
            assert (kind, got) == ("error", (7, "ArgumentError: division by zero"))
        elif a <= -1:
            assert (kind, got) == ("error", (16, "a = $(a) is below -1"))
        else:
            want = np.log(x) + x / b + (2 * a if a > 1 else a * a) + 1
            assert kind == "value"
            assert_same(got, np.float64(want))


BISECTION = """
function bisect(f, lo, hi; tol = 1e-10)
    @assert lo < hi "the interval is empty"
    f(lo) * f(hi) <= 0 || throw(DomainError((lo, hi), "no sign change"))
    while true
        mid = (lo + hi) / 2
        hi - lo < tol && return mid
        if f(lo) * f(mid) <= 0
            hi = mid
        else
            lo = mid
        end
    end
end
function newton(x, c, maxiter)
    for k in 1:maxiter
        dx = (x^2 - c) / 2x
        x -= dx
        abs(dx) < 1e-12 && return (x, k)
    end
    error("Newton did not converge in $maxiter iterations")
end
main(lo::Float64, hi::Float64, c::Float64) = bisect(t -> t^3 - c, lo, hi), newton(1.0, c, 6)
"""


def test_searches_that_fail_throw(rng):
    kind, got = outcome(BISECTION, 0.0, 3.0, 2.0)
    assert kind == "value"
    np.testing.assert_allclose(got[0], 2.0 ** (1 / 3), rtol=1e-9)
    assert_same(got[1], (np.float64(np.sqrt(2.0)), np.int64(got[1][1])))
    assert 1 < got[1][1] <= 6
    assert outcome(BISECTION, 3.0, 0.0, 2.0) == ("error", (3, "AssertionError: the interval is empty"))
    assert outcome(BISECTION, 2.0, 3.0, 2.0) == ("error", (4, "DomainError with $((lo, hi)):\nno sign change"))
    # Newton from 1.0 needs more than 6 steps for a large c: the loop ends, the function throws
    assert outcome(BISECTION, 0.0, 100.0, 1e6) == ("error", (21, "Newton did not converge in 6 iterations"))


def test_a_loop_whose_only_exit_is_a_throw_stops_there():
    src = """
function main(v::Vector{Int64})
    i = 1
    s = 0
    while true
        v[i] < 0 && error("negative entry")
        s += v[i]
        i += 1
    end
    return s
end"""
    assert outcome(src, np.array([3, 1, -2, 5])) == ("error", (6, "negative entry"))


def test_assert_without_a_message_shows_the_condition_and_ternary_throws(rng):
    src = """
function main(v::Vector{Float64})
    @assert length(v) > 2
    n = length(v)
    w = [x >= 0 ? sqrt(x) : throw(DomainError(x)) for x in v]
    return sum(w) / n
end"""
    v = np.abs(rng.standard_normal(4))
    assert_same(outcome(src, v)[1], np.float64(np.sqrt(v).sum() / 4))
    assert outcome(src, v[:2]) == ("error", (3, "AssertionError: length(v) > 2"))
    v[2] = -1.0
    assert outcome(src, v) == ("error", (5, "DomainError with $(x)"))


def test_a_throwing_function_broadcast_over_an_array(rng):
    src = """
checked(x) = x < 0 ? throw(DomainError(x, "negative")) : sqrt(x)
main(v::Vector{Float64}) = checked.(v) .+ 1
"""
    v = np.abs(rng.standard_normal(5))
    assert_same(outcome(src, v)[1], np.sqrt(v) + 1)
    v[3] = -0.5
    assert outcome(src, v) == ("error", (2, "DomainError with $(x):\nnegative"))


def test_constants_in_messages_print_as_julia_prints_them():
    src = """
function main(x::Float64)
    n = 3
    scale = 1.0e6
    half = 0.5f0
    x > 0 || throw(ArgumentError("n = $n, scale = $scale, half = $half, x = $x"))
    return x
end"""
    assert outcome(src, -1.0) == ("error", (6, "ArgumentError: n = 3, scale = 1.0e6, half = 0.5f0, x = $(x)"))
    assert_same(outcome(src, 2.0)[1], np.float64(2.0))
    # a symbol prints as its name, and shows with its colon inside a tuple
    src = """
check_mode(m) = throw(ArgumentError("mode=:$m is not supported; got $((m, 1))"))
main(x::Float64) = x > 0 ? check_mode(:cubic) : x"""
    assert outcome(src, 1.0) == ("error", (2, "ArgumentError: mode=:cubic is not supported; got (:cubic, 1)"))


def test_a_throw_on_every_path_is_a_compile_error():
    src = """
function add_checked(a, b)
    size(a) == size(b) || throw(DimensionMismatch("sizes $(size(a)) and $(size(b)) differ"))
    return a .+ b
end
main(a::Matrix{Float64}, b::Matrix{Float64}) = add_checked(a, b)
"""
    with pytest.raises(JuliaError) as info:
        jlhlo.load(src, filename="t.jl").function("main").lower(np.zeros((2, 3)), np.zeros((3, 2)))
    assert info.value.span.line == 3 and "DimensionMismatch: sizes (2, 3) and (3, 2) differ" in str(info.value)
    kind, got = outcome(src, np.ones((2, 3)), np.ones((2, 3)))
    assert_same(got, np.full((2, 3), 2.0))


def test_check_bounds_off_keeps_exceptions_and_gradients_ignore_them(rng):
    src = """
function loss(w)
    @assert all(isfinite, w) "weights must be finite"
    return sum(w .^ 2)
end
function main(w::Vector{Float64})
    r = withgradient(loss, w)
    return r.val, r.grad[1]
end"""
    w = rng.standard_normal(3)
    assert_same(outcome(src, w)[1], (np.float64((w ** 2).sum()), 2 * w))
    w[1] = np.inf
    assert outcome(src, w, check_bounds=False) == ("error", (3, "AssertionError: weights must be finite"))


def test_exception_rules_keep_user_functions_named_error():
    src = """
error(a, b) = abs(a - b)
main(x::Float64) = error(x, 2.0)
"""
    assert_same(outcome(src, 0.5)[1], np.float64(1.5))


def test_unsupported_throws_are_clear_errors():
    src = "main(x::Float64) = x > 0 ? x : throw(x)"
    with pytest.raises(JuliaError, match="exceptions of Base"):
        jlhlo.load(src, filename="t.jl").function("main").lower(1.0)


def test_cli_reports_the_exception_at_its_line(tmp_path):
    path = write_jl(tmp_path, GUARDS, "guards.jl")
    np.savez(tmp_path / "in.npz", x=np.float64(2.0), b=np.float64(0.0), a=np.float64(0.0))
    r = cli(str(path), "--inputs", str(tmp_path / "in.npz"), "--run")
    assert r.status == 1
    assert "guards.jl:7:" in r.stderr and "ArgumentError: division by zero" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_broadcast_reports_the_first_element_that_throws_in_column_major_order():
    src = """
function checked(x)
    x > 2 && error("too big")
    x < -2 && throw(DomainError(x, "too small"))
    return x
end
main(v::Matrix{Float64}) = checked.(v)
"""
    assert outcome(src, np.array([[0.0, 3.0], [-3.0, 0.0]])) == ("error", (4, "DomainError with $(x):\ntoo small"))
    assert outcome(src, np.array([[0.0, -3.0], [3.0, 0.0]])) == ("error", (3, "too big"))


def test_a_call_that_always_throws_ends_the_statement_and_the_loop():
    # `g` throws whatever its argument: the call has no value (Julia's Union{}), so `floor(Int, g(x))`
    # is never computed, and a loop around it exits (its body's exit is found while lowering it)
    src = """
function g(x)
    true && error("always")
    return 1.0
end
function main(v::Vector{Int64}, a::Float64)
    k = 0
    while k < 3
        k += 1
        if a > k
            v[1] = floor(Int64, g(a))
        end
    end
    return v, k
end"""
    v = np.array([5, 6])
    assert outcome(src, v, 0.5)[1][1] == 3
    assert outcome(src, v, 2.5) == ("error", (3, "always"))


INT_DIVISIONS = """
function main(a::Int64, b::Int64, v::Vector{Int64})
    w = v .% b
    q = a ÷ b
    r = mod(a, b)
    return q, r, w, fld(a, b), cld(a, b)
end"""


def test_integer_division_by_zero_throws_divide_error(rng):
    for _ in range(6):
        a, b = (int(x) for x in rng.integers(-9, 9, 2))
        v = rng.integers(-9, 9, 3)
        kind, got = outcome(INT_DIVISIONS, a, b, v)
        if b == 0:
            assert (kind, got) == ("error", (3, "DivideError: integer division error"))
            continue
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        want = (np.int64(q), np.int64(a % b), np.fmod(v, b), np.int64(a // b), np.int64(-(-a // b)))
        assert_same(got, want)
    lowest = np.iinfo(np.int64).min
    assert outcome(INT_DIVISIONS, lowest, -1, np.array([1])) == ("error", (4, "DivideError: integer division error"))


def test_a_constant_zero_divisor_in_a_branch_not_taken_is_fine():
    src = """
function main(a::Int64)
    if a > 100
        return a ÷ 0
    end
    return a % 3
end"""
    assert_same(outcome(src, 7)[1], np.int64(1))
    assert outcome(src, 700) == ("error", (4, "DivideError: integer division error"))


def test_a_helper_that_throws_on_every_path_at_different_checks():
    """Every path through `checked` throws, at one guard or the other: a call of it throws (it has
    no value; it was once taken to return `nothing`: MethodError +(::Float64, ::Nothing))."""
    src = """
function checked(v)
    v[1] > 5.0 && throw(DomainError(v[1], "too large"))
    if length(v) > 0
        error("always")
    end
    return 1.0
end
main(v) = 2.0 + checked(v)
"""
    assert outcome(src, np.array([6.0, 0.0]))[1][1].startswith("DomainError")
    assert outcome(src, np.array([1.0, 0.0])) == ("error", (5, "always"))


def test_a_comprehension_whose_elements_all_throw_throws():
    """Three elements, each throws: the comprehension throws the first one's exception."""
    src = """
function pick(x)
    x > 0.5 && throw(ArgumentError("big"))
    error("small")
end
function main(x::Float64)
    v = zeros(3)
    if x > -10
        v .= [pick(x) for i in 1:3]
    end
    return v
end
"""
    assert outcome(src, 0.7) == ("error", (3, "ArgumentError: big"))
    assert outcome(src, 0.2) == ("error", (4, "small"))
    assert outcome(src, -20.0)[0] == "value"


def test_an_if_expression_whose_taken_branch_always_throws_ends_the_expression():
    """`s -= if c; g(a) else ... end` where `g` always throws: Julia's exception, not a MethodError for
    `s - nothing` (difftest seed 5103, program 51030000100)."""
    src = """
    function g(q)
        if 1 > 0
            error("guard")
        end
        return 2q
    end
    m1(a) = (s = 0.0; s -= if 0.5 > 2.0; 1.0 elseif 0.5 > -1.0; g(a) else 3.0 end; s)
    m2(a) = (s = 0.0; s - if a > -100.0; g(a) else 3.0 end)
    m3(a) = (s = 0.0; s - if a > 100.0; g(a) else 3.0 end)
    """
    prog = jlhlo.load(src, filename="t.jl")
    for name in ("m1", "m2"):
        with pytest.raises(JuliaError, match="guard"):
            prog.function(name)(1.0)
    assert prog.function("m3")(1.0) == -3.0


def test_sqrt_of_what_cannot_be_negative_needs_no_domain_check(rng):
    # a norm by hand: sqrt of a sum of squares is never a DomainError, so the program has no error
    # output to compute (bench/loops.py's norm); where the argument can be negative the check stays,
    # Int64 squares included (they wrap around)
    src = """
    norm2(x) = sqrt(sum(abs2, x))
    function norm_loop(x)
        s = 0.0
        for v in x
            s += v^2
        end
        return sqrt(s)
    end
    rms(x) = sqrt(sum(x .* x) / length(x) + exp(x[1]))
    shifted(x) = sqrt(x[1] * x[1] - 1.0)
    squared_int(k::Int) = sqrt(k * k)
    """
    x = rng.standard_normal(8)
    program = jlhlo.load(src, filename="t.jl")
    for name, want in (("norm2", np.sqrt((x * x).sum())), ("norm_loop", np.sqrt((x * x).sum())),
                       ("rms", np.sqrt((x * x).mean() + np.exp(x[0])))):
        lowered = program.function(name).lower(x)
        assert "tensor<i32>" not in lowered.as_text(), name
        np.testing.assert_allclose(program.function(name)(x), want, rtol=1e-14)
    assert "tensor<i32>" in program.function("shifted").lower(x).as_text()
    with pytest.raises(JuliaError, match="DomainError"):
        program.function("shifted")(np.full(2, 0.5))
    with pytest.raises(JuliaError, match="DomainError"):
        program.function("squared_int")(3037000500)


def test_a_message_held_in_a_global_constant_is_its_text():
    # Roots.jl: `const bracketing_error = "..."; throw(ArgumentError(bracketing_error))` (was `$(bracketing_error)`)
    src = """
    const bracketing_error = "The interval [a,b] is not a bracketing interval."
    const hint = "use " * "bisection"
    function main(x::Float64)
        x < 0 && throw(ArgumentError(bracketing_error))
        x > 10 && error(hint)
        return x
    end"""
    assert outcome(src, 1.5) == ("value", 1.5)
    assert outcome(src, -1.0) == ("error", (5, "ArgumentError: The interval [a,b] is not a bracketing interval."))
    assert outcome(src, 11.0) == ("error", (6, "use bisection"))


def test_an_integer_power_with_a_run_time_exponent_has_no_loop():
    """x^p takes p in six-bit digits, each a power XLA computes exactly (a while loop of squarings
    compiled and ran slower)."""
    text = jlhlo.load("main(x::Int, p::Int) = x^p", filename="t.jl").function("main").lower(3, 5).as_text()
    assert "stablehlo.while" not in text and text.count("stablehlo.power") == 11 + 10


def test_integer_powers_wrap_around_for_any_exponent_and_negative_ones_throw(rng):
    """`x^p` of integers is Base's power_by_squaring: products wrap around as Int64's do for every p
    (XLA's integer power read only the low six bits of p: 2^64 was 1, 3^64 was 1), and a negative p
    is a DomainError unless x is ±1 (XLA gave 0)."""
    src = """
function main(as::Vector{Int64}, ps::Vector{Int64}, q::Int32)
    powers = [a^p for a in as, p in ps]
    powers_of_sums = (as .+ ps') .^ ps[end]
    return powers, powers_of_sums, q^ps[end], (-1)^ps[1], 1^ps[1]
end"""
    def wrapped(x: int, bits: int = 64) -> int:
        x %= 1 << bits
        return x - (1 << bits) if x >= 1 << (bits - 1) else x

    ps = np.array([0, 1, 5, 63, 64, 65, 100, 127, 128, 1000, int(rng.integers(64, 10**6))])
    bases = [2, 3, -3, 7, 0, 1, -1, int(rng.integers(-1000, 1000))]
    want = (np.array([[wrapped(pow(a, int(p), 1 << 64)) for p in ps] for a in bases]),
            np.array([[wrapped(pow(a + int(p), int(ps[-1]), 1 << 64)) for p in ps] for a in bases]),
            np.int32(wrapped(pow(5, int(ps[-1]), 1 << 32), 32)), np.int64(1), np.int64(1))
    kind, got = outcome(src, np.array(bases), ps, np.int32(5))
    assert kind == "value", got
    assert_same(got, want)
    negative = """
function main(a::Int64, p::Int64)
    return ((-1)^p, 1^p, a^p)
end"""
    assert outcome(negative, np.int64(-1), np.int64(-3)) == ("value", (np.int64(-1), np.int64(1), np.int64(-1)))
    assert outcome(negative, np.int64(2), np.int64(-1)) == (
        "error", (3, "DomainError with $(p):\nCannot raise an integer x to a negative power."))
