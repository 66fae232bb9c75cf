"""The durable record of a launched audience, so the campaign can be measured later.

One folder per campaign under `<data>/campaigns/<campaign_id>/`:

    campaigns.parquet             the campaign row (event contract table `campaigns`)
    campaign_assignments.parquet  one row per customer, arm and assignment probability (contract)
    audience.parquet              the same customers with predicted uplift, P(order | not treated),
                                  expected profit and spend and the reason, as scored at launch
    audience.csv                  the export a CRM tool loads (EXPORT_COLUMNS)
    summary.json                  the launch summary (expected figures, MDE) and the predicted curve
    results.json                  written by `nudge measure`

A folder appears whole or not at all (written beside it, then renamed), and a campaign id is never
reused.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from campaigns.audience import Audience
from configs.atomic import replacing, staging_folder
from configs.runtime import RuntimePaths
from events.store import read_table, validate_table

CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
DEFAULT_WINDOW_DAYS = 14  # the simulator's campaign window, which the uplift models learn from
EXPORT_COLUMNS = [
    "campaign_id", "customer_id", "arm", "assignment_probability", "predicted_uplift", "p_control",
    "expected_profit", "reason",
]  # fmt: skip
TABLES = ("campaigns", "campaign_assignments")


@dataclass(frozen=True)
class Launch:
    folder: Path
    campaign: pd.DataFrame  # contract table `campaigns`, one row
    assignments: pd.DataFrame  # contract table `campaign_assignments`
    audience: pd.DataFrame | None  # predictions logged at launch

    @property
    def campaign_id(self) -> str:
        return str(self.campaign["campaign_id"].iloc[0])


def campaigns_root(paths: RuntimePaths) -> Path:
    """Where launch records live: `<data>/campaigns`."""
    return paths.data_dir / "campaigns"


def check_campaign_id(campaign_id: str) -> str:
    if not CAMPAIGN_ID.match(campaign_id):
        raise ValueError(
            f"campaign id {campaign_id!r} must be 1-80 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return campaign_id


def new_campaign_id(action: str, as_of: pd.Timestamp) -> str:
    return f"{action}-{as_of:%Y%m%d}-{secrets.token_hex(3)}"


def campaign_folder(root: Path, campaign_id: str) -> Path:
    return root / check_campaign_id(campaign_id)


def launch_tables(audience: Audience, window_days: int) -> dict[str, pd.DataFrame]:
    """The audience as contract rows: its campaign and every assignment at the features' time."""
    if window_days < 1:
        raise ValueError(f"window_days must be >= 1, got {window_days}")
    summary = audience.summary
    start = pd.Timestamp(summary.as_of)
    campaign = pd.DataFrame(
        {
            "campaign_id": [summary.campaign_id],
            "action": [summary.action],
            "channel": [summary.channel],
            "start_ts": [start],
            "end_ts": [start + pd.Timedelta(days=window_days)],
            "treatment_probability": [1.0 - summary.holdout_share],
        }
    )
    rows = audience.rows
    assignments = pd.DataFrame(
        {
            "campaign_id": summary.campaign_id,
            "customer_id": rows["customer_id"].to_numpy(),
            "assigned_ts": start,
            "arm": rows["arm"].to_numpy(),
            "assignment_probability": rows["assignment_probability"].to_numpy(),
        }
    )
    return {"campaigns": campaign, "campaign_assignments": assignments}


def register_launch(audience: Audience, root: Path, window_days: int = DEFAULT_WINDOW_DAYS) -> Path:
    """Write the campaign's folder; refuse an id already launched."""
    folder = campaign_folder(root, audience.summary.campaign_id)
    taken = f"campaign {audience.summary.campaign_id!r} was already launched ({folder})"
    if folder.exists():
        raise ValueError(taken)
    tables = {
        name: validate_table(name, frame, folder / f"{name}.parquet")
        for name, frame in launch_tables(audience, window_days).items()
    }
    with staging_folder(folder) as staging:
        for name, frame in tables.items():
            frame.to_parquet(staging / f"{name}.parquet", index=False)
        audience.rows.to_parquet(staging / "audience.parquet", index=False)
        export_audience(audience.rows, staging / "audience.csv")
        payload = {"summary": audience.summary.to_dict(), "curve": audience.curve.to_dict("list")}
        (staging / "summary.json").write_text(json.dumps(payload, indent=2))
        try:
            # A plain rename, not `swap_in`: renaming onto a folder that is there fails, so a launch
            # of the same id that finished while this one was written (another worker, a retried
            # request) is kept, not replaced.
            staging.rename(folder)
        except OSError:
            if folder.exists():
                raise ValueError(taken) from None
            raise
    return folder


def export_audience(rows: pd.DataFrame, path: Path) -> Path:
    """The audience as CSV or parquet, by the file's suffix, written whole or not at all."""
    with exporting(rows, path):
        pass  # nothing else to commit it with: it lands at once
    return path


def check_export_path(path: Path) -> None:
    """Refuse an export path that cannot take an audience file, before any work is done."""
    if path.is_dir():
        raise ValueError(f"{path}: is a directory; give the export's file name")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{path}: export to .csv or .parquet, not {suffix or 'no suffix'!r}")


@contextmanager
def exporting(rows: pd.DataFrame, path: Path) -> Iterator[None]:
    """Write the export beside `path`, then run the block: the export lands at `path` when the block
    ends and is removed if it fails, so a caller can commit the export with the launch it belongs
    to, and a failure leaves no part-written file at `path`."""
    check_export_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{path}: cannot create its folder ({err.strerror})") from None
    frame = rows[EXPORT_COLUMNS]
    with replacing(path) as staged:
        if path.suffix.lower() == ".csv":
            frame.to_csv(staged, index=False, float_format="%.6g")
        else:
            frame.to_parquet(staged, index=False)
        yield


def load_launch(root: Path, campaign_id: str) -> Launch | None:
    """The launched campaign `campaign_id`, validated, or None if it was not launched here."""
    folder = campaign_folder(root, campaign_id)
    if not (folder / "campaigns.parquet").exists():
        return None
    campaign = read_table(folder, "campaigns")
    assignments = read_table(folder, "campaign_assignments")
    for name, frame in (("campaigns", campaign), ("campaign_assignments", assignments)):
        found = set(frame["campaign_id"].astype(str))
        if found != {campaign_id}:
            raise ValueError(
                f"{folder / name}.parquet: holds campaign ids {sorted(found)[:5]}, not {campaign_id!r}"
            )
    audience_path = folder / "audience.parquet"
    audience = pd.read_parquet(audience_path) if audience_path.exists() else None
    return Launch(folder, campaign, assignments, audience)


def read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
