"""Train examples/train_mlp.jl on a small regression problem and check that the loss drops."""
import os

import numpy as np

import jlhlo

rng = np.random.default_rng(0)
n_in, n_hidden, n_out, n = 4, 16, 2, 64
x = rng.standard_normal((n_in, n)).astype(np.float32)
y = np.stack([np.sin(x[0]) + x[1], x[2] * x[3]]).astype(np.float32)
model = {"W1": (rng.standard_normal((n_hidden, n_in)) * 0.5).astype(np.float32),
         "b1": np.zeros(n_hidden, np.float32),
         "W2": (rng.standard_normal((n_out, n_hidden)) * 0.5).astype(np.float32),
         "b2": np.zeros(n_out, np.float32)}
prog = jlhlo.load(os.path.join(os.path.dirname(__file__), "train_mlp.jl"))
before, after, trained = prog.function("train")(model, x, y, np.float32(0.05), np.int64(200))
print(f"loss before {float(before):.4f}, after 200 SGD steps {float(after):.4f}")
assert after < before
