# Base's range constructors (base/range.jl, base/twiceprecision.jl), with Base's result types and Base's
# elements: `range` in all its forms, `LinRange`, `StepRangeLen`, `Base.OneTo`; and `searchsorted`,
# `gcdx`, `selectdim`. frontend/ranges.py builds the float ranges (`_build_linspace`,
# `_build_start_step_length`, `_build_plain`, `_build_lin`): with constant arguments at compile time,
# replaying Base's TwicePrecision arithmetic; with run-time ones from the plans computed below, the same
# arithmetic in the program.

range(start; stop=nothing, length=nothing, step=nothing) = _range(start, step, stop, length)
range(start, stop; length=nothing, step=nothing) = _range(start, step, stop, length)
range(start, stop, length::Integer) = _range(start, nothing, stop, length)
range(; start=nothing, stop=nothing, length=nothing, step=nothing) = _range(start, step, stop, length)

# which of start, step, stop, length are given decides the range, as Base's `_range` table does
function _range(start, step, stop, len)
    if start === nothing
        if step === nothing
            stop === nothing && len === nothing && return _range_error(start, step, stop, len)
            stop === nothing && return _range_length(len)
            len === nothing && return _range_stop(stop)
            return _range_stop_length(stop, len)
        end
        (stop === nothing || len === nothing) && return _range_error(start, step, stop, len)
        return _range_step_stop_length(step, stop, len)
    end
    if step === nothing
        stop === nothing && len === nothing && return _range_error(start, step, stop, len)
        stop === nothing && return _range_start_length(start, len)
        len === nothing && return start:stop
        return _range_start_stop_length(start, stop, len)
    end
    stop === nothing && len === nothing && return _range_error(start, step, stop, len)
    stop === nothing && return _range_start_step_length(start, step, len)
    len === nothing && return start:step:stop
    return _range_error(start, step, stop, len)
end

_range_error(start, step, stop, len) =
    throw(ArgumentError("Cannot construct range from arguments: start = $start, step = $step, stop = $stop, " *
                        "length = $len (give three of them, or two of start, stop, length, or one of stop, length)"))

_range_length(len::Integer) = OneTo(len)
_range_stop(stop::Integer) = OneTo(stop)
_range_stop(stop) = oftype(stop, 1):stop

function _range_stop_length(a, len::Integer)
    start = a - (len - 1)
    start isa Integer && return start:a
    return _build_plain(start, oftype(a - a, 1), len, 1, start)
end

function _range_start_length(a, len::Integer)
    stop = a + (len - 1)
    stop isa Integer && return a:stop
    return _build_plain(a, oftype(a - a, 1), len, 1, stop)
end

function _range_step_stop_length(step, a, len::Integer)
    start = a - step * (len - 1)
    start isa Integer && return start:step:a
    _check_length(len)
    return _build_plain(start, step, len, 1, start)
end

function _range_start_step_length(a, st, len::Integer)
    if a isa AbstractFloat || st isa AbstractFloat
        x, s = promote(a, st)
        _check_length(len)
        return _build_start_step_length(x, s, len)
    end
    return a:st:(a + st * (len - 1))
end

function _range_start_stop_length(start, stop, len::Integer)
    a, b = promote(start, stop)
    a isa Integer && _check_linspace(float(a), float(b), len)
    a isa AbstractFloat && _check_linspace(a, b, len)
    return _build_linspace(a, b, len)
end

_check_length(len) = len >= 0 || throw(ArgumentError("length cannot be negative, got $len"))

function _check_linspace(a, b, len)
    len >= 0 || throw(ArgumentError("range($a, stop=$b, length=$len): negative length"))
    len == 1 && a != b && throw(ArgumentError("range($a, stop=$b, length=$len): endpoints differ"))
    (len < 2 || a == b || (isfinite(a) && isfinite(b))) ||
        throw(ArgumentError("start and stop must be finite, got $a and $b"))
    return nothing
end

# LinRange{T}: T is the type of (stop - start) / len
function LinRange(start, stop, len::Integer)
    x = (zero(stop) - zero(start)) / oneunit(len)
    a, b = oftype(x, start), oftype(x, stop)
    len >= 0 || throw(ArgumentError("range($a, stop=$b, length=$len): negative length"))
    len == 1 && a != b && throw(ArgumentError("range($a, stop=$b, length=$len): endpoints differ"))
    return _build_lin(a, b, len)
end

