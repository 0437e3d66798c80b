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
#                                       its stages
#
# The peers start only for the sections that use them (stores, aws, copy,
# gcp, vault), so that nothing else runs beside the others.
set -euo pipefail
cd "$(dirname "$0")/.."
needs_peers=$(( $# == 0 ))
for section in "$@"; do
    case $section in stores | aws | copy | gcp | vault) needs_peers=1 ;; esac
done
if (( needs_peers )); then
    source scripts/peers.sh
    start_peers
fi
# The release binary as it ships: static (see .cargo/config.toml).
cargo static bench -p secman --bench cli -- "$@"
