"""The baseline of benchmarks/serving_load.py: `bentoml serve benchmarks.empty_service:Empty`.

One POST route taking the request body of /scores and /next-best-action, validated the same way
(serving.schemas.CustomerIdsRequest), answering a constant. Same BentoML and the same service settings as
serving.service:Nudge (sync handler, 30 s timeout, serving.traffic's fix of BentoML's request
timers, and the worker count serving_load.py hands both), so Nudge's throughput as a share of this
one's is the cost of Nudge's own work: online read, models, decision, response.
"""

from __future__ import annotations

import bentoml

from serving.probes import WorkerTag
from serving.schemas import CustomerIdsRequest
from serving.traffic import cancel_request_timers

cancel_request_timers()


@bentoml.service(name="empty", traffic={"timeout": 30})
class Empty:
    @bentoml.api(route="/empty", input_spec=CustomerIdsRequest)
    def empty(self, customer_ids: list[int]) -> dict[str, bool]:
        return {"ok": True}


# serving.launcher waits until every worker's /readyz answer, tagged by it, says ready.
Empty.add_asgi_middleware(WorkerTag)  # type: ignore[attr-defined]
