"""The -a URI parser (guestinspect/collectors/uri.py) and the password sources, no appliance:
accepted forms and the add_drive arguments they give, and malformed URIs with their exact
one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from guestinspect.collectors.password import read_password_file, remote_password
from guestinspect.collectors.uri import (
    RemoteDisk,
    drive_args,
    parse_disk,
    redact,
    with_password,
)
from guestinspect.errors import UriError, UsageError

GOOD = [
    # uri, add_drive file name, options, qemu-img's URI
    ("nbd://127.0.0.1:10809", "", {"protocol": "nbd", "server": ["tcp:127.0.0.1:10809"]},
     "nbd://127.0.0.1:10809"),
    ("nbd://example.com/exp", "exp", {"protocol": "nbd", "server": ["tcp:example.com"]},
     "nbd://example.com:10809/exp"),
    ("nbd+unix:///my%20exp?socket=/run/nbd.sock", "my exp",
     {"protocol": "nbd", "server": ["unix:/run/nbd.sock"]},
     "nbd+unix:///my%20exp?socket=/run/nbd.sock"),
    ("nbd://?socket=/s", "", {"protocol": "nbd", "server": ["unix:/s"]}, "nbd+unix://?socket=/s"),
    ("NBD://h:1/x", "x", {"protocol": "nbd", "server": ["tcp:h:1"]}, "nbd://h:1/x"),
    ("ssh://root@host.example:2222/var/lib/disk%201.img", "/var/lib/disk 1.img",
     {"protocol": "ssh", "server": ["tcp:host.example:2222"], "username": "root"},
     "ssh://root@host.example:2222/var/lib/disk%201.img"),
    ("ssh://h/d.img", "/d.img", {"protocol": "ssh", "server": ["tcp:h"]}, "ssh://h/d.img"),
    ("http://web/images/d.qcow2", "/images/d.qcow2", {"protocol": "http", "server": ["tcp:web"]},
     "http://web/images/d.qcow2"),
    ("https://bob@web:8443/d.img", "/d.img",
     {"protocol": "https", "server": ["tcp:web:8443"], "username": "bob"},
     "https://bob@web:8443/d.img"),
    ("ftp://f/d.img", "/d.img", {"protocol": "ftp", "server": ["tcp:f"]}, "ftp://f/d.img"),
    ("ftps://f/d.img", "/d.img", {"protocol": "ftps", "server": ["tcp:f"]}, "ftps://f/d.img"),
    ("iscsi://san:3260/iqn.2026-11.com.example:disk/1", "iqn.2026-11.com.example:disk/1",
     {"protocol": "iscsi", "server": ["tcp:san:3260"]}, None),
    ("rbd:///pool/image", "pool/image", {"protocol": "rbd"}, None),
    ("rbd://admin@mon:6789/pool/image", "pool/image",
     {"protocol": "rbd", "server": ["tcp:mon:6789"], "username": "admin"}, None),
    ("gluster://g/vol/dir/img", "vol/dir/img", {"protocol": "gluster", "server": ["tcp:g"]},
     None),
]


@pytest.mark.parametrize("uri,name,options,qemu", GOOD)
def test_accepted(uri: str, name: str, options: dict[str, object], qemu: str | None) -> None:
    disk = parse_disk(uri)
    assert isinstance(disk, RemoteDisk)
    assert str(disk) == uri
    assert drive_args(disk) == (name, options)
    assert "readonly" not in options and "format" not in options  # the caller's, always True
    assert disk.qemu_uri() == qemu


def test_local_paths_stay_paths() -> None:
    assert parse_disk("disk.img") == Path("disk.img")
    assert parse_disk("/images/a:b.img") == Path("/images/a:b.img")
    assert parse_disk("nbd:/127.0.0.1:10809") == Path("nbd:/127.0.0.1:10809")  # not a URI
    assert parse_disk(Path("nbd://h")) == Path("nbd://h")  # a Path is always local
    assert parse_disk("file:///var/lib/my%20disk.img") == Path("/var/lib/my disk.img")
    assert parse_disk("file://localhost/d.img") == Path("/d.img")
    assert drive_args(Path("/d.img")) == ("/d.img", {})


BAD = [
    ("nbd://h:0/x", "nbd://h:0/x: bad port 0 (a number 1-65535)"),
    ("nbd://h:65536", "nbd://h:65536: bad port 65536 (a number 1-65535)"),
    ("nbd://h:1x", "nbd://h:1x: bad port '1x' (a number 1-65535)"),
    ("nbd://h:000000010809", "nbd://h:000000010809: bad port '000000010809' (a number 1-65535)"),
    ("http://h:/d", "http://h:/d: missing port number after ':'"),
    ("http://:80/d", "http://:80/d: a port without a host"),
    ("http://h_/d", "http://h_/d: bad host name 'h_'"),
    ("http://[::1]/d", "http://[::1]/d: IPv6 address literals are not supported (libguestfs "
     "passes the host to qemu unbracketed); use a host name"),
    ("foo://h/d", "foo://h/d: unknown URI scheme 'foo' (known: nbd, nbd+unix, ssh, http, "
     "https, ftp, ftps, iscsi, rbd, gluster, file)"),
    ("tftp://h/d", "tftp://h/d: tftp:// is not supported: qemu's curl driver no longer reads "
     "tftp"),
    ("sheepdog://h/v", "sheepdog://h/v: sheepdog:// is not supported: qemu no longer has a "
     "sheepdog driver"),
    ("nbd://", "nbd://: missing server (nbd://HOST[:PORT][/EXPORT] or "
     "nbd+unix:///EXPORT?socket=PATH)"),
    ("nbd://h?socket=/s", "nbd://h?socket=/s: give a host or ?socket=PATH, not both"),
    ("nbd://?socket=s", "nbd://?socket=s: the socket must be an absolute path"),
    ("nbd+unix://h/x", "nbd+unix://h/x: nbd+unix:// needs ?socket=PATH and no host "
     "(nbd+unix:///EXPORT?socket=PATH)"),
    ("nbd://u@h", "nbd://u@h: nbd:// takes no user name"),
    ("nbd://h/x?export=y", "nbd://h/x?export=y: unknown query parameter 'export' (only "
     "'socket', for nbd)"),
    ("nbd://?socket=/a&socket=/b", "nbd://?socket=/a&socket=/b: query parameter 'socket' "
     "given twice"),
    ("http://h/d?socket=/s", "http://h/d?socket=/s: query parameter 'socket' is for nbd only"),
    ("ssh://h", "ssh://h: missing path of the disk image (ssh://HOST/PATH)"),
    ("ssh://h/", "ssh://h/: missing path of the disk image (ssh://HOST/PATH)"),
    ("ssh:///d.img", "ssh:///d.img: missing host (ssh://HOST/…)"),
    ("https://u:p@h/d", "https://u:p@h/d: a password in the URI is not accepted; give it with "
     "--password-file FILE or --ask-password"),
    ("https://u:@h/d", "https://u:@h/d: a password in the URI is not accepted; give it with "
     "--password-file FILE or --ask-password"),
    ("http://@h/d", "http://@h/d: empty user name before '@'"),
    ("http://a@b@h/d", "http://a@b@h/d: more than one '@' (percent-encode '@' in a user name)"),
    ("http://h/d#frag", "http://h/d#frag: a fragment ('#…') is not allowed in a disk URI"),
    ("http://h/d x", "http://h/d x: character ' ' at offset 10 is not allowed in a URI "
     "(percent-encode it)"),
    ("http://h/d\nx", "http://h/d\\nx: character '\\n' at offset 10 is not allowed in a URI "
     "(percent-encode it)"),
    ("http://h/d\x1b[31m", "http://h/d\\x1b[31m: character '\\x1b' at offset 10 is not allowed "
     "in a URI (percent-encode it)"),
    ("http://h/dé", "http://h/dé: character 'é' at offset 10 is not allowed in a URI "
     "(percent-encode it)"),
    ("http://h/d%0A", "http://h/d%0A: the path holds a control character ('\\n' once decoded)"),
    ("http://h/d%00", "http://h/d%00: the path holds a control character ('\\x00' once "
     "decoded)"),
    ("http://h/d%zz", "http://h/d%zz: a '%' not followed by two hex digits in the path"),
    ("http://h/d%4", "http://h/d%4: a '%' not followed by two hex digits in the path"),
    ("http://h/d%ff", "http://h/d%ff: the path is not UTF-8 once decoded"),
    ("iscsi://san/", "iscsi://san/: missing target (iscsi://HOST[:PORT]/TARGET-IQN[/LUN])"),
    ("rbd://mon/pool/img", "rbd://mon/pool/img: rbd:// with a host needs its port "
     "(rbd://HOST:6789/POOL/IMAGE)"),
    ("rbd:///", "rbd:///: missing image (rbd://[HOST:PORT]/POOL/IMAGE)"),
    ("gluster://g/vol", "gluster://g/vol: missing volume or image "
     "(gluster://HOST[:PORT]/VOLUME/IMAGE)"),
    ("file://h/d.img", "file://h/d.img: file:// URIs name a local file (file:///PATH)"),
    ("file:///", "file:///: missing file path (file:///PATH)"),
    ("http://h/" + "a" * 5000, "http://h/" + "a" * 111 + "…: URI longer than 4096 characters"),
]


@pytest.mark.parametrize("uri,message", BAD)
def test_refused(uri: str, message: str) -> None:
    with pytest.raises(UriError) as e:
        parse_disk(uri)
    assert str(e.value) == message
    assert "\n" not in str(e.value)
    assert isinstance(e.value, UsageError)


def test_cli_error_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["-a", "nbd://h:99999/x"])
    assert result.exit_code == 1
    assert result.stderr == "guestinspect: error: nbd://h:99999/x: bad port 99999 (a number " \
        "1-65535)\n"


def test_passwords_go_to_the_protocols_that_take_them() -> None:
    disks = [parse_disk(u) for u in ("https://bob@h/d", "nbd://h", "rbd:///p/i", "local.img")]
    given = with_password(disks, "pw")
    secrets = [getattr(d, "secret", None) for d in given]
    assert secrets == ["pw", None, "pw", None]
    assert "pw" not in repr(given) and "pw" not in str(given[0])
    assert drive_args(given[0])[1]["secret"] == "pw"
    assert with_password(disks, None) == disks
    with pytest.raises(UriError) as e:
        with_password([parse_disk("ssh://h/d"), parse_disk("nbd://h")], "pw")
    assert str(e.value) == ("a password was given but no -a URI takes one (http, https, ftp, "
                            "ftps, iscsi, rbd) (ssh:// logs in with ssh-agent or the keys in "
                            "~/.ssh, not a password)")
    with pytest.raises(UriError) as e:
        with_password([parse_disk("iscsi://san/iqn.x:y/0")], "pw")
    assert str(e.value) == ("iscsi://san/iqn.x:y/0: a password needs a user name in the URI "
                            "(iscsi://USER@HOST/…)")
    assert redact("open 'http://bob:p%20w@h/d' failed: p w", with_password(
        [parse_disk("http://bob@h/d")], "p w")) == "open 'http://bob:***@h/d' failed: ***"


def test_password_file(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_bytes(b"s3cret, with spaces\r\nsecond line ignored\n")
    assert read_password_file(f) == "s3cret, with spaces"
    cases = {
        b"": "empty password", b"\n": "empty password",
        b"a\x00b": "the password holds a control character",
        b"\xff": "the password is not UTF-8",
        b"x" * 4097: "the password is longer than 4096 bytes",
    }
    for data, why in cases.items():
        f.write_bytes(data)
        with pytest.raises(UsageError) as e:
            read_password_file(f)
        assert str(e.value) == f"--password-file {f}: {why}"
    for path, why in ((tmp_path, "not a regular file"), (tmp_path / "none", "no such file or "
                      "directory"), (Path("/dev/zero"), "not a regular file")):
        with pytest.raises(UsageError) as e:
            read_password_file(path)
        assert str(e.value) == f"--password-file {path}: {why}"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # refused at once, without waiting for a writer
    with pytest.raises(UsageError, match="not a regular file"):
        read_password_file(fifo)


def test_password_options(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_text("pw\n")
    assert remote_password(None, False, ["https://bob@h/d"]) is None
    assert remote_password(f, False, ["https://bob@h/d"]) == "pw"
    with pytest.raises(UsageError, match="cannot be used together"):
        remote_password(f, True, ["https://bob@h/d"])
    with pytest.raises(UriError, match="no -a URI takes one"):  # checked before it is read
        remote_password(tmp_path / "absent", False, ["disk.img"])


def test_ask_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from guestinspect.collectors import password

    monkeypatch.setattr(password, "has_terminal", lambda: False)
    result = CliRunner().invoke(cli, ["-a", "https://bob@h/d", "--ask-password"])
    assert result.exit_code == 1
    assert result.stderr == "guestinspect: error: --ask-password needs a terminal; use " \
        "--password-file FILE\n"
    prompts: list[str] = []
    monkeypatch.setattr(password, "has_terminal", lambda: True)
    monkeypatch.setattr(password.getpass, "getpass", lambda p: prompts.append(p) or "typed pw")
    assert remote_password(None, True, ["https://bob@h/d", "x.img"]) == "typed pw"
    assert prompts == ["password for https://bob@h/d: "]


def test_api_takes_uris_and_the_password() -> None:
    from guestinspect.api import Inspector

    insp = Inspector(["https://bob@h/d.img", "nbd://h/e"], password="pw")  # nothing opened yet
    https, nbd = insp.disks
    assert isinstance(https, RemoteDisk) and https.secret == "pw"
    assert isinstance(nbd, RemoteDisk) and nbd.secret is None
    with pytest.raises(UriError, match="no -a URI takes one"):
        Inspector(["nbd://h/e"], password="pw")
    with pytest.raises(UriError, match="bad port"):
        Inspector(["nbd://h:0/e"])
