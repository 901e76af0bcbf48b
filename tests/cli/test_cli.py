"""The command line: every error is one line, with the right exit status; no VM needed."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def one_line_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("guestinspect: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_help() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for option in ("--add", "--format", "--key", "--keys-from-stdin", "--echo-keys",
                   "--no-applications", "--no-icon", "--xpath", "--json", "--facts",
                   "--facts-out", "--rules", "--explain", "rules"):
        assert option in out


def test_no_disk() -> None:
    code, out, err = run()
    assert code == 1 and out == ""
    assert "at least one -a" in one_line_error(err)


def test_missing_image(tmp_path: Path) -> None:
    code, out, err = run("-a", str(tmp_path / "nope.img"))
    assert code == 1 and out == ""
    assert "nope.img" in one_line_error(err)


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    code, _, err = run("-a", str(f))
    assert code == 1
    assert "notes.txt" in one_line_error(err)


def test_unknown_option() -> None:
    code, _, err = run("--bogus")
    assert code == 2
    assert "--bogus" in one_line_error(err)


def test_bad_key_selector(tmp_path: Path) -> None:
    code, _, err = run("-a", str(tmp_path / "x.img"), "--key", "nonsense")
    assert code == 1
    one_line_error(err)


def test_bad_rule_file_gives_file_line_col(tmp_path: Path) -> None:
    rules = tmp_path / "mine"
    rules.mkdir()
    bad = rules / "bad.dl"
    bad.write_text(".decl Mine(x: symbol)\nMine(x) :- Nonexistent(x).\n")
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "Disk.facts").write_text("/dev/sda\t0\t1024\n")
    code, out, err = run("--facts", str(facts), "--rules", str(rules))
    assert code == 1 and out == ""
    line = one_line_error(err)
    assert "bad.dl:2:" in line


def test_missing_rules_dir(tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    code, _, err = run("--facts", str(facts), "--rules", str(tmp_path / "none"))
    assert code == 1
    assert "none" in one_line_error(err)


def test_bad_facts_dir(tmp_path: Path) -> None:
    code, _, err = run("--facts", str(tmp_path / "missing"))
    assert code == 1
    assert "missing" in one_line_error(err)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run("--facts", str(empty))
    assert code == 1
    assert "no .facts" in one_line_error(err)


def test_malformed_facts(tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "Disk.facts").write_text("/dev/sda\tnot-a-number\t1\n")
    code, _, err = run("--facts", str(facts))
    assert code == 1
    assert str(facts) in one_line_error(err)


def test_facts_and_disks_are_exclusive(tmp_path: Path) -> None:
    code, _, err = run("--facts", str(tmp_path), "-a", "x.img")
    assert code == 1
    one_line_error(err)


def empty_snapshot(tmp_path: Path) -> Path:
    """A guest with one disk and nothing on it."""
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "Disk.facts").write_text("/dev/sda\t0\t1048576\n")
    return facts


def test_no_operating_system_prints_empty_document(tmp_path: Path) -> None:
    code, out, err = run("--facts", str(empty_snapshot(tmp_path)))
    assert code == 0, err
    assert out == '<?xml version="1.0"?>\n<operatingsystems/>\n'


def test_no_operating_system_json(tmp_path: Path) -> None:
    code, out, _ = run("--facts", str(empty_snapshot(tmp_path)), "--json")
    assert code == 0
    assert out == "[]\n"


def test_unknown_explain_field(tmp_path: Path) -> None:
    code, _, err = run("--facts", str(empty_snapshot(tmp_path)), "--explain", "colour")
    assert code == 1
    line = one_line_error(err)
    assert "colour" in line and "distro" in line


def test_explain_without_os_says_so(tmp_path: Path) -> None:
    code, out, _ = run("--facts", str(empty_snapshot(tmp_path)), "--explain", "distro")
    assert code == 0
    assert "No operating system" in out


def test_xpath_on_stdin() -> None:
    xml = ('<?xml version="1.0"?>\n<operatingsystems><operatingsystem><name>linux</name>'
           "<distro>debian</distro></operatingsystem></operatingsystems>\n")
    code, out, _ = run("--xpath", "string(//distro)", stdin=xml)
    assert (code, out) == (0, "debian\n")
    code, out, _ = run("--xpath", "count(//operatingsystem)", stdin=xml)
    assert (code, out) == (0, "1\n")
    code, out, _ = run("--xpath", "//name", stdin=xml)
    assert (code, out) == (0, "<name>linux</name>\n")


def test_xpath_bad_expression() -> None:
    code, _, err = run("--xpath", "//[", stdin="<operatingsystems/>")
    assert code == 1
    one_line_error(err)


def test_xpath_on_empty_inspection(tmp_path: Path) -> None:
    code, out, _ = run("--facts", str(empty_snapshot(tmp_path)), "--xpath",
                       "count(//operatingsystem)")
    assert (code, out) == (0, "0\n")


def test_domain_without_libvirt_or_unknown_domain() -> None:
    code, _, err = run("-d", "no-such-guest-here", "-c", "test:///default")
    assert code == 1
    one_line_error(err)


def test_rules_check_ok_and_bad(tmp_path: Path) -> None:
    good = tmp_path / "good.dl"
    good.write_text(".decl Mine(fs: symbol)\nMine(fs) :- Mounted(fs).\n")
    code, out, err = run("rules", "check", str(good))
    assert code == 0, err
    assert "no errors" in out
    bad = tmp_path / "bad.dl"
    bad.write_text(".decl Mine(fs: symbol)\nMine(fs) :- Mounted(fs)\n")
    code, _, err = run("rules", "check", str(bad))
    assert code == 1
    assert "bad.dl:" in err.splitlines()[0]
    code, _, err = run("rules", "check", str(tmp_path / "absent.dl"))
    assert code == 1
    one_line_error(err)


def test_shipped_rules_pass_the_check() -> None:
    files = sorted(str(p) for p in SHIPPED_RULES.rglob("*.dl"))
    code, _, err = run("rules", "check", "--alone", str(SHIPPED_RULES / "inspect.dl"))
    assert code == 0, err
    assert files


@pytest.mark.parametrize("sub", ["datalog", "facts"])
def test_subcommands_are_registered(sub: str) -> None:
    code, out, _ = run(sub, "--help")
    assert code == 0
    assert "Usage" in out


def test_broken_fstab_line_warns_and_keeps_the_rest(tmp_path: Path) -> None:
    """One malformed fstab line: a warning on stderr, every other mountpoint still there."""
    snapshot = tmp_path / "debian"
    shutil.copytree(Path(__file__).resolve().parents[2] / "facts" / "debian", snapshot)
    content = snapshot / "Content.facts"
    lines = content.read_text().splitlines(keepends=True)
    lines = [ln.replace("\t/etc/fstab\t", "\t/etc/fstab\tthis-line-is-broken\\n", 1)
             for ln in lines]
    content.write_text("".join(lines))
    code, out, err = run("--facts", str(snapshot))
    assert code == 0
    assert "guestinspect: warning: /dev/debian/root: /etc/fstab line 1: " in err
    assert out.count("<mountpoint ") == 5
