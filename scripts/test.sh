#!/usr/bin/env bash
# Runs secman's whole test suite on a fresh machine: installs and starts the
# peers the tests talk to (scripts/peers.sh), builds the example flavors
# with the toolchains of their languages (scripts/examples.sh), runs
# `cargo test` over the workspace, and stops the peers. The wasm32-wasip2
# target is added by the build itself when it is missing.
#
# The host is tested on its own (`-p secman`), then the rest: built for
# the host alone, its dependencies get the features `cargo run` gives them,
# so wasmtime compiled by the README's first command is used as it is
# (in one `--workspace` run, the flavor crates would add features to
# shared crates such as indexmap, and wasmtime would be compiled again).
# Extra arguments go to the host's `cargo test`: `bash scripts/test.sh aws`
# (and then only that runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/peers.sh

export SECMAN_TOOLS="${SECMAN_TOOLS:-${SECMAN_CI_CACHE:-$HOME/.cache/secman-ci}/tools}"
bash scripts/examples.sh
start_peers
cargo test -p secman --locked "$@"
if [ $# -eq 0 ]; then
    cargo test --workspace --exclude secman --locked
    # The end-to-end tests again, on secman as it ships: the static release
    # build (see .cargo/config.toml).
    cargo static build --release --locked -p secman
    # Absolute, as cargo knows it: the tests run from host/.
    target=$(cargo metadata --no-deps --format-version 1 --locked |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    host=$(rustc -vV | sed -n 's/^host: //p')
    SECMAN_TEST_BIN="$target/$host/release/secman" cargo test -p secman --locked --test e2e
fi
