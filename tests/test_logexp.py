"""LogExpFunctions (StatsFuns) as public code calls them (`LogExpFunctions.log1pmx`, `using
LogExpFunctions`), written in the prelude (prelude/logexp.jl): against NumPy in extended precision
on random inputs over their domains, Float64 and Float32, including the far tails where the naive
formulas overflow or cancel."""
from __future__ import annotations

import decimal

import numpy as np
import pytest
from conftest import run_jl

SOURCE = """
using LogExpFunctions
function main(x, u, n, y)       # x anywhere, u in (0, 1), n < 0, y in (-0.9, 1.1)
    return (LogExpFunctions.log1pmx.(y), logmxp1.(u .* 3), log1pexp.(x), logexpm1.(abs.(x) .+ u),
            log1mexp.(n), logaddexp.(x, n), logsubexp.(x, x .+ n), logcosh.(x), xlog1py.(x, u), logit.(u),
            cloglog.(u), cexpexp.(x ./ 10), loglogistic.(x), logistic.(x), log2mexp.(n .* u))
end
"""


def _reference(x, u, n, y):
    L = np.longdouble
    x, u, n, y = x.astype(L), u.astype(L), n.astype(L), y.astype(L)
    m = np.maximum(x, n)
    return (np.log1p(y) - y, np.log(u * 3) - u * 3 + 1, np.logaddexp(L(0), x), np.log(np.expm1(np.abs(x) + u)),
            np.log(-np.expm1(n)), m + np.log1p(np.exp(-np.abs(x - n))), x + np.log(-np.expm1(n)),
            np.log(np.cosh(x)), x * np.log1p(u), np.log(u / (1 - u)), np.log(-np.log1p(-u)), -np.expm1(-np.exp(x / 10)),
            -np.logaddexp(L(0), -x), 1 / (1 + np.exp(-x)), np.log1p(-np.expm1(n * u)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logexp_functions_match_extended_precision(rng, dtype):
    x = np.concatenate([rng.standard_normal(20) * 8, [0.0, -0.0, 35.0, -35.0, 80.0, -80.0, 1e-8]]).astype(dtype)
    u = rng.uniform(0.01, 0.99, x.size).astype(dtype)
    n = -np.abs(rng.standard_normal(x.size) * 5).astype(dtype) - dtype(1e-3)
    y = rng.uniform(-0.9, 1.1, x.size).astype(dtype)
    got = run_jl(SOURCE, "main", x, u, n, y)
    eps = np.finfo(dtype).eps
    for k, (g, w) in enumerate(zip(got, _reference(x, u, n, y))):
        assert g.dtype == dtype and g.shape == x.shape, k
        w = w.astype(np.float64)
        scale = np.maximum(np.abs(w), 1.0) if k in (3, 7) else np.abs(w)    # logexpm1, logcosh cross 0
        assert np.all(np.abs(g - w) <= 8 * eps * scale + np.finfo(dtype).tiny), (k + 1, x[np.argmax(np.abs(g - w) / (scale + 1e-300))])


def test_log1pmx_is_accurate_where_log1p_x_minus_x_cancels():
    x = [1e-10, -1e-10, 1e-4, -0.39, 0.99, -0.41, 1.5, 0.3]
    got = run_jl("using LogExpFunctions\nmain(x) = log1pmx.(x)", "main", np.array(x))
    with decimal.localcontext() as ctx:            # 50 digits: log(1 + x) - x with nothing cancelled
        ctx.prec = 50
        want = np.array([float((1 + decimal.Decimal(v)).ln() - decimal.Decimal(v)) for v in x])
    np.testing.assert_allclose(got, want, rtol=4 * np.finfo(np.float64).eps, atol=0)
