"""The YAML loader behind the config, the rules and the demo estate: bounded in time and memory whatever a file
holds, every problem located by file and line; anchors, aliases and merge keys work as YAML says."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudwatchdog.cli import main
from cloudwatchdog.yamlsource import MAX_NODES, SourceErrors, load_yaml_text


def _error(text: str) -> str:
    with pytest.raises(SourceErrors) as info:
        load_yaml_text(text, "f.yaml")
    return str(info.value)


def _laughs(levels: int, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_quickly_with_its_line() -> None:
    started = time.monotonic()
    message = _error(_laughs(9))  # 9**9 = 387 million values once expanded
    assert time.monotonic() - started < 5
    assert message.startswith("f.yaml:") and f"more than {MAX_NODES:,} values" in message


@pytest.mark.parametrize("text", ["a: &a\n  b: *a\n", "a: &a [1, *a]\n", "x:\n  - &a {k: [*a]}\n"])
def test_a_self_referencing_anchor_is_an_error_not_a_recursion_error(text: str) -> None:
    assert "refers to the node that contains it" in _error(text)


def test_deep_nesting_is_an_error() -> None:
    assert "nested deeper than" in _error("a: " + "[" * 3000 + "]" * 3000 + "\n")
    assert "nested deeper than" in _error("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n")


def test_merge_keys_work_as_yaml_says() -> None:
    doc = load_yaml_text("base: &b {x: 1, y: 2}\nother: &o {x: 9, z: 3}\n"
                         "thing:\n  <<: [*b, *o]\n  y: 5\n", "f.yaml")
    assert doc.data["thing"] == {"x": 1, "y": 5, "z": 3} == yaml.safe_load(
        "base: &b {x: 1, y: 2}\nother: &o {x: 9, z: 3}\nthing:\n  <<: [*b, *o]\n  y: 5\n")["thing"]
    assert doc.lines[("thing", "y")] == 5
    # A key written twice by hand is still a mistake, merge keys or not.
    assert "thing.y: duplicate key" in _error("base: &b {x: 1}\nthing:\n  <<: *b\n  y: 1\n  y: 2\n")


def test_an_impossible_date_names_file_line_and_key() -> None:
    message = _error("suppressions:\n  - expires: 2026-02-30\n")
    assert message.startswith("f.yaml:2: suppressions[0].expires: '2026-02-30' is not a valid date")


def test_an_impossible_date_in_the_config_exits_2_without_a_traceback(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("suppressions:\n  - rule: aws-s3-bucket-public\n    resource: 'arn:aws:s3:::x'\n"
                   "    reason: r\n    owner: o\n    expires: 2026-02-30\n")
    assert main(["scan", "-c", str(cfg), "--no-state", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}:6: suppressions[0].expires: '2026-02-30' is not a valid date" in err
    assert "Traceback" not in err


def test_an_alias_bomb_in_a_rule_file_is_a_rule_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bomb.yaml").write_text(_laughs(8))
    assert main(["rules", "validate", str(rules)]) == 2
    assert "aliases expand to more than" in capsys.readouterr().err


# Any text at all: the loader returns a document or raises SourceErrors, quickly.
_YAMLISH = st.text(alphabet=st.sampled_from(list("ab:-[]{}&*<>!|,'\"#\n 01\t?%@`")), max_size=300)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(_YAMLISH)
def test_any_text_loads_or_fails_cleanly(text: str) -> None:
    try:
        load_yaml_text(text, "fuzz.yaml")
    except SourceErrors as exc:
        assert all(e.file == "fuzz.yaml" for e in exc.errors)


@settings(max_examples=12, deadline=5000)
@given(st.integers(min_value=2, max_value=12), st.integers(min_value=2, max_value=12))
def test_alias_fan_out_is_bounded(levels: int, width: int) -> None:
    started = time.monotonic()
    try:
        doc = load_yaml_text(_laughs(levels, width), "f.yaml")
    except SourceErrors as exc:
        assert "more than" in str(exc) and width**levels > MAX_NODES // 2
    else:
        assert len(doc.data[f"l{levels - 1}"]) == width
    assert time.monotonic() - started < 3