# StepRangeLen(ref, step, len, offset): element i is ref + (i - offset) * step
function StepRangeLen(ref, step, len::Integer, offset::Integer=1)
    x = ref + zero(step)
    len >= 0 || throw(ArgumentError("length cannot be negative, got $len"))
    1 <= offset <= max(1, len) || throw(ArgumentError("StepRangeLen: offset must be in [1,$len], got $offset"))
    x isa Integer && return (ref + (1 - offset) * step):step:(ref + (len - offset) * step)
    return _build_plain(ref, step, len, offset, x)
end

OneTo(n::Integer) = 1:max(zero(n), n)

eltype(r::AbstractRange{T}) where {T} = T

# a float range's sum is Base's closed form, not the sum of its elements
sum(r::AbstractRange{<:AbstractFloat}; dims=:, init=_NoInit()) =
    dims isa Colon && init isa _NoInit ? _float_range_sum(r) : _reduce_init(+, r, dims, init)
# Statistics' mean of a range: the middle of its ends
mean(r::AbstractRange{<:Real}; dims=:) = dims isa Colon ? _range_mean(r) : mean(collect(r); dims=dims)
_range_mean(r) = (m = (first(r) + last(r)) / 2; isempty(r) ? oftype(m, NaN) : m)

# ---- the plans of float ranges with run-time arguments (frontend/ranges.py decides constant ones the
# same way): Base's steprangelen_hp. A Float64 range is TwicePrecision, (len, ref_hi, ref_lo, step_hi,
# step_lo, offset); a Float32 or Float16 one keeps ref and step in Float64, (len, ref, step, offset).
# `_mul_rounded(a, b)` keeps a product from being fused with the addition that follows (XLA would make it
# one fused multiply-add, which Julia does not).
_hp(z::Float64, len, ref_hi, ref_lo, step_hi, step_lo, nb, offset) =
    (len, ref_hi, ref_lo, _twiceprecision(step_hi, step_lo, nb)..., offset)
_hp(z::AbstractFloat, len, ref_hi, ref_lo, step_hi, step_lo, nb, offset) =
    (len, Float64(ref_hi) + Float64(ref_lo), Float64(step_hi) + Float64(step_lo), offset)
# steprangelen_hp(T, (ref_n, ref_d), (step_n, step_d), nb, len, offset)
_hp_ratio(z::Float64, len, rn, rd, sn, sd, nb, offset) =
    (len, _tp_ratio(rn, rd)..., _twiceprecision(_tp_ratio(sn, sd)..., nb)..., offset)
_hp_ratio(z::AbstractFloat, len, rn, rd, sn, sd, nb, offset) = (len, rn / rd, sn / sd, offset)
# _linspace1 (fewer than two elements)
_linspace1_plan(z::Float64, a, b, len) = (len, Float64(a), 0.0, Float64(a), -Float64(b), 1)
_linspace1_plan(z::AbstractFloat, a, b, len) = (len, Float64(a), Float64(a) - Float64(b), 1)

_nbitslen(z::Float64, len, offset) = _nbitslen(len, offset, 27)
_nbitslen(z::Float32, len, offset) = _nbitslen(len, offset, 12)
_nbitslen(z::Float16, len, offset) = _nbitslen(len, offset, 6)
_nbitslen(len, offset, cap) = len < 2 ? 0 : min(cap, 64 - leading_zeros(max(offset - 1, len - offset) - 1) + 1)

_canonicalize2(big, little) = (h = big + little; (h, (big - h) + little))
_add12(x, y) = abs(y) > abs(x) ? _canonicalize2(y, x) : _canonicalize2(x, y)
_twiceprecision(hi, lo, nb) = (h = _truncbits(hi, nb); (h, (hi - h) + lo))
_lcm_unchecked(a, b) = a * div(b, gcd(a, b))
# TwicePrecision{Float64}(i::Integer), by Base.splitprec
_tp_int(i) = (hi = _truncbits(Float64(i), 27); _canonicalize2(hi, Float64(i - trunc(Int, hi))))
# TwicePrecision{Float64}((n, d)) = TwicePrecision(n) / Float64(d)
function _tp_ratio(n, d)
    xh, xl = _tp_int(n)
    y = Float64(d)
    hi = xh / y
    uh, ul = _mul12(hi, y)
    lo = ((((xh - uh) - ul) + xl) - _mul_rounded(hi, 0.0)) / y
    h, l = _canonicalize2(hi, lo)
    bad = iszero(hi) | !isfinite(hi)
    return (ifelse(bad, hi, h), ifelse(bad, hi, l))
end
# Base.mul12: x*y and its rounding error (Dekker's product, which is exact as fma(x, y, -x*y) is)
function _mul12(x, y)
    h = _mul_rounded(x, y)
    xh, xl = _veltkamp(x)
    yh, yl = _veltkamp(y)
    err = (((xh * yh - h) + xh * yl) + xl * yh) + xl * yl
    h2, l2 = _canonicalize2(h, err)
    bad = iszero(h) | !isfinite(h)
    return (ifelse(bad, h, h2), ifelse(bad, h, l2))
