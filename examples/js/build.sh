#!/usr/bin/env bash
# Builds flavor.wasm from app.js with componentize-js 0.23.0 (and the
# preview2-shim 0.25.0 it runs on), installed once with npm under
# $SECMAN_TOOLS (default ~/.cache/secman-tools). Needs node and npm. About
# 10 s and 14 MB.
set -euo pipefail
cd "$(dirname "$0")"
tools="${SECMAN_TOOLS:-$HOME/.cache/secman-tools}/componentize-js-0.23.0"
if [ ! -x "$tools/node_modules/.bin/componentize-js" ]; then
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-audit --no-fund --silent \
        @bytecodealliance/componentize-js@0.23.0 @bytecodealliance/preview2-shim@0.25.0
fi
"$tools/node_modules/.bin/componentize-js" app.js --wit wit \
    --world-name flavor-with-wasi -o flavor.wasm
