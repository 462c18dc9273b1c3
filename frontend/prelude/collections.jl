# Base functions over arrays, tuples and ranges that ordinary numeric code uses: sorting
# permutations, rotations, replacement, slices, cumulative operations along `dims`, reductions
# with `init`, in-place variants. Everything here has a result whose size is known when compiling;
# functions whose result size depends on the data (`unique`, `filter`, `findall`) are not defined.
#
# The section "Methods of base.jl with more keywords" at the end REPLACES methods of base.jl that
# have the same signature (this file loads after base.jl, and a later method with the same
# signature replaces an earlier one, as in Julia). Each one is base.jl's method plus the keyword
# Julia also accepts (`init`, `dims`, `by`/`lt`), and for cumsum/cumprod/reduce/accumulate the
# result type Julia gives; they belong in base.jl and should move there.

# ---- minmax: (min, max) by isless; for two floats of one type Julia's `(min(x, y), max(x, y))`
# (a NaN gives (NaN, NaN), and -0.0 is below 0.0)
minmax(x, y) = isless(y, x) ? (y, x) : (x, y)
minmax(x::T, y::T) where {T<:AbstractFloat} = (min(x, y), max(x, y))

# ---- `Colon()`: the value `:` (`A[Colon(), 1]`, `sum(x; dims=Colon())`)
Colon() = (:)

# ---- reductions over tuples: all/any need Bool elements (Julia's TypeError otherwise) and stop
# at the first element that decides; Base's `prod(())` is 1 (it is often the product of no sizes)
all(t::Tuple) = _all_tuple(identity, t)
all(f, t::Tuple) = _all_tuple(f, t)
any(t::Tuple) = _any_tuple(identity, t)
any(f, t::Tuple) = _any_tuple(f, t)
_all_tuple(f, t::Tuple{}) = true
_all_tuple(f, t::Tuple) = f(first(t)) && _all_tuple(f, Base.tail(t))
_any_tuple(f, t::Tuple{}) = false
_any_tuple(f, t::Tuple) = f(first(t)) || _any_tuple(f, Base.tail(t))
prod(x::Tuple{}) = 1

# ---- a range reshaped: its elements as an array (Julia's ReshapedArray reads the same)
reshape(r::AbstractRange, dims...) = reshape(collect(r), dims...)

# ---- rotations of a matrix by quarter turns; `k` counts turns (negative ones turn the other way)
rotl90(A::AbstractMatrix) = reverse(permutedims(A); dims=1)
rotr90(A::AbstractMatrix) = reverse(permutedims(A); dims=2)
rot180(A::AbstractMatrix) = reverse(A; dims=(1, 2))
function rotl90(A::AbstractMatrix, k::Integer)
    m = mod(k, 4)
    return m == 1 ? rotl90(A) : m == 2 ? rot180(A) : m == 3 ? rotr90(A) : copy(A)
end
rotr90(A::AbstractMatrix, k::Integer) = rotl90(A, -k)
rot180(A::AbstractMatrix, k::Integer) = iseven(k) ? copy(A) : rot180(A)

# ---- sortperm: the stable permutation that sorts `v` (equivalent elements keep their index
# order, also with rev=true, which reverses the order and not the result; NaN last by isless).
# Numbers in the default order are one `stablehlo.sort` of (v, indices) (`_argsort`). With `by` or
# `lt`, element i goes to 1 + the number of elements that go before it: those less than it, and the
# equivalent ones at lower indices (every pair compared: n^2 comparisons, run in parallel).
sortperm(v::AbstractVector{<:Real}; by=identity, lt=isless, rev::Bool=false) =
    by === identity && lt === isless && !(eltype(v) === Bool) ? _argsort(v; rev=rev) : _sortperm_pairs(v, by, lt, rev)
sortperm(v::AbstractVector; by=identity, lt=isless, rev::Bool=false) = _sortperm_pairs(v, by, lt, rev)
function _sortperm_pairs(v, by, lt, rev)
    n = length(v)
    k = map(by, v)
    col = reshape(k, n, 1)             # k[i] down the rows
    row = reshape(k, 1, n)             # k[j] across the columns
    j_lt_i = lt.(row, col)             # [i, j]: lt(k[j], k[i])
    i_lt_j = lt.(col, row)             # [i, j]: lt(k[i], k[j])
    goes_before = rev ? i_lt_j : j_lt_i
    goes_after = rev ? j_lt_i : i_lt_j
    earlier = reshape(collect(1:n), 1, n) .< reshape(collect(1:n), n, 1)    # [i, j]: j < i
    before = goes_before .| (.!goes_after .& earlier)
    rank = vec(sum(before; dims=2)) .+ 1
    p = zeros(Int, n)
    p[rank] = 1:n
    return p
end
# `k` an index (one value) or a range (a vector), as `sortperm(v; ...)[k]` and `sort(v; ...)[k]`
partialsortperm(v::AbstractVector, k; by=identity, lt=isless, rev::Bool=false) =
    _partial_index(sortperm(v; by=by, lt=lt, rev=rev), k)
