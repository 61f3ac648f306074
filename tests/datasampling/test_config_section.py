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


def test_which_verdicts_are_sampled() -> None:
    from cloudwatchdog.model import Exposure, Level, Resource
    from cloudwatchdog.services.scan import qualifies

    def resource(level: Level, latent: bool = False, aggregate: bool = False) -> Resource:
        return Resource("u", "aws", "1", "r", "aws.s3.bucket", "n", Exposure(level, latent=latent), aggregate=aggregate)

    default = DataSamplingConfig(enabled=True)
    assert qualifies(resource(Level.PUBLIC), default) and qualifies(resource(Level.CROSS_ACCOUNT), default)
    assert not qualifies(resource(Level.PRIVATE), default) and not qualifies(resource(Level.UNKNOWN), default)
    assert not qualifies(resource(Level.PRIVATE, latent=True), default)
    assert qualifies(resource(Level.PRIVATE, latent=True), DataSamplingConfig(enabled=True, latent=True))
    assert not qualifies(resource(Level.CROSS_ACCOUNT), DataSamplingConfig(enabled=True, levels=["public"]))
    assert not qualifies(resource(Level.PUBLIC, aggregate=True), default), "an account holds no objects of its own"
