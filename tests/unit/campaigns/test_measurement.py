"""Launch records, measurement on hand-made data, and the feedback into the raw tables."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from campaigns import launch
from campaigns.audience import Audience, AudienceSpec, build_audience
from campaigns.feedback import append_campaign
from campaigns.inference import Interval, proportion_difference
from campaigns.launch import export_audience, exporting, load_launch, read_json, register_launch
from campaigns.measurement import Measurement, measure_campaign, save_measurement
from campaigns.review import review_campaign
from configs.loader import load_config
from configs.runtime import RuntimePaths
from configs.schema import ActionsConfig, ServingConfig
from events.store import ContractError, read_table, write_dataset

START = pd.Timestamp("2025-03-01", tz="UTC")
N = 400


def customers(n: int = N) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "signup_ts": START - pd.Timedelta(days=30),
            "region": "north",
            "acquisition_channel": "organic",
            "device": "mobile",
            "consent_email": True,
            "consent_sms": True,
            "consent_push": True,
            "consent_kakao": False,
        }
    )


def orders(rows: list[tuple[int, pd.Timestamp, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": np.arange(1, len(rows) + 1),
            "customer_id": [r[0] for r in rows],
            "order_ts": [r[1] for r in rows],
            "gross_amount": [r[2] for r in rows],
            "discount_amount": 0.0,
            "net_amount": [r[2] for r in rows],
            "n_items": 1,
        }
    )


def paths(root: Path) -> RuntimePaths:
    return RuntimePaths(root, root / "mlruns", f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")


def test_a_hand_made_campaign_is_measured_exactly(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    end = START + pd.Timedelta(days=14)
    arms = ["treatment"] * 10 + ["holdout"] * 10
    tables = {
        "customers": customers(20),
        "campaigns": pd.DataFrame(
            {
                "campaign_id": ["hand-1"],
                "action": ["winback_coupon"],
                "channel": ["sms"],
                "start_ts": [START],
                "end_ts": [end],
                "treatment_probability": [0.5],
            }
        ),
        "campaign_assignments": pd.DataFrame(
            {
                "campaign_id": "hand-1",
                "customer_id": np.arange(1, 21),
                "assigned_ts": START,
                "arm": arms,
                "assignment_probability": 0.5,
            }
        ),
        # Treated 1-4 convert (customer 1 twice), holdout 11 converts; 5 ordered before, 6 after the window.
        "orders": orders(
            [
                (1, START + pd.Timedelta(days=1), 50.0),
                (1, START + pd.Timedelta(days=2), 30.0),
                (2, START + pd.Timedelta(days=3), 20.0),
                (3, START + pd.Timedelta(days=4), 40.0),
                (4, START + pd.Timedelta(days=13), 10.0),
                (11, START + pd.Timedelta(days=5), 60.0),
                (5, START - pd.Timedelta(days=1), 99.0),
                (6, end + pd.Timedelta(days=1), 99.0),
            ]
        ),
    }
    write_dataset(tables, raw)
    got = measure_campaign("hand-1", raw, tmp_path / "campaigns")
    assert (got.treated, got.holdout, got.conversions_treated, got.conversions_holdout) == (10, 10, 4, 1)
    assert got.lift == proportion_difference(4, 10, 1, 10)
    assert got.lift.estimate == pytest.approx(0.3)
    assert got.incremental_conversions.estimate == pytest.approx(3.0)
    # Revenue per customer: treated (80 + 20 + 40 + 10) / 10 = 15, holdout 60 / 10 = 6.
    assert got.revenue_per_customer is not None and got.revenue_per_customer.estimate == pytest.approx(9.0)
    assert got.incremental_revenue is not None and got.incremental_revenue.estimate == pytest.approx(90.0)
    assert got.complete and not got.notes
    assert got.qini is None and got.qini_source.startswith("n/a")
    with pytest.raises(ValueError, match="no campaign 'nope'"):
        measure_campaign("nope", raw, tmp_path / "campaigns")


def test_a_launch_of_the_same_id_that_lands_first_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two launches of one id at once (two workers, a retried request): both pass the first check;
    the one whose folder lands second is refused and the first stays whole."""
    first, second = launched(tmp_path), launched(tmp_path)
    root = tmp_path / "campaigns"
    export = launch.export_audience

    def competing_launch_lands_meanwhile(rows: pd.DataFrame, path: Path) -> Path:
        monkeypatch.setattr(launch, "export_audience", export)
        register_launch(first, root, window_days=14)
        return export(rows, path)

    monkeypatch.setattr(launch, "export_audience", competing_launch_lands_meanwhile)
    with pytest.raises(ValueError, match="already launched"):
        register_launch(second, root, window_days=7)

    record = load_launch(root, "launch-1")
    assert record is not None and len(record.assignments) == 300
    assert record.campaign["end_ts"].iloc[0] == START + pd.Timedelta(days=14)  # the first's window
    assert sorted(p.name for p in root.iterdir()) == ["launch-1"]  # no staging folder left behind


