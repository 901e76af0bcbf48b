"""The rule front end (lexer, parser, static checks, stratification and code generation) and
fact files, on hostile text.

The front end's one error type is DatalogError (the lexer's own LexError for the lexer alone);
every message must be one line. Nothing is evaluated: a mutated program that parses may be
costly to run, and evaluation is bounded by the engine's limits instead (tests/datalog).
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from fuzz.targets import target
from guestinspect.datalog import Database, DatalogError, Limits, Program
from guestinspect.datalog.codegen import compile_rule
from guestinspect.datalog.lexer import LexError, tokenize
from guestinspect.datalog.parser import Loader
from guestinspect.functors import FUNCTORS, RELATIONS
from guestinspect.inspection.driver import rules_dir

ROOT = Path(__file__).resolve().parents[2]
# small enough that a mutated clause of many disjunctions is refused quickly
LIMITS = Limits(max_rules_per_clause=256, max_rules=4096)
_SMALL = [
    b'.decl A(x: symbol, n: number)\n.decl B(x: symbol)\n.input A\n.output B\n'
    b'B(x) :- A(x, n), n > 2, !A(x, 0), match("a.*", x).\nB(cat(x, "y")) :- B(x), strlen(x) < 4.\n',
    b".type T <: number\n.type U = T | number\n.decl N(x: T)\nN(0).\nN(x + 1) :- N(x), x < 10.\n"
    b".decl C(c: number)\nC(c) :- c = count : { N(_) }.\nC(s) :- s = sum x : { N(x) }.\n",
    b".decl E(x: number, y: number)\n.decl P(x: number, y: number)\nE(1, 2).\nE(0x1F, 0b101).\n"
    b"P(x, y) :- E(x, y) ; (E(x, z), P(z, y)).\nP(x, y) :- E(x, y), (x = 1 ; y = -2u).\n"
    b"P(-x, y) :- E(x, y), x = (((1 + 2) * 3) ^ 2) band bnot 7 bshl 1.\n",
    b'.decl F(x: float, s: symbol)\nF(1.5, "a\\tb\\"c").\nF(2.0e3, "C:\\Windows").\n'
    b"// comment\n/* block\ncomment */\n.decl G(x: float)\nG(m) :- m = max x : F(x, _).\n"
    b"G(y) :- F(x, _), y = to_float(to_string(x)), !F(y, \"a\").\n",
    b'#include "other.dl"\n.pragma "x" "y"\n.functor f(x: symbol): symbol\n'
    b".decl H(x: symbol)\nH(@f(x)) :- H(x).\n.printsize H\n.output H(IO=stdout)\n",
    b".comp G<N> {\n .decl E(a: N, b: N) overridable\n .decl R(a: N, b: N)\n"
    b" R(x, y) :- E(x, y).\n R(x, z) :- R(x, y), E(y, z).\n}\n"
    b".comp U<N> : G<N> { .override E E(x, y) :- F(y, x). .comp In { .decl Z(x: number) } "
    b".init i = In }\n.decl F(a: number, b: number)\n.init g = G<number>\n.init u = U<number>\n"
    b"g.E(1, 2).\nF(y, x) :- u.R(x, y), !g.R(y, x), u.i.Z(x).\n.output g.R, u.R\n",
    # Soufflé's conveniences (desugar.py, records.py, inline.py, magic.py, preprocess.py)
    b'#ifndef X\n#define X 3\n.pragma "magic-transform" "*"\n.type P = [a: number, b: P]\n'
    b".decl L(p: P)\n.decl S(a: number, b: number) eqrel\n.decl I(x: number) inline\n"
    b".decl M(x: number)\nL(nil).\nL([x, r]) :- L(r), x = range(0, X), !(S(x, 1), x > 1).\n"
    b"I(x) :- L([x, _]).\nS(x, y) :- I(x), I(y), 0 < x < y.\nM(x) :- S(x, _).\n"
    b'M(x) <= M(y) :- x < y.\nM(a + "b") :- M(a).\n#endif\n',
]


@functools.cache
def _rule_files() -> list[bytes]:
    return [p.read_bytes() for p in sorted(rules_dir().rglob("*.dl"))]


@functools.cache
def _declarations() -> bytes:
    """The shipped declarations (what the other rule files build on), without includes."""
    text = b"".join((rules_dir() / name).read_bytes() for name in
                    ("facts.dl", "wants.dl", "output.dl"))
    return b"\n".join(line for line in text.splitlines() if not line.startswith(b"#include"))


def _program_seeds() -> list[bytes]:
    decls = _declarations()
    with_decls = [decls + b"\n" + f for f in _rule_files() if len(f) < 8000]
    return _SMALL + _rule_files() + with_decls


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _one_line(errors: list[str]) -> None:
    for e in errors:
        assert e and "\n" not in e and "\r" not in e, f"not one line: {e!r}"


@target("datalog.lexer", _program_seeds, expected=(LexError,))
def lex(data: bytes) -> None:
    try:
        tokens = tokenize(_text(data), "fuzz.dl")
    except LexError as e:
        _one_line([str(e)])
        raise
    assert tokens[-1].kind == "eof"


@target("datalog.parser", _program_seeds, expected=(DatalogError,))
def parse(data: bytes) -> None:
    loader = Loader([], LIMITS)
    loader.load_text(_text(data), "fuzz.dl", None)  # no directory: #include finds nothing
    _one_line(loader.errors)
    if loader.errors:
        raise DatalogError(loader.errors)


@target("datalog.checks", _program_seeds, expected=(DatalogError,), cost=4)
def check(data: bytes) -> None:
    """The whole static pipeline: parse, check, stratify, and compile every rule."""
    try:
        program = Program.from_text(_text(data), "fuzz.dl", functors=FUNCTORS,
                                    relations=RELATIONS, include_dirs=(), limits=LIMITS)
    except DatalogError as e:
        _one_line(e.errors)
        raise
    db = Database(program)
    for rule in program.rules:
        compile_rule(rule, db.relations, db.pyfns, program.functors, program.modes, None)


@functools.cache
def _snapshot_program() -> Program:
    """The shipped fact declarations (every .input relation of a snapshot), no rules."""
    return Program.from_text(_declarations().decode(), "facts.dl", functors=FUNCTORS,
                             relations=RELATIONS)


@functools.cache
def _input_files() -> list[str]:
    return sorted(f"{d.relation}.facts" for d in _snapshot_program().io["input"])


def _fact_seeds() -> list[bytes]:
    """Real snapshot files: the first byte picks the relation (see ``facts``)."""
    names = _input_files()
    seeds: list[bytes] = []
    for d in sorted((ROOT / "facts" / "synthetic").iterdir())[:6]:
        for f in sorted(d.glob("*.facts")):
            if f.name in names and 0 < f.stat().st_size < 4000:
                seeds.append(bytes([names.index(f.name)]) + f.read_bytes())
    return seeds


@target("datalog.facts", _fact_seeds, expected=(DatalogError,))
def facts(data: bytes) -> None:
    """A snapshot directory of one fact file, loaded as ``--facts DIR`` loads it."""
    if not data:
        return
    names = _input_files()
    with tempfile.TemporaryDirectory(prefix="fuzz-facts-") as tmp:
        path = Path(tmp) / names[data[0] % len(names)]
        path.write_bytes(data[1:])
        db = Database(_snapshot_program())
        try:
            db.load_facts_dir(tmp)
        except DatalogError as e:
            _one_line(e.errors)
            raise
        finally:
            os.unlink(path)
