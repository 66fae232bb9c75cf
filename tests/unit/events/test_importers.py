"""Importers on the real shared data (Online Retail, Hillstrom) and on small synthetic cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from events.importers.identifiers import stable_ids
from events.importers.rct import RctColumns, import_rct
from events.importers.report import ImportReport
from events.importers.sidecar import covariates_path
from events.importers.transactions import TransactionColumns, import_transactions
from events.store import ContractError, read_dataset, read_table

# The shared data lives next to the repository (../shared/data), also in a fresh clone.
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
ONLINE_RETAIL = DATA / "online_retail" / "online_retail.parquet"
HILLSTROM = (
    DATA / "hillstrom" / "Kevin_Hillstrom_MineThatData_E-MailAnalytics_DataMiningChallenge_2008.03.20.csv"
)
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"real data folder {DATA} is absent (expected ../shared/data)"
)

RETAIL_COLUMNS = TransactionColumns(
    customer="CustomerID",
    time="InvoiceDate",
    quantity="Quantity",
    price="UnitPrice",
    order="InvoiceNo",
    product="StockCode",
    region="Country",
)
HILLSTROM_COLUMNS = RctColumns(
    treatment="segment",
    outcome="visit",
    control_value="No E-Mail",
    spend="spend",
    region="zip_code",
    channel="channel",
)
START = pd.Timestamp("2008-03-01", tz="UTC")
Imported = tuple[ImportReport, dict[str, pd.DataFrame]]
Dataset = tuple[Path, dict[str, pd.DataFrame]]


def _csv(path: Path, text: str) -> Path:
    """A CSV from an indented block; '#' starts a comment explaining the row."""
    lines = [line.split("#")[0].strip() for line in text.strip().splitlines()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- Online Retail ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    dest = tmp_path_factory.mktemp("retail") / "raw"
    report = import_transactions(ONLINE_RETAIL, dest, RETAIL_COLUMNS)
    return report, read_dataset(dest)  # read back through the contract


@pytest.fixture(scope="module")
def retail_lines() -> pd.DataFrame:
    """The file's valid lines computed independently: known customer, positive price, no dups."""
    raw = pd.read_parquet(ONLINE_RETAIL).drop_duplicates()
    valid = raw[raw["CustomerID"].notna() & (raw["UnitPrice"] > 0)].copy()
    valid["cancelled"] = valid["InvoiceNo"].str.startswith("C") | (valid["Quantity"] < 0)
    valid["amount"] = valid["Quantity"].abs() * valid["UnitPrice"]
    return valid


@needs_data
def test_retail_customers_are_the_known_buyers(retail: Imported, retail_lines: pd.DataFrame) -> None:
    report, tables = retail
    buyers = retail_lines.loc[~retail_lines["cancelled"], "CustomerID"].astype("int64")
    assert report.rows_read == 541_909
    assert report.dropped["missing_customer"] == 135_080
    assert set(tables["customers"]["customer_id"]) == set(buyers)
    assert len(tables["customers"]) == buyers.nunique()
    first_buy = retail_lines[~retail_lines["cancelled"]].groupby("CustomerID")["InvoiceDate"].min()
    signup = tables["customers"].set_index("customer_id")["signup_ts"]
    assert (
        signup.loc[first_buy.index.astype("int64")].to_numpy()
        == pd.to_datetime(first_buy, utc=True).to_numpy()
    ).all()
    assert not tables["customers"][["consent_email", "consent_sms"]].any().any()


@needs_data
def test_retail_orders_are_invoices_of_known_customers_with_file_revenue(
    retail: Imported, retail_lines: pd.DataFrame
) -> None:
    _, tables = retail
    orders, purchases = tables["orders"], retail_lines[~retail_lines["cancelled"]]
    assert orders["customer_id"].notna().all()
    assert orders["customer_id"].isin(tables["customers"]["customer_id"]).all()
    assert set(orders["order_id"]) == set(purchases["InvoiceNo"].astype("int64"))
    assert orders["gross_amount"].sum() == pytest.approx(purchases["amount"].sum(), rel=1e-12)
    assert orders["n_items"].sum() == purchases["Quantity"].sum()
    assert len(tables["order_items"]) == len(purchases)
    assert (tables["payments"]["amount"].to_numpy() == orders["net_amount"].to_numpy()).all()


