"""NNlib's upsampling, pixel_shuffle and padding, and Flux's Upsample, PixelShuffle, DepthwiseConv,
ConvTranspose, GroupNorm and InstanceNorm (prelude/nnlib.jl, prelude/layers.jl, the `_conv_transpose`
primitive of frontend/nn.py) against NumPy references written from NNlib's and Flux's definitions, on
random inputs, with exact dtypes and shapes; gradients against central finite differences in Float64.
Arrays are in Julia's dimension order (WHCN)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

F32, F64 = np.float32, np.float64

SRC = r"""
upsampling(x) = (upsample_nearest(x, (2, 3)), upsample_nearest(x; size=(6, 12)), upsample_nearest(x, (2,)),
                 upsample_bilinear(x, (2, 3)), upsample_bilinear(x; size=(5, 7)),
                 upsample_bilinear(x, (2.5, 1.5); align_corners=false), upsample_bilinear(x; size=(3, 4)),
                 Upsample(2)(x), Upsample(:bilinear; scale=(2, 3))(x), Upsample(:nearest; size=(9, 8))(x),
                 Upsample((3, 2), :bilinear)(x))
upsampling_nd(x3, x5) = (upsample_linear(x3, 2), upsample_linear(x3; size=7, align_corners=false),
                         upsample_trilinear(x5, (2, 1.5, 3)), Upsample(:trilinear; size=(4, 4, 4))(x5),
                         upsample_nearest(x5, (1, 2, 2)))
upsampling_ints(r) = (upsample_nearest(r, (2, 3)), upsample_nearest(r, (2,)),
                      upsample_bilinear(reshape(r, size(r)..., 1, 1), (2, 1)))
shuffle(x4, x3) = (pixel_shuffle(x4, 2), PixelShuffle(2)(x4), pixel_shuffle(x3, 2))
padding(x) = (pad_zeros(x, 1), pad_zeros(x, (1, 2); dims=2), pad_constant(x, (1, 2, 0, 3), 2.5; dims=(1, 4)),
              pad_constant(x, ((0, 1), (2, 0), (1, 1), (0, 0)), -1), pad_repeat(x, (1, 2, 3, 1)),
              pad_reflect(x, 2), pad_symmetric(x, (1, 3); dims=2), pad_circular(x, (2, 1, 0, 3)),
              pad_reflect(x, (1, 2)), pad_repeat(x, (2, 1, 1, 1); dims=(3, 4)))
padding_ints(r) = (pad_constant(r, (1, 2, 3, 4), 8), pad_constant(r, 1, 8), pad_zeros(r, (2, 1); dims=1))
depthwise(x, W, b) = (DepthwiseConv(W, b, relu; stride=2, pad=1)(x), DepthwiseConv(W, false; pad=SamePad())(x))
function depthwise_init(x)
    layer = DepthwiseConv((3, 3), 2 => 6, tanh; pad=(1, 0, 2, 1), bias=false)
    return (layer.W, layer.groups, layer(x))
end
groupnorm(x, γ, β) = (GroupNorm(6, 3, relu; initγ=n -> γ, initβ=n -> β)(x),
                      gradient(x -> sum(GroupNorm(6, 3, relu; initγ=n -> γ, initβ=n -> β)(x)), x)[1],
                      GroupNorm(6, 2; affine=false)(x), GroupNorm(6, 6; eps=1e-3)(x))
function instancenorm(x, γ, β)
    plain = InstanceNorm(6)
    affine = InstanceNorm(6, relu; affine=true, initγ=n -> γ, initβ=n -> β)
    tracked = InstanceNorm(6; track_stats=true)
    before = tracked(x)
    loss, grads = withgradient(x -> sum(abs2, plain(x)) + sum(affine(x)) + sum(abs2, tracked(x)), x)
    return (plain(x), affine(x), before, loss, grads[1], copy(tracked.μ), copy(tracked.σ²), tracked(x),
            InstanceNorm(6; affine=false, active=true)(x))
end
# the transpose of `conv`: <conv(u, W), v> == <∇conv_data(v, W), u>
function adjoint_identity(u, v, W)
    y = ConvTranspose(W, false; stride=(2, 3), pad=(1, 0, 2, 1), dilation=(1, 2), outpad=(1, 0))(v)   # u's size
    return (sum(conv(u, W; stride=(2, 3), pad=(1, 0, 2, 1), dilation=(1, 2)) .* v), sum(y .* u), size(y))
