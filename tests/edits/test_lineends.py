"""Line ends as a file had them: what an edit leaves of each line's end and the last one."""

from __future__ import annotations

import pytest

from swcollab.edits.lineends import restore_line_ends

MIXED = "a = 1\r\nb = 2\nc = 3\n"


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("a = 1\nb = 20\nc = 3\n", "a = 1\r\nb = 20\nc = 3\n"),  # an LF line changed
        ("a = 10\nb = 2\nc = 3\n", "a = 10\r\nb = 2\nc = 3\n"),  # the CRLF line changed
        ("a = 1\nb = 2\nx\ny\nc = 3\n", "a = 1\r\nb = 2\nx\ny\nc = 3\n"),  # lines added
        ("a = 1\nc = 3\n", "a = 1\r\nc = 3\n"),  # a line removed
        ("z = 0\na = 1\nb = 2\nc = 3\n", "z = 0\na = 1\r\nb = 2\nc = 3\n"),  # added first
    ],
)
def test_mixed_line_ends_stay_where_they_were(new: str, expected: str) -> None:
    assert restore_line_ends(MIXED, new) == expected


def test_a_file_of_one_kind_keeps_it() -> None:
    assert restore_line_ends("x\r\ny\r\n", "x\nz\nw\n") == "x\r\nz\r\nw\r\n"
    assert restore_line_ends("x\ry\r", "x\nz\n") == "x\rz\r"
    assert restore_line_ends("x\ny\n", "x\nz\n") == "x\nz\n"


def test_the_final_newline_or_its_absence_is_kept() -> None:
    assert restore_line_ends("x\ny", "x\nz\n") == "x\nz"
    assert restore_line_ends("x\r\ny\r\n", "x\nz") == "x\r\nz\r\n"
    assert restore_line_ends(None, "new\n") == "new\n"  # a new file: as written
    assert restore_line_ends("", "new\n") == "new\n"
