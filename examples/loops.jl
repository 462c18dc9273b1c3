# Kernels written as loops, the way Julia users write them (bench/loops.py times each against
# the vectorized form in jax.jit; `transpile examples/loops.jl --entry dot_loop --args Float64[8]
# Float64[8] --explain-loops` says what each loop became).

function dot_loop(x, y)
    s = zero(eltype(x))
    for i in eachindex(x)
        s += x[i] * y[i]
    end
    return s
end

function norm_loop(x)
    s = 0.0
    for v in x
        s += v^2
    end
    return sqrt(s)
end

function absmax_loop(x)
    best = 0.0
    for v in x
        best = max(best, abs(v))
    end
    return best
end

function argmax_loop(x)
    best = x[1]
    at = 1
    for i in eachindex(x)
        if x[i] > best
            best = x[i]
            at = i
        end
    end
    return best, at
end

function count_loop(x)
    n = 0
    for v in x
        n += v > 0
    end
    return n
end

function matvec_loop(A, x)
    y = zeros(size(A, 1))
    for j in axes(A, 2), i in axes(A, 1)
        y[i] += A[i, j] * x[j]
    end
    return y
end

function matmul_loop(A, B)
    C = zeros(size(A, 1), size(B, 2))
    for j in axes(B, 2), k in axes(A, 2), i in axes(A, 1)
        C[i, j] += A[i, k] * B[k, j]
    end
    return C
end

function histogram_loop(x, nbins)
    h = zeros(Int, nbins)
    for v in x
        k = clamp(floor(Int, v * nbins) + 1, 1, nbins)
        h[k] += 1
    end
    return h
end

function running_sum_loop(x)
    y = similar(x)
    acc = 0.0
    for i in eachindex(x)
        acc += x[i]
        y[i] = acc
    end
    return y
end

function recurrence_loop(a, b)
    y = similar(b)
    y[1] = b[1]
    for i in 2:length(b)
        y[i] = a[i] * y[i-1] + b[i]
    end
    return y
end

function stencil_loop(x)
    y = zeros(length(x))
    for i in 2:length(x)-1
        y[i] = x[i-1] - 2x[i] + x[i+1]
    end
    return y
end

function horner_loop(c, xs)
    out = similar(xs)
    for j in eachindex(xs)
        p = c[end]
        for k in length(c)-1:-1:1
            p = p * xs[j] + c[k]
        end
        out[j] = p
    end
    return out
end
