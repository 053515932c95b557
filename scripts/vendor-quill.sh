#!/usr/bin/env bash
# Refreshes assets/quill/ from the npm registry: the browser build of Quill, the rich-text
# editor of the console's Mass Communicator, compiled into the binary so the console loads
# nothing from elsewhere. To move to a newer version, change the pin, run this script, and
# check the console's editor test (tests/api/console_editor.rs) still passes.
set -euo pipefail

QUILL=2.0.3

out="$(cd "$(dirname "$0")/.." && pwd)/assets/quill"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# `npm pack` checks the tarball against the registry's integrity hash.
tarball="$(npm pack --silent "quill@$QUILL")"
mkdir quill
tar -xzf "$tarball" -C quill --strip-components=1

mkdir -p "$out"
cp quill/dist/quill.js quill/dist/quill.snow.css "$out/"
cp quill/LICENSE "$out/LICENSE.quill"
# The notices of what the bundle includes, under the name its first line gives.
cp quill/dist/quill.js.LICENSE.txt "$out/"
{
  echo "quill $QUILL"
  echo
  (cd "$out" && sha256sum quill.js quill.snow.css)
} >"$out/VERSIONS"
echo "assets/quill refreshed:"
cat "$out/VERSIONS"
