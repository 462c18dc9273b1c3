# LogExpFunctions (and StatsFuns, which re-exports them): compositions of log and exp computed
# without the overflow or cancellation of the naive formulas, as that package defines them.
# `LogExpFunctions.f` is `f` here (one namespace). `xlogx` and `xlogy` are Flux's, in losses.jl
# (they agree with these except `xlogy(0, NaN)`, which is 0 there and NaN in LogExpFunctions);
# `logsumexp` and `softmax` are in base.jl.
xlog1py(x::Number, y::Number) = (r = x * log1p(y); ifelse(iszero(x) & !isnan(y), zero(r), r))
logistic(x::Real) = σ(x)
logit(x::Real) = log(x / (one(x) - x))
log1pexp(x::Real) = softplus(x)
# log(exp(x) - 1): above 0 as x + log(1 - exp(-x)), which neither overflows nor cancels
logexpm1(x::Real) = x > 0 ? x + log(-expm1(-float(x))) : log(expm1(float(x)))
invsoftplus(x::Real) = logexpm1(x)
# log(1 - exp(x)) for x ≤ 0, by the formula accurate on each side of -log(2) (Mächler)
log1mexp(x::Real) = x < oftype(float(x), -0.6931471805599453) ? log1p(-exp(float(x))) : log(-expm1(float(x)))
log2mexp(x::Real) = log1p(-expm1(float(x)))
logaddexp(x::Real, y::Real) = (Δ = ifelse(x == y, zero(x - y), abs(x - y)); max(x, y) + log1pexp(-Δ))
logsubexp(x::Real, y::Real) = (Δ = ifelse(x == y, zero(x - y), abs(x - y)); max(x, y) + log1mexp(-Δ))
logcosh(x::Real) = (a = abs(float(x)); a + log1pexp(-2a) - log(oftype(a, 2)))
loglogistic(x::Real) = -log1pexp(-float(x))
log1mlogistic(x::Real) = -log1pexp(float(x))
logitexp(x::Real) = x - log1mexp(x)
logit1mexp(x::Real) = log1mexp(x) - x
cloglog(x::Real) = log(-log1p(-float(x)))
cexpexp(x::Real) = -expm1(-exp(float(x)))
# log(1 + x) - x. Where log1p(x) ≈ x would cancel, as 2atanh(r) - x with r = x / (x + 2): the
# series 2r + 2r³/3 + 2r⁵/5 + ..., whose 2r - x is r x²/2 - x²/2; 20 terms reach the last bit
# for -0.4 < x < 1 (|r| ≤ 1/3); outside, log1p(x) - x loses at most two bits.
function log1pmx(x::Real)
    y = float(x)
    (y <= -0.4 || y >= 1) && return log1p(y) - y
    r = y / (y + 2)
    t = r * r
    w = evalpoly(t, _log1pmx_series(typeof(y)))
    hxsq = y * y / 2
    return r * (hxsq + w * t) - hxsq
end
_log1pmx_series(::Type{T}) where {T} = ntuple(k -> T(2) / T(2k + 1), 20)
logmxp1(x::Real) = log1pmx(x - one(x))
