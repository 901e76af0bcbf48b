"""The built-in functors and operators, one row each (the idea of Soufflé's ``FunctorOps``).

Every other part of the engine reads this table and nothing else about them: the parser
(which words are functors, constraints and operators, and the operators' precedence), the
type checks (arity, argument and result kinds), the code generator (the Python it writes, which
calls can fail, which unsigned results wrap) and the run time (the helper functions compiled
rules call). Adding a functor is adding one row to :data:`TABLE`.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import runtime
from .syntax import BinOp, Call, Expr, UnOp

#: An argument kind: a symbol, any numeric kind (number, unsigned, float), or anything.
ArgKind = str  # "symbol" | "number" | "any"

#: A result: a kind (symbol number unsigned float), ``same`` (the kind of the arguments: float
#: if one is, else the first known), ``arith`` (arithmetic: float if an argument is, else
#: unsigned if one is, else number once one is known), ``bits`` (unsigned if an argument is,
#: else number), or ``bool`` (a truth value, of no column kind).
Result = str

#: Where a row is written: ``functor`` (``name(args)``), ``constraint`` (a boolean functor,
#: also a body literal: ``match(p, s)``, ``!match(p, s)``), ``binary`` (an infix operator),
#: ``unary`` (a prefix operator).
Form = str

#: The code of an inline row: a template over the arguments' code (``{0}``, ``{1}``,
#: ``{args}`` for all of them joined by commas) or a function of that code.
Inline = str | Callable[[list[str]], str]


@dataclass(frozen=True)
class Functor:
    """One built-in functor or operator."""

    name: str  # as written in the language
    form: Form
    params: tuple[ArgKind, ...]  # one per argument; variadic: the last one repeats
    result: Result
    impl: Callable[..., Any]  # what it computes, in Python (helpers call this)
    inline: Inline | None = None  # Python written in the rule's code; None: call ``impl``
    fallible: bool = False  # can raise on a value (guarded: a failure skips the tuple)
    variadic: bool = False  # at least len(params) arguments
    wraps: bool = False  # an unsigned result wraps to 32 bits (Soufflé's default domain)
    level: int | None = None  # binary operators: precedence (higher binds tighter)
    key: str = ""  # a Python name for the row when ``name`` is not one (``+``: ``add``)
    stateful: bool = False  # a different value at each call (never computed once for all)
    regex_arg: int | None = None  # the argument that is a regular expression (RE2)
    negated_impl: Callable[..., Any] | None = None  # constraints whose negation can fail

    @property
    def helper(self) -> str:
        """The name the generated code calls ``impl`` by."""
        return f"_{self.key or self.name}"

    @property
    def negated_helper(self) -> str:
        return f"_not_{self.key or self.name}"

    def accepts(self, count: int) -> bool:
        """Whether ``count`` arguments are right."""
        return count >= len(self.params) if self.variadic else count == len(self.params)

    def param(self, i: int) -> ArgKind:
        """The kind of argument ``i`` (variadic: the last parameter's for the rest)."""
        return self.params[min(i, len(self.params) - 1)]

    def code(self, args: list[str]) -> str | None:
        """The inline Python for a call on ``args`` (code), or None if it calls a helper."""
        if self.inline is None:
            return None
        if isinstance(self.inline, str):
            return self.inline.format(*args, args=", ".join(args))
        return self.inline(args)


def _cat_code(args: list[str]) -> str:
    return "(" + " + ".join(args) + ")" if len(args) > 1 else args[0]


def _cat(*parts: str) -> str:
    return "".join(parts)


def _contains(needle: str, text: str) -> bool:
    return needle in text


def _binary(name: str, level: int, impl: Callable[..., Any], *, key: str = "",
            inline: str | None = None, fallible: bool = False, wraps: bool = False,
            result: Result = "arith") -> Functor:
    return Functor(name, "binary", ("number", "number"), result, impl, inline, fallible,
                   wraps=wraps, level=level, key=key)


TABLE: tuple[Functor, ...] = (
    # functors: name(args)
    Functor("cat", "functor", ("symbol",), "symbol", _cat, _cat_code, variadic=True),
    Functor("strlen", "functor", ("symbol",), "number", len, "len({0})"),
    Functor("substr", "functor", ("symbol", "number", "number"), "symbol", runtime.substr,
            fallible=True),
    Functor("ord", "functor", ("symbol",), "number", runtime.ord_),
    Functor("to_number", "functor", ("any",), "number", runtime.to_number, fallible=True),
    Functor("to_unsigned", "functor", ("any",), "unsigned", runtime.to_number, fallible=True,
            wraps=True),
    Functor("to_float", "functor", ("any",), "float", runtime.to_float, fallible=True),
    Functor("to_string", "functor", ("number",), "symbol", runtime.to_string, fallible=True),
    Functor("itof", "functor", ("number",), "float", runtime.to_float, fallible=True),
    Functor("utof", "functor", ("number",), "float", runtime.to_float, fallible=True),
    Functor("ftoi", "functor", ("number",), "number", runtime.ftoi, fallible=True),
    Functor("ftou", "functor", ("number",), "unsigned", runtime.ftoi, fallible=True,
            wraps=True),
    Functor("itou", "functor", ("number",), "unsigned", int, "int({0})", wraps=True),
    Functor("utoi", "functor", ("number",), "number", int, "int({0})"),
    Functor("abs", "functor", ("number",), "same", abs, "abs({0})"),
    Functor("min", "functor", ("any",), "same", min, "min({args})", variadic=True),
    # a new number at each call (unique in the process; Soufflé: in the run), from 0
    Functor("autoinc", "functor", (), "number", itertools.count().__next__, stateful=True),
    Functor("max", "functor", ("any",), "same", max, "max({args})", variadic=True),
    # constraints: boolean functors, also written as body literals
    Functor("contains", "constraint", ("symbol", "symbol"), "bool", _contains,
            "({0} in {1})"),
    Functor("match", "constraint", ("symbol", "symbol"), "bool", runtime.match,
            fallible=True, regex_arg=0, negated_impl=runtime.not_match),
    # prefix operators
    Functor("-", "unary", ("number",), "same", operator.neg, "(-{0})", key="neg",
            wraps=True),
    Functor("bnot", "unary", ("number",), "bits", operator.invert, "(~{0})", wraps=True),
    Functor("lnot", "unary", ("number",), "bits", runtime.lnot),
    # infix operators, loosest first
    _binary("lor", 0, runtime.lor, result="bits"),
    _binary("lxor", 1, runtime.lxor, result="bits"),
    _binary("land", 2, runtime.land, result="bits"),
    _binary("bor", 3, operator.or_, inline="({0} | {1})", result="bits"),
    _binary("bxor", 4, operator.xor, inline="({0} ^ {1})", result="bits"),
    _binary("band", 5, operator.and_, inline="({0} & {1})", result="bits"),
    _binary("bshl", 6, runtime.shl, fallible=True, wraps=True, result="bits"),
    _binary("bshr", 6, runtime.shr, fallible=True, result="bits"),
    _binary("bshru", 6, runtime.shru, fallible=True, result="bits"),
    _binary("+", 7, operator.add, key="add", inline="({0} + {1})", wraps=True),
    _binary("-", 7, operator.sub, key="sub", inline="({0} - {1})", wraps=True),
    _binary("*", 8, operator.mul, key="mul", inline="({0} * {1})", wraps=True),
    _binary("/", 8, runtime.div, key="div", fallible=True),
    _binary("%", 8, runtime.mod, key="mod", fallible=True),
    _binary("^", 9, runtime.power, key="pow", fallible=True, wraps=True),
)

# ---- the views the rest of the engine reads ----------------------------------------------

FUNCTORS: dict[str, Functor] = {f.name: f for f in TABLE if f.form in ("functor", "constraint")}
#: Boolean functors, also body literals (``match(p, s)``, ``!contains(a, b)``).
CONSTRAINTS = frozenset(f.name for f in TABLE if f.form == "constraint")
BINARY: dict[str, Functor] = {f.name: f for f in TABLE if f.form == "binary"}
UNARY: dict[str, Functor] = {f.name: f for f in TABLE if f.form == "unary"}
#: Operators written as words (``x band y``, ``bnot x``): never the name of a relation.
OPERATOR_WORDS = frozenset(f.name for f in TABLE if f.form in ("binary", "unary")
                           and f.name.isidentifier())
#: Binary operators written as symbols (``+ - * / % ^``).
SYMBOL_OPERATORS = frozenset(name for name in BINARY if not name.isidentifier())
#: Binary operator -> precedence level (0 binds loosest).
PRECEDENCE: dict[str, int] = {f.name: f.level for f in BINARY.values() if f.level is not None}
#: ``^`` groups to the right, the other binary operators to the left.
RIGHT_ASSOCIATIVE = frozenset({"^"})


def row_of(e: Expr | None) -> Functor | None:
    """The row of an operator or built-in call, or None (a user functor, any other node)."""
    if isinstance(e, BinOp):
        return BINARY[e.op]
    if isinstance(e, UnOp):
        return UNARY[e.op]
    if isinstance(e, Call) and not e.user:
        return FUNCTORS.get(e.name)
    return None


def args_of(e: Expr | None) -> tuple[Expr, ...]:
    """The operands of an operator or the arguments of a call."""
    if isinstance(e, BinOp):
        return (e.left, e.right)
    if isinstance(e, UnOp):
        return (e.arg,)
    if isinstance(e, Call):
        return e.args
    return ()


def helpers() -> dict[str, Callable[..., Any]]:
    """Every helper the generated code may call, by name (the runtime's view)."""
    out: dict[str, Callable[..., Any]] = {}
    for f in TABLE:
        out[f.helper] = f.impl
        if f.negated_impl is not None:
            out[f.negated_helper] = f.negated_impl
    return out


def fallible_helpers() -> dict[str, str]:
    """Helper name -> the name a failure is reported under (``!match`` for a negation)."""
    out: dict[str, str] = {}
    for f in TABLE:
        if f.fallible:
            out[f.helper] = f.name
        if f.negated_impl is not None:
            out[f.negated_helper] = f"!{f.name}"
    return out


HELPERS = helpers()
FALLIBLE = fallible_helpers()


def combine(result: Result, kinds: list[str | None]) -> str | None:
    """The result kind of a row from its arguments' kinds (None: not known), as the type
    checks see it."""
    known = [k for k in kinds if k is not None]
    if result == "same":
        return ("float" if "float" in known else known[0]) if known else None
    if result == "arith":
        if "float" in known:
            return "float"
        if "unsigned" in known:
            return "unsigned"
        return "number" if known else None
    if result == "bits":
        return "unsigned" if "unsigned" in known else "number"
    if result == "bool":
        return None
    return result


def value_kind(f: Functor, kinds: list[str | None]) -> str | None:
    """``unsigned`` or ``float`` when a row's value is one at run time, else None (the code
    generator's view: it decides where unsigned arithmetic wraps)."""
    if f.result in ("unsigned", "float"):
        return f.result
    if f.result in ("same", "arith", "bits"):
        return "float" if "float" in kinds else "unsigned" if "unsigned" in kinds else None
    return None
