"""The parsing helpers of guestinspect/functors/text.py."""

import pytest

from guestinspect.functors import text


@pytest.mark.parametrize(("line", "expected"), [
    ('NAME="Fedora Linux"', [("NAME", "Fedora Linux")]),
    ("ID='debian'", [("ID", "debian")]),
    ('X="a \\"q\\" b"', [("X", 'a "q" b')]),
    ('ID="unbalanced', [("ID", '"unbalanced')]),
    ("export PATH=/bin", [("PATH", "/bin")]),
    ("# ID=comment", []),
    ("no equals", []),
    ("=value", []),
    ("", []),
])
def test_key_value(line: str, expected: list[tuple[str, str]]) -> None:
    assert list(text.key_value(line)) == expected


@pytest.mark.parametrize(("version", "expected"), [
    ("1:2.3-4", ("1", "2.3", "4")),
    ("1.0-beta-2", ("", "1.0-beta", "2")),
    ("5.2", ("", "5.2", "")),
    ("0:1.0", ("0", "1.0", "")),
])
def test_evr_splits_at_the_last_hyphen(version: str, expected: tuple[str, str, str]) -> None:
    assert list(text.evr(version)) == [expected]


def test_paths() -> None:
    assert text.canonical_path("///usr//local//") == "/usr/local"
    assert text.path_resolve("/etc/os-release", "../usr/lib/os-release") == "/usr/lib/os-release"
    assert text.path_resolve("/bin", "/usr/bin") == "/usr/bin"
    assert list(text.path_prefix("/a/b/c")) == [("/a", "b/c"), ("/a/b", "c")]
    assert list(text.path_split("/a")) == [("/", "a")]
    assert list(text.path_split("/")) == []


def test_numbers_and_lines() -> None:
    assert list(text.major_minor("release 7.9.2009")) == [(7, 9)]
    assert list(text.major_minor("14 (Phony)")) == [(14, 0)]
    assert list(text.major_minor("sid")) == []
    assert list(text.lines("a\r\nb")) == [(1, "a"), (2, "b")]
    assert list(text.lines("")) == []
    assert text.disk_index("a") == 0 and text.disk_index("aa") == 26
    assert text.hex_reverse("78563412") == "12345678"
    with pytest.raises(ValueError, match="invalid regular expression"):
        list(text.regex_groups("(", "x"))
    assert list(text.text_block("s\n a\n .\n b")) == [("s", "a\n.\nb")]


def test_path_prefix_is_bounded() -> None:
    deep = "/a" * 2048  # PATH_MAX: 2,047 prefixes of up to 4 KiB each, built by slicing
    rows = list(text.path_prefix(deep))
    assert len(rows) == 2047 and rows[-1] == (deep[:-2], "a")
    with pytest.raises(ValueError, match="a path of 4098 characters"):
        list(text.path_prefix(deep + "/b"))
