"""Julia programs several test files share (public conformance cases among them)."""

NEWTON = """
function newton_sqrt(a::Float64)
    x = a
    it = 0
    while abs(x * x - a) > 1e-12 * a && it < 100
        x = (x + a / x) / 2
        it += 1
    end
    return (x, it)
end
"""

ESCAPE = """
function escape(cr::Float64, ci::Float64)
    zr = 0.0
    zi = 0.0
    for n in 1:80
        if zr * zr + zi * zi > 4.0
            return n - 1
        end
        zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
    end
    return 80
end
escape_grid(cr::Matrix{Float64}, ci::Matrix{Float64}) = escape.(cr, ci)
"""

HEAT = """
function heat(u0::Matrix{Float64}, steps::Int64)
    u = copy(u0)
    for s in 1:steps
        u[2:end-1, 2:end-1] .= u[2:end-1, 2:end-1] .+ 0.1 .* (u[1:end-2, 2:end-1] .+ u[3:end, 2:end-1] .+
                               u[2:end-1, 1:end-2] .+ u[2:end-1, 3:end] .- 4 .* u[2:end-1, 2:end-1])
    end
    return u
end
"""
