"""Parse Datalog source (a subset of Soufflé) into a :class:`Module`, following includes."""

from __future__ import annotations

import itertools
from pathlib import Path

from .lexer import LexError, Token, tokenize
from .syntax import (
    U32,
    Aggregate,
    Atom,
    BinOp,
    Call,
    Column,
    Comparison,
    Const,
    Constraint,
    Declaration,
    Disjunction,
    Expr,
    FunctorDecl,
    IODirective,
    Literal,
    Location,
    Module,
    Negation,
    Rule,
    Truth,
    TypeDecl,
    UnOp,
    Var,
    Wildcard,
)

BUILTIN_FUNCTORS = {
    "cat", "strlen", "substr", "ord", "to_number", "to_string", "to_float", "to_unsigned",
    "itof", "itou", "ftoi", "ftou", "utoi", "utof", "min", "max", "abs",
}
CONSTRAINT_FUNCTORS = {"contains", "match"}
# reserved words written like functors (``bnot(x)``): never the name of a relation
OPERATOR_WORDS = {"bnot", "lnot", "band", "bor", "bxor", "bshl", "bshr", "bshru", "land", "lor",
                  "lxor"}
AGGREGATES = {"count", "sum", "min", "max", "mean"}
COMPARISON_OPS = {"=", "!=", "<", "<=", ">", ">="}
IGNORED_QUALIFIERS = {"brie", "btree", "btree_delete", "inline", "no_inline", "magic",
                      "no_magic", "overridable"}
