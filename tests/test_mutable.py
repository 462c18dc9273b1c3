"""`mutable struct` fields and `Ref` as Julia programs use them: assignment seen through every alias
(variables, tuples, closures, callees), in loops, branches, comprehensions and broadcasts; mutable
structs in and out of the entry; `==`/`===` as object identity; gradients through and with respect
to them; the assignments jlhlo refuses. References are NumPy, written from Julia's manual."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same, cli, run_jl, write_jl
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

COUNTER = """
mutable struct Counter
    n::Int
    total::Float64
end
function add!(c::Counter, v)
    c.n += 1
    c.total += v
    return c
end
function main(x)
    c = Counter(0, 0)          # converted to the field types: Counter(0, 0.0)
    d = c
    for v in x
        v > 0 && add!(d, v)
    end
    e = Counter(5, 1.0)
    if x[1] > 0
        e.total = 10           # converted to Float64, as setfield! does
    end
    pair = (c, e)
    pair[2].n -= 1
    return (c.n, c.total, d === c, c === e, c == e, e.n, e.total, e)
end
"""


def test_assignment_is_seen_through_every_alias(rng):
    for trial in range(4):
        x = rng.standard_normal(5)
        pos = x[x > 0]
        total = 0.0
        for v in pos:                  # left to right, as the loop adds
            total += v
        got = run_jl(COUNTER, "main", x)
        e_total = 10.0 if x[0] > 0 else 1.0
        assert_same(got[:7], (len(pos), total, True, False, False, 4, e_total))
        assert_same(got[7], {"n": np.int64(4), "total": np.float64(e_total)})


def test_loops_calls_comprehensions_and_closures(rng):
    source = """
    mutable struct Acc
        s
        W::Vector{Float64}
    end
    mutable struct P
        x::Float64
    end
    function bump!(p::P, v)
        p.x += v
        return p.x
    end
    function main(x)
        a = Acc(0.0, zeros(2))
        k = 0
        while a.s < 5
            a.s += abs(x[1]) + 0.5
            a.W .+= 1
            k += 1
        end
        p = P(1.0)
        ys = [bump!(p, v) for v in x]
        q = P(0.0)
        zs = map(v -> (q.x += v; q.x), x)
        r = P(0.0)
        ws = bump!.(Ref(r), x)       # each element's call adds in turn, as Julia's broadcast does
        return (a.s, a.W, k, ys, p.x, zs, q.x, ws, r.x)
    end
    """
    x = rng.standard_normal(4)
    s, k = 0.0, 0
    while s < 5:
        s += abs(x[0]) + 0.5
        k += 1
    running = 1.0 + np.cumsum(x)
    want = (s, np.full(2, float(k)), k, running, running[-1], np.cumsum(x), np.cumsum(x)[-1], np.cumsum(x),
            np.cumsum(x)[-1])
    assert_same(run_jl(source, "main", x), want, rtol=1e-14)


def test_ref_and_a_small_simulation(rng):
    source = """
    mutable struct Body
        x::Float64
        v::Float64
        m::Float64
    end
    function advance!(bodies, dt)
        for b in bodies
            b.x += dt * b.v
        end
        return nothing
    end
    energy(bodies) = sum(b -> 0.5 * b.m * b.v^2, bodies)
    function pisum(n)
        s = Ref(0.0)
        for k in 1:n
            s[] += 1.0 / (k * k)
        end
        return s[]
    end
    function main(x, n)
        bodies = (Body(x[1], 1.0, 2.0), Body(x[2], -0.5, 1.0))
        for step in 1:10
            advance!(bodies, 0.1)
        end
        r = Ref(3)
        r[] = 4
        f = () -> (r[] += 1)
        f(); f()
        return (bodies[1].x, bodies[2].x, energy(bodies), pisum(n), r[], Ref(1) == Ref(1))
    end
    """
    x = rng.standard_normal(2)
    b1, b2 = x[0], x[1]
    for _ in range(10):
        b1 += 0.1 * 1.0
        b2 += 0.1 * -0.5
    s = 0.0
    for k in range(1, 51):
        s += 1.0 / (k * k)
    assert_same(run_jl(source, "main", x, 50), (b1, b2, 1.125, s, 6, False), rtol=1e-15)


def test_a_mutable_struct_passed_in_and_returned():
    source = """
    mutable struct State
        t::Float64
        n::Int
        x::Vector{Float64}
    end
    function step!(s::State, dt)
        s.t += dt
        s.n += 1
        s.x .*= 2
        return s
    end
    main(s::State, dt) = (step!(s, dt); step!(s, dt); s)
    """
    got = jlhlo.load(source).function("main")({"t": 1.0, "n": 3, "x": np.array([1.0, 2.0])}, 0.25)
    assert_same(got, {"t": np.float64(1.5), "n": np.int64(5), "x": np.array([4.0, 8.0])})


def test_printing_and_display_show_the_numbers(tmp_path):
    path = write_jl(tmp_path, """
