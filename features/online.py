"""Online reads of a FeatureService with the freshness Feast does not enforce at read time.

Feast applies a view's TTL in point-in-time joins and materialization, but its online read returns
whatever was last written. Serving must not score a months-old vector as if it were today's, so
each row carries the time of its newest feature value and whether that is within the TTL.

The values are those `FeatureStore.get_online_features(...).to_dict()` returns (a test holds the two
side by side), read in bulk from Feast's online store (features.online_rows) rather than value by value
through Feast's response protos, which cost several times the store lookup itself. On-demand views run
their own Feast transformation on the stored values, with the reader's clock as the request time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureService, FeatureStore, FeatureView, Field
from feast.on_demand_feature_view import OnDemandFeatureView
from feast.types import Float32, Float64

from features.definitions import CUSTOMER_KEY, REQUEST_TIME
from features.online_rows import StoredCells, ViewFields, cell_reader, decode
from features.rows import FeatureRows

_FLOATS = (Float32, Float64)


@dataclass(frozen=True)
class OnlineVectors:
    # One row per requested id, in request order.
    ids: np.ndarray
    rows: FeatureRows
    as_of_epoch_s: np.ndarray  # newest feature timestamp per row; 0 = nothing stored
    fresh: np.ndarray  # stored and younger than the shortest TTL in the service

    @cached_property
    def features(self) -> pd.DataFrame:
        """Columns: the id, float features, the others; built on first use."""
        return self.rows.frame({CUSTOMER_KEY: self.ids})


@dataclass(frozen=True)
class _OnDemand:
    view: OnDemandFeatureView
    outputs: list[Field]  # the service's features of this view
    inputs: list[tuple[str, str, int]]  # (source view, feature, its column among the stored features read)


@dataclass(frozen=True)
class _Layout:
    """The stored features a service reads and the column of each: first the numeric ones it returns,
    so they are one slice of the decoded grid, then its other ones, then on-demand inputs only."""

    views: list[ViewFields]  # stored views read: the service's, then on-demand sources not in it
    fields: list[Field]  # every stored feature read, by column
    numbers: int  # columns [0, numbers) are the service's numeric features
    objects: list[int]  # columns of its other features
    served: list[int]  # positions in `views` of the service's own stored views
    on_demand: list[_OnDemand]


def _layout(service: FeatureService, stored: dict[str, FeatureView], on_demand: dict[str, Any]) -> _Layout:
    reads: dict[str, list[Field]] = {}
    served: list[str] = []
    demanded: list[tuple[OnDemandFeatureView, list[Field]]] = []
    for projection in service.feature_view_projections:
        if projection.name in stored:
            _add_fields(reads, projection.name, projection.features)
            served.append(projection.name)
        elif projection.name in on_demand:
            view = _supported(on_demand[projection.name])
            for source in view.source_feature_view_projections.values():
                _add_fields(reads, source.name, source.features)
            demanded.append((view, projection.features))
        else:
            raise ValueError(f"{service.name}: no feature view named {projection.name}")
    returned = [(name, f) for name in served for f in reads[name]]
    order = [
        *((name, f) for name, f in returned if f.dtype in _FLOATS),
        *((name, f) for name, f in returned if f.dtype not in _FLOATS),
        *((name, f) for name, fields in reads.items() if name not in served for f in fields),
    ]
    column = {(name, f.name): c for c, (name, f) in enumerate(order)}
    views = [
        ViewFields(stored[name], tuple(f.name for f in fields), tuple(column[(name, f.name)] for f in fields))
        for name, fields in reads.items()
    ]
    specs = []
    for view, outputs in demanded:
        sources = view.source_feature_view_projections.values()
        inputs = [(s.name, f.name, column[(s.name, f.name)]) for s in sources for f in s.features]
        specs.append(_OnDemand(view, outputs, inputs))
    numbers = sum(f.dtype in _FLOATS for _, f in returned)
    return _Layout(
        views=views,
        fields=[f for _, f in order],
        numbers=numbers,
        objects=list(range(numbers, len(returned))),
        served=[i for i, name in enumerate(reads) if name in served],
        on_demand=specs,
    )


class OnlineReader:
    def __init__(
        self,
        store: FeatureStore,
        feature_service: str,
        clock: Callable[[], float],
        cache_mib: int | None = None,
    ) -> None:
        """`cache_mib`: pages of a SQLite online store to keep in memory (None: SQLite's default)."""
        self.store = store
        self.service = store.get_feature_service(feature_service)
        self.clock = clock
        stored = {v.name: v for v in store.list_feature_views()}
        on_demand = {v.name: v for v in store.list_on_demand_feature_views()}
        self._layout = layout = _layout(self.service, stored, on_demand)
        # On-demand views have no TTL of their own; only stored views can be stale.
        ttls = [layout.views[v].view.ttl for v in layout.served]
        self.ttl_s = min((t.total_seconds() for t in ttls if t), default=float("inf"))
        self._numeric = [f.dtype in _FLOATS for f in layout.fields]
        names = [f.name for f in layout.fields]
        outputs = [f for spec in layout.on_demand for f in spec.outputs]
        # Column indexes built once: building them is most of what a small DataFrame costs.
        self._number_columns = pd.Index(
            names[: layout.numbers] + [f.name for f in outputs if f.dtype in _FLOATS]
        )
        self._object_columns = pd.Index(
            [names[j] for j in layout.objects] + [f.name for f in outputs if f.dtype not in _FLOATS]
        )
        self._lookups: dict[tuple[str, ...], np.ndarray] = {}  # column positions, shared by every read
        # A Redis hash holds every online view of the customer, read or not.
        hash_fields = sum(len(v.features) + 1 for v in stored.values() if CUSTOMER_KEY in v.join_keys)
        self._cells = cell_reader(store, CUSTOMER_KEY, layout.views, hash_fields, cache_mib)

    def read(self, customer_ids: Sequence[int]) -> OnlineVectors:
        ids = np.asarray(customer_ids, dtype=np.int64).reshape(-1)
        now = self.clock()
        stored = (
            self._cells.fetch(ids.tolist())
            if len(ids)
            else StoredCells(np.zeros(0, np.int64), [], np.zeros((0, len(self._layout.views))))
        )
        grid, objects = decode(stored, len(ids), self._numeric)
        numbers = [grid[:, : self._layout.numbers]]
        others = [objects[j] for j in self._layout.objects]
        for spec in self._layout.on_demand:
            for field, values in zip(
                spec.outputs, self._transform(spec, ids, grid, objects, now), strict=True
            ):
                if field.dtype in _FLOATS:
                    numbers.append(values.reshape(-1, 1))
                else:
                    others.append(values.tolist())
        rows = self._rows(len(ids), numbers[0] if len(numbers) == 1 else np.hstack(numbers), others)
        seconds = stored.seconds[:, self._layout.served]
        as_of = seconds.max(axis=1) if seconds.shape[1] else np.zeros(len(ids))
        return OnlineVectors(ids, rows, as_of, self.fresh(as_of, now))

    def fresh(self, as_of: np.ndarray, now: float) -> np.ndarray:
        """Stored (newest feature time > 0) and no older than the service's shortest TTL at `now`."""
        return (as_of > 0) & (now - as_of <= self.ttl_s)

    def _transform(
        self, spec: _OnDemand, ids: np.ndarray, grid: np.ndarray, objects: dict[int, list[Any]], now: float
    ) -> list[np.ndarray]:
        """The view's own Feast transformation, on the inputs Feast would hand it (short and long names)."""
        inputs: dict[str, Any] = {CUSTOMER_KEY: ids}
        for view, name, j in spec.inputs:
            values = grid[:, j] if self._numeric[j] else objects[j]
            inputs[name] = inputs[f"{view}__{name}"] = values
        for name in spec.view.get_request_data_schema():
            inputs[name] = np.full(len(ids), now)
        transformation = spec.view.feature_transformation
        if spec.view.mode == "pandas" and transformation is not None:
            result: Any = transformation.transform(pd.DataFrame(inputs))
        else:
            result = spec.view.transform_dict({k: _python_values(v) for k, v in inputs.items()})
        typed = []
        for field in spec.outputs:
            if field.dtype in _FLOATS:  # None -> NaN; no Series for what is usually one row
                typed.append(np.asarray(result[field.name], dtype=np.float64).reshape(-1))
            else:
                values = pd.Series(result[field.name])
                typed.append(values.astype(object).where(values.notna(), None).to_numpy())
        return typed

    def _rows(self, n: int, numbers: np.ndarray, others: list[list[Any]]) -> FeatureRows:
        block = np.empty((n, len(others)), dtype=object)
        for j, values in enumerate(others):
            block[:, j] = values
        return FeatureRows(numbers, self._number_columns, block, self._object_columns, self._lookups)


def _add_fields(reads: dict[str, list[Field]], view: str, fields: list[Field]) -> None:
    known = {f.name for f in reads.setdefault(view, [])}
    reads[view].extend(f for f in fields if f.name not in known)


def _supported(view: OnDemandFeatureView) -> OnDemandFeatureView:
    """Transformations computed at read time from stored views and the request time, as ours are."""
    if view.mode not in ("pandas", "python") or view.write_to_online_store or view.aggregations:
        raise ValueError(
            f"{view.name}: OnlineReader runs pandas or python on-demand views computed at read time, "
            f"not mode={view.mode!r}, write_to_online_store={view.write_to_online_store}, "
            f"aggregations={bool(view.aggregations)}"
        )
    unknown = set(view.get_request_data_schema()) - {REQUEST_TIME}
    if unknown:
        raise ValueError(f"{view.name}: request data {sorted(unknown)}; OnlineReader supplies {REQUEST_TIME}")
    return view


def _python_values(values: Any) -> list[Any]:
    """As Feast's to_dict hands a python-mode view: floats, strings, None for null."""
    listed = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return [None if isinstance(v, float) and v != v else v for v in listed]