def launched(tmp_path: Path, campaign_id: str = "launch-1") -> Audience:
    rng = np.random.default_rng(5)
    features = pd.DataFrame(
        {
            "customer_id": np.arange(1, N + 1),
            "consent_email": 1.0,
            "orders_total": 0.0,
            "tenure_days": 5.0,
            "messages_7d": 0.0,
            "days_since_last_messages": np.nan,
            "avg_order_value": np.nan,
        }
    )
    uplift, p_control = rng.uniform(0.1, 0.4, N), rng.uniform(0.02, 0.1, N)
    config = load_config("actions", ActionsConfig)
    spec = AudienceSpec("welcome_coupon", campaign_id, size=300, holdout_share=0.3)
    return build_audience(features, {"welcome_coupon": (uplift, p_control)}, config, spec, START)


def test_launch_records_are_contract_tables_and_ids_are_never_reused(tmp_path: Path) -> None:
    audience = launched(tmp_path)
    folder = register_launch(audience, tmp_path / "campaigns", window_days=14)
    record = load_launch(tmp_path / "campaigns", "launch-1")
    assert record is not None and record.folder == folder
    assert len(record.assignments) == 300 and record.campaign["end_ts"].iloc[0] == START + pd.Timedelta(
        days=14
    )
    assert record.campaign["treatment_probability"].iloc[0] == pytest.approx(0.7)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["summary"]["size"] == 300 and summary["curve"]["size"][0] == 0
    csv = pd.read_csv(folder / "audience.csv")
    assert list(csv.columns)[:4] == ["campaign_id", "customer_id", "arm", "assignment_probability"]
    with pytest.raises(ValueError, match="already launched"):
        register_launch(audience, tmp_path / "campaigns")
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        export_audience(audience.rows, tmp_path / "audience.xlsx")
    assert len(pd.read_parquet(export_audience(audience.rows, tmp_path / "a.parquet"))) == 300
    with pytest.raises(ValueError, match="is a directory"):
        export_audience(audience.rows, tmp_path / "campaigns")
    # Written whole beside the target and moved in: no temporary file is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "campaigns"]


def test_a_closed_launched_campaign_joins_the_training_data_once(tmp_path: Path) -> None:
    audience = launched(tmp_path)
    register_launch(audience, tmp_path / "campaigns", window_days=14)
    rows = audience.rows
    treated = rows.loc[rows["arm"] == "treatment", "customer_id"].to_numpy()
    held = rows.loc[rows["arm"] == "holdout", "customer_id"].to_numpy()
    # Planted: 40% of the treated and 10% of the holdout order inside the window; one order after
    # the window closes it.
    buyers = [*treated[: round(0.4 * len(treated))], *held[: round(0.1 * len(held))]]
    planted = [(int(c), START + pd.Timedelta(days=2), 50.0) for c in buyers]
    planted.append((1, START + pd.Timedelta(days=20), 5.0))
    write_dataset({"customers": customers(), "orders": orders(planted)}, tmp_path / "raw")

    measured, status = review_campaign("launch-1", ServingConfig(), paths(tmp_path))
    assert measured.lift.low < 0.3 < measured.lift.high and measured.lift.excludes_zero()
    assert measured.lift.estimate == pytest.approx(
        round(0.4 * len(treated)) / len(treated) - round(0.1 * len(held)) / len(held)
    )
    assert measured.qini is not None and "logged" in measured.qini_source
    assert status.startswith("added to the uplift training data: 300 assignments")
    assert len(read_table(tmp_path / "raw", "campaign_assignments")) == 300
    results = json.loads((tmp_path / "campaigns" / "launch-1" / "results.json").read_text())
    assert results["lift"]["estimate"] == pytest.approx(measured.lift.estimate)

    again, status = review_campaign("launch-1", ServingConfig(), paths(tmp_path))
    assert status.startswith("already in the raw data") and again.lift == measured.lift
    assert len(read_table(tmp_path / "raw", "campaigns")) == 1
    assert len(read_table(tmp_path / "raw", "campaign_assignments")) == 300


