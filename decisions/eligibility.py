"""Who may receive an action: consent for its channel, its feature rules, frequency cap, cooldown.

Every check reads online features only, so serving, audiences and offline evaluation apply the
same rules to the same vectors. A missing feature value fails a rule (unknown is not eligible)
unless the rule says it passes: a never-placed order has no recency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from configs.schema import ActionConfig
from features.rows import Rows, float_columns


def required_features(action: ActionConfig) -> list[str]:
    names = [name for check in _checks(action) for name in check.reads]
    if action.value.kind == "feature":
        names.append(action.value.feature)
    return list(dict.fromkeys(names))


def check_features(action_name: str, action: ActionConfig, columns: pd.Index) -> None:
    missing = [name for name in required_features(action) if name not in columns]
    if missing:
        raise ValueError(f"action {action_name!r} needs features the online vectors lack: {missing}")


@dataclass(frozen=True)
class Rules:
    """Every check of some actions as arrays, so one pass over a float matrix of their features
    tests all of them: checked one by one, a one-row decision paid numpy's per-call overhead some
    sixty times over.

    Check k passes on a row when low[k] <= value <= high[k], with low[k] read from column floor[k]
    where that is >= 0 (a missing floor fails); where the value is missing, it passes if
    missing_passes[k]. The checks of one action are contiguous, in the order their reasons are
    reported.
    """

    features: list[str]  # the features the checks read: the first columns of the matrix `passes` reads
    column: np.ndarray  # per check, its feature's column
    floor: np.ndarray  # per check, the column of the feature that is its lower bound, or -1
    low: np.ndarray
    high: np.ndarray
    missing_passes: np.ndarray
    starts: np.ndarray  # per action, its first check
    labels: np.ndarray  # per check, why a row fails it

    @classmethod
    def of(cls, actions: list[ActionConfig]) -> Rules:
        checks = [_checks(action) for action in actions]
        flat = [check for action_checks in checks for check in action_checks]
        features = list(dict.fromkeys(name for c in flat for name in c.reads))
        starts = [sum(len(earlier) for earlier in checks[:k]) for k in range(len(checks))]
        return cls(
            features,
            np.array([features.index(c.feature) for c in flat], dtype=np.intp),
            np.array([-1 if c.floor is None else features.index(c.floor) for c in flat], dtype=np.intp),
            np.array([c.low for c in flat], dtype=np.float64),
            np.array([c.high for c in flat], dtype=np.float64),
            np.array([c.missing_passes for c in flat], dtype=bool),
            np.array(starts, dtype=np.intp),
            np.array([c.why for c in flat], dtype=object),
        )

    def passes(self, values: np.ndarray) -> np.ndarray:
        """Rows x checks, from `values`: rows x `features`."""
        read = values[:, self.column]
        low = np.where(self.floor >= 0, values[:, self.floor], self.low)
        # NaN compares False: a missing value or floor fails the range.
        return ((read >= low) & (read <= self.high)) | (np.isnan(read) & self.missing_passes)

    def eligible(self, passes: np.ndarray) -> np.ndarray:
        """Rows x actions: does the row pass every check of the action."""
        if not len(self.starts):
            return np.ones((len(passes), 0), dtype=bool)
        return np.logical_and.reduceat(passes, self.starts, axis=1)

    def failures(self, passes: np.ndarray, action: int) -> np.ndarray:
        """Per row, the first check of `action` it fails, or "" where it passes them all."""
        end = self.starts[action + 1] if action + 1 < len(self.starts) else len(self.labels)
        failing = ~passes[:, self.starts[action] : end]
        labels = np.append(self.labels[self.starts[action] : end], "")
        return labels[np.where(failing.any(axis=1), failing.argmax(axis=1), failing.shape[1])]


class _Check(NamedTuple):
    feature: str
    low: float
    high: float
    missing_passes: bool
    why: str  # the reason a row fails it
    floor: str | None = None  # the feature whose value replaces `low`

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.feature,) if self.floor is None else (self.feature, self.floor)


def _checks(action: ActionConfig) -> list[_Check]:
    checks = [_Check(f"consent_{action.channel}", 1.0, 1.0, False, f"no {action.channel} consent")]
    for rule in action.eligibility:
        low = -np.inf if rule.min is None else rule.min
        high = np.inf if rule.max is None else rule.max
        bound = rule.min if rule.min_feature is None else rule.min_feature
        why = f"{rule.feature} not {_allowed(bound, rule.max)}"
        checks.append(_Check(rule.feature, low, high, rule.missing == "passes", why, rule.min_feature))
    cap = action.frequency_cap
    if cap is not None:
        # Fewer than max_messages (none counted when missing): the largest float below it passes.
        below = float(np.nextafter(cap.max_messages, -np.inf))
        why = f"frequency cap: {cap.max_messages} messages in {cap.days} days"
        checks.append(_Check(f"messages_{cap.days}d", -np.inf, below, cap.max_messages > 0, why))
    if action.cooldown_days:
        # No message ever (missing) means no cooldown to wait for.
        why = f"cooldown: last message under {action.cooldown_days} days ago"
        checks.append(_Check("days_since_last_messages", action.cooldown_days, np.inf, True, why))
    return checks


def eligibility(action: ActionConfig, features: Rows) -> tuple[np.ndarray, np.ndarray]:
    """(eligible mask, the first failed check per row or "" when eligible)."""
    rules = Rules.of([action])
    passes = rules.passes(float_columns(features, rules.features))
    return rules.eligible(passes)[:, 0], rules.failures(passes, 0)


def _allowed(low: float | str | None, high: float | None) -> str:
    """The rule's range as a reason reads it: '<= 0', '>= 500', 'in [7, 13]', '>= <feature>'."""
    if low is None and high is None:
        return "present"
    if low is None:
        return f"<= {high:g}"
    shown = low if isinstance(low, str) else f"{low:g}"
    if high is None:
        return f">= {shown}"
    return f"in [{shown}, {high:g}]"
