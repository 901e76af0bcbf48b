"""Python relations and functors for Unix configuration formats: parsing only, no decisions.

- ``IniValue(text, section_no, section, key, value)``: INI-style files (NetworkManager
  keyfiles, systemd-networkd ``.network`` files);
- ``GrubEntry(text, index, title, kind, value)``: the menu entries of a GRUB 2 ``grub.cfg``;
- ``Netplan(text, iface, key, value)``: a netplan YAML file flattened to key/value pairs;
- ``SshKey(line, algorithm, bits, fingerprint, comment)``: an OpenSSH public key line;
- ``netmask_prefix(mask)``, ``days_date(days)``: small conversions.

Each accepts any text, however hostile: inputs are cut to bounded sizes, every parser runs in
time linear in its (bounded) input, and the only exception any of them raises is ValueError
(the engine turns it into a warning naming the rule and skips the tuple). YAML is read with
PyYAML's safe loader only (plain data, no Python objects) after the input size, its flow
nesting and its anchors are bounded, and the loaded document is walked with a budget of nodes
so that aliases cannot expand it (billion laughs).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import yaml  # type: ignore[import-untyped]

from guestinspect.datalog import PyRelation

#: Files longer than this are parsed up to here only.
MAX_TEXT = 1 << 20
#: At most this many lines are looked at.
MAX_LINES = 100_000
#: Longer lines are skipped.
MAX_LINE = 64 * 1024
#: A netplan file larger than this is refused.
MAX_YAML = 64 * 1024
#: Deepest flow nesting (``[[[...``) and most anchors accepted in a YAML file.
MAX_YAML_DEPTH = 32
MAX_YAML_ANCHORS = 64
#: At most this many nodes of a loaded YAML document are visited (aliases count each time).
MAX_YAML_NODES = 20_000
#: Longest base64 key blob accepted (an RSA 16384-bit key is ~2.8 KiB).
MAX_KEY = 16 * 1024
#: GRUB menus nested deeper than this (submenus) are not entered.
MAX_GRUB_DEPTH = 8


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(text[:MAX_TEXT].split("\n")[:MAX_LINES], start=1):
        if len(line) <= MAX_LINE:
            yield n, line.rstrip("\r")


# ---- INI files -----------------------------------------------------------------------------


def ini_values(text: str) -> Iterator[tuple[int, str, str, str]]:
    """``IniValue(text, section_no, section, key, value)``: each ``key=value`` of each
    ``[section]``, sections numbered from 1 in file order (a section name may repeat, as
    systemd-networkd's ``[Address]``). Keys before any section are in section 0, ``""``.
    Blanks around keys and values are removed; ``#`` and ``;`` lines are comments."""
    number, section = 0, ""
    for _n, raw in _lines(text):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            number, section = number + 1, line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip():
            yield number, section, key.strip(), value.strip()


# ---- GRUB 2 --------------------------------------------------------------------------------


def _shell_words(line: str) -> list[str]:
    """Shell-like words: blanks separate, quotes group (no escapes inside single quotes)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    started = False
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"' and i + 1 < len(line):
                i += 1
                word.append(line[i])
            else:
                word.append(c)
        elif c in "'\"":
            quote, started = c, True
        elif c in " \t":
            if started:
                words.append("".join(word))
                word, started = [], False
        elif c == "\\" and i + 1 < len(line):
            i += 1
            word.append(line[i])
            started = True
        else:
            word.append(c)
            started = True
        i += 1
    if started:
        words.append("".join(word))
    return words


_GRUB_KINDS = {
    "linux": "linux", "linux16": "linux", "linuxefi": "linux",
    "initrd": "initrd", "initrd16": "initrd", "initrdefi": "initrd",
}


def grub_entries(text: str) -> Iterator[tuple[str, str, str, str]]:
    """``GrubEntry(text, index, title, kind, value)``: for each ``menuentry`` of a grub.cfg
    (in ``submenu``s too), its index as GRUB's ``default`` counts (``0``, ``2>1``), its title
    and: ``id`` (the ``$menuentry_id_option`` or ``--id`` value), ``linux`` (the kernel and
    its command line, as written after ``linux``/``linux16``/``linuxefi``), ``initrd``."""
    # stack of (kind, index string, title, brace depth at which it opened)
    stack: list[tuple[str, str, str, int]] = []
    counters: list[int] = [0]
    depth = 0
    for _n, raw in _lines(text):
        words = _shell_words(raw.strip())
        if not words or words[0].startswith("#"):
            continue
        head = words[0]
        if head in ("menuentry", "submenu") and words[-1] == "{" and len(words) >= 3:
            if len(counters) > MAX_GRUB_DEPTH:
                depth += 1
                continue
            parent = stack[-1][1] + ">" if stack else ""
            index = f"{parent}{counters[-1]}"
            counters[-1] += 1
            title = words[1]
            depth += 1
            stack.append((head, index, title, depth))
            if head == "submenu":
                counters.append(0)
            else:
                for i, w in enumerate(words[:-1]):
                    if w in ("--id", "$menuentry_id_option") and i + 1 < len(words) - 1:
                        yield index, title, "id", words[i + 1]
            continue
        if head == "}" or raw.strip() == "}":
            if stack and stack[-1][3] == depth:
                kind, _index, _title, _d = stack.pop()
                if kind == "submenu" and len(counters) > 1:
                    counters.pop()
            depth = max(depth - 1, 0)
            continue
        if words[-1] == "{" or raw.rstrip().endswith("{"):
            depth += 1
            continue
        if stack and stack[-1][0] == "menuentry" and head in _GRUB_KINDS:
            _kind, index, title, _d = stack[-1]
            value = raw.strip()[len(raw.strip().split(None, 1)[0]):].strip()
            yield index, title, _GRUB_KINDS[head], value


# ---- netplan -------------------------------------------------------------------------------

_NETPLAN_KINDS = ("ethernets", "bonds", "bridges", "vlans", "wifis", "tunnels", "vrfs")


def _yaml_prescan(text: str) -> None:
    """Refuse what could make loading costly before PyYAML sees it."""
    if len(text) > MAX_YAML:
        raise ValueError(f"a YAML file of {len(text)} characters (at most {MAX_YAML})")
    depth = deepest = 0
    for c in text:
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(depth - 1, 0)
    if deepest > MAX_YAML_DEPTH:
        raise ValueError(f"YAML nested {deepest} deep (at most {MAX_YAML_DEPTH})")
    if text.count("&") > MAX_YAML_ANCHORS:
        raise ValueError(f"more than {MAX_YAML_ANCHORS} YAML anchors")
    # Block nesting: each level needs more indentation, or another "- " on the line.
    for _n, line in _lines(text):
        level = len(line) - len(line.lstrip(" ")) + line.count("- ") + line.count(": ")
        if level > 8 * MAX_YAML_DEPTH:
            raise ValueError(f"YAML nested too deep ({level} levels of indentation)")


def _load_yaml(text: str) -> Any:
    _yaml_prescan(text)
    try:
        # The pure-Python safe loader: plain data only, and no C recursion on hostile nesting.
        return yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 (SafeLoader)
    except (yaml.YAMLError, RecursionError) as e:
        raise ValueError(f"not valid YAML: {str(e).splitlines()[0] if str(e) else e!r}") from None


def _scalar(v: Any) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return str(v)
    return None


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_YAML_NODES

    def take(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise ValueError(f"a YAML document of more than {MAX_YAML_NODES} nodes")


def _items(v: Any, budget: _Budget) -> list[Any]:
    if isinstance(v, list):
        budget.take(len(v))
        return v
    if isinstance(v, dict):
        budget.take(len(v))
        return list(v)  # the dict form of addresses: {"10.0.0.5/24": {label: …}}
    budget.take()
    return [v]


def netplan(text: str) -> Iterator[tuple[str, str, str]]:
    """``Netplan(text, iface, key, value)``: each interface of ``network:`` with keys ``type``
    (``ethernet``, ``bond``, …), ``dhcp4``/``dhcp6`` (``true``/``false``), ``address`` (as
    written, ``10.0.0.5/24``), ``gateway`` (``gateway4``/``gateway6``), ``route`` (``TO VIA``),
    ``dns``, ``search``, ``mac``, ``set-name``, ``renderer``. A file that is not a netplan
    mapping yields nothing; one that is too large, too deep or not YAML is a ValueError."""
    doc = _load_yaml(text)
    network = doc.get("network") if isinstance(doc, dict) else None
    if not isinstance(network, dict):
        return
    budget = _Budget()
    default_renderer = _scalar(network.get("renderer"))
    for kind in _NETPLAN_KINDS:
        group = network.get(kind)
        if not isinstance(group, dict):
            continue
        budget.take(len(group))
        for name, conf in group.items():
            iface = _scalar(name)
            if iface is None or not isinstance(conf, dict):
                continue
            for key, value in _netplan_interface(kind, conf, default_renderer, budget):
                yield iface, key, value


def _netplan_interface(kind: str, conf: dict[Any, Any], default_renderer: str | None,
                       budget: _Budget) -> Iterator[tuple[str, str]]:
    """The (key, value) pairs of one interface of the netplan group ``kind``."""
    yield "type", kind[:-1]
    renderer = _scalar(conf.get("renderer")) or default_renderer
    if renderer:
        yield "renderer", renderer
    for key in ("dhcp4", "dhcp6", "set-name", "gateway4", "gateway6"):
        value = _scalar(conf.get(key))
        if value is not None:
            yield "gateway" if key.startswith("gateway") else key, value
    for addr in _items(conf.get("addresses", []), budget):
        if (s := _scalar(addr)) is not None:
            yield "address", s
    for route in _items(conf.get("routes", []), budget):
        if isinstance(route, dict):
            to, via = _scalar(route.get("to")), _scalar(route.get("via"))
            if to is not None and via is not None:
                yield "route", f"{to} {via}"
    ns = conf.get("nameservers")
    if isinstance(ns, dict):
        for key, out in (("addresses", "dns"), ("search", "search")):
            for v in _items(ns.get(key, []), budget):
                if (s := _scalar(v)) is not None:
                    yield out, s
    match = conf.get("match")
    if isinstance(match, dict) and (mac := _scalar(match.get("macaddress"))):
        yield "mac", mac


# ---- OpenSSH public keys -------------------------------------------------------------------

_CURVE_BITS = {"nistp256": 256, "nistp384": 384, "nistp521": 521}


def _ssh_strings(blob: bytes, count: int) -> list[bytes]:
    """The first ``count`` length-prefixed strings of an SSH wire-format blob."""
    out: list[bytes] = []
    pos = 0
    for _ in range(count):
        if pos + 4 > len(blob):
            raise ValueError("a truncated SSH key blob")
        size = int.from_bytes(blob[pos:pos + 4], "big")
        if pos + 4 + size > len(blob):
            raise ValueError("a truncated SSH key blob")
        out.append(blob[pos + 4:pos + 4 + size])
        pos += 4 + size
    return out


def _key_bits(algorithm: str, blob: bytes) -> int:
    """The key size ssh-keygen prints: the modulus (RSA) or prime (DSA) bits, the curve's."""
    if algorithm == "ssh-rsa":
        return int.from_bytes(_ssh_strings(blob, 3)[2], "big").bit_length()
    if algorithm == "ssh-dss":
        return int.from_bytes(_ssh_strings(blob, 2)[1], "big").bit_length()
    if algorithm.startswith("ecdsa-sha2-") or algorithm.startswith("sk-ecdsa-sha2-"):
        curve = _ssh_strings(blob, 2)[1].decode("ascii", "replace")
        if curve not in _CURVE_BITS:
            raise ValueError(f"an unknown ECDSA curve {curve[:32]!r}")
        return _CURVE_BITS[curve]
    return 256  # ssh-ed25519 and sk-ssh-ed25519@openssh.com


def _key_words(line: str) -> list[str]:
    """Words of an authorized_keys line; double quotes group (options like command="a b")."""
    words: list[str] = []
    start, quoted = 0, False
    for i, c in enumerate(line):
        if c == '"':
            quoted = not quoted
        elif c in " \t" and not quoted:
            if i > start:
                words.append(line[start:i])
            start = i + 1
    if len(line) > start:
        words.append(line[start:])
    return words


def _is_algorithm(word: str) -> bool:
    return word.startswith(("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-")) and len(word) < 64


def ssh_key(line: str) -> Iterator[tuple[str, int, str, str]]:
    """``SshKey(line, algorithm, bits, fingerprint, comment)``: an OpenSSH public key line
    (``.pub`` file or ``authorized_keys``, options before the key allowed). The fingerprint is
    ``SHA256:`` and the unpadded base64 of the SHA-256 of the key blob, as ``ssh-keygen -l``
    prints it. Blank lines and comments yield nothing; a damaged key is a ValueError."""
    if len(line) > MAX_LINE:
        return
    s = line.strip()
    if not s or s.startswith("#"):
        return
    words = _key_words(s)
    for i, word in enumerate(words[:-1]):
        if not _is_algorithm(word):
            continue
        data = words[i + 1]
        if len(data) > MAX_KEY:
            raise ValueError(f"an SSH key of {len(data)} base64 characters")
        try:
            blob = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("an SSH key that is not base64") from None
        inner = _ssh_strings(blob, 1)[0].decode("ascii", "replace")
        if inner != word:
            raise ValueError(f"an SSH key blob of type {inner[:32]!r} after {word[:32]!r}")
        digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
        yield word, _key_bits(word, blob), f"SHA256:{digest}", " ".join(words[i + 2:])
        return


# ---- functors ------------------------------------------------------------------------------


def netmask_prefix(mask: str) -> int:
    """``255.255.255.0`` -> 24. A mask that is not contiguous ones, or not a dotted quad,
    is a ValueError."""
    parts = mask.strip().split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
        raise ValueError(f"not a netmask: {mask[:40]!r}")
    value = 0
    for p in parts:
        if int(p) > 255:
            raise ValueError(f"not a netmask: {mask[:40]!r}")
        value = value << 8 | int(p)
    prefix = bin(value).count("1")
    if value != ((1 << 32) - 1) ^ ((1 << (32 - prefix)) - 1):
        raise ValueError(f"not a contiguous netmask: {mask[:40]!r}")
    return prefix


def days_date(days: int) -> str:
    """Days since 1970-01-01 (as /etc/shadow counts) -> ``YYYY-MM-DD``; outside years
    1970..9999 is a ValueError."""
    if not 0 <= days <= 2_932_896:
        raise ValueError(f"a day number out of range: {days}")
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=days)).isoformat()


def seconds_date(seconds: int) -> str:
    """Seconds since the epoch (UTC) -> ``YYYY-MM-DD``; as ``days_date`` for the range."""
    return days_date(seconds // 86400) if seconds >= 0 else days_date(-1)


FUNCTORS: dict[str, Callable[..., Any]] = {
    "netmask_prefix": netmask_prefix,
    "days_date": days_date,
    "seconds_date": seconds_date,
}

RELATIONS: dict[str, PyRelation] = {
    "IniValue": PyRelation(ini_values, "bffff"),
    "GrubEntry": PyRelation(grub_entries, "bffff"),
    "Netplan": PyRelation(netplan, "bfff"),
    "SshKey": PyRelation(ssh_key, "bffff"),
}
