#!/usr/bin/env bash
# Runs the benchmarks (host/benches/cli.rs) beside their peers: starts moto,
# runs `cargo bench`, stops moto. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/peers.sh

start_peers
cargo bench -p secman --bench cli "$@"
