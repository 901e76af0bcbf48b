"""Parse Datalog source (a subset of Soufflé) into a :class:`Module`, following includes."""

from __future__ import annotations

import itertools
from pathlib import Path

from .builtin_functors import (
    CONSTRAINTS,
    FUNCTORS,
    OPERATOR_WORDS,
    PRECEDENCE,
    RIGHT_ASSOCIATIVE,
    SYMBOL_OPERATORS,
    UNARY,
)
from .files import FileRefused, decode_utf8, digest, read_regular
from .lexer import LexError, Token, tokenize
from .limits import DEFAULT_LIMITS, MAX_SOURCE_BYTES, Limits, limit_hint
from .syntax import (
    RECORD,
    U32,
    Aggregate,
    Atom,
    BinOp,
    Call,
    Column,
    Comparison,
    Component,
    ComponentInit,
    ComponentType,
    Const,
    Constraint,
    Declaration,
    Disjunction,
    Expr,
    FunctorDecl,
    IODirective,
    KeyDecl,
    KeyPart,
    Literal,
    Location,
    Module,
    NegatedGroup,
    Negation,
    Override,
    PlumbingMark,
    Rule,
    Truth,
    TypeDecl,
    UnOp,
    Var,
    Wildcard,
    expr_depth,
)

#: The marker atom that starts the body of ``R(a) <= R(b) :- body`` (no relation's name)
SUBSUMES = "<="

#: Functors the parser accepts that desugar.py rewrites (not in the functor table).
DESUGARED = {"range"}
AGGREGATES = {"count", "sum", "min", "max", "mean"}
COMPARISON_OPS = {"=", "!=", "<", "<=", ">", ">="}
IGNORED_QUALIFIERS = {"brie", "btree", "btree_delete", "inline", "no_inline", "magic",
                      "no_magic", "overridable"}
#: How deeply parentheses, operators and aggregates may nest (the parser recurses on them).
MAX_NESTING = 200
#: How deep an expression's tree may be (the checks and the generated Python recurse on it).
MAX_EXPR_DEPTH = 64
#: How deeply ``#include`` may nest.
MAX_INCLUDE_DEPTH = 64
#: How deeply component definitions may nest (``.comp`` inside ``.comp``).
MAX_COMPONENT_NESTING = 64
COMPONENT_DIRECTIVES = {"comp", "init", "override"}


class ParseError(Exception):
    def __init__(self, loc: Location, message: str) -> None:
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message


def _describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "end of file"
    if tok.kind == "string":
        return f"string {tok.text}"
    if tok.kind == "directive":
        return f"'.{tok.text}'"
    return f"'{tok.text}'"


