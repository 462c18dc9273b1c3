"""The parts of a float, as Base's math.jl takes them from its bits: `exponent`, `significand`,
`frexp`, `ldexp`, `maxintfloat`; and `cis`, `hypot` of three or more numbers. The reference is
NumPy's frexp/ldexp (the same convention as Julia's: a significand in [0.5, 1) for frexp)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

PARTS = """
function parts(x::Vector{T}, e::Vector{Int}) where {T<:AbstractFloat}
    n = length(x)
    ex = zeros(Int, n)
    sig = similar(x)
    fr = similar(x)
    fe = zeros(Int, n)
    for i in 1:n
        ex[i] = exponent(x[i])
        sig[i] = significand(x[i])
        fr[i], fe[i] = frexp(x[i])
    end
    return ex, sig, fr, fe, ldexp.(x, e)
end
"""


def run(source: str, entry: str, *args, level: int = 2):
    lowered = jlhlo.load(source, filename="t.jl").function(entry).lower(*args, optimize_level=level)
    return lowered.outputs(lowered.compile()(*lowered.host_inputs(args)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("level", [0, 2])
def test_exponent_significand_frexp_ldexp(rng, dtype, level):
    info = np.finfo(dtype)
    x = (rng.standard_normal(300) * 10.0 ** rng.integers(-30, 30, 300)).astype(dtype)
    x[:6] = [1.0, -1.0, info.max, -info.tiny, info.smallest_subnormal, 3 * info.smallest_subnormal]
    e = rng.integers(-60, 60, 300)
    got = run(PARTS, "parts", x, e, level=level)
    m, k = np.frexp(x)
    with np.errstate(over="ignore", under="ignore"):
        scaled = np.ldexp(x, e).astype(dtype)
    normal = np.abs(scaled) >= info.tiny        # XLA's CPU backend flushes subnormal results to zero
    scaled[~normal] = np.copysign(0, scaled[~normal])
    assert_same(got[:4], (k.astype(np.int64) - 1, (2 * m).astype(dtype), m.astype(dtype), k.astype(np.int64)),
                rtol=0, atol=0)
    assert_same(got[4], scaled, rtol=0, atol=0)


def test_special_values_and_errors():
    src = """
    function main(x::Float64)
        return (significand(x), frexp(-x), ldexp(x, 5), significand(-0.0), frexp(-0.0), ldexp(1.0, 1024),
                ldexp(1.0, 1023), ldexp(3, -1), exponent(3), maxintfloat(Float32), maxintfloat(), maxintfloat(x))
    end"""
    got = run(src, "main", np.inf)
    assert_same(got, (np.float64(np.inf), (np.float64(-np.inf), np.int64(0)), np.float64(np.inf), np.float64(-0.0),
                      (np.float64(-0.0), np.int64(0)), np.float64(np.inf), np.float64(2.0 ** 1023), np.float64(1.5),
                      np.int64(1), np.float32(2 ** 24), np.float64(2 ** 53), np.float64(2 ** 53)))
    assert np.signbit(got[3]) and np.signbit(got[4][0])
    with pytest.raises(JuliaError, match="DomainError with .*:\nCannot be ±0.0."):    # a run-time value: `$(x)`
        run("main(x::Float64) = exponent(0.0 * x)", "main", 1.0)
    with pytest.raises(JuliaError, match="Cannot be NaN or Inf."):
        run("main(x::Float64) = exponent(x)", "main", np.nan)


def test_cis_and_hypot_of_several_numbers(rng):
    src = """
    function main(v::Vector{Float64}, t::Float64)
        return (cis(t), hypot(v[1], v[2], v[3]), hypot(v...), hypot(1, 2, 2), hypot(Inf, NaN, 1.0),
                hypot(0.0, 0.0, 0.0), hypot(1e300, 1e300, 1e300), hypot(1f0, 2f0, 2f0))
    end"""
    v, t = rng.standard_normal(3), float(rng.uniform(-4, 4))
    got = run(src, "main", v, t)
    assert_same(got, (np.complex128(np.cos(t) + 1j * np.sin(t)), np.float64(np.sqrt(np.sum(v ** 2))),
                      np.float64(np.sqrt(np.sum(v ** 2))), np.float64(3.0), np.float64(np.inf), np.float64(0.0),
                      np.float64(1e300 * np.sqrt(3.0)), np.float32(3.0)), rtol=1e-15)