BINARY_LEVELS: list[set[str]] = [
    {"lor"}, {"lxor"}, {"land"}, {"bor"}, {"bxor"}, {"band"}, {"bshl", "bshr", "bshru"},
    {"+", "-"}, {"*", "/", "%"},
]


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
    def __init__(self, tokens: list[Token], text: str) -> None:
        self.toks = tokens
        self.text = text
        self.pos = 0

    # ---- token helpers -------------------------------------------------------------------
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

    # ---- directives ----------------------------------------------------------------------
    def columns(self, names_optional: bool = False) -> list[Column]:
        self.expect("(")
        cols: list[Column] = []
        if not self.at(")"):
            while True:
                first = self.ident("a column name")
                if self.at(":"):
                    self.advance()
                    ty = self.ident("a type name")
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

    def directive(self, module: Module) -> None:
        d = self.advance()
        kind = d.text
        if kind == "decl":
            names = [self.ident("a relation name")]
            while self.at(","):
                self.advance()
                names.append(self.ident("a relation name"))
            cols = self.columns()
            for name in names:
                module.declarations.append(Declaration(name.text, cols, name.loc))
            qualifiers = IGNORED_QUALIFIERS | {"input", "output", "printsize", "eqrel"}
            while self.tok.kind == "ident" and self.tok.text in qualifiers:
                q = self.advance()
                if q.text in ("input", "output", "printsize"):
                    for name in names:
                        module.io.append(IODirective(q.text, name.text, {}, q.loc))
                elif q.text == "eqrel":
                    raise ParseError(q.loc, "equivalence relations (eqrel) are not supported")
        elif kind in ("input", "output", "printsize", "limitsize"):
            while True:
                name = self.ident("a relation name")
                opts = self.options()
                if kind != "limitsize":
                    module.io.append(IODirective(kind, name.text, opts, name.loc))
                if not self.at(","):
                    break
                self.advance()
        elif kind in ("type", "symbol_type", "number_type"):
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
                    raise ParseError(self.tok.loc, "record types are not supported")
                bases = [self.ident("a type name").text]
                if self.at("{"):
                    raise ParseError(self.tok.loc, "algebraic data types are not supported")
                while self.at("|"):
                    self.advance()
                    bases.append(self.ident("a type name").text)
                module.types.append(TypeDecl(name.text, bases, name.loc))
            else:
                raise self.fail("'<:' or '='")
        elif kind == "functor":
            name = self.ident("a functor name")
            params = self.columns(names_optional=True)
            self.expect(":")
            result = self.ident("a result type")
            if self.at("stateful"):
                self.advance()
            module.functors.append(FunctorDecl(name.text, params, result.text, name.loc))
        elif kind == "pragma":
            self.advance()
            if self.tok.kind == "string":
                self.advance()
        else:
            raise ParseError(d.loc, f"'.{kind}' is not supported")

    # ---- expressions ---------------------------------------------------------------------
    def expr(self, level: int = 0) -> Expr:
        if level == len(BINARY_LEVELS):
            return self.power()
        left = self.expr(level + 1)
        ops = BINARY_LEVELS[level]
        while self.tok.kind in ("punct", "ident") and self.tok.text in ops:
            op = self.advance()
            right = self.expr(level + 1)
            left = BinOp(op.text, left, right, op.loc)
        return left

    def power(self) -> Expr:
        base = self.unary()
        if self.at("^"):
            op = self.advance()
            return BinOp("^", base, self.power(), op.loc)
        return base

    def unary(self) -> Expr:
        t = self.tok
        if self.at("-"):
            self.advance()
            arg = self.unary()
            if isinstance(arg, Const) and arg.unsigned:
                assert isinstance(arg.value, int)
                return Const(-arg.value & U32, t.loc, unsigned=True)
            if isinstance(arg, Const) and not isinstance(arg.value, str):
                return Const(-arg.value, t.loc)
            return UnOp("-", arg, t.loc)
        if t.kind == "ident" and t.text in ("bnot", "lnot"):
            self.advance()
            return UnOp(t.text, self.unary(), t.loc)
        return self.primary()

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

    def aggregate_body(self) -> tuple[Literal, ...]:
        if self.at("{"):
            self.advance()
            body = self.body()
            self.expect("}")
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
                if word in BUILTIN_FUNCTORS or word in CONSTRAINT_FUNCTORS:
                    return Call(word, args, False, t.loc)
                raise ParseError(t.loc, f"unknown functor '{word}'")
            self.advance()
            return Var(word, t.loc)
        raise self.fail("an expression")

    # ---- literals and bodies -------------------------------------------------------------
    def atom(self) -> Atom:
        name = self.ident("a relation name")
        args = self.args()
        return Atom(name.text, args, name.loc)

    def literal(self) -> Literal:
        t = self.tok
        if self.at("!"):
            self.advance()
            if self.tok.kind == "ident" and self.tok.text in CONSTRAINT_FUNCTORS:
                name = self.advance()
                return Constraint(name.text, self.args(), True, t.loc)
            if self.tok.kind != "ident" or self.peek().text != "(":
                raise self.fail("a relation after '!'")
            return Negation(self.atom(), t.loc)
        if t.kind == "ident" and self.peek().text == "(" and self.peek().kind == "punct":
            if t.text in CONSTRAINT_FUNCTORS:
                self.advance()
                return Constraint(t.text, self.args(), False, t.loc)
            if t.text not in BUILTIN_FUNCTORS | AGGREGATES | OPERATOR_WORDS:
                return self.atom()
        if t.kind == "ident" and t.text in ("true", "false") and self.peek().text != "(":
            self.advance()
            return Truth(t.text == "true", t.loc)
        if self.at("("):
            save = self.pos
            try:
                self.advance()
                alts = self.body()
                self.expect(")")
                if self.tok.kind == "punct" and self.tok.text in COMPARISON_OPS | {
                        "+", "-", "*", "/", "%", "^"}:
                    raise ParseError(t.loc, "not a parenthesised body")
                if len(alts) == 1 and len(alts[0]) == 1:
                    return alts[0][0]
                return Disjunction(alts, t.loc)
            except ParseError:
                self.pos = save
        left = self.expr()
        if not (self.tok.kind == "punct" and self.tok.text in COMPARISON_OPS):
            raise self.fail("a comparison operator (= != < <= > >=)")
        op = self.advance()
        right = self.expr()
        return Comparison(op.text, left, right, op.loc)

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
        text = " ".join(self.text[start.start : end.end].split())
        for alt in alternatives:
            for conj in expand_disjunctions(alt):
                for head in heads:
                    module.rules.append(Rule(head, conj, start.loc, text))


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


class Loader:
    """Parse files and texts into one module, following ``#include`` once per file."""

    def __init__(self, include_dirs: list[Path] | None = None) -> None:
        self.include_dirs = include_dirs or []
        self.module = Module()
        self.errors: list[str] = []
        self.seen: set[Path] = set()

    def load_file(self, path: Path) -> None:
        resolved = path.resolve()
        if resolved in self.seen:
            return
        self.seen.add(resolved)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            self.errors.append(f"{path}:1:1: cannot read file: {e.strerror}")
            return
        self.load_text(text, str(path), path.parent)

    def load_text(self, text: str, filename: str, directory: Path | None = None) -> None:
        try:
            tokens = tokenize(text, filename)
        except LexError as e:
            self.errors.append(str(e))
            return
        p = _Parser(tokens, text)
        while p.tok.kind != "eof":
            try:
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
        candidates = ([directory] if directory is not None else []) + self.include_dirs
        for d in candidates:
            path = d / name
            if path.is_file():
                self.load_file(path)
                return
        self.errors.append(f"{loc}: cannot include \"{name}\": file not found")
