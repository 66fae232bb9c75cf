"""`nudge measure`: a campaign's measured lift, treated vs holdout, with confidence intervals.

Outcomes are those the uplift models learn from (training.uplift.outcomes): converted = at least one
order in [assigned_ts, end_ts), revenue = net order value in that window. Intervals (campaigns.
inference): the normal approximation for the difference of conversion rates, Welch's t for revenue
per customer, both scaled by the treated count for incremental totals. The model's Qini on the
campaign ranks its customers by the uplift predicted at launch (logged with the audience) or, for a
campaign that logged none, by the uplift champion scored at each assignment's time through Feast;
its interval is a bootstrap within arms (training.uplift.metrics).

The campaign's arms are compared as randomized: one treatment probability per campaign, so the plain
difference of means is unbiased. A campaign whose logged probabilities vary is measured all the same,
with a note.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from campaigns.inference import LEVEL, Interval, proportion_difference, welch_difference
from campaigns.launch import Launch, load_launch, read_json
from configs.atomic import replacing
from events.contract import TABLES
from events.store import read_table
from training.uplift.metrics import bootstrap_interval, qini_score
from training.uplift.outcomes import window_outcomes

# (assignment rows: customer_id, event_timestamp; action) -> (predicted uplift per row, where from)
UpliftScorer = Callable[[pd.DataFrame, str], tuple[np.ndarray, str] | None]
N_BOOT = 200
_NOT_EVENTS = ("campaigns", "campaign_assignments")


@dataclass(frozen=True)
class Measurement:
    campaign_id: str
    action: str
    channel: str
    source: str
    start: str
    end: str
    observed_until: str
    complete: bool
    treated: int
    holdout: int
    conversions_treated: int
    conversions_holdout: int
    lift: Interval  # treated minus holdout conversion rate
    incremental_conversions: Interval
    revenue_per_customer: Interval | None
    incremental_revenue: Interval | None
    qini: Interval | None
    qini_source: str
    expected: dict[str, float] = field(default_factory=dict)  # logged at launch
    notes: list[str] = field(default_factory=list)
    level: float = LEVEL

    @property
    def rate_treated(self) -> float:
        return self.conversions_treated / self.treated

    @property
    def rate_holdout(self) -> float:
        return self.conversions_holdout / self.holdout

    def table(self) -> list[tuple[str, str, str]]:
        """(figure, estimate, confidence interval) rows for people."""
        pct = f"{self.level:.0%} CI"

        def ci(interval: Interval | None, fmt: str) -> tuple[str, str]:
            if interval is None:
                return "n/a", ""
            return format(interval.estimate, fmt), f"[{interval.low:{fmt}}, {interval.high:{fmt}}] {pct}"

        rows = [
            ("treated / holdout", f"{self.treated:,} / {self.holdout:,}", ""),
            ("conversion treated / holdout", f"{self.rate_treated:.2%} / {self.rate_holdout:.2%}", ""),
            ("lift (rate difference)", *ci(self.lift.scaled(100), "+.2f")),
            ("incremental conversions", *ci(self.incremental_conversions, "+,.1f")),
            ("revenue per customer difference", *ci(self.revenue_per_customer, "+,.2f")),
            ("incremental revenue", *ci(self.incremental_revenue, "+,.2f")),
            ("model Qini on the campaign", *ci(self.qini, "+.3f")),
        ]
        rows[2] = (rows[2][0] + " in pts", rows[2][1], rows[2][2])
        for key, value in self.expected.items():
            shown = f"{value * 100:+.2f} pts" if key in ("expected_lift", "mde") else f"{value:+,.1f}"
            rows.append((f"predicted at launch: {key.replace('_', ' ')}", shown, ""))
        return rows

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out |= {"rate_treated": self.rate_treated, "rate_holdout": self.rate_holdout}
        out["method"] = (
            "lift: difference of proportions, normal approximation (unpooled); revenue per customer: "
            "Welch t; incremental totals: per-customer difference x treated count; Qini: "
            f"bootstrap within arms ({N_BOOT} resamples)"
        )
        return out


def campaign_arms(
    campaign_id: str, raw: Path, launch: Launch | None
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(campaign row, its assignments, where they were found): the raw data first, then launches."""
    campaigns = read_table(raw, "campaigns")
    in_raw = campaigns["campaign_id"].astype(str) == campaign_id
    if in_raw.any():
        assignments = read_table(raw, "campaign_assignments")
        mine = assignments[assignments["campaign_id"].astype(str) == campaign_id]
        return campaigns[in_raw], mine, "raw data" + (" (launched here)" if launch else "")
    if launch is not None:
        return launch.campaign, launch.assignments, "launched, not yet in the raw data"
    raise ValueError(f"no campaign {campaign_id!r} in {raw}/campaigns.parquet nor among launched audiences")


def data_end(raw: Path) -> pd.Timestamp:
    """The newest event time in the raw data: how far outcomes have been observed."""
    newest = pd.Timestamp(0, tz="UTC")
    for name, table in TABLES.items():
        path = raw / f"{name}.parquet"
        if name in _NOT_EVENTS or table.time_column is None or not path.exists():
            continue
        stamps = pd.to_datetime(
            pd.read_parquet(path, columns=[table.time_column])[table.time_column], utc=True
        )
        if len(stamps) and stamps.max() > newest:
            newest = stamps.max()
    return newest


