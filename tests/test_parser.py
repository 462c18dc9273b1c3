"""Tests of frontend/parser.py: the AST built for each construct, and syntax error positions."""
from __future__ import annotations

import pytest
from jlhlo.frontend import ast
from jlhlo.frontend.ast import (
    Assign,
    BlockExpr,
    BoolLit,
    Broadcast,
    Call,
    ColonAll,
    Comparison,
    ConstDef,
    Curly,
    End,
    ExprStmt,
    Field,
    FloatLit,
    For,
    FunctionDef,
    Generator,
    HCat,
    If,
    Index,
    IntLit,
    Kwarg,
    Lambda,
    Let,
    MacroCall,
    Name,
    NamedTupleExpr,
    Param,
    Range,
    Return,
    Splat,
    StringLit,
    StructDef,
    SubtypeBound,
    SymbolLit,
    Ternary,
    TupleExpr,
    TypeAssert,
    TypeVar,
    Using,
    VCat,
    Vect,
    While,
)
from jlhlo.frontend.diagnostics import JuliaError
from jlhlo.frontend.parser import parse


def items(src: str) -> list[ast.Node]:
    return parse(src, "test.jl").items


def one(src: str) -> ast.Node:
    """The single top-level item of `src`."""
    result = items(src)
    assert len(result) == 1, result
    return result[0]


def expr(src: str) -> ast.Node:
    """The expression of the single expression statement `src`."""
    stmt = one(src)
    assert isinstance(stmt, ExprStmt), stmt
    return stmt.expr


def error(src: str) -> JuliaError:
    with pytest.raises(JuliaError) as info:
        parse(src, "test.jl")
    return info.value


def call(op: str, *args: ast.Node) -> Call:
    return Call(Name(op), list(args))


def bc(op: str, *args: ast.Node) -> Broadcast:
    return Broadcast(Name(op), list(args))


a, b, c, x, y = Name("a"), Name("b"), Name("c"), Name("x"), Name("y")
i1, i2, i3 = IntLit(1), IntLit(2), IntLit(3)


# ============================================================================= literals
@pytest.mark.parametrize("src, node", [
    ("1", IntLit(1)),
    ("1_000", IntLit(1000)),
    ("1.0", FloatLit(1.0)),
    (".5", FloatLit(0.5)),
    ("1.", FloatLit(1.0)),
    ("1e-3", FloatLit(0.001)),
    ("1.5e10", FloatLit(1.5e10)),
    ("1f0", FloatLit(1.0, "Float32")),
    ("2.5f-3", FloatLit(0.0025, "Float32")),
    ("0x1F", IntLit(31, "UInt8")),
    ("0x1234", IntLit(0x1234, "UInt16")),
    ("0x12345", IntLit(0x12345, "UInt32")),
    ("0x123456789", IntLit(0x123456789, "UInt64")),
    ("0b101", IntLit(5, "UInt8")),
    ("true", BoolLit(True)),
    ("false", BoolLit(False)),
    ("nothing", Name("nothing")),
    ('"hi"', StringLit("hi")),
    ('"a\\tb\\"c\\n"', StringLit('a\tb"c\n')),
    ('"x = $x"', StringLit("x = $x")),
    ('"""\nline\n"""', StringLit("line\n")),
    (":foo", SymbolLit("foo")),
    ("-1", IntLit(-1)),
    ("-2.5", FloatLit(-2.5)),
])
def test_literals(src, node):
    assert expr(src) == node


def test_unicode_identifiers():
    assert [s.target for s in items("λ = 1; Δx = 2; x₁ = 3; θ′ = 4; ∇f = 5; π2 = 6; push! = 7")] == [
        Name("λ"), Name("Δx"), Name("x₁"), Name("θ′"), Name("∇f"), Name("π2"), Name("push!")]


def test_bang_before_equals_is_not_part_of_a_name():
    assert expr("a!=b") == call("!=", a, b)