class _Parser:
    def __init__(self, tokens: list[Token], text: str, limits: Limits = DEFAULT_LIMITS,
                 errors: list[str] | None = None) -> None:
        self.limits = limits
        self.errors = [] if errors is None else errors  # errors inside components' bodies
        self.comp_depth = 0
        self.toks = tokens
        self.text = text
        self.pos = 0
        self.depth = 0
        self.in_expr = 0  # expr() calls under way (an aggregate's body starts again at 0)
        # parenthesised bodies tried at a token position: the literal (None: not a body)
        # and the position after it
        self.groups: dict[int, tuple[Literal | None, int]] = {}
        self.closing: dict[int, int] | None = None  # "(" token index -> its ")"

    # ---- token helpers -------------------------------------------------------------------
    def names_a_relation(self) -> bool:
        """At ``name(…)`` where name is also a functor's (``abs(f, _, b)``): an atom when
        what follows the ``)`` ends a literal (no comparison after it)."""
        if self.closing is None:  # matching parentheses, found once in linear time
            self.closing = {}
            opened: list[int] = []
            for i, tok in enumerate(self.toks):
                if tok.kind == "punct" and tok.text == "(":
                    opened.append(i)
                elif tok.kind == "punct" and tok.text == ")" and opened:
                    self.closing[opened.pop()] = i
        end = self.closing.get(self.pos + 1)
        if end is None or end + 1 >= len(self.toks):
            return False
        after = self.toks[end + 1]
        return after.kind == "eof" or (after.kind == "punct" and
                                       after.text in (",", ".", ";", ")", "}"))

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def at(self, text: str) -> bool:
        t = self.tok
        return t.kind in ("punct", "ident") and t.text == text

    def advance(self) -> Token:
        t = self.tok
        if t.kind != "eof":
            self.pos += 1
        return t

    def fail(self, expected: str) -> ParseError:
        return ParseError(self.tok.loc, f"syntax error: expected {expected}, found "
                          f"{_describe(self.tok)}")

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.fail(f"'{text}'")
        return self.advance()

    def ident(self, what: str = "a name") -> Token:
        if self.tok.kind != "ident":
            raise self.fail(what)
        return self.advance()

    def qualified_length(self) -> int:
        """How many tokens the qualified name here takes (``a.b.R``: 5; 0 if none). The dots
        touch the names, so that a clause's final '.' is never read as one."""
        if self.tok.kind != "ident":
            return 0
        k = 1
        while True:
            dot, name = self.peek(k), self.peek(k + 1)
            if not (dot.kind == "punct" and dot.text == "." and name.kind == "ident"
                    and self.peek(k - 1).end == dot.start and dot.end == name.start):
                return k
            k += 2

    def qualified_name(self, what: str = "a name") -> Token:
        """A name, or a qualified name ``inst.Rel`` (a component's instance), as one token."""
        k = self.qualified_length()
        if k == 0:
            raise self.fail(what)
        first, last = self.tok, self.peek(k - 1)
        self.pos += k
        if k == 1:
            return first
        text = self.text[first.start : last.end]
        return Token("ident", text, text, first.loc, first.start, last.end)

    # ---- directives ----------------------------------------------------------------------
    def columns(self, names_optional: bool = False) -> list[Column]:
        self.expect("(")
        cols: list[Column] = []
        if not self.at(")"):
            while True:
                first = self.ident("a column name")
                if self.at(":"):
                    self.advance()
                    ty = self.qualified_name("a type name")
                    cols.append(Column(first.text, ty.text, ty.loc))
                elif names_optional:
                    cols.append(Column(f"arg{len(cols)}", first.text, first.loc))
                else:
                    raise self.fail("':' and a type after the column name")
                if self.at(","):
                    self.advance()
                    continue
                break
        self.expect(")")
        return cols

    def options(self) -> dict[str, str]:
        opts: dict[str, str] = {}
        if not self.at("("):
            return opts
        self.advance()
        while not self.at(")"):
            key = self.ident("an option name")
            self.expect("=")
            v = self.advance()
            if v.kind not in ("string", "ident", "number", "float"):
                raise ParseError(v.loc, f"syntax error: expected an option value, found "
                                 f"{_describe(v)}")
            opts[key.text] = str(v.value)
            if self.at(","):
                self.advance()
            elif not self.at(")"):
                raise self.fail("',' or ')'")
        self.advance()
        return opts

    def key(self) -> KeyDecl:
        """``.key Rel(col, ...), Rel2(col, ...)`` (checked in keys.py)."""
        parts: list[KeyPart] = []
        while True:
            name = self.ident("a relation name")
            self.expect("(")
            cols = [self.ident("a column name").text]
            while self.at(","):
                self.advance()
                cols.append(self.ident("a column name").text)
            self.expect(")")
            parts.append(KeyPart(name.text, cols, name.loc))
            if not self.at(","):
                return KeyDecl(parts, parts[0].loc)
            self.advance()

    def directive(self, module: Module) -> None:
        d = self.advance()
        kind = d.text
        if kind in COMPONENT_DIRECTIVES:
            self.component_directive(d, module)
        elif kind == "decl":
            self.decl_directive(module)
        elif kind in ("input", "output", "printsize", "limitsize"):
            self.io_directive(kind, module)
        elif kind == "plumbing":
            while True:
                name = self.qualified_name("a relation name")
                module.plumbing.append(PlumbingMark(name.text, name.loc))
                if not self.at(","):
                    break
                self.advance()
        elif kind == "key":
            module.keys.append(self.key())
        elif kind in ("type", "symbol_type", "number_type"):
            self.type_directive(kind, module)
        elif kind == "functor":
            self.functor_directive(module)
        elif kind == "pragma":
            key = self.advance()
            value = self.advance() if self.tok.kind == "string" else key
            module.pragmas.append((str(key.value), str(value.value)))
        else:
            raise ParseError(d.loc, f"'.{kind}' is not supported")

    def decl_directive(self, module: Module) -> None:
        """``.decl A, B(cols) qualifiers``."""
        names = [self.qualified_name("a relation name")]
        while self.at(","):
            self.advance()
            names.append(self.qualified_name("a relation name"))
        cols = self.columns()
        decls = [Declaration(name.text, cols, name.loc) for name in names]
        module.declarations.extend(decls)
        qualifiers = IGNORED_QUALIFIERS | {"input", "output", "printsize", "eqrel",
                                           "plumbing"}
        while self.tok.kind == "ident" and self.tok.text in qualifiers:
            q = self.advance()
            if q.text == "plumbing":
                module.plumbing.extend(PlumbingMark(name.text, q.loc) for name in names)
            elif q.text in ("input", "output", "printsize"):
                for name in names:
                    module.io.append(IODirective(q.text, name.text, {}, q.loc))
            elif q.text == "eqrel":
                eqrel(q, decls, module)
            elif q.text == "inline":
                module.inline.extend(name.text for name in names)
            elif q.text == "overridable":
                for decl in decls:
                    decl.overridable = True

    def io_directive(self, kind: str, module: Module) -> None:
        """``.input A(options), B`` (``.output``, ``.printsize``; ``.limitsize`` is read and
        ignored)."""
        while True:
            name = self.qualified_name("a relation name")
            opts = self.options()
            if kind != "limitsize":
                module.io.append(IODirective(kind, name.text, opts, name.loc))
            if not self.at(","):
                break
            self.advance()

    def type_directive(self, kind: str, module: Module) -> None:
        """``.type T <: base``, ``.type T = A | B``, ``.type R = [fields]`` (a record),
        ``.symbol_type T``, ``.number_type T``."""
        name = self.ident("a type name")
        if kind != "type":
            base = "symbol" if kind == "symbol_type" else "number"
            module.types.append(TypeDecl(name.text, [base], name.loc))
            return
        if self.at("<:"):
            self.advance()
            base_tok = self.ident("a type name")
            module.types.append(TypeDecl(name.text, [base_tok.text], name.loc))
        elif self.at("="):
            self.advance()
            if self.at("["):
                module.records[name.text] = self.record_fields()
                module.types.append(TypeDecl(name.text, ["symbol"], name.loc))
                return
            bases = [self.ident("a type name").text]
            if self.at("{"):
                raise ParseError(self.tok.loc, "algebraic data types are not supported")
            while self.at("|"):
                self.advance()
                bases.append(self.ident("a type name").text)
            module.types.append(TypeDecl(name.text, bases, name.loc))
        else:
            raise self.fail("'<:' or '='")

    def functor_directive(self, module: Module) -> None:
        """``.functor f(params): result [stateful]``."""
        name = self.ident("a functor name")
        params = self.columns(names_optional=True)
        self.expect(":")
        result = self.ident("a result type")
        if self.at("stateful"):
            self.advance()
        module.functors.append(FunctorDecl(name.text, params, result.text, name.loc))

    # ---- components (expanded by components.py) ------------------------------------------
    def component_directive(self, d: Token, module: Module) -> None:
        if d.text == "comp":
            self.component(d, module)
        elif d.text == "init":
            name = self.ident("an instance name")
            self.expect("=")
            module.inits.append(ComponentInit(name.text, self.component_type(), name.loc))
        else:
            name = self.qualified_name("a relation name")
            module.overrides.append(Override(name.text, name.loc))

    def component_type(self) -> ComponentType:
        name = self.ident("a component name")
        params: list[str] = []
        if self.at("<"):
            self.advance()
            params.append(self.ident("a type parameter").text)
            while self.at(","):
                self.advance()
                params.append(self.ident("a type parameter").text)
            self.expect(">")
        return ComponentType(name.text, params, name.loc)

    def component(self, d: Token, module: Module) -> None:
        """``.comp Name<T…> : Base<…>, … { body }``; an error in the body is recorded and
        parsing goes on after it, as at the top level."""
        ctype = self.component_type()
        bases: list[ComponentType] = []
        if self.at(":"):
            self.advance()
            bases.append(self.component_type())
            while self.at(","):
                self.advance()
                bases.append(self.component_type())
        self.expect("{")
        if self.comp_depth >= MAX_COMPONENT_NESTING:
            self.pos = len(self.toks) - 1  # the rest of the file is not read
            raise ParseError(d.loc, f"components nested too deeply (more than "
                             f"{MAX_COMPONENT_NESTING} levels)")
        body = Module()
        self.comp_depth += 1
        try:
            while not self.at("}"):
                if self.tok.kind == "eof":
                    raise ParseError(d.loc, "unterminated component, missing '}'")
                self.component_item(body)
        finally:
            self.comp_depth -= 1
        self.advance()
        module.components.append(Component(ctype, bases, body, d.loc))

    def component_item(self, body: Module) -> None:
        try:
            self.depth = self.in_expr = 0
            if self.tok.kind == "directive":
                self.directive(body)
            elif self.tok.kind == "include":  # consumed: the recovery below stops at one
                raise ParseError(self.advance().loc, "#include inside a component is not "
                                 "supported")
            else:
                self.clause(body)
        except ParseError as e:
            if self.tok.kind == "eof":
                raise
            self.errors.append(str(e))
            while self.tok.kind not in ("eof", "directive", "include") and \
                    not self.at(".") and not self.at("}"):
                self.advance()
            if self.at("."):
                self.advance()

    # ---- expressions ---------------------------------------------------------------------
    def nest(self) -> None:
        """Enter a nested part (an expression, a parenthesised body, an aggregate body)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ParseError(self.tok.loc, f"nested too deeply (more than {MAX_NESTING} levels "
                             "of parentheses, operators or aggregates)")

    def binary_level(self) -> int | None:
        t = self.tok
        if t.kind in ("punct", "ident"):
            return PRECEDENCE.get(t.text)
        return None

    def expr(self, level: int = 0) -> Expr:
        """Precedence climbing: the operators of ``level`` and above. The depth of the tree
        is checked once, by the outermost call (not again at each level of parentheses)."""
        self.nest()
        outermost = self.in_expr == 0
        self.in_expr += 1
        start = self.tok.loc
        left = self.unary()
        while True:
            op_level = self.binary_level()
            if op_level is None or op_level < level:
                break
            op = self.advance()
            right_level = op_level if op.text in RIGHT_ASSOCIATIVE else op_level + 1
            right = self.expr(right_level)
            left = BinOp(op.text, left, right, op.loc)
        self.depth -= 1
        self.in_expr -= 1
        if outermost and expr_depth(left) > MAX_EXPR_DEPTH:
            raise ParseError(start, f"expression nested too deeply (more than "
                             f"{MAX_EXPR_DEPTH} levels of operators and functors)")
        return left

    def unary(self) -> Expr:
        prefix: list[Token] = []
        while self.tok.kind in ("punct", "ident") and self.tok.text in UNARY:
            prefix.append(self.advance())
        e = self.primary()
        for t in reversed(prefix):
            if t.text != "-":
                e = UnOp(t.text, e, t.loc)
            elif isinstance(e, Const) and e.unsigned:
                assert isinstance(e.value, int)
                e = Const(-e.value & U32, t.loc, unsigned=True)
            elif isinstance(e, Const) and not isinstance(e.value, str):
                e = Const(-e.value, t.loc)
            else:
                e = UnOp("-", e, t.loc)
        return e

    def args(self) -> tuple[Expr, ...]:
        self.expect("(")
        out: list[Expr] = []
        if not self.at(")"):
            while True:
                out.append(self.expr())
                if self.at(","):
                    self.advance()
                    continue
                break
        if not self.at(")"):
            raise self.fail("',' or ')'")
        self.advance()
        return tuple(out)

    def record_args(self) -> tuple[Expr, ...]:
        """``[e, …]`` (``[]`` is an empty record)."""
        self.expect("[")
        out: list[Expr] = []
        while not self.at("]"):
            out.append(self.expr())
            if not self.at(","):
                break
            self.advance()
        self.expect("]")
        return tuple(out)

    def record_fields(self) -> list[Column]:
        """``[name: type, …]`` of a record type."""
        self.expect("[")
        cols: list[Column] = []
        while not self.at("]"):
            field = self.ident("a field name")
            self.expect(":")
            ty = self.ident("a type name")
            cols.append(Column(field.text, ty.text, ty.loc))
            if not self.at(","):
                break
            self.advance()
        self.expect("]")
        return cols

    def aggregate_body(self) -> tuple[Literal, ...]:
        """The literals of an aggregate: expressions of their own (checked on their own)."""
        outer, self.in_expr = self.in_expr, 0
        try:
            return self._aggregate_body()
        finally:
            self.in_expr = outer

    def _aggregate_body(self) -> tuple[Literal, ...]:
        if self.at("{"):
            self.advance()
            self.nest()
            body = self.body()
            self.expect("}")
            self.depth -= 1
            if len(body) != 1:
                raise ParseError(self.tok.loc, "disjunction in an aggregate body is not supported")
            return body[0]
        return (self.literal(),)

    def primary(self) -> Expr:
        t = self.tok
        if t.kind == "number" and t.text[-1] in "uU":  # an unsigned literal: 32-bit wrap
            self.advance()
            assert isinstance(t.value, int)
            return Const(t.value & U32, t.loc, unsigned=True)
        if t.kind == "number" or t.kind == "float" or t.kind == "string":
            self.advance()
            return Const(t.value, t.loc)
        if self.at("("):
            self.advance()
            e = self.expr()
            self.expect(")")
            return e
        if self.at("["):
            return Call(RECORD, self.record_args(), False, t.loc)
        if self.at("@"):
            self.advance()
            name = self.ident("a functor name")
            return Call(name.text, self.args(), True, t.loc)
        if t.kind == "ident":
            word = t.text
            if word == "_":
                self.advance()
                return Wildcard(t.loc)
            if word in AGGREGATES and (self.peek().text != "(" or word in ("min", "max")):
                nxt = self.peek()
                if word == "count" and nxt.text == ":":
                    self.advance()
                    self.advance()
                    return Aggregate("count", None, self.aggregate_body(), t.loc)
                if word != "count" and nxt.text not in ("(", ",", ")", ";", "."):
                    self.advance()
                    target = self.expr()
                    self.expect(":")
                    return Aggregate(word, target, self.aggregate_body(), t.loc)
            if self.peek().text == "(" and self.peek().kind == "punct":
                self.advance()
                args = self.args()
                if word in ("min", "max", "sum", "mean") and self.at(":") and len(args) == 1:
                    self.advance()
                    return Aggregate(word, args[0], self.aggregate_body(), t.loc)
                if word in FUNCTORS or word in DESUGARED:
                    return Call(word, args, False, t.loc)
                raise ParseError(t.loc, f"unknown functor '{word}'")
            self.advance()
            return Var(word, t.loc)
        raise self.fail("an expression")

    # ---- literals and bodies -------------------------------------------------------------
    def atom(self) -> Atom:
        name = self.qualified_name("a relation name")
        args = self.args()
        return Atom(name.text, args, name.loc)

    def literal(self) -> Literal:
        t = self.tok
        if self.at("!"):
            self.advance()
            if self.at("!") or self.at("("):
                return self.negated_group(t)
            if self.tok.kind == "ident" and self.tok.text in CONSTRAINTS:
                name = self.advance()
                return Constraint(name.text, self.args(), True, t.loc)
            k = self.qualified_length()
            if k == 0 or self.peek(k).text != "(":
                raise self.fail("a relation after '!'")
            return Negation(self.atom(), t.loc)
        k = self.qualified_length()
        if k > 1 and self.peek(k).text == "(":
            return self.atom()
        if t.kind == "ident" and self.peek().text == "(" and self.peek().kind == "punct":
            if t.text in CONSTRAINTS:
                self.advance()
                return Constraint(t.text, self.args(), False, t.loc)
            if t.text not in FUNCTORS and t.text not in AGGREGATES | OPERATOR_WORDS or \
                    self.names_a_relation():
                return self.atom()
        if t.kind == "ident" and t.text in ("true", "false") and self.peek().text != "(":
            self.advance()
            return Truth(t.text == "true", t.loc)
        if self.at("("):
            group = self.parenthesised_body()
            if group is not None:
                return group
        left = self.expr()
        if not (self.tok.kind == "punct" and self.tok.text in COMPARISON_OPS):
            raise self.fail("a comparison operator (= != < <= > >=)")
        op = self.advance()
        right = self.expr()
        first = Comparison(op.text, left, right, op.loc)
        if not (self.tok.kind == "punct" and self.tok.text in COMPARISON_OPS):
            return first
        chain: list[Literal] = [first]  # ``a < b < c``: ``a < b, b < c``
        while self.tok.kind == "punct" and self.tok.text in COMPARISON_OPS:
            op = self.advance()
            left, right = right, self.expr()
            chain.append(Comparison(op.text, left, right, op.loc))
        return Disjunction((tuple(chain),), first.loc)

    def negated_group(self, bang: Token) -> Literal:
        """After a ``!``: ``!(body)``, ``!!(body)``, ... (an even count of ``!`` cancels)."""
        negated = True
        while self.at("!"):
            self.advance()
            negated = not negated
        if not self.at("("):
            inner = self.literal()
            alts: tuple[tuple[Literal, ...], ...] = ((inner,),)
        else:
            self.advance()
            self.nest()
            alts = self.body()
            self.expect(")")
            self.depth -= 1
        if negated:
            return NegatedGroup(alts, bang.loc)
        return Disjunction(alts, bang.loc)

    def parenthesised_body(self) -> Literal | None:
        """``( body )`` as a literal, or None (and no token used) if it is an expression such
        as ``(x + 1) = y``. Each attempt is remembered by position, so that nested attempts
        inside a failed one are not parsed again and again (exponentially)."""
        save, depth, in_expr = self.pos, self.depth, self.in_expr
        known = self.groups.get(save)
        if known is not None:
            group, end = known
            if group is not None:
                self.pos = end
            return group
        t = self.tok
        result: Literal | None = None
        try:
            self.advance()
            self.nest()
            alts = self.body()
            self.expect(")")
            if self.tok.kind == "punct" and self.tok.text in COMPARISON_OPS | SYMBOL_OPERATORS:
                raise ParseError(t.loc, "not a parenthesised body")
            result = alts[0][0] if len(alts) == 1 and len(alts[0]) == 1 else \
                Disjunction(alts, t.loc)
        except ParseError:
            self.pos = save
        self.depth, self.in_expr = depth, in_expr
        self.groups[save] = (result, self.pos)
        return result

    def dominance(self, first: Atom) -> Atom:
        """After ``R(a)``: ``<= R(b)``, as the head ``R(a…, b…)`` of a rule whose body starts
        with the marker atom ``<=()`` (components rename R like any relation)."""
        self.advance()
        second = self.atom()
        if second.relation != first.relation or len(second.args) != len(first.args):
            raise ParseError(second.loc, "a subsumption compares two tuples of the same "
                             "relation")
        return Atom(first.relation, (*first.args, *second.args), first.loc)

    def conjunction(self) -> tuple[Literal, ...]:
        lits = [self.literal()]
        while self.at(","):
            self.advance()
            lits.append(self.literal())
        return tuple(lits)

    def body(self) -> tuple[tuple[Literal, ...], ...]:
        alts = [self.conjunction()]
        while self.at(";"):
            self.advance()
            alts.append(self.conjunction())
        return tuple(alts)

    def clause(self, module: Module) -> None:
        start = self.tok
        heads = [self.atom()]
        subsumes = self.at("<=")  # ``R(a) <= R(b) :- body`` (rewritten by desugar.py)
        if subsumes:
            heads = [self.dominance(heads[0])]
        while self.at(","):
            self.advance()
            heads.append(self.atom())
        alternatives: tuple[tuple[Literal, ...], ...] = ((),)
        if self.at(":-"):
            self.advance()
            alternatives = self.body()
        if not self.at("."):
            raise self.fail("'.' at the end of the clause" if len(alternatives[0]) else
                            "':-' or '.'")
        end = self.advance()
        count = sum(count_expansions(alt) for alt in alternatives) * len(heads)
        if count > self.limits.max_rules_per_clause:
            raise ParseError(start.loc, f"this clause expands to {count} rules (its "
                             "disjunctions multiply), more than the limit of "
                             f"{self.limits.max_rules_per_clause} "
                             f"({limit_hint('max_rules_per_clause')})")
        if len(module.rules) + count > self.limits.max_rules:
            raise ParseError(start.loc, f"the program has more than {self.limits.max_rules} "
                             f"rules once disjunctions are expanded "
                             f"({limit_hint('max_rules')})")
        text = " ".join(self.text[start.start : end.end].split())
        marker = (Atom(SUBSUMES, (), start.loc),) if subsumes else ()
        for alt in alternatives:
            for conj in expand_disjunctions(alt):
                for head in heads:
                    module.rules.append(Rule(head, (*marker, *conj), start.loc, text))


def eqrel(qualifier: Token, decls: list[Declaration], module: Module) -> None:
    """``.decl R(a, b) eqrel``: an equivalence relation (its closure rules: desugar.py)."""
    if len(decls[0].columns) != 2:
        raise ParseError(qualifier.loc, "an eqrel relation must have two columns")
    module.eqrel.extend(decls)


def expand_disjunctions(body: tuple[Literal, ...]) -> list[tuple[Literal, ...]]:
    """Rewrite a body with nested disjunctions into a list of plain conjunctions."""
    choices: list[list[tuple[Literal, ...]]] = []
    for lit in body:
        if isinstance(lit, Disjunction):
            options: list[tuple[Literal, ...]] = []
            for alt in lit.alternatives:
                options.extend(expand_disjunctions(alt))
            choices.append(options)
        else:
            choices.append([(lit,)])
    return [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*choices)]


def count_expansions(body: tuple[Literal, ...]) -> int:
    """How many conjunctions :func:`expand_disjunctions` would make of ``body``."""
    total = 1
    for lit in body:  # a negated group's alternatives become rules too: a safe overcount
        if isinstance(lit, Disjunction | NegatedGroup):
            total *= sum(count_expansions(alt) for alt in lit.alternatives)
    return total


def quoted(name: str) -> str:
    """A name in double quotes, with control characters escaped (an error stays one line)."""
    if name.isprintable():
        return f'"{name}"'
    return '"' + name.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


class Loader:
    """Parse files and texts into one module, following ``#include`` once per file."""

    def __init__(self, include_dirs: list[Path] | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.include_dirs = include_dirs or []
        self.limits = limits
        self.module = Module()
        self.errors: list[str] = []
        self.seen: set[tuple[int, int]] = set()  # (device, inode) of every file read
        self.include_depth = 0
        self.defines: dict[str, list[Token]] = {}  # #define, across included files
        #: what the module read, to tell later whether it would read the same
        #: (program_cache.py): ("file", path, device, inode, sha256 or "" if refused) per
        #: file, ("probe", path, exists) per include candidate looked at
        self.inputs: list[tuple[object, ...]] = []

    def load_file(self, path: Path, where: Location | None = None) -> None:
        """Parse a file; an error reading it is reported at ``where`` (an ``#include``) or at
        the file itself."""
        prefix = f"{where}: cannot include {quoted(str(path))}" if where is not None else \
            f"{Location(str(path), 1, 1)}: cannot read file"
        try:
            data, st = read_regular(path, MAX_SOURCE_BYTES)
        except FileRefused as e:
            self.inputs.append(("file", str(path), 0, 0, ""))
            self.errors.append(f"{prefix}: {e}")
            return
        self.inputs.append(("file", str(path), st.st_dev, st.st_ino, digest(data)))
        if (st.st_dev, st.st_ino) in self.seen:
            return
        self.seen.add((st.st_dev, st.st_ino))
        text, bad = decode_utf8(data)
        if bad is not None:
            line, col, message = bad
            self.errors.append(f"{Location(str(path), line, col)}: {message}")
            return
        self.load_text(text, str(path), path.parent)

    def load_text(self, text: str, filename: str, directory: Path | None = None) -> None:
        try:
            tokens = tokenize(text, filename)
            if self.defines or any(t.kind == "pp" for t in tokens):
                from .preprocess import preprocess  # here, not at the top: start-up time
                tokens = preprocess(tokens, self.defines)
        except LexError as e:
            self.errors.append(str(e))
            return
        p = _Parser(tokens, text, self.limits, self.errors)
        while p.tok.kind != "eof":
            try:
                p.depth = p.in_expr = 0
                if p.tok.kind == "directive":
                    p.directive(self.module)
                elif p.tok.kind == "include":
                    inc = p.advance()
                    name = p.tok
                    if name.kind != "string":
                        raise p.fail("a file name in double quotes after #include")
                    p.advance()
                    self.include(str(name.value), inc.loc, directory)
                else:
                    p.clause(self.module)
            except ParseError as e:
                self.errors.append(str(e))
                # skip to the end of the clause and go on, to report more than one error
                while p.tok.kind not in ("eof", "directive", "include") and not p.at("."):
                    p.advance()
                if p.at("."):
                    p.advance()

    def include(self, name: str, loc: Location, directory: Path | None) -> None:
        if self.include_depth >= MAX_INCLUDE_DEPTH:
            self.errors.append(f"{loc}: cannot include {quoted(name)}: includes nested more "
                               f"than {MAX_INCLUDE_DEPTH} deep")
            return
        candidates = ([directory] if directory is not None else []) + self.include_dirs
        for d in candidates:
            path = d / name
            try:
                path.stat()
            except (OSError, ValueError):
                self.inputs.append(("probe", str(path), False))
                continue
            self.inputs.append(("probe", str(path), True))
            self.include_depth += 1
            try:
                self.load_file(path, loc)
            finally:
                self.include_depth -= 1
            return
        self.errors.append(f"{loc}: cannot include {quoted(name)}: file not found")
