#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium, for the HTML report test
# (test/e2e/audit-report.test.ts drives it with playwright-core). Installs it with apt-get when missing.
# Exit 0: Chromium is there. Exit 1: it is missing and could not be installed (the reason is printed).
set -uo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available on this system" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "ensure-chromium: $CHROMIUM is missing and installing it needs root (no passwordless sudo)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
  # The package lists may be missing or stale on a fresh image: refresh them once and retry.
  if ! $SUDO apt-get update >/dev/null 2>&1 || ! $SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
    echo "ensure-chromium: 'apt-get install chromium' failed (no network or no package source?)" >&2
    exit 1
  fi
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: chromium was installed but $CHROMIUM is not there" >&2
  exit 1
fi
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
