"""The launcher hands the service process its config, the worker count through BentoML's own
settings override (BentoML starts the workers before any service code runs)."""

from __future__ import annotations

import json
import os

import pytest

from configs.schema import ServingConfig
from serving.launcher import service_environment


def test_worker_count_reaches_bentoml_settings() -> None:
    env = service_environment(ServingConfig(workers=3), base={})
    assert json.loads(env["BENTOML_CONFIG_OVERRIDES"]) == {"services": {"nudge": {"workers": 3}}}
    assert env["NUDGE_SERVING__WORKERS"] == "3"
    default = service_environment(ServingConfig(), base={}, service_name="empty")
    # "cpu_count" is resolved here, as BentoML would: the launcher must know how many to wait for.
    expected = {"services": {"empty": {"workers": os.cpu_count()}}}
    assert json.loads(default["BENTOML_CONFIG_OVERRIDES"]) == expected


def test_other_bentoml_overrides_are_kept() -> None:
    theirs = {"services": {"nudge": {"workers": 9, "traffic": {"timeout": 5}}, "other": {"workers": 2}}}
    env = service_environment(ServingConfig(workers=2), base={"BENTOML_CONFIG_OVERRIDES": json.dumps(theirs)})
    assert json.loads(env["BENTOML_CONFIG_OVERRIDES"]) == {
        "services": {"nudge": {"workers": 2, "traffic": {"timeout": 5}}, "other": {"workers": 2}}
    }


@pytest.mark.parametrize(("value", "fragment"), [("{workers", "not valid JSON"), ("[1]", "JSON object")])
def test_unreadable_bentoml_overrides_are_named(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=f"BENTOML_CONFIG_OVERRIDES.*{fragment}"):
        service_environment(ServingConfig(), base={"BENTOML_CONFIG_OVERRIDES": value})


def test_worker_count_must_be_positive_or_cpu_count() -> None:
    for bad in (0, -1, "many"):
        with pytest.raises(ValueError, match="workers"):
            ServingConfig(workers=bad)
