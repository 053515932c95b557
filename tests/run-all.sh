#!/usr/bin/env bash
# Runs the whole test suite on SQLite and PostgreSQL, with the SES v2 emulator and headless
# Chromium. Installs what it needs the first time; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools installed outside the clone, so later runs (and other clones) reuse them.
TOOLS="${MEMBERKEY_TOOLS_DIR:-/var/cache/memberkey-tools}"
mkdir -p "$TOOLS"

# PostgreSQL on 127.0.0.1:5432 (trust auth) backs the PostgreSQL half of every test.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is not answering; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
export MEMBERKEY_TEST_POSTGRES_URL="${MEMBERKEY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# The SES v2 emulator: moto's server mode from PyPI, in its own virtualenv.
MOTO="$TOOLS/moto"
if ! "$MOTO/bin/python" -c 'import moto.server, flask' 2>/dev/null; then
  echo "Installing moto[server] into $MOTO"
  python3 -m venv "$MOTO"
  "$MOTO/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi
export MEMBERKEY_TEST_MOTO_SERVER="$MOTO/bin/moto_server"

# A real SMTP server for the SMTP transport's tests: aiosmtpd (with trustme for its throwaway
# certificate) from PyPI, in its own virtualenv; tests/smtp/server.py runs it, and
# tests/smtp/verify_dkim.py checks signatures with dkimpy, a verifier independent of lettre.
SMTP="$TOOLS/smtp"
if ! "$SMTP/bin/python" -c 'import aiosmtpd, trustme, dkim' 2>/dev/null; then
  echo "Installing aiosmtpd, trustme and dkimpy into $SMTP"
  python3 -m venv "$SMTP"
  "$SMTP/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd>=1.4,<2' 'trustme>=1.1,<2' 'dkimpy>=1.1,<2'
fi
export MEMBERKEY_TEST_SMTP_PYTHON="$SMTP/bin/python"

# Headless Chromium and its WebDriver from Debian's packages (never a downloaded browser).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "Installing Debian's chromium and chromium-driver"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export MEMBERKEY_TEST_CHROMEDRIVER="$(command -v chromedriver)"
export MEMBERKEY_TEST_CHROMIUM="$(command -v chromium)"

# graphql-js and the graphql-http audit, run by node as standard clients (tests/node), at the
# versions pinned in its package-lock.json; npm's cache lives with the other tools.
if [ ! -d tests/node/node_modules/graphql-http ] || [ ! -d tests/node/node_modules/graphql ]; then
  echo "Installing tests/node's packages from the npm registry"
  npm ci --prefix tests/node --cache "$TOOLS/npm" --no-audit --no-fund --loglevel=error
fi

# Every tool above is installed now, so a test that finds one missing fails instead of
# skipping.
export CI="${CI:-true}"

cargo test --workspace --all-targets --locked
