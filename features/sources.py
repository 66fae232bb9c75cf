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

# Every time is held as seconds since BASE. A fixed, early base needs no pass over the data to
# find the earliest event, and EventIndex's 2**34 seconds reach past the year 2400.
BASE = pd.Timestamp("1900-01-01", tz="UTC")

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


def connect(raw_dir: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every contract table of `raw_dir` as a view of the same name."""
    if not (raw_dir / "customers.parquet").exists():
        raise FileNotFoundError(f"{raw_dir}: no customers.parquet; simulate or import data first")
    con = duckdb.connect()
    # Window arithmetic must not depend on the machine's time zone.
    con.execute("SET TimeZone = 'UTC'")
    for name, table in TABLES.items():
        path = raw_dir / f"{name}.parquet"
        if path.exists():
            _check_columns(con, path, {col: str(spec.dtype) for col, spec in table.schema.columns.items()})
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


def _check_columns(con: duckdb.DuckDBPyConnection, path: Path, expected: dict[str, str]) -> None:
    """Every contract column present with a type of its kind, named with its file if not: raw
    folders are written by nudge, but a hand-edited or foreign file must not fail deep in a query."""
    try:
        found = {
            row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        }
    except duckdb.Error as err:
        raise ContractError(f"{path}: cannot be read as parquet ({str(err).splitlines()[0]})") from None
    missing = sorted(set(expected) - set(found))
    if missing:
        raise ContractError(f"{path}: missing columns {missing}; was it written by nudge?")
    wrong = [
        f"{col} is {found[col]}, expected {dtype}"
        for col, dtype in expected.items()
        if not found[col].upper().startswith(_DUCKDB_KINDS[dtype.split("[")[0]])
    ]
    if wrong:
        raise ContractError(f"{path}: wrong column types: {'; '.join(wrong)}")


# Contract dtype (without its parameters) -> the DuckDB type names of that kind, by prefix.
_DUCKDB_KINDS: dict[str, tuple[str, ...]] = {
    "int64": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"),
    "float64": ("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT"),
    "bool": ("BOOLEAN",),
    "string": ("VARCHAR",),
    "datetime64": ("TIMESTAMP",),
}


def load_population(con: duckdb.DuckDBPyConnection) -> Population:
    """Every customer sorted by id, with sign-up times in seconds since BASE."""
    customers = con.execute(
        "SELECT customer_id, signup_ts, consent_email, consent_sms, consent_push, consent_kakao, "
        "region, acquisition_channel, device FROM customers ORDER BY customer_id"
    ).df()
    if customers.empty:
        raise ValueError("no customers: nothing to build features for")
    signup = _seconds(customers["signup_ts"])
    return Population(customers["customer_id"].to_numpy(np.int64), signup, customers)


def load_indices(con: duckdb.DuckDBPyConnection, population: Population, top_categories: int) -> Indices:
    families = {name: _index(con.execute(_events(sql)).df(), population) for name, sql in EVENT_SQL.items()}
    # One scan of the views for all top categories, split in memory, rather than one scan each.
    views = con.execute(
        _events("SELECT customer_id, view_ts AS ts, 0.0 AS amount, category FROM product_views")
        + " AND category IN (SELECT category FROM product_views GROUP BY ALL "
        f"ORDER BY count(*) DESC, category LIMIT {int(top_categories)})"
    ).df()
    categories = {str(c): _index(rows, population) for c, rows in views.groupby("category", sort=True)}
    return Indices(families, categories)


def load_assignments(con: duckdb.DuckDBPyConnection, population: Population) -> tuple[np.ndarray, np.ndarray]:
    """(dense customer index, seconds since BASE) of every distinct logged campaign assignment of a
    known customer, by customer then time."""
    rows = con.execute(
        "SELECT DISTINCT customer_id, assigned_ts FROM campaign_assignments ORDER BY customer_id, assigned_ts"
    ).df()
    position, known = _positions(rows["customer_id"], population)
    return position[known], _seconds(rows["assigned_ts"])[known]


def _events(sql: str) -> str:
    return f"SELECT * FROM ({sql}) WHERE ts IS NOT NULL"


def _index(events: pd.DataFrame, population: Population) -> EventIndex:
    position, known = _positions(events["customer_id"], population)
    # Events of customers missing from the profile table cannot be joined to anyone; drop them.
    events, position = events[known], position[known]
    return EventIndex.build(position, _seconds(events["ts"]), events["amount"].to_numpy())


def _positions(customer_ids: pd.Series, population: Population) -> tuple[np.ndarray, np.ndarray]:
    """(dense index, whether the customer is in the population) per id."""
    ids = customer_ids.to_numpy(np.int64)
    position = np.searchsorted(population.ids, ids)
    known = (position < len(population.ids)) & (
        population.ids[np.minimum(position, len(population.ids) - 1)] == ids
    )
    return position, known


def _seconds(times: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(times, utc=True)
    return ((stamps - BASE) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def last_event_time(indices: Indices) -> pd.Timestamp:
    """The newest event in any family (the data's "now"); abandoned carts are stamped later."""
    newest = max(
        (index.latest() for name, index in indices.families.items() if name != "abandoned_carts"),
        default=0,
    )
    return BASE + pd.Timedelta(seconds=newest)