end
convtranspose_grad(x, W, b) =
    withgradient((x, W, b) -> sum(abs2, ConvTranspose(W, b, tanh; stride=2, pad=(1, 1, 3, 3), outpad=1, dilation=(1, 2),
                                                      groups=2)(x)), x, W, b)
groupnorm_grad(x, γ, β) = withgradient((x, γ, β) -> sum(abs2, GroupNorm(6, 2, tanh; initγ=n -> γ, initβ=n -> β)(x)
                                                         .* reshape(collect(1:length(x)), size(x)) ./ length(x)), x, γ, β)
# linear in x: the gradient is each function's adjoint applied to its weights
linear_maps_grad(x, w1, w2, w3, w4) =
    gradient(x -> sum(upsample_nearest(x, (2, 3)) .* w1) + sum(pad_reflect(x, (1, 1, 1, 0)) .* w2) +
                  sum(upsample_bilinear(x, (2, 1.5)) .* w3) + sum(pixel_shuffle(x, 2) .* w4), x)[1]
function autoencoder(x)
    model = Chain(Conv((3, 3), 1 => 4, relu; pad=SamePad()), GroupNorm(4, 2), MaxPool((2, 2)),
                  ConvTranspose((2, 2), 4 => 4, relu; stride=2),
                  Parallel(+, Conv((3, 3), 4 => 1; pad=1), Chain(MeanPool((2, 2)), Upsample(:bilinear; scale=2),
                                                                 Conv((1, 1), 4 => 1))))
    state = Optimisers.setup(Adam(0.01), model)
    losses = zeros(Float32, 5)
    for i in 1:5
        loss, grads = withgradient(m -> Flux.mse(m(x), x), model)
        losses[i] = loss
        state, model = Optimisers.update(state, model, grads[1])
    end
    return (model(x), losses)
end
"""


@pytest.fixture(scope="module")
def prog():
    return jlhlo.load(SRC, filename="nn_layers_extra.jl")


def randn(rng, *shape, dtype=F32):
    return rng.standard_normal(shape).astype(dtype)


def raises(src, entry, *args, match):
    with pytest.raises(JuliaError, match=match):
        jlhlo.load(src, filename="err.jl").function(entry)(*args)


# ------------------------------------------------------------------------------------- references
def ref_nearest(x, scales):
    for d, s in enumerate(scales):
        x = np.repeat(x, s, axis=d)
    return x


def source_idx_and_weights(nin, nout, T, align=True):
    """NNlib's source_idx_and_λ for every output index (0-based sources), with the ratio rounded to T."""
    ratio = T((nin - 1) / (nout - 1)) if align else T(nin / nout)
    out = []
    for o in range(nout):
        r = ratio * T(o) if align else max(T(0), ratio * (T(o) + T(0.5)) - T(0.5))
        i0 = int(np.floor(r))
        i1 = i0 + (1 if i0 < nin - 1 else 0)
        w1 = T(r - T(i0))
        out.append((i0, i1, T(1) - w1, w1))
    return out


def ref_bilinear(x, size, align=True):
    """NNlib's 2-D CPU kernel: h0 (w0 x[iw0, ih0] + w1 x[iw1, ih0]) + h1 (w0 x[iw0, ih1] + w1 x[iw1, ih1])."""
    T = x.dtype.type
    if x.shape[:2] == tuple(size):
        return x
    y = np.zeros(tuple(size) + x.shape[2:], x.dtype)
    for i, (iw0, iw1, w0, w1) in enumerate(source_idx_and_weights(x.shape[0], size[0], T, align)):
        for j, (ih0, ih1, h0, h1) in enumerate(source_idx_and_weights(x.shape[1], size[1], T, align)):
            y[i, j] = h0 * (w0 * x[iw0, ih0] + w1 * x[iw1, ih0]) + h1 * (w0 * x[iw0, ih1] + w1 * x[iw1, ih1])
    return y


def ref_linear_nd(x, size, align=True):
    """NNlib's 1-D and 3-D kernels nest the same way: dimension 1 innermost, so one dimension after another."""
    T = x.dtype.type
    for d, n in enumerate(size):
        taps = source_idx_and_weights(x.shape[d], n, T, align)
        shape = [1] * x.ndim
        shape[d] = n
        i0, i1 = [t[0] for t in taps], [t[1] for t in taps]
        w0 = np.array([t[2] for t in taps], x.dtype).reshape(shape)
        w1 = np.array([t[3] for t in taps], x.dtype).reshape(shape)
        x = w0 * np.take(x, i0, axis=d) + w1 * np.take(x, i1, axis=d)
    return x


