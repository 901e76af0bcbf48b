"""Remote disks: the ``-a URI`` forms virt-inspector accepts, parsed into libguestfs drives.

``parse_disk(text)`` returns a local :class:`~pathlib.Path` for anything that does not look
like a URI (``scheme://``) and a :class:`RemoteDisk` for a URI it accepts; a URI it does not
accept is a :class:`UriError` with a one-line message. The text is user input: its length is
capped, every character is checked (RFC 3986's set; anything else must be percent-encoded),
the decoded parts may hold no control character, and the work is linear in the text.

A password in the URI (``user:password@``) is refused: secrets come from ``--password-file``
or ``--ask-password`` (:func:`with_password`), never from the command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from guestinspect.errors import UriError

#: Longest URI accepted (characters).
MAX_URI = 4096
#: Longest host name (RFC 1035).
MAX_HOST = 253

#: The schemes accepted, and the libguestfs protocol each maps to.
PROTOCOLS = {
    "nbd": "nbd", "nbd+unix": "nbd", "ssh": "ssh", "http": "http", "https": "https",
    "ftp": "ftp", "ftps": "ftps", "iscsi": "iscsi", "rbd": "rbd", "gluster": "gluster",
}
#: Schemes libguestfs knows that are refused, with the reason.
REFUSED = {
    "tftp": "qemu's curl driver no longer reads tftp",
    "sheepdog": "qemu no longer has a sheepdog driver",
    "nbd+tcp": "write it nbd://HOST[:PORT]/EXPORT",
    "gluster+tcp": "write it gluster://HOST[:PORT]/VOLUME/IMAGE",
    "gluster+unix": "gluster over a Unix socket is not supported",
    "gluster+rdma": "gluster over RDMA is not supported",
}
#: The port a protocol's server listens on when the URI names none.
DEFAULT_PORTS = {
    "nbd": 10809, "ssh": 22, "http": 80, "https": 443, "ftp": 21, "ftps": 990,
    "iscsi": 3260, "gluster": 24007, "rbd": 6789,
}
#: Protocols a password (``secret``) is given to; those of the first set need a user name.
SECRET_NEEDS_USER = frozenset({"http", "https", "ftp", "ftps", "iscsi"})
SECRET_PROTOCOLS = SECRET_NEEDS_USER | {"rbd"}
#: Protocols that take a user name in the URI.
USER_PROTOCOLS = SECRET_PROTOCOLS | {"ssh"}

_LOOKS_LIKE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://")
# RFC 3986: unreserved, reserved (gen-delims and sub-delims) and "%".
_URI_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?")
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class RemoteDisk:
    """A disk on a server, as libguestfs's ``add_drive`` takes it.

    ``exportname`` is add_drive's file name argument: the path on the server (ssh, http…),
    the NBD export name, ``target-iqn/lun`` (iscsi), ``pool/image`` (rbd) or
    ``volume/image`` (gluster). ``secret`` is never shown (``repr``, ``str``).
    """

    uri: str
    protocol: str
    exportname: str
    host: str | None = None
    port: int | None = None
    socket: str | None = None
    username: str | None = None
    secret: str | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return self.uri

    def server(self) -> list[str]:
        """add_drive's ``server`` list: ``tcp:HOST[:PORT]``, ``unix:PATH`` or nothing."""
        if self.socket is not None:
            return [f"unix:{self.socket}"]
        if self.host is None:
            return []
        return [f"tcp:{self.host}" + (f":{self.port}" if self.port is not None else "")]

    def drive_options(self) -> dict[str, object]:
        """add_drive's optional arguments for this disk, but ``readonly`` and ``format``
        (the caller's: always ``readonly=True``)."""
        options: dict[str, object] = {"protocol": self.protocol}
        if self.server():
            options["server"] = self.server()
        if self.username is not None:
            options["username"] = self.username
        if self.secret is not None:
            options["secret"] = self.secret
        return options

    def address(self) -> tuple[str, int] | None:
        """The TCP host and port the disk is read from (None: a Unix socket, or none)."""
        if self.host is None:
            return None
        return self.host, self.port if self.port is not None else DEFAULT_PORTS[self.protocol]

    def qemu_uri(self, user: bool = True) -> str | None:
        """The URI ``qemu-img`` opens for this disk, without the secret (and without the user
        name if not ``user``); None where qemu has no URI syntax for it (iscsi, rbd, gluster
        are probed by a TCP connection only)."""
        export = quote(self.exportname, safe="")
        if self.protocol == "nbd":
            if self.socket is not None:
                return f"nbd+unix://{'/' + export if export else ''}" \
                    f"?socket={quote(self.socket, safe='/')}"
            address = self.address()
            assert address is not None
            return f"nbd://{address[0]}:{address[1]}" + (f"/{export}" if export else "")
        if self.protocol in ("ssh", "http", "https", "ftp", "ftps"):
            named = user and self.username is not None
            user_at = f"{quote(self.username or '', safe='')}@" if named else ""
            port = f":{self.port}" if self.port is not None else ""
            return f"{self.protocol}://{user_at}{self.host}{port}{quote(self.exportname)}"
        return None


