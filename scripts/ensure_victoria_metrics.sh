#!/usr/bin/env bash
# Make sure Debian's victoria-metrics is installed (the telemetry tests run their own instance
# of it as an InfluxDB-compatible write target on a free port). Prints the binary's path.
set -euo pipefail
find_vm() { command -v victoria-metrics || ls /usr/bin/victoria-metrics 2>/dev/null || true; }
bin=$(find_vm)
if [ -z "$bin" ]; then
  echo "ensure_victoria_metrics: installing victoria-metrics with apt-get" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq victoria-metrics >&2
  bin=$(find_vm)
fi
echo "$bin"
