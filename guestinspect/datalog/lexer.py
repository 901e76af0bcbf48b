"""Split Datalog source text into tokens, each with its location."""

from __future__ import annotations

from dataclasses import dataclass

from .syntax import Location

DIRECTIVES = {
    "decl", "input", "output", "type", "functor", "printsize", "comp", "init", "pragma",
    "plan", "limitsize", "override", "symbol_type", "number_type",
}
PUNCTUATION = [
    ":-", "<:", "!=", "<=", ">=", "(", ")", ",", ";", "!", "=", "<", ">", "+", "-", "*", "/",
    "%", "^", ":", "@", ".", "{", "}", "|", "$", "[", "]",
]
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\0"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident number float string directive include punct eof
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
            for k in range(i, j):
                if text[k] == "\n":
                    line += 1
                    line_start = k + 1
            i = j + 2
            continue
        loc = loc_at(i)
        if c == '"':
            j = i + 1
            chars: list[str] = []
            while True:
                if j >= n or text[j] == "\n":
                    raise LexError(loc, "unterminated string")
                ch = text[j]
                if ch == '"':
                    break
                if ch == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    if nxt in ESCAPES:
                        chars.append(ESCAPES[nxt])
                    else:
                        chars.append("\\" + nxt)
                    j += 2
                    continue
                chars.append(ch)
                j += 1
            tokens.append(Token("string", text[i : j + 1], "".join(chars), loc, i, j + 1))
            i = j + 1
            continue
        if c.isdigit():
            j = i
            if text.startswith(("0x", "0X"), i):
                j = i + 2
                while j < n and (text[j] in "0123456789abcdefABCDEF"):
                    j += 1
                value: int | float = int(text[i:j], 16)
                kind = "number"
            elif text.startswith(("0b", "0B"), i) and i + 2 < n and text[i + 2] in "01":
                j = i + 2
                while j < n and text[j] in "01":
                    j += 1
                value = int(text[i:j], 2)
                kind = "number"
            else:
                while j < n and text[j].isdigit():
                    j += 1
                kind = "number"
                if j + 1 < n and text[j] == "." and text[j + 1].isdigit():
                    j += 1
                    while j < n and text[j].isdigit():
                        j += 1
                    kind = "float"
                if j < n and text[j] in "eE" and kind == "float":
                    k = j + 1
                    if k < n and text[k] in "+-":
                        k += 1
                    if k < n and text[k].isdigit():
                        j = k
                        while j < n and text[j].isdigit():
                            j += 1
                value = float(text[i:j]) if kind == "float" else int(text[i:j])
            if j < n and text[j] == "u" and kind == "number":
                j += 1
            tokens.append(Token(kind, text[i:j], value, loc, i, j))
            i = j
            continue
        if _is_ident_start(c):
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            word = text[i:j]
            tokens.append(Token("ident", word, word, loc, i, j))
            i = j
            continue
        if c == "." and i + 1 < n and text[i + 1].isalpha():
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            word = text[i + 1 : j]
            if word in DIRECTIVES:
                tokens.append(Token("directive", word, word, loc, i, j))
                i = j
                continue
        if c == "#":
            j = i + 1
            while j < n and text[j].isalpha():
                j += 1
            word = text[i + 1 : j]
            if word == "include":
                tokens.append(Token("include", "#include", word, loc, i, j))
                i = j
                continue
            raise LexError(loc, f"unsupported preprocessor directive '#{word}'")
        for p in PUNCTUATION:
            if text.startswith(p, i):
                tokens.append(Token("punct", p, p, loc, i, i + len(p)))
                i += len(p)
                break
        else:
            raise LexError(loc, f"unexpected character {c!r}")
    tokens.append(Token("eof", "end of file", "", loc_at(i), n, n))
    return tokens