end
_veltkamp(a) = (c = _mul_rounded(134217729.0, a); hi = c - (c - a); (hi, a - hi))

# range(start, stop; length) for floats (Base's range_start_stop_length for IEEE floats)
function _linspace_plan(start::T, stop::T, len::Integer) where {T<:AbstractFloat}
    z = zero(T)
    len < 2 && return _linspace1_plan(z, start, stop, len)
    start == stop && return _hp(z, len, start, z, z, z, 0, 1)
    start_n, start_d = _rat(start)
    stop_n, stop_d = _rat(stop)
    if start_d != 0 && stop_d != 0
        den = _lcm_unchecked(start_d, stop_d)
        m = _maxintfloat(T)
        if den != 0 && abs(den * start) <= m && abs(den * stop) <= m
            sn = round(Int, den * start)
            tn = round(Int, den * stop)
            if T(sn / den) == start && T(tn / den) == stop
                return _linspace_ratio_plan(z, sn, tn, len, den)
            end
        end
    end
    return _linspace_float_plan(start, stop, len)
end

# _linspace(T, start_n, stop_n, len, den): from start_n/den to stop_n/den
function _linspace_ratio_plan(z, sn, tn, len, den)
    len < 2 && return _linspace1_plan(z, sn / den, tn / den, len)
    sn == tn && return _hp_ratio(z, len, sn, den, 0, den, 0, 1)
    tmin = -sn / (Float64(tn) - Float64(sn))
    imin = clamp(round(Int, _mul_rounded(tmin, len - 1) + 1), 1, len)
    big = typemax(Int) ÷ len         # Base computes the reference numerator in Int128
    abs(sn) <= big && abs(tn) <= big && abs(den) <= big ||
        throw(ArgumentError("range from $sn/$den to $tn/$den with length $len needs 128-bit integers, which " *
                            "jlhlo does not have"))
    ref_den = (len - 1) * den
    ref_num = (len - imin) * sn + (imin - 1) * tn
    return _hp_ratio(z, len, ref_num, ref_den, tn - sn, ref_den, _nbitslen(z, len, imin), imin)
end

# _linspace(start, stop, len): endpoints without an exact small ratio
function _linspace_float_plan(start::T, stop::T, len::Integer) where {T<:AbstractFloat}
    delta = stop - start
    fac = 1
    if !isfinite(delta)
        delta = stop / len - start / len
        fac = len
    end
    tmin = -(start / delta) / fac
    imin = round(Int, _mul_rounded(tmin, len - 1) + 1)
    ref = start
    step = (delta / (len - 1)) * fac
    if 1 < imin < len
        t = (imin - 1) / (len - 1)
        ref = T(_mul_rounded(1 - t, start) + _mul_rounded(t, stop))
        step = imin - 1 < len - imin ? (ref - start) / (imin - 1) : (stop - ref) / (len - imin)
    elseif imin > 1
        imin = len
        ref = stop
    else
        imin = 1
    end
    z = zero(T)
    len == 2 && !isfinite(step) && return _hp(z, 2, start, z, -start, stop, 0, 1)
    m = prevfloat(floatmax(T))
    k = max(imin - 1, len - imin)
    step_hi_pre = clamp(step, max(-(m + ref) / k, (-m + ref) / k), min((m - ref) / k, (m + ref) / k))
    step_hi = _truncbits(step_hi_pre, _nbitslen(z, len, imin))
    x1_hi, x1_lo = _add12(_mul_rounded(1 - imin, step_hi), ref)
    x2_hi, x2_lo = _add12(_mul_rounded(len - imin, step_hi), ref)
    a = (start - x1_hi) - x1_lo
    b = (stop - x2_hi) - x2_lo
    step_lo = (b - a) / (len - 1)
    ref_lo = a - _mul_rounded(1 - imin, step_lo)
    return _hp(z, len, ref, ref_lo, step_hi, step_lo, 0, imin)
end

# range(a; step, length) for floats (Base's range_start_step_length for IEEE floats)
function _start_step_length_plan(a::T, st::T, len::Integer) where {T<:AbstractFloat}
    z = zero(T)
    start_n, start_d = _rat(a)
    step_n, step_d = _rat(st)
    if start_d != 0 && step_d != 0 && T(start_n / start_d) == a && T(step_n / step_d) == st
        den = _lcm_unchecked(start_d, step_d)
        m = _maxintfloat(T)
        if abs(den * a) <= m && abs(den * st) <= m && rem(den, start_d) == 0 && rem(den, step_d) == 0
            return _floatrange_plan(z, round(Int, den * a), round(Int, den * st), len, den)
        end
    end
    return _hp(z, len, a, z, st, z, 0, 1)
