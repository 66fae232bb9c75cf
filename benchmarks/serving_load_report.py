"""Machine, versions and the Markdown page of benchmarks/serving_load.py."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

LIBRARIES = (
    "bentoml", "uvicorn", "starlette", "pydantic", "feast", "lightgbm", "mlflow", "numpy", "pandas",
    "pyarrow", "redis", "hiredis", "httpx",
)  # fmt: skip


def machine_info() -> dict[str, Any]:
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(pages * page_size / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def library_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in LIBRARIES:
        with suppress(PackageNotFoundError):
            found[name] = version(name)
    server = shutil.which("redis-server")
    if server:
        done = subprocess.run([server, "--version"], capture_output=True, text=True, check=False)
        found["redis-server"] = done.stdout.split(" v=")[-1].split()[0] if " v=" in done.stdout else "?"
    return found


def _cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def write_markdown(report: dict[str, Any]) -> str:
    goal, load, machine = report["goal"], report["load"], report["machine"]
    lines = [
        "# Serving load: Nudge vs an empty BentoML endpoint",
        "",
        f"Goal (issue 5): Nudge at >= {goal['rps_ratio_min']:.0%} of the empty endpoint's requests/s, "
        f"p99 < {goal['p99_ms_max']:.0f} ms. wrk, {load['threads']} threads, {load['connections']} "
        f"connections, {load['duration_s']} s per run after a {load['warmup_s']} s warm-up, "
        f"{load['rounds']} rounds (Nudge and empty alternating; medians shown), then 1 connection. "
        f"Both services run {load.get('workers', 1)} worker(s). Ids rotate through every known customer.",
        "",
    ]
    for kind, store in report["stores"].items():
        lines += _store_section(kind, store)
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    lines += [
        "## Machine",
        f"{machine['cpu_count']} cores ({machine['cpu_model']}), {machine['memory_gb']} GB, "
        f"{machine['platform']}, Python {machine['python']}; load average (1/5/15 min) at start "
        f"{_loads(machine['load_average_at_start'])}, shared with other work.",
        "",
        f"Versions: {versions}.",
        "",
    ]
    return "\n".join(lines)


def _store_section(kind: str, store: dict[str, Any]) -> list[str]:
    lines = [
        f"## Online store: {kind}",
        f"Run {store['started_at']}, {store['known_customers']:,} known customers; load average "
        f"{_loads(store['load_average_before'])} before, {_loads(store['load_average_after'])} after.",
        "",
        "| endpoint | ids/request | Nudge req/s | empty req/s | ratio | Nudge p50 / p90 / p99 ms "
        "| empty p50 / p99 ms | errors | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in store["endpoints"].values():
        n, e = row["nudge"], row["empty"]
        lat = n["latency_ms"]
        lines.append(
            f"| {row['route']} | {row['customers_per_request']} | {n['rps']:,.1f} | {e['rps']:,.0f} "
            f"| {row['rps_ratio']:.3f} | {ms(lat['p50'])} / {ms(lat['p90'])} / {ms(lat['p99'])} "
            f"| {ms(e['latency_ms']['p50'])} / {ms(e['latency_ms']['p99'])} | {n['errors']} "
            f"| {_verdict(row['goal'])} |"
        )
    lines += ["", "One connection (one request at a time):", "",
              "| endpoint | Nudge req/s | Nudge p50 / p99 ms | empty req/s | empty p50 / p99 ms |",
              "|---|---:|---:|---:|---:|"]  # fmt: skip
    for row in store["endpoints"].values():
        n, e = row["single_connection"]["nudge"], row["single_connection"]["empty"]
        nl, el = n["latency_ms"], e["latency_ms"]
        lines.append(
            f"| {row['route']} | {n['rps']:,.1f} | {ms(nl['p50'])} / {ms(nl['p99'])} "
            f"| {e['rps']:,.0f} | {ms(el['p50'])} / {ms(el['p99'])} |"
        )
    return [*lines, ""]


def _verdict(goal: dict[str, bool]) -> str:
    if goal["met"]:
        return "met"
    missed = [name for name, ok in (("throughput", goal["rps_ratio_ok"]), ("p99", goal["p99_ok"])) if not ok]
    return "missed: " + ", ".join(missed or ["errors"])


def ms(value: float | None) -> str:
    """Milliseconds, or a dash when no request was answered."""
    return "-" if value is None else f"{value:.1f}"


def _loads(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)
