"""The answerers over the memory backend (no appliance): symlinks resolved within the
filesystem, the generic case-insensitive lookup, pacman's desc files read one by one under the
byte cap, and the request table that every list of request relations derives from."""

from pathlib import Path

import pytest

from guestinspect.collectors import packages
from guestinspect.collectors.answerers import AnswerContext, answer
from guestinspect.collectors.answerers.table import ANSWERERS, PHASES
from guestinspect.collectors.backends.memory import MemoryView, Node
from guestinspect.collectors.base import WANT_RELATIONS, FactSet
from guestinspect.collectors.resolver import GuestFilesystem
from guestinspect.inspection import driver
from guestinspect.reporting import explain

FS = "/dev/sda1"


def _ask(tmp: Path, nodes: dict[str, Node], wants: FactSet) -> tuple[FactSet, list[str]]:
    warnings: list[str] = []
    ctx = AnswerContext({FS: GuestFilesystem(FS, MemoryView(nodes))}, warnings.append, tmp)
    return answer(ctx, wants), warnings


def test_symlinks_resolve_within_the_filesystem(tmp_path: Path) -> None:
    nodes: dict[str, Node] = {
        "/etc/os-release": ("symlink", "../usr/lib/os-release"),
        "/usr/lib/os-release": "ID=debian\n",
        "/lib": ("symlink", "/usr/lib"),  # absolute: this filesystem's root
        "/loop": ("symlink", "/loop/x"),
        "/up": ("symlink", "../../../usr"),  # .. stops at the root
    }
    wants: FactSet = {
        "WantContent": {(FS, "/etc/os-release"), (FS, "/lib/os-release"),
                        (FS, "/up/lib/os-release")},
        "WantPath": {(FS, "/loop/y"), (FS, "/etc/os-release"), (FS, "/nope")},
        "WantDir": {(FS, "/lib")},
    }
    got, warnings = _ask(tmp_path, nodes, wants)
    assert {(t[1], t[2]) for t in got["Content"]} == {
        ("/etc/os-release", "ID=debian\n"), ("/lib/os-release", "ID=debian\n"),
        ("/up/lib/os-release", "ID=debian\n")}
    assert (FS, "/etc/os-release", "symlink") in got["Entry"]
    assert (FS, "/etc/os-release", "../usr/lib/os-release") in got["Symlink"]
    assert {(FS, "/loop/y"), (FS, "/nope")} <= got["Missing"]
    assert (FS, "/lib") in got["Listed"]
    assert (FS, "/lib/os-release", len("ID=debian\n")) in got["FileSize"]
    assert warnings == []


def test_case_insensitive_lookup_over_listdir(tmp_path: Path) -> None:
    view = MemoryView({"/Windows/System32/config/SOFTWARE": b"x",
                       "/windows": None, "/Docs": ("symlink", "/Windows")})
    gfs = GuestFilesystem(FS, view)
    assert gfs.case_path("/WINDOWS/system32/CONFIG/software") == \
        "/Windows/System32/config/SOFTWARE"
    assert gfs.case_path("/windows") == "/windows"  # an exact match first
    assert gfs.case_path("/docs/SYSTEM32") == "/Docs/System32"  # through a symlink
    assert gfs.case_path("/Windows/nope") is None


def test_unmounted_filesystem_is_one_warning(tmp_path: Path) -> None:
    got, warnings = _ask(tmp_path, {}, {"WantPath": {("/dev/sdb1", "/a"), ("/dev/sdb1", "/b")},
                                        "WantDir": {("/dev/sdb1", "/")}})
    assert got == {}
    assert warnings == ["/dev/sdb1: requested but not mounted"]


def _pacman(n: int) -> dict[str, Node]:
    nodes: dict[str, Node] = {f"/var/lib/pacman/local/p{i:02}-1/desc":
                              f"%NAME%\np{i:02}\n\n%VERSION%\n1-1\n\n" for i in range(n)}
    nodes["/var/lib/pacman/local/ALPM_DB_VERSION"] = "9\n"
    nodes["/var/lib/pacman/local/p00-1/files"] = "%FILES%\nusr/\n\n"
    return nodes


def test_pacman_descs_read_one_by_one(tmp_path: Path) -> None:
    got, warnings = _ask(tmp_path, _pacman(3),
                         {"WantPackages": {(FS, "pacman", "/var/lib/pacman/local")}})
    names = sorted(str(t[4]) for t in got["PackageField"] if t[3] == "name")
    assert names == ["p00", "p01", "p02"] and warnings == []


def test_pacman_descs_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "DB_LIMIT", 100)
    got, warnings = _ask(tmp_path, _pacman(10),
                         {"WantPackages": {(FS, "pacman", "/var/lib/pacman/local")}})
    names = sorted(str(t[4]) for t in got["PackageField"] if t[3] == "name")
    assert 0 < len(names) < 10 and names[0] == "p00"
    ((*_, message),) = got["PackageDbError"]
    assert message == "larger than 100 bytes: read the first descs only"
    assert len(warnings) == 1


def test_dpkg_status_over_the_view(tmp_path: Path) -> None:
    status = b"Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\n"
    got, _ = _ask(tmp_path, {"/var/lib/dpkg/status": status},
                  {"WantPackages": {(FS, "dpkg", "/var/lib/dpkg/status"),
                                    (FS, "apk", "/lib/apk/db/installed")}})
    assert {str(t[4]) for t in got["PackageField"] if t[3] == "package"} == {"a", "b"}
    assert got["PackageDbError"] == {(FS, "apk", "/lib/apk/db/installed",
                                      "/lib/apk/db/installed not found")}


def test_one_table_of_request_relations() -> None:
    assert WANT_RELATIONS == tuple(row.relation for row in ANSWERERS)
    assert len(set(WANT_RELATIONS)) == len(WANT_RELATIONS)
    assert {row.phase for row in ANSWERERS} == set(PHASES)
    assert set(driver.WANTED) == set(WANT_RELATIONS)
    assert set(explain._WANT_PATH_RELATIONS) < set(WANT_RELATIONS)
