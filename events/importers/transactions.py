"""Import any transaction log (one row per order line) into the event contract.

The log yields customers, orders, order items, payments and refunds. What it cannot say is left
as 'unknown' or False, never guessed: acquisition channel, device and, above all, consent. Consent
flags are all False, so nobody imported this way is contactable until the CRM's real consent per
channel is loaded; a transaction log is no evidence of permission to message anyone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd

from events.importers import fields
from events.importers.identifiers import stable_ids
from events.importers.ledger import LINK_NOTE, build_tables
from events.importers.report import ImportReport
from events.importers.sidecar import write_with_covariates
from events.importers.source import read_source
from events.store import ContractError

log = logging.getLogger(__name__)

# Online Retail marks cancellations as "C" + the invoice number; a digit must follow so that
# ordinary ids which merely start with C ("CUST-1") are not taken for cancellations.
_CANCELLATION = r"C\d"


@dataclass(frozen=True)
class TransactionColumns:
    """Source column names. Give `amount` (line total) or `price` (unit price), or both."""

    customer: str
    time: str
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    order: str | None = None
    product: str | None = None
    category: str | None = None
    region: str | None = None

    def text(self) -> tuple[str, ...]:
        """Columns holding ids or labels, read verbatim rather than as guessed numbers."""
        named = (self.customer, self.order, self.product, self.category, self.region)
        return tuple(c for c in named if c is not None)


def import_transactions(path: Path, dest: Path, columns: TransactionColumns) -> ImportReport:
    """Replace the dataset at `dest` with the contract tables of the log at `path`.

    Everything is parsed and validated before anything is written; on any error `dest` is left
    as it was.
    """
    started = time.perf_counter()
    if columns.amount is None and columns.price is None:
        raise ValueError("give the line amount column, the unit price column, or both")
    raw = read_source(path, astuple(columns), text=columns.text())
    lines, dropped = clean_lines(raw, path, columns)
    tables, unlinked = build_tables(lines, path, with_items=columns.product is not None)
    dropped["return_without_earlier_order"] = unlinked
    counts = write_with_covariates(tables, dest, None)
    log.info("imported %s: %s", path, counts)
    return ImportReport(
        source=path,
        dest=dest,
        rows_read=len(raw),
        dropped=dropped,
        tables=counts,
        seconds=time.perf_counter() - started,
        notes=(
            "consent flags are False for everyone: load real consent per channel from the CRM",
            LINK_NOTE,
        ),
    )


def clean_lines(
    raw: pd.DataFrame, path: Path, columns: TransactionColumns
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Typed, kept lines (one per source line) and the number of lines dropped per reason.

    Kept lines have: customer_id, ts, key (order id text, or customer@time without an order
    column), key_id, is_return, quantity (>= 1), unit_price (> 0), line_amount (> 0, refunds
    too), product, category and region (text, region may be missing).
    """
    parsed = _parse(raw, path, columns)
    drop_masks = {
        "missing_customer": parsed["customer"].isna(),
        "missing_order_id": parsed["key"].isna(),
        "duplicate_line": raw.duplicated(),
        "non_positive_price": parsed["unit_price"] <= 0,
        "zero_quantity": parsed["quantity"] == 0,
    }
    dropped: dict[str, int] = {}
    gone = pd.Series(False, index=raw.index)
    for reason, mask in drop_masks.items():
        # Each line counts once, under the first reason that applies.
        hit = mask.fillna(False).astype(bool) & ~gone
        dropped[reason] = int(hit.sum())
        gone |= hit
    lines = parsed[~gone].copy()
    lines["customer_id"] = stable_ids(lines.pop("customer"), f"{path}: {columns.customer}")
    if columns.order is None:
        # Without an order id, all lines one customer bought at one moment are one order.
        lines["key"] = lines["customer_id"].astype("string") + "@" + lines["ts"].astype("string")
    lines["key_id"] = stable_ids(lines["key"], f"{path}: {columns.order or 'order key'}")
    lines["quantity"] = lines["quantity"].abs()
    log.info("kept %d of %d lines; dropped %s", len(lines), len(raw), dropped)
    if lines.empty:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in dropped.items() if count)
        raise ContractError(f"{path}: none of its {len(raw)} lines can be imported ({reasons or 'no lines'})")
    return lines, dropped


def _parse(raw: pd.DataFrame, path: Path, columns: TransactionColumns) -> pd.DataFrame:
    """Every source line typed; raises on values that no rule can interpret."""
    index = raw.index
    quantity = (
        fields.whole_numbers(raw[columns.quantity], path, columns.quantity)
        if columns.quantity
        else pd.Series(1, index=index, dtype="int64")
    )
    amount = fields.numbers(raw[columns.amount], path, columns.amount) if columns.amount else None
    price = fields.numbers(raw[columns.price], path, columns.price) if columns.price else None
    # Money is a positive line total; the direction (purchase or return) is kept apart.
    line_amount = amount.abs() if amount is not None else quantity.abs() * price
    unit_price = price if price is not None else (line_amount / quantity.abs()).where(quantity != 0)
    key = fields.labels(raw[columns.order]) if columns.order else pd.Series("", index=index)
    is_return = quantity < 0
    if amount is not None:
        is_return |= amount < 0
    if columns.order:
        is_return |= key.str.match(_CANCELLATION).fillna(False).astype(bool)
    product = _label_or(raw, columns.product, "unknown")
    return pd.DataFrame(
        {
            "customer": fields.labels(raw[columns.customer]),
            "ts": fields.timestamps(raw[columns.time], path, columns.time),
            "key": key,
            "is_return": is_return,
            "quantity": quantity,
            "unit_price": unit_price,
            "line_amount": line_amount,
            "product": product,
            # Without a category column the product id is the finest category there is.
            "category": _label_or(raw, columns.category, "unknown") if columns.category else product,
            "region": _label_or(raw, columns.region, None),
        },
        index=index,
    )


def _label_or(raw: pd.DataFrame, column: str | None, default: str | None) -> pd.Series:
    if column is None:
        return pd.Series(default, index=raw.index, dtype="string")
    labels = fields.labels(raw[column])
    return labels if default is None else labels.fillna(default)
