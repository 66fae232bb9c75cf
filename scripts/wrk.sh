#!/usr/bin/env bash
# Ensure the wrk HTTP load generator (benchmarks/serving_load.py drives it): install it (Debian, as
# root) if missing, then print its path.
# Usage: scripts/wrk.sh
set -euo pipefail

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "wrk is not installed; install it (e.g. apt-get install wrk)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v wrk