def measure_campaign(
    campaign_id: str, raw: Path, campaigns_root: Path, scorer: UpliftScorer | None = None, seed: int = 0
) -> Measurement:
    launch = load_launch(campaigns_root, campaign_id)
    campaign, assignments, source = campaign_arms(campaign_id, raw, launch)
    start, observed = pd.Timestamp(campaign["start_ts"].iloc[0]), data_end(raw)
    if observed <= start:  # an estimate of 0/0 with a [0, 0] interval would read as a result
        raise ValueError(
            f"campaign {campaign_id!r} starts {start:%Y-%m-%d %H:%M}, the data reach "
            f"{observed:%Y-%m-%d %H:%M}: no outcome observed yet; import newer data and measure again"
        )
    rows = window_outcomes(assignments, campaign, read_table(raw, "orders"))
    treated = rows["treated"].to_numpy(dtype=bool)
    n_t, n_c = int(treated.sum()), int((~treated).sum())
    if n_t == 0 or n_c == 0:
        raise ValueError(
            f"campaign {campaign_id!r} has {n_t} treated and {n_c} holdout customers: no lift to measure"
        )
    y = rows["converted"].to_numpy(dtype=np.int64)
    lift = proportion_difference(int(y[treated].sum()), n_t, int(y[~treated].sum()), n_c)
    revenue = rows["revenue"].to_numpy(dtype=np.float64)
    per_customer = welch_difference(revenue[treated], revenue[~treated]) if min(n_t, n_c) >= 2 else None
    qini, qini_source = _qini(rows, launch, scorer, seed)
    end = pd.Timestamp(campaign["end_ts"].iloc[0])
    return Measurement(
        campaign_id=campaign_id,
        action=str(campaign["action"].iloc[0]),
        channel=str(campaign["channel"].iloc[0]),
        source=source,
        start=start.isoformat(),
        end=end.isoformat(),
        observed_until=observed.isoformat(),
        complete=bool(observed >= end),
        treated=n_t,
        holdout=n_c,
        conversions_treated=int(y[treated].sum()),
        conversions_holdout=int(y[~treated].sum()),
        lift=lift,
        incremental_conversions=lift.scaled(n_t),
        revenue_per_customer=per_customer,
        incremental_revenue=per_customer.scaled(n_t) if per_customer else None,
        qini=qini,
        qini_source=qini_source,
        expected=_expected(launch),
        notes=_notes(rows, observed, end),
    )


def _qini(
    rows: pd.DataFrame, launch: Launch | None, scorer: UpliftScorer | None, seed: int
) -> tuple[Interval | None, str]:
    predicted, source = _predictions(rows, launch, scorer)
    if predicted is None:
        return None, source
    scored = np.isfinite(predicted)
    if scored.sum() < len(predicted):
        source += f"; {int(scored.sum()):,} of {len(predicted):,} assignments had features to score"
    y = rows["converted"].to_numpy(dtype=np.int64)[scored]
    t = rows["treated"].to_numpy(dtype=np.int64)[scored]
    if np.unique(predicted[scored]).size == 1:
        source += "; the model scores every customer alike, so it ranks no better than random"
    if not y.any() or t.all() or not t.any():
        return None, f"n/a: no conversions or an empty arm among the scored assignments ({source})"
    try:
        point, low, high = bootstrap_interval(qini_score, y, predicted[scored], t, n_boot=N_BOOT, seed=seed)
    except ValueError as err:
        return None, f"n/a: {err} ({source})"
    return Interval(point, low, high), source


def _predictions(
    rows: pd.DataFrame, launch: Launch | None, scorer: UpliftScorer | None
) -> tuple[np.ndarray | None, str]:
    if launch is not None and launch.audience is not None:
        logged = launch.audience.set_index("customer_id")["predicted_uplift"]
        values = logged.reindex(rows["customer_id"].to_numpy()).to_numpy(dtype=np.float64)
        if np.isfinite(values).all():
            return values, "uplift predicted at launch (logged with the audience)"
    if scorer is None:
        return None, "n/a: no uplift logged at launch and no model to score with"
    action = str(rows["action"].iloc[0])
    scored = scorer(rows[["customer_id", "event_timestamp"]], action)
    if scored is None:
        return None, f"n/a: no uplift champion model for {action} to score with"
    return scored


def _expected(launch: Launch | None) -> dict[str, float]:
    payload = read_json(launch.folder / "summary.json") if launch is not None else None
    if not payload:
        return {}
    summary = payload["summary"]
    keys = ("expected_lift", "expected_incremental_conversions", "expected_incremental_revenue", "mde")
    return {key: float(summary[key]) for key in keys if summary.get(key) is not None}


def _notes(rows: pd.DataFrame, observed: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    notes = []
    if observed < end:
        notes.append(
            f"interim: the window ends {end:%Y-%m-%d %H:%M}, the data reach {observed:%Y-%m-%d %H:%M}"
        )
    treated = rows["treated"] == 1
    if rows.loc[treated, "propensity"].nunique() > 1:
        notes.append("treatment probabilities vary within the campaign; the plain difference may be biased")
    return notes


def save_measurement(measurement: Measurement, folder: Path, appended: str) -> Path:
    """Write results.json into the campaign's folder (whole, by rename)."""
    path = folder / "results.json"
    with replacing(path) as staged:
        staged.write_text(json.dumps({**measurement.to_dict(), "training_data": appended}, indent=2))
    return path


def stored_results(campaigns_root: Path) -> list[dict[str, Any]]:
    """Every saved measurement, newest campaign first."""
    results = [read_json(path) for path in campaigns_root.glob("*/results.json")]
    return sorted((r for r in results if r), key=lambda r: r["start"], reverse=True)