# ============================================================================= operators
@pytest.mark.parametrize("src, node", [
    ("a + b * c", call("+", a, call("*", b, c))),
    ("a - b - c", call("-", call("-", a, b), c)),
    ("a * b / c", call("/", call("*", a, b), c)),
    ("a ÷ b % c", call("%", call("÷", a, b), c)),
    ("a ^ b ^ c", call("^", a, call("^", b, c))),
    ("-x^2", call("-", call("^", x, i2))),
    ("-a * b", call("*", call("-", a), b)),
    ("-a >> 1", call(">>", call("-", a), i1)),
    ("a << 2 + 1", call("+", call("<<", a, i2), i1)),
    ("x^-1", call("^", x, IntLit(-1))),
    ("x^-y^2", call("^", x, call("-", call("^", y, i2)))),
    ("-2^2", call("-", call("^", i2, i2))),
    ("a - -b", call("-", a, call("-", b))),
    ("!a && b", ast.And(call("!", a), b)),
    ("a || b && c", ast.Or(a, ast.And(b, c))),
    ("a && b && c", ast.And(ast.And(a, b), c)),
    ("a & b | c", call("|", call("&", a, b), c)),
    ("a ⊻ b", call("⊻", a, b)),
    ("a \\ b", call("\\", a, b)),
    ("f ∘ g", call("∘", Name("f"), Name("g"))),
    ("√x", call("sqrt", x)),
    ("a // b", call("//", a, b)),
    ("x'", call("adjoint", x)),
    ("x''", call("adjoint", call("adjoint", x))),
    ("A' * v", call("*", call("adjoint", Name("A")), Name("v"))),
    ("x[1]'", call("adjoint", Index(x, [i1]))),
    ("x::Float64", TypeAssert(x, Name("Float64"))),
    ("x |> f", Call(Name("f"), [x])),
    ("a ? b : c", Ternary(a, b, c)),
    ("a ? b : c ? x : y", Ternary(a, b, Ternary(c, x, y))),
    ("x > 0 ? 1 : -1", Ternary(call(">", x, IntLit(0)), i1, IntLit(-1))),
])
def test_operator_precedence(src, node):
    assert expr(src) == node


@pytest.mark.parametrize("src, node", [
    ("a .+ b", bc("+", a, b)),
    ("a .* b .+ c", bc("+", bc("*", a, b), c)),
    ("a .^ 2", bc("^", a, i2)),
    ("a .< b", bc("<", a, b)),
    (".-x", bc("-", x)),
    ("f.(x, y)", Broadcast(Name("f"), [x, y])),
    ("f.(x; k=1)", Broadcast(Name("f"), [x], [Kwarg("k", i1)])),
])
def test_dotted_operators(src, node):
    assert expr(src) == node


@pytest.mark.parametrize("src, node", [
    ("a < b", call("<", a, b)),
    ("a ≤ b", call("<=", a, b)),
    ("a ≠ b", call("!=", a, b)),
    ("a === b", call("===", a, b)),
    ("x isa Int", call("isa", x, Name("Int"))),
    ("x in xs", call("in", x, Name("xs"))),
    ("x ∈ xs", call("in", x, Name("xs"))),
    ("T <: Real", call("<:", Name("T"), Name("Real"))),
    ("0.0 <= x < 1.0", Comparison([FloatLit(0.0), x, FloatLit(1.0)], ["<=", "<"])),
    ("a < b + 1 <= c", Comparison([a, call("+", b, i1), c], ["<", "<="])),
])
def test_comparisons(src, node):
    assert expr(src) == node


@pytest.mark.parametrize("src, node", [
    ("2x", call("*", i2, x)),
    ("2π", call("*", i2, Name("π"))),
    ("2x^2", call("*", i2, call("^", x, i2))),
    ("-2x", call("-", call("*", i2, x))),
    ("1/2x", call("/", i1, call("*", i2, x))),
    ("3(x + 1)", call("*", i3, call("+", x, i1))),
    ("2.5x", call("*", FloatLit(2.5), x)),
    ("Circle(2r)", Call(Name("Circle"), [call("*", i2, Name("r"))])),
])
def test_juxtaposition(src, node):
    assert expr(src) == node


@pytest.mark.parametrize("src, node", [
    ("1:n", Range(i1, None, Name("n"))),
    ("1:2:10", Range(i1, i2, IntLit(10))),
    ("n-1:-1:1", Range(call("-", Name("n"), i1), IntLit(-1), i1)),
    ("a+1:b*2", Range(call("+", a, i1), None, call("*", b, i2))),
    ("1 : 3", Range(i1, None, i3)),
])
def test_ranges(src, node):
    assert expr(src) == node


def test_operators_as_values():
    assert expr("reduce(+, xs)") == Call(Name("reduce"), [Name("+"), Name("xs")])
    assert expr("f(x, *)") == Call(Name("f"), [x, Name("*")])
    assert expr("-(a)") == call("-", a)
    assert items("op = *\ny = 1") == [Assign(Name("op"), Name("*")), Assign(y, i1)]
    assert expr("map(√, xs)") == Call(Name("map"), [Name("sqrt"), Name("xs")])


