"""``stream_raw`` reads a raw file one snapshot at a time and gives what ``load_raw`` (json.load) gives: the same
snapshots for a good file, the same clear error (with the file's name) for a bad one, wherever the reading
buffer ends."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cloudwatchdog.errors import UsageError
from cloudwatchdog.services import raw as raw_module
from cloudwatchdog.services.raw import load_raw, stream_raw

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from scale import write_raw  # the generated estate of bench/scale.py

HEAD = '{"format": "cloudwatchdog-raw-snapshots", "scan_id": "s", "snapshots": '


def _outcome(read: object, path: Path) -> tuple[str, object]:
    try:
        return "ok", list(read(str(path)))  # type: ignore[operator]
    except UsageError as exc:
        return "error", str(exc)


@pytest.fixture(params=[4 << 20, 7], ids=["default-buffer", "7-character-buffer"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Every test runs with the default buffer and with one that ends inside every value."""
    monkeypatch.setattr(raw_module, "_CHUNK", request.param)
    return int(request.param)


def test_a_generated_estate_reads_as_json_load_reads_it(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "raw.json"
    write_raw(path, 25_001 if chunk > 7 else 30)  # three accounts (of 10,000 buckets) at the default buffer
    streamed = stream_raw(str(path))
    first = next(streamed)
    assert first["account"] == "500000000000"
    assert [first, *streamed] == load_raw(str(path))


@pytest.mark.parametrize("body", [
    HEAD + '[{"a": 1.5, "b": 10, "c": 1e400, "d": -0.0, "e": 12345678901234567890123, "f": NaN}]}',
    HEAD + '[{"name": "x\\ud800y", "tag": "\\udfff", "ok": "\\ud83d\\ude00 caf\\u00e9 café"}]}',
    '\n {"snapshots" : [ {} , {"k": [1, 2, {"n": null}]} ] , "format":"cloudwatchdog-raw-snapshots" } \n',
    HEAD + '[]}',
])
def test_good_files_give_the_same_snapshots(tmp_path: Path, body: str, chunk: int) -> None:
    path = tmp_path / "raw.json"
    path.write_text(body, encoding="utf-8")
    expected = _outcome(load_raw, path)
    assert _outcome(stream_raw, path) == expected
    assert expected[0] == "ok"


def test_a_second_list_of_snapshots_is_refused(tmp_path: Path) -> None:
    # json.load keeps the last of two equal keys: the snapshots already analysed would not be the file's.
    path = tmp_path / "raw.json"
    path.write_text(HEAD + '[{"a": 1}], "snapshots": [{"b": 2}]}')
    with pytest.raises(UsageError, match="not a file written by"):
        list(stream_raw(str(path)))


@pytest.mark.parametrize("body", [
    HEAD + '[{"a": 1}, 2]}',  # an item that is not a snapshot
    HEAD + '{"a": 1}}',  # snapshots that are not a list
    HEAD + 'true}',
    '{"format": "something-else", "snapshots": [{"a": 1}]}',
    '{"snapshots": [{"a": 1}]}',  # no format
    '[{"a": 1}]',
    '{"schema_version": 1}',
    "{oops",
    "",
    "\ufeff" + HEAD + "[]}",
    HEAD + '[{"a": 1}]} trailing',
    HEAD + '[{"a": 1}]}{"b": 2}',
    HEAD + '[{"a": 1}] "x": 1}',
    HEAD + "[" * 100_000 + "]" * 100_000 + "}",
    '{"format": "cloudwatchdog-raw-snapshots", "n": ' + "9" * 50_000 + ', "snapshots": []}',
    HEAD + '[{"a": "\x01"}]}',
])
def test_bad_files_give_the_same_error(tmp_path: Path, body: str, chunk: int) -> None:
    path = tmp_path / "raw.json"
    path.write_text(body, encoding="utf-8")
    kind, message = _outcome(stream_raw, path)
    assert (kind, message) == _outcome(load_raw, path)
    assert kind == "error" and str(message).startswith(f"--from-raw {path}: ")


def test_every_truncation_is_the_same_error(tmp_path: Path, chunk: int) -> None:
    whole = (HEAD + json.dumps([{"account": "1", "calls": {"A": {"ok": [1.5, "x\\y", None]}}}, {"b": "é"}],
                               indent=1) + ', "started_at": "t"}\n').encode()
    path = tmp_path / "raw.json"
    for cut in range(len(whole) - 1):
        path.write_bytes(whole[:cut])
        kind, message = _outcome(stream_raw, path)
        assert kind == "error", cut
        expected = _outcome(load_raw, path)[1]
        assert message == expected, cut


def test_bytes_that_are_not_utf8_are_an_error_naming_the_byte(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "raw.json"
    path.write_bytes((HEAD + '[{"a": "ok"}, {"b": "').encode() + b"\xff\xfe" + b'"}]}')
    assert _outcome(stream_raw, path) == _outcome(load_raw, path)
    assert "not UTF-8 text (byte 92)" in str(_outcome(stream_raw, path)[1])


def test_a_missing_file_is_an_error_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        stream_raw(str(tmp_path / "missing.json"))


def test_the_top_of_the_file_is_checked_at_once_the_rest_as_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "raw.json"
    path.write_text('{"format": "other", "snapshots": [{"a": 1}]}')
    with pytest.raises(UsageError, match="not a file written by"):
        stream_raw(str(path))  # before any snapshot is asked for
    path.write_text(HEAD + '[{"a": 1}, {"b": ')
    streamed = stream_raw(str(path))
    assert next(streamed) == {"a": 1}
    with pytest.raises(UsageError, match=r"not JSON: line 1: Expecting value"):
        next(streamed)


def test_a_snapshot_nested_deeper_than_a_scan_handles_is_a_clear_error(tmp_path: Path) -> None:
    """JSON nested some hundreds of levels deep decodes, but scrubbing and writing it again would recurse past
    Python's limit: both readers refuse it in one line, as they do a file the decoder finds too deep."""
    def doc(depth: int) -> str:
        nested = "[" * depth + "]" * depth
        return ('{"format": "cloudwatchdog-raw-snapshots", "snapshots": [{"provider": "aws", "account": '
                f'"123456789012", "junk": {nested}}}]}}')

    path = tmp_path / "deep.json"
    path.write_text(doc(raw_module.MAX_DEPTH - 1))  # the snapshot itself is one level: within the bound
    assert load_raw(str(path)) == list(stream_raw(str(path)))
    path.write_text(doc(900))  # the decoder takes it; the bound does not
    for read in (load_raw, lambda p: list(stream_raw(p))):
        with pytest.raises(UsageError, match="nested too deeply to be a file written by --save-raw"):
            read(str(path))
    assert raw_module.too_deep([[[]]], limit=2) and not raw_module.too_deep([[[]]], limit=3)
    assert not raw_module.too_deep({"a": [1, {"b": "x" * 10_000}], "c": []}, limit=3)
