#!/usr/bin/env bash
# Builds flavor.wasm from flavor.c: `wit-bindgen c` 0.61.0 writes the
# bindings, clang-19 compiles for wasm32-wasi (a reactor: no main), and jco
# 1.34.0 makes the component with WASI's preview1 adapter. Needs clang-19,
# lld-19 and wasi-libc (Debian: `apt-get install clang-19 lld-19
# libclang-rt-19-dev-wasm32 wasi-libc`), cargo, node and npm; installs
# wit-bindgen and jco once under $SECMAN_TOOLS (default
# ~/.cache/secman-tools). About 1 s once installed, and 300 KB.
set -euo pipefail
cd "$(dirname "$0")"
tools="${SECMAN_TOOLS:-$HOME/.cache/secman-tools}"
command -v clang-19 >/dev/null && [ -e /usr/lib/wasm32-wasi/libc.a ] || {
    echo "build.sh: needs clang-19 and wasi-libc: apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc" >&2
    exit 1
}
[ -x "$tools/wit-bindgen-0.61.0/bin/wit-bindgen" ] ||
    cargo install --quiet --locked wit-bindgen-cli@0.61.0 --root "$tools/wit-bindgen-0.61.0"
[ -x "$tools/jco-1.34.0/node_modules/.bin/jco" ] ||
    npm install --prefix "$tools/jco-1.34.0" --no-audit --no-fund --silent @bytecodealliance/jco@1.34.0

rm -rf build && mkdir build
"$tools/wit-bindgen-0.61.0/bin/wit-bindgen" c wit/flavor.wit -w flavor --out-dir build >/dev/null
clang-19 --target=wasm32-wasi -mexec-model=reactor -Os -Wall -Werror -Ibuild \
    flavor.c build/flavor.c build/flavor_component_type.o -Wl,--strip-all -o build/core.wasm
"$tools/jco-1.34.0/node_modules/.bin/jco" new build/core.wasm --wasi-reactor -o flavor.wasm >/dev/null
