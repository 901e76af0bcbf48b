"""Remote disks end to end: the Debian test guest read over nbd, http and ssh (servers on
127.0.0.1 started by the tests, tests/remote/conftest.py) gives virt-inspector's XML for it,
as the local image does. One appliance launch per protocol."""

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
    result = CliRunner().invoke(cli, ["--timeout", "1200", *args], env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    validate(result.stdout)
    return result.stdout


def test_nbd(nbd_port: int) -> None:
    xml = _inspect_cli(["-a", f"nbd://127.0.0.1:{nbd_port}/debian"])
    assert normalise(xml) == expected("debian")


def test_http_with_password(http_server: servers.HttpServer) -> None:
    user, password = HTTP_AUTH
    url = http_server.url.replace("://", f"://{user}@")
    with Inspector([url], password=password, timeout=1200) as insp:
        xml = to_xml(insp.inspect())
        assert insp.warnings() == []
    assert normalise(xml) == expected("debian")


def test_ssh(ssh_server: servers.SshServer, debian_image: Path) -> None:
    uri = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}{debian_image}"
    xml = _inspect_cli(["-a", uri], env={**ssh_server.env(), "SSH_AUTH_SOCK": ""})
    assert normalise(xml) == expected("debian")