end

# floatrange(T, start_n, step_n, len, den): start_n/den + (0:len-1) * step_n/den
function _floatrange_plan(z, start_n, step_n, len, den)
    (len < 2 || step_n == 0) && return _hp_ratio(z, len, start_n, den, step_n, den, 0, 1)
    imin = clamp(round(Int, -start_n / step_n + 1), 1, len)
    ref_n = start_n + (imin - 1) * step_n
    return _hp_ratio(z, len, ref_n, den, step_n, den, _nbitslen(z, len, imin), imin)
end

# ---- searching and integer helpers
searchsorted(v::AbstractVector, x) = searchsortedfirst(v, x):searchsortedlast(v, x)

# the extended Euclidean algorithm: (d, u, v) with u*a + v*b == d == gcd(a, b), as Base's gcdx
function gcdx(a::Integer, b::Integer)
    T = promote_type(typeof(a), typeof(b))
    a == b == 0 && return (zero(T), zero(T), zero(T))
    s0, s1 = oneunit(T), zero(T)
    t0, t1 = s1, s0
    x = convert(T, a)
    y = convert(T, b)
    while y != 0
        q = div(x, y)
        x, y = y, rem(x, y)
        s0, s1 = s1, s0 - q * s1
        t0, t1 = t1, t0 - q * t1
    end
    return x < 0 ? (-x, -s0, -t0) : (x, s0, t0)
end

# selectdim(A, d, i): the view of A with index i in dimension d (d must be known when compiling)
function selectdim(A::AbstractArray, d::Integer, i)
    d >= 1 || throw(ArgumentError("dimension must be ≥ 1, got $d"))
    d <= ndims(A) || throw(ArgumentError("dimension $d is beyond the $(ndims(A)) dimensions of the array"))
    return view(A, ntuple(k -> k == d ? i : Colon(), ndims(A))...)
end

# ---- Base's sum of a float range whose plan is known only at run time (ranges.py sums constant ones)
# sum(r::StepRangeLen) with TwicePrecision ref and step
function _plan_sum(z::Float64, len, ref_hi, ref_lo, step_hi, step_lo, offset)
    sp1, sp2 = _sumpair(len - offset)
    sn1, sn2 = _sumpair(offset - 1)
    tp = _tp_times(_tp_times(step_hi, step_lo, sp1)..., sp2)
    tn = _tp_times(_tp_times(step_hi, step_lo, sn1)..., sn2)
    s_hi, s_lo = _add12(tp[1], -tn[1])
    s_lo += tp[2] - tn[2]
    ref = _tp_times(ref_hi, ref_lo, len)
    sm_hi, sm_lo = _add12(s_hi, ref[1])
    return _add12(sm_hi, sm_lo + ref[2])[1]
end
# sum(r::StepRangeLen) with plain ref and step
function _plan_sum(z::AbstractFloat, len, ref, step, offset)
    sp1, sp2 = _sumpair(len - offset)
    sn1, sn2 = _sumpair(offset - 1)
    return oftype(z, _mul_rounded(step, sp1 * sp2 - sn1 * sn2) + _mul_rounded(ref, len))
end
# sum(r::AbstractRange{<:Real}) for a LinRange: l*first(r) + step(r)*l*(l-1)/2, in its type
function _plan_sum(z::AbstractFloat, len, start, stop)
    st = (stop - start) / max(len - 1, 1)
    tail = iseven(len) ? _mul_rounded(st * (len - 1), len >> 1) : _mul_rounded(st * len, (len - 1) >> 1)
    return _mul_rounded(len, start) + tail
end
# `a:s:b` with run-time ends: its exact-ratio plan as Base's StepRangeLen
_colon_sum(z, len, start_n, step_n, den, start, step) =
    _plan_sum(z, (den != 0 ? _floatrange_plan(z, start_n, step_n, len, den) : _hp(z, len, start, z, step, z, 0, 1))...)
_sumpair(n) = iseven(n) ? (n + 1, n >> 1) : (n, (n + 1) >> 1)
# *(x::TwicePrecision, v::Integer)
function _tp_times(hi, lo, v)
    u = _truncbits(hi, v == 0 ? 0 : 64 - leading_zeros(abs(v) - 1))
    h, l = _canonicalize2(_mul_rounded(u, v), _mul_rounded((hi - u) + lo, v))
    return v == 0 ? (hi * 0, lo * 0) : (h, l)
end