# ============================================================================= calls, indexing, fields
@pytest.mark.parametrize("src, node", [
    ("f()", Call(Name("f"), [])),
    ("f(x, y)", Call(Name("f"), [x, y])),
    ("f(x; k=1)", Call(Name("f"), [x], [Kwarg("k", i1)])),
    ("sum(x, dims=1)", Call(Name("sum"), [x], [Kwarg("dims", i1)])),
    ("f(; k)", Call(Name("f"), [], [Kwarg("k", Name("k"))])),
    ("f(xs...)", Call(Name("f"), [Splat(Name("xs"))])),
    ("f(x)(y)", Call(Call(Name("f"), [x]), [y])),
    ("Base.tail(x)", Call(Field(Name("Base"), "tail"), [x])),
    ("a.b.c", Field(Field(a, "b"), "c")),
    ("d.W * x", call("*", Field(Name("d"), "W"), x)),
    ("reshape(b, 1, :, 1)", Call(Name("reshape"), [b, i1, ColonAll(), i1])),
    ("x[i, j]", Index(x, [Name("i"), Name("j")])),
    ("x[i, end-1, :]", Index(x, [Name("i"), call("-", End(), i1), ColonAll()])),
    ("x[2:end]", Index(x, [Range(i2, None, End())])),
    ("x[min(end, 3)]", Index(x, [Call(Name("min"), [End(), i3])])),
    ("x[]", Index(x, [])),
    ("Matrix{Float32}", Curly(Name("Matrix"), [Name("Float32")])),
    ("Tuple{}", Curly(Name("Tuple"), [])),
    ("Vector{<:Real}", Curly(Name("Vector"), [SubtypeBound(Name("Real"))])),
    ("Matrix{Float32}(undef, 2, 2)", Call(Curly(Name("Matrix"), [Name("Float32")]), [Name("undef"), i2, i2])),
    ("println(\"x = \", x)", Call(Name("println"), [StringLit("x = "), x])),
])
def test_calls_and_indexing(src, node):
    assert expr(src) == node


def test_generator_argument():
    assert expr("sum(x^2 for x in v)") == Call(Name("sum"), [
        Generator(call("^", x, i2), [(x, Name("v"))], None, is_array=False)])


# ============================================================================= tuples and arrays
@pytest.mark.parametrize("src, node", [
    ("(a, b)", TupleExpr([a, b])),
    ("(a,)", TupleExpr([a])),
    ("()", TupleExpr([])),
    ("(a)", a),
    ("(a + b) * c", call("*", call("+", a, b), c)),
    ("(a=1, b=2)", NamedTupleExpr(["a", "b"], [i1, i2])),
    ("(; a=1)", NamedTupleExpr(["a"], [i1])),
    ("(a; b)", BlockExpr(ast.Block([ExprStmt(a), ExprStmt(b)]))),
    ("(x^2 for x in v)", Generator(call("^", x, i2), [(x, Name("v"))], None, is_array=False)),
])
def test_tuples(src, node):
    assert expr(src) == node


@pytest.mark.parametrize("src, node", [
    ("[]", Vect([])),
    ("[1, 2, 3]", Vect([i1, i2, i3])),
    ("[1, 2, 3,]", Vect([i1, i2, i3])),
    ("[a]", Vect([a])),
    ("[1 2 3]", HCat([i1, i2, i3])),
    ("[x y]", HCat([x, y])),
    ("[a -b]", HCat([a, call("-", b)])),
    ("[a - b]", Vect([call("-", a, b)])),
    ("[a -  b]", Vect([call("-", a, b)])),
    ("[a, -b]", Vect([a, call("-", b)])),
    ("[f(x) g(y)]", HCat([Call(Name("f"), [x]), Call(Name("g"), [y])])),
    ("[x' y']", HCat([call("adjoint", x), call("adjoint", y)])),
    ("[a[1] b[2]]", HCat([Index(a, [i1]), Index(b, [i2])])),
    ("[a b; c x]", VCat([[a, b], [c, x]])),
    ("[a; b]", VCat([[a], [b]])),
    ("[1 2\n 3 4]", VCat([[i1, i2], [i3, IntLit(4)]])),
    ("[\n  1 2\n  3 4\n]", VCat([[i1, i2], [i3, IntLit(4)]])),
    ("[1, 2,\n 3]", Vect([i1, i2, i3])),
    ("[1 2 # a comment\n 3 4]", VCat([[i1, i2], [i3, IntLit(4)]])),
    ("[xs...]", Vect([Splat(Name("xs"))])),
])
def test_arrays(src, node):
    assert expr(src) == node


