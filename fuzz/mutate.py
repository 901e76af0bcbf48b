"""Deterministic byte mutations: case i of a target is the same input on every run."""

from __future__ import annotations

import random

# Values that break parsers: boundaries of 8/16/32/64-bit fields, both byte orders.
_INTERESTING = [
    b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00", b"\xff\xff", b"\x7f\xff", b"\xff\x7f",
    b"\x00\x80", b"\x80\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x80", b"\x80\x00\x00\x00", b"\x00\x00\x00\x00", b"\x01\x00\x00\x00",
    b"\x00\x00\x00\x01", b"\xff" * 8, b"\x7f" + b"\xff" * 7, b"\x00" * 8,
]
# Text tokens that break text parsers.
_TOKENS = [
    b"\n", b"\r\n", b"\t", b" ", b"=", b":", b'"', b"'", b"\\", b"/", b"..", b"%", b"(", b")",
    b"[", b"]", b"{", b"}", b"#", b"//", b"/*", b"*/", b",", b".", b"-", b"0", b"9" * 40,
    b"\xc2\xb2", b"\xef\xbf\xbd", b"\xf0\x9f\x98\x80", b"\xc3", b"\x00", b"\x01", b"\x0b",
]


def _span(rng: random.Random, n: int) -> tuple[int, int]:
    a = rng.randrange(n + 1)
    return a, min(n, a + rng.choice([1, 2, 4, 8, 16, 64, 512, 4096]))


def mutate(data: bytes, others: list[bytes], rng: random.Random, max_len: int) -> bytes:
    """Apply 1 to 8 random mutations to data (others are spliced from)."""
    buf = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4, 8])):
        _mutate_once(buf, others, rng)
        if len(buf) > max_len:
            del buf[max_len:]
    return bytes(buf)


def _mutate_once(buf: bytearray, others: list[bytes], rng: random.Random) -> None:
    """One random mutation of ``buf``, in place."""
    op = rng.randrange(11)
    n = len(buf)
    if op == 0 and n:                      # flip a bit
        i = rng.randrange(n)
        buf[i] ^= 1 << rng.randrange(8)
    elif op == 1 and n:                    # set a byte
        buf[rng.randrange(n)] = rng.randrange(256)
    elif op == 2:                          # overwrite with an interesting value
        v = rng.choice(_INTERESTING)
        i = rng.randrange(n + 1)
        buf[i:i + len(v)] = v
    elif op == 3:                          # insert a text token
        i = rng.randrange(n + 1)
        buf[i:i] = rng.choice(_TOKENS)
    elif op == 4 and n:                    # delete a span
        a, b = _span(rng, n)
        del buf[a:b]
    elif op == 5 and n:                    # duplicate a span, maybe many times
        a, b = _span(rng, n)
        i = rng.randrange(n + 1)
        buf[i:i] = bytes(buf[a:b]) * rng.choice([1, 1, 2, 16, 256])
    elif op == 6 and n:                    # truncate
        del buf[rng.randrange(n):]
    elif op == 7 and others:               # splice from another seed
        o = rng.choice(others)
        if o:
            a, b = _span(rng, len(o))
            i = rng.randrange(n + 1)
            buf[i:i + (b - a)] = o[a:b]
    elif op == 8 and n:                    # add or subtract a small number to a byte
        i = rng.randrange(n)
        buf[i] = (buf[i] + rng.choice([-2, -1, 1, 2, 16, -16])) % 256
    elif op == 9 and n >= 2:               # swap two spans
        a, b = _span(rng, n)
        c, d = _span(rng, n)
        if b <= c:
            buf[a:d] = buf[c:d] + buf[b:c] + buf[a:b]
    elif op == 10:                         # random bytes
        i = rng.randrange(n + 1)
        buf[i:i] = rng.randbytes(rng.choice([1, 4, 16, 64]))


def case_input(seeds: list[bytes], seed: int, name: str, index: int, max_len: int) -> bytes:
    """The input of case `index` of target `name` in a run seeded with `seed`."""
    rng = random.Random(f"{seed}:{name}:{index}")
    if not seeds:
        return rng.randbytes(rng.randrange(64))
    if index < len(seeds):
        return seeds[index][:max_len]      # every seed once, unmutated, first
    return mutate(rng.choice(seeds), seeds, rng, max_len)
