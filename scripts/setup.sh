#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test the module:
# redis-server (Redis 7.0 from Debian) and libclang (bindgen of the redis-module crate).
# Idempotent: does nothing when everything is there.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install a Rust toolchain (https://rustup.rs) first" >&2
    exit 1
fi

if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
