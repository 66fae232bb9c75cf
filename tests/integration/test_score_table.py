"""The /scores table: the same answers as live scoring, dropped when models or features change."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from configs.schema import ServingConfig
from features.catalog import REALTIME
from features.store import live_features, materialized_version, open_store, snapshot_customers
from serving.schemas import CustomerScore, ScoresResponse
from serving.score_table import ScoreTables
from serving.scorer import Scorer
from tests.pipeline import Pipeline, in_process_scorer

pytestmark = pytest.mark.integration


def _tables(scorer: Scorer, folder: Path) -> ScoreTables:
    return ScoreTables.of(scorer, ServingConfig().feature_service, folder)


def _built(pipeline: Pipeline, folder: Path) -> tuple[Scorer, ScoreTables, int]:
    """A scorer, its built tables and the lowest customer id the current table holds."""
    scorer = in_process_scorer(pipeline)
    tables = _tables(scorer, folder)
    assert tables.refresh() is True
    assert tables.current is not None
    return scorer, tables, min(tables.current.answers)


def _no_customers() -> list[int]:
    raise AssertionError("the table was to be read from its file, not built")


def _marked(customer_id: int) -> bytes:
    """An answer no model gives, planted in a table to see whether a request read the table."""
    marker = CustomerScore(
        customer_id=customer_id, known=True, scores={"churn": 0.123}, top_reasons={},
        features_as_of=None, reason="planted",
    )  # fmt: skip
    return marker.model_dump_json().encode()


def test_table_answers_equal_live_scores(trained_pipeline: Pipeline, tmp_path: Path) -> None:
    scorer = in_process_scorer(trained_pipeline)
    tables = _tables(scorer, tmp_path)
    assert tables.refresh() is True
    assert tables.refresh() is False  # nothing changed: no second build
    table = tables.current
    assert table is not None
    customers = snapshot_customers(scorer.reader.store)
    assert 0.9 * len(customers) <= len(table.answers) <= len(customers)
    held = sorted(table.answers)
    ids = [*held[:40], 10**9, held[3], *held[-5:]]  # an unknown id and a repeated one too
    body = tables.answer(ids)
    assert ScoresResponse.model_validate_json(body).scores[40].reason == "cold start: no online features"
    assert json.loads(body) == scorer.score(ids).model_dump(mode="json")

    # Another worker (or a restart) with the same models and features reads the saved table.
    other = _tables(scorer, tmp_path)
    other.customers = _no_customers
    assert other.refresh() is True
    assert other.answer(ids) == tables.answer(ids)


def test_the_batch_command_builds_the_table_a_starting_service_reads(trained_pipeline: Pipeline) -> None:
    folder = trained_pipeline.paths.score_tables
    for old in folder.glob("*.parquet"):  # a server test may have built it already
        old.unlink()
    result = trained_pipeline.run("score-table")
    assert "customers of the snapshot by" in result.stdout
    assert len(list(folder.glob("*.parquet"))) == 1

    scorer = in_process_scorer(trained_pipeline)
    starting = _tables(scorer, folder)
    starting.customers = _no_customers
    assert starting.update() is True
    assert starting.current is not None and len(starting.current.answers) > 100
    ids = sorted(starting.current.answers)[:20]
    assert json.loads(starting.answer(ids)) == scorer.score(ids).model_dump(mode="json")


def test_table_is_dropped_when_models_or_features_change(trained_pipeline: Pipeline, tmp_path: Path) -> None:
    scorer, tables, customer = _built(trained_pipeline, tmp_path)
    assert tables.current is not None
    tables.current.answers[customer] = _marked(customer)
    assert b"planted" in tables.answer([customer])  # served from the table

    # Newly materialized values: the registry records it and the next check rebuilds.
    trained_pipeline.run("features", "materialize")
    assert tables.refresh() is True
    assert b"planted" not in tables.answer([customer])
    assert len(list(tmp_path.glob("*.parquet"))) == 1  # the table of the old features is gone

    # A model swap: until the table is rebuilt for the new set, requests are scored live.
    tables.current.answers[customer] = _marked(customer)
    scorer.models.current = dataclasses.replace(scorer.models.current)
    assert b"planted" not in tables.answer([customer])
    assert tables.refresh() is True


def test_another_online_store_makes_another_table(trained_pipeline: Pipeline, tmp_path: Path) -> None:
    # The same repository pointed at Redis (`features apply` with no new materialization): the
    # registry records no view change, yet the online values are other ones.
    repo = trained_pipeline.data_dir / "feature_repo"
    config = yaml.safe_load((repo / "feature_store.yaml").read_text())
    assert config["online_store"]["type"] == "sqlite"
    config["online_store"] = {"type": "redis", "connection_string": "127.0.0.1:6390"}
    (tmp_path / "feature_store.yaml").write_text(yaml.safe_dump(config))
    on_sqlite = materialized_version(open_store(repo), "uplift_v2")
    on_redis = materialized_version(open_store(tmp_path), "uplift_v2")
    assert on_redis[1:] == on_sqlite[1:]  # the same record of materializations
    assert on_redis != on_sqlite


def test_rows_past_the_ttl_are_answered_live(trained_pipeline: Pipeline, tmp_path: Path) -> None:
    scorer, tables, customer = _built(trained_pipeline, tmp_path)
    later = scorer.reader.clock() + scorer.reader.ttl_s + 86_400
    scorer.reader.clock = lambda: later
    answer = ScoresResponse.model_validate_json(tables.answer([customer])).scores[0]
    assert answer.known is False and answer.reason.startswith("cold start: features older than")


def test_no_table_for_models_reading_features_that_change_online(
    trained_pipeline: Pipeline, tmp_path: Path
) -> None:
    scorer = in_process_scorer(trained_pipeline)
    live = live_features(scorer.reader.store)
    assert set(REALTIME.features) | {"hours_since_last_visit"} <= live
    churn_feature = scorer.models.current.predictors["churn"].feature_names[0]
    assert churn_feature not in live
    # Were a score model to read a pushed feature, a table would serve values from before the push.
    tables = _tables(scorer, tmp_path)
    tables.live_features = live | {churn_feature}
    assert tables.refresh() is False
    assert tables.current is None and churn_feature in str(tables.last_error)
    ids = [1, 2, 3]
    assert json.loads(tables.answer(ids)) == scorer.score(ids).model_dump(mode="json")
