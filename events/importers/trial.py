"""Contract tables of a parsed randomized trial: customers, campaigns, assignments, outcomes.

Every customer has at most one message, session and order, so those ids reuse the customer_id.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CONTACT_CHANNEL = "email"


@dataclass(frozen=True)
class Trial:
    """A parsed trial. `people` has one row per customer: customer_id, arm (campaign slug,
    missing for control), outcome (bool), spend (float, 0 when unknown), region,
    acquisition_channel, device."""

    people: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def outcome_ts(self) -> pd.Timestamp:
        # The export says only that an outcome happened within the window; the midpoint is a
        # plain, recognisable placeholder that lies inside [start, end) however it is measured.
        return self.start + (self.end - self.start) / 2


def trial_tables(trial: Trial) -> dict[str, pd.DataFrame]:
    """Contract tables; `orders` is empty when no spend was given (it is a required table)."""
    people = trial.people
    treated = people[people["arm"].notna()]
    control = people[people["arm"].isna()]
    return {
        "customers": _customers(trial),
        "campaigns": _campaigns(trial, treated, control),
        "campaign_assignments": _assignments(trial, treated, control),
        "messages": _messages(trial, treated),
        "sessions": _sessions(trial, people[people["outcome"]]),
        "orders": _orders(trial, people[people["spend"] > 0]),
    }


def _customers(trial: Trial) -> pd.DataFrame:
    people = trial.people
    return pd.DataFrame(
        {
            "customer_id": people["customer_id"],
            # Customers from before the test with unknown sign-up date: first seen at its start.
            "signup_ts": trial.start,
            "region": people["region"],
            "acquisition_channel": people["acquisition_channel"],
            "device": people["device"],
            # Everyone in an e-mail test could be e-mailed; nothing is known of other channels.
            "consent_email": True,
            "consent_sms": False,
            "consent_push": False,
            "consent_kakao": False,
        }
    )


def _campaigns(trial: Trial, treated: pd.DataFrame, control: pd.DataFrame) -> pd.DataFrame:
    arm_sizes = treated.groupby("arm").size()
    return pd.DataFrame(
        {
            "campaign_id": arm_sizes.index,
            "action": arm_sizes.index,
            "channel": CONTACT_CHANNEL,
            "start_ts": trial.start,
            "end_ts": trial.end,
            # Within one campaign (its arm plus the shared control) this is P(treated).
            "treatment_probability": (arm_sizes / (arm_sizes + len(control))).to_numpy(),
        }
    )


def _assignments(trial: Trial, treated: pd.DataFrame, control: pd.DataFrame) -> pd.DataFrame:
    """Treated customers in their arm's campaign; every control customer in every campaign.

    assignment_probability is the observed share of the customer's own arm in the whole trial:
    the probability of the assignment they actually received.
    """
    total = len(trial.people)
    arm_share = treated.groupby("arm")["customer_id"].transform("size") / total
    parts = [
        pd.DataFrame(
            {
                "campaign_id": treated["arm"],
                "customer_id": treated["customer_id"],
                "arm": "treatment",
                "assignment_probability": arm_share,
            }
        )
    ]
    for campaign in sorted(treated["arm"].unique()):
        parts.append(
            pd.DataFrame(
                {
                    "campaign_id": campaign,
                    "customer_id": control["customer_id"],
                    "arm": "holdout",
                    "assignment_probability": len(control) / total,
                }
            )
        )
    assignments = pd.concat(parts, ignore_index=True)
    assignments.insert(2, "assigned_ts", trial.start)
    return assignments


def _messages(trial: Trial, treated: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "message_id": treated["customer_id"],
            "customer_id": treated["customer_id"],
            "campaign_id": treated["arm"],
            "channel": CONTACT_CHANNEL,
            "sent_ts": trial.start,
            # The export records no opens or clicks; missing, not "never".
            "opened_ts": pd.Series(pd.NaT, index=treated.index, dtype="datetime64[ns, UTC]"),
            "clicked_ts": pd.Series(pd.NaT, index=treated.index, dtype="datetime64[ns, UTC]"),
        }
    )


def _sessions(trial: Trial, visitors: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "session_id": visitors["customer_id"],
            "customer_id": visitors["customer_id"],
            "session_start": trial.outcome_ts,
            # Duration unknown: a zero-length session says "a visit" and nothing more.
            "session_end": trial.outcome_ts,
            "device": visitors["device"],
        }
    )


def _orders(trial: Trial, buyers: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": buyers["customer_id"],
            "customer_id": buyers["customer_id"],
            "order_ts": trial.outcome_ts,
            "gross_amount": buyers["spend"],
            "discount_amount": 0.0,
            "net_amount": buyers["spend"],
            # The export has spend, not baskets: one order of at least one item.
            "n_items": 1,
        }
    )
