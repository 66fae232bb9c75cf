"""A small HTTP client for the service, used by `nudge scores` and the demo."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from configs.schema import ServingConfig
from decisions.policy import NO_ACTION
from events.store import read_table
from serving.schemas import Decision, DecisionsResponse, ScoresResponse


def request_scores(
    url: str, customer_ids: list[int], headers: Mapping[str, str] | None = None, timeout_s: float = 30.0
) -> ScoresResponse:
    return ScoresResponse.model_validate(_post(f"{url}/scores", customer_ids, headers, timeout_s))


def request_decisions(
    url: str, customer_ids: list[int], headers: Mapping[str, str] | None = None, timeout_s: float = 30.0
) -> DecisionsResponse:
    return DecisionsResponse.model_validate(
        _post(f"{url}/next-best-action", customer_ids, headers, timeout_s)
    )


def auth_headers(config: ServingConfig) -> dict[str, str]:
    """The API key header the service checks, with NUDGE_API_KEY (which the service reads too) if set."""
    key = os.environ.get("NUDGE_API_KEY")
    return {config.api_key_header: key} if key else {}


def _post(
    endpoint: str, customer_ids: list[int], headers: Mapping[str, str] | None, timeout_s: float
) -> object:
    """The JSON answer of `endpoint`; an unreachable service or an error answer is a ValueError
    naming the endpoint and what the service said."""
    try:
        response = httpx.post(
            endpoint, json={"customer_ids": customer_ids}, headers=headers, timeout=timeout_s
        )
    except httpx.HTTPError as err:
        raise ValueError(
            f"{endpoint}: {str(err) or type(err).__name__}; is `nudge serve` running there?"
        ) from None
    if response.is_error:
        raise ValueError(f"{endpoint}: HTTP {response.status_code}: {response.text[:500]}")
    return response.json()


def sample_customer_ids(raw_dir: Path, count: int, seed: int = 0) -> list[int]:
    """Recent buyers and recent sign-ups, plus one unknown id to show cold start."""
    orders = read_table(raw_dir, "orders")
    customers = read_table(raw_dir, "customers")
    recent = orders.sort_values("order_ts").drop_duplicates("customer_id", keep="last").tail(20 * count)
    buyers = recent["customer_id"].sample(min(count - count // 3, len(recent)), random_state=seed)
    signups = customers.sort_values("signup_ts").tail(20 * count)["customer_id"]
    prospects = signups[~signups.isin(orders["customer_id"])]
    picked = [*buyers, *prospects.sample(min(count // 3, len(prospects)), random_state=seed)]
    return [*map(int, picked), -1]


def population_sample(raw_dir: Path, count: int, seed: int = 0) -> list[int]:
    """`count` customer ids drawn at random from every customer."""
    customers = read_table(raw_dir, "customers")["customer_id"]
    return [int(i) for i in customers.sample(min(count, len(customers)), random_state=seed)]


def print_scores(console: Console, response: ScoresResponse) -> None:
    names = list(dict.fromkeys(n for s in response.scores for n in s.scores))
    versions = ", ".join(f"{m} v{v}" for m, v in response.models.items())
    table = Table(title=f"scores (live HTTP; {versions})")
    table.add_column("customer_id", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("top churn reasons (SHAP)")
    for score in response.scores:
        values = [f"{score.scores[n]:.3f}" if n in score.scores else "—" for n in names]
        reasons = ", ".join(r.feature for r in score.top_reasons.get("churn", [])) or score.reason
        table.add_row(str(score.customer_id), *values, reasons)
    console.print(table)


def print_decisions(console: Console, response: DecisionsResponse) -> None:
    table = Table(title="next best action (live HTTP)")
    table.add_column("customer_id", justify="right")
    table.add_column("action")
    table.add_column("profit", justify="right")
    table.add_column("reason")
    for decision in response.decisions:
        profit = f"{decision.expected_incremental_profit:+.2f}" if decision.known else "—"
        table.add_row(str(decision.customer_id), decision.action, profit, decision.reason)
    console.print(table)


def print_decision_mix(console: Console, response: DecisionsResponse) -> None:
    """How many customers each action goes to, its summed expected incremental profit, and the
    customer it helps most with the figures of why."""
    known = [d for d in response.decisions if d.known]
    table = Table(title=f"next best action across {len(known):,} known customers (live HTTP)")
    table.add_column("action")
    table.add_column("customers", justify="right")
    table.add_column("share", justify="right")
    table.add_column("expected profit", justify="right")
    table.add_column("customer helped most")
    by_action: dict[str, list[Decision]] = {}
    for decision in known:
        by_action.setdefault(decision.action, []).append(decision)
    for action, decisions in sorted(by_action.items(), key=lambda item: -len(item[1])):
        best = max(decisions, key=lambda d: d.expected_incremental_profit)
        table.add_row(
            action,
            f"{len(decisions):,}",
            f"{len(decisions) / len(known):.1%}",
            f"{sum(d.expected_incremental_profit for d in decisions):+,.2f}",
            "—" if action == NO_ACTION else f"{best.customer_id}: {best.reason.removeprefix(action + ': ')}",
        )
    console.print(table)
