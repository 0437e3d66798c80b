#!/usr/bin/env bash
# Builds the example flavors under examples/ (Rust, Python, JavaScript, C,
# Go) with their own build.sh, which install their pinned tools once under
# $SECMAN_TOOLS (default ~/.cache/secman-tools). C needs clang-19 and
# wasi-libc from Debian, installed here when missing and when run as root.
# The end-to-end tests then register each and run `secman flavor test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-19 >/dev/null || [ ! -e /usr/lib/wasm32-wasi/libc.a ]; then
    if [ "$(id -u)" = 0 ]; then
        packages=(clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc)
        apt-get install -y -qq "${packages[@]}" >/dev/null ||
            { apt-get update -qq && apt-get install -y -qq "${packages[@]}" >/dev/null; }
    else
        echo "examples.sh: the C example needs: sudo apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc" >&2
        exit 1
    fi
fi
for lang in rust python js c go; do
    start=$(date +%s)
    bash "examples/$lang/build.sh" 2> >(grep -v '^Generating' >&2)
    echo "examples.sh: built examples/$lang/flavor.wasm ($(stat -c %s "examples/$lang/flavor.wasm") bytes) in $(($(date +%s) - start)) s"
done
