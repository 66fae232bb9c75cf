"""One pydantic model per configs/*.yaml; unknown keys are rejected so typos fail loudly."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimulationConfig(StrictModel):
    customers: int = Field(20_000, ge=10)
    days: int = Field(180, ge=30)
    seed: int = 7
    start_date: date = date(2025, 1, 1)
    # Ground truth is written at every cutoff, spaced this many days apart, for this horizon.
    cutoff_every_days: int = Field(14, ge=1)
    horizon_days: int = Field(30, ge=1)
    # Days a campaign treatment keeps acting after assignment; also the campaign outcome window.
    campaign_window_days: int = Field(14, ge=1)


class FeaturesConfig(StrictModel):
    # Feature snapshots are taken every this many days (plus one at the end of the data).
    snapshot_every_days: int = Field(7, ge=1)
    # Online values older than this are treated as expired by Feast.
    ttl_days: int = Field(120, ge=1)
    # Category affinity tracks this many most-viewed categories (imports may have thousands).
    top_categories: int = Field(20, ge=1)
    project: str = "nudge"
    # sqlite: embedded file next to the registry. redis: the production online store.
    online_store: Literal["sqlite", "redis"] = "sqlite"
    # Point-in-time joins over the feature parquet files. duckdb: SQL in one process, ~20x faster
    # and ~6x leaner than file (Feast's pandas/Dask joins), with identical rows.
    offline_store: Literal["duckdb", "file"] = "duckdb"
    # Rows per online write while materializing: bounds memory whatever the population.
    materialize_chunk_rows: int = Field(50_000, ge=100)


class LightGBMParams(StrictModel):
    n_estimators: int = Field(300, ge=1)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(50, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    subsample_freq: int = 1
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    # 0 = the cores this process may use. LightGBM's own default asks OpenMP, which can see the
    # host's cores inside a container and oversubscribe: 60 s instead of 3 s on 2 cores.
    n_jobs: int = Field(0, ge=0)


class TuningConfig(StrictModel):
    # 0 trials = train with the configured LightGBM parameters as they are.
    trials: int = Field(12, ge=0)
    timeout_s: int = Field(180, ge=1)


class PromotionConfig(StrictModel):
    # The challenger replaces the champion only if its holdout ROC-AUC is higher by this much.
    min_auc_gain: float = Field(0.002, ge=0)


class TaskConfig(StrictModel):
    """What every prediction task sets; the subclasses add their population rules."""

    # Label = outcome within this many days after the cutoff.
    horizon_days: int = Field(30, ge=1)
    # Label cutoffs every this many days (a multiple of the snapshot period); the newest are the
    # out-of-time test set.
    cutoff_every_days: int = Field(14, ge=1)
    test_cutoffs: int = Field(1, ge=1)
    # A held-out set with fewer rows than this in either class is too small to trust: the test and
    # validation sets pool earlier cutoffs (up to half of them) until they have enough, and a test
    # set still short of it is flagged in the log, the report and MLflow.
    min_class_rows: int = Field(30, ge=1)
    feature_service: str
    registered_model: str


class ChurnTaskConfig(TaskConfig):
    # A buyer is "active" at a cutoff if they ordered within this many days before it.
    active_window_days: int = Field(90, ge=1)
    feature_service: str = "churn_v1"
    registered_model: str = "nudge-churn"


class ConversionTaskConfig(TaskConfig):
    # Prospects (signed up, never ordered) who signed up at most this many days before the cutoff.
    max_days_since_signup: int = Field(90, ge=1)
    feature_service: str = "conversion_v1"
    registered_model: str = "nudge-conversion"


class VipTaskConfig(TaskConfig):
    # VIP = among the top `top_share` of customers by net spend up to cutoff + horizon.
    top_share: float = Field(0.05, gt=0, lt=1)
    # Candidates: customers in their early life (tenure at most this many days) and not yet VIP.
    max_tenure_days: int = Field(60, ge=1)
    horizon_days: int = Field(90, ge=1)
    feature_service: str = "vip_lookalike_v1"
    registered_model: str = "nudge-vip"


UpliftLearnerName = Literal["s", "t", "x", "dr", "shift", "class_transformation"]


class UpliftConfig(StrictModel):
    """Per-action uplift models learned from randomized campaign assignments."""

    feature_service: str = "uplift_v2"
    registered_model: str = "nudge-uplift"
    # Candidates compared by cross-validated Qini on the training rows; the best is registered.
    learners: tuple[UpliftLearnerName, ...] = ("t", "x", "dr", "shift")
    # Reported on the test rows next to the chosen learner.
    baselines: tuple[UpliftLearnerName, ...] = ("s", "class_transformation")
    cv_folds: int = Field(3, ge=2)
    # The newest share of each action's assignment days is the out-of-time test set.
    test_share: float = Field(0.25, gt=0, lt=1)
    # Actions with fewer logged assignments (or either arm empty) are skipped, with a warning.
    min_rows: int = Field(300, ge=20)
    bootstrap: int = Field(200, ge=10)
    # Small, regularised trees: uplift is a difference of noisy responses (Hillstrom and the
    # planted-effect tests both ranked better with them than with the outcome models' defaults).
    lightgbm: LightGBMParams = LightGBMParams(n_estimators=200, num_leaves=15, min_child_samples=100)


class TrainingConfig(StrictModel):
    experiment: str = "nudge"
    seed: int = 7
    churn: ChurnTaskConfig = ChurnTaskConfig()
    conversion: ConversionTaskConfig = ConversionTaskConfig()
    vip: VipTaskConfig = VipTaskConfig()
    uplift: UpliftConfig = UpliftConfig()
    lightgbm: LightGBMParams = LightGBMParams()
    tuning: TuningConfig = TuningConfig()
    promotion: PromotionConfig = PromotionConfig()


class ServingConfig(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    # Score name -> registered model served by its alias; /scores returns one score per entry.
    models: dict[str, str] = Field(
        default_factory=lambda: {
            "churn": "nudge-churn",
            "conversion": "nudge-conversion",
            "vip": "nudge-vip",
        },
        min_length=1,
    )
    uplift_model: str = "nudge-uplift"
    alias: str = "champion"
    # One online read per request: a service holding every feature the served models read.
    feature_service: str = "uplift_v2"
    # Seconds between checks of the registry aliases; a moved alias is loaded and swapped in,
    # a version that fails to load leaves the current models serving. 0 = never reload.
    reload_interval_s: float = Field(30.0, ge=0)
    max_customers_per_request: int = Field(1000, ge=1)
    max_request_bytes: int = Field(1_000_000, ge=1024)
    # The API key itself comes from the environment only (NUDGE_API_KEY); unset = no auth.
    api_key_header: str = "X-API-Key"
    # "data": now is the newest feature snapshot (simulations and imports end in the past);
    # "wall": the real clock, for live deployments.
    clock: Literal["data", "wall"] = "data"
    # SQLite online store: MiB of its pages this process keeps decoded in memory. SQLite's default
    # (2 MiB) re-reads most of a customer's ~100 pages from the OS on every request, 3x the cost.
    # Redis ignores it.
    online_cache_mib: int = Field(256, ge=0)
    # Server processes, each with its own models and online-store connection. "cpu_count": one per
    # core, since one process runs requests on one core at a time (Python's GIL).
    workers: Literal["cpu_count"] | PositiveInt = Field("cpu_count", union_mode="left_to_right")
    # Answer /scores from a table of every customer's answer (serving.score_table), built before
    # the service is ready and again when models or materialized features change, shared by the
    # workers through data/score_tables/; ~3 ms of a core to build and ~1 KB of memory per
    # customer. False: score every request live.
    score_table: bool = True


Channel = Literal["email", "sms", "push", "kakao"]
WindowDays = Literal[1, 7, 30, 90]


class FeatureRange(StrictModel):
    """An eligibility rule on one online feature: min <= value <= max, where the lower bound may be
    another feature's value (`min_feature`: "no order since the cart" compares two recencies).
    A missing value fails unless `missing` is "passes"; a missing `min_feature` value always fails."""

    feature: str
    min: float | None = None
    max: float | None = None
    min_feature: str | None = None
    # "passes" where a missing value means "never happened" and that is what the rule allows.
    missing: Literal["fails", "passes"] = "fails"

    @model_validator(mode="after")
    def _one_lower_bound(self) -> FeatureRange:
        if self.min is not None and self.min_feature is not None:
            raise ValueError(f"rule on {self.feature!r}: give min or min_feature, not both")
        return self


class FrequencyCap(StrictModel):
    # At most this many CRM messages of any campaign over the last `days` (the messages_<days>d feature).
    max_messages: int = Field(ge=0)
    days: WindowDays = 7


class ValueModel(StrictModel):
    """What one order is worth: a feature (e.g. the customer's mean order value) or a fixed amount.

    `amount` is also the fallback when the feature is missing (prospects have no orders yet)."""

    kind: Literal["feature", "fixed"] = "feature"
    feature: str = "avg_order_value"
    amount: float = Field(40.0, gt=0)


class ActionConfig(StrictModel):
    description: str
    channel: Channel
    # Paid per contact, whatever the outcome.
    contact_cost: float = Field(ge=0)
    # Coupon terms; paid on every treated order in the window, including those that would have
    # happened anyway (sure things make coupons expensive).
    percent_off: float = Field(0.0, ge=0, lt=1)
    fixed_off: float = Field(0.0, ge=0)
    value: ValueModel = ValueModel()
    eligibility: tuple[FeatureRange, ...] = ()
    frequency_cap: FrequencyCap | None = None
    # Days since the customer's last CRM message before they may be contacted again.
    cooldown_days: int = Field(0, ge=0)


class ActionsConfig(StrictModel):
    # Share of an order's value that is profit before campaign costs.
    margin: float = Field(0.3, gt=0, le=1)
    actions: dict[str, ActionConfig] = Field(min_length=1)
