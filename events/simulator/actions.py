"""The five recurring CRM actions the simulated shop ran: who they target, when, how, with what.

The names are the action vocabulary the rest of Nudge (uplift models, next-best-action) uses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coupon:
    code: str
    percent_off: float = 0.0
    fixed_off: float = 0.0

    def discount(self, gross: float) -> float:
        return min(gross, gross * self.percent_off + self.fixed_off)


@dataclass(frozen=True)
class Action:
    """A campaign template.

    `channels` alternate week by week between instances; the first is the primary channel, the one
    the per-cutoff ground truth assumes. Instances run on days where `runs_on(day, weekday)`.
    """

    name: str
    channels: tuple[str, ...]
    treatment_probability: float
    coupon: Coupon | None
    weekday: int | None  # None: daily trigger; else 0=Monday..6=Sunday
    every_weeks: int = 1

    def runs_on(self, day: int, weekday: int) -> bool:
        if self.weekday is None:
            return True
        return weekday == self.weekday and (day // 7) % self.every_weeks == 0

    def channel_on(self, day: int) -> str:
        return self.channels[(day // 7) % len(self.channels)]


WELCOME_DELAY_DAYS = 3
CART_LOOKBACK_DAYS = 2
WINBACK_RECENCY = (30, 90)
CROSS_SELL_RECENCY = (7, 13)
# The shop's VIP tier: cumulative net spend of at least this much, a fixed bar as loyalty tiers have
# (configs/actions.yaml's vip_early_access eligibility is the same rule, so decisions, campaigns and
# the ground truth agree on who is a VIP).
VIP_MIN_SPEND = 500.0
# A coupon issued by a campaign is redeemed on most orders placed while it is valid.
CAMPAIGN_COUPON_USE = 0.9

ACTIONS: tuple[Action, ...] = (
    Action("cart_free_shipping", ("push",), 0.6, Coupon("FREESHIP", fixed_off=3.0), None),
    Action("welcome_coupon", ("email",), 0.7, Coupon("WELCOME15", percent_off=0.15), None),
    Action("cross_sell_reminder", ("push", "kakao"), 0.6, None, weekday=3),
    Action("winback_coupon", ("sms", "email"), 0.5, Coupon("WINBACK20", percent_off=0.2), 0),
    Action("vip_early_access", ("email",), 0.7, None, weekday=2, every_weeks=2),
)
ACTION_NAMES = tuple(a.name for a in ACTIONS)