partialsort(v::AbstractVector, k; by=identity, lt=isless, rev::Bool=false) =
    v[partialsortperm(v, k; by=by, lt=lt, rev=rev)]
# sort: real vectors in the default order are one `stablehlo.sort` (`_sort`); with `by` or `lt`,
# and for other elements, the permutation above
sort(v::AbstractVector{<:Real}; by=identity, lt=isless, rev::Bool=false) =
    by === identity && lt === isless ? _sort(v; rev=rev) : v[_sortperm_pairs(v, by, lt, rev)]
sort(v::AbstractVector; by=identity, lt=isless, rev::Bool=false) = v[_sortperm_pairs(v, by, lt, rev)]
# sort(A; dims): each slice along `dims` sorted
sort(A::AbstractMatrix; dims::Integer, by=identity, lt=isless, rev::Bool=false) =
    mapslices(v -> v[sortperm(v; by=by, lt=lt, rev=rev)], A; dims=dims)
_partial_index(p, k::Integer) = p[k]
_partial_index(p, k::AbstractRange{<:Integer}) = p[k]

# ---- replace: each element `isequal` to the first of a pair becomes its second (the first pair
# that matches wins); with `count`, only the first `count` matches in index order. The result's
# element type is `promote_type(eltype(A), types of the new values)`; replace! converts into A.
replace(A::AbstractArray; count=nothing) = copy(A)
function replace(A::AbstractArray, old_new::Pair...; count=nothing)
    T = promote_type(eltype(A), _new_types(old_new...))
    return _replaced(A, old_new, T, count)
end
function replace!(A::AbstractArray, old_new::Pair...; count=nothing)
    A .= _replaced(A, old_new, eltype(A), count)
    return A
end
# `replace(f, A)`: each x becomes f(x), converted to eltype(A); `count` counts f(x) !== x
replace(f::Function, A::AbstractArray; count=nothing) = _replaced_by(f, A, count)
function replace!(f::Function, A::AbstractArray; count=nothing)
    A .= _replaced_by(f, A, count)
    return A
end
_new_types(p::Pair) = typeof(p.second)
_new_types(p::Pair, ps::Pair...) = promote_type(typeof(p.second), _new_types(ps...))
_matches(x, ps::Tuple{}) = false
_matches(x, ps::Tuple) = isequal(x, first(ps).first) || _matches(x, Base.tail(ps))
_replacement(x, ps::Tuple{}, T) = convert(T, x)
_replacement(x, ps::Tuple, T) =
    isequal(x, first(ps).first) ? convert(T, first(ps).second) : _replacement(x, Base.tail(ps), T)
function _replaced(A, ps, T, count)
    new = map(x -> _replacement(x, ps, T), A)
    count === nothing && return new
    hit = map(x -> _matches(x, ps), A)
    return ifelse.(_first_hits(hit, count), new, map(x -> convert(T, x), A))
end
function _replaced_by(f, A, count)
    T = eltype(A)
    new = map(x -> convert(T, f(x)), A)
    count === nothing && return new
    return ifelse.(_first_hits(map(x -> f(x) !== x, A), count), new, A)
end
# the first `count` true elements of `hit` in column-major order
function _first_hits(hit, count::Integer)
    count < 0 && throw(DomainError(count, "`count` must not be negative (got $count)"))
    return hit .& (reshape(cumsum(vec(hit)), size(hit)) .<= count)
end

# ---- in-place variants
# (each value converted to the element type: an Int array clamped to 2.5 is Julia's InexactError)
function clamp!(x::AbstractArray, lo, hi)
    x .= map(v -> convert(eltype(x), clamp(v, lo, hi)), x)
    return x
end
function reverse!(v::AbstractVector, start::Integer, stop::Integer=length(v))
    if stop > start
        1 <= start || throw(BoundsError(v, start))
        stop <= length(v) || throw(BoundsError(v, stop))
    end
    i, j = start, stop
    while i < j
        v[i], v[j] = v[j], v[i]
        i += 1
        j -= 1
    end
    return v
end
function reverse!(A::AbstractArray; dims=:)
    A .= _reverse_dims(A, dims)
    return A
end
_reverse_dims(A, ::Colon) = reverse(A; dims=ntuple(identity, ndims(A)))
_reverse_dims(A, dims) = reverse(A; dims=dims)

# ---- circular shifts of any array: an integer shifts the first dimension, a tuple one per dimension
circshift(A::AbstractArray, k::Integer) = circshift(A, (k,))
circshift(A::AbstractArray, shifts::Tuple) =
    getindex(A, ntuple(d -> _shifted_indices(size(A, d), _shift_of(shifts, d)), ndims(A))...)
