"""Arrays whose elements are tuples, named tuples and immutable structs (frontend/struct_arrays.py):
built by comprehensions, literals, broadcasting, `map`, `fill`, `similar` and `Vector{P}(undef, n)`;
read, written, iterated, compared, copied and aliased as Julia does; returned to Python as NumPy
structured arrays. References are NumPy, written from Julia's manual."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same, cli, run_jl, write_jl
from jlhlo.frontend.diagnostics import JuliaError

PARTICLES = """
struct Particle
    x::Float64
    v::Float64
end
advance(p::Particle, dt) = Particle(p.x + dt * p.v, p.v)
bounce(p::Particle) = p.x > 1.0 ? Particle(2.0 - p.x, -p.v) : p

function simulate(xs, vs, steps)
    ps = [Particle(xs[i], vs[i]) for i in eachindex(xs)]
    for t in 1:steps
        ps = bounce.(advance.(ps, 0.1))
    end
    return ps
end

function drift!(ps, dt)
    for i in eachindex(ps)
        ps[i] = Particle(ps[i].x + dt * ps[i].v, ps[i].v)
    end
    return ps
end

function energy(xs, vs)
    ps = Vector{Particle}(undef, length(xs))
    for (i, (x, v)) in enumerate(zip(xs, vs))
        ps[i] = Particle(x, v)
    end
    drift!(ps, 0.5)
    e = 0.0
    for p in ps
        e += p.x^2 + p.v^2 / 2
    end
    return (e, sum(p -> p.v, ps), count(p -> p.x > 0, ps), map(p -> p.x, ps))
end
"""


def _simulate(xs: np.ndarray, vs: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    x, v = xs.copy(), vs.copy()
    for _ in range(steps):
        x = x + 0.1 * v
        over = x > 1.0
        x, v = np.where(over, 2.0 - x, x), np.where(over, -v, v)
    return x, v


def test_array_of_structs_simulation(rng):
    xs, vs = rng.uniform(0, 1, 7), rng.standard_normal(7)
    got = run_jl(PARTICLES, "simulate", xs, vs, 12)
    assert got.dtype.names == ("x", "v") and got.shape == (7,)
    x, v = _simulate(xs, vs, 12)
    assert_same((got["x"], got["v"]), (x, v), rtol=1e-13)


def test_array_of_structs_mutated_through_a_function(rng):
    xs, vs = rng.standard_normal(5), rng.standard_normal(5)
    x = xs + 0.5 * vs
    want = (np.sum(x**2 + vs**2 / 2), np.sum(vs), np.int64(np.sum(x > 0)), x)
    assert_same(run_jl(PARTICLES, "energy", xs, vs), want, rtol=1e-13)


TUPLES = """
function pairs_loop(xs)
    ps = [(x, 2x) for x in xs]
    a, b = ps[2]
    ps[1] = (10, 20)                 # converted to Tuple{Float64, Float64}, as Julia's setindex! does
    s = 0.0
    for (u, w) in ps
        s += u - w
    end
    return (a + b, ps[1], s, length(ps), size(ps), first(ps), last(ps), ps[end][2])
end

grid(xs) = [(i, x) for i in 1:2, x in xs]
named(xs) = (ps = [(a = x, b = -x) for x in xs]; [p.a * p.b for p in ps])
literal(x) = (ps = [(x, 1), (2.0, 2), (3.0, 3)]; (ps[1][1] + ps[3][2], ps[2:3] == [(2.0, 2), (3.0, 3)]))
zipped(a, b) = (z = collect(zip(a, b)); [u * w for (u, w) in z])

function aliasing(xs)
    ps = [(x, 0.0) for x in xs]
    qs = ps                          # the same array
    rs = copy(ps)                    # a new one
    qs[1] = (100.0, 1.0)
    rs[2] = (-1.0, -1.0)
    return (ps[1][1], ps[2][1], rs[1][1], ps == qs, ps == rs)
end

function branches(xs, c)
    ps = fill((0.5, 2), length(xs))
    if c > 0
        ps[1] = (xs[1], 7)
    else
        ps = [(x, 1) for x in xs]
    end
    return (ps[1], reverse(ps)[1], eltype(ps) == Tuple{Float64, Int64})
end

function nested(xs)
    segs = [((x, x + 1.0), x > 0) for x in xs]
    s = 0.0
    for ((lo, hi), keep) in segs
        s += keep ? hi - lo : 0.0
    end
    return s
end

