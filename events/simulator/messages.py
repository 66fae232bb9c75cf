"""CRM messages of treated customers: sent at campaign start, opened and clicked by engagement.

Holdout customers get no message. Opens and clicks are the observable trace of the latent
engagement trait.
"""

from __future__ import annotations

import numpy as np

from events.simulator.catalog import DAY_NS, MINUTE_NS
from events.simulator.engine import World

NEVER = np.iinfo(np.int64).min  # becomes NaT
OPEN_RATE = {"email": 0.9, "sms": 1.2, "push": 0.7, "kakao": 1.3}
OPEN_DELAY_MINUTES = {"email": 240.0, "sms": 30.0, "push": 20.0, "kakao": 45.0}


def messages(rng: np.random.Generator, world: World) -> dict[str, np.ndarray]:
    """campaign, customer, channel and sent/opened/clicked times (ns offsets, NEVER)."""
    rows = world.campaigns.assignments()
    treated = np.flatnonzero(rows["treated"])
    campaign, customer = rows["campaign"][treated], rows["customer"][treated]
    channel = np.array(world.campaigns.channels, dtype=object)[campaign]
    day = np.array(world.campaigns.days, dtype=np.int64)[campaign]
    # Sent in one batch at the campaign start (00:00 UTC is 09:00 in Seoul), so no order of the
    # window can precede its message.
    sent = day * DAY_NS
    engagement = world.traits.engagement[customer]
    open_rate = np.array([OPEN_RATE[c] for c in channel]) if treated.size else np.zeros(0)
    opened = rng.random(treated.size) < np.minimum(open_rate * (0.05 + 1.2 * engagement), 0.95)
    delay = np.array([OPEN_DELAY_MINUTES[c] for c in channel]) if treated.size else np.zeros(0)
    opened_ts = sent + (rng.exponential(1.0, treated.size) * delay * MINUTE_NS).astype(np.int64)
    clicked = opened & (rng.random(treated.size) < 0.08 + 0.5 * engagement)
    clicked_ts = opened_ts + (rng.exponential(3.0, treated.size) * MINUTE_NS).astype(np.int64)
    # The export is taken at the end of the last day: later opens have not happened yet.
    export = world.timeline.days * DAY_NS
    opened &= opened_ts < export
    clicked &= opened & (clicked_ts < export)
    return {
        "campaign": campaign,
        "customer": customer,
        "channel": channel,
        "sent": sent,
        "opened": np.where(opened, opened_ts, NEVER),
        "clicked": np.where(clicked, clicked_ts, NEVER),
    }
