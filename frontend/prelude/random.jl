# Random: generators as values. `Xoshiro(seed)`, `MersenneTwister(seed)` and StableRNGs.jl's
# `StableRNG(seed)` hold a Threefry state
# (key, counter) in a two-word Vector{UInt64}; every draw (`rand(rng, ...)`, `randn(rng, ...)`,
# primitives in frontend/primitives.py) reads the state and writes the advanced one back into the
# array, so a generator is shared like any array: a callee or a loop that draws from it
# advances it for the caller, and `copy` gives an independent generator that continues the same
# stream. The streams are fixed by the seed but are not Julia's (no Xoshiro256++ or Mersenne
# Twister or Lehmer here): `Xoshiro(n)`, `MersenneTwister(n)` and `StableRNG(n)` draw the same
# numbers, which are also those of the default generator after `Random.seed!(n)`. Draws carry no gradient.
# `Random.default_rng()` is the default generator itself (XLA's, see `rand` in primitives.py).

abstract type AbstractRNG end
abstract type _StateRNG <: AbstractRNG end

struct Xoshiro <: _StateRNG
    state::Vector{UInt64}
end
struct MersenneTwister <: _StateRNG
    state::Vector{UInt64}
end
struct StableRNG <: _StateRNG
    state::Vector{UInt64}
end
struct TaskLocalRNG <: AbstractRNG end

# (`_rng_seeded` refuses a seed that is not an integer)
Xoshiro(seed::Number) = Xoshiro(_rng_seeded(seed))
Xoshiro() = Xoshiro(_rng_fresh())
MersenneTwister(seed::Number) = MersenneTwister(_rng_seeded(seed))
MersenneTwister() = MersenneTwister(_rng_fresh())
StableRNG(seed::Integer) = StableRNG(_rng_seeded(seed))
default_rng() = TaskLocalRNG()

copy(r::Xoshiro) = Xoshiro(copy(r.state))
copy(r::MersenneTwister) = MersenneTwister(copy(r.state))
copy(r::StableRNG) = StableRNG(copy(r.state))
deepcopy(r::_StateRNG) = copy(r)
copy!(dst::R, src::R) where {R<:_StateRNG} = (copyto!(dst.state, src.state); dst)
==(a::R, b::R) where {R<:_StateRNG} = a.state == b.state

function seed!(r::_StateRNG, seed::Integer)
    copyto!(r.state, _rng_seeded(seed))
    return r
end
seed!(r::_StateRNG) = (copyto!(r.state, _rng_fresh()); r)
seed!(r::TaskLocalRNG, seed::Integer) = (seed!(seed); r)

# ---- draws: `rand(rng, [T | collection], dims...)` and `randn(rng, [T], dims...)` are the
# primitives `rand` and `randn` given a generator (frontend/primitives.py), lowered where they are
# called, so that one in a `while` condition advances the generator too. The default generator,
# named, draws as `rand(...)` without one.
rand(::TaskLocalRNG, args...) = rand(args...)
randn(::TaskLocalRNG, args...) = randn(args...)

# ---- in place
rand!(r::AbstractRNG, A::AbstractArray) = copyto!(A, rand(r, eltype(A), size(A)...))
rand!(r::AbstractRNG, A::AbstractArray, S) = copyto!(A, rand(r, S, size(A)...))
rand!(A::AbstractArray) = rand!(default_rng(), A)
randn!(r::AbstractRNG, A::AbstractArray) = copyto!(A, randn(r, eltype(A), size(A)...))
randn!(A::AbstractArray) = randn!(default_rng(), A)

# ---- permutations: the order of random keys (64-bit from a generator, Float64 from the default
# one; a tie, which keeps the order of the tied elements, has probability below n^2 / 2^53)
randperm(r::_StateRNG, n::Integer) = _argsort(rand(r, UInt64, n))
randperm(::TaskLocalRNG, n::Integer) = _argsort(rand(n))
randperm(n::Integer) = randperm(default_rng(), n)
shuffle(r::AbstractRNG, v::AbstractVector) = v[randperm(r, length(v))]
shuffle(r::AbstractRNG, A::AbstractArray) = reshape(vec(A)[randperm(r, length(A))], size(A))
shuffle(A::AbstractArray) = shuffle(default_rng(), A)
shuffle!(r::AbstractRNG, A::AbstractArray) = copyto!(A, shuffle(r, A))
shuffle!(A::AbstractArray) = shuffle!(default_rng(), A)
