"""Compile StableHLO modules with XLA and run them on NumPy or device values."""
import jax

# Julia's Int64 and Float64 must stay 64-bit on the device; without this jax silently narrows them
# (and PJRT then rejects the 32-bit buffers). Set before anything creates a jax array.
jax.config.update("jax_enable_x64", True)

from .cache import CompileCache, default_cache  # noqa: E402  (after the x64 switch above)
from .executable import Executable, TensorSpec, module_signature  # noqa: E402
from .npz import flatten_outputs, group_inputs  # noqa: E402
from .xla_bridge import DeviceUnavailable, make_context  # noqa: E402

__all__ = ["CompileCache", "DeviceUnavailable", "Executable", "TensorSpec", "default_cache", "flatten_outputs",
           "group_inputs", "make_context", "module_signature"]