mutable struct P
    x::Float64
    k::Int
end
function main()
    p = P(1.0, 2)
    p.x *= 3
    println(p)
    return (p, P(0.5, 1))
end
""")
    r = cli(path, "--run")
    assert r.status == 0, r.stderr
    assert r.stdout == "P(3.0, 2)\n(P(3.0, 2), P(0.5, 1))\n"


def test_gradients_through_and_with_respect_to_a_mutable_struct():
    source = """
    mutable struct P
        x::Float64
    end
    loss(w) = (p = P(w[1]); p.x *= w[2]; p.x^2 + w[1])
    main(w) = gradient(loss, w)
    f(q) = q.x^2
    main2(w) = gradient(f, P(w[1]))
    """
    w = np.array([2.0, 3.0])
    assert_same(run_jl(source, "main", w), (np.array([2 * w[0] * w[1] ** 2 + 1, 2 * w[0] ** 2 * w[1]]),))
    assert_same(run_jl(source, "main2", w), ({"x": np.float64(4.0)},))


@pytest.mark.parametrize("body, message", [
    ("mutable struct Q; x; end\nfunction main(x); q = Q(1); q.x = 2.5; q.x; end",
     r"has type Int64 here \(jlhlo fixes an untyped field.s type"),
    ("mutable struct Q; W::Vector{Float64}; end\nfunction main(x); q = Q(x); q.W = 2x; q.W; end",
     "supported for number fields only"),
    ("struct Q; x::Float64; end\nfunction main(x); q = Q(1.0); q.x = 2.5; q.x; end",
     "immutable struct cannot be changed"),
    ("mutable struct Q; x::Int; end\nfunction main(x); q = Q(1); q.x = x[1]; q.x; end",
     "InexactError"),
])
def test_assignments_jlhlo_refuses_or_julia_rejects(body, message):
    with pytest.raises(JuliaError, match=message):
        run_jl(body, "main", np.array([1.5, 2.0]))


@pytest.mark.parametrize("body", [
    # Microbenchmarks' pisum (found by the corpus tool): Julia gives 1.6349839001848923, jlhlo gave 0.0
    "const vol = Ref(0.0)\nfunction main()\n    for j = 1:2\n        s = 0.0\n        for k = 1:100\n"
    "            s += 1.0 / (k * k)\n        end\n        vol[] = s\n    end\n    return vol[]\nend",
    "const buf = zeros(3)\nf!() = (buf[1] = 5.0; nothing)\nmain() = (f!(); buf[1])",
    "const buf = zeros(3)\ng!(v) = (v[1] = 5.0; nothing)\nmain() = (g!(buf); buf[1])",
])
def test_changing_a_global_is_refused_not_lost(body):
    """Each use of a global array or Ref is a fresh copy, so a write into one was silently lost."""
    with pytest.raises(JuliaError, match="changing the contents of the global"):
        run_jl(body, "main")


def test_reading_global_arrays_and_refs():
    source = "const W = [1.0 2.0; 3.0 4.0]\nconst r = Ref(2.5)\nmain() = (sum(W * W) + W[2, 1], r[] * 2)"
    assert_same(run_jl(source, "main"), (57.0, 5.0))


def test_ref_of_a_type_as_an_output_argument(rng):
    """`ai = Ref{Float64}()` filled by a callee (SpecialFunctions' airy functions do this)."""
    source = """
    function twice!(out::Ref{Float64}, x)
        out[] = 2x
        return nothing
    end
    function main(x)
        a, b = Ref{Float64}(), Ref{Float64}()
        twice!(a, x[1])
        b[] = 3
        c = Ref{Int}(2.0)
        return (a[], b[], c[])
    end
    """
    x = rng.standard_normal(1)
    assert_same(run_jl(source, "main", x), (2 * x[0], 3.0, 2))
    with pytest.raises(JuliaError, match="InexactError"):
        run_jl("main(x) = Ref{Int}(x[1])[]", "main", np.array([2.5]))
