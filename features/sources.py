"""Raw contract tables as DuckDB views, and the event families and running totals built on them.

Tables are read straight from parquet (they were validated when written); a missing optional table
becomes an empty view with the contract's columns, so the same SQL runs on a transaction-log
import that has no sessions as on the simulator's full data.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from events.contract import TABLES, empty_table
from events.store import ContractError
from features.event_index import EventIndex
from features.snapshot import Indices, Population

# name -> (SQL selecting customer_id, ts, amount). Every family the catalog counts is here, plus
# measures used only by derived features.
EVENT_SQL: dict[str, str] = {
    "sessions": "SELECT customer_id, session_start AS ts, 0.0 AS amount FROM sessions",
    "logins": "SELECT customer_id, login_ts AS ts, 0.0 AS amount FROM logins",
    "searches": "SELECT customer_id, search_ts AS ts, 0.0 AS amount FROM searches",
    "views": "SELECT customer_id, view_ts AS ts, price AS amount FROM product_views",
    "cart_adds": "SELECT customer_id, event_ts AS ts, price * quantity AS amount FROM cart_events "
    "WHERE action = 'add'",
    # A cart is known to be abandoned only 24 h after its last add, so that is its timestamp:
    # counting it at add time would leak whether an order followed.
    "abandoned_carts": """
        SELECT a.customer_id, a.last_add + INTERVAL 24 HOUR AS ts, 0.0 AS amount
        FROM (SELECT customer_id, session_id, max(event_ts) AS last_add FROM cart_events
              WHERE action = 'add' GROUP BY ALL) a
        WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = a.customer_id
                          AND o.order_ts >= a.last_add
                          AND o.order_ts < a.last_add + INTERVAL 24 HOUR)""",
    "orders": "SELECT customer_id, order_ts AS ts, net_amount AS amount FROM orders",
    "order_items": "SELECT customer_id, order_ts AS ts, n_items::DOUBLE AS amount FROM orders",
    "gross_spend": "SELECT customer_id, order_ts AS ts, gross_amount AS amount FROM orders",
    "refunds": "SELECT customer_id, refund_ts AS ts, amount FROM refunds",
    "coupon_uses": "SELECT customer_id, redeemed_ts AS ts, discount_amount AS amount FROM coupon_redemptions",
    "messages": "SELECT customer_id, sent_ts AS ts, 0.0 AS amount FROM messages",
    "discounted_views": "SELECT customer_id, view_ts AS ts, price AS amount FROM product_views "
    "WHERE is_discounted",
    "opens": "SELECT customer_id, opened_ts AS ts, 0.0 AS amount FROM messages WHERE opened_ts IS NOT NULL",
    "clicks": "SELECT customer_id, clicked_ts AS ts, 0.0 AS amount FROM messages "
    "WHERE clicked_ts IS NOT NULL",
    "treated": "SELECT customer_id, assigned_ts AS ts, 0.0 AS amount FROM campaign_assignments "
    "WHERE arm = 'treatment'",
    "held_out": "SELECT customer_id, assigned_ts AS ts, 0.0 AS amount FROM campaign_assignments "
    "WHERE arm = 'holdout'",
}


def connect(raw_dir: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every contract table of `raw_dir` as a view of the same name."""
    if not (raw_dir / "customers.parquet").exists():
        raise FileNotFoundError(f"{raw_dir}: no customers.parquet; simulate or import data first")
    con = duckdb.connect()
    # Window arithmetic must not depend on the machine's time zone.
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name, table in TABLES.items():
        path = raw_dir / f"{name}.parquet"
        if path.exists():
            _check_columns(con, path, list(table.schema.columns))
            source = f"read_parquet('{path}')"
        else:
            con.register(f"{name}_empty", empty_table(name))
            source = f"{name}_empty"
        # One timestamp type everywhere: parquet may hold ns or us, pandas frames ns.
        columns = ", ".join(
            f"CAST({col} AS TIMESTAMPTZ) AS {col}" if str(spec.dtype).startswith("datetime") else col
            for col, spec in table.schema.columns.items()
        )
        con.execute(f"CREATE VIEW {name} AS SELECT {columns} FROM {source}")
    return con


def _check_columns(con: duckdb.DuckDBPyConnection, path: Path, expected: list[str]) -> None:
    found = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
    missing = sorted(set(expected) - set(found))
    if missing:
        raise ContractError(f"{path}: missing columns {missing}; was it written by nudge?")


def load_population(con: duckdb.DuckDBPyConnection) -> tuple[Population, pd.Timestamp]:
    """Every customer sorted by id, with times in seconds since a base just before the data."""
    customers = con.execute(
        "SELECT customer_id, signup_ts, consent_email, consent_sms, consent_push, consent_kakao, "
        "region, acquisition_channel, device FROM customers ORDER BY customer_id"
    ).df()
    if customers.empty:
        raise ValueError("no customers: nothing to build features for")
    earliest = con.execute(
        " UNION ALL ".join(f"SELECT min(ts) AS ts FROM ({sql})" for sql in EVENT_SQL.values())
        + " UNION ALL SELECT min(signup_ts) FROM customers"
    ).df()
    base = pd.Timestamp(earliest["ts"].min()).tz_convert("UTC").normalize() - pd.Timedelta(days=1)
    signup = _seconds(customers["signup_ts"], base)
    population = Population(customers["customer_id"].to_numpy(np.int64), signup, customers)
    return population, base


def load_indices(
    con: duckdb.DuckDBPyConnection, population: Population, base: pd.Timestamp, top_categories: int
) -> Indices:
    families = {name: _index(con, sql, population, base) for name, sql in EVENT_SQL.items()}
    top = con.execute(
        f"SELECT category FROM product_views GROUP BY ALL ORDER BY count(*) DESC, category "
        f"LIMIT {int(top_categories)}"
    ).fetchall()
    categories = {
        category: _index(
            con,
            "SELECT customer_id, view_ts AS ts, 0.0 AS amount FROM product_views WHERE category = ?",
            population,
            base,
            [category],
        )
        for (category,) in top
    }
    return Indices(families, categories)


def _index(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    population: Population,
    base: pd.Timestamp,
    params: list[object] | None = None,
) -> EventIndex:
    events = con.execute(f"SELECT customer_id, ts, amount FROM ({sql}) WHERE ts IS NOT NULL", params).df()
    position = np.searchsorted(population.ids, events["customer_id"].to_numpy(np.int64))
    known = (position < len(population.ids)) & (
        population.ids[np.minimum(position, len(population.ids) - 1)] == events["customer_id"].to_numpy()
    )
    # Events of customers missing from the profile table cannot be joined to anyone; drop them.
    events, position = events[known], position[known]
    return EventIndex.build(position, _seconds(events["ts"], base), events["amount"].to_numpy())


def _seconds(times: pd.Series, base: pd.Timestamp) -> np.ndarray:
    stamps = pd.to_datetime(times, utc=True)
    return ((stamps - base) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def last_event_time(indices: Indices, base: pd.Timestamp) -> pd.Timestamp:
    """The newest event in any family (the data's "now"); abandoned carts are stamped later."""
    newest = max(
        (index.latest() for name, index in indices.families.items() if name != "abandoned_carts"),
        default=0,
    )
    return base + pd.Timedelta(seconds=newest)
