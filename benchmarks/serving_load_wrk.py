"""wrk driver for benchmarks/serving_load.py: a Lua script that posts `{"customer_ids": [...]}` bodies
rotating through a pool of known ids, one run of wrk, and its figures parsed from the JSON line the
script's done() prints.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
_MARK = "WRK_JSON "
# A request still running when wrk stops keeps the worker busy; wrk gives up on one after this long
# (the services' own traffic timeout is 30 s).
TIMEOUT_S = 30

# Each wrk thread starts at its own offset in the shuffled pool and walks it, so consecutive
# requests never repeat ids until the pool wraps (no cache, Feast's or ours, can help).
_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local ids = dofile("%(ids)s")
local started = 0
function setup(thread)
  thread:set("tid", started)
  started = started + 1
end
function init(args)
  batch = tonumber(args[1])
  pos = (tid * 7919 * batch) %% #ids
end
function request()
  local parts = {}
  for k = 1, batch do
    pos = pos %% #ids + 1
    parts[k] = ids[pos]
  end
  return wrk.format(nil, nil, nil, '{"customer_ids":[' .. table.concat(parts, ",") .. ']}')
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"latency_us":{"mean":%%.1f,"stdev":%%.1f,"max":%%d,"p50":%%d,"p90":%%d,"p99":%%d,"p999":%%d}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
"""


@dataclass(frozen=True)
class Load:
    """wrk settings; the same ones go against Nudge and the empty endpoint."""

    threads: int
    connections: int
    duration_s: int
    warmup_s: int


def ensure_wrk() -> str:
    """scripts/wrk.sh installs wrk when missing (Debian, as root) and prints its path."""
    done = subprocess.run([str(ROOT / "scripts" / "wrk.sh")], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0].removeprefix("wrk ")


def write_scripts(folder: Path, ids: list[int], seed: int) -> Path:
    """The Lua script, reading the shuffled id pool from a Lua table file beside it."""
    pool = list(ids)
    random.Random(seed).shuffle(pool)
    folder.mkdir(parents=True, exist_ok=True)
    ids_file = folder / "ids.lua"
    ids_file.write_text("return {" + ",".join(map(str, pool)) + "}\n")
    script = folder / "post_ids.lua"
    script.write_text(_LUA % {"ids": ids_file, "mark": _MARK})
    return script


def run_wrk(wrk: str, script: Path, url: str, batch: int, load: Load, warmup: bool = True) -> dict[str, Any]:
    """A warm-up run (discarded), then the measured one; figures in requests/s and milliseconds.

    Before each, the server's backlog is drained: requests wrk abandoned at the end of the previous
    run would otherwise still be running, on the next run's clock.
    """
    if warmup and load.warmup_s > 0:
        drain(url)
        _wrk(wrk, script, url, batch, load, load.warmup_s)
    drain(url)
    before = os.getloadavg()[0]
    raw = _wrk(wrk, script, url, batch, load, load.duration_s)
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    errors = raw["errors"]
    answered = raw["requests"] > 0
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1),
        "customers_per_s": round(raw["requests"] * batch / seconds, 1),
        "latency_ms": {
            key: round(value / 1000, 2) if answered else None
            for key, value in latency.items()
            if key != "stdev"
        },
        "errors": errors,
        "error_count": sum(errors.values()),
        "load_average_1m_before": round(before, 2),
    }


def drain(url: str) -> None:
    """One request with an unknown id, answered once everything queued before it has run."""
    httpx.post(url, json={"customer_ids": [0]}, timeout=600).raise_for_status()


def _wrk(wrk: str, script: Path, url: str, batch: int, load: Load, duration_s: int) -> dict[str, Any]:
    command = [
        wrk,
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={duration_s}s",
        f"--timeout={TIMEOUT_S}s",
        "--latency",
        f"--script={script}",
        url,
        "--",
        str(batch),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK) :])
    raise RuntimeError(f"wrk gave no figures (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
