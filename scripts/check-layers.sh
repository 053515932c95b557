#!/usr/bin/env bash
# Fails when the code breaks a layering rule of ARCHITECTURE.md. Each rule is a search for
# an import that must not exist; every violation is printed with its file and line.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=0
# forbid DESCRIPTION PATTERN PATH... [-- EXCLUDED_DIR...]
forbid() {
  local what="$1" pattern="$2"
  shift 2
  local paths=() excludes=()
  while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; excludes=("$@"); break; fi
    paths+=("$1"); shift
  done
  local hits
  hits=$(grep -rnE --include='*.rs' "$pattern" "${paths[@]}" 2>/dev/null || true)
  for ex in "${excludes[@]}"; do
    hits=$(printf '%s\n' "$hits" | grep -v "^$ex" || true)
  done
  hits=$(printf '%s\n' "$hits" | sed '/^$/d')
  if [ -n "$hits" ]; then
    echo "layering: $what"
    printf '%s\n' "$hits" | sed 's/^/  /'
    failed=1
  fi
}

forbid "SeaORM is used only in src/store, src/entities and migration/" \
  '\bsea_orm\b' src -- src/store/ src/entities/
forbid "domain depends on no other module" \
  'crate::(app|check|config|delivery|demo|entities|error|graphql|housekeeping|http|mail|services|store)\b' src/domain
forbid "store sees only domain and entities, and has its own error type" \
  'crate::(app|check|config|delivery|demo|error|graphql|housekeeping|http|mail|services)\b' src/store
forbid "mail sits below services and delivery" \
  'crate::(app|delivery|graphql|housekeeping|http|services|store)\b' src/mail
forbid "delivery does not import services, and has its own error type" \
  'crate::(services|error)\b' src/delivery
forbid "services do not import delivery" 'crate::delivery\b' src/services
forbid "graphql and http never reach the store, the mail layer or the delivery worker" \
  'crate::(store|mail|delivery)\b' src/graphql src/http
forbid "nothing below graphql/ imports graphql or http" \
  'crate::(graphql|http)\b' src/domain src/store src/services src/delivery src/mail src/error.rs src/config src/housekeeping.rs src/logsafe.rs
forbid "async_graphql is known only to graphql/ and http/ (and the app's wiring)" \
  '\basync_graphql\b' src -- src/graphql/ src/http/ src/app.rs src/main.rs src/lib.rs
forbid "no resolver uses data_unchecked (a missing context is a coded error, not a panic)" \
  'data_unchecked' src

if [ "$failed" -ne 0 ]; then
  echo "See ARCHITECTURE.md for the layers and the arrows between them."
  exit 1
fi
echo "layering: all rules hold"
