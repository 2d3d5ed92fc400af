#!/usr/bin/env bash
# Make sure the services the test suite needs are running: PostgreSQL (database `test`).
# Mosquitto brokers are started by the tests themselves on free ports.
set -euo pipefail

if [ -n "${WHS_TEST_POSTGRES_URL:-}" ]; then
  echo "services: using PostgreSQL at WHS_TEST_POSTGRES_URL"
  exit 0
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  :
else
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "services: installing PostgreSQL"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "services: starting PostgreSQL $version"
  if [ "$(id -u)" -eq 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  else
    sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
fi
# The tests connect as postgres to database `test`: create it when missing (trust or peer auth).
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
if ! psql -h 127.0.0.1 -U postgres -d test -tAc 'select 1' >/dev/null 2>&1; then
  as_postgres "psql -tAc \"select 1 from pg_database where datname='test'\" | grep -q 1 || createdb test"
  if ! psql -h 127.0.0.1 -U postgres -d test -tAc 'select 1' >/dev/null 2>&1; then
    # fresh Debian installs ask for passwords on TCP: give the test role one and say so
    as_postgres "psql -c \"alter user postgres password 'postgres'\"" >/dev/null
    echo "services: set password 'postgres' for role postgres; tests use WHS_TEST_POSTGRES_URL"
    echo "export WHS_TEST_POSTGRES_URL=postgresql://postgres:postgres@127.0.0.1:5432/test" > .pg-env
  fi
fi
echo "services: PostgreSQL ready"