@needs_data
def test_retail_cancellations_become_refunds_of_earlier_orders(
    retail: Imported, retail_lines: pd.DataFrame
) -> None:
    report, tables = retail
    refunds, orders = tables["refunds"], tables["orders"]
    cancellations = retail_lines[retail_lines["cancelled"]]
    invoice_ids = stable_ids(cancellations["InvoiceNo"], "invoice")
    assert not orders["order_id"].isin(invoice_ids).any()
    assert refunds["refund_id"].isin(invoice_ids).all()
    linked = cancellations[invoice_ids.isin(refunds["refund_id"])]
    assert len(refunds) == linked["InvoiceNo"].nunique() > 3000
    assert refunds["amount"].sum() == pytest.approx(linked["amount"].sum(), rel=1e-12)
    assert report.dropped["return_without_earlier_order"] == len(cancellations) - len(linked)
    joined = refunds.merge(orders, on="order_id", suffixes=("", "_order"))
    assert len(joined) == len(refunds)
    assert (joined["customer_id"] == joined["customer_id_order"]).all()
    assert (joined["order_ts"] <= joined["refund_ts"]).all()


# --- Hillstrom ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hillstrom(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    dest = tmp_path_factory.mktemp("hillstrom") / "raw"
    import_rct(HILLSTROM, dest, HILLSTROM_COLUMNS)
    return dest, read_dataset(dest)


@pytest.fixture(scope="module")
def hillstrom_csv() -> pd.DataFrame:
    return pd.read_csv(HILLSTROM)


@needs_data
def test_hillstrom_arms_become_campaigns_with_a_shared_control(
    hillstrom: Dataset, hillstrom_csv: pd.DataFrame
) -> None:
    _, tables = hillstrom
    arms = hillstrom_csv["segment"].value_counts()
    control = arms["No E-Mail"]
    assert len(tables["customers"]) == 64_000
    campaigns = tables["campaigns"].set_index("campaign_id")
    assert sorted(campaigns.index) == ["mens_email", "womens_email"]
    assert (campaigns["channel"] == "email").all()
    assert (campaigns["end_ts"] == START + pd.Timedelta(days=14)).all()
    assignments = tables["campaign_assignments"]
    for campaign, label in [("mens_email", "Mens E-Mail"), ("womens_email", "Womens E-Mail")]:
        expected = arms[label] / (arms[label] + control)
        assert campaigns.loc[campaign, "treatment_probability"] == pytest.approx(expected)
        mine = assignments[assignments["campaign_id"] == campaign]
        treated = mine[mine["arm"] == "treatment"]
        holdout = mine[mine["arm"] == "holdout"]
        assert set(treated["customer_id"]) == set(np.flatnonzero(hillstrom_csv["segment"] == label))
        assert set(holdout["customer_id"]) == set(np.flatnonzero(hillstrom_csv["segment"] == "No E-Mail"))
        assert treated["assignment_probability"].eq(arms[label] / 64_000).all()
        assert holdout["assignment_probability"].eq(control / 64_000).all()
    messages = tables["messages"]
    assert len(messages) == 64_000 - control and messages["customer_id"].is_unique
    assert tables["customers"]["consent_email"].all()


@needs_data
def test_hillstrom_visit_uplift_survives_the_import(hillstrom: Dataset, hillstrom_csv: pd.DataFrame) -> None:
    _, tables = hillstrom
    assignments = tables["campaign_assignments"]
    window = tables["campaigns"].set_index("campaign_id").loc["womens_email"]
    sessions = tables["sessions"]
    in_window = sessions[
        (sessions["session_start"] >= window["start_ts"]) & (sessions["session_start"] < window["end_ts"])
    ]
    womens = assignments[assignments["campaign_id"] == "womens_email"].assign(
        visited=lambda a: a["customer_id"].isin(in_window["customer_id"])
    )
    rates = womens.groupby("arm")["visited"].mean()
    imported = rates["treatment"] - rates["holdout"]
    direct = hillstrom_csv.groupby("segment")["visit"].mean()
    assert imported == pytest.approx(direct["Womens E-Mail"] - direct["No E-Mail"], abs=1e-15)
    assert 0.04 < imported < 0.05  # women's e-mail: 15.1% vs 10.6% visits


