"""`nudge audience` and `nudge measure` on the trained pipeline: a launched audience measured after
planted outcomes and fed back into the raw tables, and a simulated campaign's measured lift against
the simulator's true uplift.

The raw tables are copied so the shared fixture stays as other tests expect it; features, the Feast
repository and the MLflow registry are the fixture's own, read only.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from campaigns.measurement import measure_campaign
from campaigns.review import review_campaign
from configs.schema import ServingConfig
from events.store import read_dataset, read_table, write_dataset
from tests.pipeline import Pipeline

pytestmark = pytest.mark.integration

CAMPAIGN = "it-welcome"


@pytest.fixture(scope="module")
def pipeline(trained_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    root = tmp_path_factory.mktemp("campaigns")
    data = root / "data"
    data.mkdir()
    shutil.copytree(trained_pipeline.data_dir / "raw", data / "raw")
    for name in ("features", "feature_repo", "ground_truth"):
        (data / name).symlink_to(trained_pipeline.data_dir / name)
    tracking = mlflow.get_tracking_uri()
    yield Pipeline(root, {**trained_pipeline.env, "NUDGE_DATA_DIR": str(data)})
    mlflow.set_tracking_uri(tracking)  # review_campaign points MLflow at the fixture's registry


def current_features(pipeline: Pipeline, view: str) -> pd.DataFrame:
    frame = pd.read_parquet(pipeline.data_dir / "features" / f"{view}.parquet")
    return frame[frame["event_timestamp"] == frame["event_timestamp"].max()].set_index("customer_id")


def test_audience_is_launched_measured_and_fed_back(pipeline: Pipeline) -> None:
    out = pipeline.root / "it-welcome.csv"
    shown = pipeline.run(
        "audience",
        "--action",
        "welcome_coupon",
        "--size",
        "400",
        "--campaign-id",
        CAMPAIGN,
        "--out",
        str(out),
    ).stdout
    assert "minimum detectable effect" in shown and "expected incremental conversions" in shown
    audience = pd.read_csv(out)
    assert 0 < len(audience) <= 400 and audience["customer_id"].is_unique
    assert (audience["expected_profit"] > 0).all()
    held = audience["arm"] == "holdout"
    assert 0.03 < held.mean() < 0.2 and np.allclose(audience.loc[held, "assignment_probability"], 0.1)
    # Eligibility from the features themselves: e-mail consent and no order yet.
    ids = audience["customer_id"].to_numpy()
    assert (current_features(pipeline, "customer_profile").loc[ids, "consent_email"] == 1).all()
    assert (current_features(pipeline, "customer_activity").loc[ids, "orders_total"] == 0).all()

    start = pd.Timestamp(
        json.loads((pipeline.data_dir / "campaigns" / CAMPAIGN / "summary.json").read_text())["summary"][
            "as_of"
        ]
    )
    planted_lift = _plant_outcomes(pipeline.data_dir / "raw", audience, start)
    shown = pipeline.run("measure", "--campaign", CAMPAIGN).stdout
    assert "lift (rate difference)" in shown and "added to the uplift training data" in shown
    results = json.loads((pipeline.data_dir / "campaigns" / CAMPAIGN / "results.json").read_text())
    assert results["lift"]["estimate"] == pytest.approx(planted_lift)
    assert results["lift"]["low"] > 0 and results["complete"]
    assert results["qini"] is not None and "logged" in results["qini_source"]
    raw = pipeline.data_dir / "raw"
    assert (read_table(raw, "campaigns")["campaign_id"] == CAMPAIGN).sum() == 1
    assert (read_table(raw, "campaign_assignments")["campaign_id"] == CAMPAIGN).sum() == len(audience)

    again, status = review_campaign(CAMPAIGN, ServingConfig(), pipeline.paths)
    assert status.startswith("already in the raw data") and again.lift.estimate == pytest.approx(planted_lift)
    assert (read_table(raw, "campaign_assignments")["campaign_id"] == CAMPAIGN).sum() == len(audience)


def test_a_bad_export_path_is_refused_before_anything_is_recorded(pipeline: Pipeline) -> None:
    folder = pipeline.root / "exports"
    folder.mkdir()
    for out, message in ((folder, "is a directory"), (folder / "a.xlsx", "export to .csv or .parquet")):
        result = pipeline.run(
            "audience", "--action", "welcome_coupon", "--size", "50", "--campaign-id", "it-bad-out",
            "--out", str(out), check=False,
        )  # fmt: skip
        shown = " ".join(result.stdout.split())  # the console wraps long lines
        assert result.returncode == 2 and message in shown, result.stdout + result.stderr
    assert not (pipeline.data_dir / "campaigns" / "it-bad-out").exists()
    assert list(folder.iterdir()) == []


def _plant_outcomes(raw: Path, audience: pd.DataFrame, start: pd.Timestamp) -> float:
    """40% of the treated and 10% of the holdout order inside the window; the data then run past it."""
    treated = audience.loc[audience["arm"] == "treatment", "customer_id"].to_numpy()
    held = audience.loc[audience["arm"] == "holdout", "customer_id"].to_numpy()
    buyers = np.r_[treated[: round(0.4 * len(treated))], held[: round(0.1 * len(held))]]
    dataset = read_dataset(raw)
    orders = dataset["orders"]
    stamps = [start + pd.Timedelta(days=3)] * len(buyers) + [start + pd.Timedelta(days=15)]
    new = pd.DataFrame(
        {
            "order_id": orders["order_id"].max() + 1 + np.arange(len(buyers) + 1),
            "customer_id": np.r_[buyers, buyers[:1]],
            "order_ts": stamps,
            "gross_amount": 50.0,
            "discount_amount": 0.0,
            "net_amount": 50.0,
            "n_items": 1,
        }
    )
    dataset["orders"] = pd.concat([orders, new], ignore_index=True)
    write_dataset(dataset, raw)
    return round(0.4 * len(treated)) / len(treated) - round(0.1 * len(held)) / len(held)


def test_simulated_campaigns_measure_their_true_uplift(
    trained_pipeline: Pipeline, pipeline: Pipeline
) -> None:
    # The fixture's own raw data (read only), which planted outcomes elsewhere in this module never touch.
    raw = trained_pipeline.data_dir / "raw"
    campaigns = read_table(raw, "campaigns").set_index("campaign_id")
    sizes = read_table(raw, "campaign_assignments").groupby("campaign_id").size().sort_values(ascending=False)
    last_order = read_table(raw, "orders")["order_ts"].max()
    closed = [c for c in sizes.index if campaigns.loc[c, "end_ts"] <= last_order and sizes[c] >= 40][:10]
    assert len(closed) >= 5
    truth = pd.read_parquet(trained_pipeline.data_dir / "ground_truth" / "assignments.parquet")
    true_uplift = truth.groupby("campaign_id")["true_uplift"].mean()

    largest, status = review_campaign(closed[0], ServingConfig(), trained_pipeline.paths)
    assert largest.lift.low <= true_uplift[closed[0]] <= largest.lift.high
    assert status.startswith("already in the raw data")
    assert "scored at assignment time" in largest.qini_source
    intervals = {c: measure_campaign(c, raw, trained_pipeline.data_dir / "campaigns").lift for c in closed}
    covered = [intervals[c].low <= true_uplift[c] <= intervals[c].high for c in closed]
    assert sum(covered) >= 0.8 * len(closed), (
        f"95% intervals covered the truth in {sum(covered)} of {len(closed)}"
    )
    lift = largest.lift
    print(f"{closed[0]}: observed lift {lift.estimate:+.4f} [{lift.low:+.4f}, {lift.high:+.4f}]")
    print(f"  true mean uplift {true_uplift[closed[0]]:+.4f}; covered in {sum(covered)} of {len(closed)}")


def test_unknown_campaign_is_a_clear_error(pipeline: Pipeline) -> None:
    with pytest.raises(ValueError, match="no campaign 'nope'"):
        measure_campaign("nope", pipeline.data_dir / "raw", pipeline.data_dir / "campaigns")
