#!/usr/bin/env bash
# Runs the benchmarks (host/benches/cli.rs) beside their peers: starts the
# peers (moto, drongo, OpenBao), runs `cargo bench`, stops them. See
# BENCHMARKS.md.
#
#   bash scripts/bench.sh               every figure
#   bash scripts/bench.sh SECTION...    only those sections: warm, run,
#                                       baseline, first, stores, in-process,
#                                       examples, aws, copy, gcp, vault
#   bash scripts/bench.sh warm          the warm path alone: `secret get`
#                                       beside `cat` and `--version`, and
#                                       its stages (starts no peer)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$*" != warm ]; then
    source scripts/peers.sh
    start_peers
fi
cargo bench -p secman --bench cli -- "$@"
