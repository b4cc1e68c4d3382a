#!/usr/bin/env bash
# End-to-end benchmark of AI.MODELEXECUTE through redis-server with the built module
# (dist/redisai.so and its ONNX backend): requests/s and p50/p99 latency per client count,
# measured with redis-benchmark, printed as a markdown table.
#
#   make bench                                    (builds first)
#   CLIENTS="1 16 50 64" REQUESTS=40000 REPEAT=3 benches/modelexecute.sh
#   CONFIGS="|THREADS_PER_QUEUE 4" benches/modelexecute.sh   (module arguments per run, '|'-separated)
#
# Two module configurations by default: RedisAI's defaults (one worker per queue, ONNX Runtime's own
# intra-op thread pool), and the throughput setting for small machines (one worker per core, each
# run on one thread: THREADS_PER_QUEUE <cores> INTRA_OP_PARALLELISM 1).
#
# Cases:
#   mnist            mnist.onnx on one 1x1x28x28 image (the figure RedisAI is usually quoted with)
#   mul2             a tiny [N,3] model, one request = one run
#   mul2 batched     the same model stored with BATCHSIZE 64: concurrent requests run as one batch
# Each cell is the median requests/s of REPEAT runs (and that run's p50/p99).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
module="${REDISAI_MODULE:-$root/dist/redisai.so}"
port="${PORT:-6390}"
clients_list="${CLIENTS:-1 16 50 64}"
requests="${REQUESTS:-40000}"
repeat="${REPEAT:-3}"
cores="$(nproc)"
configs="${CONFIGS:-|THREADS_PER_QUEUE $cores INTRA_OP_PARALLELISM 1}"
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3

[ -f "$module" ] || { echo "missing $module: run make build" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark missing (apt redis-tools)" >&2; exit 1; }

fixtures="$root/target/fixtures/onnx"
"$python" "$root/tests/fixtures/make_onnx_models.py" "$fixtures" >/dev/null

work="$(mktemp -d)"
server=""
stop_server() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; fi
    server=""
}
trap 'stop_server; rm -rf "$work"' EXIT
cli() { redis-cli -p "$port" "$@"; }

# Starts redis-server with the module and module arguments "$1", and stores the models.
start_server() {
    # shellcheck disable=SC2086  # module arguments are words
    redis-server --port "$port" --save "" --appendonly no --dir "$work" \
        --loadmodule "$module" $1 >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do cli PING >/dev/null 2>&1 && break; sleep 0.05; done
    local models="$root/tests/golden/models"
    cli -x AI.MODELSTORE mnist ONNX CPU BLOB <"$models/mnist.onnx" >/dev/null
    cli -x AI.TENSORSET img FLOAT 1 1 28 28 BLOB <"$models/one.raw" >/dev/null
    cli -x AI.MODELSTORE mul2 ONNX CPU BLOB <"$fixtures/batch_mul2.onnx" >/dev/null
    cli -x AI.MODELSTORE mul2b ONNX CPU BATCHSIZE 64 BLOB <"$fixtures/batch_mul2.onnx" >/dev/null
    cli AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3 >/dev/null
}

# Prints "rps p50 p99" of one redis-benchmark run (its --csv columns: test, rps, avg, min, p50,
# p95, p99, max).
run() {
    local c="$1"; shift
    redis-benchmark -p "$port" -c "$c" -n "$requests" --csv "$@" | tail -1 |
        tr -d '"' | awk -F, '{ printf "%d %s %s\n", $2, $5, $7 }'
}

# Median (by requests/s) of $repeat runs.
median() {
    local c="$1"; shift
    for _ in $(seq "$repeat"); do run "$c" "$@"; done | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

echo "| module arguments | case | clients | requests/s | p50 ms | p99 ms |"
echo "|---|---|---:|---:|---:|---:|"
IFS='|' read -r -a config_list <<<"$configs"
for config in "${config_list[@]}"; do
    start_server "$config"
    for c in $clients_list; do
        for case in "mnist|AI.MODELEXECUTE mnist INPUTS 1 img OUTPUTS 1 out" \
                    "mul2|AI.MODELEXECUTE mul2 INPUTS 1 x OUTPUTS 1 y" \
                    "mul2 batched|AI.MODELEXECUTE mul2b INPUTS 1 x OUTPUTS 1 yb"; do
            name="${case%%|*}"
            # shellcheck disable=SC2086
            read -r rps p50 p99 < <(median "$c" ${case#*|})
            echo "| ${config:-(defaults)} | $name | $c | $rps | $p50 | $p99 |"
        done
    done
    stop_server
done
