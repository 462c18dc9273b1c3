"""`push!` onto a vector that a `for` loop builds (frontend/growing.py): the vector made empty just
before the loop, a push in every iteration. The final length is known when compiling, so the vector
is allocated at that length; anything else that grows an array stays a clear compile error.
References are NumPy, written from Julia's manual (push! converts to the element type)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same, run_jl
from jlhlo.frontend.diagnostics import JuliaError

SOURCE = """
function history(w, target)
    losses = Float32[]
    steps = Vector{Float64}()
    for epoch in 1:6
        w = w - 0.25 * (w - target)
        push!(losses, (w - target)^2)          # Float64 converted to Float32, as push! converts
        push!(steps, w)
    end
    return w, losses, steps
end
function prefix_sum(arr)
    pre = Int[]
    s = 0
    for a in arr
        s += a
        push!(pre, s)
    end
    return pre
end
function pairs_of(xs)
    v = Float64[]
    n = length(xs)                             # statements between that do not touch v
    for (i, x) in enumerate(xs)
        push!(v, i * x)
        push!(v, x / n)
    end
    w = Float64[]
    for (a, b) in zip(xs, reverse(xs))
        push!(w, a - b)
    end
    return v, w
end
main(w, target, arr, xs) = (history(w, target), prefix_sum(arr), pairs_of(xs))
"""


def _reference(w, target, arr, xs):
    losses, steps = [], []
    for _ in range(6):
        w = w - 0.25 * (w - target)
        losses.append(np.float32((w - target) ** 2))
        steps.append(w)
    v = []
    for i, x in enumerate(xs, 1):
        v += [i * x, x / len(xs)]
    return ((w, np.array(losses, np.float32), np.array(steps)), np.cumsum(arr),
            (np.array(v), xs - xs[::-1]))


def test_a_loop_that_pushes_in_every_iteration_builds_the_vector(rng):
    w, target = rng.standard_normal(2)
    arr, xs = rng.integers(-9, 9, 7), rng.standard_normal(5)
    assert_same(run_jl(SOURCE, "main", w, target, arr, xs), _reference(w, target, arr, xs), rtol=1e-14)


def test_push_converts_like_julia():
    source = """
    function f(xs)
        v = Int[]
        for x in xs
            push!(v, x)
        end
        return v
    end"""
    assert_same(run_jl(source, "f", np.array([1.0, 4.0])), np.array([1, 4]))
    with pytest.raises(JuliaError, match="InexactError"):
        run_jl(source, "f", np.array([1.0, 2.5]))


@pytest.mark.parametrize("body", [
    "x > 0 && push!(v, x)",                    # a number of pushes that depends on the data
    "if x > 0\n push!(v, x)\n end",
    "push!(v, x + length(v))",                 # the loop reads the vector it grows
    "push!(v, x)\n x > 1 && break",            # a break could skip pushes
])
def test_other_pushes_stay_a_clear_error(body):
    source = f"""
    function f(xs)
        v = Float64[]
        for x in xs
            {body}
        end
        return v
    end"""
    with pytest.raises(JuliaError, match=r"`push!` is not supported: growing arrays"):
        run_jl(source, "f", np.array([1.0, -2.0]))


@pytest.mark.parametrize("source, message", [
    # `n0 = length(v)` between creation and loop would see the allocated length: no rewrite
    ("v = Float64[]\n n0 = length(v)\n for x in xs\n push!(v, x)\n end\n return n0, v", r"`push!` is not supported"),
    # the loop variable hides the vector (Julia: MethodError, push! onto a Float64)
    ("v = Float64[]\n for v in xs\n push!(v, 1.0)\n end\n return v", None),
])
def test_loops_whose_pushes_cannot_be_counted_are_not_rewritten(source, message):
    with pytest.raises(JuliaError, match=message):
        run_jl(f"function f(xs)\n {source}\nend", "f", np.array([1.0, -2.0]))
