#!/usr/bin/env bash
# Runs secman's whole test suite on a fresh machine: installs and starts the
# peers the tests talk to (scripts/peers.sh), builds the example flavors
# with the toolchains of their languages (scripts/examples.sh), runs
# `cargo test` over the workspace, and stops the peers. The wasm32-wasip2
# target is added by the build itself when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/peers.sh

export SECMAN_TOOLS="${SECMAN_TOOLS:-${SECMAN_CI_CACHE:-$HOME/.cache/secman-ci}/tools}"
bash scripts/examples.sh
start_peers
cargo test --workspace --locked "$@"
