from pathlib import Path

import pytest

from configs.loader import ConfigError, load_config
from configs.schema import SimulationConfig, TrainingConfig


def test_embedded_defaults_load() -> None:
    config = load_config("simulation", SimulationConfig, environ={})
    assert config == SimulationConfig()


def test_precedence_file_then_environment_then_overrides(tmp_path: Path) -> None:
    user = tmp_path / "sim.yaml"
    user.write_text("customers: 500\ndays: 60\n")
    env = {"NUDGE_SIMULATION__DAYS": "90", "NUDGE_SIMULATION__SEED": "3"}
    config = load_config("simulation", SimulationConfig, user, {"seed": 11, "days": None}, environ=env)
    assert (config.customers, config.days, config.seed) == (500, 90, 11)


def test_nested_environment_override() -> None:
    env = {"NUDGE_TRAINING__CHURN__HORIZON_DAYS": "60"}
    assert load_config("training", TrainingConfig, environ=env).churn.horizon_days == 60


def test_unknown_key_is_rejected_and_named(tmp_path: Path) -> None:
    user = tmp_path / "sim.yaml"
    user.write_text("customer: 500\n")
    with pytest.raises(ConfigError, match="customer"):
        load_config("simulation", SimulationConfig, user, environ={})


def test_invalid_value_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="days"):
        load_config("simulation", SimulationConfig, environ={"NUDGE_SIMULATION__DAYS": "3"})


def test_non_mapping_file_is_rejected(tmp_path: Path) -> None:
    user = tmp_path / "sim.yaml"
    user.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config("simulation", SimulationConfig, user, environ={})


def test_environment_value_that_is_not_yaml_is_named() -> None:
    with pytest.raises(ConfigError, match=r"NUDGE_SIMULATION__CUSTOMERS='\[1' is not a YAML value"):
        load_config("simulation", SimulationConfig, environ={"NUDGE_SIMULATION__CUSTOMERS": "[1"})
