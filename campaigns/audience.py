"""An audience for one action: the customers the uplift model says the action moves most, within a
size or a spend budget, split by a randomized holdout so the campaign measures its own lift.

The rule is the shared next-best-action rule restricted to one action (`decide(..., actions=[a])`):
consent, eligibility, frequency caps and cooldowns hold, and only customers with a positive expected
incremental profit qualify. `allocate` then ranks them (by profit under a size, by profit per unit
spent under a budget) and cuts. The holdout is drawn from the chosen audience and is not contacted,
so expected figures below are those of the treated arm and the spend stays within the budget:

    expected incremental conversions = sum of predicted uplift over the treated
    expected incremental revenue     = sum of uplift x order value - P(order | treated) x coupon
                                       (net of coupons, as orders record net_amount)
    expected cost                    = sum of contact cost + P(order | treated) x coupon
    expected profit                  = sum of expected incremental profit; ROI = profit / cost

The curve is the same sum of predicted uplift (and of profit) over the treated among the top n of
the ranking, for every n up to the whole eligible population: a predicted Qini curve, in
incremental conversions, that shows where extra customers stop paying.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from campaigns.holdout import TREATMENT, assign_arms, check_share
from campaigns.power import ALPHA, POWER, minimum_detectable_effect
from configs.schema import ActionConfig, ActionsConfig
from decisions.economics import coupon_cost, expected_spend, order_value
from decisions.policy import NO_ACTION, Estimates, allocate, decide

CURVE_POINTS = 100
ROW_COLUMNS = [
    "campaign_id", "customer_id", "arm", "assignment_probability", "predicted_uplift", "p_control",
    "expected_profit", "expected_spend", "expected_revenue", "reason",
]  # fmt: skip


class EmptyAudience(ValueError):
    """No customer qualifies for the action (none eligible with a positive expected profit)."""


@dataclass(frozen=True)
class AudienceSpec:
    action: str
    campaign_id: str
    size: int | None = None
    budget: float | None = None
    holdout_share: float = 0.1


@dataclass(frozen=True)
class AudienceSummary:
    """What a launch or preview will do; also the body of POST /audiences' summary (money in the
    order values' currency, rates as fractions)."""

    campaign_id: str
    action: str
    channel: str
    as_of: str
    constraint: str  # "size N" or "budget B"
    population: int
    eligible: int
    profitable: int
    size: int
    treated: int
    holdout: int
    holdout_share: float
    expected_incremental_conversions: float
    expected_incremental_revenue: float
    expected_cost: float
    expected_profit: float
    roi: float | None
    baseline_conversion: float  # mean predicted P(order | not treated) over the audience
    expected_lift: float  # mean predicted uplift over the audience
    mde: float | None  # minimum detectable effect, absolute, at ALPHA and POWER; None: an arm is empty
    alpha: float
    power: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def describe(self) -> str:
        roi = "n/a" if self.roi is None else f"{self.roi:.0%}"
        powered = "enough" if self.mde is not None and self.expected_lift >= self.mde else "NOT enough"
        mde = "n/a (an arm is empty)" if self.mde is None else f"{self.mde * 100:.2f} pts"
        return "\n".join(
            [
                f"audience {self.campaign_id}: {self.action} by {self.channel}, {self.constraint}, "
                f"features as of {self.as_of}",
                f"  population {self.population:,}, eligible {self.eligible:,}, "
                f"with positive expected profit {self.profitable:,}",
                f"  audience {self.size:,} = treated {self.treated:,} + holdout {self.holdout:,} "
                f"({self.holdout_share:.0%})",
                f"  expected incremental conversions {self.expected_incremental_conversions:,.1f}, "
                f"revenue {self.expected_incremental_revenue:,.2f}",
                f"  expected cost {self.expected_cost:,.2f}, profit {self.expected_profit:,.2f}, ROI {roi}",
                f"  baseline conversion {self.baseline_conversion:.2%}, expected lift "
                f"{self.expected_lift * 100:+.2f} pts; minimum detectable effect {mde} "
                f"(two-proportion test, alpha {self.alpha}, power {self.power}): {powered} power",
            ]
        )


@dataclass(frozen=True)
class Audience:
    summary: AudienceSummary
    rows: pd.DataFrame  # ROW_COLUMNS, best first
    curve: pd.DataFrame  # size, incremental_conversions, profit, cost


def check_spec(spec: AudienceSpec, config: ActionsConfig, modelled: list[str]) -> None:
    """Raise ValueError naming what is wrong with the request."""
    if spec.action not in config.actions:
        raise ValueError(f"unknown action {spec.action!r}; configured: {sorted(config.actions)}")
    if spec.action not in modelled:
        raise ValueError(f"the uplift champion has no model for {spec.action!r}; it has {sorted(modelled)}")
    if (spec.size is None) == (spec.budget is None):
        raise ValueError("give exactly one of size or budget")
    if spec.size is not None and spec.size < 1:
        raise ValueError(f"size must be >= 1, got {spec.size}")
    if spec.budget is not None and not spec.budget > 0:
        raise ValueError(f"budget must be > 0, got {spec.budget}")
    check_share(spec.holdout_share)


