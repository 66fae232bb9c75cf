import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from events.contract import TABLES, empty_table
from events.store import ContractError, read_dataset, update_dataset, validate_table, write_dataset


def _customers(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": range(n),
            "signup_ts": pd.date_range("2025-01-01", periods=n, freq="D", tz="UTC"),
            "region": "seoul",
            "acquisition_channel": "organic",
            "device": "ios",
            "consent_email": True,
            "consent_sms": False,
            "consent_push": True,
            "consent_kakao": False,
        }
    )


def _orders(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": range(n),
            "customer_id": range(n),
            "order_ts": pd.date_range("2025-02-01", periods=n, freq="D", tz="UTC"),
            "gross_amount": 10.0,
            "discount_amount": 0.0,
            "net_amount": 10.0,
            "n_items": 1,
        }
    )


def test_every_table_is_documented_and_empty_tables_validate() -> None:
    for name, table in TABLES.items():
        assert table.description
        validate_table(name, empty_table(name), f"{name}.parquet")


def test_valid_dataset_round_trips(tmp_path: Path) -> None:
    counts = write_dataset({"customers": _customers(), "orders": _orders()}, tmp_path / "raw")
    assert counts == {"customers": 3, "orders": 3}
    tables = read_dataset(tmp_path / "raw")
    assert len(tables["orders"]) == 3
    assert tables["sessions"].empty and list(tables["sessions"].columns) == list(
        TABLES["sessions"].schema.columns
    )
    assert str(tables["orders"]["order_ts"].dtype) == "datetime64[ns, UTC]"


def test_error_names_file_column_and_first_bad_rows(tmp_path: Path) -> None:
    orders = _orders(6)
    orders.loc[[2, 4], "net_amount"] = -5.0
    with pytest.raises(ContractError) as err:
        write_dataset({"customers": _customers(6), "orders": orders}, tmp_path / "raw")
    message = str(err.value)
    assert "orders.parquet" in message and "'net_amount'" in message
    assert "[2, 4]" in message and "-5.0" in message


def test_bad_category_and_missing_column_are_named() -> None:
    messages = _customers().assign(channel="fax")
    with pytest.raises(ContractError, match="unexpected columns \\['channel'\\]"):
        validate_table("customers", messages, "customers.csv")
    with pytest.raises(ContractError, match="missing columns \\['device'\\]"):
        validate_table("customers", _customers().drop(columns="device"), "customers.csv")


def test_duplicate_ids_and_unparsable_times_are_rejected() -> None:
    dup = _customers()
    dup.loc[2, "customer_id"] = 0
    with pytest.raises(ContractError, match="customer_id"):
        validate_table("customers", dup, "c")
    bad_time = _orders().astype({"order_ts": object})
    bad_time.loc[1, "order_ts"] = "yesterday"
    with pytest.raises(ContractError, match="order_ts"):
        validate_table("orders", bad_time, "o")


def test_failed_write_leaves_existing_dataset_untouched(tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    write_dataset({"customers": _customers(), "orders": _orders()}, dest)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    broken = _orders()
    broken.loc[0, "n_items"] = 0
    with pytest.raises(ContractError):
        write_dataset({"customers": _customers(5), "orders": broken}, dest)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".raw.lock", "raw"]  # no staging folder
    # A dataset without customers is an empty import, not a replacement.
    with pytest.raises(ContractError, match="no customers; the current one is kept"):
        write_dataset({"customers": _customers().iloc[:0], "orders": _orders().iloc[:0]}, dest)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before


def test_missing_required_table_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="orders"):
        write_dataset({"customers": _customers()}, tmp_path / "raw")
    assert not (tmp_path / "raw").exists()
    with pytest.raises(ContractError, match="no dataset"):
        read_dataset(tmp_path / "raw")


def test_unknown_table_is_rejected() -> None:
    with pytest.raises(ContractError, match="allowed"):
        validate_table("clicks", pd.DataFrame(), "clicks.parquet")


def test_a_table_that_is_not_parquet_is_named(tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    write_dataset({"customers": _customers(), "orders": _orders()}, dest)
    (dest / "orders.parquet").write_text("not parquet")
    with pytest.raises(ContractError, match=r"raw/orders\.parquet: cannot be read as parquet"):
        read_dataset(dest)


def test_updates_at_once_both_land(tmp_path: Path) -> None:
    """Another update that starts while one is between its read and its write waits for it, and then
    reads the dataset with the first update in it: neither writes back a dataset without the other."""
    dest = tmp_path / "raw"
    write_dataset({"customers": _customers(), "orders": _orders()}, dest)

    def add_customer(customer_id: int) -> Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]:
        def change(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
            row = _customers(customer_id + 1).tail(1)
            return {**tables, "customers": pd.concat([tables["customers"], row], ignore_index=True)}

        return change

    other = threading.Thread(target=update_dataset, args=(dest, add_customer(10)))

    def first(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        other.start()
        other.join(timeout=2.0)  # given time to finish, it must still be waiting for this update
        assert other.is_alive()
        return add_customer(11)(tables)

    update_dataset(dest, first)
    other.join()
    assert sorted(read_dataset(dest)["customers"]["customer_id"]) == [0, 1, 2, 10, 11]
