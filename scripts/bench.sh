#!/usr/bin/env bash
# Runs the benchmarks (host/benches/cli.rs) beside their peers: starts the
# peers (moto, drongo), runs `cargo bench`, stops them. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/peers.sh

start_peers
cargo bench -p secman --bench cli "$@"
