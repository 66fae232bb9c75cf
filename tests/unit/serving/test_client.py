"""The demo's roll-up of many decisions: customers, share and summed profit per action, and the
customer each action helps most; unknown customers are left out."""

from __future__ import annotations

from rich.console import Console

from serving.client import print_decision_mix
from serving.schemas import Decision, DecisionsResponse


def _decision(customer_id: int, action: str, profit: float, known: bool = True) -> Decision:
    acting = action != "no_action"
    return Decision(
        customer_id=customer_id,
        known=known,
        action=action,
        channel="email" if acting else None,
        expected_incremental_profit=profit,
        uplift=0.1 if acting else 0.0,
        reason=f"{action}: {profit:+.2f} expected incremental profit (why {customer_id})"
        if acting
        else "no action: not eligible for any action",
        features_as_of=None,
    )


def test_decision_mix_counts_shares_and_best_customer() -> None:
    decisions = [
        _decision(1, "welcome_coupon", 0.5),
        _decision(2, "welcome_coupon", 2.25),
        _decision(3, "vip_early_access", 10.0),
        _decision(4, "no_action", 0.0),
        _decision(-1, "no_action", 0.0, known=False),
    ]
    when = "2025-06-30T00:00:00+00:00"
    response = DecisionsResponse(models={"nudge-uplift": "1"}, decided_at=when, decisions=decisions)
    console = Console(record=True, width=200)
    print_decision_mix(console, response)
    lines = console.export_text().splitlines()
    assert "across 4 known customers" in lines[0]
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in lines
        if "│" in line
    }
    assert rows["welcome_coupon"] == ["2", "50.0%", "+2.75", "2: +2.25 expected incremental profit (why 2)"]
    assert rows["vip_early_access"] == [
        "1",
        "25.0%",
        "+10.00",
        "3: +10.00 expected incremental profit (why 3)",
    ]
    assert rows["no_action"] == ["1", "25.0%", "+0.00", "—"]
    assert next(iter(rows)) == "welcome_coupon"  # most customers first