def test_comprehensions():
    assert expr("[f(x) for x in xs]") == Generator(Call(Name("f"), [x]), [(x, Name("xs"))], None)
    i, j = Name("i"), Name("j")
    assert expr("[i * j for i in 1:3, j in 1:4]") == Generator(
        call("*", i, j), [(i, Range(i1, None, i3)), (j, Range(i1, None, IntLit(4)))], None)
    assert expr("[x for x in xs if x > 0]") == Generator(x, [(x, Name("xs"))], call(">", x, IntLit(0)))
    assert expr("[x for (i, x) in pairs]") == Generator(x, [(TupleExpr([i, x]), Name("pairs"))], None)
    assert expr("[x[end] for x in xs]") == Generator(Index(x, [End()]), [(x, Name("xs"))], None)
    assert expr("[0.0 <= xi < 1.0 for xi in x]").expr == Comparison([FloatLit(0.0), Name("xi"), FloatLit(1.0)],
                                                                   ["<=", "<"])


# ============================================================================= lambdas
def test_lambdas():
    assert expr("x -> x^2") == Lambda([Param("x")], ast.Block([ExprStmt(call("^", x, i2))]))
    assert expr("(x, y) -> x + y") == Lambda([Param("x"), Param("y")], ast.Block([ExprStmt(call("+", x, y))]))
    assert expr("() -> 1") == Lambda([], ast.Block([ExprStmt(i1)]))
    assert expr("(x::Float64) -> x") == Lambda([Param("x", Name("Float64"))], ast.Block([ExprStmt(x)]))
    lam = expr("sum(x -> x > 0 ? 1 : 0, X)").args[0]
    assert lam.body.stmts[0].expr == Ternary(call(">", x, IntLit(0)), i1, IntLit(0))


def test_pairs():
    # `=>` binds looser than the ternary and arithmetic, and to the right, as in Julia
    assert expr("x => y") == call("Pair", x, y)
    assert expr("1 => 1 + 2") == call("Pair", i1, call("+", i1, IntLit(2)))
    assert expr("x => y => 1") == call("Pair", x, call("Pair", y, i1))
    assert expr("x => y ? 1 : 2") == call("Pair", x, Ternary(y, i1, IntLit(2)))
    assert expr("Dense(x => y, relu)").args[0] == call("Pair", x, y)


def test_lambda_argument_then_index():
    node = one("g = gradient(w -> loss(w, x, y), W)[1]")
    assert isinstance(node.value, Index) and isinstance(node.value.obj.args[0], Lambda)


# ============================================================================= statements
def test_assignments():
    assert one("x = 1") == Assign(x, i1)
    assert one("a, b = b, a + b") == Assign(TupleExpr([a, b]), TupleExpr([b, call("+", a, b)]))
    assert one("x[i, j] = v") == Assign(Index(x, [Name("i"), Name("j")]), Name("v"))
    assert one("d.f = v") == Assign(Field(Name("d"), "f"), Name("v"))
    assert one("x::Float64 = 1.0") == Assign(TypeAssert(x, Name("Float64")), FloatLit(1.0))


@pytest.mark.parametrize("src, op, dotted", [
    ("x += 1", "+", False), ("x -= 1", "-", False), ("x *= 1", "*", False), ("x /= 1", "/", False),
    ("x ÷= 1", "÷", False), ("x ^= 1", "^", False), ("x %= 1", "%", False), ("x &= 1", "&", False),
    ("x |= 1", "|", False), ("x \\= 1", "\\", False), ("x ⊻= 1", "⊻", False),
    ("x .+= 1", "+", True), ("x .-= 1", "-", True), ("x .*= 1", "*", True), ("x ./= 1", "/", True),
    ("x .^= 1", "^", True), ("x .= 1", None, True),
])
def test_updating_assignments(src, op, dotted):
    assert one(src) == Assign(x, i1, op=op, dotted=dotted)


def test_local():
    assert one("local x = 1") == Assign(x, i1, local=True)
    assert one("local x") == Assign(x, None, local=True)


