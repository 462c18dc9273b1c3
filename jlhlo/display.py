"""Results printed as Julia prints them: `show` for values inside tuples and structs
(`(1.0f0, [1, 2])`, `Pt(1.5, 2)`), `display` at the top (an array as `2×2 Matrix{Float64}:` and its
rows, columns aligned on the decimal point, a matrix with several columns in 6 significant digits,
an array larger than an 80×24 terminal shortened with `⋮` and `…` as the REPL does)."""
from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from .core.dtypes import SCALARS
from .frontend.struct_arrays import build_element
from .frontend.types import NamedTupleT, StructT, TupleT, TypeT, _param_str
from .frontend.values import ArrayV, MaybeV, ScalarV, StructArrayV, StructV, TupleV, Value

_JULIA_NAME = {np.dtype(info.np): name for name, info in SCALARS.items()}
_UNPREFIXED = {"Float64", "Int64"}            # element types `show` leaves out: [1.0, 2.0], [1, 2]
_ROWS, _WIDTH = 20, 80                        # what fits an 80×24 terminal with the header and prompt
_INLINE = 20                                  # numbers one dimension of an array shows inside a tuple
_WHOLE = 1 << 62                              # ... and in `print`, which does not limit
_SPLIT = re.compile(r"^(.*?)((?:[.eEf].*)?)$")


def display(value: Value, host: Any) -> str:
    """The text Julia's REPL shows for the entry's result `value`, whose run-time parts are `host`
    (as `api.to_host` builds them)."""
    if isinstance(value, MaybeV):
        return "nothing" if host is None else display(value.value, host)
    if isinstance(value, ArrayV):
        return _display_array(np.asarray(host), value.t.julia())
    if isinstance(value, StructArrayV):
        return _display_records(value, host)
    return show(value, host)


def show(value: Value, host: Any, limit: bool = True) -> str:
    """Julia's `show`: the one-line form; `limit` (the REPL's `:limit`) elides long arrays, which
    `print` and string interpolation write whole."""
    if isinstance(value, MaybeV):
        return "nothing" if host is None else show(value.value, host, limit)
    if isinstance(value, ScalarV):
        return _number(np.asarray(host)[()], in_array=False)
    if isinstance(value, ArrayV):
        a = np.asarray(host)
        if a.size == 0 and a.ndim != 1:
            return f"{value.t.julia()}(undef, {', '.join(map(str, a.shape))})"
        name = _JULIA_NAME[a.dtype]
        text = _show_array(a, _INLINE if limit else _WHOLE)
        return ("" if name in _UNPREFIXED and a.size else name) + text   # Float64[]: no elements
    if isinstance(value, StructArrayV):
        texts = [show(e, h, limit) for e, h in _elements(value, host)]
        if host.ndim == 1 and len(texts) > 2 * _INLINE and limit:
            texts = texts[:_INLINE] + ["…"] + texts[-_INLINE:]
        body = ", ".join(texts) if host.ndim == 1 else "; ".join(
            " ".join(texts[i + host.shape[0] * j] for j in range(host.shape[1])) for i in range(host.shape[0]))
        return ("" if _implicit(value.t.elt) else value.t.elt.julia()) + "[" + body + "]"
    if isinstance(value, TupleV):
        items = [show(v, h, limit) for v, h in zip(value.items, host)]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, StructV):
        parts = [show(value.field(k), h, limit) for k, h in enumerate(host.values())]
        if isinstance(value.t, StructT) and value.t.name == "CartesianIndex":
            return "CartesianIndex" + parts[0].removesuffix(",)") + (")" if parts[0].endswith(",)") else "")
        if isinstance(value.t, StructT):       # Julia's default show names the parameters: Pt{Float64}(1.0, 2.0)
            return f"{value.t.julia()}({', '.join(parts)})"
        return "(" + ", ".join(f"{k} = {p}" for k, p in zip(host, parts)) + ("," if len(parts) == 1 else "") + ")"
    if isinstance(value.t, TypeT):
        return _param_str(value.t.of)                          # `Int64`, as Julia shows a type
    return "nothing" if value.t.julia() == "Nothing" else value.t.julia()      # no run-time value


