"""``write_atomically`` with a writer (the daemon's HTML report, streamed): the file is replaced whole, or not at
all when the writer fails half-way."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import pytest

from cloudwatchdog.services.outputs import write_atomically


def test_a_writer_streams_into_the_file_and_text_is_written_as_before(tmp_path: Path) -> None:
    path = tmp_path / "report.html"

    def writer(out: TextIO) -> None:
        for i in range(3):
            out.write(f"part {i} é\n")

    write_atomically(path, writer)
    assert path.read_text(encoding="utf-8") == "part 0 é\npart 1 é\npart 2 é\n"
    write_atomically(path, "whole ü")
    assert path.read_text(encoding="utf-8") == "whole ü"


def test_a_writer_that_fails_half_way_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("yesterday", encoding="utf-8")

    def broken(out: TextIO) -> None:
        out.write("half of today")
        raise RuntimeError("template failed")

    with pytest.raises(RuntimeError, match="template failed"):
        write_atomically(path, broken)
    assert path.read_text(encoding="utf-8") == "yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
