# Base: the part of Julia's standard library that jlhlo writes in the language itself.
# Primitives used here (`_reduce`, `_broadcast_map`, `_foldl`, arithmetic, `size`...) are
# implemented in frontend/primitives.py, each mapping onto StableHLO ops.

# ---- reductions: `dims=:` gives a number, `dims=d` keeps dimension d with size 1
sum(x::Tuple) = _foldl(+, x)
sum(x::Number) = x
prod(x::Tuple) = _foldl(*, x)
maximum(x::Tuple) = _foldl(max, x)
minimum(x::Tuple) = _foldl(min, x)
sum(f, x::Tuple) = sum(map(f, x))          # the items may differ in type: `sum(area, (Circle(1), Square(2)))`
prod(f, x::Tuple) = prod(map(f, x))
maximum(f, x::Tuple) = maximum(map(f, x))
minimum(f, x::Tuple) = minimum(map(f, x))
# reductions with `init`: Base folds from init (mapfoldl); for these associative operators that is
# op(init, reduction) up to rounding, and init alone for an empty collection. With `dims`, the
# result's element type is typeof(init), as Base's reducedim_initarray.
sum(x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(+, x, dims, init)
sum(f, x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(+, _broadcast_map(f, x), dims, init)
prod(x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(*, x, dims, init)
prod(f, x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(*, _broadcast_map(f, x), dims, init)
maximum(x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(max, x, dims, init)
maximum(f, x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(max, _broadcast_map(f, x), dims, init)
minimum(x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(min, x, dims, init)
minimum(f, x::AbstractArray; dims=:, init=_NoInit()) = _reduce_init(min, _broadcast_map(f, x), dims, init)
any(x::AbstractArray{Bool}; dims=:) = _reduce(|, x, dims)
any(f, x::AbstractArray; dims=:) = _reduce(|, _broadcast_map(f, x), dims)
all(x::AbstractArray{Bool}; dims=:) = _reduce(&, x, dims)
all(f, x::AbstractArray; dims=:) = _reduce(&, _broadcast_map(f, x), dims)
count(x::AbstractArray{Bool}; dims=:) = _reduce(+, x, dims)
count(f, x::AbstractArray; dims=:) = _reduce(+, _broadcast_map(f, x), dims)
# into an existing array (Base's reducedim!): r's dimensions of size 1 are the ones reduced, the
# others must equal A's; the result is converted to r's element type
sum!(r::AbstractArray, A::AbstractArray) = _reduce_into!(r, sum(A; dims=_reduced_dims(r, A)))
prod!(r::AbstractArray, A::AbstractArray) = _reduce_into!(r, prod(A; dims=_reduced_dims(r, A)))
maximum!(r::AbstractArray, A::AbstractArray) = _reduce_into!(r, maximum(A; dims=_reduced_dims(r, A)))
minimum!(r::AbstractArray, A::AbstractArray) = _reduce_into!(r, minimum(A; dims=_reduced_dims(r, A)))
any!(r::AbstractArray, A::AbstractArray) = _reduce_into!(r, any(A; dims=_reduced_dims(r, A)))
all!(r::AbstractArray, A::AbstractArray) = _reduce_into!(r, all(A; dims=_reduced_dims(r, A)))
function _reduce_into!(r, v)
    r .= reshape(v, size(r))
    return r
end
_reduced_dims(r, A) = _reduced_dims(size(r), size(A), 1)
_reduced_dims(rs::Tuple, as::Tuple{}, d) = ()
function _reduced_dims(rs::Tuple, as::Tuple, d)
    n = d <= length(rs) ? rs[d] : 1
    n == 1 || n == first(as) ||
        throw(DimensionMismatch("reduction on array of size $as with output of size $rs"))
    rest = _reduced_dims(rs, Base.tail(as), d + 1)
    return n == 1 && first(as) != 1 ? (d, rest...) : rest
end

# ---- the same over a range whose length is known only at run time (`sum(f, 1:n)`, and through
# `Generator`, `sum(k^2 for k in 1:n)`): a loop in Julia's order (left to right; Julia sums longer
# arrays pairwise, so a float sum over more than 1024 elements may differ in the last bits)
sum(r::AbstractRange{<:Integer}; dims=:) = _runtime_length(r) && dims isa Colon ? _range_sum(r) : _reduce(+, r, dims)
sum(f, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _mapfoldl_first(f, +, r, _sum_first) : _reduce(+, _broadcast_map(f, r), dims)
prod(r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _prod_range(r) : _reduce(*, r, dims)
# an empty range's product is one (Base's reduce_empty), widened like a sum
_prod_range(r) = isempty(r) ? _sum_first(one(first(r))) : _mapfoldl_first(identity, *, r, _sum_first)
prod(f, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _mapfoldl_first(f, *, r, _sum_first) : _reduce(*, _broadcast_map(f, r), dims)
maximum(f, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _mapfoldl_first(f, max, r, identity) : _reduce(max, _broadcast_map(f, r), dims)
minimum(f, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _mapfoldl_first(f, min, r, identity) : _reduce(min, _broadcast_map(f, r), dims)
any(f, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _fold_loop(f, |, false, r) : _reduce(|, _broadcast_map(f, r), dims)
all(f, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _fold_loop(f, &, true, r) : _reduce(&, _broadcast_map(f, r), dims)
count(f, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _fold_loop(f, +, 0, r) : _reduce(+, _broadcast_map(f, r), dims)
mapreduce(f, op, r::AbstractRange; dims=:) =
    _runtime_length(r) && dims isa Colon ? _mapfoldl_first(f, op, r, identity) : _reduce(op, _broadcast_map(f, r), dims)
foldl(op, r::AbstractRange) = _mapfoldl_first(identity, op, r, identity)

function _mapfoldl_first(f, op, r, first_of)
    _check_nonempty(r)
    acc = first_of(f(first(r)))
    for i in 2:length(r)
        acc = op(acc, f(r[i]))
    end
    return acc
end
function _fold_loop(f, op, init, r)
    acc = init
    for x in r
        acc = op(acc, f(x))
    end
    return acc
end
# Base's sum widens small integers (and Bool) to Int, small unsigned ones to UInt; a range's sum is
# Base's closed form
_sum_first(x) = x
_sum_first(x::Bool) = Int(x)
_sum_first(x::Int8) = Int(x)
_sum_first(x::Int16) = Int(x)
_sum_first(x::Int32) = Int(x)
_sum_first(x::UInt8) = UInt(x)
_sum_first(x::UInt16) = UInt(x)
_sum_first(x::UInt32) = UInt(x)
muladd(x, y, z) = x * y + z      # Julia may fuse or not; jlhlo leaves that to XLA
function _range_sum(r)
    l = length(r)
    return l * first(r) + (iseven(l) ? (step(r) * (l - 1)) * (l >> 1) : (step(r) * l) * ((l - 1) >> 1))
end

# dropdims(x; dims): x without the dimensions `dims`, each of size 1
function dropdims(x::AbstractArray; dims)
    ds = dims isa Integer ? (dims,) : dims
    for d in ds
        1 <= d <= ndims(x) || throw(ArgumentError("dropped dims must be in range 1:ndims(A)"))
        size(x, d) == 1 || throw(ArgumentError("dropped dims must all be size 1"))
    end
    return reshape(x, _kept_sizes(size(x), ds, 1)...)
end
_kept_sizes(sz::Tuple{}, ds, i) = ()
_kept_sizes(sz::Tuple, ds, i) =
    i in ds ? _kept_sizes(Base.tail(sz), ds, i + 1) : (first(sz), _kept_sizes(Base.tail(sz), ds, i + 1)...)

# rand(r, dims...): uniform over the elements of an integer range (not Julia's stream of numbers)
function rand(r::AbstractRange{<:Integer}, dims...)
    isempty(r) && throw(ArgumentError("collection must be non-empty"))
    return first(r) .+ step(r) .* _rand_below(length(r), dims...)
end

# `a => b`; Flux's constructors take one for their sizes, `Dense(2 => 3)`, `Conv((3, 3), 1 => 8)`
struct Pair{A,B}
    first::A
    second::B
end
first(p::Pair) = p.first
last(p::Pair) = p.second
# a number is a collection of one element in Julia (`first(2.0) == 2.0`)
first(x::Number) = x
last(x::Number) = x
getindex(p::Pair, i::Integer) = i == 1 ? p.first : i == 2 ? p.second : throw(BoundsError(p, i))
length(p::Pair) = 2
Tuple(p::Pair) = (p.first, p.second)

# `f(x) for x in r`: a comprehension that a reduction consumes; jlhlo makes one only over a range
# whose length is known at run time (others become arrays, see comprehensions.py)
struct Generator{F,I}
    f::F
    iter::I
end
# with `init`, Base folds left to right from it (mapfoldl), also over an empty range
struct _NoInit end
sum(g::Generator; init=_NoInit()) = init isa _NoInit ? sum(g.f, g.iter) : _fold_loop(g.f, +, init, g.iter)
prod(g::Generator; init=_NoInit()) = init isa _NoInit ? prod(g.f, g.iter) : _fold_loop(g.f, *, init, g.iter)
maximum(g::Generator; init=_NoInit()) = init isa _NoInit ? maximum(g.f, g.iter) : _fold_loop(g.f, max, init, g.iter)
minimum(g::Generator; init=_NoInit()) = init isa _NoInit ? minimum(g.f, g.iter) : _fold_loop(g.f, min, init, g.iter)
any(g::Generator) = any(g.f, g.iter)
all(g::Generator) = all(g.f, g.iter)
count(g::Generator) = count(g.f, g.iter)
# `f(x) for x in xs if c(x)`: `values` holds f(x) where `keep` (c(x)) is true, a placeholder
# elsewhere (comprehensions.py); each reduction puts its identity where nothing was kept. Without
# `init`, reducing an empty one is an error (a generator's element type is unknown to Base)
struct _Filtered{V,K}
    values::V
    keep::K
end
function sum(g::_Filtered; init=_NoInit())
    init isa _NoInit && !any(g.keep) && _empty_reduction()
    v = init isa _NoInit ? g.values : _as_eltype(g.values, promote_type(typeof(init), eltype(g.values)))
    s = sum(ifelse.(g.keep, v, -zero(eltype(v))))     # -0.0: x + -0.0 is x, also for x = -0.0
    return init isa _NoInit ? s : init + s
end
function prod(g::_Filtered; init=_NoInit())
    init isa _NoInit && !any(g.keep) && _empty_reduction()
    v = init isa _NoInit ? g.values : _as_eltype(g.values, promote_type(typeof(init), eltype(g.values)))
    p = prod(ifelse.(g.keep, v, one(eltype(v))))
    return init isa _NoInit ? p : init * p
end
function maximum(g::_Filtered; init=_NoInit())
    init isa _NoInit && !any(g.keep) && _empty_reduction()
    m = maximum(ifelse.(g.keep, g.values, typemin(eltype(g.values))))
    return init isa _NoInit ? m : max(init, m)
end
function minimum(g::_Filtered; init=_NoInit())
    init isa _NoInit && !any(g.keep) && _empty_reduction()
    m = minimum(ifelse.(g.keep, g.values, typemax(eltype(g.values))))
    return init isa _NoInit ? m : min(init, m)
end
any(g::_Filtered) = any(g.keep .& g.values)
all(g::_Filtered) = all(.!g.keep .| g.values)
count(g::_Filtered) = count(g.keep .& g.values)
mean(g::_Filtered) = sum(g) / count(g.keep)
_empty_reduction() =
    throw(ArgumentError("reducing over an empty collection is not allowed; consider supplying `init` to the reducer"))
extrema(x::AbstractArray) = (minimum(x), maximum(x))
mean(x::AbstractArray; dims=:) = sum(_mean_term.(x); dims=dims) ./ _count_over(x, dims)
mean(f, x::AbstractArray) = sum(v -> _mean_term(f(v)), x) / length(x)
# Statistics' mean converts each term to the type of first(x) / 1 before summing: integers are
# summed as Float64s (mean([2^62, 2^62, 2^62]) is 2^62; an Int sum wraps around)
_mean_term(v::Integer) = float(v)
_mean_term(v) = v
_count_over(x, ::Colon) = length(x)
_count_over(x, d::Integer) = size(x, d)
_count_over(x, ds::Tuple) = prod(map(d -> size(x, d), ds))
var(x::AbstractArray; dims=:, corrected=true) =
    sum(abs2.(x .- mean(x; dims=dims)); dims=dims) ./ (_count_over(x, dims) - (corrected ? 1 : 0))
std(x::AbstractArray; dims=:, corrected=true) = sqrt.(var(x; dims=dims, corrected=corrected))

# ---- higher-order functions
map(f, xs...) = _broadcast_map(f, xs...)
# foreach(f, xs...): f of each element (of the zipped collections), in order, for its effects
function foreach(f, itr)
    for x in itr
        f(x)
    end
    return nothing
end
foreach(f, itr, itrs...) = foreach(t -> f(t...), zip(itr, itrs...))
reduce(op, x::Tuple) = _foldl(op, x)
foldl(op, x::Tuple) = _foldl(op, x)
mapreduce(f, op, x::Tuple) = _foldl(op, map(f, x))
# reduce and mapreduce with `+` or `*` do not widen small integers (only sum and prod do):
# reduce(+, Int8[100, 100]) is Int8(-56)
reduce(op, x::AbstractArray; dims=:, init=_NoInit()) = _reduce_op(op, x, dims, init)
mapreduce(f, op, x::AbstractArray; dims=:, init=_NoInit()) = _reduce_op(op, _broadcast_map(f, x), dims, init)
function _reduce_op(op, x, dims, init)
    _is_builtin_reducer(op) || init isa _NoInit || dims isa Colon ||
        throw(ArgumentError("reduce with this operator and `dims` is not supported by jlhlo"))
    if !_is_builtin_reducer(op)
        dims isa Colon || return _reduce(op, x, dims)        # the primitive's own message
        init isa _NoInit || return _fold_loop(identity, op, init, x)      # Base's mapfoldl from init
        isempty(x) && throw(ArgumentError("reducing over an empty collection is not allowed; consider supplying `init` to the reducer"))
        return _mapreduce_impl(op, x, 1, length(x))
    end
    return _reduce_init(op, x, dims, init, (op === (+) || op === (*)) ? eltype(x) : Nothing)
end
# Base's mapreduce_impl: left to right within blocks of up to 1024 elements, blocks joined pairwise
function _mapreduce_impl(op, x, lo, hi)
    lo == hi && return x[lo]
    if hi - lo < 1024
        v = op(x[lo], x[lo + 1])
        for i in lo+2:hi
            v = op(v, x[i])
        end
        return v
    end
    mid = lo + ((hi - lo) >> 1)
    return op(_mapreduce_impl(op, x, lo, mid), _mapreduce_impl(op, x, mid + 1, hi))
end
mapfoldl(f, op, x::Tuple) = _foldl(op, map(f, x))
mapfoldl(f, op, x::AbstractArray; init=_NoInit()) = foldl(op, _broadcast_map(f, x); init=init)
mapfoldl(f, op, r::AbstractRange; init=_NoInit()) =
    init isa _NoInit ? _mapfoldl_first(f, op, r, identity) : _fold_loop(f, op, init, r)
# foldr: right to left, op(x[1], op(x[2], ... op(x[end-1], x[end])))
reverse(t::Tuple{}) = ()
reverse(t::Tuple) = (reverse(Base.tail(t))..., first(t))
# tuples are ordered lexicographically: `isless` by `isequal` and `isless` of the items, `<` by `==`
# and `<` (so a NaN item makes `<` false where `isless` orders it); max/min/maximum use `isless`
isless(::Tuple{}, ::Tuple{}) = false
isless(::Tuple{}, ::Tuple) = true
isless(::Tuple, ::Tuple{}) = false
isless(a::Tuple, b::Tuple) = isequal(a[1], b[1]) ? isless(Base.tail(a), Base.tail(b)) : isless(a[1], b[1])
<(::Tuple{}, ::Tuple{}) = false
<(::Tuple{}, ::Tuple) = true
<(::Tuple, ::Tuple{}) = false
<(a::Tuple, b::Tuple) = a[1] == b[1] ? Base.tail(a) < Base.tail(b) : a[1] < b[1]
<=(a::Tuple, b::Tuple) = !(b < a)
>(a::Tuple, b::Tuple) = b < a
>=(a::Tuple, b::Tuple) = !(a < b)
max(a::Tuple, b::Tuple) = isless(b, a) ? a : b
min(a::Tuple, b::Tuple) = isless(b, a) ? b : a
foldr(op, x::Tuple) = _foldl((acc, v) -> op(v, acc), reverse(x))
function foldr(op, x::AbstractArray; init=_NoInit())
    if init isa _NoInit
        isempty(x) && throw(ArgumentError("reducing over an empty collection is not allowed; consider supplying `init` to the reducer"))
        v = _reduce_first(op, x[end])
        for i in length(x)-1:-1:1
            v = op(x[i], v)
        end
        return v
    end
    v = init
    for i in length(x):-1:1
        v = op(x[i], v)
    end
    return v
end
mapfoldr(f, op, x::Tuple) = foldr(op, map(f, x))
mapfoldr(f, op, x::AbstractArray; init=_NoInit()) = foldr(op, _broadcast_map(f, x); init=init)
# foldl over an array: left to right, from init or from the first element
foldl(op, x::AbstractArray; init=_NoInit()) = init isa _NoInit ? _foldl_first(op, x) : _fold_loop(identity, op, init, x)
# an array of tuples or structs (maximum of tuples, sum of a user type with `+`): Base's generic
# mapreduce, element by element in its order
function _reduce_elements(op, x, dims, init)
    dims isa Colon || throw(ArgumentError("reducing an array of tuples or structs along `dims` is not supported by jlhlo"))
    init isa _NoInit || return _fold_loop(identity, op, init, x)
    isempty(x) && throw(ArgumentError("reducing over an empty collection is not allowed; consider supplying `init` to the reducer"))
    return _mapreduce_impl(op, x, 1, length(x))
end
function _foldl_first(op, x)
    isempty(x) && throw(ArgumentError("reducing over an empty collection is not allowed; consider supplying `init` to the reducer"))
    v = _reduce_first(op, x[1])
    for i in 2:length(x)
        v = op(v, x[i])
    end
    return v
end
_reduce_init(op, x, dims, init) = _reduce_init(op, x, dims, init, Nothing)
function _reduce_init(op, x, dims, init, wrap_to)
    eltype(x) <: Number || return _reduce_elements(op, x, dims, init)
    init isa _NoInit && return _wrapped(_reduce(op, x, dims), wrap_to)
    y = _as_eltype(x, promote_type(typeof(init), eltype(x)))     # Base folds from init in its type:
    if dims isa Colon                                             # sum(Float32s; init=0.0) adds in Float64
        isempty(y) && return init
        return op(init, _wrapped(_reduce(op, y, dims), wrap_to))
    end
    _count_over(y, dims) == 0 && return fill(init, _reduced_size(y, dims))
    return map(r -> convert(typeof(init), op(init, r)), _wrapped(_reduce(op, y, dims), wrap_to))
end
_as_eltype(x, ::Type{T}) where {T} = eltype(x) == T ? x : map(v -> convert(T, v), x)
_reduced_size(x, dims) = ntuple(i -> _in_dims(i, dims) ? 1 : size(x, i), ndims(x))
_in_dims(i, d::Integer) = i == d
_in_dims(i, ds::Tuple) = i in ds
# a small integer sum (or product) computed in 64 bits, wrapped back as Julia's own arithmetic does
_wrapped(r, ::Type) = r
_wrapped(r, ::Type{Int8}) = _wrap_signed(r, Int8, 8)
_wrapped(r, ::Type{Int16}) = _wrap_signed(r, Int16, 16)
_wrapped(r, ::Type{Int32}) = _wrap_signed(r, Int32, 32)
_wrapped(r, ::Type{UInt8}) = _wrap_unsigned(r, UInt8, 0xff)
_wrapped(r, ::Type{UInt16}) = _wrap_unsigned(r, UInt16, 0xffff)
_wrapped(r, ::Type{UInt32}) = _wrap_unsigned(r, UInt32, 0xffffffff)
_wrap_signed(r::Integer, T, bits) = (w = r & ((1 << bits) - 1); T(w >= (1 << (bits - 1)) ? w - (1 << bits) : w))
_wrap_signed(r::AbstractArray, T, bits) = map(v -> _wrap_signed(v, T, bits), r)
_wrap_unsigned(r::Integer, T, m) = T(r & m)
_wrap_unsigned(r::AbstractArray, T, m) = map(v -> _wrap_unsigned(v, T, m), r)

broadcast(f, xs...) = f.(xs...)
identity(x) = x

# ---- elementwise helpers
abs2(x::Real) = x * x
abs2(z::Complex) = real(z)^2 + imag(z)^2
clamp(x::Real, lo::Real, hi::Real) = _clamp(promote(x, lo, hi)...)
_clamp(x, lo, hi) = ifelse(x > hi, hi, ifelse(x < lo, lo, x))     # Base's order: lo wins over hi
# an integer clamped between constants is known to lie between them (an index `h[clamp(k, 1, n)]`
# needs no bounds check): `_within` records what the selects above cannot tell
_clamp(x::Integer, lo::Integer, hi::Integer) = _within(ifelse(x > hi, hi, ifelse(x < lo, lo, x)), lo, hi)
square(x) = x * x
cube(x) = x * x * x
inv(x::Number) = one(x) / x
log2(x::Real) = _log_base(float(x), 2)
log10(x::Real) = _log_base(float(x), 10)
# Julia's log2/log10 are exact where the answer is an integer (log10(1000.0) == 3.0, so that
# floor(Int, log10(x)) counts digits); the quotient of two rounded logarithms can miss it by an
# ulp or two (2.9999999999999996). Snapping to an integer within 2 ulps of it stays within Julia's
# own accuracy elsewhere.
function _log_base(x, b)
    y = log(x) / log(oftype(x, b))
    k = round(y)
    return abs(y - k) <= 2 * eps(k) ? k : y
end
# XLA's pow is exact at integer exponents and within an ulp elsewhere; exp(x * log(10)) is not
exp2(x::Real) = oftype(float(x), 2)^float(x)
exp10(x::Real) = oftype(float(x), 10)^float(x)
# sinh: expm1 keeps the leading term for small |x| ((exp(x) - exp(-x)) / 2 lost 8 digits at 1e-10);
# sinh and cosh: exp(|x|/2)^2 / 2 stays finite up to where the result itself overflows
sinh(x::Real) = _sinh(float(x))
# (in x itself, not |x|, where it can: through abs reverse mode would give sinh'(0) = 0)
function _sinh(x)
    a = abs(x)
    h = exp(a / 2)
    return a < 1 ? (expm1(x) - expm1(-x)) / 2 : a < log(floatmax(a)) - 1 ? (exp(x) - exp(-x)) / 2 :
           copysign((h / 2) * h, x)
end
cosh(x::Real) = _cosh(abs(float(x)))
_cosh(a) = a < log(floatmax(a)) - 1 ? (exp(a) + exp(-a)) / 2 : (e = exp(a / 2); (e / 2) * e)
sigmoid_stable(x) = one(x) / (one(x) + exp(-x))
# Inverse trigonometric and hyperbolic functions, with Julia's DomainErrors. asin and acos through
# atan(y, x) of the point on the unit circle: (1 - x)(1 + x) keeps 1 - x^2 exact-ish near |x| = 1.
asin(x::Real) = _asin(float(x))
function _asin(x)
    abs(x) > 1 && throw(DomainError(x, "asin(x) is not defined for |x| > 1."))
    return atan(x, sqrt((1 - x) * (1 + x)))
end
acos(x::Real) = _acos(float(x))
function _acos(x)
    abs(x) > 1 && throw(DomainError(x, "acos(x) not defined for |x| > 1"))
    return atan(sqrt((1 - x) * (1 + x)), x)
end
# asinh, acosh and atanh by the ranges of fdlibm's methods: log1p where the result is small,
# log(2x) + ... where x^2 would overflow
asinh(x::Real) = _asinh(float(x))
function _asinh(x)
    a = abs(x)
    t = x * x
    w = a < 2 ? log1p(a + t / (1 + sqrt(1 + t))) :
        a < 2.0^28 ? log(2a + 1 / (sqrt(t + 1) + a)) : log(a) + log(oftype(a, 2))
    return isfinite(x) && a >= 2.0^-28 ? copysign(w, x) : x      # x itself near 0: asinh'(0) = 1
end
acosh(x::Real) = _acosh(float(x))
function _acosh(x)
    x < 1 && throw(DomainError(x, "acosh(x) is only defined for x ≥ 1."))
    t = x - 1
    return x < 2 ? log1p(t + sqrt(2t + t * t)) :
           x < 2.0^28 ? log(2x - 1 / (x + sqrt(x * x - 1))) : log(x) + log(oftype(x, 2))
end
atanh(x::Real) = _atanh(float(x))
function _atanh(x)
    a = abs(x)
    a > 1 && throw(DomainError(x, "atanh(x) is only defined for |x| ≤ 1."))
    # near 0 in x itself (through |x| reverse mode would give atanh'(0) = 0)
    return a < 0.5 ? log1p(2x / (1 - x)) / 2 : copysign(log((1 + a) / (1 - a)) / 2, x)
end
sec(x::Real) = 1 / cos(x)
csc(x::Real) = 1 / sin(x)
cot(x::Real) = 1 / tan(x)
sech(x::Real) = 1 / cosh(x)
csch(x::Real) = 1 / sinh(x)
coth(x::Real) = 1 / tanh(x)
asec(x::Real) = acos(1 / float(x))
acsc(x::Real) = asin(1 / float(x))
acot(x::Real) = atan(1 / float(x))
asech(x::Real) = acosh(1 / float(x))
acsch(x::Real) = asinh(1 / float(x))
acoth(x::Real) = atanh(1 / float(x))
sincos(x::Real) = (sin(x), cos(x))
isreal(x::Real) = true
isreal(z::Complex) = iszero(imag(z))
isreal(x::AbstractArray) = all(isreal, x)
# sin(πx) and cos(πx) with Base's reduction: x is split exactly into n/2 + r with |r| ≤ 1/4, so
# integers give exact zeros and half-integers exact ±1 (sin(pi * x) does not); the kernels are
# sin and cos of π·r (Julia uses polynomials there: the last bit may differ)
sinpi(x::Real) = _sinpi(float(x))
cospi(x::Real) = _cospi(float(x))
sincospi(x::Real) = (sinpi(x), cospi(x))
# Base's tanpi: the quotient of the reduced sine and cosine (±Inf at odd halves, signed zeros at
# integers); a Float32 computes in Float64 and rounds once, as Base's wide kernels do
tanpi(x::Integer) = x >= 0 ? (isodd(x) ? -zero(float(x)) : zero(float(x))) :
                             (isodd(x) ? zero(float(x)) : -zero(float(x)))
tanpi(x::Real) = _tanpi(float(x))
_tanpi(x::Float32) = Float32(_tanpi(Float64(x)))
function _tanpi(x)
    a = abs(x)
    isnan(x) && return x
    isinf(x) && throw(DomainError(x, "`tanpi(x)` is only defined for finite `x`."))
    a >= _maxintfloat(typeof(a)) && return copysign(zero(x), x)
    si, co = _sincospi_of_abs(a)
    return (signbit(x) ? -si : si) / co
end
function _sinpi(x)
    a = abs(x)
    isnan(x) && return x
    isinf(x) && throw(DomainError(x, "`x` cannot be infinite."))
    a >= _maxintfloat(typeof(a)) && return copysign(zero(x), x)
    s = _sincospi_of_abs(a)[1]
    return signbit(x) ? -s : s
end
function _cospi(x)
    a = abs(x)
    isnan(x) && return x
    isinf(x) && throw(DomainError(x, "`x` cannot be infinite."))
    a >= _maxintfloat(typeof(a)) && return one(x)
    return _sincospi_of_abs(a)[2]
end
# (sin(πa), cos(πa)) of a finite a ≥ 0 below maxintfloat, from the kernels at r by the quarter turn
# n (Base's sincospi); a zero is +0.0 (zero(r) - s, not -s)
function _sincospi_of_abs(a)
    n, r = _quarter_turns(a)
    s, c = sin(oftype(r, pi) * r), cos(oftype(r, pi) * r)
    return n == 0 ? (s, c) : n == 1 ? (c, zero(r) - s) : n == 2 ? (zero(r) - s, zero(r) - c) : (zero(r) - c, s)
end
# a = n/2 + r with n = round(2a), |r| ≤ 1/4 (exact), n taken mod 4
function _quarter_turns(a)
    n = round(2a)
    return Int64(n) & 3, a - n / 2
end
# Base's constants: π/180 and 180/π computed in the float type (180/Float32(π) is not
# Float32(180/π))
deg2rad(x::Real) = float(x) * (oftype(float(x), pi) / 180)
rad2deg(x::Real) = float(x) * (180 / oftype(float(x), pi))
# Trigonometry in degrees with Base's reduction: the angle is taken mod 360 and reduced to
# |y| ≤ 45 around the nearest multiple of 90, so multiples of 180 give exact zeros and odd
# multiples of 90 exact ±1 (sin(deg2rad(x)) does not), and y is converted to radians in extended
# precision (Base's deg2rad_ext: hi + lo); the kernels are sin(hi) + cos(hi)·lo and
# cos(hi) - sin(hi)·lo (Julia evaluates polynomials there: the last bit may differ).
sind(x::Real) = _sind(float(x))
cosd(x::Real) = _cosd(float(x))
tand(x::Real) = sind(x) / cosd(x)
sincosd(x::Real) = (sind(x), cosd(x))
secd(x::Real) = 1 / cosd(x)
cscd(x::Real) = 1 / sind(x)
cotd(x::Real) = 1 / tand(x)
asind(x::Real) = rad2deg(asin(x))
acosd(x::Real) = rad2deg(acos(x))
atand(y::Real) = rad2deg(atan(y))
atand(y::Real, x::Real) = rad2deg(atan(y, x))
asecd(x::Real) = rad2deg(asec(x))
acscd(x::Real) = rad2deg(acsc(x))
acotd(x::Real) = rad2deg(acot(x))
function _sind(x)
    isinf(x) && throw(DomainError(x, "`sind(x)` is only defined for finite `x`."))
    isnan(x) && return x
    rx = copysign(rem(x, 360), x)
    a = abs(rx)
    return rx == 0 ? rx :
           a < 45 ? _sin_degrees(rx) :
           a <= 135 ? copysign(_cos_degrees(90 - a), rx) :
           a == 180 ? copysign(zero(rx), rx) :
           a < 225 ? _sin_degrees((180 - a) * sign(rx)) :
           a <= 315 ? -copysign(_cos_degrees(270 - a), rx) :
           _sin_degrees(rx - copysign(oftype(rx, 360), rx))
end
function _cosd(x)
    isinf(x) && throw(DomainError(x, "`cosd(x)` is only defined for finite `x`."))
    isnan(x) && return x
    a = abs(rem(x, 360))
    return a <= 45 ? _cos_degrees(a) :
           a < 135 ? _sin_degrees(90 - a) :
           a <= 225 ? -_cos_degrees(180 - a) :
           a < 315 ? _sin_degrees(a - 270) :
           _cos_degrees(360 - a)
end
function _sin_degrees(y::Float64)
    hi, lo = _deg2rad_ext(y)
    return sin(hi) + cos(hi) * lo
end
function _cos_degrees(y::Float64)
    hi, lo = _deg2rad_ext(y)
    return cos(hi) - sin(hi) * lo
end
_sin_degrees(y::Float32) = Float32(sin(deg2rad(Float64(y))))
_cos_degrees(y::Float32) = Float32(cos(deg2rad(Float64(y))))
# y·π/180 as hi + lo: Dekker's split of y times π/180 split in two
function _deg2rad_ext(y::Float64)
    m, m_hi, m_lo = 0.017453292519943295, 0.01745329238474369, 1.3519960527851425e-10
    u = 134217729.0 * y
    y_hi = u - (u - y)
    y_lo = y - y_hi
    hi = m * y
    return hi, y_hi * m_lo + (y_lo * m_hi + ((y_hi * m_hi - hi) + y_lo * m_lo))
end
# sinc(x) = sin(πx)/(πx), 1 at 0, and Base's Taylor polynomial near 0
sinc(x::Real) = _sinc(float(x))
function _sinc(x::T) where {T<:AbstractFloat}
    p = T(pi)
    return abs(x) < _sinc_threshold(T) ? evalpoly(x^2, (one(T), -p^2 / 6, p^4 / 120)) :
           isinf(x) ? zero(x) : sinpi(x) / (p * x)
end
_sinc_threshold(::Type{Float64}) = 0.001
_sinc_threshold(::Type{Float32}) = 0.05f0
# scaled by the larger magnitude, so hypot(1e200, 1e200) does not overflow; Inf wins over NaN
hypot(x::Real, y::Real) = _hypot(promote(abs(float(x)), abs(float(y)))...)
function _hypot(x, y)
    m = max(x, y)
    a, b = x / m, y / m
    h = (iszero(m) | isnan(m)) ? m : m * sqrt(a * a + b * b)
    return (isinf(x) | isinf(y)) ? oftype(m, Inf) : h
end
oftype(x, y) = convert(typeof(x), y)
# x % T: x wrapped around to T's bits (Bool: the lowest bit)
rem(x::Integer, ::Type{T}) where {T<:Integer} = unsafe_trunc(T, x)
rem(x::Integer, ::Type{Bool}) = isodd(x)
%(x::Integer, ::Type{T}) where {T<:Integer} = rem(x, T)
copysign(x::Real, y::Real) = signbit(y) ? -abs(x) : abs(x)
flipsign(x::Real, y::Real) = signbit(y) ? -x : x
# rounding to `digits` after the point (or `sigdigits` significant ones), in base `base`, as Julia's
round(x::Real; digits=nothing, sigdigits=nothing, base=10) = _to_digits(_round, x, digits, sigdigits, base)
floor(x::Real; digits=nothing, sigdigits=nothing, base=10) = _to_digits(_floor, x, digits, sigdigits, base)
ceil(x::Real; digits=nothing, sigdigits=nothing, base=10) = _to_digits(_ceil, x, digits, sigdigits, base)
trunc(x::Real; digits=nothing, sigdigits=nothing, base=10) = _to_digits(_trunc, x, digits, sigdigits, base)
# rounding modes, as the second argument of round and div (Julia's RoundingMode{:Down}() and so on;
# Base's rounding.jl and floatfuncs.jl)
abstract type _RoundingMode end
abstract type _RoundToNearest <: _RoundingMode end
struct _RoundNearest <: _RoundToNearest end
struct _RoundNearestTiesAway <: _RoundToNearest end
struct _RoundNearestTiesUp <: _RoundToNearest end
struct _RoundDown <: _RoundingMode end
struct _RoundUp <: _RoundingMode end
struct _RoundToZero <: _RoundingMode end
struct _RoundFromZero <: _RoundingMode end
const RoundNearest = _RoundNearest()
const RoundNearestTiesAway = _RoundNearestTiesAway()
const RoundNearestTiesUp = _RoundNearestTiesUp()
const RoundDown = _RoundDown()
const RoundUp = _RoundUp()
const RoundToZero = _RoundToZero()
const RoundFromZero = _RoundFromZero()
_rounder(::_RoundNearest) = round
_rounder(::_RoundNearestTiesAway) = _round_ties_away
_rounder(::_RoundNearestTiesUp) = _round_ties_up
_rounder(::_RoundDown) = floor
_rounder(::_RoundUp) = ceil
_rounder(::_RoundToZero) = trunc
_rounder(::_RoundFromZero) = _round_from_zero
round(x::Real, r::_RoundingMode; kws...) = _rounder(r)(x; kws...)
round(::Type{T}, x::Real, r::_RoundingMode) where {T<:Integer} = T(_rounder(r)(x))
_round_ties_away(x::Real; digits=nothing, sigdigits=nothing, base=10) = _to_digits(_ties_away, x, digits, sigdigits, base)
_round_ties_up(x::Real; digits=nothing, sigdigits=nothing, base=10) = _to_digits(_ties_up, x, digits, sigdigits, base)
_round_from_zero(x::Real; digits=nothing, sigdigits=nothing, base=10) = _to_digits(_from_zero, x, digits, sigdigits, base)
_ties_away(x::Integer) = x
_ties_up(x::Integer) = x
_from_zero(x::Integer) = x
# Base's formulas, so that every float rounds as Julia's does (C's round; Java's)
_ties_away(x::AbstractFloat) = (y = trunc(x); ifelse(x == y, y, trunc(2 * x - y)))
_ties_up(x::T) where {T<:AbstractFloat} = copysign(floor((x + (T(0.25) - eps(T(0.5)))) + (T(0.25) + eps(T(0.5)))), x)
_from_zero(x::AbstractFloat) = signbit(x) ? floor(x) : ceil(x)
# division rounded by a mode (div.jl); the remainder that goes with it is x - y * div(x, y, r)
div(a::Integer, b::Integer, ::_RoundDown) = fld(a, b)
div(a::Integer, b::Integer, ::_RoundUp) = cld(a, b)
div(a::Integer, b::Integer, ::_RoundToZero) = div(a, b)
div(x::Integer, y::Integer, ::_RoundFromZero) = signbit(x) == signbit(y) ? div(x, y, RoundUp) : div(x, y, RoundDown)
div(x::Integer, y::Integer, r::_RoundToNearest) = divrem(x, y, r)[1]
rem(x::Real, y::Real, ::_RoundToZero) = rem(x, y)
rem(x::Real, y::Real, ::_RoundDown) = mod(x, y)
rem(x::Real, y::Real, ::_RoundUp) = mod(x, -y)
rem(x::Real, y::Real, ::_RoundFromZero) = signbit(x) == signbit(y) ? rem(x, y, RoundUp) : rem(x, y, RoundDown)
rem(x::Integer, y::Integer, r::_RoundToNearest) = divrem(x, y, r)[2]
divrem(x, y, r::_RoundingMode) = (div(x, y, r), rem(x, y, r))
divrem(x::Integer, y::Integer, r::_RoundToNearest) = _divrem_nearest(promote(x, y)..., r)
# Base's divrem to the nearest integer: the truncated quotient, moved by one where the remainder
# is more than half the divisor, or exactly half and the mode breaks the tie that way
_tie_moves(::_RoundNearest, y, q, same_signs) = isodd(y) | iseven(q)
_tie_moves(::_RoundNearestTiesAway, y, q, same_signs) = isodd(y)
_tie_moves(::_RoundNearestTiesUp, y, q, same_signs) = same_signs ? isodd(y) : true
function _divrem_nearest(x::T, y::T, r) where {T<:Integer}
    q, m = divrem(x, y)
    if x >= 0
        if y >= 0
            return m >= (y ÷ 2) + _tie_moves(r, y, q, true) ? (q + true, m - y) : (q, m)
        end
        return m >= -(y ÷ 2) + _tie_moves(r, y, q, false) ? (q - true, m + y) : (q, m)
    end
    if y >= 0
        return m <= -signed(y ÷ 2) - _tie_moves(r, y, q, false) ? (q - true, m + y) : (q, m)
    end
    return m <= (y ÷ 2) - _tie_moves(r, y, q, true) ? (q + true, m - y) : (q, m)
end
# floats: the quotient of x less the remainder, an exact multiple of y, so fld(6.0, 0.1) is 59.0
# although 6.0 / 0.1 rounds to 60.0 (the rounding modes to nearest are not supported for floats:
# Base computes them with the IEEE remainder)
div(x::T, y::T, r::_RoundDown) where {T<:AbstractFloat} = round((x - rem(x, y, r)) / y)
div(x::T, y::T, r::_RoundUp) where {T<:AbstractFloat} = round((x - rem(x, y, r)) / y)
div(x::T, y::T, r::_RoundToZero) where {T<:AbstractFloat} = div(x, y)
div(x::T, y::T, r::_RoundFromZero) where {T<:AbstractFloat} = round((x - rem(x, y, r)) / y)
div(x::Integer, y::AbstractFloat, r::_RoundingMode) = div(promote(x, y)..., r)
div(x::AbstractFloat, y::Integer, r::_RoundingMode) = div(promote(x, y)..., r)
fld(x::T, y::T) where {T<:AbstractFloat} = div(x, y, RoundDown)
cld(x::T, y::T) where {T<:AbstractFloat} = div(x, y, RoundUp)
fld(x::Real, y::Real) = fld(promote(x, y)...)
cld(x::Real, y::Real) = cld(promote(x, y)...)
function _to_digits(r, x, digits, sigdigits, base)
    digits === nothing && sigdigits === nothing && return r(x)
    fx = float(x)
    d = sigdigits === nothing ? digits : sigdigits - _hidigit(fx, base)
    if d >= 0
        invstep = oftype(fx, base)^d
        y = r(fx * invstep) / invstep
    else
        step = oftype(fx, base)^(-d)
        y = r(fx / step) * step
    end
    return isfinite(y) ? y : fx
end
_hidigit(x, base) = iszero(x) ? 0 : 1 + floor(Int, base == 10 ? log10(abs(x)) : log(abs(x)) / log(oftype(x, base)))
iszero(x::Number) = x == zero(x)
eps() = eps(Float64)
# Base's Horner rule: from the last coefficient, each step one muladd
# partial application, Julia's Base.Fix2: `count(>(0), x)`, `findall(==(k), v)`
==(x) = y -> y == x
!=(x) = y -> y != x
<(x) = y -> y < x
<=(x) = y -> y <= x
>(x) = y -> y > x
>=(x) = y -> y >= x
isequal(x) = y -> isequal(y, x)
in(itr) = y -> y in itr
# `x in collection` compares with ==, as Julia's (NaN is in nothing; 0.0 in [-0.0])
in(x, itr::AbstractArray) = any(y -> y == x, itr)
in(x, t::Tuple) = _foldl(|, map(y -> y == x, t))
∉(x, itr) = !(x in itr)
first(v::AbstractVector, n::Integer) = (n < 0 && throw(ArgumentError("Number of elements must be non-negative"));
                                         v[1:min(n, length(v))])
last(v::AbstractVector, n::Integer) = (n < 0 && throw(ArgumentError("Number of elements must be non-negative"));
                                        v[max(1, length(v) - n + 1):end])
# issorted with by/lt: no element is less than the one before it
function issorted(v::AbstractVector; lt=isless, by=identity, rev::Bool=false)
    k = map(by, v)
    return rev ? !any(lt.(k[1:end-1], k[2:end])) : !any(lt.(k[2:end], k[1:end-1]))
end
falses(dims::Integer...) = fill(false, dims...)
trues(dims::Integer...) = fill(true, dims...)
isinteger(x::Integer) = true
isinteger(x::AbstractFloat) = x - trunc(x) == 0          # false for Inf and NaN
extrema(t::Tuple) = (minimum(t), maximum(t))
evalpoly(x, p::Tuple) = _evalpoly(x, p)
evalpoly(x, p::AbstractVector) = _evalpoly(x, p)
function _evalpoly(x, p)
    ex = p[end]
    for i in length(p)-1:-1:1
        ex = muladd(x, ex, p[i])
    end
    return ex
end
mod1(x::Real, y::Real) = _mod1(promote(x, y)...)
_mod1(x, y) = (m = mod(x, y); ifelse(m == 0, y, m))
fld1(x::Real, y::Real) = _fld1(promote(x, y)...)
_fld1(x, y) = (m = _mod1(x, y); fld(x - m, y) + 1)
fldmod1(x::Real, y::Real) = (fld1(x, y), mod1(x, y))
log(b::Real, x::Real) = log(float(x)) / log(float(b))
# the smallest (largest) power of a not below (above) x; log's rounding can miss by one either way
function nextpow(a::Real, x::Real)
    x <= 0 && throw(DomainError(x, "`x` must be positive."))
    a <= 1 && throw(DomainError(a, "`a` must be greater than 1."))
    x <= 1 && return one(a)
    n = ceil(Int, log(a, x))
    p = a^(n - 1)
    p >= x && return p
    wp = a^n
    wp >= x && return wp
    return a^(n + 1)
end
function prevpow(a::Real, x::Real)
    x < 1 && throw(DomainError(x, "`x` must be ≥ 1."))
    a <= 1 && throw(DomainError(a, "`a` must be greater than 1."))
    n = floor(Int, log(a, x))
    wp = a^(n + 1)
    wp <= x && return wp
    p = a^n
    p <= x && return p
    return a^(n - 1)
end
# Base: the float square root, corrected by one Newton step (the conversion may have rounded up)
function isqrt(x::Integer)
    x == 0 && return x
    s = oftype(x, trunc(sqrt(x)))
    s = (s + div(x, s)) >> 1
    return s * s > x ? s - 1 : s
end
isone(x::Number) = x == one(x)
iseven(n::Integer) = n % 2 == 0
isodd(n::Integer) = n % 2 != 0
# Base's definitions: `div(a - mod(a, b), b)` and `-fld(-a, b)` would overflow near typemin
fld(a::Integer, b::Integer) = _fld(promote(a, b)...)
_fld(a, b) = (d = div(a, b); d - (signbit(a ⊻ b) & (d * b != a)))
cld(a::Integer, b::Integer) = _cld(promote(a, b)...)
_cld(a, b) = (d = div(a, b); d + (((a > 0) == (b > 0)) & (d * b != a)))
fld(a::Bool, b::Bool) = div(a, b)
cld(a::Bool, b::Bool) = div(a, b)
divrem(a, b) = (div(a, b), rem(a, b))
fldmod(a, b) = (fld(a, b), mod(a, b))
# Base's isapprox: equal values (Inf ≈ Inf) or finite ones within max(atol, rtol * the larger size);
# rtol defaults to sqrt(eps) of the float types involved, and to 0 when atol > 0 or for integers
_rtol(::Type{T}) where {T<:AbstractFloat} = sqrt(eps(T))
_rtol(::Type{T}) where {T<:Real} = 0
_rtoldefault(S, T, atol) = atol > 0 ? 0 : max(_rtol(S), _rtol(T))
isapprox(a::Real, b::Real; atol=0, rtol=_rtoldefault(typeof(a), typeof(b), atol), nans=false) =
    a == b || (isfinite(a) && isfinite(b) && abs(a - b) <= max(atol, rtol * max(abs(a), abs(b)))) ||
        (nans && isnan(a) && isnan(b))
function isapprox(x::AbstractArray, y::AbstractArray; atol=0, rtol=_rtoldefault(eltype(x), eltype(y), atol),
                  nans=false)
    d = norm(x - y)
    if isfinite(d)
        return iszero(rtol) ? d <= atol : d <= max(atol, rtol * max(norm(x), norm(y)))
    end
    return all(isapprox.(x, y; atol=atol, rtol=rtol, nans=nans))     # element by element, as Base falls back
end
≈(a, b) = isapprox(a, b)
\(x::Number, y::Number) = y / x
max(x::Real) = x
min(x::Real) = x
*(x::Number) = x
# the in-place forms of map, broadcast, sort and reverse: the result written into the array
map!(f, dest::AbstractArray, xs::AbstractArray...) = (dest .= map(f, xs...); dest)
broadcast!(f, dest::AbstractArray, xs...) = (dest .= broadcast(f, xs...); dest)
sort!(v::AbstractVector; kws...) = (v .= sort(v; kws...); v)
reverse!(v::AbstractVector) = (v .= reverse(v); v)
# the linear indices of a matrix's k-th diagonal
function diagind(A::AbstractMatrix, k::Integer=0)
    m, n = size(A)
    start = k >= 0 ? k * m + 1 : 1 - k
    len = k >= 0 ? min(m, n - k) : min(m + k, n)
    return range(start; step=m + 1, length=max(len, 0))
end
function invperm(a::AbstractVector{<:Integer})
    n = length(a)
    b = zero(a)
    for (i, j) in enumerate(a)
        (1 <= j <= n && b[j] == 0) || throw(ArgumentError("argument is not a permutation"))
        b[j] = i
    end
    return b
end
exp(z::Complex) = _exp_complex(real(z), imag(z))
# Base's exp of a complex number (complex.jl): a zero imaginary part stays (exp(Inf + 0im) is Inf + 0im,
# not Inf * (1 + 0im) = Inf + NaN*im), and the infinite and NaN cases of C99's cexp
function _exp_complex(zr, zi)
    if isnan(zr)
        return Complex(zr, zi == 0 ? zi : zr)
    elseif !isfinite(zi)
        zr == Inf && return Complex(-zr, oftype(zr, NaN))
        zr == -Inf && return Complex(-zero(zr), copysign(zero(zi), zi))
        return Complex(oftype(zr, NaN), oftype(zi, NaN))
    end
    er = exp(zr)
    iszero(zi) && return Complex(er, zi)
    return Complex(er * cos(zi), er * sin(zi))
end
abs(z::Complex) = hypot(real(z), imag(z))                   # as Base: no overflow for |z| near floatmax
min(x::Tuple) = _foldl(min, x)

# ---- linear algebra
dot(x::AbstractArray, y::AbstractArray) = sum(conj.(x) .* y)
# BLAS and LinearAlgebra's generic `dot` both sum into a zeroed accumulator (all -0.0 products
# give +0.0), as a row times a column does
dot(x::AbstractArray{<:AbstractFloat}, y::AbstractArray{<:AbstractFloat}) = vec(x)' * vec(y)
dot(x::Number, y::Number) = conj(x) * y
⋅(x::AbstractArray, y::AbstractArray) = dot(x, y)
# LinearAlgebra's norms: scaled by the largest magnitude (no overflow for huge entries, as Julia's)
function norm(x::AbstractArray)
    T = typeof(float(real(zero(eltype(x)))))
    isempty(x) && return zero(T)
    m = convert(T, maximum(abs, x))
    return (iszero(m) | isinf(m)) ? m : m * sqrt(sum(abs2, x ./ m))
end
function norm(x::AbstractArray, p::Real)
    T = typeof(float(real(zero(eltype(x)))))
    isempty(x) && return zero(T)
    if p == 2
        return norm(x)
    elseif p == Inf
        return convert(T, maximum(abs, x))
    elseif p == -Inf
        return convert(T, minimum(abs, x))
    elseif p == 1
        return convert(T, sum(abs, x))
    elseif p == 0
        return convert(T, count(v -> !iszero(v), x))
    end
    m = convert(T, maximum(abs, x))
    (iszero(m) | isinf(m)) && return m
    q = convert(T, p)
    return m * sum((abs.(x) ./ m) .^ q)^(one(T) / q)
end
tr(A::AbstractMatrix) = sum(A[i, i] for i in 1:min(size(A, 1), size(A, 2)))
# extrema(x): unchanged; `dims` would give an array of tuples, which jlhlo arrays cannot hold
# cumsum/cumprod/accumulate of a vector: `dims` accepted; the element type is Base's (cumsum of
# Bools or Int8s is Int64; accumulate(+, [1, 2]; init=0.5) is Float64)
cumsum(x::AbstractVector; dims::Integer=1) = _accumulate_along(+, x, dims, _NoInit(), _sum_first)
cumprod(x::AbstractVector; dims::Integer=1) = _accumulate_along(*, x, dims, _NoInit(), _sum_first)
accumulate(op, x::AbstractVector; dims::Integer=1, init=_NoInit()) =
    _accumulate_along(op, x, dims, init, v -> _reduce_first(op, v))
# binary searches of a sorted vector by isless, as Julia's default order
function searchsortedfirst(v::AbstractVector, x)
    lo, hi = 0, length(v) + 1
    while lo < hi - 1
        m = (lo + hi) >>> 1
        if isless(v[m], x)
            lo = m
        else
            hi = m
        end
    end
    return hi
end
function searchsortedlast(v::AbstractVector, x)
    lo, hi = 0, length(v) + 1
    while lo < hi - 1
        m = (lo + hi) >>> 1
        if isless(x, v[m])
            hi = m
        else
            lo = m
        end
    end
    return lo
end
# diff of a vector with `dims`
diff(x::AbstractVector; dims::Integer=1) =
    dims == 1 ? x[2:end] .- x[1:end-1] : throw(ArgumentError("dimension $dims out of range (1:1)"))

# ---- softmax family (NNlib semantics: `dims` defaults to 1). The shift by the maximum cancels in
# the result, and NNlib's and LogExpFunctions' derivative rules (what Zygote uses) leave it out:
# so does reverse mode here (`_stop_gradient`), instead of a mask where the maximum is.
function softmax(x::AbstractArray; dims=1)
    e = exp.(x .- _stop_gradient(maximum(x; dims=dims)))
    return e ./ sum(e; dims=dims)
end
function logsoftmax(x::AbstractArray; dims=1)
    s = x .- _stop_gradient(maximum(x; dims=dims))
    return s .- log.(sum(exp.(s); dims=dims))
end
function logsumexp(x::AbstractArray; dims=:)
    m = _stop_gradient(maximum(x; dims=dims))
    return m .+ log.(sum(exp.(x .- m); dims=dims))
end

# ---- searching: findmax/findmin of the whole array or along dims find the first element isequal to
# the extremum (Julia's isless order: NaN the largest, -0.0 < 0.0; within a slice, iteration order is
# increasing linear index). An index into an array of several dimensions is a CartesianIndex, as
# Julia's `keys` of one are
findmax(x::AbstractArray; dims=:) = _first_hit(x, maximum(x; dims=dims), dims)
findmin(x::AbstractArray; dims=:) = _first_hit(x, minimum(x; dims=dims), dims)
function _first_hit(x, m, dims)
    k = minimum(ifelse.(isequal.(x, m), _linear_indices(x), length(x) + 1); dims=dims)
    return (m, dims isa Colon ? _key(x, k) : map(j -> CartesianIndex(_cartesian(size(x), j - 1)), k))
end
_key(x::AbstractVector, k) = k
_key(x::AbstractArray, k) = CartesianIndex(_cartesian(size(x), k - 1))
_cartesian(dims::Tuple{Int}, k) = (k + 1,)
_cartesian(dims::Tuple, k) = (k % first(dims) + 1, _cartesian(Base.tail(dims), k ÷ first(dims))...)
struct CartesianIndex{N}
    I::NTuple{N,Int}
end
CartesianIndex(i::Integer, rest::Integer...) = CartesianIndex((Int(i), map(Int, rest)...))
getindex(c::CartesianIndex, k::Integer) = c.I[k]
Tuple(c::CartesianIndex) = c.I
length(c::CartesianIndex{N}) where {N} = N
argmax(x::AbstractArray; dims=:) = findmax(x; dims=dims)[2]
argmin(x::AbstractArray; dims=:) = findmin(x; dims=dims)[2]
# with a function: findmax(f, A) is (f(A[k]), k) for the first largest f(A[k]); argmax(f, A) is A[k]
findmax(f, x::AbstractArray) = findmax(_broadcast_map(f, x))
findmin(f, x::AbstractArray) = findmin(_broadcast_map(f, x))
argmax(f, x::AbstractArray) = x[findmax(f, x)[2]]
argmin(f, x::AbstractArray) = x[findmin(f, x)[2]]
# `nothing` where no element qualifies: the result is a Union{Nothing, Int64} (frontend/unions.py)
function findnext(p::Function, x::AbstractVector, start::Integer)
    for i in start:lastindex(x)
        p(x[i]) && return i
    end
    return nothing
end
function findprev(p::Function, x::AbstractVector, start::Integer)
    for i in start:-1:firstindex(x)
        p(x[i]) && return i
    end
    return nothing
end
findfirst(p::Function, x::AbstractVector) = findnext(p, x, firstindex(x))
findlast(p::Function, x::AbstractVector) = findprev(p, x, lastindex(x))
findnext(x::AbstractVector{Bool}, start::Integer) = findnext(identity, x, start)
findprev(x::AbstractVector{Bool}, start::Integer) = findprev(identity, x, start)
findfirst(x::AbstractVector{Bool}) = findfirst(identity, x)
findlast(x::AbstractVector{Bool}) = findlast(identity, x)
isnothing(x) = x === nothing
something(x::Nothing, rest...) = something(rest...)
something(x, rest...) = x
something() = throw(ArgumentError("No value arguments present"))

# ---- rearranging
circshift(v::AbstractVector, k::Integer) = v[mod.(_linear_indices(v) .- 1 .- k, length(v)) .+ 1]
repeat(v::AbstractVector, n::Integer) = vcat(ntuple(_ -> v, n)...)
# each element `inner` times, then the whole `outer` times
repeat(v::AbstractVector; inner::Integer=1, outer::Integer=1) = repeat(vec(permutedims(hcat(ntuple(_ -> v, inner)...))), outer)
repeat(x::AbstractMatrix, m::Integer, n::Integer) = hcat(ntuple(_ -> vcat(ntuple(_ -> x, m)...), n)...)
kron(a::AbstractVector, b::AbstractVector) = vec(b .* transpose(a))
kron(A::AbstractMatrix, B::AbstractMatrix) =
    reshape(reshape(B, size(B, 1), 1, size(B, 2), 1) .* reshape(A, 1, size(A, 1), 1, size(A, 2)),
            size(A, 1) * size(B, 1), size(A, 2) * size(B, 2))

# ---- LinearAlgebra's identity `I` (a scaled identity of any square size; arithmetic in primitives.py)
struct UniformScaling{T<:Number}
    λ::T
end
const I = UniformScaling(true)

# ---- Ref: a box around one value, `r[]` reads it and `r[] = v` replaces a number in it;
# broadcasting treats it as a scalar (`f.(xs, Ref(table))`)
mutable struct RefValue{T}
    x::T
end
Ref(x) = RefValue(x)

# ---- Complex(re, im): jlhlo has ComplexF32 and ComplexF64 only (no Complex{Int})
Complex(re::AbstractFloat, im::AbstractFloat) = complex(re, im)
Complex(re::AbstractFloat) = complex(re)

# ---- Val: a value as a type parameter, for dispatch on constants (`f(::Val{N}) where {N}`)
struct Val{x} end
Val(x) = Val{x}()
ntuple(f, ::Val{N}) where {N} = ntuple(f, N)

# ---- function composition
∘(f, g) = (xs...) -> f(g(xs...))

# ---- float ranges with run-time ends (frontend/ranges.py decides constant ones the same way):
# Base's `(:)(start, step, stop)`. When all three are exact decimals, the elements are the exact
# (start_n + k*step_n) / den; otherwise start and step are taken literally (den == 0).
function _float_range_plan(start::T, step::T, stop::T) where {T<:AbstractFloat}
    step_n, step_d = _rat(step)
    if step_d != 0 && T(step_n / step_d) == step
        start_n, start_d = _rat(start)
        stop_n, stop_d = _rat(stop)
        if start_d != 0 && stop_d != 0 && T(start_n / start_d) == start && T(stop_n / stop_d) == stop
            den = lcm(start_d, step_d)
            m = _maxintfloat(T)
            if den != 0 && abs(start * den) <= m && abs(step * den) <= m && rem(den, start_d) == 0 &&
                    rem(den, step_d) == 0
                a_n = round(Int, start * den)
                s_n = round(Int, step * den)
                len = max(0, div(den * stop_n - stop_d * a_n + s_n * stop_d, s_n * stop_d))
                if _isbetween(start, start + (len - 1) * step, stop + step / 2) &&
                        !_isbetween(start, start + len * step, stop)
                    return (len, a_n, s_n, den)
                end
            end
        end
    end
    lf = (stop - start) / step
    len = 0
    if lf == 0
        len = 1
    elseif lf > 0
        len = round(Int, lf) + 1
        last = start + (len - 1) * step
        len -= (start < stop < last) + (start > stop > last)
    end
    return (len, 0, 0, 0)
end
_isbetween(a, x, b) = a <= x <= b || b <= x <= a
_maxintfloat(::Type{Float64}) = 9.007199254740992e15
_maxintfloat(::Type{Float32}) = 1.6777216f7
_maxintfloat(::Type{Float16}) = Float16(2048)
_narrow_maxint(::Type{Float64}) = 16777216.0
_narrow_maxint(::Type{Float32}) = 2048.0f0
_narrow_maxint(::Type{Float16}) = Float16(2048)
# Base.rat: a continued-fraction approximation num/den of x
function _rat(x::T) where {T<:AbstractFloat}
    y = x
    a = 1
    d = 1
    b = 0
    c = 0
    m = _narrow_maxint(T)
    while abs(y) <= m
        f = trunc(Int, y)
        y -= f
        a, c = f * a + c, a
        b, d = f * b + d, b
        max(abs(a), abs(b)) <= m || return (c, d)
        T(a) / T(b) == x && return (a, b)
        y = inv(y)
    end
    return (a, b)
end
gcd(a::Integer, b::Integer) = _gcd(abs(a), abs(b))
function _gcd(a, b)
    while b != 0
        a, b = b, rem(a, b)
    end
    return a
end
lcm(a::Integer, b::Integer) = (a == 0 || b == 0) ? zero(a) : abs(div(a, gcd(a, b)) * b)
# Base's algorithm, with its OverflowError; x * nn / rr is computed as (x / g) * (nn / (rr / g)),
# g = gcd(x, rr), which is exact (rr divides x * nn) and overflows only where the result does
function binomial(n::T, k::T) where {T<:Integer}
    n0, k0 = n, k
    k < 0 && return zero(T)
    sgn = one(T)
    if n < 0
        n = -n + k - one(T)
        if isodd(k)
            sgn = -sgn
        end
    end
    k > n && return zero(T)
    (k == 0 || k == n) && return sgn
    k == 1 && return sgn * n
    if k > (n >> 1)
        k = n - k
    end
    x = nn = n - k + one(T)
    nn += one(T)
    rr = T(2)
    while rr <= k
        g = gcd(x, rr)
        a, b = div(x, g), div(nn, div(rr, g))
        x = a * b
        (a != 0 && div(x, a) != b) && throw(OverflowError("binomial($n0, $k0) overflows"))
        rr += one(T)
        nn += one(T)
    end
    return copysign(x, sgn)
end
binomial(n::Integer, k::Integer) = binomial(promote(n, k)...)

# ---- `undef`, for `Vector{T}(undef, n)` (the constructors are `_array_constructor` in primitives.py)
struct UndefInitializer end
const undef = UndefInitializer()

# ---- LinearAlgebra's triangular parts: (i, j) is on or below the k-th diagonal when j <= i + k
_on_or_below(A, k) = (collect(1:size(A, 1)) .+ k) .>= permutedims(collect(1:size(A, 2)))
_on_or_above(A, k) = (collect(1:size(A, 1)) .+ k) .<= permutedims(collect(1:size(A, 2)))
tril(A::AbstractMatrix, k::Integer=0) = ifelse.(_on_or_below(A, k), A, zero(eltype(A)))
triu(A::AbstractMatrix, k::Integer=0) = ifelse.(_on_or_above(A, k), A, zero(eltype(A)))
istril(A::AbstractMatrix, k::Integer=0) = all(ifelse.(_on_or_below(A, k), true, iszero.(A)))
istriu(A::AbstractMatrix, k::Integer=0) = all(ifelse.(_on_or_above(A, k), true, iszero.(A)))

# x^p of integers unless p is a constant below 64 (scalars.py `_power`): Base's power_by_squaring,
# whose products wrap around for any p (scalars.py `_nonnegative_power`); a negative p only for x = ±1
function _integer_power(x::Integer, p::Integer)
    if p < 0
        isone(x) && return x
        x == -1 && return iseven(p) ? one(x) : x
        throw(DomainError(p, "Cannot raise an integer x to a negative power."))
    end
    return _nonnegative_power(x, p)
end

# ---- integers: reinterpreted between signed and unsigned (Base's int.jl), powers of two
signed(x::Signed) = x
signed(x::UInt8) = reinterpret(Int8, x)
signed(x::UInt16) = reinterpret(Int16, x)
signed(x::UInt32) = reinterpret(Int32, x)
signed(x::UInt64) = reinterpret(Int64, x)
unsigned(x::Unsigned) = x
unsigned(x::Int8) = reinterpret(UInt8, x)
unsigned(x::Int16) = reinterpret(UInt16, x)
unsigned(x::Int32) = reinterpret(UInt32, x)
unsigned(x::Int64) = reinterpret(UInt64, x)
ispow2(x::Integer) = x > 0 && count_ones(x) == 1

# ---- Base's unchecked indexing is indexing here (checked: an index outside the array is a
# BoundsError where Julia's behaviour is undefined); no value jlhlo represents is `missing`
unsafe_getindex(A::AbstractArray, I...) = A[I...]
ismissing(x) = false
# what `A[I...] = v` calls, for code that calls it by name; it returns A
function setindex!(A::AbstractArray, v, I...)
    A[I...] = v
    return A
end

# ---- the parts of a float, from its bits (Base's math.jl): exponent, significand, frexp, ldexp
_sign_mask(::Type{Float64}) = 0x8000000000000000
_sign_mask(::Type{Float32}) = 0x80000000
_exponent_mask(::Type{Float64}) = 0x7ff0000000000000
_exponent_mask(::Type{Float32}) = 0x7f800000
_exponent_one(::Type{Float64}) = 0x3ff0000000000000
_exponent_one(::Type{Float32}) = 0x3f800000
_exponent_half(::Type{Float64}) = 0x3fe0000000000000
_exponent_half(::Type{Float32}) = 0x3f000000
_significand_bits(::Type{Float64}) = 52
_significand_bits(::Type{Float32}) = 23
_exponent_bits(::Type{Float64}) = 11
_exponent_bits(::Type{Float32}) = 8
_exponent_bias(::Type{Float64}) = 1023
_exponent_bias(::Type{Float32}) = 127
_unsigned_bits(x::Float64) = reinterpret(UInt64, x)
_unsigned_bits(x::Float32) = reinterpret(UInt32, x)
maxintfloat(::Type{T}) where {T<:AbstractFloat} = _maxintfloat(T)
maxintfloat(x::AbstractFloat) = _maxintfloat(typeof(x))
maxintfloat() = maxintfloat(Float64)
function exponent(x::T) where {T<:Union{Float32,Float64}}
    xs = _unsigned_bits(x) & ~_sign_mask(T)
    xs >= _exponent_mask(T) && throw(DomainError(x, "Cannot be NaN or Inf."))
    k = Int(xs >> _significand_bits(T))
    if k == 0                          # subnormal
        xs == 0 && throw(DomainError(x, "Cannot be ±0.0."))
        k = 1 - (leading_zeros(xs) - _exponent_bits(T))
    end
    return k - _exponent_bias(T)
end
function significand(x::T) where {T<:Union{Float32,Float64}}
    xu = _unsigned_bits(x)
    xs = xu & ~_sign_mask(T)
    xs >= _exponent_mask(T) && return x                     # NaN or Inf
    if xs <= (~_exponent_mask(T) & ~_sign_mask(T))          # subnormal
        xs == 0 && return x                                 # ±0
        xs = xs << (leading_zeros(xs) - _exponent_bits(T))
        xu = xs | (xu & _sign_mask(T))
    end
    return reinterpret(T, (xu & ~_exponent_mask(T)) | _exponent_one(T))
end
function frexp(x::T) where {T<:Union{Float32,Float64}}
    xu = _unsigned_bits(x)
    xs = xu & ~_sign_mask(T)
    xs >= _exponent_mask(T) && return (x, 0)                # NaN or Inf
    k = Int(xs >> _significand_bits(T))
    if k == 0                                               # subnormal
        xs == 0 && return (x, 0)                            # ±0
        m = leading_zeros(xs) - _exponent_bits(T)
        xu = (xs << m) | (xu & _sign_mask(T))
        k = 1 - m
    end
    k -= _exponent_bias(T) - 1
    return (reinterpret(T, (xu & ~_exponent_mask(T)) | _exponent_half(T)), k)
end
function ldexp(x::T, e::Integer) where {T<:Union{Float32,Float64}}
    xu = _unsigned_bits(x)
    xs = xu & ~_sign_mask(T)
    xs >= _exponent_mask(T) && return x                     # NaN or Inf
    k = Int(xs >> _significand_bits(T))
    if k == 0                                               # subnormal
        xs == 0 && return x                                 # ±0
        m = leading_zeros(xs) - _exponent_bits(T)
        xu = (xs << m) | (xu & _sign_mask(T))
        k = 1 - m
        e < -50000 && return flipsign(T(0.0), x)
    end
    k += Int(e)
    k >= 2 * _exponent_bias(T) + 1 && return flipsign(T(Inf), x)           # overflow
    if k > 0
        return reinterpret(T, (xu & ~_exponent_mask(T)) | (oftype(xu, k) << _significand_bits(T)))
    end
    k <= -_significand_bits(T) && return flipsign(T(e > 50000 ? Inf : 0.0), x)   # underflow
    z = reinterpret(T, oftype(xu, _exponent_bias(T) - _significand_bits(T)) << _significand_bits(T))
    return z * reinterpret(T, (xu & ~_exponent_mask(T)) | (oftype(xu, k + _significand_bits(T)) << _significand_bits(T)))
end
frexp(x::Real) = frexp(float(x))
ldexp(x::Real, e::Integer) = ldexp(float(x), e)
exponent(x::Real) = exponent(float(x))
significand(x::Real) = significand(float(x))
# e^(iθ), as Base: the cosine and the sine of θ
cis(x::Real) = Complex(cos(x), sin(x))
# hypot of three or more numbers (Base's _hypot over a tuple): scaled by the largest magnitude
hypot(x::Number, y::Number, zs::Number...) = _hypot_all(float.(promote(x, y, zs...)))
function _hypot_all(t::Tuple)
    maxabs = maximum(abs, t)
    if isnan(maxabs) && any(isinf, t)
        return typeof(maxabs)(Inf)
    elseif iszero(maxabs) || isinf(maxabs)
        return maxabs
    end
    return maxabs * sqrt(sum(v -> abs2(v / maxabs), t))
end
