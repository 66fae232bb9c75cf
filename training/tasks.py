"""The prediction tasks: who is in each population, what the label is, which features it reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from configs.schema import TaskConfig, TrainingConfig
from training.labels import churn_labels, conversion_labels, vip_labels

LabelBuilder = Callable[[pd.DataFrame, pd.DataFrame, list[pd.Timestamp]], pd.DataFrame]
TASKS = ("churn", "conversion", "vip")


@dataclass(frozen=True)
class Task:
    name: str
    label: str
    config: TaskConfig
    build_labels: LabelBuilder  # (customers, orders, cutoffs) -> customer_id, event_timestamp, label

    @property
    def feature_service(self) -> str:
        return self.config.feature_service

    @property
    def registered_model(self) -> str:
        return self.config.registered_model


def task_for(name: str, config: TrainingConfig) -> Task:
    if name == "churn":
        task = config.churn
        return Task(name, "churned", task, lambda customers, orders, cuts: churn_labels(orders, cuts, task))
    if name == "conversion":
        conv = config.conversion
        return Task(name, "converted", conv, lambda c, o, cuts: conversion_labels(c, o, cuts, conv))
    if name == "vip":
        vip = config.vip
        return Task(name, "became_vip", vip, lambda c, o, cuts: vip_labels(c, o, cuts, vip))
    raise ValueError(f"unknown task {name!r}; allowed: {', '.join(TASKS)}")
