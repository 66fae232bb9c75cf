"""Who may receive an action: consent for its channel, its feature rules, frequency cap, cooldown.

Every check reads online features only, so serving, audiences and offline evaluation apply the
same rules to the same vectors. A missing feature value fails a rule: unknown is not eligible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from configs.schema import ActionConfig
from features.rows import Rows, float_columns


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


@dataclass(frozen=True)
class Rules:
    """Every check of some actions as arrays, so one pass over a float matrix of their features
    tests all of them: checked one by one, a one-row decision paid numpy's per-call overhead some
    sixty times over.

    Check k passes on a row when low[k] <= value <= high[k], its feature's value read as fill[k]
    where missing (fill NaN: a missing value fails). The checks of one action are contiguous, in
    the order their reasons are reported.
    """

    features: list[str]  # the features the checks read: the first columns of the matrix `passes` reads
    column: np.ndarray  # per check, its feature's column
    low: np.ndarray
    high: np.ndarray
    fill: np.ndarray
    starts: np.ndarray  # per action, its first check
    labels: np.ndarray  # per check, why a row fails it

    @classmethod
    def of(cls, actions: list[ActionConfig]) -> Rules:
        checks = [_checks(action) for action in actions]
        flat = [check for action_checks in checks for check in action_checks]
        features = list(dict.fromkeys(name for name, *_ in flat))
        starts = [sum(len(earlier) for earlier in checks[:k]) for k in range(len(checks))]
        return cls(
            features,
            np.array([features.index(name) for name, *_ in flat], dtype=np.intp),
            np.array([low for _, low, _, _, _ in flat], dtype=np.float64),
            np.array([high for _, _, high, _, _ in flat], dtype=np.float64),
            np.array([fill for _, _, _, fill, _ in flat], dtype=np.float64),
            np.array(starts, dtype=np.intp),
            np.array([label for *_, label in flat], dtype=object),
        )

    def passes(self, values: np.ndarray) -> np.ndarray:
        """Rows x checks, from `values`: rows x `features`."""
        read = values[:, self.column]
        read = np.where(np.isnan(read), self.fill, read)
        return (read >= self.low) & (read <= self.high)

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


def _checks(action: ActionConfig) -> list[tuple[str, float, float, float, str]]:
    """(feature, low, high, fill for a missing value, reason it fails) per check of `action`."""
    checks = [(f"consent_{action.channel}", 1.0, 1.0, np.nan, f"no {action.channel} consent")]
    for rule in action.eligibility:
        low = -np.inf if rule.min is None else rule.min
        high = np.inf if rule.max is None else rule.max
        checks.append((rule.feature, low, high, np.nan, f"{rule.feature} not {_allowed(rule.min, rule.max)}"))
    cap = action.frequency_cap
    if cap is not None:
        # Fewer than max_messages (none counted when missing): the largest float below it passes.
        below = float(np.nextafter(cap.max_messages, -np.inf))
        why = f"frequency cap: {cap.max_messages} messages in {cap.days} days"
        checks.append((f"messages_{cap.days}d", -np.inf, below, 0.0, why))
    if action.cooldown_days:
        # No message ever (missing) means no cooldown to wait for.
        why = f"cooldown: last message under {action.cooldown_days} days ago"
        checks.append(("days_since_last_messages", action.cooldown_days, np.inf, np.inf, why))
    return checks


def eligibility(action: ActionConfig, features: Rows) -> tuple[np.ndarray, np.ndarray]:
    """(eligible mask, the first failed check per row or "" when eligible)."""
    rules = Rules.of([action])
    passes = rules.passes(float_columns(features, rules.features))
    return rules.eligible(passes)[:, 0], rules.failures(passes, 0)


def _allowed(low: float | None, high: float | None) -> str:
    """The rule's range as a reason reads it: '<= 0', '>= 500', 'in [7, 13]' (a missing value fails too)."""
    if low is None and high is None:
        return "present"
    if low is None:
        return f"<= {high:g}"
    if high is None:
        return f">= {low:g}"
    return f"in [{low:g}, {high:g}]"
