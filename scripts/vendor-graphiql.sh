#!/usr/bin/env bash
# Refreshes assets/graphiql/ from the npm registry: the production builds of GraphiQL, React
# and ReactDOM that memberkey compiles into its binary, so GraphiQL works without internet.
# To move to newer versions, change the pins below, run this script, and check the GraphiQL
# browser test (tests/api/graphiql.rs) still passes.
set -euo pipefail

GRAPHIQL=4.1.2
REACT=18.3.1 # React 19 ships no browser (UMD) builds

out="$(cd "$(dirname "$0")/.." && pwd)/assets/graphiql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# `npm pack` checks each tarball against the registry's integrity hash.
for pkg in "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT"; do
  name="${pkg%@*}"
  mkdir "$name"
  tarball="$(npm pack --silent "$pkg")"
  tar -xzf "$tarball" -C "$name" --strip-components=1
done

mkdir -p "$out"
cp graphiql/graphiql.min.js graphiql/graphiql.min.css "$out/"
cp react/umd/react.production.min.js react-dom/umd/react-dom.production.min.js "$out/"
cp graphiql/LICENSE "$out/LICENSE.graphiql"
cp react/LICENSE "$out/LICENSE.react"
cp react-dom/LICENSE "$out/LICENSE.react-dom"
{
  echo "graphiql $GRAPHIQL"
  echo "react $REACT"
  echo "react-dom $REACT"
  echo
  (cd "$out" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js)
} >"$out/VERSIONS"
echo "assets/graphiql refreshed:"
cat "$out/VERSIONS"
