# Newton's method for √a: a `while` loop with a data-dependent trip count stays a stablehlo.while.
function newton_sqrt(a::Float64)
    x = a
    it = 0
    while abs(x * x - a) > 1e-12 * a && it < 100
        x = (x + a / x) / 2
        it += 1
    end
    return (x, it)
end
