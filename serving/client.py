"""A small HTTP client for the service, used by `nudge scores` and the demo."""

from __future__ import annotations

from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from events.store import read_table
from serving.schemas import ScoresResponse


def request_scores(url: str, customer_ids: list[int], timeout_s: float = 30.0) -> ScoresResponse:
    response = httpx.post(f"{url}/scores", json={"customer_ids": customer_ids}, timeout=timeout_s)
    response.raise_for_status()
    return ScoresResponse.model_validate(response.json())


def sample_customer_ids(raw_dir: Path, count: int, seed: int = 0) -> list[int]:
    """Recent buyers (churn risk is defined for them) plus one unknown id to show cold start."""
    orders = read_table(raw_dir, "orders")
    recent = orders.sort_values("order_ts").drop_duplicates("customer_id", keep="last").tail(20 * count)
    picked = recent["customer_id"].sample(min(count, len(recent)), random_state=seed).tolist()
    return [*map(int, picked), -1]


def print_scores(console: Console, response: ScoresResponse) -> None:
    table = Table(title=f"churn risk from {response.model} v{response.model_version} (live HTTP)")
    table.add_column("customer_id", justify="right")
    table.add_column("churn_risk", justify="right")
    table.add_column("top reasons (SHAP)")
    for score in response.scores:
        risk = "—" if score.churn_risk is None else f"{score.churn_risk:.3f}"
        reasons = ", ".join(r.feature for r in score.top_reasons) or score.reason
        table.add_row(str(score.customer_id), risk, reasons)
    console.print(table)