@needs_data
def test_hillstrom_orders_are_conversions_and_covariates_are_kept(
    hillstrom: Dataset, hillstrom_csv: pd.DataFrame
) -> None:
    dest, tables = hillstrom
    orders = tables["orders"].set_index("customer_id")
    converted = hillstrom_csv[hillstrom_csv["conversion"] == 1]
    assert set(orders.index) == set(converted.index)
    assert (orders.loc[converted.index, "net_amount"].to_numpy() == converted["spend"]).all()
    covariates = pd.read_parquet(covariates_path(dest))
    assert len(covariates) == 64_000 and covariates["customer_id"].is_unique
    for column in ["recency", "history", "mens", "womens", "newbie", "history_segment"]:
        assert (covariates[column].to_numpy() == hillstrom_csv[column].to_numpy()).all()
    customers = tables["customers"].set_index("customer_id")
    assert set(customers["region"]) == {"Surburban", "Urban", "Rural"}
    assert set(customers["acquisition_channel"]) == {"phone", "web", "multichannel"}
    assert customers.loc[hillstrom_csv["channel"] == "Web", "device"].eq("web").all()


# --- Synthetic edge cases -----------------------------------------------------------------------

SMALL_LOG = """
InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1001,A1,2,2011-01-01 10:00:00,5.0,17850,United Kingdom
1001,A1,2,2011-01-01 10:00:00,5.0,17850,United Kingdom   # duplicate line
1001,B2,1,2011-01-01 10:00:00,3.5,17850,United Kingdom
1002,A1,1,2011-01-05 09:00:00,5.0,17850,France           # region changes: France is latest
C1003,A1,-1,2011-01-06 12:00:00,5.0,17850,France         # cancels: links to 1002, not 1001/1011
1011,B2,1,2011-01-09 10:00:00,3.5,17850,France
1004,B2,3,2011-01-02 08:00:00,0.0,12000,Spain            # zero price
1005,B2,3,2011-01-02 08:00:00,-2.0,12000,Spain           # negative price
1006,B2,1,2011-01-03 08:00:00,2.0,,Spain                 # no customer
C1007,A1,-2,2011-01-01 09:00:00,5.0,12001,Germany        # return before any order
1008,A1,1,2011-01-04 09:00:00,5.0,12001,Germany
1009,A1,-1,2011-01-07 09:00:00,5.0,12001,Germany         # return without the C prefix
1010,B2,4,2011-01-08 09:00:00,1.25,12000,Spain
"""
SMALL_COLUMNS = TransactionColumns(
    customer="CustomerID",
    time="InvoiceDate",
    quantity="Quantity",
    price="UnitPrice",
    order="InvoiceNo",
    product="StockCode",
    region="Country",
)


def test_small_log_drops_counts_and_links_returns(tmp_path: Path) -> None:
    report = import_transactions(_csv(tmp_path / "log.csv", SMALL_LOG), tmp_path / "raw", SMALL_COLUMNS)
    assert report.rows_read == 13
    assert report.dropped == {
        "missing_customer": 1,
        "missing_order_id": 0,
        "duplicate_line": 1,
        "non_positive_price": 2,
        "zero_quantity": 0,
        "return_without_earlier_order": 1,
    }
    tables = read_dataset(tmp_path / "raw")
    orders = tables["orders"].set_index("order_id")
    assert sorted(orders.index) == [1001, 1002, 1008, 1010, 1011]
    assert orders.loc[1001, ["gross_amount", "n_items"]].tolist() == [13.5, 3]
    refunds = tables["refunds"].set_index("order_id")
    assert sorted(refunds.index) == [1002, 1008]
    assert refunds.loc[1002, "refund_id"] == stable_ids(pd.Series(["C1003"]), "x").iloc[0]
    assert refunds.loc[1008, "refund_id"] == 1009 and refunds.loc[1008, "amount"] == 5.0
    customers = tables["customers"].set_index("customer_id")
    assert customers.loc[17850, "region"] == "France"
    # Sign-up is the first valid purchase: 12000's zero-price lines do not count.
    assert customers.loc[12000, "signup_ts"] == pd.Timestamp("2011-01-08 09:00", tz="UTC")
    items = tables["order_items"]
    assert items.loc[items["order_id"] == 1001, "category"].tolist() == ["A1", "B2"]
    assert "return_without_earlier_order: 1" in report.describe()


TEXT_ID_LOG = """
user,when,total
alice,2024-03-01T10:00:00+09:00,30.0
alice,2024-03-01T10:00:00+09:00,12.5     # same customer and moment: same order
bob,2024-03-02T08:00:00+00:00,20.0
bob,2024-03-03T08:00:00+00:00,-20.0      # negative amount: a refund
carol,2024-03-04T08:00:00+00:00,0        # zero amount
"""


