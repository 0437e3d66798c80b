#!/usr/bin/env bash
# Builds flavor.wasm with cargo for wasm32-wasip2 (the target is added with
# rustup if it is missing). About 30 s the first time, and 100 KB.
set -euo pipefail
cd "$(dirname "$0")"
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 ||
    rustup target add wasm32-wasip2
cargo build --quiet --release --target wasm32-wasip2
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/example_rust.wasm" flavor.wasm
