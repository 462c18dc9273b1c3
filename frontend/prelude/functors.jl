# How Optimisers.setup/update and Flux's f32/f64 see inside a model (Functors.jl's role).
#
# Arrays, numbers, functions and `nothing` are leaves; a tuple's children are its items; a struct
# says what its children are with one method, `_functor(m) = (children, rebuild, name)`:
#   children(v)  the struct's trainable children, in a fixed order, read from the struct itself, from
#                its gradient (the named tuple `gradient` gives) or from its optimiser state tree:
#                all three have the same field names, so one `v -> (v.W, v.b, v.σ)` reads each;
#   rebuild(c...) the struct made from new children (the parameters after an update);
#   name(c...)   per-child values as a named tuple with the field names: the optimiser's state
#                tree mirrors the model the way Optimisers.jl's does.
# `_functor(m) = nothing` marks a struct without parameters (a pooling layer) as a leaf. Every
# layer of layers.jl has its method next to its struct; a program's own struct needs one too, e.g.
#   _functor(::MLP) = (m -> (m.W1, m.b1), MLP, (W1, b1) -> (W1=W1, b1=b1))
# because jlhlo cannot yet list a struct's fields or build a named tuple from computed names
# (Julia's `fieldnames`, `NamedTuple{names}(values)`), which Functors.jl uses to do this for any
# struct. For the same reason a named tuple model (`(W=..., b=...)`) is refused.
_functor(x) = throw(ArgumentError(
    "jlhlo cannot list the fields of a struct to update or convert them; define its children as in " *
    "`_functor(::MyLayer) = (m -> (m.W, m.b), MyLayer, (W, b) -> (W=W, b=b))` (see prelude/functors.jl)"))
_named_tuple_model() = throw(ArgumentError(
    "a named tuple model cannot be rebuilt by jlhlo (it cannot build a named tuple from computed field names); " *
    "use a struct with a `_functor` method (see prelude/functors.jl)"))

# Flux's f32/f64: the float arrays of a model converted to Float32 (Float64); other leaves as they are
f32(m) = _paramtype(Float32, m)
f64(m) = _paramtype(Float64, m)
_paramtype(T, x::AbstractArray{<:AbstractFloat}) = convert.(T, x)
_paramtype(T, x::Union{AbstractArray,Number,Function,Nothing}) = x
_paramtype(T, x::Tuple) = map(c -> _paramtype(T, c), x)
_paramtype(T, x::NamedTuple) = _named_tuple_model()
_paramtype(T, x) = _paramtype_node(T, x, _functor(x))
_paramtype_node(T, x, ::Nothing) = x
_paramtype_node(T, x, f::Tuple) = f[2](map(c -> _paramtype(T, c), f[1](x))...)

# Flux's device movers: XLA runs the whole program on the device the runtime chose (`--device`)
gpu(x) = x
cpu(x) = x
