"""The one typed reader: dataclass fields with checks, and one error wording in every file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from harness.configio import FieldError, read, setting
from harness.emulator.config import ConfigError, load_config_dict
from harness.report.model import ReportFormatError, parse_run
from harness.target import ProfileError, profile_from_dict


@dataclass(frozen=True)
class Inner:
    name: str = setting(nonempty=True)


@dataclass(frozen=True)
class Sample:
    level: int = setting(3, minimum=1, maximum=9)
    ratio: float = setting(0.5, above=0)
    mode: str = setting("a", choices=("a", "b"))
    tags: frozenset[str] = frozenset()
    limits: Mapping[str, int] = setting(default_factory=dict, names=("x", "y"), minimum=0)
    inner: tuple[Inner, ...] = ()


def test_absent_fields_keep_their_defaults_and_values_are_typed():
    s = read(Sample, {"level": 9, "ratio": 2, "tags": ["t"], "inner": [{"name": "n"}]})
    assert (s.level, s.ratio, s.mode, s.tags, s.inner) == (
        9,
        2.0,
        "a",
        frozenset({"t"}),
        (Inner("n"),),
    )
    assert isinstance(s.ratio, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level": 0}, "s.level: expected an integer >= 1 and <= 9, got 0"),
        ({"level": True}, "s.level: expected an integer >= 1 and <= 9, got true"),
        ({"ratio": 0}, "s.ratio: expected a number > 0, got 0"),
        ({"mode": "c"}, "s.mode: expected one of a, b, got 'c'"),
        ({"tags": "t"}, "s.tags: expected an array, got 't'"),
        ({"tags": ["t", 1]}, "s.tags[1]: expected a string, got 1"),
        ({"limits": {"z": 1}}, "s.limits.z: unknown field; expected one of x, y"),
        ({"limits": {"x": -1}}, "s.limits.x: expected an integer >= 0, got -1"),
        ({"inner": [{}]}, "s.inner[0].name: expected a string, got nothing"),
        ({"other": 1}, "s.other: unknown field; expected one of level, ratio, mode, tags"),
    ],
)
def test_errors_name_the_dotted_path_and_what_was_expected(data, message):
    with pytest.raises(FieldError) as exc:
        read(Sample, data, "s")
    assert str(exc.value).startswith(message)


def test_profiles_emulator_config_and_reports_share_the_wording():
    with pytest.raises(ProfileError) as profile:
        profile_from_dict({"velma": {"base_url": "http://h"}, "run": {"timeout_s": True}})
    with pytest.raises(ConfigError) as config:
        load_config_dict({"processing": {"time_scale": True}})
    with pytest.raises(ReportFormatError) as report:
        parse_run({"schema_version": True})
    assert str(profile.value).endswith("run.timeout_s: expected a number >= 0.1, got true")
    assert str(config.value) == "processing.time_scale: expected a number >= 0, got true"
    assert str(report.value).endswith("schema_version: expected an integer, got true")