def test_log_without_order_or_product_columns(tmp_path: Path) -> None:
    columns = TransactionColumns(customer="user", time="when", amount="total")
    dest = tmp_path / "raw"
    report = import_transactions(_csv(tmp_path / "log.csv", TEXT_ID_LOG), dest, columns)
    assert report.dropped["non_positive_price"] == 1
    tables = read_dataset(dest)
    ids = stable_ids(pd.Series(["alice", "bob"]), "x").tolist()
    orders = tables["orders"].set_index("customer_id")
    assert orders.loc[ids[0], ["gross_amount", "n_items"]].tolist() == [42.5, 2]
    assert orders.loc[ids[0], "order_ts"] == pd.Timestamp("2024-03-01 01:00", tz="UTC")
    assert orders.loc[ids[1], "order_ts"] == pd.Timestamp("2024-03-02 08:00", tz="UTC")
    assert tables["refunds"]["customer_id"].tolist() == [ids[1]]
    assert not (dest / "order_items.parquet").exists() and tables["order_items"].empty
    assert (tables["customers"]["region"] == "unknown").all()
    # Ids are a function of the id text: another file with other rows maps alice the same way.
    other = _csv(tmp_path / "other.csv", "user,when,total\nzoe,2024-01-01,1\nalice,2024-01-02,2")
    import_transactions(other, tmp_path / "other", columns)
    assert ids[0] in set(read_table(tmp_path / "other", "customers")["customer_id"])


def test_integer_ids_keep_their_value_unless_that_would_merge_two() -> None:
    assert stable_ids(pd.Series(["17850", "85123A", "00042"]), "x").tolist()[::2] == [17850, 42]
    assert stable_ids(pd.Series([17850.0, 12346.0]), "x").tolist() == [17850, 12346]
    merged = stable_ids(pd.Series(["7", "007"]), "x")
    assert merged.nunique() == 2 and 7 not in merged.tolist()


def test_order_with_two_customers_is_rejected(tmp_path: Path) -> None:
    log = "InvoiceNo,InvoiceDate,UnitPrice,CustomerID\n1,2011-01-01,1.0,10\n1,2011-01-01,2.0,11\n"
    columns = TransactionColumns(
        customer="CustomerID", time="InvoiceDate", price="UnitPrice", order="InvoiceNo"
    )
    with pytest.raises(
        ContractError, match=r"log\.csv: 1 order id\(s\) have lines of more than one customer.*'1'"
    ):
        import_transactions(_csv(tmp_path / "log.csv", log), tmp_path / "raw", columns)


# --- Errors leave data untouched ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        ("1002,A1,1,not a date,5.0,17850,France", "InvoiceDate", "'not a date'", "timestamp"),
        ("1002,A1,1,2011-01-05 09:00:00,five,17850,France", "UnitPrice", "'five'", "non-numeric"),
        ("1002,A1,1.5,2011-01-05 09:00:00,5.0,17850,France", "Quantity", "1.5", "non-integer"),
        ("1002,A1,1,2011-01-05T09:00:00+09:00,5.0,17850,France", "InvoiceDate", "'2011", "one"),
    ],
)
def test_bad_value_is_named_and_dest_is_left_unchanged(
    tmp_path: Path, row: str, column: str, value: str, message: str
) -> None:
    dest = tmp_path / "data" / "raw"
    import_transactions(_csv(tmp_path / "good.csv", SMALL_LOG), dest, SMALL_COLUMNS)
    before = _snapshot(tmp_path / "data")
    lines = SMALL_LOG.strip().splitlines()
    lines.insert(3, row)  # data row 2 (0-based)
    bad = _csv(tmp_path / "bad.csv", "\n".join(lines))
    with pytest.raises(ContractError) as err:
        import_transactions(bad, dest, SMALL_COLUMNS)
    text = str(err.value)
    assert str(bad) in text and repr(column) in text and message in text
    assert f"first rows [2] (0-based data rows) with values [{value}" in text
    assert _snapshot(tmp_path / "data") == before


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country", "no lines"),
        (
            "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
            "1001,A1,1,2011-01-05 09:00:00,5.0,,France\n1002,A1,1,2011-01-05 09:00:00,0,17850,France",
            "missing_customer: 1, non_positive_price: 1",
        ),
    ],
)
def test_a_log_with_no_importable_line_does_not_replace_the_dataset(
    tmp_path: Path, text: str, reason: str
) -> None:
    dest = tmp_path / "data" / "raw"
    import_transactions(_csv(tmp_path / "good.csv", SMALL_LOG), dest, SMALL_COLUMNS)
    before = _snapshot(tmp_path / "data")
    empty = _csv(tmp_path / "empty.csv", text)
    with pytest.raises(
        ContractError, match=rf"empty\.csv: none of its \d+ lines can be imported \({reason}\)"
    ):
        import_transactions(empty, dest, SMALL_COLUMNS)
    assert _snapshot(tmp_path / "data") == before


