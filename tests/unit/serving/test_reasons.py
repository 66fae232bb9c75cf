import numpy as np

from serving.scorer import top_reasons


def test_top_reasons_are_the_largest_positive_contributions_without_the_bias() -> None:
    contributions = np.array(
        [
            [0.5, -0.2, 0.9, 0.1, 3.0],  # last column is LightGBM's bias term
            [-0.1, -0.3, -0.2, -0.4, 1.0],
        ]
    )
    reasons = top_reasons(contributions, ["recency", "orders", "visits", "coupons"], k=2)
    assert [(r.feature, r.contribution) for r in reasons[0]] == [("visits", 0.9), ("recency", 0.5)]
    assert reasons[1] == []  # nothing pushes the score up: no reason is invented
