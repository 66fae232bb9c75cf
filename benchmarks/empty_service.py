"""The baseline of benchmarks/serving_load.py: `bentoml serve benchmarks.empty_service:Empty`.

One POST route taking the request body of /scores and /next-best-action, validated the same way
(a list of ints), answering a constant. Same BentoML and the same service settings as
serving.service:Nudge (sync handler, 30 s timeout, serving.traffic's fix of BentoML's request
timers, and the worker count serving_load.py hands both), so Nudge's throughput as a share of this
one's is the cost of Nudge's own work: online read, models, decision, response.
"""

from __future__ import annotations

from typing import Annotated

import bentoml
from pydantic import Field

from serving.traffic import cancel_request_timers

CustomerIds = Annotated[list[int], Field(min_length=1, max_length=10_000)]


cancel_request_timers()


@bentoml.service(name="empty", traffic={"timeout": 30})
class Empty:
    @bentoml.api(route="/empty")
    def empty(self, customer_ids: CustomerIds) -> dict[str, bool]:
        return {"ok": True}
