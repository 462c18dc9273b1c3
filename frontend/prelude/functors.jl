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
# layer of layers.jl has its method next to its struct (naming its trainable children, as Flux's
# `trainable`); any other struct or named tuple, a program's own layer included, has all its fields
# as children, as Functors.jl (0.5+) sees every struct: `Flux.@layer MyLayer` is therefore accepted
# and changes nothing.
_functor(x) = (v -> _field_values(v, x), (c...) -> _with_fields(x, c), (c...) -> _named_like(x, c))

# Flux's f32/f64: the float arrays of a model converted to Float32 (Float64); other leaves as they are
f32(m) = _paramtype(Float32, m)
f64(m) = _paramtype(Float64, m)
_paramtype(T, x::AbstractArray{<:AbstractFloat}) = convert.(T, x)
_paramtype(T, x::Union{AbstractArray,Number,Function,Nothing}) = x
_paramtype(T, x::Tuple) = map(c -> _paramtype(T, c), x)
_paramtype(T, x) = _paramtype_node(T, x, _functor(x))
_paramtype_node(T, x, ::Nothing) = x
_paramtype_node(T, x, f::Tuple) = f[2](map(c -> _paramtype(T, c), f[1](x))...)

# Flux's device movers: XLA runs the whole program on the device the runtime chose (`--device`)
gpu(x) = x
cpu(x) = x
