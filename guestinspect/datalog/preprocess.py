"""The part of the C preprocessor Soufflé's programs use: ``#define NAME tokens…`` (an
object-like macro), ``#undef``, ``#ifdef``/``#ifndef``/``#else``/``#endif`` (include guards).

A file's directives are applied to the whole file before the files it includes are read (an
``#undef`` after an ``#include`` already counts for the included file): enough for include
guards and constants. It works on the tokens of a file (lexer.py gives each directive as a
``pp`` token; its arguments are the tokens on the same line). Definitions persist across
``#include``d files, as in C. A macro's tokens are expanded again, except the macros being
expanded (as in C), at most ``MAX_DEPTH`` deep; a file may expand to at most ``MAX_TOKENS``
tokens: bounded time and memory on any input.
"""

from __future__ import annotations

from .lexer import LexError, Token

#: The most tokens one file may have once its macros are expanded.
MAX_TOKENS = 2_000_000


#: How deeply macros may expand into macros.
MAX_DEPTH = 32


def _expand(t: Token, defines: dict[str, list[Token]], out: list[Token]) -> None:
    """Append ``t`` to ``out``, macros expanded (iteratively; a macro not inside itself)."""
    stack: list[tuple[Token, frozenset[str]]] = [(t, frozenset())]
    while stack:
        tok, inside = stack.pop()
        body = defines.get(tok.text) if tok.kind == "ident" else None
        if body is None or tok.text in inside or len(inside) >= MAX_DEPTH:
            out.append(tok)
            if len(out) > MAX_TOKENS:
                raise LexError(t.loc, f"more than {MAX_TOKENS} tokens once macros are "
                               "expanded")
            continue
        now = inside | {tok.text}
        stack.extend((b, now) for b in reversed(body))


def _line(tokens: list[Token], i: int) -> int:
    """The end of the directive at ``i``: the first token on a later line (or the eof)."""
    line, file = tokens[i].loc.line, tokens[i].loc.file
    j = i + 1
    while tokens[j].kind != "eof" and tokens[j].loc.line == line and tokens[j].loc.file == file:
        j += 1
    return j


def _name(directive: Token, args: list[Token]) -> str:
    if not args or args[0].kind != "ident":
        raise LexError(directive.loc, f"'{directive.text}' needs a name")
    return args[0].text


def preprocess(tokens: list[Token], defines: dict[str, list[Token]]) -> list[Token]:
    """The tokens with directives applied and macros expanded (``defines`` is updated)."""
    if not any(t.kind == "pp" for t in tokens) and not defines:
        return tokens
    out: list[Token] = []
    active: list[bool] = []  # one per open #if…: whether its text is kept
    i = 0
    while tokens[i].kind != "eof":
        t = tokens[i]
        if t.kind == "pp":
            end = _line(tokens, i)
            _directive(t, tokens[i + 1 : end], defines, active)
            i = end
            continue
        i += 1
        if not all(active):
            continue
        _expand(t, defines, out)
    if active:
        raise LexError(tokens[i].loc, "#if… without #endif")
    out.append(tokens[i])
    return out


def _directive(t: Token, args: list[Token], defines: dict[str, list[Token]],
               active: list[bool]) -> None:
    word = t.value
    if word in ("ifdef", "ifndef"):
        known = _name(t, args) in defines
        active.append(known if word == "ifdef" else not known)
    elif word == "else":
        if not active:
            raise LexError(t.loc, "#else without #if…")
        active[-1] = not active[-1]
    elif word == "endif":
        if not active:
            raise LexError(t.loc, "#endif without #if…")
        active.pop()
    elif not all(active):
        return
    elif word == "define":
        name = _name(t, args)
        if len(args) > 1 and args[1].text == "(" and args[1].start == args[0].end:
            raise LexError(t.loc, "function-like macros (#define F(x) …) are not supported")
        defines[name] = args[1:]
    elif word == "undef":
        defines.pop(_name(t, args), None)