def _elements(value: StructArrayV, host: np.ndarray) -> list[tuple[Value, Any]]:
    """The elements of an array of tuples or structs (a NumPy structured array), in column-major order,
    each as a value and its host form (a tuple, or a dict of fields)."""
    def record(t: Any, r: Any) -> Any:
        if not isinstance(t, (TupleT, NamedTupleT, StructT)):
            return r
        parts = t.field_types if isinstance(t, StructT) else t.items
        items = [record(u, r[k]) for k, u in enumerate(parts)]
        return tuple(items) if isinstance(t, TupleT) else dict(zip(r.dtype.names, items))
    element = build_element(value.t.elt, iter(ScalarV(leaf.t.elt) for leaf in value.items))
    return [(element, record(value.t.elt, r)) for r in host.ravel(order="F")]


def _implicit(t: Any) -> bool:
    """Julia's `typeinfo_implicit`: `show` of an array of t leaves out the element type (Float64,
    Int64, and tuples and named tuples of them)."""
    if isinstance(t, (TupleT, NamedTupleT)):
        return all(_implicit(u) for u in t.items)
    return getattr(t, "name", None) in _UNPREFIXED and not isinstance(t, StructT)


def _display_records(value: StructArrayV, host: np.ndarray) -> str:
    """An array of tuples or structs as the REPL displays it: its summary, then one element per line
    (a matrix: its rows, each column left-aligned)."""
    head = value.t.summary()
    if host.size == 0:
        return head
    texts = [show(e, h) for e, h in _elements(value, host)]
    if host.ndim == 1:
        return head + ":\n" + "\n".join(" " + t for t in texts)
    rows, cols = host.shape[0], host.size // host.shape[0]
    widths = [max(len(texts[i + rows * j]) for i in range(rows)) for j in range(cols)]
    lines = ["  ".join(texts[i + rows * j].ljust(widths[j]) for j in range(cols)).rstrip() for i in range(rows)]
    return head + ":\n" + "\n".join(" " + line for line in lines)


