# A 2-D heat (Jacobi) stencil, written twice: with slices and with explicit loops.
function heat_slices(u0::Matrix{Float64}, steps::Int64)
    u = copy(u0)
    for s in 1:steps
        u[2:end-1, 2:end-1] .= u[2:end-1, 2:end-1] .+ 0.1 .* (u[1:end-2, 2:end-1] .+ u[3:end, 2:end-1] .+
                               u[2:end-1, 1:end-2] .+ u[2:end-1, 3:end] .- 4 .* u[2:end-1, 2:end-1])
    end
    return u
end

function heat_loops(u0::Matrix{Float64}, steps::Int64)
    u = copy(u0)
    v = copy(u0)
    n, m = size(u)
    for s in 1:steps
        for j in 2:m-1
            for i in 2:n-1
                v[i, j] = u[i, j] + 0.1 * (u[i-1, j] + u[i+1, j] + u[i, j-1] + u[i, j+1] - 4 * u[i, j])
            end
        end
        u, v = v, u
    end
    return u
end