def test_missing_column_is_named(tmp_path: Path) -> None:
    log = _csv(tmp_path / "log.csv", SMALL_LOG)
    columns = TransactionColumns(customer="Customer", time="InvoiceDate", price="UnitPrice")
    with pytest.raises(ContractError, match=r"log\.csv: missing column\(s\) \['Customer'\]"):
        import_transactions(log, tmp_path / "raw", columns)
    with pytest.raises(ValueError, match="amount column, the unit price column"):
        import_transactions(log, tmp_path / "raw", TransactionColumns("CustomerID", "InvoiceDate"))
    assert not (tmp_path / "raw").exists()


SMALL_RCT = """
segment,visit,spend,zip_code,channel,recency
Mens E-Mail,1,0,Urban,Web,3
No E-Mail,0,0,Rural,Phone,5
Womens E-Mail,1,29.99,Urban,Multichannel,1
No E-Mail,1,10,Surburban,Web,2
"""


def test_rct_failure_leaves_dataset_and_covariates_unchanged(tmp_path: Path) -> None:
    dest = tmp_path / "data" / "raw"
    report = import_rct(_csv(tmp_path / "good.csv", SMALL_RCT), dest, HILLSTROM_COLUMNS)
    assert report.tables["campaign_assignments"] == 6  # 2 treated + 2 controls in 2 campaigns
    assert list(pd.read_parquet(covariates_path(dest)).columns) == [
        "customer_id",
        "zip_code",
        "channel",
        "recency",
    ]
    before = _snapshot(tmp_path / "data")
    bad = _csv(tmp_path / "bad.csv", SMALL_RCT.replace("Womens E-Mail,1,", "Womens E-Mail,2,"))
    with pytest.raises(ContractError, match=r"'visit' has 1 value\(s\) other than 0 and 1; first rows \[2\]"):
        import_rct(bad, dest, HILLSTROM_COLUMNS)
    wrong_control = RctColumns("segment", "visit", "Control")
    with pytest.raises(ContractError, match=r"control rows \('Control'\).*'No E-Mail'"):
        import_rct(tmp_path / "good.csv", dest, wrong_control)
    with pytest.raises(ContractError, match=r"missing column\(s\) \['conversionx'\]"):
        import_rct(tmp_path / "good.csv", dest, RctColumns("segment", "conversionx", "No E-Mail"))
    assert _snapshot(tmp_path / "data") == before


def test_transaction_import_retires_covariates_of_the_replaced_dataset(tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    import_rct(_csv(tmp_path / "rct.csv", SMALL_RCT), dest, HILLSTROM_COLUMNS)
    assert covariates_path(dest).exists()
    import_transactions(_csv(tmp_path / "log.csv", SMALL_LOG), dest, SMALL_COLUMNS)
    assert not covariates_path(dest).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".raw.lock", "log.csv", "raw", "rct.csv"]


def test_cli_imports_into_nudge_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.main import app

    monkeypatch.setenv("NUDGE_DATA_DIR", str(tmp_path / "data"))
    log = _csv(tmp_path / "log.csv", SMALL_LOG)
    args = ["import", "transactions", str(log), "--quantity-col", "Quantity"]
    args += ["--price-col", "UnitPrice", "--order-col", "InvoiceNo", "--product-col", "StockCode"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(read_table(tmp_path / "data" / "raw", "orders")) == 5
    rct = _csv(tmp_path / "rct.csv", SMALL_RCT)
    args = ["import", "rct", str(rct), "--spend-col", "spend", "--start", "2024-05-01"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    campaigns = read_table(tmp_path / "data" / "raw", "campaigns")
    assert (campaigns["start_ts"] == pd.Timestamp("2024-05-01", tz="UTC")).all()
