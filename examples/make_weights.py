"""Random He-initialised weights (and a random input batch) for the example models, as an .npz file
that `transpile EXAMPLE.jl --inputs FILE.npz --run` reads. Nothing is downloaded.

    python examples/make_weights.py vgg19 --size 224 --batch 1 -o vgg19.npz
    python examples/make_weights.py lenet --batch 8 -o lenet.npz
    python examples/make_weights.py mlp --batch 32 -o mlp.npz

Keys follow the CLI's naming: `m.layers.i.W`, `m.layers.i.b` for the i-th layer with parameters
(Julia layout: a conv kernel is (kW, kH, Cin, Cout), a dense weight (out, in)), and `x` for the
input (WHCN images, or (features, batch) for the MLP). `jlhlo.runtime.group_inputs` turns the
same dictionary into the nested tuples/dicts the Python API takes.
"""
from __future__ import annotations

import argparse

import numpy as np

# Metalhead's VGG19: numbers are 3×3 convolutions (pad 1) with that many output channels, "M" a 2×2 max-pool
VGG19_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                512, 512, 512, 512, "M")


def _conv(rng: np.random.Generator, k: int, cin: int, cout: int, bias_std: float) -> dict[str, np.ndarray]:
    std = np.sqrt(2.0 / (k * k * cin))
    return {"W": (rng.standard_normal((k, k, cin, cout), dtype=np.float32) * std).astype(np.float32),
            "b": (rng.standard_normal(cout, dtype=np.float32) * bias_std).astype(np.float32)}


def _dense(rng: np.random.Generator, nin: int, nout: int, bias_std: float) -> dict[str, np.ndarray]:
    std = np.sqrt(2.0 / nin)
    return {"W": (rng.standard_normal((nout, nin), dtype=np.float32) * std).astype(np.float32),
            "b": (rng.standard_normal(nout, dtype=np.float32) * bias_std).astype(np.float32)}


def vgg19_layers(rng: np.random.Generator, size: int = 224, hidden: int = 4096, classes: int = 1000,
                 bias_std: float = 0.01) -> list[dict[str, np.ndarray]]:
    """The 16 conv and 3 dense layers of VGG19 for `size`×`size` RGB images."""
    if size % 32:
        raise ValueError("VGG19 needs an image size divisible by 32")
    layers, cin = [], 3
    for c in VGG19_CONFIG:
        if c != "M":
            layers.append(_conv(rng, 3, cin, c, bias_std))
            cin = c
    features = cin * (size // 32) ** 2
    layers += [_dense(rng, features, hidden, bias_std), _dense(rng, hidden, hidden, bias_std),
               _dense(rng, hidden, classes, bias_std)]
    return layers


def lenet_layers(rng: np.random.Generator, bias_std: float = 0.01) -> list[dict[str, np.ndarray]]:
    """LeNet-5 for 28×28×1 images: two 5×5 convs (6, 16 channels) with 2×2 max-pools, 256→120→84→10."""
    return [_conv(rng, 5, 1, 6, bias_std), _conv(rng, 5, 6, 16, bias_std), _dense(rng, 256, 120, bias_std),
            _dense(rng, 120, 84, bias_std), _dense(rng, 84, 10, bias_std)]


def mlp_layers(rng: np.random.Generator, bias_std: float = 0.01) -> list[dict[str, np.ndarray]]:
    """An MNIST-sized MLP: 784→128→64→10."""
    return [_dense(rng, 784, 128, bias_std), _dense(rng, 128, 64, bias_std), _dense(rng, 64, 10, bias_std)]


def example_input(model: str, rng: np.random.Generator, batch: int, size: int = 224) -> np.ndarray:
    if model == "vgg19":
        return rng.standard_normal((size, size, 3, batch), dtype=np.float32)
    if model == "lenet":
        return rng.random((28, 28, 1, batch), dtype=np.float32)
    return rng.random((784, batch), dtype=np.float32)


def layers_for(model: str, rng: np.random.Generator, size: int = 224, **kw) -> list[dict[str, np.ndarray]]:
    if model == "vgg19":
        return vgg19_layers(rng, size, **kw)
    return lenet_layers(rng, **kw) if model == "lenet" else mlp_layers(rng, **kw)


def flat_keys(layers: list[dict[str, np.ndarray]], prefix: str = "m") -> dict[str, np.ndarray]:
    """`m.layers.i.W` / `m.layers.i.b` keys, i from 1 as in Julia."""
    return {f"{prefix}.layers.{i}.{name}": a for i, layer in enumerate(layers, start=1) for name, a in layer.items()}


def nested(layers: list[dict[str, np.ndarray]]) -> dict[str, tuple]:
    """The model parameter as the Python API takes it: {"layers": ({"W": ..., "b": ...}, ...)}."""
    return {"layers": tuple(layers)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=("vgg19", "lenet", "mlp"))
    p.add_argument("--size", type=int, default=224, help="VGG19 image size (a multiple of 32)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default=None, help="the .npz file (default: MODEL.npz)")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    arrays = flat_keys(layers_for(args.model, rng, args.size))
    arrays["x"] = example_input(args.model, rng, args.batch, args.size)
    out = args.output or f"{args.model}.npz"
    np.savez(out, **arrays)
    n = sum(a.size for k, a in arrays.items() if k != "x")
    print(f"wrote {out}: {n:,} parameters in {len(arrays) - 1} arrays, input x {arrays['x'].shape}")


if __name__ == "__main__":
    main()