def test_if():
    node = one("if a\n  1\nelseif b\n  2\nelse\n  3\nend")
    assert node == If([(a, ast.Block([ExprStmt(i1)])), (b, ast.Block([ExprStmt(i2)]))], ast.Block([ExprStmt(i3)]))
    assert one("if a; 1; end") == If([(a, ast.Block([ExprStmt(i1)]))])


def test_for_loops():
    i, j = Name("i"), Name("j")
    assert one("for i = 1:3\nend") == For([(i, Range(i1, None, i3))], ast.Block([]))
    assert one("for x in xs\n  y\nend") == For([(x, Name("xs"))], ast.Block([ExprStmt(y)]))
    assert one("for x ∈ xs\nend") == For([(x, Name("xs"))], ast.Block([]))
    assert one("for i = 1:3, j in 1:4\nend").iters == [(i, Range(i1, None, i3)), (j, Range(i1, None, IntLit(4)))]
    assert one("for (i, x) in pairs\nend").iters == [(TupleExpr([i, x]), Name("pairs"))]
    assert one("for k in n-1:-1:1 end").iters == [(Name("k"), Range(call("-", Name("n"), i1), IntLit(-1), i1))]


def test_while_break_continue_return():
    node = one("while true\n  break\n  continue\nend")
    assert node == While(BoolLit(True), ast.Block([ast.Break(), ast.Continue()]))
    body = one("function f()\n  return\nend").body
    assert body.stmts == [Return(None)]
    body = one("function f()\n  return a, b\nend").body
    assert body.stmts == [Return(TupleExpr([a, b]))]


def test_short_circuit_flow_becomes_if():
    assert one("x < 0 && return 0") == If([(call("<", x, IntLit(0)), ast.Block([Return(IntLit(0))]))])
    assert one("done || break") == If([(call("!", Name("done")), ast.Block([ast.Break()]))])


def test_begin_and_let():
    assert expr("begin\n  x = 1\n  x\nend") == BlockExpr(ast.Block([Assign(x, i1), ExprStmt(x)]))
    node = expr("let a = 1, b = 2\n  a + b\nend")
    assert node == Let([Assign(a, i1, local=True), Assign(b, i2, local=True)], ast.Block([ExprStmt(call("+", a, b))]))


def test_statement_separators_and_continuation():
    assert items("x = 1; y = 2\n\n\nz = 3") == [Assign(x, i1), Assign(y, i2), Assign(Name("z"), i3)]
    assert items("\n\n# comment\nx = 1\n") == [Assign(x, i1)]
    assert one("x = a +\n    b") == Assign(x, call("+", a, b))
    assert one("x = f(a,\n      b)") == Assign(x, Call(Name("f"), [a, b]))
    assert one("x = (a\n  + b)") == Assign(x, call("+", a, b))
    assert one("x = a ?\n b :\n c") == Assign(x, Ternary(a, b, c))
    assert one("x = 1 #= a #= nested =# comment =# + 2") == Assign(x, call("+", i1, i2))


# ============================================================================= definitions
def test_function_long_form():
    node = one("function f(x, y::Float32, z::Matrix{Float32}=zeros(2); k=1, kw::Int=2)\n  return x\nend")
    assert node == FunctionDef(
        "f",
        [Param("x"), Param("y", Name("Float32")),
         Param("z", Curly(Name("Matrix"), [Name("Float32")]), Call(Name("zeros"), [i2]))],
        [Param("k", None, i1), Param("kw", Name("Int"), i2)],
        [], ast.Block([Return(x)]))


def test_function_short_forms():
    assert one("f(x) = x + 1") == FunctionDef("f", [Param("x")], [], [], ast.Block([ExprStmt(call("+", x, i1))]))
    assert one("f(x)::Float64 = x").return_type == Name("Float64")
    assert one("f(xs...) = xs").params == [Param("xs", splat=True)]
    assert one("f(xs::Int...) = xs").params == [Param("xs", Name("Int"), splat=True)]
    assert one("applychain(::Tuple{}, x) = x").params == [Param(None, Curly(Name("Tuple"), [])), Param("x")]
    assert one("f(x) = begin\n  x\nend").body == ast.Block([ExprStmt(x)])