loss(x) = sum(p[1] * p[2] for p in [(xi, sin(xi)) for xi in x])
grad(x) = gradient(loss, x)[1]
"""


def test_arrays_of_tuples(rng):
    xs = rng.standard_normal(4)
    want = (3 * xs[1], (10.0, 20.0), -10.0 - np.sum(xs[1:]), 4, (4,), (10.0, 20.0), (xs[3], 2 * xs[3]),
            2 * xs[3])
    assert_same(run_jl(TUPLES, "pairs_loop", xs), want)
    got = run_jl(TUPLES, "grid", xs[:3])
    assert got.shape == (2, 3) and got.dtype == np.dtype([("f0", "<i8"), ("f1", "<f8")])
    assert_same((got["f0"], got["f1"]), (np.repeat([[1], [2]], 3, axis=1), np.tile(xs[:3], (2, 1))))
    assert_same(run_jl(TUPLES, "named", xs), -xs**2)
    assert_same(run_jl(TUPLES, "literal", 5.0), (8.0, True))
    assert_same(run_jl(TUPLES, "zipped", xs, xs[::-1].copy()), xs * xs[::-1])
    assert_same(run_jl(TUPLES, "nested", xs), np.float64(np.sum(xs > 0)))


def test_arrays_of_tuples_alias_copy_and_branch(rng):
    xs = rng.standard_normal(3)
    assert_same(run_jl(TUPLES, "aliasing", xs), (100.0, xs[1], xs[0], True, False))
    assert_same(run_jl(TUPLES, "branches", xs, 1), ((xs[0], 7), (0.5, 2), True))
    assert_same(run_jl(TUPLES, "branches", xs, -1), ((xs[0], 1), (xs[2], 1), True))


def test_gradient_through_an_array_of_tuples(rng):
    x = rng.standard_normal(5)
    assert_same(run_jl(TUPLES, "grad", x), np.sin(x) + x * np.cos(x), rtol=1e-13)


@pytest.mark.parametrize("body, message", [
    ("mutable struct M\n x::Float64\nend\nmain(x) = [M(v) for v in x][1].x", "mutable struct M is not supported"),
    ("main(x) = [(1.0, 2.0), (1, 2)]", "differ in type"),
    ("main(x) = [(v, [v]) for v in x]", "elements are Tuple{Float64, Vector{Float64}}"),
    ("main(x) = (ps = [(v, v) for v in x]; ps[1:2] = (1.0, 2.0); ps)", "assigning a Tuple{Float64, Float64}"),
    ("main(x) = (x[1:2] = 5.0; x)", "ArgumentError: indexed assignment with a single value"),
])
def test_arrays_of_structs_refused_clearly(body, message):
    with pytest.raises(JuliaError, match=message):
        run_jl(body, "main", np.ones(3))


def test_display_of_arrays_of_structs(tmp_path):
    path = write_jl(tmp_path, PARTICLES + TUPLES)
    out = cli(path, "--call", "simulate([0.5, 0.25], [1.0, 0.0], 1)", "--run")
    assert out.status == 0 and out.stdout.strip() == "2-element Vector{Particle}:\n Particle(0.6, 1.0)\n Particle(0.25, 0.0)"
    out = cli(path, "--call", "grid([1.5, 2.0])", "--run")
    assert out.stdout.strip() == "2×2 Matrix{Tuple{Int64, Float64}}:\n (1, 1.5)  (1, 2.0)\n (2, 1.5)  (2, 2.0)"


ORDERING = """
struct V2
    a::Float64
    b::Float64
end
Base.:+(p::V2, q::V2) = V2(p.a + q.a, p.b + q.b)
function main(x)
    ps = [(v, 2v - 1.0) for v in x]
    qs = vcat(ps, [(10.0, 0.0)])
    vs = [V2(v, -v) for v in x]
    total = sum(vs)
    return (maximum(ps), minimum(ps), (x[1], 1.0) < (x[2], 2.0), isless((1, 2), (1, 3)), max((1, 5.0), (2, 0.0)),
            length(qs), qs[end], [p[1] for p in [ps; ps]], circshift(ps, 1)[1], total.a, total.b)
end
"""


def test_ordering_reducing_and_concatenating_arrays_of_tuples(rng):
    """Tuples order lexicographically (`isless`, `<`), so `maximum` of a vector of them is its largest;
    `sum` of structs uses their `+`; `vcat`/`[ps; qs]` and `circshift` act on every number of the elements."""
    x = rng.standard_normal(4)
    pairs = [(v, 2 * v - 1.0) for v in x]
    want = (max(pairs), min(pairs), bool((x[0], 1.0) < (x[1], 2.0)), True, (2, 0.0), 5, (10.0, 0.0),
            np.concatenate([x, x]), pairs[-1], np.sum(x), -np.sum(x))
    assert_same(run_jl(ORDERING, "main", x), want, rtol=1e-14)
