#!/usr/bin/env bash
# Runs the benchmarks (host/benches/cli.rs) beside their peers: starts the
# peers (moto, drongo, OpenBao), runs `cargo bench`, stops them. See
# BENCHMARKS.md.
#
#   bash scripts/bench.sh         every figure
#   bash scripts/bench.sh warm    the warm path alone: `secret get` beside
#                                 `cat` and `--version`, and its stages
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != warm ]; then
    source scripts/peers.sh
    start_peers
fi
cargo bench -p secman --bench cli -- "$@"