def test_a_running_campaign_is_measured_but_not_added(tmp_path: Path) -> None:
    register_launch(launched(tmp_path), tmp_path / "campaigns", window_days=14)
    write_dataset(
        {"customers": customers(), "orders": orders([(1, START + pd.Timedelta(days=3), 5.0)])},
        tmp_path / "raw",
    )
    measured, status = review_campaign("launch-1", ServingConfig(), paths(tmp_path))
    assert not measured.complete and measured.notes[0].startswith("interim")
    assert status.startswith("not added yet")
    assert read_table(tmp_path / "raw", "campaigns").empty


def test_a_campaign_whose_window_has_not_started_in_the_data_is_refused(tmp_path: Path) -> None:
    """The data stop before the launch: no outcome is observed, and no 0/0 result is saved."""
    folder = register_launch(launched(tmp_path), tmp_path / "campaigns", window_days=14)
    write_dataset(
        {"customers": customers(), "orders": orders([(1, START - pd.Timedelta(days=2), 5.0)])},
        tmp_path / "raw",
    )
    reach = "'launch-1' starts 2025-03-01 00:00, the data reach 2025-02-27 00:00"
    with pytest.raises(ValueError, match=reach):
        review_campaign("launch-1", ServingConfig(), paths(tmp_path))
    assert not (folder / "results.json").exists()


def test_bad_launch_data_is_refused_whole(tmp_path: Path) -> None:
    audience = launched(tmp_path)
    folder = register_launch(audience, tmp_path / "campaigns")
    raw = tmp_path / "raw"
    write_dataset({"customers": customers(100), "orders": orders([(1, START, 5.0)])}, raw)
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    record = load_launch(tmp_path / "campaigns", "launch-1")
    assert record is not None
    with pytest.raises(ContractError, match=r"campaign_assignments\.parquet: \d+ customer id\(s\) not in"):
        append_campaign(raw, record.campaign, record.assignments, folder)
    broken = record.assignments.assign(arm="maybe")
    with pytest.raises(ContractError, match="arm"):
        append_campaign(raw, record.campaign, broken[broken["customer_id"] <= 100], folder)
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before, "nothing half-written"


def test_a_broken_launch_record_is_named(tmp_path: Path) -> None:
    folder = register_launch(launched(tmp_path), tmp_path / "campaigns", window_days=14)
    (folder / "summary.json").write_text("{broken")
    with pytest.raises(ValueError, match=r"launch-1/summary\.json: not valid JSON"):
        read_json(folder / "summary.json")


def test_a_failed_save_keeps_the_results_saved_before_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lift = Interval(0.3, 0.1, 0.5)
    measured = Measurement(
        "hand-1", "winback_coupon", "sms", "launched", "2025-03-01", "2025-03-15", "2025-03-20", True,
        10, 10, 4, 1, lift, lift.scaled(10), None, None, None, "n/a",
    )  # fmt: skip
    folder = tmp_path / "campaigns" / "hand-1"
    saved = save_measurement(measured, folder, "added")
    before = saved.read_bytes()

    def disk_fills_halfway(path: Path, text: str) -> int:
        with path.open("w") as out:
            out.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_fills_halfway)
    with pytest.raises(OSError, match="No space left"):
        save_measurement(measured, folder, "already in the raw data")
    assert saved.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["results.json"]


def test_an_export_whose_launch_fails_is_not_left_behind(tmp_path: Path) -> None:
    rows = launched(tmp_path).rows
    out = tmp_path / "exports" / "audience.csv"
    out.parent.mkdir()
    out.write_text("the export of an earlier launch\n")
    with pytest.raises(ValueError, match="already launched"), exporting(rows, out):
        assert out.read_text() == "the export of an earlier launch\n"  # written beside, not yet moved in
        raise ValueError("campaign 'launch-1' was already launched")
    assert out.read_text() == "the export of an earlier launch\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["audience.csv"]
    with exporting(rows, out):
        pass
    assert len(pd.read_csv(out)) == 300
