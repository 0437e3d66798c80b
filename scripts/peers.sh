# Sourced by scripts/test.sh and scripts/bench.sh: installs the test peers
# into a cached virtualenv, starts them on 127.0.0.1, and stops them (by
# PID) when the calling script exits.
#
# After `start_peers`:
#   SECMAN_TEST_PYTHON                  Python with PyYAML, boto3, awscli
#   SECMAN_TEST_ZENML_PYTHON            Python with ZenML 0.52.0, PyYAML, Hypothesis
#   SECMAN_TEST_MOTO_URL                moto_server (AWS), signatures checked
#   SECMAN_TEST_AWS_ACCESS_KEY_ID       an access key moto accepts
#   SECMAN_TEST_AWS_SECRET_ACCESS_KEY
#   SECMAN_TEST_DRONGO_URL              drongo (GCP) as it ships
#   SECMAN_TEST_GCP_URL                 drongo behind tests/peers/gcp_layer.py,
#                                       which filters, pages and checks as Google does
#   SECMAN_TEST_VAULT_URL               an OpenBao dev server (KV v2 at secret/)
#   SECMAN_TEST_VAULT_TOKEN             its root token
#   SECMAN_TEST_BAO                     its CLI

peers_cache=${SECMAN_CI_CACHE:-$HOME/.cache/secman-ci}
peers_logs=$(mktemp -d)
peers_pids=()

# A peer ends by SIGTERM, which is not a failure of the calling script.
stop_peers() {
    for pid in "${peers_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    peers_pids=()
}
trap stop_peers EXIT

# Installs the packages of requirements file $2 into the cached virtualenv
# $1, reusing it while the file is unchanged, and prints its Python.
ensure_venv() {
    local venv=$peers_cache/$1 requirements=$2
    local stamp=$venv/.requirements
    if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
        echo "peers: installing $requirements into $venv" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
        cp "$requirements" "$stamp"
    fi
    echo "$venv/bin/python"
}

# A TCP port nothing listens on now.
free_port() {
    "$SECMAN_TEST_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something listens on 127.0.0.1:$1 (a TCP connect, which is
# not an HTTP request: moto counts those).
wait_for_port() {
    local port=$1 name=$2 log=$3
    for _ in $(seq 100); do
        if "$SECMAN_TEST_PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "peers: $name did not start on port $port; its log:" >&2
    cat "$log" >&2
    return 1
}

start_moto() {
    local port log=$peers_logs/moto.log
    port=$(free_port)
    INITIAL_NO_AUTH_ACTION_COUNT=8 "$(dirname "$SECMAN_TEST_PYTHON")/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    peers_pids+=($!)
    wait_for_port "$port" moto "$log"
    export SECMAN_TEST_MOTO_URL=http://127.0.0.1:$port
    eval "$("$SECMAN_TEST_PYTHON" tests/peers/moto_setup.py "$SECMAN_TEST_MOTO_URL")"
}

start_drongo() {
    local port layer_port log=$peers_logs/drongo.log
    port=$(free_port)
    "$(dirname "$SECMAN_TEST_PYTHON")/drongo" server --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
    peers_pids+=($!)
    wait_for_port "$port" drongo "$log"
    export SECMAN_TEST_DRONGO_URL=http://127.0.0.1:$port
    layer_port=$(free_port)
    "$SECMAN_TEST_PYTHON" tests/peers/gcp_layer.py "$layer_port" "$SECMAN_TEST_DRONGO_URL" \
        >"$peers_logs/gcp_layer.log" 2>&1 &
    peers_pids+=($!)
    wait_for_port "$layer_port" "the GCP layer" "$peers_logs/gcp_layer.log"
    export SECMAN_TEST_GCP_URL=http://127.0.0.1:$layer_port
}

start_openbao() {
    local port log=$peers_logs/openbao.log
    port=$(free_port)
    SECMAN_TEST_BAO=$(dirname "$SECMAN_TEST_PYTHON")/bao
    SECMAN_TEST_VAULT_TOKEN=root-$RANDOM$RANDOM
    "$SECMAN_TEST_BAO" server -dev -dev-root-token-id="$SECMAN_TEST_VAULT_TOKEN" \
        -dev-listen-address="127.0.0.1:$port" >"$log" 2>&1 &
    peers_pids+=($!)
    wait_for_port "$port" OpenBao "$log"
    export SECMAN_TEST_VAULT_URL=http://127.0.0.1:$port SECMAN_TEST_VAULT_TOKEN SECMAN_TEST_BAO
    # Listening comes before the dev server has mounted its KV engine.
    for _ in $(seq 100); do
        if VAULT_ADDR=$SECMAN_TEST_VAULT_URL VAULT_TOKEN=$SECMAN_TEST_VAULT_TOKEN \
            "$SECMAN_TEST_BAO" secrets list 2>/dev/null | grep -q '^secret/'; then
            return 0
        fi
        sleep 0.1
    done
    echo "peers: OpenBao did not mount secret/; its log:" >&2
    cat "$log" >&2
    return 1
}

start_peers() {
    SECMAN_TEST_PYTHON=$(ensure_venv venv tests/peers/requirements.txt)
    SECMAN_TEST_ZENML_PYTHON=$(ensure_venv zenml-venv tests/peers/zenml-requirements.txt)
    export SECMAN_TEST_PYTHON SECMAN_TEST_ZENML_PYTHON
    start_moto
    start_drongo
    start_openbao
}