def test_where_clauses():
    node = one("f(x::T) where T<:Real = x")
    assert node.where == [TypeVar("T", Name("Real"))] and node.params == [Param("x", Name("T"))]
    assert one("g(x::T, n::N) where {T<:Real, N} = x").where == [TypeVar("T", Name("Real")), TypeVar("N")]
    assert one("function g(x::AbstractVector{T}) where T\n  x\nend").where == [TypeVar("T")]
    assert one("function h(x::T)::T where T\n  x\nend").return_type == Name("T")


def test_callable_struct_methods():
    node = one("(d::Dense)(x) = tanh.(d.W * x .+ d.b)")
    assert node.name is None and node.self_param == Param("d", Name("Dense")) and node.params == [Param("x")]
    node = one("function (d::Dense)(x)\n  d.W * x\nend")
    assert node.name is None and node.self_param == Param("d", Name("Dense"))
    assert one("(::Dense)(x) = x").self_param == Param(None, Name("Dense"))


def test_qualified_and_operator_definitions():
    node = one("Base.show(x) = 1")
    assert (node.qualified, node.name) == ("Base", "show")
    assert one("≈(a::Number, b::Number) = isapprox(a, b)").name == "≈"
    node = one("a ⊻ b = xor(a, b)")
    assert node.name == "⊻" and node.params == [Param("a"), Param("b")]


def test_structs():
    node = one("struct Point\n  x::Float64\n  y\nend")
    assert node == StructDef("Point", [], None, [("x", Name("Float64")), ("y", None)])
    node = one("mutable struct Dense{M<:AbstractMatrix,V} <: Layer\n  W::M\n  b::V\nend")
    assert node == StructDef("Dense", [TypeVar("M", Name("AbstractMatrix")), TypeVar("V")], Name("Layer"),
                             [("W", Name("M")), ("b", Name("V"))], mutable=True)


def test_abstract_types():
    assert one("abstract type Shape end") == ast.AbstractTypeDef("Shape", [], None)
    assert one("abstract type Layer{T} <: Any end") == ast.AbstractTypeDef("Layer", [TypeVar("T")], Name("Any"))


def test_type_is_still_a_variable_name():
    assert one("type = 1") == Assign(Name("type"), i1)


def test_const_and_using():
    assert one("const N = 4") == ConstDef("N", IntLit(4))
    assert one("using LinearAlgebra") == Using("using", ["LinearAlgebra"])
    assert one("using LinearAlgebra, Statistics") == Using("using", ["LinearAlgebra", "Statistics"])
    assert one("using NNlib: conv, relu") == Using("using", ["NNlib"], ["conv", "relu"])
    assert items("import Base: +\nx = 1") == [Using("import", ["Base"], ["+"]), Assign(x, i1)]


# ============================================================================= macros
def test_macros_wrap_statements_and_expressions():
    node = one("@inbounds for i in 1:n\n  x[i] = 1\nend")
    assert isinstance(node, MacroCall) and node.name == "inbounds" and isinstance(node.args[0], For)
    node = one("@simd for i in 1:n\nend")
    assert node.name == "simd" and isinstance(node.args[0], For)
    assert one("@inbounds x[i] = v") == MacroCall("inbounds", [Assign(Index(x, [Name("i")]), Name("v"))])
    assert one("y = @views x[1:2]") == Assign(y, MacroCall("views", [Index(x, [Range(i1, None, i2)])]))
    assert isinstance(one("@inline f(x) = x"), FunctionDef)


def test_assert_with_message():
    assert one('@assert x > 0 "x must be positive"') == MacroCall(
        "assert", [call(">", x, IntLit(0)), StringLit("x must be positive")])


def test_comprehension_over_several_lines():
    node = expr("[a[1] for a in xs\n     if a > 0]")
    assert node == Generator(Index(a, [i1]), [(a, Name("xs"))], call(">", a, IntLit(0)))


def test_dot_macro():
    assert one("@. y = a * x + sin(b)") == Assign(
        y, bc("+", bc("*", a, x), Broadcast(Name("sin"), [b])), dotted=True)
    assert one("@. z += x") == Assign(Name("z"), x, op="+", dotted=True)
    # calls of something other than a plain name are left alone
    assert expr("@. a + d.f(x)") == bc("+", a, Call(Field(Name("d"), "f"), [x]))
    assert one("y = @. x^2") == Assign(y, bc("^", x, i2))