_shift_of(shifts, d) = d <= length(shifts) ? shifts[d] : 0
_shifted_indices(n, s) = mod.(collect(0:n-1) .- s, n) .+ 1
function circshift!(dest::AbstractArray, src::AbstractArray, shifts)
    size(dest) == size(src) || throw(ArgumentError("dest and src must have the same size"))
    dest .= map(v -> convert(eltype(dest), v), circshift(src, shifts))
    return dest
end
function circshift!(v::AbstractVector, k::Integer)
    v .= circshift(v, k)
    return v
end

# ---- slices along one dimension: an array of size (pre, n, post) whose middle is dimension d
_split_at(A, d) = reshape(A, prod(size(A)[1:d-1]), size(A, d), prod(size(A)[d+1:end]))
_with_size(sz::Tuple, d, m) = ntuple(i -> i == d ? m : sz[i], length(sz))
_one_dim(d::Integer) = d
_one_dim(d::Tuple{Integer}) = d[1]
_one_dim(d) = throw(ArgumentError("mapslices over several dimensions at once is not supported by jlhlo (dims=$d); give one dimension"))

# mapslices(f, A; dims): f of each slice along `dims` (a vector), giving a number or a vector;
# the results stand along that dimension (a number as a slice of length 1). The element type is
# that of the first result, as Julia's.
function mapslices(f, A::AbstractArray; dims)
    d = _one_dim(dims)
    1 <= d <= ndims(A) || throw(ArgumentError("dims must be in 1:ndims(A) (got $d)"))
    A3 = _split_at(A, d)
    pre = size(A3, 1)
    r1 = _as_slice(f(A3[1, :, 1]))
    R = similar(r1, eltype(r1), (pre, length(r1), size(A3, 3)))
    R[1, :, 1] = r1
    for s in 2:pre * size(A3, 3)          # f once per slice, as Julia's
        p, q = (s - 1) % pre + 1, (s - 1) ÷ pre + 1
        R[p, :, q] = _as_slice(f(A3[p, :, q]))
    end
    return reshape(R, _with_size(size(A), d, length(r1)))
end
_as_slice(r::Number) = fill(r, 1)
_as_slice(r::AbstractVector) = r

# copyto!(dest, do, src, so, n): the n elements from src[so] on into dest[do] on (linear indices)
function copyto!(dest::AbstractArray, doffs::Integer, src::AbstractArray, soffs::Integer, n::Integer)
    n < 0 && throw(ArgumentError("tried to copy n=$n elements, but n should be nonnegative"))
    n > 0 && (1 <= doffs && doffs + n - 1 <= length(dest) || throw(BoundsError(dest, doffs + n - 1)))
    n > 0 && (1 <= soffs && soffs + n - 1 <= length(src) || throw(BoundsError(src, soffs + n - 1)))
    for i in 0:n - 1
        dest[doffs + i] = src[soffs + i]
    end
    return dest
end

# diff(A; dims): differences of neighbours along one dimension
function diff(A::AbstractArray; dims::Integer)
    1 <= dims <= ndims(A) || throw(ArgumentError("dimension $dims out of range (1:$(ndims(A)))"))
    A3 = _split_at(A, dims)
    return reshape(A3[:, 2:end, :] .- A3[:, 1:end-1, :], _with_size(size(A), dims, max(size(A, dims) - 1, 0)))
end

# ---- cumulative operations along a dimension (Base's accumulate!): the element type is Base's
# promote_op of `op`; the first element along the dimension is op(init, a) or Base's reduce_first
cumsum(A::AbstractArray; dims::Integer) = _accumulate_along(+, A, dims, _NoInit(), _sum_first)
cumprod(A::AbstractArray; dims::Integer) = _accumulate_along(*, A, dims, _NoInit(), _sum_first)
accumulate(op, A::AbstractArray; dims::Integer, init=_NoInit()) =
    _accumulate_along(op, A, dims, init, x -> _reduce_first(op, x))

# Base's reduce_first: `+` of one Bool is an Int; any other op leaves the element as it is
_reduce_first(op, x) = x
_reduce_first(op, x::Bool) = op === (+) ? Int(x) : x
function _accumulate_along(op, A, d, init, first_of)
    d > 0 || throw(ArgumentError("dims must be a positive integer"))
    A3 = _split_at(A, min(d, ndims(A)))        # (a range becomes an array here)
    e = one(eltype(A3))
    T = init isa _NoInit ? typeof(op(first_of(e), e)) : typeof(op(init, e))
    d > ndims(A) && return map(x -> convert(T, x), reshape(A3, size(A)))
    B = similar(A3, T)
    if size(A3, 2) > 0
        acc = map(x -> convert(T, init isa _NoInit ? first_of(x) : op(init, x)), A3[:, 1, :])
        B[:, 1, :] = acc
        for i in 2:size(A3, 2)
            acc = map((a, x) -> convert(T, op(a, x)), acc, A3[:, i, :])
            B[:, i, :] = acc
        end
    end
    return reshape(B, size(A))
end
