"""Remote disks end to end: the Debian test guest read over nbd, http and ssh (servers on
127.0.0.1 started by the tests, tests/remote/conftest.py) gives virt-inspector's XML for it,
as the local image does (its oracle, tests/cli/test_end_to_end.py). One appliance launch per
protocol; the probes before the launch are tested in test_probe.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.api import Inspector
from guestinspect.cli import cli
from guestinspect.reporting.xml import to_xml
from tests.cli.test_end_to_end import expected, normalise, validate
from tests.remote import servers
from tests.remote.conftest import HTTP_AUTH

pytestmark = pytest.mark.appliance


def _inspect_cli(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, ["--timeout", "600", *args], env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    validate(result.stdout)
    return result.stdout


def test_nbd(nbd_port: int) -> None:
    # the command line: virt-inspector --format=raw -a nbd://127.0.0.1:10809
    xml = _inspect_cli(["--format=raw", "-a", f"nbd://127.0.0.1:{nbd_port}/debian"])
    assert normalise(xml) == expected("debian")


def test_http_facts_with_password_file(http_server: servers.HttpServer, tmp_path: Path) -> None:
    """``guestinspect facts`` over https-style Basic authentication, the password from a file;
    the snapshot then inspects as the local image does."""
    user, password = HTTP_AUTH
    pw = tmp_path / "password"
    pw.write_text(password + "\n")
    url = http_server.url.replace("://", f"://{user}@")
    out = tmp_path / "snap"
    result = CliRunner().invoke(cli, ["facts", "--timeout", "600", "-a", url,
                                      "--password-file", str(pw), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    with Inspector.from_facts(out) as insp:
        xml = to_xml(insp.inspect())
    validate(xml)
    assert normalise(xml) == expected("debian")


def test_ssh(ssh_server: servers.SshServer, debian_image: Path) -> None:
    uri = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}{debian_image}"
    xml = _inspect_cli(["-a", uri], env={**ssh_server.env(), "SSH_AUTH_SOCK": ""})
    assert normalise(xml) == expected("debian")
