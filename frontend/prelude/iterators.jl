# Base.Iterators: `zip`, `enumerate`, `Iterators.take`, `drop`, `product`, `flatten`, `partition`,
# `countfrom` make lazy iterators, structs as in Julia (`Iterators.x` is `x`: one namespace). A `for`
# loop or a comprehension over one runs it element by element in Julia's order, without collecting
# it first (frontend/loops.py reads these structs: `_struct_sequence`); an infinite `countfrom`, a
# `take` of a run-time count and an uneven `partition` are fine there. `Iterators.reverse(x)` is lazy
# in a `for` loop or comprehension; as a value it is `Base.reverse(x)`, a copy with the same elements.
# The functions below answer what other code asks of an iterator (`collect`, `sum`, `length`...):
# `collect` is a comprehension, so it has a static size; `collect(Iterators.product(...))` is a Matrix
# of tuples, as in Julia (stored as a struct of arrays: frontend/struct_arrays.py).
abstract type _LazyIterator end

struct Zip{Is<:Tuple} <: _LazyIterator
    is::Is
end
zip(a...) = Zip(a)

struct Enumerate{I} <: _LazyIterator
    itr::I
end
enumerate(itr) = Enumerate(itr)

struct Take{I} <: _LazyIterator
    xs::I
    n::Int
end
function take(xs, n::Integer)
    n < 0 && throw(ArgumentError("Take length must be nonnegative"))
    return Take(xs, Int(n))
end

struct Drop{I} <: _LazyIterator
    xs::I
    n::Int
end
function drop(xs, n::Integer)
    n < 0 && throw(ArgumentError("Drop length must be nonnegative"))
    return Drop(xs, Int(n))
end

struct ProductIterator{T<:Tuple} <: _LazyIterator
    iterators::T
end
product(iters...) = ProductIterator(iters)

# counts forever by adding the step, `start`, `start + step`, `(start + step) + step`...
struct Count{T,S} <: _LazyIterator
    start::T
    step::S
end
countfrom(start::Number, step::Number) = Count(promote(start, step)...)
countfrom(start::Number) = Count(start, oneunit(start))
countfrom() = Count(1, 1)

struct Flatten{I} <: _LazyIterator
    it::I
end
flatten(it::Tuple) = Flatten(it)
flatten(it::AbstractVector{<:AbstractArray}) = Flatten(it)   # a vector of arrays (NNlib's flatten takes one array)

# views of `n` elements at a time (of the array's elements in linear order), the last one shorter
struct PartitionIterator{T} <: _LazyIterator
    c::T
    n::Int
end
function partition(c, n::Integer)
    n < 1 && throw(ArgumentError("cannot create partitions of length $n"))
    return PartitionIterator(_partitioned(c), Int(n))
end
_partitioned(c::AbstractRange) = c
_partitioned(c::AbstractArray) = vec(c)
_partitioned(c) = c

length(z::Zip) = minimum(map(length, z.is))
length(e::Enumerate) = length(e.itr)
length(t::Take) = _take_length(t.xs, t.n)
_take_length(xs, n) = min(n, length(xs))
_take_length(xs::Count, n) = n
length(d::Drop) = max(length(d.xs) - d.n, 0)
length(p::ProductIterator) = prod(map(length, p.iterators))
length(f::Flatten) = sum(map(length, f.it))
length(p::PartitionIterator) = cld(length(p.c), p.n)
isempty(it::_LazyIterator) = length(it) == 0
size(e::Enumerate) = size(e.itr)
size(p::ProductIterator) = _prod_size(p.iterators)
_prod_size(::Tuple{}) = ()
_prod_size(t::Tuple) = (_prod_size1(first(t))..., _prod_size(Base.tail(t))...)
_prod_size1(a::AbstractArray) = size(a)
_prod_size1(a) = (length(a),)
ndims(p::ProductIterator) = length(size(p))
first(z::Zip) = map(first, z.is)
first(e::Enumerate) = (1, first(e.itr))
first(p::ProductIterator) = map(first, p.iterators)
first(c::Count) = c.start
last(p::ProductIterator) = map(last, p.iterators)

