#!/usr/bin/env bash
# Ensure Debian's headless Chromium and its matching chromedriver for the marketer-page browser test:
# install them (as root, with apt-get) when missing. Nothing is downloaded at test time.
# Usage: scripts/chromium.sh   (prints the chromium and chromedriver versions)
set -euo pipefail

have() { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }

if ! have; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "chromium and chromedriver are not installed; install them (e.g. apt-get install chromium chromium-driver)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version 2>/dev/null | head -n 1
chromedriver --version | head -n 1