def build_audience(
    features: pd.DataFrame,
    predictions: Mapping[str, tuple[np.ndarray, np.ndarray]],
    config: ActionsConfig,
    spec: AudienceSpec,
    as_of: pd.Timestamp,
) -> Audience:
    """`features` (one row per customer, with customer_id) and the bundle's predictions on them."""
    check_spec(spec, config, list(predictions))
    features = features.reset_index(drop=True)
    uplift, p_control = (np.asarray(v, dtype=np.float64) for v in predictions[spec.action])
    decisions = decide(
        features, Estimates({spec.action: uplift}, {spec.action: p_control}), config, [spec.action]
    )
    profit = decisions.profit_table[:, 0]  # the one action decided on; NaN where not eligible
    eligible = ~np.isnan(profit)
    selected = allocate(decisions, budget=spec.budget, size=spec.size)
    if not selected.any():
        raise EmptyAudience(_why_empty(spec.action, int(eligible.sum()), decisions.reason))
    action = config.actions[spec.action]
    table = _scored_table(features, uplift, p_control, profit, action, spec).assign(reason=decisions.reason)
    ranked = table[eligible].sort_values("_key", ascending=False, kind="stable")
    rows = table[selected].sort_values("_key", ascending=False, kind="stable")[ROW_COLUMNS]
    profitable = int((decisions.action != NO_ACTION).sum())
    summary = _summary(spec, action.channel, as_of, rows, len(features), int(eligible.sum()), profitable)
    return Audience(summary, rows.reset_index(drop=True), _curve(ranked))


def _scored_table(
    features: pd.DataFrame,
    uplift: np.ndarray,
    p_control: np.ndarray,
    profit: np.ndarray,
    action: ActionConfig,
    spec: AudienceSpec,
) -> pd.DataFrame:
    """Every customer's arm and expected figures for the action, with allocate's ranking key."""
    ids = features["customer_id"].to_numpy(dtype=np.int64)
    arm, probability = assign_arms(spec.campaign_id, ids, spec.holdout_share)
    value = order_value(action, features, len(features))
    p_treated = np.clip(p_control + uplift, 0.0, 1.0)
    # Every row's spend, not only the chosen rows' (as in Decisions), so the curve runs past the cut.
    spend = expected_spend(action, value, p_treated)
    return pd.DataFrame(
        {
            "campaign_id": spec.campaign_id,
            "customer_id": ids,
            "arm": arm,
            "assignment_probability": probability,
            "predicted_uplift": uplift,
            "p_control": p_control,
            "expected_profit": profit,
            "expected_spend": spend,
            "expected_revenue": uplift * value - p_treated * coupon_cost(action, value),
            # allocate's order: profit per unit spent under a budget, profit under a size.
            "_key": profit / np.maximum(spend, 1e-9) if spec.budget is not None else profit,
        }
    )


def _summary(
    spec: AudienceSpec,
    channel: str,
    as_of: pd.Timestamp,
    rows: pd.DataFrame,
    population: int,
    eligible: int,
    profitable: int,
) -> AudienceSummary:
    treated = rows[rows["arm"] == TREATMENT]
    n_treated, n_holdout = len(treated), len(rows) - len(treated)
    baseline = float(rows["p_control"].clip(0, 1).mean())
    cost = float(treated["expected_spend"].sum())
    profit = float(treated["expected_profit"].sum())
    return AudienceSummary(
        campaign_id=spec.campaign_id,
        action=spec.action,
        channel=channel,
        as_of=as_of.isoformat(),
        constraint=f"size {spec.size:,}" if spec.size is not None else f"budget {spec.budget:,.2f}",
        population=population,
        eligible=eligible,
        profitable=profitable,
        size=len(rows),
        treated=n_treated,
        holdout=n_holdout,
        holdout_share=spec.holdout_share,
        expected_incremental_conversions=float(treated["predicted_uplift"].sum()),
        expected_incremental_revenue=float(treated["expected_revenue"].sum()),
        expected_cost=cost,
        expected_profit=profit,
        roi=profit / cost if cost > 0 else None,
        baseline_conversion=baseline,
        expected_lift=float(rows["predicted_uplift"].mean()),
        mde=minimum_detectable_effect(baseline, n_treated, n_holdout),
        alpha=ALPHA,
        power=POWER,
    )


def _curve(ranked: pd.DataFrame) -> pd.DataFrame:
    """Cumulative treated-arm figures over the top n of the eligible ranking, at most ~100 points."""
    treated = (ranked["arm"] == TREATMENT).to_numpy()
    sums = {
        "incremental_conversions": np.cumsum(np.where(treated, ranked["predicted_uplift"], 0.0)),
        "profit": np.cumsum(np.where(treated, ranked["expected_profit"], 0.0)),
        "cost": np.cumsum(np.where(treated, ranked["expected_spend"], 0.0)),
    }
    n = len(ranked)
    sizes = np.unique(np.linspace(0, n, min(n, CURVE_POINTS) + 1).round().astype(np.int64))
    curve = pd.DataFrame({"size": sizes})
    for name, values in sums.items():
        curve[name] = np.r_[0.0, values][sizes]
    return curve


def _why_empty(action: str, eligible: int, reasons: list[str]) -> str:
    counts = pd.Series(reasons).value_counts().head(3)
    top = "; ".join(f"{count:,} x {reason[:120]}" for reason, count in counts.items())
    return (
        f"no customer qualifies for {action}: {eligible:,} eligible, none with a positive expected "
        f"incremental profit within the limit. Most common reasons: {top}"
    )