collect(it::_LazyIterator) = [x for x in it]
# Julia reduces an iterator left to right (mapfoldl); jlhlo reduces the collected elements, which
# for floating-point `sum`/`prod` of many elements may differ in the last bits
sum(it::_LazyIterator; init=_NoInit()) = sum(collect(it); init=init)
prod(it::_LazyIterator; init=_NoInit()) = prod(collect(it); init=init)
maximum(it::_LazyIterator; init=_NoInit()) = maximum(collect(it); init=init)
minimum(it::_LazyIterator; init=_NoInit()) = minimum(collect(it); init=init)
sum(f, it::_LazyIterator; init=_NoInit()) = sum(f, collect(it); init=init)
prod(f, it::_LazyIterator; init=_NoInit()) = prod(f, collect(it); init=init)
maximum(f, it::_LazyIterator; init=_NoInit()) = maximum(f, collect(it); init=init)
minimum(f, it::_LazyIterator; init=_NoInit()) = minimum(f, collect(it); init=init)
extrema(it::_LazyIterator) = extrema(collect(it))
any(it::_LazyIterator) = any(collect(it))
all(it::_LazyIterator) = all(collect(it))
count(it::_LazyIterator) = count(collect(it))
any(f, it::_LazyIterator) = any(f, collect(it))
all(f, it::_LazyIterator) = all(f, collect(it))
count(f, it::_LazyIterator) = count(f, collect(it))
mean(it::_LazyIterator) = mean(collect(it))
map(f, it::_LazyIterator) = [f(x) for x in it]

# `Iterators.drop(countfrom(start, step), n)` of a type other than Int64: the step added n times
function _drop_count(c::Count, n::Int)
    x = c.start
    for i in 1:n
        x += c.step
    end
    return Count(x, c.step)
end
# the first n counts, each the one before plus the step (as Julia iterates a Count)
collect(t::Take) = _collect_take(t.xs, t)
_collect_take(xs, t) = [x for x in t]
function _collect_take(c::Count, t)
    out = fill(c.start, max(t.n, 0))
    x = c.start
    for i in 1:t.n
        out[i] = x
        x += c.step
    end
    return out
end

# `CartesianIndices(A)`: the CartesianIndex of every element, first dimension fastest (a `for` loop
# or comprehension reads it as a product of its ranges, loops.py); `LinearIndices(A)`: the linear
# index of each position. `keys`/`pairs` of an array are these, as in Julia.
struct CartesianIndices{R<:Tuple} <: _LazyIterator
    indices::R
end
CartesianIndices(A::AbstractArray) = CartesianIndices(map(n -> 1:n, size(A)))
CartesianIndices(dims::NTuple{N,Integer}) where {N} = CartesianIndices(map(n -> 1:Int(n), dims))
size(c::CartesianIndices) = map(length, c.indices)
size(c::CartesianIndices, d::Integer) = d <= length(c.indices) ? length(c.indices[d]) : 1
length(c::CartesianIndices) = prod(size(c))
ndims(c::CartesianIndices) = length(c.indices)
axes(c::CartesianIndices) = map(r -> 1:length(r), c.indices)
first(c::CartesianIndices) = CartesianIndex(map(first, c.indices))
last(c::CartesianIndices) = CartesianIndex(map(last, c.indices))
getindex(c::CartesianIndices, i::Integer, rest::Integer...) =
    CartesianIndex(map((r, k) -> r[k], c.indices, (i, rest...)))
function getindex(c::CartesianIndices, k::Integer)
    1 <= k <= length(c) || throw(BoundsError(c, k))
    return CartesianIndex(map((r, j) -> first(r) + j - 1, c.indices, _cartesian(size(c), k - 1)))
end

struct LinearIndices{N} <: _LazyIterator
    dims::NTuple{N,Int}
end
LinearIndices(A::AbstractArray) = LinearIndices(size(A))
size(l::LinearIndices) = l.dims
size(l::LinearIndices{N}, d::Integer) where {N} = d <= N ? l.dims[d] : 1
length(l::LinearIndices) = prod(l.dims)
ndims(l::LinearIndices{N}) where {N} = N
getindex(l::LinearIndices, k::Integer) = (1 <= k <= length(l) || throw(BoundsError(l, k)); k)
function getindex(l::LinearIndices, i::Integer, rest::Integer...)
    I = (i, rest...)
    all(map((k, n) -> 1 <= k <= n, I, l.dims)) || throw(BoundsError(l, I))
    return _linear(l.dims, I)
end
getindex(l::LinearIndices, I::CartesianIndex) = getindex(l, I.I...)
_linear(dims::Tuple{Int}, I) = first(I)
_linear(dims::Tuple, I) = first(I) + first(dims) * (_linear(Base.tail(dims), Base.tail(I)) - 1)

keys(A::AbstractVector) = 1:length(A)
keys(A::AbstractArray) = CartesianIndices(A)
keys(t::Tuple) = 1:length(t)
pairs(A::AbstractArray) = zip(keys(A), A)    # (key, value) tuples: `for (i, v) in pairs(x)` as in Julia
pairs(t::Tuple) = zip(keys(t), t)
struct IndexCartesian end
struct IndexLinear end
eachindex(::IndexCartesian, A::AbstractArray) = CartesianIndices(A)
eachindex(::IndexLinear, A::AbstractArray) = 1:length(A)
