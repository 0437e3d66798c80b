#!/usr/bin/env bash
# Builds flavor.wasm from app.py and secrets_manager.py with componentize-py
# 0.25.0, installed once into a virtualenv under $SECMAN_TOOLS (default
# ~/.cache/secman-tools). Needs python3. About 15 s and 18 MB.
set -euo pipefail
cd "$(dirname "$0")"
tools="${SECMAN_TOOLS:-$HOME/.cache/secman-tools}/componentize-py-0.25.0"
if [ ! -x "$tools/bin/componentize-py" ]; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet componentize-py==0.25.0
fi
"$tools/bin/componentize-py" -d wit -w flavor componentize app -o flavor.wasm