# ============================================================================= spans
def test_spans():
    module = parse("function f(x)\n    y = x[end-1] + 2x\n    return -y\nend", "s.jl")
    func = module.items[0]
    assert (func.span.file, func.span.line, func.span.col, func.span.end_line, func.span.end_col) == (
        "s.jl", 1, 1, 4, 4)
    assign = func.body.stmts[0]
    assert (assign.span.line, assign.span.col, assign.span.end_col) == (2, 5, 22)
    plus = assign.value
    assert (plus.span.col, plus.span.end_col) == (9, 22)
    assert (plus.func.span.col, plus.func.span.end_col) == (18, 19)        # the `+`
    index = plus.args[0]
    assert (index.span.col, index.span.end_col) == (9, 17)
    ret = func.body.stmts[1]
    assert (ret.span.line, ret.span.col, ret.span.end_col) == (3, 5, 14)


def test_every_node_has_a_span():
    src = open_example()
    module = parse(src, "ex.jl")

    def walk(node):
        if isinstance(node, ast.Node):
            assert node.span is not None, node
            for name in node.__dataclass_fields__:
                if name != "span":
                    walk(getattr(node, name))
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)

    walk(module)


# ============================================================================= whole programs
EXAMPLE = '''
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
applychain(::Tuple{}, x) = x
applychain(fs::Tuple, x) = applychain(Base.tail(fs), first(fs)(x))
struct Dense{M,V}
    W::M
    b::V
end
(d::Dense)(x) = tanh.(d.W * x .+ d.b)
function red(X::Matrix{Float64})
    return (sum(X), sum(X; dims=1), maximum(X; dims=2), prod(X[1, :]), minimum(X),
            sum(abs2, X), sum(x -> x > 0 ? 1 : 0, X))
end
function heat(u0::Matrix{Float64}, steps::Int64)
    u = copy(u0)
    for s in 1:steps
        u[2:end-1, 2:end-1] .= u[2:end-1, 2:end-1] .+ 0.1 .* (u[1:end-2, 2:end-1] .+ u[3:end, 2:end-1] .+
                               u[2:end-1, 1:end-2] .+ u[2:end-1, 3:end] .- 4 .* u[2:end-1, 2:end-1])
    end
    return u
end
function intops(a::Int64, b::Int64)
    return (a ÷ b, a % b, mod(a, b), a / b, a^2, (-a) ÷ b, div(-a, b), rem(-a, b), mod(-a, b),
            a & b, a | b, xor(a, b), a << 2, -a >> 1)
end
inside = [0.0 <= xi < 1.0 for xi in x]
M = [i * j for i in 1:3, j in 1:4]
g = gradient(w -> loss(w, x, y), W)[1]
res = withgradient(w -> loss(w, x, y), W); res.val; res.grad[1]
for k in n-1:-1:1 end
x = A' * v; y = v' * v; shapes = (Circle(r), Rect(w, h), Circle(2r))
y = conv(x, w; pad=1); y = relu.(y .+ reshape(b, 1, 1, :, 1)); maxpool(y, (2, 2))
println("x = ", x)
'''


def open_example() -> str:
    return EXAMPLE


def test_example_program():
    module = parse(EXAMPLE, "ex.jl")
    kinds = [type(item).__name__ for item in module.items]
    assert kinds == ["FunctionDef", "FunctionDef", "FunctionDef", "FunctionDef", "StructDef", "FunctionDef",
                     "FunctionDef", "FunctionDef", "FunctionDef", "Assign", "Assign", "Assign", "Assign",
                     "ExprStmt", "ExprStmt", "For", "Assign", "Assign", "Assign", "Assign", "Assign", "ExprStmt",
                     "ExprStmt"]
    heat = module.items[7]
    update = heat.body.stmts[1].body.stmts[0]
    assert update.dotted and update.op is None
    assert update.target.indices[0] == Range(i2, None, call("-", End(), i1))
    intops = module.items[8].body.stmts[0].value
    assert intops.items[5] == call("÷", call("-", a), b)
    assert intops.items[-1] == call(">>", call("-", a), i1)
    escape = module.items[0]
    swap = escape.body.stmts[2].body.stmts[1]
    assert isinstance(swap.target, TupleExpr) and isinstance(swap.value, TupleExpr)


def test_grammar_has_no_lalr_conflicts(caplog):
    import importlib.resources
    import logging

    from lark import Lark, logger

    grammar = (importlib.resources.files("jlhlo.grammar") / "julia.lark").read_text(encoding="utf-8")
    logger.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG, logger="lark"):
            Lark(grammar, parser="lalr", lexer="contextual", debug=True)
    finally:
        logger.setLevel(logging.WARNING)
    assert not [r for r in caplog.records if "conflict" in r.getMessage().lower()]


