"""Split Datalog source text into tokens, each with its location."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .syntax import Location

DIRECTIVES = {
    "decl", "input", "output", "type", "functor", "printsize", "comp", "init", "pragma",
    "plan", "limitsize", "override", "symbol_type", "number_type", "plumbing",
    "key",
}
PUNCTUATION = [
    ":-", "<:", "!=", "<=", ">=", "(", ")", ",", ";", "!", "=", "<", ">", "+", "-", "*", "/",
    "%", "^", ":", "@", ".", "{", "}", "|", "$", "[", "]",
]
PREPROCESSOR = {"define", "undef", "ifdef", "ifndef", "else", "endif"}
DIGITS = "0123456789"  # ASCII only: str.isdigit() is also true for "²" and "٣"
HEX_DIGITS = DIGITS + "abcdefABCDEF"
#: The largest number literal: 64 bits, as Soufflé's widest domain.
MAX_NUMBER = 2**64 - 1
PUNCT_PAIRS = {p for p in PUNCTUATION if len(p) == 2}
PUNCT_SINGLE = {p for p in PUNCTUATION if len(p) == 1}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\0"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident number float string directive include pp punct eof
    text: str  # the token as written (for punct/ident/directive: the word itself)
    value: str | int | float
    loc: Location
    start: int  # offset in the source text
    end: int


class LexError(Exception):
    def __init__(self, loc: Location, message: str) -> None:
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message


def _is_ident_start(c: str) -> bool:
    return c.isalpha() or c in "_?"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_?"


def _digits(text: str, j: int, allowed: str) -> int:
    n = len(text)
    while j < n and text[j] in allowed:
        j += 1
    return j


def _number(text: str, i: int, loc: Location) -> tuple[str, int | float, int]:
    """The number literal at ``text[i]`` (an ASCII digit): its kind, value and end."""
    n = len(text)
    base = 10
    if text.startswith(("0x", "0X"), i):
        base, start = 16, i + 2
        j = _digits(text, start, HEX_DIGITS)
    elif text.startswith(("0b", "0B"), i) and i + 2 < n and text[i + 2] in "01":
        base, start = 2, i + 2
        j = _digits(text, start, "01")
    else:
        start = i
        j = _digits(text, i, DIGITS)
    if base == 16 and j == start:
        raise LexError(loc, "hexadecimal number without digits after '0x'")
    if base == 10 and j + 1 < n and text[j] == "." and text[j + 1] in DIGITS:
        j = _digits(text, j + 1, DIGITS)
        if j < n and text[j] in "eE":
            k = j + 1
            if k < n and text[k] in "+-":
                k += 1
            if k < n and text[k] in DIGITS:
                j = _digits(text, k, DIGITS)
        value = float(text[i:j])
        if not math.isfinite(value):
            raise LexError(loc, f"float literal {text[i:j]} is out of range")
        return "float", value, j
    digits = text[start:j].lstrip("0") or "0"
    if len(digits) > 64 or int(digits, base) > MAX_NUMBER:  # 64 binary digits at most
        raise LexError(loc, "number literal out of range (it must fit in 64 bits)")
    value_int = int(digits, base)
    if j < n and text[j] == "u":
        j += 1
    return "number", value_int, j


def _string(text: str, i: int, loc: Location) -> tuple[str, int]:
    """The string literal at ``text[i]`` (a ``"``): its value (escapes decoded) and its end."""
    n = len(text)
    j = i + 1
    chars: list[str] = []
    while True:
        if j >= n or text[j] == "\n":
            raise LexError(loc, "unterminated string")
        ch = text[j]
        if ch == '"':
            return "".join(chars), j + 1
        if ch == "\\" and j + 1 < n:
            nxt = text[j + 1]
            chars.append(ESCAPES.get(nxt, "\\" + nxt))
            j += 2
            continue
        chars.append(ch)
        j += 1


def _word_end(text: str, j: int) -> int:
    """The end of the identifier characters from ``text[j]`` on."""
    while j < len(text) and _is_ident_char(text[j]):
        j += 1
    return j


def _token(text: str, i: int, loc: Location) -> Token:
    """The token at ``text[i]``, which is no space and no comment."""
    n = len(text)
    c = text[i]
    if c == '"':
        value, j = _string(text, i, loc)
        return Token("string", text[i:j], value, loc, i, j)
    if c in DIGITS:
        kind, number, j = _number(text, i, loc)
        return Token(kind, text[i:j], number, loc, i, j)
    if _is_ident_start(c):
        j = _word_end(text, i + 1)
        return Token("ident", text[i:j], text[i:j], loc, i, j)
    # ``inst.input(…)`` is a qualified name: a directive never follows a name directly
    if c == "." and i + 1 < n and text[i + 1].isalpha() and \
            not (i > 0 and _is_ident_char(text[i - 1])):
        j = _word_end(text, i + 1)
        word = text[i + 1 : j]
        if word in DIRECTIVES:
            return Token("directive", word, word, loc, i, j)
    if c == "#":
        j = i + 1
        while j < n and text[j].isalpha():
            j += 1
        word = text[i + 1 : j]
        if word == "include":
            return Token("include", "#include", word, loc, i, j)
        if word in PREPROCESSOR:  # applied by preprocess.py
            return Token("pp", "#" + word, word, loc, i, j)
        raise LexError(loc, f"unsupported preprocessor directive '#{word}'")
    p = text[i : i + 2]
    if p not in PUNCT_PAIRS:
        p = c
        if p not in PUNCT_SINGLE:
            raise LexError(loc, f"unexpected character {c!r}")
    return Token("punct", p, p, loc, i, i + len(p))


def tokenize(text: str, filename: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    line = 1
    line_start = 0
    n = len(text)

    def loc_at(pos: int) -> Location:
        return Location(filename, line, pos - line_start + 1)

    while i < n:
        c = text[i]
        if c == "\n":
            i += 1
            line += 1
            line_start = i
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise LexError(loc_at(i), "unterminated comment")
            if (newlines := text.count("\n", i, j)):
                line += newlines
                line_start = text.rfind("\n", i, j) + 1
            i = j + 2
            continue
        token = _token(text, i, loc_at(i))
        tokens.append(token)
        i = token.end
    tokens.append(Token("eof", "end of file", "", loc_at(i), n, n))
    return tokens