def drive_args(disk: Path | RemoteDisk) -> tuple[str, dict[str, object]]:
    """add_drive's file name and its options for ``disk`` (never ``readonly`` nor ``format``,
    which the caller gives: the drive is always read-only)."""
    if isinstance(disk, Path):
        return str(disk), {}
    return disk.exportname, disk.drive_options()


def looks_like_uri(text: str) -> bool:
    """Whether ``text`` is meant as a URI (``scheme://`` at its start), not a file name."""
    return _LOOKS_LIKE_URI.match(text) is not None


def parse_disk(disk: str | Path | RemoteDisk) -> Path | RemoteDisk:
    """A disk given with ``-a``: a local path, or a remote disk for a URI (UriError if the URI
    is not accepted). A :class:`~pathlib.Path` is always local; ``file:///path`` is too."""
    if isinstance(disk, Path | RemoteDisk):
        return disk
    if not looks_like_uri(disk):
        return Path(disk)
    return parse_uri(disk)


def _shown(text: str) -> str:
    """``text`` fit for a one-line message: controls escaped, at most 120 characters."""
    cut = text[:120]
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return shown + ("…" if len(text) > 120 else "")


def _decode(part: str, what: str, uri: str) -> str:
    """Percent-decode one part of the URI (UTF-8; no control characters in the result)."""
    out = bytearray()
    i, n = 0, len(part)
    while i < n:
        c = part[i]
        if c == "%":
            pair = part[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise UriError(f"{_shown(uri)}: a '%' not followed by two hex digits in the {what}")
            out.append(int(pair, 16))
            i += 3
        else:
            out.extend(c.encode("ascii"))
            i += 1
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UriError(f"{_shown(uri)}: the {what} is not UTF-8 once decoded") from e
    for ch in text:
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            raise UriError(f"{_shown(uri)}: the {what} holds a control character "
                           f"({ch!r} once decoded)")
    return text


def _query(query: str, uri: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in re.split(r"[&;]", query):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = _decode(name, "query", uri)
        if name in params:
            raise UriError(f"{_shown(uri)}: query parameter {name!r} given twice")
        params[name] = _decode(value, "query", uri)
    return params


def parse_uri(uri: str) -> RemoteDisk | Path:
    """Parse an ``-a`` URI (``looks_like_uri`` is true); UriError if it is not accepted."""
    if len(uri) > MAX_URI:
        raise UriError(f"{_shown(uri)}: URI longer than {MAX_URI} characters")
    for i, c in enumerate(uri):
        if c not in _URI_CHARS:
            raise UriError(f"{_shown(uri)}: character {c!r} at offset {i} is not allowed in a "
                           "URI (percent-encode it)")
    scheme, _, rest = uri.partition("://")
    scheme = scheme.lower()
    if scheme in REFUSED:
        raise UriError(f"{_shown(uri)}: {scheme}:// is not supported: {REFUSED[scheme]}")
    if scheme not in PROTOCOLS and scheme != "file":
        known = ", ".join([*PROTOCOLS, "file"])
        raise UriError(f"{_shown(uri)}: unknown URI scheme {scheme!r} (known: {known})")
    if "#" in rest:
        raise UriError(f"{_shown(uri)}: a fragment ('#…') is not allowed in a disk URI")
    rest, has_query, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    path = _decode(slash + path, "path", uri)
    params = _query(query, uri) if has_query else {}

    userinfo, at, hostport = authority.rpartition("@")
    if "@" in userinfo:
        raise UriError(f"{_shown(uri)}: more than one '@' (percent-encode '@' in a user name)")
    if ":" in userinfo:
        raise UriError(f"{_shown(uri)}: a password in the URI is not accepted; "
                       "give it with --password-file FILE or --ask-password")
    username = _decode(userinfo, "user name", uri) if at else None
    if at and not username:
        raise UriError(f"{_shown(uri)}: empty user name before '@'")
    host, port = _host_port(hostport, uri)

    if scheme == "file":
        return _file(uri, host, port, username, params, path)
    protocol = PROTOCOLS[scheme]
    if username is not None and protocol not in USER_PROTOCOLS:
        raise UriError(f"{_shown(uri)}: {scheme}:// takes no user name")
    socket = params.pop("socket", None)
    if params:
        name = sorted(params)[0]
        raise UriError(f"{_shown(uri)}: unknown query parameter {_shown(name)!r} "
                       "(only 'socket', for nbd)")
    if socket is not None and protocol != "nbd":
        raise UriError(f"{_shown(uri)}: query parameter 'socket' is for nbd only")
    disk = RemoteDisk(uri, protocol, path, host, port, socket, username)
    return _checked(scheme, disk)


def _host_port(hostport: str, uri: str) -> tuple[str | None, int | None]:
    if hostport.startswith("["):
        raise UriError(f"{_shown(uri)}: IPv6 address literals are not supported "
                       "(libguestfs passes the host to qemu unbracketed); use a host name")
    host, colon, port_text = hostport.rpartition(":")
    if not colon:
        host, port_text = hostport, ""
    port: int | None = None
    if colon:
        if not port_text:
            raise UriError(f"{_shown(uri)}: missing port number after ':'")
        if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5:
            raise UriError(f"{_shown(uri)}: bad port {_shown(port_text)!r} (a number 1-65535)")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise UriError(f"{_shown(uri)}: bad port {port} (a number 1-65535)")
    if not host:
        if colon:
            raise UriError(f"{_shown(uri)}: a port without a host")
        return None, None
    if len(host) > MAX_HOST or _HOST.fullmatch(host) is None:
        raise UriError(f"{_shown(uri)}: bad host name {_shown(host)!r}")
    return host, port


def _file(uri: str, host: str | None, port: int | None, username: str | None,
          params: dict[str, str], path: str) -> Path:
    if host not in (None, "localhost") or port is not None or username is not None:
        raise UriError(f"{_shown(uri)}: file:// URIs name a local file (file:///PATH)")
    if params:
        raise UriError(f"{_shown(uri)}: file:// URIs take no query")
    if not path.strip("/"):
        raise UriError(f"{_shown(uri)}: missing file path (file:///PATH)")
    return Path(path)


def _checked(scheme: str, disk: RemoteDisk) -> RemoteDisk:
    """The protocol's own rules (as libguestfs's add_drive checks them), as one line."""
    uri, protocol, path = _shown(disk.uri), disk.protocol, disk.exportname
    if protocol == "nbd":
        if scheme == "nbd+unix" and (disk.host is not None or disk.socket is None):
            raise UriError(f"{uri}: nbd+unix:// needs ?socket=PATH and no host "
                           "(nbd+unix:///EXPORT?socket=PATH)")
        if disk.host is not None and disk.socket is not None:
            raise UriError(f"{uri}: give a host or ?socket=PATH, not both")
        if disk.host is None and disk.socket is None:
            raise UriError(f"{uri}: missing server (nbd://HOST[:PORT][/EXPORT] or "
                           "nbd+unix:///EXPORT?socket=PATH)")
        if disk.socket is not None and not disk.socket.startswith("/"):
            raise UriError(f"{uri}: the socket must be an absolute path")
        return replace(disk, exportname=path.removeprefix("/"))
    if disk.host is None and protocol != "rbd":
        raise UriError(f"{uri}: missing host ({scheme}://HOST/…)")
    if protocol in ("ssh", "http", "https", "ftp", "ftps"):
        if not path.strip("/"):
            raise UriError(f"{uri}: missing path of the disk image ({scheme}://HOST/PATH)")
        return disk
    export = path.removeprefix("/")
    if protocol == "iscsi" and not export.strip("/"):
        raise UriError(f"{uri}: missing target (iscsi://HOST[:PORT]/TARGET-IQN[/LUN])")
    if protocol == "rbd":
        if not export.strip("/"):
            raise UriError(f"{uri}: missing image (rbd://[HOST:PORT]/POOL/IMAGE)")
        if disk.host is not None and disk.port is None:
            raise UriError(f"{uri}: rbd:// with a host needs its port (rbd://HOST:6789/POOL/IMAGE)")
    if protocol == "gluster":
        volume, _, image = export.partition("/")
        if not volume or not image.strip("/"):
            raise UriError(f"{uri}: missing volume or image (gluster://HOST[:PORT]/VOLUME/IMAGE)")
    return replace(disk, exportname=export)


def password_takers(disks: list[Path | RemoteDisk]) -> list[RemoteDisk]:
    """The remote disks a password is given to; UriError if there are none, or one lacks the
    user name its protocol needs with a password."""
    remote = [d for d in disks if isinstance(d, RemoteDisk)]
    takers = [d for d in remote if d.protocol in SECRET_PROTOCOLS]
    if not takers:
        ssh = " (ssh:// logs in with ssh-agent or the keys in ~/.ssh, not a password)" \
            if any(d.protocol == "ssh" for d in remote) else ""
        raise UriError("a password was given but no -a URI takes one "
                       f"(http, https, ftp, ftps, iscsi, rbd){ssh}")
    for d in takers:
        if d.protocol in SECRET_NEEDS_USER and d.username is None:
            raise UriError(f"{_shown(d.uri)}: a password needs a user name in the URI "
                           f"({d.uri.partition('://')[0].lower()}://USER@HOST/…)")
    return takers


def with_password(
    disks: list[Path | RemoteDisk], password: str | None
) -> list[Path | RemoteDisk]:
    """The disks, with ``password`` as the secret of every remote disk whose protocol takes
    one (UriError as :func:`password_takers`)."""
    if password is None:
        return disks
    takers = password_takers(disks)
    return [replace(d, secret=password) if d in takers else d for d in disks]


def redact(message: str, disks: list[Path | RemoteDisk]) -> str:
    """``message`` with every disk's secret (as is and percent-encoded) replaced by ``***``."""
    for d in disks:
        if isinstance(d, RemoteDisk) and d.secret:
            for form in {d.secret, quote(d.secret, safe=""), quote(d.secret)}:
                message = message.replace(form, "***")
    return message
