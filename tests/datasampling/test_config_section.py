"""The `data_sampling:` config section: off by default, every key documented in config.example.yaml, bad values
reported with the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cloudwatchdog.config import load_config
from cloudwatchdog.settings.data_sampling import DataSamplingConfig
from cloudwatchdog.yamlsource import SourceErrors

EXAMPLE = Path(__file__).parents[2] / "config.example.yaml"


def test_off_by_default_with_the_documented_bounds() -> None:
    d = DataSamplingConfig()
    assert (d.enabled, d.levels, d.latent, d.max_objects, d.max_bytes) == (False, ["public", "cross-account"],
                                                                           False, 20, 1 << 20)
    assert load_config(None).data_sampling == d


def test_the_example_documents_every_key() -> None:
    section = yaml.safe_load(EXAMPLE.read_text())["data_sampling"]
    assert set(section) == set(DataSamplingConfig.model_fields)
    assert DataSamplingConfig.model_validate(section) == DataSamplingConfig()


@pytest.mark.parametrize(("body", "expected"), [
    ("data_sampling: {enabled: true, max_objects: 0}", "data_sampling.max_objects"),
    ("data_sampling: {levels: [private]}", "data_sampling.levels[0]"),
    ("data_sampling: {max_bytes: 1gb}", "data_sampling.max_bytes"),
    ("data_sampling: {sample: true}", "data_sampling.sample"),
])
def test_bad_values_are_located(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(body + "\n")
    with pytest.raises(SourceErrors) as err:
        load_config(path)
    assert expected in str(err.value) and "c.yaml:1" in str(err.value)
