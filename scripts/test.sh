#!/usr/bin/env bash
# Runs secman's whole test suite on a fresh machine: installs what the tests
# need (a Python virtualenv with the packages in tests/peers/), then runs
# `cargo test` over the workspace. The wasm32-wasip2 target is added by the
# build itself when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${SECMAN_CI_CACHE:-$HOME/.cache/secman-ci}
venv=$cache/venv
requirements=tests/peers/requirements.txt
stamp=$venv/.requirements

# Reuse the virtualenv while the requirements are unchanged.
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
    echo "scripts/test.sh: installing the test's Python packages into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi
export SECMAN_TEST_PYTHON=$venv/bin/python

cargo test --workspace --locked "$@"
