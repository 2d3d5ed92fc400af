#!/usr/bin/env bash
# Write deploy/mosquitto/passwd from the *_MQTT_PASSWORD secrets (read from .env when present).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a
out=deploy/mosquitto/passwd
: > "$out"
for pair in central:WHS_CENTRAL_MQTT_PASSWORD edge-01:WHS_EDGE_MQTT_PASSWORD sim:WHS_SIM_MQTT_PASSWORD \
            gate-01:WHS_GATE_01_MQTT_PASSWORD scale-01:WHS_SCALE_01_MQTT_PASSWORD; do
  user=${pair%%:*}; var=${pair#*:}
  [ -n "${!var:-}" ] || { echo "set $var first" >&2; exit 1; }
  mosquitto_passwd -b "$out" "$user" "${!var}"
done
chmod 600 "$out"
echo "wrote $out"
