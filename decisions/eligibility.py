"""Who may receive an action: consent for its channel, its feature rules, frequency cap, cooldown.

Every check reads online features only, so serving, audiences and offline evaluation apply the
same rules to the same vectors. A missing feature value fails a rule: unknown is not eligible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import pandas as pd

from configs.schema import ActionConfig
from features.rows import Rows, float_columns

# Online feature vectors: a DataFrame, or numeric_columns of one
Columns: TypeAlias = pd.DataFrame | Mapping[str, np.ndarray]


def required_features(action: ActionConfig) -> list[str]:
    names = [f"consent_{action.channel}", *(rule.feature for rule in action.eligibility)]
    if action.frequency_cap is not None:
        names.append(f"messages_{action.frequency_cap.days}d")
    if action.cooldown_days:
        names.append("days_since_last_messages")
    if action.value.kind == "feature":
        names.append(action.value.feature)
    return list(dict.fromkeys(names))


def check_features(action_name: str, action: ActionConfig, columns: pd.Index) -> None:
    missing = [name for name in required_features(action) if name not in columns]
    if missing:
        raise ValueError(f"action {action_name!r} needs features the online vectors lack: {missing}")


def numeric_columns(features: Rows, names: list[str]) -> dict[str, np.ndarray]:
    """The named columns as float arrays from one conversion (None -> NaN), for rules that read
    many of them: per-column conversion is most of a one-row decision's time."""
    names = list(dict.fromkeys(names))
    values = float_columns(features, names)
    return {name: values[:, j] for j, name in enumerate(names)}


def eligibility(action: ActionConfig, features: Columns) -> tuple[np.ndarray, np.ndarray]:
    """(eligible mask, the first failed check per row or "" when eligible)."""
    checks = [(number(features, f"consent_{action.channel}") != 1, f"no {action.channel} consent")]
    for rule in action.eligibility:
        value = number(features, rule.feature)
        low = -np.inf if rule.min is None else rule.min
        high = np.inf if rule.max is None else rule.max
        checks.append(
            (~((value >= low) & (value <= high)), f"{rule.feature} not {_allowed(rule.min, rule.max)}")
        )
    cap = action.frequency_cap
    if cap is not None:
        sent = _filled(number(features, f"messages_{cap.days}d"), 0.0)
        checks.append(
            (sent >= cap.max_messages, f"frequency cap: {cap.max_messages} messages in {cap.days} days")
        )
    if action.cooldown_days:
        # No message ever (NaN) means no cooldown to wait for.
        since = _filled(number(features, "days_since_last_messages"), np.inf)
        checks.append(
            (since < action.cooldown_days, f"cooldown: last message under {action.cooldown_days} days ago")
        )
    failing = np.vstack([mask for mask, _ in checks])  # checks x rows
    eligible = np.asarray(~failing.any(axis=0))
    # The reason of the first failing check; the extra last label "" for the eligible.
    reasons = np.array([why for _, why in checks] + [""], dtype=object)
    return eligible, reasons[np.where(eligible, len(checks), failing.argmax(axis=0))]


def number(features: Columns, name: str) -> np.ndarray:
    """One feature as floats; a missing value (None) is NaN."""
    return np.asarray(features[name], dtype=np.float64)


def _filled(values: np.ndarray, fill: float) -> np.ndarray:
    # np.nan_to_num also rewrites infinities and costs ~10x as much on the one row serving decides.
    return np.where(np.isnan(values), fill, values)


def _allowed(low: float | None, high: float | None) -> str:
    """The rule's range as a reason reads it: '<= 0', '>= 500', 'in [7, 13]' (a missing value fails too)."""
    if low is None and high is None:
        return "present"
    if low is None:
        return f"<= {high:g}"
    if high is None:
        return f">= {low:g}"
    return f"in [{low:g}, {high:g}]"
