#!/usr/bin/env bash
# Runs the whole test suite on SQLite and PostgreSQL. Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL on 127.0.0.1:5432 (trust auth) backs the PostgreSQL half of every test.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is not answering; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
export MEMBERKEY_TEST_POSTGRES_URL="${MEMBERKEY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

cargo test --workspace --all-targets --locked