def _show_array(a: np.ndarray, inline: int = _INLINE) -> str:
    """The one-line form; as in Julia's REPL (`:limit`), a dimension longer than `inline` shows its
    ends around `…`."""
    def items(n: int, limit: int, text, sep: str, elided: str) -> str:
        return sep.join(elided if i is None else text(i) for i in _shown(n, limit))
    if a.ndim == 1:
        text = items(len(a), inline, lambda i: _number(a[i], in_array=True), ", ", "…")
        return "[" + text.replace(", …, ", "  …  ") + "]"
    if a.ndim == 2:
        def row(i: int) -> str:
            return items(a.shape[1], inline // 2, lambda j: _number(a[i, j], in_array=True), " ", "…")
        return "[" + items(a.shape[0], inline // 2, row, "; ", "…") + "]"
    slabs = 2 if inline == _INLINE else inline
    return "[" + items(a.shape[-1], slabs, lambda k: _show_array(a[(...,) + (k,)], inline)[1:-1], ";" * a.ndim + " ",
                       "…") + "]"


def printed(value: Value, host: Any, how: str) -> str:
    """A value as a print writes it (frontend/printing.py's `Shown.how`): `print` and `show` (the
    one-line form, whole), `display` (the REPL's form), or a @printf conversion such as `%.3f`."""
    if how in ("print", "show"):
        return show(value, host, limit=False)
    if how == "display":
        return display(value, host)
    conversion = how[-1]
    if conversion == "s":
        return how % show(value, host, limit=False)
    x = np.asarray(host)[()]
    if conversion == "c":
        return (how[:-1] + "s") % chr(int(x))
    if conversion in "diouxX":
        return (how[:-1] + ("d" if conversion in "iu" else conversion)) % int(x)
    return how % float(x)


def _display_array(a: np.ndarray, type_name: str) -> str:
    dims = f"{a.shape[0]}-element" if a.ndim == 1 else "×".join(map(str, a.shape))
    if a.size == 0:
        return f"{dims} {type_name}"
    head = f"{dims} {type_name}:"
    if a.ndim <= 2:
        return head + "\n" + _matrix(a.reshape(a.shape[0], -1))
    blocks = []
    for index in np.ndindex(*a.shape[2:][::-1]):
        index = index[::-1]                  # column-major: the first trailing index varies fastest
        label = ", ".join(str(i + 1) for i in index)
        blocks.append(f"[:, :, {label}] =\n" + _matrix(a[(slice(None), slice(None)) + index]))
    return head + "\n\n" + "\n\n".join(blocks)


def _matrix(m: np.ndarray) -> str:
    """Rows of a matrix as Julia's `print_matrix`: one space before each row, two between columns,
    each column aligned on its decimal points; rows and columns beyond the screen elided."""
    compact = m.shape[1] > 1
    rows = _shown(m.shape[0], _ROWS)
    cells = [[_SPLIT.match(_number(m[i, j], in_array=True, compact=compact)).groups() for j in range(m.shape[1])]
             for i in (r for r in rows if r is not None)]
    widths = [(max(len(c[j][0]) for c in cells), max(len(c[j][1]) for c in cells)) for j in range(m.shape[1])]
    columns = _fitting_columns([a + b for a, b in widths])
    lines, k = [], 0
    for r in rows:
        parts = []
        for j in columns:
            if j is None:
                parts.append("…" if r is not None else "⋱")
            elif r is None:
                parts.append(" " * (widths[j][0] - 1) + "⋮" + " " * widths[j][1])
            else:
                left, right = cells[k][j]
                parts.append(left.rjust(widths[j][0]) + right.ljust(widths[j][1]))
        k += r is not None
        lines.append((" " + "  ".join(parts)).rstrip())
    return "\n".join(lines)


def _shown(n: int, limit: int) -> list[int | None]:
    """Indices shown of `n`, with None for the elision, keeping the ends as Julia does."""
    if n <= limit:
        return list(range(n))
    half = limit // 2
    return [*range(half), None, *range(n - half, n)]


def _fitting_columns(widths: list[int]) -> list[int | None]:
    """Columns that fit the screen width, taken from both ends in turn, None where `…` goes."""
    if 1 + sum(w + 2 for w in widths) <= _WIDTH:
        return list(range(len(widths)))
    left, right, used = [], [], 1 + 3
    lo, hi = 0, len(widths) - 1
    while lo <= hi:
        take = lo if len(left) <= len(right) else hi
        if used + widths[take] + 2 > _WIDTH:
            break
        used += widths[take] + 2
        if take == lo:
            left.append(lo)
            lo += 1
        else:
            right.insert(0, hi)
            hi -= 1
    return [*left, None, *right]


def _number(x: Any, *, in_array: bool, compact: bool = False) -> str:
    """One number as Julia shows it; inside an array the element type is in the header, so Float32
    drops its `f0` and Bool is 1 or 0."""
    name = _JULIA_NAME[np.asarray(x).dtype]
    kind = SCALARS[name].kind
    if kind == "bool":
        return ("1" if x else "0") if in_array else ("true" if x else "false")
    if kind == "int":
        return str(int(x))
    if kind == "uint":
        return "0x" + format(int(x), "x").rjust(SCALARS[name].bits // 4, "0")
    if kind == "complex":
        part = np.float32 if name == "ComplexF32" else np.float64
        re_text = _float(part(x.real), in_array, compact)
        im_text = _float(part(abs(x.imag)), in_array, compact)
        sign = "-" if math.copysign(1.0, float(x.imag)) < 0 else "+"
        return f"{re_text}{sign}{im_text}im" if in_array else f"{re_text} {sign} {im_text}im"
    return _float(x, in_array, compact)


def _float(x: Any, in_array: bool, compact: bool) -> str:
    name = _JULIA_NAME[np.asarray(x).dtype]
    suffix = {"Float32": "32", "Float16": "16"}.get(name, "")
    if math.isnan(x) or math.isinf(x):
        text = "NaN" if math.isnan(x) else ("-Inf" if x < 0 else "Inf")
        return text if in_array else text + suffix
    digits, exponent = _shortest(x, 6 if compact else None)
    sign = "-" if math.copysign(1.0, float(x)) < 0 else ""
    exp_mark = "f" if name == "Float32" and not in_array else "e"
    if -5 < exponent < 6:              # Julia writes 1.0e6 and 1.0e-5, but 100000.0 and 0.0001
        if exponent >= 0:
            whole, frac = digits[:exponent + 1].ljust(exponent + 1, "0"), digits[exponent + 1:]
        else:
            whole, frac = "0", "0" * (-exponent - 1) + digits
        text = f"{sign}{whole}.{frac or '0'}"
        if exp_mark == "f":
            text += "f0"
    else:
        text = f"{sign}{digits[0]}.{digits[1:] or '0'}{exp_mark}{exponent}"
    return f"Float16({text})" if name == "Float16" and not in_array else text


def _shortest(x: Any, precision: int | None) -> tuple[str, int]:
    """The significant digits of the shortest decimal that reads back as `x` (at most `precision`
    of them when given), and the decimal exponent of the first."""
    text = np.format_float_scientific(abs(x), unique=True, trim="-",
                                      precision=None if precision is None else precision - 1)
    mantissa, _, exponent = text.partition("e")
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    return digits, int(exponent)
