#!/usr/bin/env bash
# Checks the alert and recording rules with promtool: syntax, then their unit tests. promtool
# comes with Debian's `prometheus` package; CI installs it when missing (root, apt reachable).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "promtool missing: installing Debian's prometheus package (for promtool only)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "promtool is missing: sudo apt-get install --no-install-recommends prometheus" >&2
    exit 1
  fi
fi
promtool check rules tenantry-rules.yml
promtool test rules tenantry-rules.test.yml