def ref_pixel_shuffle(x, r):
    """y[a + r w, b + r h, c, n] = x[w, h, a + r b + r² c, n] (0-based), NNlib's reshape/permutedims."""
    if x.ndim == 3:
        W, C, N = x.shape
        y = np.zeros((r * W, C // r, N), x.dtype)
        for w, a, c in itertools.product(range(W), range(r), range(C // r)):
            y[a + r * w, c] = x[w, a + r * c]
        return y
    W, H, C, N = x.shape
    y = np.zeros((r * W, r * H, C // r ** 2, N), x.dtype)
    for w, h, a, b, c in itertools.product(range(W), range(H), range(r), range(r), range(C // r ** 2)):
        y[a + r * w, b + r * h, c] = x[w, h, a + r * b + r * r * c]
    return y


def _tuple(v, n):
    return tuple(v) if isinstance(v, tuple) else (v,) * n


def _pairs(pad, n):
    if isinstance(pad, tuple) and len(pad) == 2 * n:
        return [(pad[2 * i], pad[2 * i + 1]) for i in range(n)]
    return [(p, p) for p in _tuple(pad, n)]


def ref_conv(x, w, stride=1, pad=0, dilation=1, groups=1):
    """NNlib's conv (a true convolution: the kernel reversed), direct loops over the kernel, in Float64."""
    n = x.ndim - 2
    s, d, pads = _tuple(stride, n), _tuple(dilation, n), _pairs(pad, n)
    k = w.shape[:n]
    wf = w[(slice(None, None, -1),) * n].astype(F64)
    xp = np.pad(x.astype(F64), pads + [(0, 0), (0, 0)])
    out = [(xp.shape[i] - (d[i] * (k[i] - 1) + 1)) // s[i] + 1 for i in range(n)]
    cig, cout = w.shape[n], w.shape[n + 1]
    cog = cout // groups
    y = np.zeros(tuple(out) + (cout, x.shape[-1]))
    for j in np.ndindex(*k):
        patch = xp[tuple(slice(j[i] * d[i], j[i] * d[i] + s[i] * (out[i] - 1) + 1, s[i]) for i in range(n))]
        for g in range(groups):
            y[..., g * cog:(g + 1) * cog, :] += np.einsum("...cn,co->...on", patch[..., g * cig:(g + 1) * cig, :],
                                                          wf[j][:, g * cog:(g + 1) * cog])
    return y


def ref_conv_transpose(x, w, stride=1, pad=0, dilation=1, groups=1, outpad=0):
    """NNlib's ∇conv_data as a scatter: input position o through kernel tap j (w reversed, as the true
    convolution it transposes reads it) lands at o·stride + j·dilation - pad_lo; outpad extends the end."""
    n = x.ndim - 2
    s, d, op, pads = _tuple(stride, n), _tuple(dilation, n), _tuple(outpad, n), _pairs(pad, n)
    k = w.shape[:n]
    A, B = w.shape[n], w.shape[n + 1]           # (k..., out ÷ groups, in)
    bg = B // groups
    full = [(x.shape[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 for i in range(n)]
    buf = np.zeros(tuple(f + o for f, o in zip(full, op)) + (A * groups, x.shape[-1]))
    wf = w[(slice(None, None, -1),) * n].astype(F64)
    for j in np.ndindex(*k):
        sl = tuple(slice(j[i] * d[i], j[i] * d[i] + s[i] * (x.shape[i] - 1) + 1, s[i]) for i in range(n))
        for g in range(groups):
            buf[sl + (slice(g * A, (g + 1) * A),)] += np.einsum(
                "...fn,cf->...cn", x[..., g * bg:(g + 1) * bg, :].astype(F64), wf[j][:, g * bg:(g + 1) * bg])
    size = [full[i] - pads[i][0] - pads[i][1] + op[i] for i in range(n)]
    return buf[tuple(slice(pads[i][0], pads[i][0] + size[i]) for i in range(n))]


def ref_norm(x, dims, gamma=None, beta=None, affine_shape=None, eps=1e-5, act=lambda v: v):
    """Flux's _norm_layer_forward with the statistics of x over `dims`."""
    T = x.dtype.type
    mu = x.astype(F64).mean(dims, keepdims=True)
    var = ((x.astype(F64) - mu) ** 2).mean(dims, keepdims=True)
    if gamma is None:
        y = (x - mu) / np.sqrt(var + eps)
    else:
        scale = gamma.reshape(affine_shape, order="F") / np.sqrt(var + eps)
        y = scale * x + (beta.reshape(affine_shape, order="F") - scale * mu)
    return act(y).astype(T)


def ref_groupnorm(x, G, gamma=None, beta=None, eps=1e-5, act=lambda v: v):
    W, H, C, N = x.shape
    x2 = x.reshape((W, H, C // G, G, N), order="F")
    y = ref_norm(x2, (0, 1, 2), gamma, beta, (1, 1, C // G, G, 1), eps, act)
    return y.reshape(x.shape, order="F")


relu = lambda v: np.maximum(v, 0)   # noqa: E731


# ------------------------------------------------------------------------------------- upsampling
@pytest.mark.parametrize("dtype", [F32, F64])
def test_upsampling_2d(prog, rng, dtype):
    x = randn(rng, 3, 4, 2, 2, dtype=dtype)
    out = prog.function("upsampling")(x)
    tol = dict(rtol=1e-6 if dtype == F32 else 1e-14, atol=1e-6 if dtype == F32 else 1e-14)
    assert_same(out[0], ref_nearest(x, (2, 3)), rtol=0, atol=0)
    assert_same(out[1], ref_nearest(x, (2, 3)), rtol=0, atol=0)
    assert_same(out[2], ref_nearest(x, (2,)), rtol=0, atol=0)
    assert_same(out[3], ref_bilinear(x, (6, 12)), **tol)
    assert_same(out[4], ref_bilinear(x, (5, 7)), **tol)
    assert_same(out[5], ref_bilinear(x, (7, 6), align=False), **tol)
    assert_same(out[6], x, rtol=0, atol=0)                       # NNlib: the input's own size is the input
    assert_same(out[7], ref_nearest(x, (2, 2)), rtol=0, atol=0)  # Upsample(2): every spatial dimension
    assert_same(out[8], ref_bilinear(x, (6, 12)), **tol)
    assert_same(out[9], ref_nearest(x, (3, 2)), rtol=0, atol=0)
    assert_same(out[10], ref_bilinear(x, (9, 8)), **tol)


def test_upsampling_1d_3d_and_integers(prog, rng):
    x3, x5 = randn(rng, 4, 2, 3), randn(rng, 2, 3, 2, 2, 1)
    out = prog.function("upsampling_nd")(x3, x5)
    assert_same(out[0], ref_linear_nd(x3, (8,)), rtol=1e-6, atol=1e-6)
    assert_same(out[1], ref_linear_nd(x3, (7,), align=False), rtol=1e-6, atol=1e-6)
    assert_same(out[2], ref_linear_nd(x5, (4, 4, 6)), rtol=1e-6, atol=1e-6)
    assert_same(out[3], ref_linear_nd(x5, (4, 4, 4)), rtol=1e-6, atol=1e-6)
    assert_same(out[4], ref_nearest(x5, (1, 2, 2)), rtol=0, atol=0)
    # NNlib's docstring examples: an Int matrix, and bilinear on integers rounds the Float64 result back
    r = np.array([[1, 2, 3], [4, 5, 6]])
    near, near1, lin = prog.function("upsampling_ints")(r)
    assert_same(near, np.repeat(np.repeat(r, 2, 0), 3, 1), rtol=0, atol=0)
    assert_same(near1, np.repeat(r, 2, 0), rtol=0, atol=0)
    assert_same(lin, np.array([[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]]).reshape(4, 3, 1, 1), rtol=0, atol=0)


def test_upsample_bilinear_docstring_example(prog):
    x = np.array([[1, 2, 3], [4, 5, 6]], F32).reshape(2, 3, 1, 1)
    got = jlhlo.load("main(x) = upsample_bilinear(x, (2, 3))", filename="doc.jl").function("main")(x)
    want = np.array([[1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0],
                     [2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75, 4.0],
                     [3.0, 3.25, 3.5, 3.75, 4.0, 4.25, 4.5, 4.75, 5.0],
                     [4.0, 4.25, 4.5, 4.75, 5.0, 5.25, 5.5, 5.75, 6.0]], F32).reshape(4, 9, 1, 1)
    assert_same(got, want, rtol=0, atol=0)


def test_upsampling_errors(rng):
    x = randn(rng, 3, 4, 1, 1)
    raises("main(x) = upsample_nearest(x; size=(4, 8))", "main", x, match="divisible by input size")
    raises("main(x) = upsample_nearest(x, (1, 2, 1, 1, 2))", "main", x, match="can't upsample ndims")
    raises("main(x) = Upsample(:cubic; scale=2)(x)", "main", x, match="is not supported")
    raises("main(x) = Upsample(:bilinear)(x)", "main", x, match="Either scale or size")
    raises("main(x) = upsample_bilinear(x; size=(1, 8))", "main", x, match="divides by zero")


# ------------------------------------------------------------------------------------- pixel_shuffle
def test_pixel_shuffle(prog, rng):
    x4, x3 = randn(rng, 2, 3, 8, 2, dtype=F64), randn(rng, 3, 6, 1, dtype=F64)
    a, b, c = prog.function("shuffle")(x4, x3)
    assert_same(a, ref_pixel_shuffle(x4, 2), rtol=0, atol=0)
    assert_same(b, ref_pixel_shuffle(x4, 2), rtol=0, atol=0)
    assert_same(c, ref_pixel_shuffle(x3, 2), rtol=0, atol=0)
    # NNlib's docstring: x[i, j, channel] = 10i + j + channel/10
    doc = np.array([[[10 * i + j + ch / 10 for ch in range(1, 5)] for j in range(1, 4)] for i in range(1, 3)])
    got = prog.function("shuffle")(doc.reshape(2, 3, 4, 1), x3)[0]
    assert_same(got[:, :, 0, 0], np.array([[11.1, 11.3, 12.1, 12.3, 13.1, 13.3], [11.2, 11.4, 12.2, 12.4, 13.2, 13.4],
                                           [21.1, 21.3, 22.1, 22.3, 23.1, 23.3], [21.2, 21.4, 22.2, 22.4, 23.2, 23.4]]),
                rtol=0, atol=1e-14)
    raises("main(x) = pixel_shuffle(x, 2)", "main", randn(rng, 2, 2, 6, 1), match="divisible by r\\^d = 4")


# ------------------------------------------------------------------------------------- padding
def test_padding(prog, rng):
    x = randn(rng, 3, 4, 2, 2)
    out = prog.function("padding")(x)
    assert_same(out[0], np.pad(x, 1), rtol=0, atol=0)                       # an Int: every dimension
    assert_same(out[1], np.pad(x, ((0, 0), (1, 2), (0, 0), (0, 0))), rtol=0, atol=0)
    assert_same(out[2], np.pad(x, ((1, 2), (0, 0), (0, 0), (0, 3)), constant_values=2.5), rtol=0, atol=0)
    assert_same(out[3], np.pad(x, ((0, 1), (2, 0), (1, 1), (0, 0)), constant_values=-1), rtol=0, atol=0)
    assert_same(out[4], np.pad(x, ((1, 2), (3, 1), (0, 0), (0, 0)), mode="edge"), rtol=0, atol=0)
    assert_same(out[5], np.pad(x, ((2, 2), (2, 2), (0, 0), (0, 0)), mode="reflect"), rtol=0, atol=0)
    assert_same(out[6], np.pad(x, ((0, 0), (1, 3), (0, 0), (0, 0)), mode="symmetric"), rtol=0, atol=0)
    assert_same(out[7], np.pad(x, ((2, 1), (0, 3), (0, 0), (0, 0)), mode="wrap"), rtol=0, atol=0)
    assert_same(out[8], np.pad(x, ((1, 2), (0, 0), (0, 0), (0, 0)), mode="reflect"), rtol=0, atol=0)
    assert_same(out[9], np.pad(x, ((0, 0), (0, 0), (2, 1), (1, 1)), mode="edge"), rtol=0, atol=0)
    # NNlib's docstring examples, on integers (the element type is kept)
    r = np.array([[1, 3], [2, 4]])
    a, b, c = prog.function("padding_ints")(r)
    assert_same(a, np.pad(r, ((1, 2), (3, 4)), constant_values=8), rtol=0, atol=0)
    assert_same(b, np.pad(r, 1, constant_values=8), rtol=0, atol=0)
    assert_same(c, np.pad(r, ((2, 1), (0, 0))), rtol=0, atol=0)


def test_padding_errors(rng):
    r = np.arange(9).reshape(3, 3)
    raises("main(r) = pad_constant(r, (2, 1, 3); dims=(1, 2))", "main", r,
           match=r"Could not parse padding \(2, 1, 3\) and dims \(1, 2\)")
    raises("main(r) = pad_reflect(r, (3, 0))", "main", r, match="BoundsError")
    raises("main(r) = pad_repeat(r, (1, 1, 1, 1); dims=1)", "main", r, match="number of dims")
    # NNlib: a 2-tuple pad goes to the one-dimension method, whose `dims` must be an Int
    raises("main(x) = pad_repeat(x, 1)", "main", randn(rng, 3, 2, 2), match="takes an Int `dims`")


# ------------------------------------------------------------------------------------- DepthwiseConv
def test_depthwise_conv(prog, rng):
    x, W, b = randn(rng, 7, 6, 2, 3), randn(rng, 3, 3, 2, 3), randn(rng, 6)
    y, y2 = prog.function("depthwise")(x, W, b)
    # Flux: the (k, k, in, multiplier) weight reshaped to (k, k, 1, in * multiplier), groups = in
    Wr = W.reshape((3, 3, 1, 6), order="F")
    assert_same(y, relu(ref_conv(x, Wr, stride=2, pad=1, groups=2) + b[:, None]).astype(F32), rtol=1e-5, atol=1e-5)
    assert_same(y2, ref_conv(x, Wr, pad=1, groups=2).astype(F32), rtol=1e-5, atol=1e-5)
    Wi, groups, y3 = prog.function("depthwise_init")(x[:, :, :2])
    assert Wi.shape == (3, 3, 1, 6) and Wi.dtype == F32 and groups == 2
    assert_same(y3, np.tanh(ref_conv(x[:, :, :2], Wi, pad=(1, 0, 2, 1), groups=2)).astype(F32), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------- ConvTranspose
CT_CASES = [  # (x shape, weight shape (k..., out ÷ groups, in), keywords as Julia source, as Python)
    ((3, 4, 3, 2), (3, 3, 5, 3), "stride=2, pad=1, outpad=1", dict(stride=2, pad=1, outpad=1)),
    ((4, 3, 2, 1), (2, 3, 3, 2), "stride=(2, 1), pad=(1, 0, 0, 2), dilation=2",
     dict(stride=(2, 1), pad=(1, 0, 0, 2), dilation=2)),
    ((3, 3, 4, 2), (3, 2, 3, 4), "stride=3, pad=(1, 2), groups=2, outpad=(2, 0)",
     dict(stride=3, pad=(1, 2), groups=2, outpad=(2, 0))),
    ((5, 2, 3), (4, 2, 2), "stride=2, pad=3", dict(stride=2, pad=3)),       # 1-D
    ((5, 3, 2), (2, 2, 3), "stride=2, pad=(3, 2)", dict(stride=2, pad=(3, 2))),   # padding past the window
]


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("xs, ws, jl, kw", CT_CASES)
def test_conv_transpose_against_scatter(rng, dtype, xs, ws, jl, kw):
    x, W = randn(rng, *xs, dtype=dtype), randn(rng, *ws, dtype=dtype)
    groups = kw.get("groups", 1)
    b = randn(rng, ws[-2] * groups, dtype=dtype)
    src = f"main(x, W, b) = ConvTranspose(W, b, relu; {jl})(x)"
    got = jlhlo.load(src, filename="ct.jl").function("main")(x, W, b)
    bias = b.reshape((1,) * (x.ndim - 2) + (-1, 1))
    want = relu(ref_conv_transpose(x, W, **kw) + bias).astype(dtype)
    assert_same(got, want, rtol=1e-5 if dtype == F32 else 1e-12, atol=1e-5 if dtype == F32 else 1e-12)


def test_conv_transpose_is_the_adjoint_of_conv(prog, rng):
    W = randn(rng, 3, 2, 2, 3, dtype=F64)                 # conv: 2 -> 3 channels; ConvTranspose: 3 -> 2
    u = randn(rng, 9, 9, 2, 2, dtype=F64)
    v = randn(rng, 4, 4, 3, 2, dtype=F64)                 # conv(u)'s size
    lhs, rhs, size = prog.function("adjoint_identity")(u, v, W)
    assert tuple(int(s) for s in size) == u.shape
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)


def test_conv_transpose_constructors_and_sizes(rng):
    """Flux's docstring sizes (on a smaller input), its (k..., out, in) Float32 weight and zero bias,
    Float64 input converted to the weight's Float32 (Flux's _match_eltype)."""
    src = """
    function main(x)
        a = ConvTranspose((5, 5), 3 => 7, relu)
        b = ConvTranspose((5, 5), 3 => 7; stride=2)
        c = ConvTranspose((5, 5), 3 => 7; stride=2, outpad=1)
        d = ConvTranspose((5, 5), 3 => 7; stride=3, pad=SamePad())
        e = ConvTranspose((3, 3), 4 => 6; groups=2, bias=false)
        return (size(a(x)), size(b(x)), size(c(x)), size(d(x)), size(a.W), a.b, size(e.W), e.b, eltype(a(Float64.(x))) == Float32)
    end
    """
    out = jlhlo.load(src, filename="ct.jl").function("main")(randn(rng, 10, 10, 3, 2))
    sizes = [tuple(int(v) for v in s) for s in out[:4]]
    assert sizes == [(14, 14, 7, 2), (23, 23, 7, 2), (24, 24, 7, 2), (30, 30, 7, 2)]
    assert tuple(int(v) for v in out[4]) == (5, 5, 7, 3)
    assert_same(out[5], np.zeros(7, F32), rtol=0, atol=0)
    assert tuple(int(v) for v in out[6]) == (3, 3, 3, 4)
    assert not out[7] and out[8]
    raises("main(x) = ConvTranspose(ones(Float32, 3, 3, 2, 3); stride=2, outpad=2)(x)", "main",
           randn(rng, 4, 4, 3, 1), match="DimensionMismatch")
    raises("main(x) = ConvTranspose((3, 3), 3 => 2)(x)", "main", randn(rng, 4, 4, 2, 1),
           match=r"expects size\(input, 3\) == 3")


def central_differences(f, args, which, h=1e-6):
    grads = []
    for k in which:
        g = np.zeros_like(args[k])
        for idx in np.ndindex(*args[k].shape):
            plus, minus = [a.copy() for a in args], [a.copy() for a in args]
            plus[k][idx] += h
            minus[k][idx] -= h
            g[idx] = (f(*plus) - f(*minus)) / (2 * h)
        grads.append(g)
    return grads


def test_conv_transpose_gradient_against_finite_differences(prog, rng):
    """Through the transposed convolution (input dilated by the stride, kernel dilation, two groups, a padding
    past the window: a negative one in the convolution)."""
    x, W, b = randn(rng, 3, 4, 4, 1, dtype=F64), randn(rng, 3, 2, 2, 4, dtype=F64), randn(rng, 4, dtype=F64)
    out = prog.function("convtranspose_grad")(x, W, b)
    loss, (gx, gW, gb) = out["val"], out["grad"]

    def f(x, W, b):
        kw = dict(stride=2, pad=(1, 1, 3, 3), outpad=1, dilation=(1, 2), groups=2)
        return np.sum(np.tanh(ref_conv_transpose(x, W, **kw) + b[None, None, :, None]) ** 2)
    assert_same(loss, np.float64(f(x, W, b)), rtol=1e-12, atol=1e-12)
    for got, want in zip((gx, gW, gb), central_differences(f, [x, W, b], (0, 1, 2))):
        assert_same(got, want, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------------- GroupNorm, InstanceNorm
def test_groupnorm(prog, rng):
    x, g, b = randn(rng, 4, 3, 6, 2), 1 + 0.2 * randn(rng, 6), 0.1 * randn(rng, 6)
    y, dx, y2, y3 = prog.function("groupnorm")(x, g, b)
    assert_same(y, ref_groupnorm(x, 3, g, b, act=relu), rtol=1e-5, atol=1e-5)
    assert_same(y2, ref_groupnorm(x, 2), rtol=1e-5, atol=1e-5)
    assert_same(y3, ref_groupnorm(x, 6, np.ones(6, F32), np.zeros(6, F32), eps=1e-3), rtol=1e-5, atol=1e-5)
    # inside `gradient` (training mode) the same statistics: no running ones
    assert dx.shape == x.shape and dx.dtype == F32
    raises("main(x) = GroupNorm(6, 4)(x)", "main", x, match=r"The number of groups \(4\) must divide")
    raises("main(x) = GroupNorm(4, 2)(x)", "main", x, match=r"expects size\(input, 3\) == 4")


def test_groupnorm_gradient_against_finite_differences(prog, rng):
    x, g, b = randn(rng, 3, 2, 6, 2, dtype=F64), 1 + 0.2 * randn(rng, 6, dtype=F64), 0.1 * randn(rng, 6, dtype=F64)
    weights = np.arange(1, x.size + 1, dtype=F64).reshape(x.shape, order="F") / x.size
    out = prog.function("groupnorm_grad")(x, g, b)
    loss, (gx, gg, gb) = out["val"], out["grad"]

    def f(x, g, b):
        return np.sum((ref_groupnorm(x, 2, g, b, act=np.tanh) * weights) ** 2)
    assert_same(loss, np.float64(f(x, g, b)), rtol=1e-12)
    for got, want in zip((gx, gg, gb), central_differences(f, [x, g, b], (0, 1, 2))):
        assert_same(got, want, rtol=1e-6, atol=1e-6)


def test_instancenorm_both_modes(prog, rng):
    """track_stats=false (Flux's default): the instance statistics in test and training mode alike;
    track_stats=true: the running statistics (0, 1 at first) outside `gradient`, the instance ones inside,
    which update the running ones with their batch mean (momentum 0.1, variance times m/(m-1))."""
    x, g, b = randn(rng, 4, 3, 6, 2), 1 + 0.2 * randn(rng, 6), 0.1 * randn(rng, 6)
    plain, affine, before, loss, dx, mu, var, after, forced = prog.function("instancenorm")(x, g, b)
    dims = (0, 1)
    want_plain = ref_norm(x, dims)
    assert_same(plain, want_plain, rtol=1e-5, atol=1e-5)
    assert_same(forced, want_plain, rtol=1e-5, atol=1e-5)
    assert_same(affine, ref_norm(x, dims, g, b, (1, 1, 6, 1), act=relu), rtol=1e-5, atol=1e-5)
    assert_same(before, (x / np.sqrt(1 + 1e-5)).astype(F32), rtol=1e-6, atol=1e-6)
    want_loss = (np.sum(want_plain.astype(F64) ** 2) + np.sum(ref_norm(x, dims, g, b, (1, 1, 6, 1), act=relu))
                 + np.sum(want_plain.astype(F64) ** 2))
    assert_same(loss, np.float32(want_loss), rtol=1e-5)
    assert dx.shape == x.shape and dx.dtype == F32
    m = 4 * 3
    want_mu = 0.1 * x.mean(dims).mean(1)
    want_var = 0.9 + 0.1 * m / (m - 1) * x.var(dims).mean(1)
    assert_same(mu, want_mu.astype(F32), rtol=1e-5, atol=1e-6)
    assert_same(var, want_var.astype(F32), rtol=1e-5)
    want_after = (x - want_mu[None, None, :, None]) / np.sqrt(want_var[None, None, :, None] + 1e-5)
    assert_same(after, want_after.astype(F32), rtol=1e-4, atol=1e-5)


def test_gradients_of_upsampling_padding_and_shuffle(prog, rng):
    x = randn(rng, 3, 2, 4, 1, dtype=F64)
    refs = (lambda x: ref_nearest(x, (2, 3)),
            lambda x: np.pad(x, ((1, 1), (1, 0), (0, 0), (0, 0)), mode="reflect"),
            lambda x: ref_bilinear(x, (6, 3)),
            lambda x: ref_pixel_shuffle(x, 2))
    ws = [randn(rng, *f(x).shape, dtype=F64) for f in refs]
    got = prog.function("linear_maps_grad")(x, *ws)
    want, = central_differences(lambda x: sum(np.sum(f(x) * w) for f, w in zip(refs, ws)), [x], (0,))
    assert_same(got, want, rtol=1e-7, atol=1e-8)


# ------------------------------------------------------------------------------------- a model
def test_autoencoder_trains(prog, rng):
    """Conv → GroupNorm → MaxPool → ConvTranspose, then Conv plus a MeanPool → Upsample → Conv branch, as a
    Flux user writes it (random Float32 init), five Adam steps on the reconstruction loss."""
    x = rng.random((8, 8, 1, 4)).astype(F32)
    y, losses = prog.function("autoencoder")(x)
    assert y.shape == x.shape and y.dtype == F32
    assert losses.dtype == F32 and np.all(np.isfinite(losses)) and np.all(np.isfinite(y))
    assert losses[-1] < losses[0]