# ============================================================================= syntax errors
def test_missing_end_points_at_the_unclosed_block():
    e = error("function f(x)\n    if x > 0\n        return 1\n    return 2\nend\ng(x) = 3\n")
    assert e.span.line == 2 and e.span.col == 5
    assert "missing `end` for `if` opened at line 2" in e.message


def test_missing_end_of_function():
    e = error("function f(x)\n    x\n")
    assert e.span.line == 1 and "missing `end` for `function`" in e.message and "end of file" in e.message


def test_stray_end():
    e = error("x = 1\nend\n")
    assert e.span.line == 2 and "unexpected `end`" in e.message


def test_unterminated_brackets():
    e = error("f(x, y\n")
    assert e.span.line == 1 and e.span.col == 2 and "missing `)`" in e.message
    e = error("x = [1, 2\n")
    assert e.span.line == 1 and "missing `]`" in e.message
    e = error("function f()\n    y = (1, 2\n    return y\nend\n")
    assert e.span.line == 3 and "line 2" in e.message


def test_mismatched_bracket():
    e = error("x = (1, 2]")
    assert (e.span.line, e.span.col) == (1, 10) and "expected `)`" in e.message


def test_unexpected_token():
    e = error("f(x,, y)")
    assert (e.span.line, e.span.col) == (1, 5) and e.message.startswith("unexpected token ','")
    e = error("x = 1\ny = 1 + * 2")
    assert (e.span.line, e.span.col) == (2, 9) and "'*'" in e.message


def test_unexpected_end_of_file():
    e = error("x = 1 +")
    assert e.span.line == 1 and "end of file" in e.message


@pytest.mark.parametrize("src, words", [
    ("try\n  x\ncatch\nend", "`try` is not supported"),
    ("quote x end", "`quote` is not supported"),
    ("x = 'a'", "character literals"),
    ("x = $y", "unexpected character '$'"),
    ('x = "abc', "unterminated string"),
    ("#= open comment", "unterminated comment"),
    ("f(x) where T", "`where`"),
    ("f(::Int)", "`::T`"),
    ("x = [1 2, 3]", "cannot mix"),
    ("1:2:3:4", "at most three parts"),
    ("struct S\n  f(x) = 1\nend", "field declarations"),
    ("f(x) + 1 = 2", "expected a parameter"),
    ("1 = 2", "invalid assignment target"),
])
def test_error_messages(src, words):
    e = error(src)
    assert words in e.message
    assert e.span is not None and e.span.line >= 1


def test_errors_render_with_a_caret():
    src = "x = (1, 2]"
    text = error(src).render({"test.jl": src})
    assert text.splitlines()[0].startswith("test.jl:1:10: error:")
    assert text.splitlines()[-1].strip() == "^"


@pytest.mark.parametrize("one_line, multi_line", [
    ("function f(x) x + 1 end", "function f(x)\n    x + 1\nend"),
    ("g = function (t) t + 1 end", "g = function (t)\n    t + 1\nend"),
    ("if x > 0 1 elseif x < 0 2 else 0 end", "if x > 0\n    1\nelseif x < 0\n    2\nelse\n    0\nend"),
    ("for i in 1:3 s += i end", "for i in 1:3\n    s += i\nend"),
    ("while x < 3 x += 1 end", "while x < 3\n    x += 1\nend"),
    ("function f(x::T) where T x end", "function f(x::T) where T\n    x\nend"),
    ("map(function (t) t + 1 end, xs)", "map(function (t)\n    t + 1\nend, xs)"),
])
def test_one_line_blocks(one_line, multi_line):
    """A header and its body on one line: the header ends where two operands meet, as in Julia."""
    assert parse(one_line, "t.jl").items[-1] == parse(multi_line, "t.jl").items[-1]


def test_else_if_on_one_line_is_julias_syntax_error():
    """Julia's parser refuses `else if` on one line (`else` then a new line with `if` is a nested `if`)."""
    src = "function f(a)\n    if a > 0\n        1\n    else if a < -1\n        2\n    end\n    end\nend\n"
    with pytest.raises(JuliaError, match='use "elseif" instead of "else if"') as info:
        parse(src, "t.jl")
    assert (info.value.span.line, info.value.span.col) == (4, 10)
    parse(src.replace("else if", "else\n        if"), "t.jl")
