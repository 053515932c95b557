#!/usr/bin/env bash
# Builds the release binary and splits its debug information off, so the binary that ships is
# lean while backtraces stay useful:
#   dist/memberkey        the binary, with symbols but no line tables (about 44 MB)
#   dist/memberkey.debug  the line tables (about 180 MB), found through .gnu_debuglink
# With memberkey.debug beside the binary, a backtrace shows file and line; without it, function
# names. Needs objcopy (Debian's binutils).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin memberkey
target="${CARGO_TARGET_DIR:-target}/release/memberkey"
mkdir -p dist
cp "$target" dist/memberkey
objcopy --only-keep-debug dist/memberkey dist/memberkey.debug
# The debug link is looked up by file name, so it is added from inside dist/.
(cd dist && objcopy --strip-debug --add-gnu-debuglink=memberkey.debug memberkey)
ls -l dist/memberkey dist/memberkey.debug
